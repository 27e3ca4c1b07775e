import { parse } from 'csv-parse/sync';
import { evaluateDetection, type DetectionQuality } from './evaluate.ts';
import { RedteamError } from './errors.ts';
import type { PlantedAttack } from './inject.ts';
import type { Truth } from './truth.ts';

/** One scored sample from a scan report (JSON) or a scan's scores CSV. */
export interface ScoredSample {
  readonly externalId: string | null;
  /** 1-based line of the record in the scanned file (JSON reports only). */
  readonly line: number | null;
  readonly score: number;
  readonly flagged: boolean;
}

/** How report samples were matched to planted truth. */
export type MatchKey = 'externalId' | 'line' | 'row';

export interface AttackRecall {
  readonly attack: PlantedAttack;
  readonly planted: number;
  readonly caught: number;
  readonly recall: number;
}

/** Detection quality against a truth file, with ranking metrics and per-attack recall. */
export interface RedteamEvaluation extends DetectionQuality {
  readonly samples: number;
  readonly matchedBy: MatchKey;
  /** Planted samples not in the report (skipped by the scan): counted as missed. */
  readonly unmatched: number;
  readonly k: number;
  /** Share of planted samples among the k highest scores. */
  readonly precisionAtK: number;
  readonly perAttack: readonly AttackRecall[];
}

/**
 * Read scored samples from a `trainguard scan --format json` report or a `--format csv` scores file
 * (id,externalId,score,flagged,...). Malformed input is a REDTEAM_BAD_REPORT.
 */
export function parseScores(text: string, file?: string): ScoredSample[] {
  const where = file === undefined ? {} : { file };
  const bad = (why: string, cause?: unknown): RedteamError =>
    new RedteamError('REDTEAM_BAD_REPORT', why, { ...where, hint: 'give a report from `trainguard scan --format json` or `--format csv`', ...(cause === undefined ? {} : { cause }) });
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw bad('the report is not valid JSON', err);
    }
    const samples = (value as { samples?: unknown }).samples;
    if (!Array.isArray(samples)) throw bad('the report has no "samples" array');
    return samples.map((s: unknown, i) => {
      const o = (s ?? {}) as Record<string, unknown>;
      if (typeof o.score !== 'number' || typeof o.flagged !== 'boolean') throw bad(`samples[${i}] needs a numeric "score" and a boolean "flagged"`);
      return {
        externalId: typeof o.externalId === 'string' ? o.externalId : null,
        line: typeof o.line === 'number' && Number.isSafeInteger(o.line) ? o.line : null,
        score: o.score,
        flagged: o.flagged,
      };
    });
  }
  let records: Record<string, string>[];
  try {
    records = parse(body, { columns: true, skip_empty_lines: true });
  } catch (err) {
    throw bad(`the scores file is not valid CSV: ${(err as Error).message}`, err);
  }
  return records.map((r, i) => {
    if (r.score === undefined || r.flagged === undefined) throw bad('the scores CSV needs "score" and "flagged" columns');
    const score = r.score === '' ? Number.NaN : Number(r.score);
    if (r.score !== '' && !Number.isFinite(score)) throw bad(`row ${i + 1}: score "${r.score}" is not a number`);
    const ext = r.externalId === undefined || r.externalId === '' ? null : unguard(r.externalId);
    return { externalId: ext, line: null, score, flagged: r.flagged === 'true' };
  });
}

// The scan's CSV prefixes a leading = + - @ tab or CR with ' against formula injection; undo it to match ids.
function unguard(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

/**
 * Match report samples to planted truth (by external id when the report has them, else by line,
 * else by row order) and measure the flagged set, the score ranking, precision@k and recall per attack.
 */
export function evaluateAgainstTruth(samples: readonly ScoredSample[], truth: Truth, options: { k?: number } = {}): RedteamEvaluation {
  const matchedBy: MatchKey = samples.some((s) => s.externalId !== null) ? 'externalId' : samples.some((s) => s.line !== null) ? 'line' : 'row';
  const index = new Map<string, number>();
  samples.forEach((s, i) => {
    const key = matchedBy === 'externalId' ? s.externalId : matchedBy === 'line' ? (s.line === null ? null : String(s.line)) : String(i + 1);
    if (key !== null && !index.has(key)) index.set(key, i);
  });
  const isPlanted = new Uint8Array(samples.length);
  const hit = truth.planted.map((p) => {
    const key = matchedBy === 'externalId' ? p.id : matchedBy === 'line' ? String(p.line) : String(p.row);
    const i = index.get(key);
    if (i !== undefined) isPlanted[i] = 1;
    return i;
  });
  const matched = hit.filter((i) => i !== undefined).length;
  if (truth.planted.length > 0 && matched === 0) {
    throw new RedteamError('REDTEAM_NO_MATCH', `none of the ${truth.planted.length} planted samples is in the report (matched by ${matchedBy})`, {
      hint: 'scan the poisoned file written by `redteam inject` with the same id column (--id) as the truth file',
    });
  }
  const unmatched = truth.planted.length - matched;
  // A planted sample the scan skipped was not caught: count it as an unflagged sample with the lowest score.
  const scores = [...samples.map((s) => (Number.isFinite(s.score) ? s.score : 0)), ...new Array<number>(unmatched).fill(0)];
  const flagged = [...samples.map((s) => s.flagged), ...new Array<boolean>(unmatched).fill(false)];
  const positive = [...isPlanted, ...new Array<number>(unmatched).fill(1)];
  const quality = evaluateDetection(scores, flagged, positive);

  const k = Math.max(1, Math.min(options.k ?? 100, samples.length));
  const order = samples.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let top = 0;
  for (let t = 0; t < k && t < order.length; t++) top += isPlanted[order[t]!]!;
  const perAttack = new Map<PlantedAttack, { planted: number; caught: number }>();
  truth.planted.forEach((p, t) => {
    const a = perAttack.get(p.attack) ?? { planted: 0, caught: 0 };
    a.planted++;
    const i = hit[t];
    if (i !== undefined && samples[i]!.flagged) a.caught++;
    perAttack.set(p.attack, a);
  });
  return {
    ...quality,
    samples: samples.length,
    matchedBy,
    unmatched,
    k,
    precisionAtK: samples.length === 0 ? 0 : top / k,
    perAttack: [...perAttack].map(([attack, a]) => ({ attack, planted: a.planted, caught: a.caught, recall: a.planted === 0 ? 0 : a.caught / a.planted })),
  };
}
