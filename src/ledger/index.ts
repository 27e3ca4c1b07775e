export { LedgerError } from './errors.ts';
export type { LedgerErrorCode } from './errors.ts';
export {
  HASH_SIZE,
  leafHash,
  nodeHash,
  EMPTY_ROOT,
  rootFromLeafHashes,
  treeRoot,
  treeRootPlan,
  inclusionProof,
  inclusionProofPlan,
  consistencyProof,
  consistencyProofPlan,
  verifyInclusion,
  verifyConsistency,
} from './merkle.ts';
export type { HashReader, NodeId, ProofElementPlan } from './merkle.ts';
export {
  TILE_HEIGHT,
  TILE_WIDTH,
  MAX_ENTRY_SIZE,
  CHECKPOINT_PATH,
  formatTileIndex,
  formatTilePath,
  parseTilePath,
  encodeHashTile,
  decodeHashTile,
  encodeEntryBundle,
  decodeEntryBundle,
  FileTileStorage,
  MemoryTileStorage,
  readTileBytes,
} from './tiles.ts';
export type { TileRef, TileStorage, StoredObject, FileTileStorageOptions } from './tiles.ts';
export { Log, createLog, openLog, openLogStorage, checkpointBody } from './log.ts';
export type { LogOptions, AppendOptions, AppendResult } from './log.ts';
export { encodeReceipt, parseReceipt, RECEIPT_HEADER } from './receipt.ts';
export type { Receipt } from './receipt.ts';
export { buildSampleSet, sampleProof, verifySampleProof } from './sample-set.ts';
export type { SampleSet } from './sample-set.ts';
export {
  SIG_TYPE_ED25519,
  SIG_TYPE_COSIGNATURE_V1,
  ED25519_SIGNATURE_SIZE,
  isValidKeyName,
  computeKeyId,
  encodeBase64,
  decodeBase64,
  ed25519PublicKeyObject,
  ed25519Verify,
  parseVerifierKey,
  formatVerifierKey,
  createNoteVerifier,
  parseSignerKey,
  generateKey,
  Ed25519Signer,
  Ed25519Verifier,
} from './keys.ts';
export type { VerifierKey, NoteVerifier, NoteSigner } from './keys.ts';
export { MAX_NOTE_SIGNATURES, checkNoteText, parseNote, formatNote, formatSignatureLine, signNote, verifyNote } from './note.ts';
export type { Note, NoteSignature, VerifiedNote, NoteOptions } from './note.ts';
export {
  formatCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  openCheckpoint,
  cosignCheckpoint,
  cosignatureMessage,
  createCosignatureVerifier,
  CosignatureVerifier,
  CosignatureSigner,
  MAX_POLICY_ITEMS,
  parsePolicy,
  quorumSatisfied,
  verifyCheckpointWithPolicy,
} from './checkpoint.ts';
export type { Checkpoint, Cosignature, OpenedCheckpoint, OpenCheckpointOptions, Policy, PolicyLog, PolicyWitness, PolicyGroup, PolicyCheckpoint } from './checkpoint.ts';
export {
  MAX_ENVELOPE_SIGNATURES,
  pae,
  decodeDsseBase64,
  parseEnvelope,
  formatEnvelope,
  signEnvelope,
  verifyEnvelope,
  createDsseSigner,
  createDsseVerifier,
  createDsseVerifierFromKey,
  IN_TOTO_STATEMENT_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  buildStatement,
  encodeStatement,
  parseStatement,
  findSubject,
  signStatement,
  verifyStatement,
} from './dsse.ts';
export type { Envelope, EnvelopeSignature, DsseSigner, DsseVerifier, VerifiedEnvelope, VerifyEnvelopeOptions, ResourceDescriptor, Statement } from './dsse.ts';
