/**
 * Which members of a group of identical or near-identical samples carry the wrong label, when
 * the group carries more than one. Shared by `duplicates` and `near-duplicates`.
 *
 * The out-of-fold model is the independent witness: each member's predicted probabilities come
 * from a model trained without it, on the rest of the data. So the expected label is the label
 * present in the group with the highest mean predicted probability over the members, when it
 * leads the runner-up by at least MODEL_MARGIN. Without a model, or when the model is torn, the
 * group's majority label decides; on a tied count nobody can be cleared and every member is suspect.
 *
 * Why not always majority: a duplicate-flip poison is one copy against one original, a tie, so a
 * majority rule flags both and halves precision (0.51 on SpamAssassin's planted pairs); and an
 * attacker who plants several copies would win a majority vote.
 */
import { round6 } from './numbers.ts';

export const MODEL_MARGIN = 0.2;

export interface ConflictVerdict {
  /** The label the group should carry, or null when it cannot be decided. */
  readonly expected: number | null;
  /** How it was decided. */
  readonly by: 'model' | 'majority' | 'undecided';
  /** Mean predicted probability per label present (label code → mean), when a model ran. */
  readonly support: ReadonlyMap<number, number> | null;
}

/** Decide a multi-label group's expected label (members are row indices; labels are codes). */
export function resolveConflict(members: readonly number[], labels: Int32Array, predProbs: Float32Array | null, numClasses: number): ConflictVerdict {
  const counts = new Map<number, number>();
  for (const i of members) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  let support: Map<number, number> | null = null;
  if (predProbs !== null && predProbs.length === labels.length * numClasses) {
    support = new Map();
    for (const y of counts.keys()) {
      let sum = 0;
      for (const i of members) sum += predProbs[i * numClasses + y]!;
      support.set(y, sum / members.length);
    }
    const ranked = [...support.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const [best, second] = ranked;
    if (best !== undefined && (second === undefined || best[1] - second[1] >= MODEL_MARGIN)) return { expected: best[0], by: 'model', support };
  }
  let top = 0;
  for (const c of counts.values()) top = Math.max(top, c);
  const majority = [...counts.entries()].filter(([, c]) => c === top).map(([y]) => y);
  if (majority.length === 1) return { expected: majority[0]!, by: 'majority', support };
  return { expected: null, by: 'undecided', support };
}

/** The verdict's model support keyed by label name, rounded, for a finding's evidence (null without a model). */
export function supportByName(verdict: ConflictVerdict | null, names: (code: number) => string): Record<string, number> | null {
  if (verdict === null || verdict.support === null) return null;
  return Object.fromEntries([...verdict.support.entries()].map(([y, p]) => [names(y), round6(p)]));
}
