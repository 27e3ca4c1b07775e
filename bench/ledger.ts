// `npm run bench:ledger`: the provenance log's speed — sustained batched appends (fsync on),
// inclusion proofs from stored tiles, and verifying a 1M-sample snapshot's sample list.
// Prints medians; never fails on a time. Usage: npm run bench:ledger [-- --entries 200000 --runs 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { buildSampleSet, createLog, generateKey, leafHash, openLog, parseSignerKey, signNote, verifyInclusion } from '../src/ledger/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const total = arg('entries', 200_000);
const runs = arg('runs', 3);
const batch = arg('batch', 1000);
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

// A 1M-sample snapshot's sample list: parse, sort, de-duplicate, hash, compare with the signed root.
const n = 1_000_000;
const ids = Array.from({ length: n }, () => randomBytes(32).toString('hex'));
const signed = buildSampleSet(ids).root;
const lines = ids.join('\n') + '\n';
const t0 = performance.now();
const parsed = lines.split('\n').filter((l) => l !== '');
const again = buildSampleSet(parsed).root;
const ms = performance.now() - t0;
if (!Buffer.from(again).equals(Buffer.from(signed))) throw new Error('sample root mismatch');
console.log(`snapshot sample list: ${n.toLocaleString('en')} ids parsed, sorted, hashed and checked against the signed root in ${(ms / 1000).toFixed(2)} s (target: whole verify < 10 s)`);
