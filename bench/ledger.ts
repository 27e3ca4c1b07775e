// `npm run bench:ledger`: the provenance log's speed — sustained batched appends (fsync on),
// inclusion proofs from stored tiles (also in a 10M-leaf log), and creating and verifying a 1M-row snapshot.
// Prints medians; never fails on a time. Usage: npm run bench:ledger [-- --entries 200000 --runs 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createRng } from '../src/core/index.ts';
import { createSnapshot, generateKeyFiles, initLog, verifySnapshot } from '../src/app/index.ts';
import { createLog, generateKey, leafHash, openLog, parseSignerKey, signNote, verifyInclusion } from '../src/ledger/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const total = arg('entries', 200_000);
const runs = arg('runs', 3);
const batch = arg('batch', 1000);
const proofLeaves = arg('proof-leaves', 10_000_000);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const signer = parseSignerKey(generateKey('bench.example/log').skey);
const sign = (body: string): string => signNote(body, [signer]);
// ~200-byte entries, like a canonical `trainguard/v1/review` commitment.
const entry = (i: number): Uint8Array => Buffer.from(`trainguard/v1/review\n{"decision":"accept","reviewer":"alice","sample":"${createHash('sha256').update(String(i)).digest('hex')}","seq":${i}}`);

const rates: number[] = [];
let lastDir = '';
for (let r = 0; r < runs; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-ledger-bench-'));
  const log = await createLog(dir, { origin: 'bench.example/log', signCheckpoint: sign });
  const t0 = performance.now();
  for (let start = 0; start < total; start += batch) {
    await log.append(Array.from({ length: Math.min(batch, total - start) }, (_, k) => entry(start + k)));
  }
  const s = (performance.now() - t0) / 1000;
  rates.push(total / s);
  await log.close();
  if (r < runs - 1) rmSync(dir, { recursive: true, force: true });
  else lastDir = dir;
  console.error(`run ${r + 1}: ${total} entries in ${s.toFixed(2)} s`);
}
console.log(`appends: ${total.toLocaleString('en')} entries of ~200 B in batches of ${batch}, fsync on: median ${Math.round(median(rates)).toLocaleString('en')} entries/s over ${runs} runs (target ≥ 10,000/s)`);

// Inclusion proofs from the stored tiles of the last run's log.
const log = await openLog(lastDir, { readOnly: true });
const times: number[] = [];
const verifyTimes: number[] = [];
const root = log.root;
for (let q = 0; q < 1000; q++) {
  const index = Math.floor(Math.random() * log.size);
  const t0 = performance.now();
  const proof = await log.inclusionProof(index, log.size);
  const t1 = performance.now();
  verifyInclusion(leafHash(entry(index)), index, log.size, proof, root);
  verifyTimes.push(performance.now() - t1);
  times.push(t1 - t0);
}
console.log(`inclusion proof in a ${log.size.toLocaleString('en')}-leaf log (tiles on disk, tile cache warm after the first): generate median ${median(times).toFixed(3)} ms, verify median ${median(verifyTimes).toFixed(3)} ms over 1,000 random leaves`);
await log.close();
rmSync(lastDir, { recursive: true, force: true });

// Inclusion proofs at scale: a log of `--proof-leaves` (default 10M) short entries, built with
// fsync off (only the proof path is timed), then reopened so every cache starts cold.
{
  const dir = mkdtempSync(join(tmpdir(), 'tg-ledger-bench-big-'));
  const big = await createLog(dir, { origin: 'bench.example/big', signCheckpoint: sign, fsync: false });
  const short = (i: number): Uint8Array => Buffer.from(`trainguard/v1/bench\n{"seq":${i}}`);
  const tb = performance.now();
  for (let start = 0; start < proofLeaves; start += 20_000) {
    await big.append(Array.from({ length: Math.min(20_000, proofLeaves - start) }, (_, k) => short(start + k)));
  }
  console.error(`built a ${proofLeaves.toLocaleString('en')}-leaf log in ${((performance.now() - tb) / 1000).toFixed(1)} s (fsync off)`);
  await big.close();
  const reopened = await openLog(dir, { readOnly: true });
  const gen: number[] = [];
  for (let q = 0; q < 1000; q++) {
    const index = Math.floor(Math.random() * reopened.size);
    const t0 = performance.now();
    const proof = await reopened.inclusionProof(index, reopened.size);
    gen.push(performance.now() - t0);
    verifyInclusion(leafHash(short(index)), index, reopened.size, proof, reopened.root);
  }
  const sorted = [...gen].sort((a, b) => a - b);
  console.log(`inclusion proof in a ${reopened.size.toLocaleString('en')}-leaf log (tiles on disk, caches cold at start): generate median ${median(gen).toFixed(3)} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(3)} ms over 1,000 random leaves (target < 1 ms)`);
  await reopened.close();
  rmSync(dir, { recursive: true, force: true });
}

// A 1M-row snapshot: `snapshot create`, then `verify` without and with the data, through the same
// app functions the CLI calls (`--snapshot-rows` to change the size).
{
  const rows = arg('snapshot-rows', 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'tg-ledger-bench-snap-'));
  const csv = join(dir, 'd.csv');
  const lines = ['id,label,f1,f2'];
  const rng = createRng(1);
  for (let i = 0; i < rows; i++) lines.push(`${i},${i % 2 === 0 ? 'a' : 'b'},${rng.next()},${rng.next()}`);
  writeFileSync(csv, lines.join('\n') + '\n');
  const { keyPath, vkey } = await generateKeyFiles('bench.example/snap', join(dir, 'k'));
  await initLog(join(dir, 'log'), keyPath);
  const t0 = performance.now();
  await createSnapshot(csv, { dataset: 'big', keyPath, logDir: join(dir, 'log'), outDir: join(dir, 'snap') });
  const t1 = performance.now();
  const v = await verifySnapshot(join(dir, 'snap'), vkey);
  const t2 = performance.now();
  await verifySnapshot(join(dir, 'snap'), vkey, { dataPath: csv });
  const t3 = performance.now();
  const sec = (ms: number): string => (ms / 1000).toFixed(2);
  console.log(`snapshot of ${v.sampleCount.toLocaleString('en')} rows: create ${sec(t1 - t0)} s; verify (signature, receipt, sample root) ${sec(t2 - t1)} s (target < 10 s); verify --data (also every byte and sample id) ${sec(t3 - t2)} s`);
  rmSync(dir, { recursive: true, force: true });
}
