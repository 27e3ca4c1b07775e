export type { Detector, DetectorContext, DetectorResult, DetectorNeed, DetectorPerSample, LearnedRepresentation } from './detector.ts';
export { DetectorError } from './errors.ts';
export type { DetectorErrorCode } from './errors.ts';
export type { ProbMatrix } from './inputs.ts';
export {
  ABSENT_CLASS_THRESHOLD,
  CONFIDENT_THRESHOLD_FLOOR,
  FILTER_BY_MODES,
  FLOATING_POINT_COMPARISON,
  LABEL_QUALITY_METHODS,
  calibrateConfidentJoint,
  confidentJoint,
  confidentThresholds,
  estimateJoint,
  findLabelIssues,
  labelQualityScores,
  numLabelIssues,
  pruneCountMatrix,
  rankLabelIssues,
  roundPreservingRowTotals,
  roundPreservingSum,
} from './confident-learning.ts';
export type {
  ConfidentJoint,
  ConfidentJointOptions,
  FilterBy,
  FindLabelIssuesOptions,
  JointEstimate,
  LabelQualityMethod,
  LabelQualityOptions,
  NumLabelIssuesMethod,
  NumLabelIssuesOptions,
} from './confident-learning.ts';
export { knnConsensus } from './knn-consensus.ts';
export type { KnnConsensus, KnnConsensusOptions } from './knn-consensus.ts';
export {
  DEFAULT_KNN_WEIGHT,
  LABEL_ISSUE_CODE,
  LABEL_ISSUES_DETECTOR,
  LABEL_ISSUE_FILTERS,
  AUTO_FILTER,
  CONCENTRATED_NOISE,
  RANK_BY_NOISE_RATE,
  createLabelIssueDetector,
  labelIssueDetector,
  severityFor,
} from './label-issues.ts';
export type { LabelIssueDetectorOptions, LabelIssueFilter } from './label-issues.ts';
export { createDetector, detectorRegistry, getDetector, listDetectorNames, listDetectors } from './registry.ts';
export type { DetectorOptions } from './registry.ts';
export { createDuplicatesDetector } from './duplicates.ts';
export { createNearDuplicatesDetector } from './near-duplicates.ts';
export type { NearDuplicatesOptions } from './near-duplicates.ts';
export { findNearDuplicateTexts, minhashSignatures, estimateJaccard } from './minhash.ts';
export { createOutliersDetector } from './outliers.ts';
export { createValidationDetector, validateDataset, VALIDATION_CODES } from './validation.ts';
export type { ValidationOptions, ValidationIssue, ValidationCode } from './validation.ts';
export { analyzeSources, SOURCES_DETECTOR } from './sources.ts';
export type { SourceAnalysis, SourceStats } from './sources.ts';
export {
  BASELINE_SCHEMA,
  BASELINE_VERSION,
  DRIFT_CODES,
  DRIFT_DETECTOR,
  SAMPLE_TEXT_CHARS,
  buildBaseline,
  createDriftDetector,
  jensenShannonDistance,
  linfDistance,
  populationStabilityIndex,
} from './drift.ts';
export type { Baseline, BaselineOptions, DriftOptions, DriftCode, FeatureBaseline, FeatureDrift, NumericBaseline, ReferenceRow, SchemaViolation } from './drift.ts';
export { DEFAULT_DOMAIN_THRESHOLD, scoreAgainstReference } from './reference.ts';
export type { DomainDrift, ReferenceComparison, ReferenceInput, ReferenceSkipped } from './reference.ts';
export { createTextTriggersDetector, TEXT_TRIGGERS_DETECTOR, TEXT_TRIGGER_CODE } from './text-triggers.ts';
export type { TextTriggerOptions } from './text-triggers.ts';
export { createSpectreDetector, createSpectralSignaturesDetector, createActivationClusteringDetector, spectralSignatureScores, activationClusteringScores, SPECTRE_DEFAULTS } from './backdoor/detectors.ts';
export type { BackdoorOptions } from './backdoor/detectors.ts';
export { spectre, que, whiten, robustKeep } from './backdoor/spectre.ts';
export type { SpectreOptions, SpectreResult } from './backdoor/spectre.ts';
export type { BackdoorClassSummary } from './backdoor/verdict.ts';
export { findImageTriggers, localizeTrigger, pixelImage, IMAGE_TRIGGERS_DETECTOR, BACKDOOR_TRIGGER_CARRIER_CODE } from './backdoor/image-triggers.ts';
export type { TriggerLocalization, TriggerBox } from './backdoor/image-triggers.ts';
/** The detectors whose flags feed trigger localisation. */
export const BACKDOOR_DETECTORS: ReadonlySet<string> = new Set(['spectre', 'spectral-signatures', 'activation-clustering']);
