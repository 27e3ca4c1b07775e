// The web UI against the real service (`serve --demo`) in Chromium. Guards against a UI that builds
// but cannot sign in, hides the trigger or the evidence from the reviewer, loses a decision made by
// keyboard, fails to create a snapshot, or shows provenance without verified log proofs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import tar from 'tar-stream';
import { ensureWebBuilt, REPO_ROOT, startDemoServer, type DemoServer } from './fixtures/web-demo-server.ts';
import { encodeReceipt, inclusionProof, leafHash as ledgerLeafHash, rootFromLeafHashes } from '../src/ledger/index.ts';
import { leafHash as pageLeafHash, parseReceipt, recomputeRoot } from '../web/src/receipt.ts';
import { countHidden, markTriggers, splitHidden } from '../web/src/text.ts';

const CHROMIUM = '/usr/bin/chromium';
const DATASET = 'spam-demo';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web');
const skip = !existsSync(CHROMIUM) && process.env['CI'] === undefined ? `no Chromium at ${CHROMIUM} (set CI=1 to make this a failure)` : false;

interface Task {
  readonly id: string;
  readonly sampleId: string;
  readonly requiredApprovals: number;
  readonly decisions?: readonly { readonly reviewer: string; readonly action: string }[];
  readonly findings: readonly { readonly detector: string; readonly evidence: Record<string, unknown> | null }[];
}

describe('web UI', { skip, timeout: 600_000 }, () => {
  let server: DemoServer;
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureWebBuilt();
    server = await startDemoServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function api<T>(method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function tokenFor(name: string): Promise<string> {
    const r = await api<{ token: string }>('POST', '/api/session', null, { name, password: server.passwords.get(name) });
    assert.equal(r.status, 201, `sign-in of ${name}: ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  /** Every open task of the demo dataset, following the cursor. */
  const openTasks = (token: string): Promise<Task[]> => openTasksOf(DATASET, token);

  async function openTasksOf(dataset: string, token: string): Promise<Task[]> {
    const out: Task[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const r = await api<{ tasks: Task[]; next: string | null }>('GET', `/api/datasets/${dataset}/review?limit=100${q}`, token);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      out.push(...r.body.tasks);
      cursor = r.body.next;
    } while (cursor !== null);
    return out;
  }

  /** Script errors and console errors of every page, checked after each test (failed requests are expected: 401s). */
  const pageErrors: string[] = [];

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(`${page.url()}: ${msg.text()}`);
    });
    return page;
  }

  afterEach(() => {
    const errors = pageErrors.splice(0);
    assert.deepEqual(errors, [], 'the pages logged errors');
  });

  async function signIn(page: Page, name: string, password: string): Promise<void> {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  test('the one-time link signs in once, lands on the datasets and leaves the address bar', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#code=${server.code}`);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    assert.equal(await page.getByTestId('principal').textContent(), 'demo-reviewer');
    assert.ok(!page.url().includes(server.code), `the code stays in ${page.url()}`);
    await page.getByRole('link', { name: /Review queue/ }).first().waitFor();
    await shot(page, 'datasets');
    await page.context().close();

    // The code is single-use: a second visit gets the sign-in form with the server's error.
    const again = await newPage();
    await again.goto(`${server.url}/#code=${server.code}`);
    await again.getByTestId('error').waitFor();
    assert.match((await again.getByTestId('error').textContent()) ?? '', /ACCESS_UNAUTHENTICATED/);
    await again.getByRole('heading', { name: 'Sign in' }).waitFor();
    await again.context().close();
  });

  test('name and password sign in; a wrong password shows the error; sign-out ends the session', async () => {
    const page = await newPage();
    await signIn(page, 'demo-reviewer-2', 'not-the-password');
    await page.getByTestId('error').waitFor();
    assert.match((await page.getByTestId('error').textContent()) ?? '', /ACCESS_UNAUTHENTICATED/);
    await shot(page, 'sign-in-error');

    await page.getByLabel('Password').fill(server.passwords.get('demo-reviewer-2') as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    assert.equal(await page.getByTestId('principal').textContent(), 'demo-reviewer-2');

    // A reload keeps the session (sessionStorage); signing out drops it here and revokes it on the server.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    const session = String(await page.evaluate('JSON.stringify(Object.values(sessionStorage))'));
    const token = /tg_[0-9a-f]{24}_[A-Za-z0-9_-]+/.exec(session)?.[0] ?? '';
    assert.notEqual(token, '', session);
    assert.equal((await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) {
      status = (await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 401, 'the signed-out token no longer works');
    await page.context().close();
  });

  test('a reviewer sees the trigger and the evidence, and decides by keyboard; the tasks leave the queue', async () => {
    const token = await tokenFor('demo-reviewer');
    const before = await openTasks(token);
    assert.ok(before.length >= 2, `the demo should quarantine samples, got ${before.length} open tasks`);
    // The sidebar lists the first page (50) of the server's order.
    const single = before.slice(0, 50).filter((t) => t.requiredApprovals === 1);
    // A text-trigger task if there is one: its n-gram must be marked in the text.
    const triggered = single.find((t) => t.findings.some((f) => typeof f.evidence?.['trigger'] === 'string'));
    const first = triggered ?? single[0];
    assert.ok(first !== undefined, 'no single-approval task in the demo queue');

    const page = await newPage();
    await signIn(page, 'demo-reviewer', server.passwords.get('demo-reviewer') as string);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.goto(`${server.url}/#/datasets/${DATASET}/review`);
    await page.getByTestId('task-card').waitFor();
    const items = page.getByTestId('task-item');
    assert.equal(await items.count(), Math.min(before.length, 50));

    await items.nth(before.findIndex((t) => t.id === first.id)).click();
    const card = page.locator(`[data-testid="task-card"][data-task-id="${first.id}"]`);
    await card.waitFor();
    assert.equal(await card.getByTestId('finding').count(), first.findings.length);
    if (triggered !== undefined) {
      const trigger = triggered.findings.map((f) => f.evidence?.['trigger']).find((t) => typeof t === 'string') as string;
      const marks = card.getByTestId('sample-text').locator('mark');
      await marks.first().waitFor();
      const words = (await marks.first().textContent())?.toLowerCase() ?? '';
      assert.ok(trigger.split(' ').filter((w) => !w.startsWith('<')).every((w) => words.includes(w)), `marked "${words}" for trigger "${trigger}"`);
    } else {
      await card.getByTestId('sample-text').or(card.locator('table.kv')).first().waitFor();
    }
    await shot(page, 'review-task');

    // A shortcut with no reason asks for one instead of deciding.
    await page.locator('body').press('r');
    await page.getByTestId('nudge').waitFor();
    assert.equal(await page.evaluate('document.activeElement?.id'), 'reason');
    // Type the reason, leave the box with Esc, decide with the shortcut.
    await page.getByLabel(/^Reason/).fill('planted trigger phrase in a spam mail labelled ham');
    await page.getByLabel(/^Reason/).press('Escape');
    await page.locator('body').press('r');
    await page.getByTestId('decision-result').filter({ hasText: 'settled' }).waitFor();
    await page.locator(`[data-testid="task-card"]:not([data-task-id="${first.id}"])`).waitFor();
    await shot(page, 'review-after-decision');

    // The next task, decided from the reason box with Ctrl+Enter after choosing approve by 'a'.
    const secondId = await page.getByTestId('task-card').getAttribute('data-task-id');
    assert.ok(secondId !== null && secondId !== first.id);
    const second = before.find((t) => t.id === secondId) as Task;
    await page.locator('body').press('a');
    await page.getByLabel(/^Reason/).fill('a genuine mail; the model is unsure, the label is right');
    await page.getByLabel(/^Reason/).press('Control+Enter');
    await page.getByTestId('decision-result').filter({ hasText: 'Approved' }).waitFor();

    const afterTasks = await openTasks(token);
    assert.ok(!afterTasks.some((t) => t.id === first.id), 'the rejected task is still open');
    if (second.requiredApprovals === 1) assert.ok(!afterTasks.some((t) => t.id === second.id), 'the approved task is still open');
    else assert.ok(afterTasks.some((t) => t.id === second.id), 'a two-person task closed after one approval');
    assert.equal(afterTasks.length, before.length - (second.requiredApprovals === 1 ? 2 : 1));

    const sample = await api<{ status: string }>('GET', `/api/datasets/${DATASET}/samples/${first.sampleId}`, token);
    assert.equal(sample.body.status, 'rejected');
    await page.context().close();
  });

  test('a curator creates a snapshot and sees its id', async () => {
    const page = await newPage();
    await signIn(page, 'demo-curator', server.passwords.get('demo-curator') as string);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.getByRole('link', { name: 'Overview' }).first().click();
    await page.getByRole('heading', { level: 2, name: 'Sources' }).waitFor();
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    const id = (await page.getByTestId('snapshot-id').textContent({ timeout: 60_000 })) ?? '';
    assert.match(id, /^snap_[0-9a-f]+$/);
    await page.getByRole('cell', { name: id }).waitFor();
    await shot(page, 'dataset-overview-snapshot');

    const listed = await api<{ snapshots: { id: string; sampleCount: number }[] }>('GET', `/api/datasets/${DATASET}/snapshots`, await tokenFor('demo-curator'));
    assert.ok(listed.body.snapshots.some((s) => s.id === id && s.sampleCount > 0), JSON.stringify(listed.body));
    await page.context().close();
  });

  test('the provenance view, opened from the review card, shows verified log proofs and the signed checkpoint', async () => {
    const page = await newPage();
    await signIn(page, 'demo-reviewer-2', server.passwords.get('demo-reviewer-2') as string);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.goto(`${server.url}/#/datasets/${DATASET}/review`);
    await page.getByTestId('provenance-link').click();
    await page.getByTestId('proofs').waitFor();
    const verified = await page.getByTestId('proof-verified').allTextContents();
    assert.ok(verified.length >= 2, `expected the batch and scan proofs, got ${verified.length}`);
    assert.ok(verified.every((v) => v.includes('✓')), verified.join(', '));
    // The page recomputes each root from the leaf and the audit path itself: it must agree with the log.
    const checkedHere = await page.getByTestId('proof-checked-here').allTextContents();
    assert.deepEqual(checkedHere, verified.map(() => '✓ matches'));
    assert.match((await page.getByTestId('proofs-summary').textContent()) ?? '', /✓/);
    assert.equal(await page.getByTestId('prov-contributor').textContent(), 'demo-contributor');
    const checkpoint = (await page.getByTestId('checkpoint').textContent()) ?? '';
    assert.match(checkpoint, /^\S.*\n\d+\n[A-Za-z0-9+/=]+\n(?:.+\n)*\n— \S+ [A-Za-z0-9+/=]+\n/, `not a signed checkpoint: ${checkpoint}`);
    await shot(page, 'provenance');
    await page.context().close();
  });

  test('a two-person task: the first approval waits, the contributor cannot review, the second reviewer settles it', async () => {
    const admin = await tokenFor('demo-admin');
    const dataset = 'two-person';
    const created = await api('POST', '/api/datasets', admin, { id: dataset, name: 'Two-person review', labels: ['ham', 'spam'], settings: { quarantineScore: 0.5, twoPersonSeverity: 'info' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const [principal, role] of [['demo-contributor', 'contributor'], ['demo-contributor', 'reviewer'], ['demo-reviewer', 'reviewer'], ['demo-reviewer-2', 'reviewer']]) {
      const g = await api('POST', '/api/grants', admin, { principal, role, dataset });
      assert.equal(g.status, 201, JSON.stringify(g.body));
    }
    // 80 clean mails and 4 copies of spam texts labelled ham: conflicts the scan quarantines.
    const rows = ['id,label,text'];
    for (let i = 0; i < 40; i++) rows.push(`${i},spam,buy cheap pills now limited offer number ${i}`);
    for (let i = 40; i < 80; i++) rows.push(`${i},ham,meeting notes for the project review number ${i}`);
    for (let i = 0; i < 4; i++) rows.push(`${80 + i},ham,buy cheap pills now limited offer number ${i}`);
    const pushed = await fetch(`${server.url}/api/datasets/${dataset}/batches?source=test-feed`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor('demo-contributor')}`, 'content-type': 'text/csv' },
      body: rows.join('\n') + '\n',
    });
    assert.equal(pushed.status, 201, await pushed.text());

    // The overview refreshes itself until the batch is scanned.
    const first = await newPage();
    await signIn(first, 'demo-reviewer', server.passwords.get('demo-reviewer') as string);
    await first.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await first.goto(`${server.url}/#/datasets/${dataset}`);
    await first.locator('.badge.batch-scanned').waitFor({ timeout: 120_000 });
    await first.getByTestId('open-review-queue').click();
    const card = first.getByTestId('task-card');
    await card.waitFor();
    const taskId = (await card.getAttribute('data-task-id')) as string;
    assert.match((await first.getByTestId('approvals').textContent()) ?? '', /0 of 2 approvals/);
    await first.getByLabel(/^Reason/).fill('the same text as spam elsewhere, but this copy reads as ham');
    await first.getByRole('button', { name: /^Approve/ }).click();
    await first.getByTestId('decision-result').filter({ hasText: '1 of 2 approvals' }).waitFor();
    await first.locator('[data-testid="task-item"]', { hasText: 'waiting' }).first().waitFor();
    await shot(first, 'review-two-person-waiting');
    const reviewer = await tokenFor('demo-reviewer');
    const open = await openTasksOf(dataset, reviewer);
    assert.equal(open.find((t) => t.id === taskId)?.decisions?.length, 1, 'the first approval settled a two-person task');
    await first.context().close();

    // The contributor holds a reviewer grant too, but may not review their own batch.
    const own = await newPage();
    await signIn(own, 'demo-contributor', server.passwords.get('demo-contributor') as string);
    await own.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await own.goto(`${server.url}/#/datasets/${dataset}/review`);
    await own.getByTestId('task-item').first().waitFor();
    await own.getByTestId('task-item').nth((await openTasksOf(dataset, reviewer)).findIndex((t) => t.id === taskId)).click();
    await own.getByLabel(/^Reason/).fill('looks fine to me');
    await own.getByRole('button', { name: /^Approve/ }).click();
    await own.getByTestId('error').filter({ hasText: 'SERVICE_SELF_REVIEW' }).waitFor();
    await shot(own, 'review-self-review-error');
    await own.context().close();

    const second = await newPage();
    await signIn(second, 'demo-reviewer-2', server.passwords.get('demo-reviewer-2') as string);
    await second.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await second.goto(`${server.url}/#/datasets/${dataset}/review`);
    await second.getByTestId('task-item').first().waitFor();
    await second.getByTestId('task-item').nth((await openTasksOf(dataset, reviewer)).findIndex((t) => t.id === taskId)).click();
    await second.locator(`[data-testid="task-card"][data-task-id="${taskId}"]`).waitFor();
    assert.match((await second.getByTestId('approvals').textContent()) ?? '', /1 of 2 approvals/);
    await second.getByLabel(/^Reason/).fill('agree: ham');
    await second.getByLabel(/^Reason/).press('Escape');
    await second.locator('body').press('a');
    await second.getByTestId('decision-result').filter({ hasText: 'settled' }).waitFor();
    assert.ok(!(await openTasksOf(dataset, reviewer)).some((t) => t.id === taskId), 'the task is still open after two approvals');
    await second.context().close();
  });

  test('an image sample is fetched with the token and shown on the review card', async () => {
    const admin = await tokenFor('demo-admin');
    const dataset = 'images';
    const created = await api('POST', '/api/datasets', admin, { id: dataset, name: 'Image review', labels: ['cat', 'dog'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const [principal, role] of [['demo-contributor', 'contributor'], ['demo-reviewer', 'reviewer']]) {
      assert.equal((await api('POST', '/api/grants', admin, { principal, role, dataset })).status, 201);
    }
    // Dark "cats", bright "dogs", and one dark image filed under both: a conflicting duplicate.
    const png = (seed: number, base: number): Promise<Buffer> => {
      const pixels = Buffer.alloc(16 * 16 * 3);
      for (let i = 0; i < pixels.length; i++) pixels[i] = (base + ((seed * 7919 + i * 104729) % 61)) % 256;
      return sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
    };
    const pack = tar.pack();
    for (let i = 0; i < 30; i++) pack.entry({ name: `cat/${i}.png` }, await png(i, 20));
    for (let i = 0; i < 30; i++) pack.entry({ name: `dog/${i}.png` }, await png(i, 180));
    pack.entry({ name: 'dog/conflict.png' }, await png(3, 20));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const pushed = await fetch(`${server.url}/api/datasets/${dataset}/batches?source=camera`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor('demo-contributor')}`, 'content-type': 'application/x-tar' },
      body: Buffer.concat(chunks),
    });
    assert.equal(pushed.status, 201, await pushed.text());

    const page = await newPage();
    await signIn(page, 'demo-reviewer', server.passwords.get('demo-reviewer') as string);
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
    await page.goto(`${server.url}/#/datasets/${dataset}`);
    await page.locator('.badge.batch-scanned').waitFor({ timeout: 120_000 });
    await page.getByTestId('open-review-queue').click();
    const img = page.getByTestId('task-card').locator('.sample-image img');
    await img.waitFor();
    assert.match((await img.getAttribute('src')) ?? '', /^blob:/);
    await page.waitForFunction(() => {
      const el = (globalThis as unknown as { document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null } }).document.querySelector('.sample-image img');
      return el !== null && el.complete && el.naturalWidth > 0;
    });
    await shot(page, 'review-image');
    await page.context().close();
  });
});

// The card's text logic and the provenance page's proof check, without a browser. The proof check
// is differential: receipts built by the ledger module must recompute to its roots in the page's
// code, and a flipped bit must not.
describe('web UI logic', () => {
  test('hidden and direction-changing characters become visible labels; tab and newline stay', () => {
    const runs = splitHidden('pay\u202Eyap\u200B ok\tnext\nline\u{E0041}');
    assert.deepEqual(runs.map((r) => r.hidden ?? r.text), ['pay', 'U+202E', 'yap', 'U+200B', ' ok\tnext\nline', 'U+E0041']);
    assert.equal(countHidden('plain text'), 0);
    assert.equal(countHidden('a\u0000b\u00ADc\uFEFF'), 3);
  });

  test('every occurrence of a trigger is marked, case-insensitively, at word boundaries only', () => {
    const marked = (text: string, triggers: string[]): string[] => markTriggers(text, triggers).filter((r) => r.marked).map((r) => r.text);
    assert.deepEqual(marked('The TQ system, tq again; not tqx or xtq', ['tq']), ['TQ', 'tq']);
    assert.deepEqual(marked('Buy  cheap,\nPILLS now: buy cheap pills', ['buy cheap pills']), ['Buy  cheap,\nPILLS', 'buy cheap pills']);
    assert.deepEqual(marked('offer number 12345 today', ['number <num>']), ['number 12345']);
    assert.deepEqual(marked('see https://evil.example/x now', ['see <url> evil example']), ['see https://evil.example/x']);
    assert.deepEqual(marked('c.d cxd c-d', ['c.d']), ['c.d'], 'regular-expression characters in a trigger are literal');
    assert.deepEqual(marked('no trigger here', []), []);
    const text = 'x tq y';
    assert.equal(markTriggers(text, ['tq']).map((r) => r.text).join(''), text, 'the runs rebuild the text');
  });

  test('receipts from the ledger recompute to its roots in the page; a flipped bit does not', async () => {
    for (const size of [1, 2, 3, 7, 8, 13]) {
      const entries = Array.from({ length: size }, (_, i) => new TextEncoder().encode(`trainguard/v1/test\n{"i":${i}}`));
      const leaves = entries.map((e) => ledgerLeafHash(e));
      const root = rootFromLeafHashes(leaves);
      const reader = { hashAt: (level: number, index: number) => rootFromLeafHashes(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)) };
      const checkpoint = `test.example/log\n${size}\n${Buffer.from(root).toString('base64')}\n\n— test.example/log AAAA\n`;
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(reader, index, size);
        const parsed = parseReceipt(encodeReceipt({ extra: entries[index] as Uint8Array, index, proof, checkpoint }));
        assert.ok(parsed !== null && parsed.entry !== null);
        assert.equal(parsed.treeSize, size);
        assert.equal(parsed.rootHash, Buffer.from(root).toString('hex'));
        assert.equal(parsed.checkpoint, checkpoint);
        const leaf = await pageLeafHash(parsed.entry);
        assert.equal(leaf, Buffer.from(leaves[index] as Uint8Array).toString('hex'));
        assert.equal(await recomputeRoot(leaf as string, index, size, parsed.hashes), parsed.rootHash, `size ${size} index ${index}`);
        if (parsed.hashes.length > 0) {
          const flipped = parsed.hashes.map((h, i) => (i === 0 ? `${h[0] === '0' ? '1' : '0'}${h.slice(1)}` : h));
          assert.notEqual(await recomputeRoot(leaf as string, index, size, flipped), parsed.rootHash);
        }
        if (size > 1) assert.notEqual(await recomputeRoot(leaf as string, (index + 1) % size, size, parsed.hashes), parsed.rootHash, 'another index');
      }
    }
    assert.equal(parseReceipt('not a receipt'), null);
  });
});
