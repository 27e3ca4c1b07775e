// Guards against: the ORT Gemm path disagreeing with plain loops (wrong transpose flags, row-major
// mix-ups, odd sizes, subarray views), row selection copying the wrong rows of CSR data, and the
// TypeScript fallback being taken silently wrong when the runtime is unavailable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { ComputeError, computeBackendInfo, configureCompute, dense, l2NormalizeRows, matmul, matmulReference, selectRows } from './index.ts';
import type { CsrMatrix, DenseMatrix } from './index.ts';

const rng = createRng(7);
const rand = (r: number, c: number): DenseMatrix => dense(r, c, Float32Array.from({ length: r * c }, () => rng.normal()));

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let e = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return e / scale;
}

test('ORT matmul matches the reference on odd shapes and every transpose combination', async () => {
  assert.equal((await computeBackendInfo()).backend, 'onnxruntime');
  for (const [m, k, n] of [[67, 131, 97], [1, 300, 513], [129, 257, 3], [64, 64, 64]] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = transA ? rand(k, m) : rand(m, k);
        const b = transB ? rand(n, k) : rand(k, n);
        const got = await matmul(a, b, { transA, transB });
        const want = matmulReference(a, b, { transA, transB });
        assert.deepEqual([got.rows, got.cols], [m, n]);
        assert.ok(maxRelErr(got.data, want.data) < 1e-5, `${m}×${k}×${n} tA=${transA} tB=${transB}`);
      }
    }
  }
});

test('matmulReference computes a hand-worked product', () => {
  const a = dense(2, 3, Float32Array.of(1, 2, 3, 4, 5, 6));
  const b = dense(3, 2, Float32Array.of(7, 8, 9, 10, 11, 12));
  assert.deepEqual(Array.from(matmulReference(a, b).data), [58, 64, 139, 154]);
  assert.deepEqual(Array.from(matmulReference(a, a, { transB: true }).data), [14, 32, 32, 77]);
  assert.deepEqual(Array.from(matmulReference(a, a, { transA: true }).data), [17, 22, 27, 22, 29, 36, 27, 36, 45]);
});

test('matmul rejects mismatched inner dimensions with a typed error', async () => {
  await assert.rejects(matmul(rand(3, 4), rand(5, 6)), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_SHAPE_MISMATCH');
});

test('matmul accepts subarray views (ORT must honour byteOffset)', async () => {
  const big = rand(300, 200);
  const view = dense(100, 200, big.data.subarray(100 * 200, 200 * 200));
  const b = rand(200, 150);
  assert.ok(maxRelErr((await matmul(view, b)).data, matmulReference(view, b).data) < 1e-5);
});

test('the TypeScript backend gives the same product when forced', async () => {
  const a = rand(90, 120);
  const b = rand(120, 70);
  const viaOrt = await matmul(a, b);
  configureCompute({ backend: 'typescript' });
  try {
    assert.equal((await computeBackendInfo()).backend, 'typescript');
    const viaTs = await matmul(a, b);
    assert.ok(maxRelErr(viaTs.data, viaOrt.data) < 1e-5);
  } finally {
    configureCompute({ backend: 'auto' });
  }
});

test('selectRows copies dense and CSR rows in the requested order', () => {
  const x = dense(3, 2, Float32Array.of(1, 2, 3, 4, 5, 6));
  assert.deepEqual(Array.from(selectRows(x, Int32Array.of(2, 0, 2)).data), [5, 6, 1, 2, 5, 6]);
  const csr: CsrMatrix = {
    kind: 'csr',
    rows: 3,
    cols: 5,
    indptr: Int32Array.of(0, 2, 2, 3),
    indices: Int32Array.of(0, 4, 2),
    values: Float32Array.of(1, 2, 3),
  };
  const s = selectRows(csr, Int32Array.of(2, 1, 0));
  assert.deepEqual(Array.from(s.indptr), [0, 1, 1, 3]);
  assert.deepEqual(Array.from(s.indices), [2, 0, 4]);
  assert.deepEqual(Array.from(s.values), [3, 1, 2]);
  assert.throws(() => selectRows(x, Int32Array.of(3)), (e: unknown) => e instanceof ComputeError && e.code === 'COMPUTE_INVALID_ARGUMENT');
});

test('l2NormalizeRows gives unit rows and leaves zero rows at zero', () => {
  const x = l2NormalizeRows(dense(2, 2, Float32Array.of(3, 4, 0, 0)));
  assert.deepEqual(Array.from(x.data), [0.6000000238418579, 0.800000011920929, 0, 0]);
});
