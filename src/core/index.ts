export { TrainGuardError, CoreError, isTrainGuardError } from './errors.ts';
export type { ErrorDetails, CoreErrorCode } from './errors.ts';
export { sha256Hex, sha256Parts } from './digest.ts';
export { canonicalJson } from './canonical-json.ts';
export { createRng } from './rng.ts';
export type { Rng } from './rng.ts';
export { SEVERITIES, severityRank, isSeverity, silentLogger } from './types.ts';
export type { Severity, Finding, ProgressFn, Logger } from './types.ts';
export { fsyncDir, isProcessAlive } from './durable-fs.ts';
