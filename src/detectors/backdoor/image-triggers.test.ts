// Guards against: a BadNets patch that the report cannot point at (wrong or missing box), poisoned
// rows the representation detectors missed staying unflagged, a blend or a natural sub-style of a
// class reported as a local patch (every row that looks like it flagged high), and pixel columns of
// a CSV not recognised as an image (or ten ordinary columns taken for one).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createRng } from '../../core/index.ts';
import type { Dataset, ImageData, NumericColumn } from '../../data/index.ts';
import { DetectorError } from '../errors.ts';
import { makeContext } from '../test-fixtures.ts';
import { BACKDOOR_TRIGGER_CARRIER_CODE, IMAGE_TRIGGERS_DETECTOR, findImageTriggers, localizeTrigger, pixelImage } from './image-triggers.ts';

const W = 12;
const P = W * W;
// 3×3 checkerboard-like patch (lit and dark cells), as the BadNets simulator stamps it.
const PATCH = [1, 0, 1, 0, 1, 1, 1, 0, 0];

interface Synthetic {
  readonly image: ImageData;
  readonly labels: Int32Array;
  /** Rows carrying the trigger. */
  readonly poisoned: number[];
}

/**
 * 400 rows, classes 0 and 1 (200 each), grey noise in [0,1]. `stamp` is applied to rows 0..k-1 of
 * class 0 (rows 0, 2, 4, ... are class 0).
 */
function synthetic(k: number, stamp: (px: Float32Array, at: number) => void, seed = 1, background: (x: number, y: number) => boolean = () => false): Synthetic {
  const n = 400;
  const r = createRng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const pixels = new Float32Array(n * P);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < P; p++) pixels[i * P + p] = background(p % W, Math.floor(p / W)) ? 0 : r.next();
  }
  const poisoned = Array.from({ length: k }, (_, j) => 2 * j);
  for (const i of poisoned) stamp(pixels, i * P);
  return { image: { width: W, height: W, channels: 1, pixels, paths: [] }, labels, poisoned };
}

function stampPatch(px: Float32Array, at: number, x0 = 9, y0 = 9): void {
  for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) px[at + (y0 + dy) * W + x0 + dx] = PATCH[dy * 3 + dx]!;
}

function rowsOf(labels: Int32Array, c: number): number[] {
  return [...labels.keys()].filter((i) => labels[i] === c);
}

function datasetOf(s: Synthetic): Dataset {
  return { ...makeContext({ labels: s.labels, numClasses: 2 }).dataset, images: s.image };
}

describe('localizeTrigger', () => {
  it('finds a 3×3 corner patch stamped on 30 of 200 rows, box and carriers exact', () => {
    const s = synthetic(30, (px, at) => stampPatch(px, at));
    const inM = new Set(s.poisoned);
    const rest = rowsOf(s.labels, 0).filter((i) => !inM.has(i));
    const t = localizeTrigger(s.image, 'class0', s.poisoned, rest, rowsOf(s.labels, 1));
    assert.ok(t !== null);
    assert.equal(t.kind, 'local');
    assert.deepEqual(t.box, { x: 9, y: 9, width: 3, height: 3 });
    assert.deepEqual(t.carriers, s.poisoned);
    assert.equal(t.members, 30);
    assert.equal(t.mask.length, P);
    assert.equal(t.pattern.length, P);
    assert.ok(t.mask.every((v) => v >= 0 && v <= 1));
    // The pattern shows the patch: members' mean is exactly the stamped value inside the box.
    assert.equal(t.pattern[9 * W + 9], 1);
    assert.equal(t.pattern[9 * W + 10], 0);
    assert.ok(t.separation > 0.8 && t.contrast >= 3, `separation ${t.separation}, contrast ${t.contrast}`);
  });

  it('still finds it when the flagged set misses a quarter of the poisons and a third of it is clean rows', () => {
    const s = synthetic(40, (px, at) => stampPatch(px, at, 0, 0), 2);
    const found = s.poisoned.slice(0, 30);
    const clean = rowsOf(s.labels, 0).filter((i) => !s.poisoned.includes(i));
    const members = [...found, ...clean.slice(0, 15)];
    const inM = new Set(members);
    const t = localizeTrigger(s.image, 'class0', members, rowsOf(s.labels, 0).filter((i) => !inM.has(i)), rowsOf(s.labels, 1));
    assert.equal(t?.kind, 'local');
    assert.deepEqual(t.box, { x: 0, y: 0, width: 3, height: 3 });
    // Every stamped row is a carrier, the 10 the detectors missed included, and no clean row.
    assert.deepEqual(t.carriers, s.poisoned);
  });

  it('calls a blended full-image pattern diffuse, with no box and no carriers', () => {
    // Objects in the middle 6×6, plain background: the blend shows in the background of every member.
    const r = createRng(9);
    const pattern = Array.from({ length: P }, () => r.next());
    const object = (x: number, y: number): boolean => x < 3 || x > 8 || y < 3 || y > 8;
    const s = synthetic(30, (px, at) => {
      for (let p = 0; p < P; p++) px[at + p] = 0.8 * px[at + p]! + 0.2 * pattern[p]!;
    }, 3, object);
    const inM = new Set(s.poisoned);
    const t = localizeTrigger(s.image, 'class0', s.poisoned, rowsOf(s.labels, 0).filter((i) => !inM.has(i)), rowsOf(s.labels, 1));
    assert.ok(t !== null);
    assert.equal(t.kind, 'diffuse');
    assert.equal(t.box, null);
    assert.deepEqual(t.carriers, []);
    // Diffuse because the difference is everywhere, not because there is none.
    assert.ok(t.separation > 0.8, `separation ${t.separation}`);
  });

  it('calls a random flagged set of clean rows diffuse', () => {
    const s = synthetic(0, () => undefined, 4);
    const cls = rowsOf(s.labels, 0);
    const t = localizeTrigger(s.image, 'class0', cls.slice(0, 30), cls.slice(30), rowsOf(s.labels, 1));
    assert.equal(t?.kind, 'diffuse');
    assert.equal(t.box, null);
  });

  it('returns null for fewer than 5 members', () => {
    const s = synthetic(4, (px, at) => stampPatch(px, at));
    assert.equal(localizeTrigger(s.image, 'class0', s.poisoned, rowsOf(s.labels, 0).slice(10)), null);
  });

  it('rejects rows outside the image data and impossible shapes', () => {
    const s = synthetic(0, () => undefined);
    assert.throws(
      () => localizeTrigger(s.image, 'c', [0, 2, 4, 6, 8000], [1, 3, 5, 7, 9]),
      (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT',
    );
    assert.throws(
      () => localizeTrigger({ ...s.image, width: 7 }, 'c', [0], [1]),
      (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT',
    );
  });
});

describe('findImageTriggers', () => {
  it('flags every carrier of a local trigger, flagged by the detectors or not, and scores other rows low', () => {
    const s = synthetic(30, (px, at) => stampPatch(px, at));
    const flagged = s.poisoned.slice(0, 24);
    const ds = datasetOf(s);
    const { result, triggers } = findImageTriggers(ds, new Map([[0, flagged]]));
    assert.equal(triggers.length, 1);
    assert.equal(triggers[0]!.class, 'class0');
    assert.deepEqual(result.summary, { triggers });
    assert.equal(result.scores.length, ds.n);
    assert.ok(result.scores.every((v) => v >= 0 && v <= 1));
    assert.deepEqual(result.findings.map((f) => f.index).sort((a, b) => a - b), s.poisoned);
    for (const f of result.findings) {
      assert.equal(f.detector, IMAGE_TRIGGERS_DETECTOR);
      assert.equal(f.code, BACKDOOR_TRIGGER_CARRIER_CODE);
      assert.equal(f.severity, 'high');
      assert.equal(f.sampleId, `id-${f.index}`);
      assert.ok(f.score >= 0.5);
      assert.deepEqual(f.evidence['box'], { x: 9, y: 9, width: 3, height: 3 });
      assert.equal(f.evidence['class'], 'class0');
      assert.equal(f.evidence['flaggedByDetectors'], flagged.includes(f.index));
      assert.equal(typeof f.evidence['distance'], 'number');
    }
    const carriers = new Set(s.poisoned);
    for (let i = 0; i < ds.n; i++) if (!carriers.has(i)) assert.ok(result.scores[i]! < 0.5, `row ${i} scores ${result.scores[i]}`);
  });

  it('gives an empty result for data without pixels', () => {
    const ds = makeContext({ labels: Int32Array.from({ length: 20 }, (_, i) => i % 2), numClasses: 2 }).dataset;
    const { result, triggers } = findImageTriggers(ds, new Map([[0, [0, 2, 4, 6, 8, 10]]]));
    assert.deepEqual(triggers, []);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.summary, { triggers: [] });
    assert.ok(result.scores.every((v) => v === 0));
  });

  it('rejects a row flagged under a class it is not labelled, and unknown class codes', () => {
    const ds = datasetOf(synthetic(0, () => undefined));
    const bad = (e: unknown): boolean => e instanceof DetectorError && e.code === 'DETECTOR_BAD_INPUT';
    assert.throws(() => findImageTriggers(ds, new Map([[0, [0, 1]]])), bad);
    assert.throws(() => findImageTriggers(ds, new Map([[5, [0]]])), bad);
    assert.throws(() => findImageTriggers(ds, new Map([[0, [-1]]])), bad);
  });
});

describe('pixelImage', () => {
  const numeric = (name: string, values: number[]): NumericColumn => ({ kind: 'numeric', name, values: Float64Array.from(values) });

  it('reads 144 numeric columns of 0..255 as a 12×12 grey image scaled to [0,1]', () => {
    const n = 3;
    const features = Array.from({ length: P }, (_, j) => numeric(`px${j}`, [j % 256, 255, j === 5 ? Number.NaN : 0]));
    const ds: Dataset = { ...makeContext({ labels: new Int32Array(n), numClasses: 1 }).dataset, features };
    const img = pixelImage(ds);
    assert.ok(img !== null);
    assert.deepEqual([img.width, img.height, img.channels, img.pixels.length], [12, 12, 1, n * P]);
    assert.ok(Math.abs(img.pixels[10]! - 10 / 255) < 1e-6);
    assert.equal(img.pixels[P + 7], 1);
    assert.equal(img.pixels[2 * P + 5], 0, 'a missing pixel reads as background');
  });

  it('keeps 0..1 values as they are', () => {
    const features = Array.from({ length: 64 }, (_, j) => numeric(`f${j}`, [j / 128]));
    const img = pixelImage({ ...makeContext({ labels: new Int32Array(1), numClasses: 1 }).dataset, features });
    assert.ok(img !== null && img.width === 8);
    assert.ok(Math.abs(img.pixels[32]! - 0.25) < 1e-6);
  });

  it('returns null for ordinary tabular data and for too few columns', () => {
    const base = makeContext({ labels: new Int32Array(2), numClasses: 1 }).dataset;
    assert.equal(pixelImage({ ...base, features: Array.from({ length: 10 }, (_, j) => numeric(`f${j}`, [1, 2])) }), null);
    assert.equal(pixelImage({ ...base, features: Array.from({ length: 9 }, (_, j) => numeric(`f${j}`, [1, 2])) }), null, '3×3 is not an image');
    assert.equal(pixelImage(base), null);
  });

  it('averages decoded colour images to grey', () => {
    const pixels = Float32Array.from({ length: 2 * 4 * 3 }, (_, k) => (k % 3) / 2);
    const ds: Dataset = { ...makeContext({ labels: new Int32Array(2), numClasses: 1 }).dataset, images: { width: 2, height: 2, channels: 3, pixels, paths: ['a', 'b'] } };
    const img = pixelImage(ds);
    assert.ok(img !== null);
    assert.equal(img.channels, 1);
    assert.deepEqual(Array.from(img.pixels), new Array(8).fill(0.5));
  });
});
