// Guards against: a sketch that distorts inner products (kNN on text would then find the wrong
// neighbours) or depends on anything but the column index (non-reproducible scans).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { sketchColumns, type CsrMatrix } from './index.ts';

function randomCsr(rows: number, cols: number, nnzPerRow: number, seed: number): CsrMatrix {
  const rng = createRng(seed);
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    const set = new Set<number>();
    while (set.size < nnzPerRow) set.add(rng.int(cols));
    for (const j of [...set].sort((a, b) => a - b)) {
      indices.push(j);
      values.push(rng.normal());
    }
    indptr[i + 1] = indices.length;
  }
  return { kind: 'csr', rows, cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

test('sketch preserves row norms and inner products approximately', () => {
  const x = randomCsr(40, 1 << 18, 300, 1);
  const s = sketchColumns(x, 4096);
  const rowDot = (a: number, b: number): number => {
    let acc = 0;
    for (let j = 0; j < s.cols; j++) acc += s.data[a * s.cols + j]! * s.data[b * s.cols + j]!;
    return acc;
  };
  const exactSq = (i: number): number => {
    let acc = 0;
    for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) acc += x.values[p]! ** 2;
    return acc;
  };
  for (let i = 0; i < 40; i++) {
    const ratio = rowDot(i, i) / exactSq(i);
    assert.ok(ratio > 0.8 && ratio < 1.2, `row ${i} norm ratio ${ratio}`);
  }
  // Independent random rows are near-orthogonal before and after.
  const cos = rowDot(0, 1) / Math.sqrt(rowDot(0, 0) * rowDot(1, 1));
  assert.ok(Math.abs(cos) < 0.15, `cos ${cos}`);
});

test('sketch is deterministic and identical rows stay identical', () => {
  const x = randomCsr(5, 1000, 20, 2);
  assert.deepEqual(sketchColumns(x, 64).data, sketchColumns(x, 64).data);
  const twice: CsrMatrix = { ...x, rows: 2, indptr: Int32Array.from([0, 20, 40]), indices: Int32Array.from([...x.indices.subarray(0, 20), ...x.indices.subarray(0, 20)]), values: Float32Array.from([...x.values.subarray(0, 20), ...x.values.subarray(0, 20)]) };
  const s = sketchColumns(twice, 64);
  assert.deepEqual(s.data.subarray(0, 64), s.data.subarray(64, 128));
});
