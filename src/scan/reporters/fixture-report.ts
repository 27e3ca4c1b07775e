import { sha256Hex } from '../../core/index.ts';
import type { Finding } from '../../core/index.ts';
import { REPORT_SCHEMA, REPORT_VERSION } from '../report.ts';
import type { SamplePreview, SampleResult, ScanReport } from '../report.ts';

/*
 * A small, hand-made scan report for the reporter tests (and for looking at the HTML by eye).
 * 10 samples in 3 classes, 3 flagged by 4 findings with kNN evidence, previews of every kind
 * (a real report has one kind; mixing them here covers every branch), and hostile strings where
 * a reporter could go wrong: HTML/script, quotes, commas and newlines, spreadsheet formulas,
 * a zero-width character and a bidi override.
 */

export const HOSTILE_SCRIPT = '<script>alert(1)</script>';
export const HOSTILE_CSV = '"quotes", commas\nnewlines';

// 12×12 greyscale PNGs (a shirt and stripes), made once with sharp.
const SHIRT_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAwAAAAMCAIAAADZF8uwAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAARklEQVQYlWPgIgIwEKVoBxGAYQMRgGEFDHBxccHZaFyGBTDAxcUFZ6NxURw+Awng9N0EJIBTUQcSwKmoAQngVFSBBEgOcQACl4JRBcpvKgAAAABJRU5ErkJggg==';
const STRIPES_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAwAAAAMCAIAAADZF8uwAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAJUlEQVQYlWO4AwZyYICLzUBQxZ07dxgIqoAqImgjw6ibGIgJJwD4htLxui966AAAAABJRU5ErkJggg==';

const LABELS = ['ham', 'ham', 'ham', 'ham', 'spam', 'spam', 'spam', 'spam', 'promo', 'promo'] as const;
const EXTERNAL_IDS: readonly (string | null)[] = [
  'msg-0001',
  'msg-0002',
  HOSTILE_SCRIPT,
  HOSTILE_CSV,
  "=cmd|' /C calc'!A0",
  '-42',
  '@SUM(A1:A9)',
  null,
  '+malicious',
  'msg-0010',
];
const SCORES = [0.02, 0.05, 0.93, 0.08, 0.11, 0.04, 0.03, 0.74, 0.12, 0.55];
// Data lines of a CSV with a header on line 1 and skipped rows on lines 5 and 9.
const LINES = [2, 3, 4, 6, 7, 8, 10, 11, 12, 13];
const SUGGESTED: Readonly<Record<number, { label: string; p: number; detectors: string[] }>> = {
  2: { label: 'spam', p: 0.91, detectors: ['label-issues', 'knn-consensus'] },
  7: { label: 'ham', p: 0.74, detectors: ['label-issues'] },
  9: { label: 'spam', p: 0.55, detectors: ['label-issues'] },
};

/** Content id of fixture sample `i`. */
export function fixtureId(i: number): string {
  return sha256Hex(`fixture-sample-${i}`);
}

function neighbour(index: number, distance: number): { index: number; id: string; label: string; distance: number } {
  return { index, id: fixtureId(index), label: LABELS[index] ?? '', distance };
}

/** A realistic, deterministic scan report of 10 samples. */
export function fixtureReport(): ScanReport {
  const samples: SampleResult[] = LABELS.map((label, index) => {
    const s = SUGGESTED[index];
    return {
      index,
      id: fixtureId(index),
      externalId: EXTERNAL_IDS[index] ?? null,
      line: LINES[index] ?? index + 2,
      label,
      score: SCORES[index] ?? 0,
      flagged: s !== undefined,
      suggestedLabel: s?.label ?? null,
      suggestedProbability: s?.p ?? null,
      detectors: s?.detectors ?? [],
      scores: { 'label-issues': SCORES[index] ?? 0 },
    };
  });

  const knn2 = { k: 3, neighbours: [neighbour(4, 0.121), neighbour(5, 0.187), neighbour(1, 0.302)] };
  const knn7 = { k: 3, neighbours: [neighbour(0, 0.094), neighbour(1, 0.15), neighbour(6, 0.233)] };
  const knn9 = { k: 3, neighbours: [neighbour(4, 0.2), neighbour(8, 0.26), neighbour(5, 0.31)] };
  const findings: Finding[] = [
    {
      index: 2,
      sampleId: fixtureId(2),
      detector: 'label-issues',
      code: 'LABEL_ISSUE',
      score: 0.91,
      severity: 'high',
      message: 'given label "ham" has probability 0.06; the model predicts "spam" (0.91)',
      evidence: { givenLabel: 'ham', givenProbability: 0.06, suggestedLabel: 'spam', suggestedProbability: 0.91, knn: knn2 },
    },
    {
      index: 7,
      sampleId: fixtureId(7),
      detector: 'label-issues',
      code: 'LABEL_ISSUE',
      score: 0.74,
      severity: 'medium',
      message: 'given label "spam" has probability 0.21; the model predicts "ham" (0.74)',
      evidence: { givenLabel: 'spam', givenProbability: 0.21, suggestedLabel: 'ham', suggestedProbability: 0.74, knn: knn7 },
    },
    {
      index: 2,
      sampleId: fixtureId(2),
      detector: 'knn-consensus',
      code: 'KNN_DISAGREEMENT',
      score: 0.67,
      severity: 'medium',
      message: '2 of 3 nearest neighbours are labelled "spam"',
      evidence: { agreement: 0.333, knn: knn2 },
    },
    {
      index: 9,
      sampleId: fixtureId(9),
      detector: 'label-issues',
      code: 'LABEL_ISSUE',
      score: 0.55,
      severity: 'low',
      message: 'given label "promo" has probability 0.30; the model predicts "spam" (0.55)',
      evidence: { givenLabel: 'promo', givenProbability: 0.3, suggestedLabel: 'spam', suggestedProbability: 0.55, knn: knn9 },
    },
  ];

  const previews: Record<string, SamplePreview> = {
    '2': {
      kind: 'text',
      label: 'ham',
      text: `WIN a FREE cruise!!! ${HOSTILE_SCRIPT} reply now\n${HOSTILE_CSV} and a zero\u200bwidth space, and \u202Eevil\u202C bidi`,
      truncated: false,
    },
    '1': { kind: 'text', label: 'ham', text: 'Lunch at noon? I booked the usual place.', truncated: false },
    '4': { kind: 'text', label: 'spam', text: 'You have WON a FREE cruise, click to claim', truncated: false },
    '5': { kind: 'text', label: 'spam', text: 'FREE cruise tickets waiting for you '.repeat(12), truncated: true },
    '7': { kind: 'image', label: 'spam', path: 'images/spam/0007.png', pngBase64: SHIRT_PNG, width: 12, height: 12 },
    '0': { kind: 'image', label: 'ham', path: 'images/ham/0000.png', pngBase64: STRIPES_PNG, width: 12, height: 12 },
    '6': { kind: 'image', label: 'spam', path: 'images/spam/0006.png', pngBase64: SHIRT_PNG, width: 12, height: 12 },
    '9': { kind: 'row', label: 'promo', values: { subject: 'Spring sale', links: 7, exclamations: 12, sender: null } },
    '8': { kind: 'row', label: 'promo', values: { subject: '20% off shoes', links: 3, exclamations: 1, sender: 'shop@example.org' } },
  };

  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    tool: { name: 'trainguard', version: '0.1.0' },
    createdAt: '2025-01-01T00:00:00.000Z',
    input: {
      path: 'data/messages.csv',
      format: 'csv',
      sha256: sha256Hex('fixture-input'),
      rows: 10,
      columns: { id: 'id', text: 'text', label: 'label' },
      skipped: {
        count: 2,
        byCode: { DATA_BAD_ROW: 1, DATA_MISSING_LABEL: 1 },
        examples: [
          { line: 5, code: 'DATA_BAD_ROW', message: 'expected 3 fields, got 5' },
          { line: 9, code: 'DATA_MISSING_LABEL', message: 'the label is empty' },
        ],
      },
    },
    settings: {
      seed: 42,
      folds: 5,
      k: 3,
      filterBy: 'prune_by_noise_rate',
      featureDim: 4096,
      reducedDim: 64,
      model: 'softmax',
      detectors: ['label-issues', 'knn-consensus'],
      failOn: 'high',
    },
    summary: {
      samples: 10,
      classes: [
        { name: 'ham', count: 4, flagged: 1, estimatedNoiseRate: 0.25 },
        { name: 'spam', count: 4, flagged: 1, estimatedNoiseRate: 0.25 },
        { name: 'promo', count: 2, flagged: 1, estimatedNoiseRate: 0.5 },
      ],
      flagged: 3,
      estimatedNoiseRate: 0.3,
      outOfFoldAccuracy: 0.7,
      noiseMatrix: {
        labels: ['ham', 'spam', 'promo'],
        joint: [
          [0.3, 0.1, 0],
          [0.1, 0.3, 0],
          [0, 0.1, 0.1],
        ],
      },
      scoreHistogram: {
        edges: Array.from({ length: 11 }, (_, i) => i / 10),
        counts: [5, 2, 0, 0, 0, 1, 0, 1, 0, 1],
      },
      maxSeverity: 'high',
      detectors: {
        'label-issues': { filterBy: 'prune_by_noise_rate', issues: 3 },
        'knn-consensus': { k: 3, issues: 1 },
      },
    },
    timings: { read: 3.2, featurize: 41.7, model: 120.4, knn: 8.9, detectors: 15.1, total: 189.3 },
    samples,
    findings,
    previews,
  };
}

/** A 12×12 trigger localisation as the `image-triggers` detector summarises it: a 3×3 patch at (9, 9), or a diffuse blend. */
function fixtureTrigger(cls: string, local: boolean): Record<string, unknown> {
  const w = 12;
  const inPatch = (p: number): boolean => p % w >= 9 && Math.floor(p / w) >= 9;
  const mask = Array.from({ length: w * w }, (_, p) => (local ? (inPatch(p) ? 0.9 : 0.02) : 0.3 + 0.2 * ((p * 7) % 5) / 4));
  const pattern = Array.from({ length: w * w }, (_, p) => (local && inPatch(p) ? (p % 2) : ((p * 13) % 11) / 10));
  return {
    class: cls,
    width: w,
    height: w,
    mask,
    box: local ? { x: 9, y: 9, width: 3, height: 3 } : null,
    pattern,
    members: local ? 3 : 6,
    kind: local ? 'local' : 'diffuse',
    carriers: local ? [4, 5, 6] : [],
    separation: local ? 0.9 : 0.5,
    contrast: local ? 45 : 1.2,
  };
}

/** Per-class score distributions as the backdoor detectors summarise them; `spam` is the poisoned class. */
function fixtureClassScores(): Record<string, unknown>[] {
  const edges = Array.from({ length: 11 }, (_, i) => i / 10);
  return [
    { class: 'ham', rows: 4, poisoned: false, estimatedPoisoned: 0, flagged: 0, histogram: { edges, counts: [3, 1, 0, 0, 0, 0, 0, 0, 0, 0] } },
    { class: 'spam', rows: 4, poisoned: true, estimatedPoisoned: 2, flagged: 2, histogram: { edges, counts: [1, 1, 0, 0, 0, 0, 0, 0, 1, 1] } },
    { class: 'promo', rows: 2, poisoned: false, estimatedPoisoned: 0, flagged: 0, histogram: { edges, counts: [1, 0, 1, 0, 0, 0, 0, 0, 0, 0] } },
  ];
}

/** The fixture report with backdoor detector summaries: localised triggers and per-class score distributions. */
export function backdoorFixtureReport(): ScanReport {
  const base = fixtureReport();
  return {
    ...base,
    settings: { ...base.settings, detectors: [...base.settings.detectors, 'spectre', 'activation-clustering', 'image-triggers'] },
    summary: {
      ...base.summary,
      detectors: {
        ...base.summary.detectors,
        spectre: { classes: fixtureClassScores() },
        'activation-clustering': { classes: fixtureClassScores() },
        'image-triggers': { triggers: [fixtureTrigger('spam', true), fixtureTrigger('ham', false)] },
      },
    },
  };
}
