import { CliError } from './errors.ts';

export const FORMATS = ['text', 'json', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export interface ScanFlags {
  label?: string;
  text?: string;
  id?: string;
  source?: string;
  embedding?: string;
  image?: string;
  ignore?: string;
  failOn?: string;
  seed?: string;
  folds?: string;
  k?: string;
  filterBy?: string;
  knnWeight?: string;
  reducedDim?: string;
  imageSize?: string;
  top?: string;
  config?: string;
  detectors?: string;
  backdoorBudget?: string;
  backdoorModel?: string;
  backdoorOutput?: string;
  backdoorLayout?: string;
}

function num(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new CliError('CLI_BAD_FLAG', `--${name} must be a number, got "${raw}"`, { hint: `for example --${name} 5` });
  return v;
}

/** Turn command-line flags into the config shape (flags win over file and environment). */
export function collectScanFlags(f: ScanFlags): Record<string, Record<string, unknown>> {
  const columns: Record<string, unknown> = {
    label: f.label,
    text: f.text,
    id: f.id,
    source: f.source,
    embedding: f.embedding,
    image: f.image,
    ignore: f.ignore?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  };
  const scan: Record<string, unknown> = {
    failOn: f.failOn,
    seed: num('seed', f.seed),
    folds: num('folds', f.folds),
    k: num('k', f.k),
    filterBy: f.filterBy,
    knnWeight: num('knn-weight', f.knnWeight),
    reducedDim: num('reduced-dim', f.reducedDim),
    top: num('top', f.top),
    detectors: f.detectors?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  };
  const data: Record<string, unknown> = { imageSize: num('image-size', f.imageSize) };
  const backdoor: Record<string, unknown> = {
    budget: f.backdoorBudget === undefined || f.backdoorBudget === 'auto' ? f.backdoorBudget : num('backdoor-budget', f.backdoorBudget),
    model: f.backdoorModel,
    representation: f.backdoorModel === undefined ? undefined : 'onnx',
    output: f.backdoorOutput,
    layout: f.backdoorLayout,
  };
  return { columns, scan, data, backdoor };
}
