/**
 * The `near-duplicates` detector: samples that are almost the same as another one — a copy with a
 * pixel, a space or a word changed. Planted near-copies with another label are a classic poison
 * (the model must fit two contradicting labels for one input); same-label near-copies only
 * over-weight a sample and are reported as info.
 *
 * Rule (cleanlab Datalab `near_duplicate`, research/detection.md §1.7): d1_i = distance to the
 * nearest neighbour; threshold = thresholdFactor (0.13) · median(d1). When more than half the rows
 * are exact copies, median(d1) is 0 and nothing could be flagged, so the median of the non-zero d1
 * is used and the summary says so. Every kNN edge (i, j) with distance < threshold joins i and j
 * (union-find), except edges between exact copies (same content id: the `duplicates` detector's).
 * For text, MinHash/LSH (minhash.ts) adds pairs with estimated shingle Jaccard ≥ 0.8: re-wrapped
 * or lightly edited copies that TF-IDF cosine may not put under the threshold.
 *
 * A set whose members carry ≥ 2 labels: members not carrying the set's expected label (decided by
 * the out-of-fold model, else the majority, see conflicts.ts; every member when undecided) get
 * NEAR_DUPLICATE_CONFLICT (high, 0.9); the rest NEAR_DUPLICATE (info, 0.2), as do all members of
 * single-label sets. Samples in no set score 0.
 */
import type { Finding } from '../core/index.ts';
import type { KnnGraph } from '../compute/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { DetectorError } from './errors.ts';
import { assertKnnGraph } from './inputs.ts';
import { DEFAULT_JACCARD_THRESHOLD, estimateJaccard, findNearDuplicateTexts } from './minhash.ts';
import type { MinHashSignatures } from './minhash.ts';
import { median } from './outliers.ts';
import { resolveConflict, supportByName } from './conflicts.ts';
import { round6 } from './numbers.ts';

export const NEAR_DUPLICATES_DETECTOR = 'near-duplicates';
export const NEAR_DUPLICATE_CODE = 'NEAR_DUPLICATE';
export const NEAR_DUPLICATE_CONFLICT_CODE = 'NEAR_DUPLICATE_CONFLICT';
export const NEAR_DUPLICATE_SCORE = 0.2;
export const NEAR_DUPLICATE_CONFLICT_SCORE = 0.9;
export const DEFAULT_THRESHOLD_FACTOR = 0.13;
const MEMBER_EVIDENCE_LIMIT = 20;

export interface NearDuplicatesOptions {
  /** threshold = thresholdFactor · median nearest-neighbour distance (default 0.13, Datalab's). */
  readonly thresholdFactor?: number;
  /** Also pair texts by MinHash/LSH (default: true when the dataset has a text column). */
  readonly minhash?: boolean;
}

/** Build the `near-duplicates` detector (kNN distance rule, plus MinHash for text). */
export function createNearDuplicatesDetector(options: NearDuplicatesOptions = {}): Detector {
  const thresholdFactor = options.thresholdFactor ?? DEFAULT_THRESHOLD_FACTOR;
  if (!(thresholdFactor > 0 && Number.isFinite(thresholdFactor))) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `thresholdFactor must be a positive number, got ${thresholdFactor}`);
  }
  return {
    name: NEAR_DUPLICATES_DETECTOR,
    description: 'Near-duplicate samples (kNN distance far below typical, or MinHash-similar text), and near copies with different labels',
    needs: ['knn'],
    run: (ctx) => runNearDuplicates(ctx, thresholdFactor, options.minhash ?? true),
  };
}

class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r]!;
    // Path compression keeps later finds O(α(n)).
    while (this.parent[x] !== r) {
      const next = this.parent[x]!;
      this.parent[x] = r;
      x = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // The lower index becomes the root, so sets are the same whatever order edges arrive in.
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

interface TextLinks {
  readonly signatures: MinHashSignatures;
  /** Row → position of its content's representative in `signatures`. */
  readonly position: Int32Array;
  readonly pairs: number;
  readonly candidates: number;
}

function runNearDuplicates(ctx: DetectorContext, factor: number, useMinhash: boolean): DetectorResult {
  const { dataset, labels, knn } = ctx;
  const n = labels.length;
  if (dataset.ids.length !== n || dataset.contentIds.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${dataset.ids.length} ids and ${dataset.contentIds.length} content ids but ${n} labels`);
  }
  ctx.progress(NEAR_DUPLICATES_DETECTOR, 0, 2);
  const uf = new UnionFind(n);
  const d1 = new Float64Array(n).fill(NaN);
  let threshold = 0;
  let medianD1 = NaN;
  let medianFromNonZero = false;
  let knnEdges = 0;
  if (knn !== null) {
    assertKnnGraph(knn, n);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < knn.k; r++) {
        const nb = knn.indices[i * knn.k + r]!;
        const d = knn.distances[i * knn.k + r]!;
        if (nb < 0 || nb >= n || nb === i || !Number.isFinite(d)) continue;
        d1[i] = Math.max(0, d);
        break;
      }
    }
    medianD1 = median(d1);
    if (medianD1 === 0) {
      medianD1 = median(d1.filter((x) => x > 0));
      medianFromNonZero = true;
    }
    threshold = Number.isFinite(medianD1) ? factor * medianD1 : 0;
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < knn.k; r++) {
        const nb = knn.indices[i * knn.k + r]!;
        const d = knn.distances[i * knn.k + r]!;
        if (nb < 0 || nb >= n || nb === i || !(d < threshold)) continue;
        if (dataset.contentIds[i] === dataset.contentIds[nb]) continue;
        uf.union(i, nb);
        knnEdges++;
      }
    }
  }
  ctx.progress(NEAR_DUPLICATES_DETECTOR, 1, 2);
  const text = useMinhash && dataset.text !== null && dataset.text.length === n ? linkTexts(dataset.text, dataset.contentIds, uf) : null;

  const sets = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = uf.find(i);
    const members = sets.get(root);
    if (members === undefined) sets.set(root, [i]);
    else members.push(i);
  }
  const names = (k: number): string => ctx.classNames[k] ?? String(k);
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  let setCount = 0;
  let inSets = 0;
  let conflictingSets = 0;
  let conflictRows = 0;
  for (const members of sets.values()) {
    if (members.length < 2) continue;
    setCount++;
    inSets += members.length;
    const counts = new Map<number, number>();
    for (const i of members) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
    const conflicting = counts.size >= 2;
    const verdict = conflicting ? resolveConflict(members, labels, ctx.predProbs, ctx.numClasses) : null;
    if (conflicting) conflictingSets++;
    const labelCounts: Record<string, number> = {};
    for (const [y, c] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])) labelCounts[names(y)] = c;
    const expectedLabel = verdict === null || verdict.expected === null ? null : names(verdict.expected);
    for (const i of members) {
      const conflict = verdict !== null && (verdict.expected === null || labels[i] !== verdict.expected);
      const score = conflict ? NEAR_DUPLICATE_CONFLICT_SCORE : NEAR_DUPLICATE_SCORE;
      if (conflict) conflictRows++;
      scores[i] = score;
      const listed = listMembers(i, members, { knn, text, uf });
      const measured = nearestInSet(listed);
      const given = names(labels[i]!);
      const message = conflict
        ? `near-duplicate of ${members.length - 1} other sample(s) labelled differently (${describeCounts(labelCounts)}); this one is "${given}"`
        : conflicting
          ? `near-duplicate of ${members.length - 1} other sample(s); the set carries ${counts.size} labels (${describeCounts(labelCounts)}) and this one has the expected label "${given}" (${verdict?.by})`
          : `near-duplicate of ${members.length - 1} other sample(s) with the same label "${given}"`;
      findings.push({
        index: i,
        sampleId: dataset.ids[i]!,
        detector: NEAR_DUPLICATES_DETECTOR,
        code: conflict ? NEAR_DUPLICATE_CONFLICT_CODE : NEAR_DUPLICATE_CODE,
        // Read back from the Float32Array, so the finding's score equals the per-sample score exactly.
        score: scores[i]!,
        severity: conflict ? 'high' : 'info',
        message,
        evidence: {
          members: listed.map(({ index, distance, jaccard }) => ({
            index,
            id: dataset.ids[index]!,
            label: names(labels[index]!),
            distance: distance === null ? null : round6(distance),
            jaccard: jaccard === null ? null : round6(jaccard),
          })),
          setSize: members.length,
          labels: labelCounts,
          expectedLabel,
          decidedBy: verdict?.by ?? null,
          modelSupport: supportByName(verdict, names),
          distance: measured.distance === null ? null : round6(measured.distance),
          jaccard: measured.jaccard === null ? null : round6(measured.jaccard),
          nearestNeighbourDistance: Number.isFinite(d1[i]!) ? round6(d1[i]!) : null,
          threshold: round6(threshold),
          jaccardThreshold: text === null ? null : DEFAULT_JACCARD_THRESHOLD,
        },
      });
    }
  }
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  ctx.progress(NEAR_DUPLICATES_DETECTOR, 2, 2);
  return {
    scores,
    findings,
    summary: {
      sets: setCount,
      samplesInSets: inSets,
      conflictingSets,
      conflictRows,
      thresholdFactor: factor,
      threshold: round6(threshold),
      medianNearestDistance: Number.isFinite(medianD1) ? round6(medianD1) : null,
      medianFromNonZero,
      ...(medianFromNonZero ? { note: 'over half the rows are exact copies (median nearest distance 0): threshold uses the median of the non-zero distances' } : {}),
      knn: knn === null ? null : { k: knn.k, metric: knn.metric, edgesBelowThreshold: knnEdges },
      minhash: text === null ? null : { pairs: text.pairs, candidates: text.candidates, jaccardThreshold: DEFAULT_JACCARD_THRESHOLD },
    },
  };
}

/**
 * MinHash pairs over one representative per content id (exact copies are the `duplicates`
 * detector's, and hashing them twice is wasted work); when a representative pairs with another
 * text, its exact copies join the set too, as they would through the kNN graph.
 */
function linkTexts(texts: readonly string[], contentIds: readonly string[], uf: UnionFind): TextLinks {
  const n = texts.length;
  const position = new Int32Array(n);
  const firstOf = new Map<string, number>();
  const repTexts: string[] = [];
  const repRow: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = contentIds[i]!;
    const p = firstOf.get(c);
    if (p === undefined) {
      firstOf.set(c, repTexts.length);
      position[i] = repTexts.length;
      repTexts.push(typeof texts[i] === 'string' ? texts[i]! : '');
      repRow.push(i);
    } else {
      position[i] = p;
    }
  }
  const found = findNearDuplicateTexts(repTexts);
  const linked = new Uint8Array(repTexts.length);
  for (const { a, b } of found.pairs) {
    uf.union(repRow[a]!, repRow[b]!);
    linked[a] = 1;
    linked[b] = 1;
  }
  for (let i = 0; i < n; i++) if (linked[position[i]!] === 1 && repRow[position[i]!] !== i) uf.union(i, repRow[position[i]!]!);
  return { signatures: found.signatures, position, pairs: found.pairs.length, candidates: found.candidates };
}

interface ListedMember {
  readonly index: number;
  readonly distance: number | null;
  readonly jaccard: number | null;
}

/**
 * Up to MEMBER_EVIDENCE_LIMIT other members of i's set: first those in i's kNN row (closest
 * first), then the rest by index. Distance is read from the graph (i's row or j's), null when
 * neither lists the other; cost O(limit · k) per sample even for a set of thousands.
 */
function listMembers(i: number, members: readonly number[], links: { knn: KnnGraph | null; text: TextLinks | null; uf: UnionFind }): ListedMember[] {
  const { knn, text, uf } = links;
  const root = uf.find(i);
  const chosen: number[] = [];
  const picked = new Set<number>([i]);
  if (knn !== null) {
    for (let r = 0; r < knn.k && chosen.length < MEMBER_EVIDENCE_LIMIT; r++) {
      const nb = knn.indices[i * knn.k + r]!;
      if (nb >= 0 && nb < uf.parent.length && uf.find(nb) === root && !picked.has(nb)) {
        chosen.push(nb);
        picked.add(nb);
      }
    }
  }
  for (const j of members) {
    if (chosen.length >= MEMBER_EVIDENCE_LIMIT) break;
    if (!picked.has(j)) {
      chosen.push(j);
      picked.add(j);
    }
  }
  return chosen.map((j) => ({
    index: j,
    distance: knn === null ? null : graphDistance(knn, i, j),
    jaccard: text === null ? null : estimateJaccard(text.signatures, text.position[i]!, text.position[j]!),
  }));
}

function graphDistance(knn: KnnGraph, i: number, j: number): number | null {
  for (const [a, b] of [
    [i, j],
    [j, i],
  ] as const) {
    for (let r = 0; r < knn.k; r++) {
      if (knn.indices[a * knn.k + r] === b) {
        const d = knn.distances[a * knn.k + r]!;
        return Number.isFinite(d) ? Math.max(0, d) : null;
      }
    }
  }
  return null;
}

function nearestInSet(listed: readonly ListedMember[]): { distance: number | null; jaccard: number | null } {
  let distance: number | null = null;
  let jaccard: number | null = null;
  for (const m of listed) {
    if (m.distance !== null && (distance === null || m.distance < distance)) distance = m.distance;
    if (m.jaccard !== null && (jaccard === null || m.jaccard > jaccard)) jaccard = m.jaccard;
  }
  return { distance, jaccard };
}

function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([label, c]) => `${c}× "${label}"`)
    .join(', ');
}

