// Guards against: activations that are not the model's (wrong output, rows shuffled across
// batches, a padded last batch leaking in, CHW/HWC mixed up), and a hostile or mismatched model
// file reaching onnxruntime's native errors instead of a typed ComputeError with a hint.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComputeError } from './errors.ts';
import { dense } from './matrix.ts';
import { onnxActivations } from './onnx-activations.ts';
import { ELEM_FLOAT, ELEM_INT64, encodeModel, type GraphSpec } from './onnx-model.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tg-onnx-act-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeModel(name: string, spec: GraphSpec): Promise<string> {
  const path = join(dir, `${name}.onnx`);
  await writeFile(path, encodeModel(spec));
  return path;
}

const f = (name: string, ...dims: (number | string)[]) => ({ name, elemType: ELEM_FLOAT, dims });

// A 3-4-2 MLP with weights chosen so the ReLU clips some units for some rows.
const W1 = [0.5, -1, 0.25, 2, 1, 0.5, -0.75, -1.5, -0.5, 1.5, 1, 0.1]; // 3×4, row-major
const B1 = [0.1, -0.2, 0.3, 0];
const W2 = [1, -1, 0.5, 2, -2, 0.25, 0.75, -0.5]; // 4×2
const B2 = [0.05, -0.05];

function mlpSpec(batch: number | string = 'n'): GraphSpec {
  return {
    name: 'mlp',
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W1', 'B1'], outputs: ['Z1'] },
      { op: 'Relu', inputs: ['Z1'], outputs: ['H'] },
      { op: 'Gemm', inputs: ['H', 'W2', 'B2'], outputs: ['Y'] },
    ],
    floatInitializers: [
      { name: 'W1', dims: [3, 4], values: Float32Array.from(W1) },
      { name: 'B1', dims: [4], values: Float32Array.from(B1) },
      { name: 'W2', dims: [4, 2], values: Float32Array.from(W2) },
      { name: 'B2', dims: [2], values: Float32Array.from(B2) },
    ],
    inputs: [f('X', batch, 3)],
    outputs: [f('Y', batch, 2), f('H', batch, 4)],
  };
}

/** Hidden and output layers of the MLP in float64. */
function mlpByHand(x: Float32Array, n: number): { h: number[]; y: number[] } {
  const h: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const hi: number[] = [];
    for (let j = 0; j < 4; j++) {
      let s = B1[j]!;
      for (let k = 0; k < 3; k++) s += x[i * 3 + k]! * W1[k * 4 + j]!;
      hi.push(Math.max(0, s));
    }
    h.push(...hi);
    for (let j = 0; j < 2; j++) {
      let s = B2[j]!;
      for (let k = 0; k < 4; k++) s += hi[k]! * W2[k * 2 + j]!;
      y.push(s);
    }
  }
  return { h, y };
}

function sampleRows(n: number, d: number): Float32Array {
  // Deterministic, mixed signs, no two rows alike.
  return Float32Array.from({ length: n * d }, (_, i) => Math.sin(1.7 * i + 0.3) * (1 + (i % 5)));
}

function assertClose(actual: Float32Array, expected: readonly number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `value ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, hintIncludes?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ComputeError, `expected ComputeError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.ok(err.hint === undefined || err.hint.length > 0);
    if (hintIncludes !== undefined) assert.ok(err.hint?.includes(hintIncludes), `hint: ${err.hint}`);
    return true;
  });
}

test('MLP: the first output by default and the hidden layer by name match a hand computation, across uneven batches', async () => {
  const path = await writeModel('mlp', mlpSpec());
  const n = 7;
  const x = sampleRows(n, 3);
  const want = mlpByHand(x, n);
  assert.ok(want.h.some((v) => v === 0) && want.h.some((v) => v > 0), 'the fixture must exercise the ReLU');

  const y = await onnxActivations(path, dense(n, 3, x), { batchSize: 3 });
  assert.deepEqual([y.rows, y.cols], [n, 2]);
  assertClose(y.data, want.y);

  const h = await onnxActivations(path, dense(n, 3, x), { output: 'H', batchSize: 3 });
  assert.deepEqual([h.rows, h.cols], [n, 4]);
  assertClose(h.data, want.h);
});

test('a model with a fixed batch dimension gets a padded last batch whose rows are dropped', async () => {
  const path = await writeModel('mlp-fixed', mlpSpec(2));
  const x = sampleRows(5, 3);
  const h = await onnxActivations(path, dense(5, 3, x), { output: 'H', batchSize: 64 });
  assert.deepEqual([h.rows, h.cols], [5, 4]);
  assertClose(h.data, mlpByHand(x, 5).h);
});

test('zero rows give an empty matrix with the declared output width', async () => {
  const path = await writeModel('mlp-empty', mlpSpec());
  const h = await onnxActivations(path, dense(0, 3), { output: 'H' });
  assert.deepEqual([h.rows, h.cols, h.data.length], [0, 4, 0]);
});

test("nchw: a [N,1,4,4] conv-style input behind Flatten → Gemm matches the hand computation", async () => {
  const W = Float32Array.from({ length: 16 * 3 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
  const B = Float32Array.from([0.2, -0.1, 0]);
  const path = await writeModel('flat-conv', {
    name: 'nchw',
    nodes: [
      { op: 'Flatten', inputs: ['IMG'], outputs: ['F'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['F', 'W', 'B'], outputs: ['Y'] },
    ],
    floatInitializers: [
      { name: 'W', dims: [16, 3], values: W },
      { name: 'B', dims: [3], values: B },
    ],
    inputs: [f('IMG', 'n', 1, 4, 4)],
    outputs: [f('Y', 'n', 3)],
  });
  const n = 5;
  const x = sampleRows(n, 16);
  const want: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) {
      let s = B[j]!;
      for (let k = 0; k < 16; k++) s += x[i * 16 + k]! * W[k * 3 + j]!;
      want.push(s);
    }
  }
  // Image size from the model's static dims, and given explicitly.
  assertClose((await onnxActivations(path, dense(n, 16, x), { layout: 'nchw', batchSize: 2 })).data, want);
  const given = await onnxActivations(path, dense(n, 16, x), { layout: 'nchw', image: { width: 4, height: 4, channels: 1 } });
  assertClose(given.data, want);
  // The same model fed the wrong way.
  await rejectsWith(onnxActivations(path, dense(n, 16, x)), 'COMPUTE_SHAPE_MISMATCH', 'nchw');
  await rejectsWith(onnxActivations(path, dense(n, 16, x), { layout: 'nchw', image: { width: 2, height: 8, channels: 1 } }), 'COMPUTE_SHAPE_MISMATCH');
  await rejectsWith(onnxActivations(path, dense(n, 15, sampleRows(n, 15)), { layout: 'nchw' }), 'COMPUTE_SHAPE_MISMATCH');
});

test('channel-last rows are transposed for nchw and reshaped as they are for nhwc', async () => {
  // Flatten alone returns the fed tensor in its memory order, so the output shows the layout.
  const flatten = (dims: number[]) =>
    writeModel(`flatten-${dims.join('x')}`, {
      name: 'flatten',
      nodes: [{ op: 'Flatten', inputs: ['IMG'], outputs: ['F'], attrs: { axis: 1 } }],
      inputs: [f('IMG', 'n', ...dims)],
      outputs: [f('F', 'n', 12)],
    });
  // One 2×3 image with 2 channels, channel-last: pixel p, channel c at p*2 + c.
  const hwc = Float32Array.from({ length: 12 }, (_, i) => (i % 2) * 100 + Math.floor(i / 2));
  const chw = await onnxActivations(await flatten([2, 2, 3]), dense(1, 12, hwc), { layout: 'nchw' });
  assert.deepEqual(Array.from(chw.data), [0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105]);
  const nhwc = await onnxActivations(await flatten([2, 3, 2]), dense(1, 12, hwc), { layout: 'nhwc' });
  assert.deepEqual(Array.from(nhwc.data), Array.from(hwc));
});

test('hostile model files: missing, a directory, empty, garbage bytes', async () => {
  const x = dense(2, 3, sampleRows(2, 3));
  await rejectsWith(onnxActivations(join(dir, 'nope.onnx'), x), 'COMPUTE_INVALID_ARGUMENT');
  const sub = join(dir, 'a-dir.onnx');
  await mkdir(sub, { recursive: true });
  await rejectsWith(onnxActivations(sub, x), 'COMPUTE_INVALID_ARGUMENT');
  const empty = join(dir, 'empty.onnx');
  await writeFile(empty, new Uint8Array(0));
  await rejectsWith(onnxActivations(empty, x), 'COMPUTE_INVALID_ARGUMENT');
  const garbage = join(dir, 'garbage.onnx');
  await writeFile(garbage, Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
  await rejectsWith(onnxActivations(garbage, x), 'COMPUTE_INVALID_ARGUMENT', 'ONNX');
  const text = join(dir, 'text.onnx');
  await writeFile(text, 'label,x\n1,2\n');
  await rejectsWith(onnxActivations(text, x), 'COMPUTE_INVALID_ARGUMENT');
});

test('mismatched data and options: wrong width, unknown output (outputs listed), bad options, non-finite input', async () => {
  const path = await writeModel('mlp-errors', mlpSpec());
  const x = dense(4, 3, sampleRows(4, 3));
  await rejectsWith(onnxActivations(path, dense(4, 5, sampleRows(4, 5))), 'COMPUTE_SHAPE_MISMATCH');
  await rejectsWith(onnxActivations(path, x, { output: 'penultimate' }), 'COMPUTE_INVALID_ARGUMENT', "'Y', 'H'");
  await rejectsWith(onnxActivations(path, x, { layout: 'nchw', image: { width: 3, height: 1, channels: 1 } }), 'COMPUTE_SHAPE_MISMATCH');
  await rejectsWith(onnxActivations(path, x, { batchSize: 0 }), 'COMPUTE_INVALID_ARGUMENT');
  await rejectsWith(onnxActivations(path, x, { layout: 'chw' as 'nchw' }), 'COMPUTE_INVALID_ARGUMENT');
  await rejectsWith(onnxActivations(path, x, { layout: 'nhwc', image: { width: 1.5, height: 2, channels: 1 } }), 'COMPUTE_INVALID_ARGUMENT');
  const bad = sampleRows(4, 3);
  bad[7] = Number.NaN;
  await rejectsWith(onnxActivations(path, dense(4, 3, bad)), 'COMPUTE_NON_FINITE');
  await rejectsWith(onnxActivations(path, { kind: 'dense', rows: 4, cols: 3, data: new Float32Array(5) }), 'COMPUTE_SHAPE_MISMATCH');
});

test('outputs that are not float, not per sample, or not finite are refused', async () => {
  const x = dense(3, 2, Float32Array.from([1, 2, 0, 3, 4, 5]));
  const cast = await writeModel('int-out', {
    name: 'cast',
    nodes: [{ op: 'Cast', inputs: ['X'], outputs: ['I'], attrs: { to: ELEM_INT64 } }],
    inputs: [f('X', 'n', 2)],
    outputs: [{ name: 'I', elemType: ELEM_INT64, dims: ['n', 2] }],
  });
  await rejectsWith(onnxActivations(cast, x), 'COMPUTE_INVALID_ARGUMENT');

  const total = await writeModel('scalar-out', {
    name: 'sum',
    nodes: [{ op: 'ReduceSum', inputs: ['X'], outputs: ['S'], attrs: { keepdims: 0 } }],
    inputs: [f('X', 'n', 2)],
    outputs: [f('S')],
  });
  await rejectsWith(onnxActivations(total, x), 'COMPUTE_SHAPE_MISMATCH');

  // log(0) = −∞ in row 1.
  const log = await writeModel('log-out', {
    name: 'log',
    nodes: [{ op: 'Log', inputs: ['X'], outputs: ['L'] }],
    inputs: [f('X', 'n', 2)],
    outputs: [f('L', 'n', 2)],
  });
  await assert.rejects(onnxActivations(log, x), (err: unknown) => err instanceof ComputeError && err.code === 'COMPUTE_NON_FINITE' && err.message.includes('row 1'));
});

test('a model that fails inside onnxruntime (a Reshape to a fixed batch of 2 fed 4 rows) is a typed runtime failure', async () => {
  const path = await writeModel('reshape', {
    name: 'reshape',
    nodes: [{ op: 'Reshape', inputs: ['X', 'S'], outputs: ['R'] }],
    initializers: [{ name: 'S', dims: [2], values: [2, 3] }],
    inputs: [f('X', 'n', 3)],
    outputs: [f('R', 2, 3)],
  });
  await rejectsWith(onnxActivations(path, dense(2, 3, sampleRows(2, 3))).then(() => onnxActivations(path, dense(4, 3, sampleRows(4, 3)))), 'COMPUTE_RUNTIME_FAILED');
});

test('a model with two inputs is refused before it runs', async () => {
  const path = await writeModel('two-inputs', {
    name: 'add',
    nodes: [{ op: 'Add', inputs: ['A', 'B'], outputs: ['C'] }],
    inputs: [f('A', 'n', 2), f('B', 'n', 2)],
    outputs: [f('C', 'n', 2)],
  });
  await rejectsWith(onnxActivations(path, dense(1, 2, Float32Array.from([1, 2]))), 'COMPUTE_INVALID_ARGUMENT');
});
