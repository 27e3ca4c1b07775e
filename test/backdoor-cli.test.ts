// Guards against: the backdoor pipeline not running end to end from the command line — planting a
// BadNets patch with `redteam inject`, then `scan --detectors spectre` finding the poisoned class,
// flagging the planted rows and localising the patch; a user's ONNX model not being used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../src/core/index.ts';
import { ELEM_FLOAT, encodeModel } from '../src/compute/index.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tg-backdoor-'));
const SIDE = 16;
const ROWS = 2400;

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/trainguard.js'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * 2,400 grey 16×16 "images" of three shapes (a bar, a ring, a cross), each drawn at a random offset
 * of up to ±3 px with random brightness and noise, values 0..255: images of one class differ from
 * each other by more than a 3×3 patch does, as in real data. The bottom-right corner stays dark.
 */
function writeShapes(path: string): void {
  const rng = createRng(5);
  const lines = [['id', 'label', ...Array.from({ length: SIDE * SIDE }, (_, j) => `px${j}`)].join(',')];
  for (let i = 0; i < ROWS; i++) {
    const c = i % 3;
    const dx = rng.int(7) - 3;
    const dy = rng.int(7) - 3;
    const bright = 150 + rng.int(100);
    const px: number[] = [];
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const u = x - 7.5 - dx;
        const v = y - 7.5 - dy;
        const on = c === 0 ? Math.abs(u) <= 1.5 && Math.abs(v) <= 5 : c === 1 ? Math.abs(Math.hypot(u, v) - 4) < 1.2 : (Math.abs(u) <= 1 && Math.abs(v) <= 5) || (Math.abs(v) <= 1 && Math.abs(u) <= 5);
        const corner = x >= SIDE - 3 && y >= SIDE - 3;
        px.push(corner ? 0 : Math.max(0, Math.min(255, Math.round((on ? bright : 20) + 15 * rng.normal()))));
      }
    }
    lines.push([`r${i}`, ['bar', 'ring', 'cross'][c]!, ...px].join(','));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

interface Report {
  summary: { detectors: Record<string, { poisonedClasses?: string[]; representation?: { source: string }; triggers?: { class: string; kind: string; box: { x: number; y: number } | null }[] }> };
  findings: { index: number; detector: string; code: string }[];
  samples: { index: number; externalId: string | null }[];
}

test('redteam inject badnets → scan --detectors spectre finds the class, the rows and the patch', () => {
  writeShapes(join(dir, 'shapes.csv'));
  const inject = cli(['redteam', 'inject', 'shapes.csv', '--attack', 'badnets', '--rate', '0.05', '--target', 'ring', '--seed', '3', '-o', 'poisoned.csv', '--truth', 'truth.json']);
  assert.equal(inject.code, 0, inject.stderr);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { planted: { id: string }[] };
  const planted = new Set(truth.planted.map((s) => s.id));
  assert.equal(planted.size, 120);
  const scan = cli(['scan', 'poisoned.csv', '--detectors', 'label-issues,spectre', '--format', 'json', '-q', '--fail-on', 'critical']);
  assert.equal(scan.code, 0, scan.stderr);
  const report = JSON.parse(scan.stdout) as Report;
  const spectre = report.summary.detectors['spectre']!;
  assert.deepEqual(spectre.poisonedClasses, ['ring']);
  assert.equal(spectre.representation?.source, 'mlp');
  const flagged = new Set(report.findings.filter((f) => f.detector === 'spectre').map((f) => report.samples[f.index]!.externalId));
  let hit = 0;
  for (const id of planted) if (flagged.has(id)) hit++;
  assert.ok(hit / planted.size >= 0.9, `recall ${hit}/${planted.size}`);
  const trigger = report.summary.detectors['image-triggers']?.triggers?.[0];
  assert.equal(trigger?.class, 'ring');
  assert.equal(trigger?.kind, 'local');
  assert.ok(trigger?.box !== null && trigger!.box.x >= SIDE - 4 && trigger!.box.y >= SIDE - 4, JSON.stringify(trigger?.box));
});

test('scan --backdoor-model takes the representation from a user ONNX model', () => {
  // A fixed random 256→16 ReLU layer exposed as output "H".
  const rng = createRng(9);
  const w = Float32Array.from({ length: SIDE * SIDE * 16 }, () => rng.normal() / 10);
  const model = encodeModel({
    name: 'features',
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W'], outputs: ['Z'] },
      { op: 'Relu', inputs: ['Z'], outputs: ['H'] },
    ],
    floatInitializers: [{ name: 'W', dims: [SIDE * SIDE, 16], values: w }],
    inputs: [{ name: 'X', elemType: ELEM_FLOAT, dims: ['n', SIDE * SIDE] }],
    outputs: [{ name: 'H', elemType: ELEM_FLOAT, dims: ['n', 16] }],
  });
  writeFileSync(join(dir, 'features.onnx'), model);
  writeShapes(join(dir, 'clean.csv'));
  const scan = cli(['scan', 'clean.csv', '--detectors', 'spectre', '--backdoor-model', 'features.onnx', '--backdoor-output', 'H', '--format', 'json', '-q']);
  assert.equal(scan.code, 0, scan.stderr);
  const report = JSON.parse(scan.stdout) as Report;
  assert.equal(report.summary.detectors['spectre']?.representation?.source, 'onnx');
  // Clean data: no class is called backdoored.
  assert.deepEqual(report.summary.detectors['spectre']?.poisonedClasses, []);
  const bad = cli(['scan', 'clean.csv', '--detectors', 'spectre', '--backdoor-model', 'features.onnx', '--backdoor-output', 'nope', '-q']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /COMPUTE_INVALID_ARGUMENT/);
  assert.match(bad.stderr, /'H'/);
});
