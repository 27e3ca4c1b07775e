import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Config } from '../config/index.ts';
import { readDataset } from '../data/index.ts';
import { BASELINE_SCHEMA, BASELINE_VERSION, DetectorError, buildBaseline, type Baseline, type BaselineOptions } from '../detectors/index.ts';

/** Baseline files larger than this are refused (a 2,000-row sample is a few MB at most). */
const MAX_BASELINE_BYTES = 256 * 1024 ** 2;

/** Use case `baseline create`: read trusted data, summarise it, write the baseline JSON. */
export async function createBaselineFile(path: string, config: Config, out: string, options: BaselineOptions = {}): Promise<Baseline> {
  const dataset = await readDataset(path, {
    columns: Object.fromEntries(Object.entries(config.columns).filter(([, v]) => v !== undefined)),
    ...(config.data.imageSize === undefined ? {} : { imageSize: config.data.imageSize }),
    ...(config.data.imageGrey === undefined ? {} : { imageGrey: config.data.imageGrey }),
    maxLineBytes: config.data.maxLineBytes,
    maxBytes: config.data.maxBytes,
  });
  const baseline = buildBaseline(dataset, { seed: config.scan.seed, ...options });
  await writeFile(out, `${JSON.stringify(baseline)}\n`);
  return baseline;
}

function bad(path: string, message: string): DetectorError {
  return new DetectorError('DETECTOR_BAD_INPUT', `baseline: ${message}`, { file: path, hint: 'create it with `trainguard baseline create <trusted data> -o baseline.json`' });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => isNum(v) && Number.isSafeInteger(v) && v >= 0;

/** Read and validate a baseline file; hostile or damaged JSON gives a DetectorError, never a crash later. */
export async function loadBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw bad(path, 'not a file');
    if (s.size > MAX_BASELINE_BYTES) throw bad(path, `file is larger than ${MAX_BASELINE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof DetectorError) throw err;
    throw bad(path, `cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad(path, 'not valid JSON');
  }
  validateBaseline(json, path);
  return json;
}

/** Structural check of a parsed baseline (every field the drift detector reads). */
export function validateBaseline(v: unknown, path = '<baseline>'): asserts v is Baseline {
  if (!isObj(v)) throw bad(path, 'not a JSON object');
  if (v.schema !== BASELINE_SCHEMA) throw bad(path, `schema must be "${BASELINE_SCHEMA}"`);
  if (v.version !== BASELINE_VERSION) throw bad(path, `unsupported version ${String(v.version)} (expected ${BASELINE_VERSION})`);
  const src = v.source;
  if (!isObj(src) || typeof src.path !== 'string' || typeof src.format !== 'string' || !isCount(src.rows)) throw bad(path, 'source must be {path, format, rows}');
  if (!Array.isArray(v.columns) || !v.columns.every((c) => isObj(c) && typeof c.name === 'string' && typeof c.role === 'string')) throw bad(path, 'columns must be [{name, role}]');
  if (!(v.textColumn === null || typeof v.textColumn === 'string')) throw bad(path, 'textColumn must be a string or null');
  if (!(v.embeddingDim === null || isCount(v.embeddingDim))) throw bad(path, 'embeddingDim must be a count or null');
  if (!Array.isArray(v.features)) throw bad(path, 'features must be an array');
  const kinds: string[] = [];
  for (const f of v.features as unknown[]) {
    if (!isObj(f) || typeof f.name !== 'string' || !isCount(f.missing)) throw bad(path, 'each feature needs a name and a missing count');
    kinds.push(String(f.kind));
    if (f.kind === 'numeric') {
      checkNumericHistogram(f, path);
    } else if (f.kind === 'categorical') {
      if (!Array.isArray(f.values) || !f.values.every((x) => isObj(x) && typeof x.value === 'string' && isCount(x.count)) || !isCount(f.other)) {
        throw bad(path, `feature ${f.name}: values must be [{value, count}] with an other count`);
      }
    } else throw bad(path, `feature ${f.name}: kind must be numeric or categorical`);
  }
  const labels = v.labels;
  if (!isObj(labels) || !Array.isArray(labels.names) || !labels.names.every((x) => typeof x === 'string') || !Array.isArray(labels.counts) || labels.counts.length !== labels.names.length || !labels.counts.every(isCount)) {
    throw bad(path, 'labels must be {names, counts} of equal length');
  }
  const sample = v.sample;
  if (!isObj(sample) || !isNum(sample.seed) || !Array.isArray(sample.rows) || !sample.rows.every((r) => isObj(r) && typeof r.label === 'string' && Array.isArray(r.features))) {
    throw bad(path, 'sample must be {seed, rows: [{label, features}]}');
  }
  // The scan featurizes these rows beside the batch, so every value must have the feature's type.
  const dim = v.embeddingDim;
  (sample.rows as Record<string, unknown>[]).forEach((r, j) => {
    const values = r.features as unknown[];
    if (values.length !== kinds.length) throw bad(path, `sample row ${j}: ${values.length} feature values for ${kinds.length} features`);
    values.forEach((x, c) => {
      const ok = x === null || (kinds[c] === 'numeric' ? isNum(x) : typeof x === 'string');
      if (!ok) throw bad(path, `sample row ${j}: value ${c} must be ${kinds[c] === 'numeric' ? 'a finite number' : 'a string'} or null`);
    });
    if (r.text !== undefined && typeof r.text !== 'string') throw bad(path, `sample row ${j}: text must be a string`);
    if (r.embedding !== undefined && !(Array.isArray(r.embedding) && r.embedding.length === dim && r.embedding.every(isNum))) {
      throw bad(path, `sample row ${j}: embedding must be ${String(dim)} finite numbers`);
    }
  });
  // Optional (added after version 1 shipped): baselines without it still load.
  if (v.textLength !== undefined) {
    const t = v.textLength;
    if (!isObj(t) || t.kind !== 'numeric' || typeof t.name !== 'string' || !isCount(t.missing)) throw bad(path, 'textLength must be a numeric histogram {kind, name, edges, counts, missing, min, max}');
    checkNumericHistogram(t, path);
  }
}

function checkNumericHistogram(f: Record<string, unknown>, path: string): void {
  const name = String(f.name);
  const edges = f.edges;
  if (!Array.isArray(edges) || !edges.every(isNum) || edges.some((e, i) => i > 0 && !(e > (edges[i - 1] as number)))) throw bad(path, `feature ${name}: edges must be ascending finite numbers`);
  if (!Array.isArray(f.counts) || f.counts.length !== Math.max(1, edges.length - 1) + 2 || !f.counts.every(isCount)) throw bad(path, `feature ${name}: counts must be ${Math.max(1, edges.length - 1) + 2} counts`);
  if (!(f.min === null || isNum(f.min)) || !(f.max === null || isNum(f.max))) throw bad(path, `feature ${name}: min/max must be numbers or null`);
}
