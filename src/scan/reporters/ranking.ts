import { severityRank } from '../../core/index.ts';
import type { Finding, Severity } from '../../core/index.ts';
import type { SampleResult, ScanReport } from '../report.ts';

/** One kNN neighbour as detectors put it in `evidence.knn.neighbours`. */
export interface Neighbour {
  readonly index: number;
  readonly id: string;
  readonly label: string;
  readonly distance: number;
}

/** One suspicious sample with everything a reporter shows about it. */
export interface RankedSample {
  /** 1-based rank, by score. */
  readonly rank: number;
  readonly sample: SampleResult;
  /** This sample's findings, highest score first. */
  readonly findings: readonly Finding[];
  /** Highest severity among its findings, or null when it has none. */
  readonly severity: Severity | null;
  /** kNN neighbours from the first finding that carries them, else empty. */
  readonly neighbours: readonly Neighbour[];
}

/**
 * The samples a reviewer should look at, most suspicious first: every flagged sample and every sample
 * with a finding, grouped so a sample flagged by two detectors appears once. Ties are broken by index so
 * the order is deterministic.
 */
export function rankSamples(report: ScanReport, limit = Number.POSITIVE_INFINITY): RankedSample[] {
  const byIndex = new Map<number, Finding[]>();
  for (const f of report.findings) {
    const list = byIndex.get(f.index);
    if (list === undefined) byIndex.set(f.index, [f]);
    else list.push(f);
  }
  const samples = new Map<number, SampleResult>();
  for (const s of report.samples) samples.set(s.index, s);

  const candidates: { sample: SampleResult; findings: Finding[]; score: number }[] = [];
  const seen = new Set<number>();
  const add = (index: number): void => {
    if (seen.has(index)) return;
    seen.add(index);
    const findings = (byIndex.get(index) ?? []).slice().sort((a, b) => finite(b.score) - finite(a.score));
    const sample = samples.get(index) ?? sampleFromFinding(index, findings);
    if (sample === undefined) return;
    const score = Number.isFinite(sample.score) ? sample.score : finite(findings[0]?.score ?? 0);
    candidates.push({ sample, findings, score });
  };
  for (const s of report.samples) if (s.flagged) add(s.index);
  for (const index of byIndex.keys()) add(index);

  candidates.sort((a, b) => b.score - a.score || a.sample.index - b.sample.index);
  const n = Math.min(candidates.length, Math.max(0, limit));
  const out: RankedSample[] = [];
  for (let i = 0; i < n; i++) {
    const c = candidates[i]!;
    out.push({
      rank: i + 1,
      sample: c.sample,
      findings: c.findings,
      severity: maxSeverity(c.findings),
      neighbours: findNeighbours(c.findings),
    });
  }
  return out;
}

/** How many samples `rankSamples` would return without a limit. */
export function countSuspicious(report: ScanReport): number {
  const set = new Set<number>();
  for (const s of report.samples) if (s.flagged) set.add(s.index);
  for (const f of report.findings) set.add(f.index);
  return set.size;
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

function maxSeverity(findings: readonly Finding[]): Severity | null {
  let best: Severity | null = null;
  for (const f of findings) if (best === null || severityRank(f.severity) > severityRank(best)) best = f.severity;
  return best;
}

// A report whose `samples` lacks an entry for a finding is malformed, but a reporter should still show
// the finding rather than drop it; the fields we cannot know are left empty.
function sampleFromFinding(index: number, findings: readonly Finding[]): SampleResult | undefined {
  const f = findings[0];
  if (f === undefined) return undefined;
  return {
    index,
    id: f.sampleId,
    externalId: null,
    line: index + 1,
    label: '',
    score: f.score,
    flagged: true,
    suggestedLabel: null,
    suggestedProbability: null,
    detectors: [...new Set(findings.map((x) => x.detector))],
    scores: Object.fromEntries(findings.map((x) => [x.detector, x.score])),
  };
}

/** `evidence.knn.neighbours` of the first finding that has a well-formed one. Evidence is untyped JSON, so each field is checked. */
export function findNeighbours(findings: readonly Finding[]): Neighbour[] {
  for (const f of findings) {
    const knn = f.evidence['knn'];
    if (typeof knn !== 'object' || knn === null) continue;
    const list = (knn as Record<string, unknown>)['neighbours'];
    if (!Array.isArray(list)) continue;
    const out: Neighbour[] = [];
    for (const item of list as unknown[]) {
      if (typeof item !== 'object' || item === null) continue;
      const r = item as Record<string, unknown>;
      const index = r['index'];
      if (typeof index !== 'number' || !Number.isSafeInteger(index)) continue;
      out.push({
        index,
        id: typeof r['id'] === 'string' ? r['id'] : '',
        label: typeof r['label'] === 'string' ? r['label'] : String(r['label'] ?? ''),
        distance: typeof r['distance'] === 'number' ? r['distance'] : Number.NaN,
      });
    }
    if (out.length > 0) return out;
  }
  return [];
}
