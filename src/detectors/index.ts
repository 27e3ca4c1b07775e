export type { Detector, DetectorContext, DetectorResult, DetectorNeed } from './detector.ts';
