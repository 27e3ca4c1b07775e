export { plantSymmetricFlips, plantTargetedFlips } from './flips.ts';
export type { PlantedFlips } from './flips.ts';
export { evaluateDetection } from './evaluate.ts';
export type { DetectionQuality } from './evaluate.ts';
export { RedteamError } from './errors.ts';
export type { RedteamErrorCode } from './errors.ts';
