// Crash test for the ledger's durability contract. Guards against: an acknowledged entry that is
// missing after a crash, a log that no longer opens (or no longer verifies) after a kill at an
// unlucky moment — mid tile write, between tiles and checkpoint, mid recovery — a stale lock that
// blocks the next writer, and idempotent re-sends that turn into duplicates.
// A child appends batches in a loop and prints each acknowledged batch; we SIGKILL it at random
// moments ≥ 50 times and after each kill reopen the log and check it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRng } from '../src/core/index.ts';
import { createLog, leafHash, openLog, verifyConsistency, verifyInclusion } from '../src/ledger/index.ts';
import { crashEntry } from './fixtures/ledger-append-child.ts';

const ROOT = join(import.meta.dirname, '..');
const CHILD = join(import.meta.dirname, 'fixtures', 'ledger-append-child.ts');
const KILLS = 50;

interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly closed: Promise<void>;
}

function startChild(dir: string, seed: number): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(seed)], { cwd: ROOT });
  const lines: string[] = [];
  let buf = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr.on('data', (d: Buffer) => lines.push(`stderr ${d.toString('utf8')}`));
  const closed = new Promise<void>((resolve) => proc.on('close', () => resolve()));
  return { proc, lines, closed };
}

async function waitFor(child: Child, pred: () => boolean): Promise<void> {
  while (!pred() && child.proc.exitCode === null && child.proc.signalCode === null) await sleep(1);
}

test(`SIGKILL a batching writer ${KILLS} times: every acknowledged entry survives and every proof verifies`, { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-crash-'));
  const created = await createLog(dir, { origin: 'example.com/trainguard/crash' });
  await created.close();
  const rng = createRng(2024);

  let acked = 0; // entries [0, acked) were acknowledged by some child
  let checked = 0; // entries [0, checked) were compared byte for byte
  let prev = { size: 0, root: created.root };
  let killedBeforeReady = 0;
  let unackedButCommitted = 0;
  let killedMidWrite = 0;
  // Children are started ahead (they wait for `go`), so their start-up overlaps earlier rounds.
  const ready: Child[] = [startChild(dir, 1), startChild(dir, 2)];
  // On failure, do not leave waiting children behind (they would keep the test process alive).
  t.after(() => {
    for (const c of ready) c.proc.kill('SIGKILL');
  });

  for (let round = 0; round < KILLS; round++) {
    const child = ready.shift() as Child;
    if (round + ready.length + 1 < KILLS) ready.push(startChild(dir, round + 3));
    child.proc.stdin.write(`go ${acked}\n`);
    const phase = rng.next();
    if (phase < 0.15) {
      // During start-up or recovery (lock takeover, journal truncation, temp cleanup).
      await sleep(rng.int(5));
      killedBeforeReady++;
    } else if (phase < 0.5) {
      await waitFor(child, () => child.lines.some((l) => l.startsWith('ready') || l.startsWith('error')));
      await sleep(rng.int(60));
    } else {
      // Once the writer is warm, somewhere inside one of its next few batches.
      await waitFor(child, () => child.lines.some((l) => l.startsWith('ack') || l.startsWith('error')));
      await sleep(rng.int(12));
    }
    child.proc.kill('SIGKILL');
    await child.closed;
    const errors = child.lines.filter((l) => !l.startsWith('ack ') && !l.startsWith('ready '));
    assert.deepEqual(errors, [], `child output in round ${round}`);
    for (const l of child.lines) if (l.startsWith('ack ')) acked = Math.max(acked, Number(l.slice(4)));

    if (existsSync(join(dir, '.tmp')) && readdirSync(join(dir, '.tmp')).length > 0) killedMidWrite++;
    const log = await openLog(dir);
    assert.ok(log.size >= acked, `round ${round}: size ${log.size} < acknowledged ${acked}`);
    assert.ok(log.size >= prev.size, `round ${round}: the log shrank`);
    if (log.size > acked) unackedButCommitted++;
    // Every entry present, in order, exactly once (idempotent re-sends did not duplicate).
    for (let i = checked; i < log.size; i++) assert.deepEqual(await log.readEntry(i), crashEntry(i), `round ${round}: entry ${i}`);
    checked = log.size;
    // Proofs from the recovered tiles: the new edge, a random sample, and consistency with the last checkpoint.
    const root = log.root;
    const probes = new Set<number>();
    for (let k = 0; k < 12 && log.size > 0; k++) probes.add(rng.int(log.size));
    for (let i = Math.max(prev.size, log.size - 8); i < log.size; i++) probes.add(i);
    for (const i of probes) verifyInclusion(leafHash(crashEntry(i)), i, log.size, await log.inclusionProof(i), root);
    if (prev.size > 0) verifyConsistency(prev.size, log.size, prev.root, root, await log.consistencyProof(prev.size));
    prev = { size: log.size, root };
    await log.close();
  }

  const final = await openLog(dir, { verify: 'full' });
  assert.equal(final.size, checked);
  await final.close();
  assert.ok(acked > 1000, `children acknowledged only ${acked} entries`);
  // The kills must land in different phases for this test to mean anything.
  assert.ok(killedBeforeReady > 0, 'no kill landed during start-up');
  process.stdout.write(
    `# crash test: ${KILLS} kills, ${acked} acknowledged, ${checked} committed, ${unackedButCommitted} rounds with committed-but-unacknowledged entries, ${killedBeforeReady} kills during start-up, ${killedMidWrite} with temp files left (mid-write)\n`,
  );
});
