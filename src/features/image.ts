/**
 * Image features: the reader's pixels (already decoded, resized to `imageSize` and scaled to [0, 1]
 * by the data module — resizing is a read option, not done here), one row per image.
 *
 * Each pixel is centred on its mean over the dataset. Scaling (`imageScaling`):
 * - `global` (default): divide everything by one number, the root mean square of the centred
 *   pixels. Relative pixel variances are kept, so a border pixel that is almost always black is not
 *   blown up to unit variance — per-pixel standardisation turns such pixels into noise that
 *   dominates PCA and nearest neighbours (well known on MNIST-like data).
 * - `per-pixel`: divide each pixel by its own std (std 0 → 0), as a StandardScaler would.
 * Non-finite pixels (never produced by the reader) are treated as the pixel's mean.
 */
import { dense } from '../compute/index.ts';
import type { ImageData } from '../data/index.ts';
import { FeaturesError } from './errors.ts';
import { resolveOptions } from './options.ts';
import type { FeaturizeOptions, Featurized } from './types.ts';

/** Centred, scaled pixels of n images as a dense n × (height·width·channels) matrix. */
export function featurizeImages(images: ImageData, n: number, options: FeaturizeOptions = {}): Featurized {
  const opt = resolveOptions(options);
  const { width, height, channels, pixels } = images;
  const d = width * height * channels;
  if (!Number.isSafeInteger(d) || d <= 0 || pixels.length !== n * d) {
    throw new FeaturesError('FEATURES_BAD_INPUT', `image pixels: expected ${n} × ${height}×${width}×${channels} values, got ${pixels.length}`, {
      hint: 'the image reader must decode every image to the same size',
    });
  }
  const sum = new Float64Array(d);
  const count = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const v = pixels[base + j] ?? Number.NaN;
      if (Number.isFinite(v)) {
        sum[j] = (sum[j] ?? 0) + v;
        count[j] = (count[j] ?? 0) + 1;
      }
    }
  }
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) mean[j] = (count[j] ?? 0) > 0 ? (sum[j] ?? 0) / (count[j] ?? 1) : 0;
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const v = pixels[base + j] ?? Number.NaN;
      if (Number.isFinite(v)) {
        const c = v - (mean[j] ?? 0);
        sq[j] = (sq[j] ?? 0) + c * c;
      }
    }
  }
  const inv = new Float64Array(d);
  let total = 0;
  for (let j = 0; j < d; j++) total += n > 0 ? (sq[j] ?? 0) / n : 0;
  const globalStd = Math.sqrt(total / d);
  for (let j = 0; j < d; j++) {
    const std = opt.imageScaling === 'global' ? globalStd : n > 0 ? Math.sqrt((sq[j] ?? 0) / n) : 0;
    inv[j] = std > 1e-12 ? 1 / std : 0;
  }
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const v = pixels[base + j] ?? Number.NaN;
      data[base + j] = Number.isFinite(v) ? (v - (mean[j] ?? 0)) * (inv[j] ?? 0) : 0;
    }
  }
  return {
    matrix: dense(n, d, data),
    kind: 'image',
    featureNames: [],
    info: { width, height, channels, scaling: opt.imageScaling, globalStd },
  };
}
