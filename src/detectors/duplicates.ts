/**
 * The `duplicates` detector: exact copies of one sample's content (same content id). Repeated
 * rows over-weight a sample in training — a cheap way to push a model towards poison — and copies
 * that carry different labels are contradictions no model can fit (Deepchecks' "conflicting
 * labels", research/detection.md §6).
 *
 * A group is every row sharing a content id, in reading order. When all copies carry one label,
 * every copy after the first gets EXACT_DUPLICATE (low, 0.3); the first is the one to keep and
 * scores 0. When the copies carry ≥ 2 labels, the group's expected label is decided by the
 * out-of-fold model when one ran, else by majority (conflicts.ts): copies with another label get
 * CONFLICTING_LABELS (high, 1.0), copies with the expected label CONFLICTING_LABELS at info
 * severity (0.2: context for the reviewer, not a flag). Undecided (a tie and no clear model
 * verdict): every copy is suspect and flagged high.
 */
import type { Finding } from '../core/index.ts';
import type { Detector, DetectorContext, DetectorResult } from './detector.ts';
import { DetectorError } from './errors.ts';
import { resolveConflict, supportByName } from './conflicts.ts';
import { round6 } from './numbers.ts';

export const DUPLICATES_DETECTOR = 'duplicates';
export const EXACT_DUPLICATE_CODE = 'EXACT_DUPLICATE';
export const CONFLICTING_LABELS_CODE = 'CONFLICTING_LABELS';
export const EXACT_DUPLICATE_SCORE = 0.3;
export const CONFLICTING_LABELS_SCORE = 1;
/** A copy carrying the group's expected label: shown beside the conflict, not flagged. */
export const CONFLICT_EXPECTED_SCORE = 0.2;
/** At most this many copies are listed in a finding's evidence (a row repeated 10⁵ times would bloat every report). */
const GROUP_EVIDENCE_LIMIT = 50;

/** Build the `duplicates` detector (exact copies and copies with conflicting labels). */
export function createDuplicatesDetector(): Detector {
  return {
    name: DUPLICATES_DETECTOR,
    description: 'Exact duplicate samples (same content), and duplicates whose copies carry different labels',
    needs: [],
    run: runDuplicates,
  };
}

function runDuplicates(ctx: DetectorContext): DetectorResult {
  const { dataset, labels } = ctx;
  const n = labels.length;
  if (dataset.contentIds.length !== n || dataset.ids.length !== n) {
    throw new DetectorError('DETECTOR_BAD_INPUT', `dataset has ${dataset.contentIds.length} content ids and ${dataset.ids.length} ids but ${n} labels`);
  }
  ctx.progress(DUPLICATES_DETECTOR, 0, 1);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const key = dataset.contentIds[i]!;
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [i]);
    else members.push(i);
  }

  const names = (k: number): string => ctx.classNames[k] ?? String(k);
  const scores = new Float32Array(n);
  const findings: Finding[] = [];
  let groupCount = 0;
  let duplicateRows = 0;
  let conflictingGroups = 0;
  let conflictingRows = 0;
  let suspectRows = 0;
  let largestGroup = 0;
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    groupCount++;
    duplicateRows += members.length - 1;
    largestGroup = Math.max(largestGroup, members.length);
    const labelCounts: Record<string, number> = {};
    for (const i of members) {
      const name = names(labels[i]!);
      labelCounts[name] = (labelCounts[name] ?? 0) + 1;
    }
    const conflicting = Object.keys(labelCounts).length >= 2;
    const group = members.slice(0, GROUP_EVIDENCE_LIMIT).map((i) => ({ index: i, id: dataset.ids[i]!, label: names(labels[i]!) }));
    const evidence = { group, groupSize: members.length, labels: labelCounts };
    if (conflicting) {
      conflictingGroups++;
      conflictingRows += members.length;
      const summary = Object.entries(labelCounts)
        .map(([label, count]) => `${count}× "${label}"`)
        .join(', ');
      const verdict = resolveConflict(members, labels, ctx.predProbs, ctx.numClasses);
      const expected = verdict.expected === null ? null : names(verdict.expected);
      const conflictEvidence = { ...evidence, expectedLabel: expected, decidedBy: verdict.by, modelSupport: supportByName(verdict, names) };
      for (const i of members) {
        const suspect = verdict.expected === null || labels[i] !== verdict.expected;
        if (suspect) suspectRows++;
        scores[i] = suspect ? CONFLICTING_LABELS_SCORE : CONFLICT_EXPECTED_SCORE;
        findings.push({
          index: i,
          sampleId: dataset.ids[i]!,
          detector: DUPLICATES_DETECTOR,
          code: CONFLICTING_LABELS_CODE,
          score: scores[i]!,
          severity: suspect ? 'high' : 'info',
          message: suspect
            ? `identical content appears ${members.length} times with different labels (${summary})${expected === null ? '' : `; expected "${expected}" (${verdict.by}), this copy says "${names(labels[i]!)}"`}`
            : `identical content appears ${members.length} times with different labels (${summary}); this copy carries the expected label "${expected}" (${verdict.by})`,
          evidence: conflictEvidence,
        });
      }
    } else {
      const first = members[0]!;
      for (const i of members.slice(1)) {
        scores[i] = EXACT_DUPLICATE_SCORE;
        findings.push({
          index: i,
          sampleId: dataset.ids[i]!,
          detector: DUPLICATES_DETECTOR,
          code: EXACT_DUPLICATE_CODE,
          score: scores[i]!,
          severity: 'low',
          message: `exact copy of row ${first} (${members.length} copies in all)`,
          evidence: { ...evidence, firstIndex: first },
        });
      }
    }
  }
  // Contract: findings sorted by score, highest first; ties in reading order.
  findings.sort((a, b) => b.score - a.score || a.index - b.index);
  ctx.progress(DUPLICATES_DETECTOR, 1, 1);
  return {
    scores,
    findings,
    summary: {
      groups: groupCount,
      duplicateRows,
      duplicateRate: n === 0 ? 0 : round6(duplicateRows / n),
      conflictingGroups,
      conflictingRows,
      suspectRows,
      largestGroup,
    },
  };
}
