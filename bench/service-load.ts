/**
 * BENCHMARK (not a test): batches/s and latency of POST /api/datasets/:id/batches on a real
 * `trainguard serve` (issue 7's targets: ≥ 20 batches/s embedded, ≥ 50 on PostgreSQL, p99 < 500 ms,
 * no acknowledged batch lost). Each run: a fresh home in a temp dir; an admin and a contributor
 * with tokens made through the CLI; serve as a child process; autocannon pushes 1,000-sample CSV
 * batches, every request a different batch (its own rows and Idempotency-Key). Then, as a client
 * would, every upload left unanswered is sent again with its key; serve is stopped; and the
 * database must hold exactly the acknowledged batches, each with 1,000 samples and its log entry.
 *
 *   npm run bench:service -- [--seconds 60] [--connections 10] [--runs 2] [--workers 1]
 *                            [--rate N] [--database postgres://postgres@127.0.0.1:5432/test] [--cpu-prof DIR]
 *
 * --workers: scan jobs serve runs at once beside the API (its default, 1; 0: none, the jobs wait).
 * --rate: offer N batches/s in all (latency at a given load) instead of as many as the
 *   connections can push (throughput).
 * --database: serve on PostgreSQL, in a fresh schema load_<hex> (TRAINGUARD_DATABASE_SCHEMA),
 *   dropped at the end with its pg-boss schema.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { openLog } from '../src/ledger/index.ts';
import { openStore } from '../src/store/index.ts';

/** The part of autocannon's API used here (the package ships no types). */
interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (req: LoadRequest) => LoadRequest;
  onResponse?: (status: number, body: string) => void;
}
interface Histogram { p50: number; p90: number; p99: number; max: number }
interface LoadResult { duration: number; latency: Histogram; non2xx: number; errors: number; timeouts: number; '2xx': number }
interface LoadOptions { url: string; connections: number; duration: number; timeout: number; overallRate?: number; requests: LoadRequest[] }
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: LoadOptions) => Promise<LoadResult>;

const root = join(import.meta.dirname, '..');
const DATASET = 'load';
const ROWS = 1000;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    rate: { type: 'string' },
    database: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const seconds = Number(flags.seconds);
const connections = Number(flags.connections);
const runs = Number(flags.runs);
const workers = Number(flags.workers);
const rate = flags.rate === undefined ? undefined : Number(flags.rate);
if (!(seconds > 0) || !Number.isInteger(connections) || connections < 1 || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(workers) || workers < 0 || (rate !== undefined && !(rate > 0))) {
  throw new Error('usage: --seconds N (> 0) --connections N (≥ 1) --runs N (≥ 1) --workers N (≥ 0) [--rate N] [--database postgres://…]');
}

// Realistic short messages: a ham and a spam vocabulary, 8–18 words each, plus a reference number
// that makes every row of every batch distinct content (no sample is a duplicate of another).
const HAM = 'meeting notes project review agenda tomorrow morning lunch team update report draft attached please see comments schedule call thanks regards budget quarter plan design release deadline invoice shipped order delivery question answer photo weekend family dinner flight hotel booking conference slides'.split(' ');
const SPAM = 'buy cheap pills now limited offer winner claim prize free money click here urgent account verify password bank transfer lottery casino bonus discount viagra loan approved credit cash deal exclusive act fast guaranteed'.split(' ');

function batchCsv(n: number, seed: number): string {
  let s = (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  const rand = (k: number): number => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s % k;
  };
  const rows = ['id,label,text'];
  for (let i = 0; i < ROWS; i++) {
    const spam = rand(3) === 0;
    const words = spam ? SPAM : HAM;
    const text: string[] = [];
    for (let w = 8 + rand(11); w > 0; w--) text.push(words[rand(words.length)] as string);
    rows.push(`${n}-${i},${spam ? 'spam' : 'ham'},${text.join(' ')} ref ${n}.${i}`);
  }
  return `${rows.join('\n')}\n`;
}

function cli(home: string, args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args, '--home', home], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`trainguard ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function startServe(home: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const profile = flags['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']];
  const args = [...profile, '--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--port', '0', '--home', home, '--workers', String(workers)];
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s: ${out}`)), 120_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  // Whatever serve says from now on (errors above all) goes to this terminal.
  child.stderr?.removeAllListeners('data');
  child.stderr?.pipe(process.stderr);
  return { child, url };
}

async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** CPU time of the whole machine (busy and total, ms, all cores), to tell a saturated machine from a waiting server. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const { user, nice, sys, idle, irq } = c.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

/** CPU seconds a process has used (Linux /proc; NaN elsewhere). */
function processCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return Number.NaN;
  }
}

interface RunNumbers {
  batchesPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx during the run, and after re-sending the unanswered uploads. */
  acknowledgedInRun: number;
  acknowledged: number;
  resent: number;
  stored: number;
  lost: number;
  scanned: number;
  /** The machine's CPU use during the load (% of all cores), and serve's CPU time per acknowledged batch. */
  machineBusy: number;
  serveCpuMsPerBatch: number;
}

/** What the run is doing, with the seconds since it started (the checks after a long run take minutes). */
function progress(started: number, what: string): void {
  console.log(`  [${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${what}`);
}

/** One run: a fresh home (and schema), serve, the load, the retries, then the no-loss check against database and log. */
async function run(database: string | undefined): Promise<RunNumbers> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tg-load-'));
  const home = join(dir, 'home');
  const schema = database === undefined ? undefined : `load_${randomBytes(6).toString('hex')}`;
  const admin = database === undefined ? undefined : new pg.Pool({ connectionString: database, max: 1 });
  let child: ChildProcess | undefined;
  try {
    if (admin !== undefined) await admin.query(`CREATE SCHEMA ${schema}`);
    cli(home, ['user', 'add', 'load-admin', '--admin']);
    const adminToken = cli(home, ['token', 'create', '--name', 'bench admin', '--as', 'load-admin']);
    cli(home, ['user', 'add', 'load-contributor', '--as', 'load-admin']);
    cli(home, ['grant', 'load-contributor', 'contributor', '--dataset', DATASET, '--as', 'load-admin']);
    const pushToken = cli(home, ['token', 'create', '--name', 'bench push', '--for', 'load-contributor', '--as', 'load-admin']);

    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of ['TRAINGUARD_TOKEN', 'TRAINGUARD_HOME', 'TRAINGUARD_DATABASE_URL', 'TRAINGUARD_DATABASE_SCHEMA']) delete env[k];
    if (database !== undefined) Object.assign(env, { TRAINGUARD_DATABASE_URL: database, TRAINGUARD_DATABASE_SCHEMA: schema });
    progress(started, 'starting serve');
    const served = await startServe(home, env);
    child = served.child;
    const url = served.url;
    const created = await fetch(`${url}/api/datasets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: DATASET, name: 'Load', labels: ['ham', 'spam'] }),
    });
    if (created.status !== 201) throw new Error(`creating the dataset: ${created.status} ${await created.text()}`);
    if (admin !== undefined) {
      const r = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.datasets`);
      if (r.rows[0]?.n !== 1) throw new Error(`serve did not put its tables in schema ${schema}: is TRAINGUARD_DATABASE_SCHEMA supported?`);
    }

    const seed = randomBytes(4).readUInt32LE(0);
    const key = (n: number): string => `load-${seed}-${n}`;
    const acknowledged = new Map<number, string>(); // upload number → batch id
    const unexpected = new Map<string, number>();
    let sent = 0;
    let replayed = 0;
    let duplicates = 0;
    // An answer names its upload by the batch's idempotency key (autocannon builds the next request
    // before it reports a response, so its per-connection context cannot tell which one was answered).
    const answer = (status: number, body: string): void => {
      if (status < 200 || status > 299) {
        const code = `${status} ${(/"code":"([A-Z_]+)"/.exec(body)?.[1] ?? '')}`;
        unexpected.set(code, (unexpected.get(code) ?? 0) + 1);
        return;
      }
      const r = JSON.parse(body) as { batch: { id: string; idempotencyKey: string }; replayed: boolean; duplicates: number };
      if (r.replayed) replayed++;
      duplicates += r.duplicates;
      acknowledged.set(Number(r.batch.idempotencyKey.split('-').at(-1)), r.batch.id);
    };
    const path = `/api/datasets/${DATASET}/batches?source=load`;
    const cpuBefore = machineCpu();
    const serveBefore = processCpuSeconds(child.pid);
    const headers = { authorization: `Bearer ${pushToken}`, 'content-type': 'text/csv' };
    progress(started, `pushing for ${seconds} s`);
    const result = await autocannon({
      url,
      connections,
      duration: seconds,
      timeout: 30,
      ...(rate === undefined ? {} : { overallRate: rate }),
      requests: [{
        method: 'POST',
        path,
        headers,
        setupRequest(req) {
          const n = sent++;
          return { ...req, headers: { ...req.headers, 'idempotency-key': key(n) }, body: batchCsv(n, seed) };
        },
        onResponse: answer,
      }],
    });
    const acknowledgedInRun = acknowledged.size;
    const cpuAfter = machineCpu();
    const serveCpu = processCpuSeconds(child.pid) - serveBefore;

    // A client re-sends what was never acknowledged (cut off by the end of the run, refused, or
    // built but never sent) with the same key: a stored batch is replayed, a lost one stored now.
    // A 409 means the first attempt is still being processed (serve answers it when it commits),
    // a 5xx a passing failure: both are tried again.
    progress(started, `re-sending the ${sent - acknowledged.size} unanswered uploads`);
    let resent = 0;
    for (let n = 0; n < sent; n++) {
      if (acknowledged.has(n)) continue;
      resent++;
      for (let attempt = 1; ; attempt++) {
        const r = await fetch(`${url}${path}`, { method: 'POST', headers: { ...headers, 'idempotency-key': key(n) }, body: batchCsv(n, seed) });
        const text = await r.text();
        if ((r.status === 409 || r.status >= 500) && attempt < 20) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          continue;
        }
        answer(r.status, text);
        break;
      }
    }
    progress(started, 'stopping serve');
    await stopServe(child);

    // No request lost: the database holds exactly the acknowledged batches, each with its 1,000 samples, each logged.
    progress(started, 'checking every batch in the database and the log');
    const store = await openStore(database === undefined ? { kind: 'pglite', dataDir: join(home, 'db') } : { kind: 'postgres', url: database, schema: schema as string });
    let stored: { id: string; sample_count: number; rows: number; log_index: number | null; status: string }[];
    try {
      stored = (await sql<{ id: string; sample_count: number; rows: number; log_index: number | null; status: string }>`
        select b.id, b.sample_count, b.log_index, b.status, coalesce(s.rows, 0) as rows
        from batches b left join (select batch_id, count(*)::int as rows from samples group by batch_id) s on s.batch_id = b.id
        where b.dataset_id = ${DATASET}`.execute(store.db)).rows;
    } finally {
      await store.close();
    }
    const byId = new Map(stored.map((b) => [b.id, b]));
    const ackedIds = new Set(acknowledged.values());
    const problems: string[] = [];
    for (const id of ackedIds) {
      const b = byId.get(id);
      if (b === undefined) problems.push(`${id}: acknowledged, not stored`);
      else if (b.sample_count !== ROWS || b.rows !== ROWS) problems.push(`${id}: ${b.sample_count} samples recorded, ${b.rows} stored`);
    }
    for (const b of stored) if (!ackedIds.has(b.id)) problems.push(`${b.id}: stored, never acknowledged`);
    const log = await openLog(join(home, 'ledger'), { readOnly: true });
    try {
      for (const b of stored) {
        const entry = b.log_index === null ? '' : Buffer.from(await log.readEntry(b.log_index)).toString('utf8');
        if (!entry.startsWith('trainguard/v1/batch\n') || !entry.includes(`"batch":"${b.id}"`) || !entry.includes(`"sampleCount":${ROWS}`)) problems.push(`${b.id}: no matching log entry at ${b.log_index}`);
      }
    } finally {
      await log.close();
    }
    progress(started, 'done');
    if (unexpected.size > 0) console.log(`  non-2xx responses: ${[...unexpected].map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    if (duplicates > 0) console.log(`  ${duplicates} duplicate samples (expected 0)`);
    if (replayed > resent) console.log(`  ${replayed} replays (${resent} re-sent)`);
    for (const p of problems.slice(0, 10)) console.log(`  LOST: ${p}`);
    return {
      batchesPerSecond: result['2xx'] / result.duration,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      acknowledgedInRun,
      acknowledged: ackedIds.size,
      resent,
      stored: stored.length,
      lost: problems.length,
      scanned: stored.filter((b) => b.status === 'scanned').length,
      machineBusy: (100 * (cpuAfter.busy - cpuBefore.busy)) / (cpuAfter.total - cpuBefore.total),
      serveCpuMsPerBatch: (1000 * serveCpu) / Math.max(1, acknowledgedInRun),
    };
  } finally {
    if (child !== undefined) await stopServe(child);
    if (admin !== undefined) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema}_pgboss CASCADE`);
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const target = flags.database === undefined ? 'embedded (PGlite)' : 'PostgreSQL';
const goal = flags.database === undefined ? 20 : 50;
const load = rate === undefined ? `${connections} connections` : `${rate} batches/s offered over ${connections} connections`;
console.log(`service load: ${target}, ${load}, ${workers} scan worker(s) in serve, ${seconds} s, ${ROWS}-sample CSV batches, ${runs} run(s)`);
const results: RunNumbers[] = [];
for (let i = 0; i < runs; i++) {
  const r = await run(flags.database);
  console.log(`  run ${i + 1}: ${r.batchesPerSecond.toFixed(1)} batches/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.acknowledged} acknowledged, ${r.lost} lost`);
  results.push(r);
}
const pick = (k: keyof RunNumbers): number => median(results.map((r) => r[k]));
const each = (k: keyof RunNumbers, digits = 0): string => (runs > 1 ? ` (${results.map((r) => r[k].toFixed(digits)).join(' / ')})` : '');
const ok = (rate !== undefined || pick('batchesPerSecond') >= goal) && pick('p99') < 500 && results.every((r) => r.lost === 0);
console.log(`\n| ${target}, ${load}, workers ${workers} | ${runs > 1 ? `median of ${runs} (each run)` : 'value'} |\n| --- | --- |`);
console.log(`| batches/s (2xx per second) | ${pick('batchesPerSecond').toFixed(1)}${each('batchesPerSecond', 1)}${rate === undefined ? ` (target ≥ ${goal})` : ''} |`);
console.log(`| samples/s | ${(pick('batchesPerSecond') * ROWS).toFixed(0)} |`);
console.log(`| latency p50 / p90 / p99 / max | ${pick('p50')} / ${pick('p90')} / ${pick('p99')} / ${pick('max')} ms; p99${each('p99')} (target p99 < 500) |`);
console.log(`| non-2xx | ${pick('non2xx')}${each('non2xx')} |`);
console.log(`| errors / timeouts | ${pick('errors')} / ${pick('timeouts')} |`);
console.log(`| acknowledged in the run / re-sent after it / acknowledged in all | ${pick('acknowledgedInRun')} / ${pick('resent')} / ${pick('acknowledged')} |`);
console.log(`| stored batches (each checked: 1,000 samples, its log entry) | ${pick('stored')}${each('stored')} |`);
console.log(`| lost (acknowledged but missing, short or unlogged; stored but never acknowledged) | ${results.map((r) => r.lost).join(', ')} |`);
console.log(`| batches scanned by serve's workers by the end | ${pick('scanned')}${each('scanned')} |`);
console.log(`| machine CPU busy during the load (${cpus().length} cores) / serve's CPU per batch | ${pick('machineBusy').toFixed(0)}% / ${pick('serveCpuMsPerBatch').toFixed(0)} ms |`);
console.log(`\n${ok ? 'targets met' : 'TARGETS NOT MET'}`);
process.exitCode = ok ? 0 : 1;
