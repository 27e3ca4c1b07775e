/**
 * Image triggers: where in the picture do the samples the backdoor detectors flagged differ from the
 * rest of their class, what does that region look like, and which other rows of the class carry it
 * (research/detection.md §2, "per-pixel statistics of the flagged cluster against the rest of its
 * class").
 *
 * 1. Mask. A stamped patch is the same grey value, at the same pixel, in every poisoned sample, and
 *    rare there in clean data. So per pixel: slide a window of grey levels (width 0.06) and take the
 *    largest excess share = (share of flagged members inside it) − max(share of the rest of the
 *    class, share of the other classes). It is in [0,1] as it stands (not rescaled to its peak, so a
 *    weak mask looks weak), and it is robust where means are not: with half the flagged set clean,
 *    a trigger pixel still scores ≈ 0.5 while the members' mean and variance are ruined. Comparing
 *    with the other classes matters: all-to-one poisons come from other classes, so the members
 *    share those classes' look (a trouser's empty shoulders) as well as the trigger.
 * 2. Region. From the peak pixel, grow through pixels with mask ≥ max(0.5·peak, 3/√members) (chance
 *    level), linking pixels up to 2 apart (a BadNets checkerboard's lit cells need not touch). The
 *    trigger is 'local' with that bounding box when the peak clears chance, the box covers ≤ 10 %
 *    of the image, and the region stands out: its mean mask ≥ 3× the largest mask value farther
 *    than 2 pixels from the box. Otherwise — a blend (it covers the image), a natural sub-style of
 *    the class that the detectors clustered (its mask fades out gradually), or nothing — 'diffuse',
 *    no box, no carriers.
 * 3. Carriers (local only). Template = the members' mean value inside each pixel's shared window;
 *    each row of the class is scored by its mask-weighted mean |x − template| over the box. A row
 *    within min(0.06, half the class's typical distance) carries the trigger — including poisoned
 *    rows the representation detectors missed.
 *
 * Measured on Fashion-MNIST (20k, BadNets 3×3 corner patch, 1–5 % poison; /tmp-scripts in the
 * report): box exact and carriers precision = recall = 1.0 while ≥ half the flagged set is poisoned;
 * no local trigger for random or clustered flagged sets of clean classes; a blend is 'diffuse'.
 * Limits: a patch at a random position per sample has no fixed pixel and is not localised; the
 * statistic works on grey values (a colour trigger is seen through its luminance).
 *
 * Pure: no I/O, deterministic; one pass over the data for the grey-level histograms, then
 * O(members + pixels·256) per class.
 */
import type { Finding } from '../../core/index.ts';
import type { Dataset, ImageData } from '../../data/index.ts';
import type { DetectorResult } from '../detector.ts';
import { DetectorError } from '../errors.ts';
import { round6 } from '../numbers.ts';

export const IMAGE_TRIGGERS_DETECTOR = 'image-triggers';
export const BACKDOOR_TRIGGER_CARRIER_CODE = 'BACKDOOR_TRIGGER_CARRIER';

export interface TriggerBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface TriggerLocalization {
  /** The class the flagged samples are labelled. */
  readonly class: string;
  readonly width: number;
  readonly height: number;
  /**
   * height×width values in [0,1], row-major: how strongly each pixel separates the flagged samples
   * from the rest of their class (the excess share of flagged samples that share one grey value there).
   */
  readonly mask: number[];
  /** Bounding box of the strong region of the mask, or null when the difference is diffuse (e.g. a blended pattern). */
  readonly box: TriggerBox | null;
  /** The flagged samples' mean grey value per pixel (height×width, [0,1]): what the trigger looks like. */
  readonly pattern: number[];
  /** Flagged samples used. */
  readonly members: number;
  readonly kind: 'local' | 'diffuse';
  /** Rows of the class (flagged or not) whose pixels inside the box match the trigger pattern (only for 'local'). */
  readonly carriers: number[];
  /** The mask's maximum: the largest excess share of flagged samples sharing one grey value at one pixel. */
  readonly separation: number;
  /** How far the strongest region stands out: its mean mask over the largest mask value away from it (local needs ≥ 3). */
  readonly contrast: number;
}

/** Fewer flagged members than this and a per-pixel mean says nothing. */
export const MIN_MEMBERS = 5;
/** Distances below this (2 % of the grey range; one uint8 step is 0.4 %) are noise. */
const NOISE_FLOOR = 0.02;
/** Width of the grey-level window a shared value is counted in (±0.03: about ±8 uint8 steps, room for resampling and JPEG noise). */
const WINDOW = 0.06;
/** Grey levels the window slides over. */
const BINS = 256;
/** Smallest excess share (members in the window minus the rest) of a pixel that counts, before the member-count term. */
const MIN_EXCESS = 0.1;
/**
 * Chance excess is about 2/√members at the luckiest pixel (random flagged sets of 5–400 clean
 * Fashion-MNIST images, every class); a trigger pixel needs 3/√members, capped at MAX_EXCESS so
 * that 5 identical carriers (excess ≈ 1) still count.
 */
const NOISE_MULTIPLE = 3;
const MAX_EXCESS = 0.9;

/** The excess share a pixel needs to count as part of a trigger, given the member count. */
function minExcess(members: number): number {
  return Math.min(MAX_EXCESS, Math.max(MIN_EXCESS, NOISE_MULTIPLE / Math.sqrt(members)));
}
/** Mask level of a strong pixel, relative to the peak. */
const STRONG = 0.5;
/** Strong pixels at most this far apart (Chebyshev) belong to one region. */
const LINK = 2;
/** A local trigger's box covers at most this share of the image. */
const MAX_BOX_SHARE = 0.1;
/**
 * ... and stands out: its strong pixels' mean mask is at least this multiple of the largest mask
 * value away from it. A stamped trigger is shared by every carrier and nothing else (contrast 10+ on
 * Fashion-MNIST even with half the flagged set clean); a natural sub-style of a class (the flagged
 * set a coherent cluster of clean images) fades out gradually (contrast ≤ 2 on every class).
 */
const MIN_CONTRAST = 3;
/** Mask values below this count as zero in the contrast's denominator. */
const CONTRAST_FLOOR = 0.01;
/** A carrier's distance to the template is at most WINDOW (its pixels sit in the shared window) and this share of the rest's median distance. */
const CARRIER_SHARE = 0.5;
/** Smallest square side taken for pixel columns of a table (a 3×3 "image" is just 9 features). */
const MIN_SIDE = 8;
/** Mask and pattern values are rounded to 3 decimals in the summary: they are drawn, not computed on. */
const DRAW_DECIMALS = 1e3;

const badInput = (why: string, hint: string): DetectorError => new DetectorError('DETECTOR_BAD_INPUT', `image-triggers: ${why}`, { hint });

/**
 * A grey view of the dataset's pixels: its decoded images (colour averaged to grey), or the numeric
 * feature columns of a table when there are k² of them (k ≥ 8), in column order, scaled to [0,1] by
 * the range of all their values (0–255 becomes /255, 0–1 stays). Null when neither applies.
 * `paths` is empty for tables.
 */
export function pixelImage(dataset: Dataset): ImageData | null {
  const img = dataset.images;
  if (img !== null) {
    if (img.channels === 1) return img;
    const p = img.width * img.height;
    const n = Math.floor(img.pixels.length / (p * 3));
    const grey = new Float32Array(n * p);
    for (let i = 0; i < n * p; i++) grey[i] = (img.pixels[3 * i]! + img.pixels[3 * i + 1]! + img.pixels[3 * i + 2]!) / 3;
    return { width: img.width, height: img.height, channels: 1, pixels: grey, paths: img.paths };
  }
  const cols = dataset.features.flatMap((f) => (f.kind === 'numeric' ? [f.values] : []));
  const side = Math.round(Math.sqrt(cols.length));
  if (side < MIN_SIDE || side * side !== cols.length) return null;
  let lo = 0;
  let hi = 0;
  for (const c of cols) {
    for (const v of c) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  // Values already in [0,1] stay as they are; anything wider (0–255, or signed) is min–max scaled.
  if (hi <= 1 && lo >= 0) hi = 1;
  const range = hi - lo > 0 ? hi - lo : 1;
  const n = dataset.n;
  const d = cols.length;
  const pixels = new Float32Array(n * d);
  cols.forEach((c, j) => {
    for (let i = 0; i < n; i++) {
      const v = c[i] ?? Number.NaN;
      // A missing pixel reads as background (the low end), not as a value that could look like a trigger.
      pixels[i * d + j] = Number.isFinite(v) ? (v - lo) / range : 0;
    }
  });
  return { width: side, height: side, channels: 1, pixels, paths: [] };
}

/**
 * Localise what the `members` (flagged rows of class `className`) share against the `rest` of that
 * class and, when given, rows of other classes (`outside`): without them, a value every member shares
 * because the poisons were taken from other classes (a trouser's empty shoulders) looks like a
 * trigger too. Null when there are fewer than 5 members or 5 other rows of the class.
 * @example localizeTrigger(pixelImage(ds)!, 'tshirt', flagged, others, otherClasses)?.box // { x: 25, y: 25, width: 3, height: 3 }
 */
export function localizeTrigger(
  image: ImageData,
  className: string,
  members: readonly number[],
  rest: readonly number[],
  outside: readonly number[] = [],
): TriggerLocalization | null {
  const view = greyView(image);
  const m = checkRows(members, view.n, 'members');
  const inM = new Set(m);
  const r = checkRows(rest, view.n, 'rest').filter((i) => !inM.has(i));
  const o = checkRows(outside, view.n, 'outside').filter((i) => !inM.has(i));
  return localize(view, image, className, m, r, { h: histogram(view, r), n: r.length }, { h: histogram(view, o), n: o.length })?.trigger ?? null;
}

/**
 * Localise a trigger in every class of `flaggedByClass` (class code → rows the backdoor detectors
 * flagged in it; each compared with the rest of its class and with every other class) and flag the
 * carriers of each local trigger (`BACKDOOR_TRIGGER_CARRIER`, high). Every row of such a class is
 * scored 1 − d/(2·threshold), clipped to [0,1] (carriers ≥ 0.5); other rows score 0. A dataset
 * without pixels gives an empty result.
 */
export function findImageTriggers(dataset: Dataset, flaggedByClass: ReadonlyMap<number, readonly number[]>): { result: DetectorResult; triggers: TriggerLocalization[] } {
  const n = dataset.n;
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  const triggers: TriggerLocalization[] = [];
  const codes = [...flaggedByClass.keys()].sort((a, b) => a - b);
  const flaggedOf = new Map<number, number[]>();
  for (const code of codes) {
    const className = dataset.labelNames[code];
    if (className === undefined) throw badInput(`unknown class code ${code}`, `class codes index dataset.labelNames (0–${dataset.labelNames.length - 1})`);
    const flagged = checkRows(flaggedByClass.get(code) ?? [], n, `flagged rows of class "${className}"`);
    for (const i of flagged) {
      const got = dataset.labelCodes[i]!;
      if (got !== code) throw badInput(`row ${i} is flagged under class "${className}" but labelled "${dataset.labelNames[got] ?? got}"`, 'pass each flagged row under its own label code');
    }
    flaggedOf.set(code, flagged);
  }
  const image = pixelImage(dataset);
  if (image === null || codes.length === 0) return { result: { scores, findings, summary: { triggers } }, triggers };
  const view = greyView(image);
  if (view.n !== n) throw badInput(`${view.n} images for ${n} rows`, 'the image data must hold one image per dataset row');

  // One pass over the data: the histogram of every row, and of each class asked about.
  const byClass = new Map<number, number[]>(codes.map((c) => [c, []]));
  for (let i = 0; i < n; i++) byClass.get(dataset.labelCodes[i]!)?.push(i);
  const classHist = new Map(codes.map((c) => [c, histogram(view, byClass.get(c)!)]));
  const all = histogram(view, Array.from({ length: n }, (_, i) => i));

  for (const code of codes) {
    const className = dataset.labelNames[code]!;
    const flagged = flaggedOf.get(code)!;
    const inM = new Set(flagged);
    const classRows = byClass.get(code)!;
    const hC = classHist.get(code)!;
    const hM = histogram(view, flagged);
    const rest = classRows.filter((i) => !inM.has(i));
    const found = localize(view, image, className, flagged, rest, { h: subtract(hC, hM), n: rest.length }, { h: subtract(all, hC), n: n - classRows.length });
    if (found === null) continue;
    triggers.push(found.trigger);
    const { trigger, match } = found;
    if (match === null || trigger.box === null) continue;
    const { x, y, width, height } = trigger.box;
    match.rows.forEach((i, r) => {
      const d = match.distances[r]!;
      const score = match.threshold > 0 ? Math.max(0, Math.min(1, 1 - d / (2 * match.threshold))) : 0;
      scores[i] = Math.max(scores[i]!, score);
      if (d > match.threshold) return;
      findings.push({
        index: i,
        sampleId: dataset.ids[i] ?? '',
        detector: IMAGE_TRIGGERS_DETECTOR,
        code: BACKDOOR_TRIGGER_CARRIER_CODE,
        score: round6(score),
        severity: 'high',
        message: `its ${width}×${height} pixels at (${x}, ${y}) match the trigger found in "${className}" (distance ${d.toFixed(3)}; the class's other rows typically ${match.typical.toFixed(3)})${inM.has(i) ? '' : '; not flagged by the backdoor detectors'}`,
        evidence: {
          class: className,
          box: trigger.box,
          distance: round6(d),
          threshold: round6(match.threshold),
          typicalDistance: round6(match.typical),
          flaggedByDetectors: inM.has(i),
          separation: trigger.separation,
          contrast: trigger.contrast,
        },
      });
    });
  }
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  return { result: { scores, findings, summary: { triggers } }, triggers };
}

interface Counts {
  /** P × BINS grey-level counts. */
  readonly h: Int32Array;
  /** Rows counted. */
  readonly n: number;
}

function localize(
  view: GreyView,
  image: ImageData,
  className: string,
  m: readonly number[],
  r: readonly number[],
  rest: Counts,
  outside: Counts,
): { trigger: TriggerLocalization; match: CarrierMatch | null } | null {
  if (m.length < MIN_MEMBERS || r.length < MIN_MEMBERS) return null;
  const { width, height } = image;
  const shared = sharedValues(view.P, { h: histogram(view, m), n: m.length }, rest, outside);
  let peak = 0;
  for (const v of shared.excess) peak = Math.max(peak, v);
  const mask = Array.from(shared.excess);
  const base = {
    class: className,
    width,
    height,
    mask: mask.map(forDrawing),
    pattern: Array.from(meanOf(view, m), forDrawing),
    members: m.length,
    separation: round6(peak),
  };
  const need = minExcess(m.length);
  const region = peakRegion(mask, width, height, Math.max(need, STRONG * peak));
  const contrast = round6(region.contrast);
  const local = peak >= need && region.contrast >= MIN_CONTRAST && region.box.width * region.box.height <= MAX_BOX_SHARE * width * height;
  if (!local) return { trigger: { ...base, contrast, box: null, kind: 'diffuse', carriers: [] }, match: null };
  const { box } = region;
  const match = matchCarriers(view, width, mask, shared.centre, box, m, [...m, ...r]);
  return { trigger: { ...base, contrast, box, kind: 'local', carriers: match.carriers }, match };
}

function forDrawing(v: number): number {
  return Math.round(v * DRAW_DECIMALS) / DRAW_DECIMALS;
}

// ---------------------------------------------------------------------------------------------------

interface GreyView {
  readonly n: number;
  readonly P: number;
  /** Grey value of pixel p of row i. */
  /** n × P grey values. */
  readonly grey: Float32Array;
}

function greyView(image: ImageData): GreyView {
  const { width, height, channels, pixels } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || (channels !== 1 && channels !== 3)) {
    throw badInput(`bad image shape ${width}×${height}×${channels}`, 'width and height are positive integers, channels 1 or 3');
  }
  const P = width * height;
  const stride = P * channels;
  if (pixels.length % stride !== 0) throw badInput(`${pixels.length} pixel values are not a whole number of ${width}×${height}×${channels} images`, 'pixels are n × (height·width·channels)');
  const n = pixels.length / stride;
  if (channels === 1) return { n, P, grey: pixels };
  const grey = new Float32Array(n * P);
  for (let k = 0; k < n * P; k++) grey[k] = (pixels[3 * k]! + pixels[3 * k + 1]! + pixels[3 * k + 2]!) / 3;
  return { n, P, grey };
}

function checkRows(rows: readonly number[], n: number, what: string): number[] {
  const seen = new Set<number>();
  for (const i of rows) {
    if (!Number.isSafeInteger(i) || i < 0 || i >= n) throw badInput(`${what}: row ${i} is not in 0..${n - 1}`, 'rows are 0-based dataset indices');
    seen.add(i);
  }
  return [...seen];
}

/** Per-pixel mean over `rows`. */
function meanOf(view: GreyView, rows: readonly number[]): Float64Array {
  const mean = new Float64Array(view.P);
  for (const i of rows) for (let p = 0; p < view.P; p++) mean[p]! += view.grey[i * view.P + p]!;
  for (let p = 0; p < view.P; p++) mean[p]! /= Math.max(1, rows.length);
  return mean;
}

/** Grey-level counts (P × BINS) of `rows`. */
function histogram(view: GreyView, rows: readonly number[]): Int32Array {
  const { P, grey } = view;
  const h = new Int32Array(P * BINS);
  for (const i of rows) {
    const o = i * P;
    for (let p = 0; p < P; p++) {
      const v = grey[o + p]!;
      // NaN (not produced by our readers, but pixels are data) counts as black.
      const b = v > 0 ? Math.min(BINS - 1, Math.round(v * (BINS - 1))) : 0;
      h[p * BINS + b]!++;
    }
  }
  return h;
}

function subtract(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k]! - b[k]!;
  return out;
}

/**
 * Per pixel: the grey-level window (width WINDOW) where the share of members most exceeds the share
 * of the rest of the class and of the other classes, that excess (clipped at 0), and the members'
 * mean value inside it. Values are binned to grey levels (1/255), so a pixel costs one slide over
 * 256 bins.
 */
function sharedValues(P: number, members: Counts, rest: Counts, outside: Counts): { excess: Float64Array; centre: Float64Array } {
  const wb = Math.round(WINDOW * (BINS - 1)) + 1;
  const excess = new Float64Array(P);
  const centre = new Float64Array(P);
  const nM = Math.max(1, members.n);
  const nR = Math.max(1, rest.n);
  const nO = Math.max(1, outside.n);
  const hM = members.h;
  const hR = rest.h;
  const hO = outside.h;
  for (let p = 0; p < P; p++) {
    const o = p * BINS;
    let m = 0;
    let r = 0;
    let u = 0;
    let sum = 0;
    for (let b = 0; b < wb - 1; b++) {
      m += hM[o + b]!;
      r += hR[o + b]!;
      u += hO[o + b]!;
      sum += b * hM[o + b]!;
    }
    let best = -Infinity;
    for (let lo = 0; lo + wb <= BINS; lo++) {
      const hi = lo + wb - 1;
      m += hM[o + hi]!;
      r += hR[o + hi]!;
      u += hO[o + hi]!;
      sum += hi * hM[o + hi]!;
      const e = m / nM - Math.max(r / nR, u / nO);
      if (e > best) {
        best = e;
        centre[p] = m > 0 ? sum / m / (BINS - 1) : (lo + hi) / 2 / (BINS - 1);
      }
      m -= hM[o + lo]!;
      r -= hR[o + lo]!;
      u -= hO[o + lo]!;
      sum -= lo * hM[o + lo]!;
    }
    excess[p] = Math.max(0, best);
  }
  return { excess, centre };
}

/**
 * The region grown from the peak pixel through strong pixels (mask ≥ `strong`, linked within
 * Chebyshev distance LINK), its bounding box, and its contrast: the mean mask of its strong pixels
 * over the largest mask value farther than LINK from the box.
 */
function peakRegion(mask: readonly number[], width: number, height: number, strong: number): { box: TriggerBox; contrast: number } {
  let start = 0;
  for (let p = 1; p < mask.length; p++) if (mask[p]! > mask[start]!) start = p;
  const seen = new Uint8Array(mask.length);
  seen[start] = 1;
  const stack = [start];
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let mass = 0;
  let count = 0;
  while (stack.length > 0) {
    const p = stack.pop()!;
    const x = p % width;
    const y = (p - x) / width;
    mass += mask[p]!;
    count++;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
    for (let yy = Math.max(0, y - LINK); yy <= Math.min(height - 1, y + LINK); yy++) {
      for (let xx = Math.max(0, x - LINK); xx <= Math.min(width - 1, x + LINK); xx++) {
        const q = yy * width + xx;
        if (seen[q] === 1 || mask[q]! < strong) continue;
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  let outside = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x >= x0 - LINK && x <= x1 + LINK && y >= y0 - LINK && y <= y1 + LINK) continue;
      outside = Math.max(outside, mask[y * width + x]!);
    }
  }
  return { box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 }, contrast: mass / count / Math.max(outside, CONTRAST_FLOOR) };
}

interface CarrierMatch {
  /** The rows matched (members, then the rest of the class). */
  readonly rows: readonly number[];
  /** Mask-weighted mean |x − template| over the box, per row of `rows`. */
  readonly distances: Float64Array;
  readonly threshold: number;
  /** Median distance of the rows that are not members. */
  readonly typical: number;
  /** Rows within the threshold, ascending. */
  readonly carriers: number[];
}

/** Match every row of `rows` against the template (the members' mean inside each pixel's shared window) over the box, pixels weighted by the mask. */
function matchCarriers(view: GreyView, width: number, mask: readonly number[], centre: Float64Array, box: TriggerBox, members: readonly number[], rows: readonly number[]): CarrierMatch {
  const pix: number[] = [];
  const w: number[] = [];
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) {
      pix.push(y * width + x);
      w.push(mask[y * width + x]!);
    }
  }
  const template = pix.map((p) => centre[p]!);
  const wsum = w.reduce((a, b) => a + b, 0) || 1;
  const distances = new Float64Array(rows.length);
  rows.forEach((i, r) => {
    let s = 0;
    pix.forEach((p, k) => {
      s += w[k]! * Math.abs(view.grey[i * view.P + p]! - template[k]!);
    });
    distances[r] = s / wsum;
  });
  const inM = new Set(members);
  const others = rows.flatMap((i, r) => (inM.has(i) ? [] : [distances[r]!]));
  const typical = median(others);
  // When the class's other rows already look like the template there (typical distance at the noise
  // floor), nothing tells a carrier apart: no carriers, rather than the whole class.
  const threshold = typical < NOISE_FLOOR ? -1 : Math.min(WINDOW, CARRIER_SHARE * typical);
  const carriers = rows.filter((_, r) => distances[r]! <= threshold).sort((a, b) => a - b);
  return { rows, distances, threshold, typical, carriers };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
