import type { Detector } from './detector.ts';
import { DetectorError } from './errors.ts';
import { LABEL_QUALITY_METHODS } from './confident-learning.ts';
import type { LabelQualityMethod } from './confident-learning.ts';
import { LABEL_ISSUE_FILTERS, createLabelIssueDetector, labelIssueDetector } from './label-issues.ts';
import type { LabelIssueDetectorOptions, LabelIssueFilter } from './label-issues.ts';
import { createDuplicatesDetector } from './duplicates.ts';
import { createNearDuplicatesDetector } from './near-duplicates.ts';
import { createOutliersDetector } from './outliers.ts';
import { createValidationDetector } from './validation.ts';
import { createTextTriggersDetector } from './text-triggers.ts';
import { createActivationClusteringDetector, createSpectralSignaturesDetector, createSpectreDetector } from './backdoor/detectors.ts';

/**
 * Options as they arrive from config or flags (strings not yet checked). Each detector takes the
 * keys it knows and checks them; unknown values fail with DETECTOR_BAD_OPTION.
 */
export interface DetectorOptions {
  readonly filterBy?: string;
  readonly knnWeight?: number;
  readonly scoreMethod?: string;
  readonly minExamplesPerClass?: number;
  readonly fracNoise?: number;
  readonly knnK?: number;
  /** Backdoor detectors: upper bound on a class's poisoned share, or 'auto' to estimate it. */
  readonly budget?: 'auto' | number;
}

type DetectorFactory = (options: DetectorOptions) => Detector;

// Detectors that take no scan-level options ignore them; later detectors register here.
const factories = new Map<string, DetectorFactory>([
  [labelIssueDetector.name, (o) => createLabelIssueDetector(labelIssueOptions(o))],
  ['duplicates', () => createDuplicatesDetector()],
  ['near-duplicates', () => createNearDuplicatesDetector()],
  ['outliers', () => createOutliersDetector()],
  ['validation', () => createValidationDetector()],
  ['text-triggers', () => createTextTriggersDetector()],
  ['spectre', (o) => createSpectreDetector(o.budget === undefined ? {} : { budget: o.budget })],
  ['spectral-signatures', (o) => createSpectralSignaturesDetector(o.budget === undefined ? {} : { budget: o.budget })],
  ['activation-clustering', () => createActivationClusteringDetector()],
]);

/** Every detector the scan can run, by name, with default options. */
export const detectorRegistry: ReadonlyMap<string, Detector> = new Map<string, Detector>(
  [...factories].map(([name, make]) => [name, name === labelIssueDetector.name ? labelIssueDetector : make({})]),
);

/** The detector called `name` with default options; DETECTOR_UNKNOWN (with the known names as hint) otherwise. */
export function getDetector(name: string): Detector {
  const detector = detectorRegistry.get(name);
  if (detector === undefined) throw unknownDetector(name);
  return detector;
}

/** The detector called `name` configured with `options` (from config or flags). */
export function createDetector(name: string, options: DetectorOptions = {}): Detector {
  const factory = factories.get(name);
  if (factory === undefined) throw unknownDetector(name);
  return factory(options);
}

/** All registered detectors (default options), sorted by name. */
export function listDetectors(): Detector[] {
  return [...detectorRegistry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names of all registered detectors, sorted. */
export function listDetectorNames(): string[] {
  return listDetectors().map((d) => d.name);
}

function unknownDetector(name: string): DetectorError {
  return new DetectorError('DETECTOR_UNKNOWN', `unknown detector "${name}"`, { hint: `known detectors: ${listDetectorNames().join(', ')}` });
}

function labelIssueOptions(o: DetectorOptions): LabelIssueDetectorOptions {
  return {
    ...(o.filterBy === undefined ? {} : { filterBy: oneOf<LabelIssueFilter>(LABEL_ISSUE_FILTERS, o.filterBy, 'filterBy') }),
    ...(o.scoreMethod === undefined ? {} : { scoreMethod: oneOf<LabelQualityMethod>(LABEL_QUALITY_METHODS, o.scoreMethod, 'scoreMethod') }),
    ...(o.knnWeight === undefined ? {} : { knnWeight: o.knnWeight }),
    ...(o.minExamplesPerClass === undefined ? {} : { minExamplesPerClass: o.minExamplesPerClass }),
    ...(o.fracNoise === undefined ? {} : { fracNoise: o.fracNoise }),
    ...(o.knnK === undefined ? {} : { knnK: o.knnK }),
  };
}

function oneOf<T extends string>(allowed: readonly T[], value: string, what: string): T {
  const hit = allowed.find((a) => a === value);
  if (hit === undefined) {
    throw new DetectorError('DETECTOR_BAD_OPTION', `unknown ${what} "${value}"`, { hint: `use one of ${allowed.join(', ')}` });
  }
  return hit;
}
