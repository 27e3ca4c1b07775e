import sharp from 'sharp';
import type { Finding } from '../core/index.ts';
import type { Dataset } from '../data/index.ts';
import type { KnnGraph } from '../compute/index.ts';
import type { SamplePreview } from './report.ts';

const TEXT_PREVIEW_CHARS = 1200;
const NEIGHBOURS_PREVIEWED = 5;

/**
 * Previews for the top findings and a few of their neighbours, so the HTML report can show a
 * reviewer the sample as a person sees it. Bounded: at most `limit` findings are previewed.
 */
export async function buildPreviews(dataset: Dataset, findings: readonly Finding[], knn: KnnGraph | null, limit: number): Promise<Record<string, SamplePreview>> {
  const wanted = new Set<number>();
  for (const f of findings.slice(0, limit)) {
    wanted.add(f.index);
    if (knn !== null) {
      for (let j = 0; j < Math.min(NEIGHBOURS_PREVIEWED, knn.k); j++) {
        const nb = knn.indices[f.index * knn.k + j];
        if (nb !== undefined && nb >= 0) wanted.add(nb);
      }
    }
  }
  const out: Record<string, SamplePreview> = {};
  for (const i of [...wanted].sort((a, b) => a - b)) out[String(i)] = await previewOf(dataset, i);
  return out;
}

async function previewOf(dataset: Dataset, i: number): Promise<SamplePreview> {
  const label = dataset.labelNames[dataset.labelCodes[i] ?? 0] ?? '';
  if (dataset.images !== null) {
    const img = dataset.images;
    const size = img.width * img.height * img.channels;
    const raw = Buffer.alloc(size);
    for (let p = 0; p < size; p++) raw[p] = Math.round(Math.min(1, Math.max(0, img.pixels[i * size + p] ?? 0)) * 255);
    const png = await sharp(raw, { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
    return { kind: 'image', label, path: img.paths[i] ?? '', pngBase64: png.toString('base64'), width: img.width, height: img.height };
  }
  if (dataset.text !== null) {
    const text = dataset.text[i] ?? '';
    return { kind: 'text', label, text: text.slice(0, TEXT_PREVIEW_CHARS), truncated: text.length > TEXT_PREVIEW_CHARS };
  }
  const values: Record<string, string | number | null> = {};
  for (const col of dataset.features.slice(0, 40)) {
    if (col.kind === 'numeric') {
      const v = col.values[i] ?? Number.NaN;
      values[col.name] = Number.isFinite(v) ? v : Number.isNaN(v) ? null : String(v);
    } else {
      values[col.name] = col.values[i] ?? null;
    }
  }
  if (dataset.embedding !== null) {
    const d = dataset.embedding.dim;
    values['embedding'] = `[${Array.from(dataset.embedding.values.subarray(i * d, i * d + Math.min(d, 6)), (v) => v.toFixed(3)).join(', ')}${d > 6 ? ', …' : ''}]`;
  }
  return { kind: 'row', label, values };
}
