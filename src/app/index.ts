export { scanFile } from './scan-file.ts';
export type { ScanFileResult } from './scan-file.ts';
export { runDemo, DEMO_SCENARIOS, writePoisonedCorpus, evaluateReport } from './demo.ts';
export type { DemoResult, DemoScenario, PoisonedCorpus } from './demo.ts';
export { loadSpamAssassin } from './spamassassin.ts';
export type { Mail } from './spamassassin.ts';
export { digestInput } from './input-digest.ts';
export { TOOL_VERSION } from './version.ts';
// The CLI renders reports and maps errors to exit codes; it reaches scan only through app.
export { renderReport, hasFailingFindings } from '../scan/index.ts';
export type { ScanReport } from '../scan/index.ts';
export type { DetectionQuality } from '../redteam/index.ts';
export { injectFile, evaluateRedteam, type InjectFileOptions, type InjectFileResult } from './redteam.ts';
export { createBaselineFile, loadBaseline, validateBaseline } from './baseline.ts';
export type { Baseline } from '../detectors/index.ts';
export { cosignFile, serveTiles, generateKeyFiles, showKey, initLog, appendEntries, latestCheckpoint, proveEntry, consistencyBetween, verifyReceiptFile, encodeEntry, MAX_ENTRY_BYTES } from './ledger.ts';
export type { EntryInput, VerifiedReceipt } from './ledger.ts';
export { createSnapshot, verifyFileInSnapshot, verifySnapshot, SNAPSHOT_PREDICATE_TYPE } from './snapshot.ts';
export type { SnapshotOptions, SnapshotPredicate, SnapshotVerification } from './snapshot.ts';
