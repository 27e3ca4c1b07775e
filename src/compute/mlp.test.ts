// Guards against: a backward pass that does not descend (wrong transposes, a missing ReLU mask),
// non-deterministic training for a seed, activations of the wrong layer or shape, and bad
// arguments reaching the numeric loops instead of a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { dense } from './matrix.ts';
import { mlpActivations, mlpPredict, trainMlp } from './mlp.ts';

/** Three classes on concentric rings in 2-D: not linearly separable, so the hidden layer must work. */
function rings(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = createRng(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const r = 1 + 2 * c + 0.2 * rng.normal();
    const a = 2 * Math.PI * rng.next();
    x[i * 2] = r * Math.cos(a);
    x[i * 2 + 1] = r * Math.sin(a);
    y[i] = c;
  }
  return { x, y };
}

function accuracy(p: { data: Float32Array }, y: Int32Array, K: number): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (p.data[i * K + k]! > p.data[i * K + b]!) b = k;
    if (b === y[i]) ok++;
  }
  return ok / y.length;
}

test('learns concentric rings (not linearly separable): loss falls, accuracy > 0.95', async () => {
  const { x, y } = rings(900, 3);
  const m = await trainMlp(dense(900, 2, x), y, 3, { hidden: [32, 16], epochs: 60, batchSize: 32, learningRate: 0.01, seed: 4 });
  assert.ok(m.lossHistory.at(-1)! < 0.5 * m.lossHistory[0]!, `loss ${m.lossHistory[0]} → ${m.lossHistory.at(-1)}`);
  const p = await mlpPredict(m, dense(900, 2, x));
  assert.ok(accuracy(p, y, 3) > 0.95, `accuracy ${accuracy(p, y, 3)}`);
  for (let i = 0; i < 900; i++) {
    const s = p.data[i * 3]! + p.data[i * 3 + 1]! + p.data[i * 3 + 2]!;
    assert.ok(Math.abs(s - 1) < 1e-5);
  }
});

test('same seed, same model; penultimate activations are non-negative and n × last hidden width', async () => {
  const { x, y } = rings(300, 5);
  const opts = { hidden: [8, 6], epochs: 3, batchSize: 50, seed: 9 };
  const a = await trainMlp(dense(300, 2, x), y, 3, opts);
  const b = await trainMlp(dense(300, 2, x), y, 3, opts);
  assert.deepEqual(Array.from(a.weights[1]!.data), Array.from(b.weights[1]!.data));
  const acts = await mlpActivations(a, dense(300, 2, x));
  assert.deepEqual([acts.rows, acts.cols], [300, 6]);
  assert.ok(acts.data.every((v) => v >= 0));
  const first = await mlpActivations(a, dense(300, 2, x), 0);
  assert.equal(first.cols, 8);
});

test('bad arguments are typed errors', async () => {
  const x = dense(4, 2, new Float32Array(8));
  const y = Int32Array.from([0, 1, 0, 1]);
  const codes = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
      return 'none';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  assert.equal(await codes(() => trainMlp(x, Int32Array.from([0, 1]), 2)), 'COMPUTE_SHAPE_MISMATCH');
  assert.equal(await codes(() => trainMlp(x, Int32Array.from([0, 1, 0, 5]), 2)), 'COMPUTE_INVALID_ARGUMENT');
  assert.equal(await codes(() => trainMlp(x, y, 2, { epochs: 0 })), 'COMPUTE_INVALID_ARGUMENT');
  assert.equal(await codes(() => trainMlp(x, y, 2, { hidden: [] })), 'COMPUTE_INVALID_ARGUMENT');
  assert.equal(await codes(() => trainMlp(dense(4, 2, Float32Array.from([NaN, 0, 0, 0, 0, 0, 0, 0])), y, 2)), 'COMPUTE_NON_FINITE');
  const m = await trainMlp(x, y, 2, { epochs: 1 });
  assert.equal(await codes(() => mlpActivations(m, dense(1, 3))), 'COMPUTE_SHAPE_MISMATCH');
});
