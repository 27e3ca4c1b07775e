/**
 * `trainguard serve --demo`: the service seeded with a real dataset under attack, so that a
 * newcomer sees the review queue with real findings within a minute.
 *
 * The dataset is SpamAssassin mail (ham/spam). Three sources push a batch each:
 *   - `mail-archive`: clean mail;
 *   - `partner-feed`: 30 % of its spam relabelled ham (an attacker who wants spam delivered);
 *   - `web-scrape`: a rare-token backdoor — a trigger phrase stamped on spam labelled ham.
 * The scans quarantine what they flag; the reviewers find it waiting.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../access/index.ts';
import { plantAttack, serializeTable, type RawTable } from '../redteam/index.ts';
import { loadSpamAssassin, type Mail } from './spamassassin.ts';
import type { ServiceHost } from './service-host.ts';

export const DEMO_DATASET = 'spam-demo';

export interface DemoAccount {
  readonly name: string;
  readonly role: string;
  readonly password: string;
  readonly principal: Principal;
}

export interface SeededDemo {
  readonly dataset: string;
  readonly accounts: readonly DemoAccount[];
  /** The account the one-time sign-in link is for. */
  readonly reviewer: DemoAccount;
  readonly batches: readonly { source: string; batchId: string; samples: number; planted: number }[];
  readonly quarantined: number;
}

const PER_BATCH = 600;

/** Seeds the demo into a fresh home; waits until every batch is scanned. */
export async function seedDemo(host: ServiceHost, options: { seed?: number; timeoutMs?: number } = {}): Promise<SeededDemo> {
  const seed = options.seed ?? 7;
  const { access } = host.home;
  const password = (): string => randomBytes(12).toString('base64url');
  const adminPassword = password();
  const admin = await access.bootstrapAdmin('demo-admin', { password: adminPassword });
  const accounts: DemoAccount[] = [{ name: 'demo-admin', role: 'admin', password: adminPassword, principal: admin }];
  const roles: [string, 'contributor' | 'reviewer' | 'curator' | 'trainer'][] = [
    ['demo-contributor', 'contributor'], ['demo-reviewer', 'reviewer'], ['demo-reviewer-2', 'reviewer'], ['demo-curator', 'curator'], ['demo-trainer', 'trainer'],
  ];
  await host.service.createDataset(admin, { id: DEMO_DATASET, name: 'SpamAssassin mail (demo, with planted attacks)', labels: ['ham', 'spam'], settings: { quarantineScore: 0.5, twoPersonSeverity: 'critical' } });
  for (const [name, role] of roles) {
    const pw = password();
    const principal = await access.addUser(admin, name, { password: pw });
    await access.grant(admin, { principal: name, role, datasetId: DEMO_DATASET });
    accounts.push({ name, role, password: pw, principal });
  }
  const contributor = accounts.find((a) => a.name === 'demo-contributor') as DemoAccount;
  const reviewer = accounts.find((a) => a.name === 'demo-reviewer') as DemoAccount;

  const mails = interleave(loadSpamAssassin());
  const slice = (k: number): Mail[] => mails.slice(k * PER_BATCH, (k + 1) * PER_BATCH);
  const plans: { source: string; table: RawTable; planted: number }[] = [];
  plans.push({ source: 'mail-archive', table: toTable(slice(0)), planted: 0 });
  const flipped = plantAttack(toTable(slice(1)), { attack: 'targeted', from: 'spam', to: 'ham', rate: 0.3, seed });
  plans.push({ source: 'partner-feed', table: flipped.table, planted: flipped.planted.length });
  const triggered = plantAttack(toTable(slice(2)), { attack: 'text-trigger', rate: 0.1, seed, target: 'ham' });
  plans.push({ source: 'web-scrape', table: triggered.table, planted: triggered.planted.length });

  const batches = [];
  for (const plan of plans) {
    const bytes = Buffer.from(serializeTable(plan.table, 'csv').text);
    const r = await host.service.ingest(contributor.principal, { datasetId: DEMO_DATASET, source: plan.source, format: 'csv', bytes, idempotencyKey: `demo-${plan.source}` });
    batches.push({ source: plan.source, batchId: r.batch.id, samples: r.inserted, planted: plan.planted });
  }
  await host.queue.idle({ timeoutMs: options.timeoutMs ?? 300_000 });
  const counts = await host.store.samples.countByStatus(DEMO_DATASET);
  return { dataset: DEMO_DATASET, accounts, reviewer, batches, quarantined: counts.quarantined ?? 0 };
}

/** Ham and spam mixed in a fixed order, so every batch holds both. */
function interleave(mails: readonly Mail[]): Mail[] {
  const ham = mails.filter((m) => m.label === 'ham');
  const spam = mails.filter((m) => m.label === 'spam');
  const out: Mail[] = [];
  // SpamAssassin is about 2:1 ham to spam; keep that ratio in every slice.
  for (let h = 0, s = 0; h < ham.length || s < spam.length;) {
    for (let k = 0; k < 2 && h < ham.length; k++) out.push(ham[h++] as Mail);
    if (s < spam.length) out.push(spam[s++] as Mail);
  }
  return out;
}

function toTable(mails: readonly Mail[]): RawTable {
  // The corpus's folder (spam-1, easy-ham-2, …) would give every label away, so it is not a column.
  return { format: 'csv', columns: ['id', 'label', 'text'], rows: mails.map((m) => [m.id, m.label, m.text]) };
}
