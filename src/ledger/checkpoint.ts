import { LedgerError } from './errors.ts';
import {
  ED25519_SIGNATURE_SIZE,
  Ed25519Verifier,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  computeKeyId,
  decodeBase64,
  ed25519PublicKeyObject,
  ed25519Verify,
  encodeBase64,
  formatVerifierKey,
  isValidKeyName,
  parseVerifierKey,
} from './keys.ts';
import type { Ed25519Signer, NoteSigner, NoteVerifier, VerifierKey } from './keys.ts';
import { parseNote, signNote, verifyNote } from './note.ts';
import type { NoteSignature, VerifiedNote } from './note.ts';
import type { KeyObject } from 'node:crypto';

/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) note text:
 *   <origin>\n<tree size, decimal, no leading zeros>\n<base64 root hash>\n[<extension line>\n]*
 * and Ed25519 tlog-cosignature/v1 (https://c2sp.org/tlog-cosignature), type 0x04:
 *   signature = keyID[4] ‖ timestamp u64 BE ‖ Ed25519(“cosignature/v1\ntime <ts>\n” ‖ checkpoint text)
 */

export interface Checkpoint {
  /** Unique identifier of the log, e.g. `example.com/log42`. */
  readonly origin: string;
  /** Number of leaves (a safe integer). */
  readonly size: number;
  /** RFC 6962 root hash of the tree at `size` (32 bytes). */
  readonly rootHash: Uint8Array;
  /** Opaque extension lines (not recommended; not covered by monitors). */
  readonly extensions: readonly string[];
}

const ROOT_HASH_SIZE = 32;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const CONTROL_CHAR = /[\x00-\x1f]/;
/** 2^63 − 1: the largest cosignature timestamp the spec allows. */
const MAX_TIMESTAMP = (1n << 63n) - 1n;

function badCheckpoint(message: string, hint?: string): LedgerError {
  return new LedgerError('LEDGER_BAD_CHECKPOINT', message, hint === undefined ? {} : { hint });
}

/** The note text of a checkpoint. */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || CONTROL_CHAR.test(cp.origin)) throw badCheckpoint('checkpoint origin must be a non-empty line without control characters');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw badCheckpoint(`checkpoint size ${cp.size} is not a non-negative safe integer`);
  if (cp.rootHash.byteLength !== ROOT_HASH_SIZE) throw badCheckpoint(`checkpoint root hash must be ${ROOT_HASH_SIZE} bytes, got ${cp.rootHash.byteLength}`);
  for (const ext of cp.extensions) {
    if (ext.length === 0 || CONTROL_CHAR.test(ext)) throw badCheckpoint('checkpoint extension lines must be non-empty, without control characters');
  }
  return [cp.origin, String(cp.size), encodeBase64(cp.rootHash), ...cp.extensions].map((l) => `${l}\n`).join('');
}

/** Parses a checkpoint note text strictly (decimal without leading zeros, canonical base64 of 32 bytes). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw badCheckpoint('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw badCheckpoint(`checkpoint has ${lines.length} lines; needs origin, tree size and root hash`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  for (const line of lines) {
    if (CONTROL_CHAR.test(line)) throw badCheckpoint('checkpoint contains a control character');
  }
  if (origin.length === 0) throw badCheckpoint('checkpoint origin line is empty');
  if (!DECIMAL.test(sizeText)) {
    throw badCheckpoint(`checkpoint tree size ${JSON.stringify(sizeText.slice(0, 40))} is not a decimal without leading zeros`);
  }
  // Length check first so a hostile 1 MB number is not parsed; 16 digits bound 2^53.
  if (sizeText.length > 16 || BigInt(sizeText) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw badCheckpoint(`checkpoint tree size ${sizeText.slice(0, 40)} is larger than 2^53 − 1`, 'this log implementation supports trees up to 2^53 − 1 leaves');
  }
  const rootHash = decodeBase64(rootText);
  if (rootHash === undefined || rootHash.byteLength !== ROOT_HASH_SIZE) {
    throw badCheckpoint('checkpoint root hash is not canonical base64 of 32 bytes');
  }
  if (extensions.some((e) => e.length === 0)) throw badCheckpoint('checkpoint extension lines must be non-empty');
  return { origin, size: Number(sizeText), rootHash, extensions };
}

/** A signed checkpoint note. */
export function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(cp), signers);
}

/** `cosignature/v1\ntime <ts>\n` ‖ checkpoint text: the message an Ed25519 cosigner signs. */
export function cosignatureMessage(text: string | Uint8Array, timestamp: bigint): Uint8Array {
  const header = Buffer.from(`cosignature/v1\ntime ${timestamp.toString(10)}\n`, 'utf8');
  return Buffer.concat([header, typeof text === 'string' ? Buffer.from(text, 'utf8') : text]);
}

function toTimestamp(t: number | bigint): bigint {
  if (typeof t === 'number' && !Number.isSafeInteger(t)) throw new LedgerError('LEDGER_BAD_INPUT', `cosignature timestamp ${t} is not an integer`);
  const ts = BigInt(t);
  if (ts < 0n || ts > MAX_TIMESTAMP) throw new LedgerError('LEDGER_BAD_INPUT', `cosignature timestamp ${ts} is outside 0 … 2^63 − 1`);
  return ts;
}

/** Verifies Ed25519 cosignature/v1 signatures (type 0x04) of one witness. */
export class CosignatureVerifier implements NoteVerifier {
  readonly name: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  constructor(name: string, publicKey: Uint8Array) {
    const key = ed25519PublicKeyObject(publicKey);
    if (!isValidKeyName(name) || key === undefined) throw new LedgerError('LEDGER_BAD_KEY', `cosigner key ${JSON.stringify(name)}: invalid name or Ed25519 public key`);
    this.name = name;
    this.publicKey = Uint8Array.from(publicKey);
    this.keyId = computeKeyId(name, SIG_TYPE_COSIGNATURE_V1, publicKey);
    this.#key = key;
  }

  /** The 0x04 vkey text form. */
  get vkey(): string {
    return formatVerifierKey({ name: this.name, type: SIG_TYPE_COSIGNATURE_V1, publicKey: this.publicKey });
  }

  verify(text: Uint8Array, signature: Uint8Array): boolean {
    if (signature.byteLength !== 8 + ED25519_SIGNATURE_SIZE) return false;
    const ts = Buffer.from(signature.buffer, signature.byteOffset, 8).readBigUInt64BE(0);
    if (ts > MAX_TIMESTAMP) return false;
    return ed25519Verify(this.#key, cosignatureMessage(text, ts), signature.subarray(8));
  }
}

/**
 * A witness verifier from its vkey. A 0x04 vkey is used as is; a 0x01 vkey of the same Ed25519
 * key is accepted too and its 0x04 key ID re-derived (as transparency-dev/formats does).
 */
export function createCosignatureVerifier(vkey: string | VerifierKey): CosignatureVerifier {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (key.type !== SIG_TYPE_COSIGNATURE_V1 && key.type !== SIG_TYPE_ED25519) {
    throw new LedgerError('LEDGER_BAD_KEY', `cosigner key ${key.name}: unsupported signature type ${key.type}`);
  }
  return new CosignatureVerifier(key.name, key.publicKey);
}

/** Produces cosignature/v1 signatures with an Ed25519 key at a fixed timestamp. */
export class CosignatureSigner implements NoteSigner {
  readonly name: string;
  readonly keyId: string;
  readonly timestamp: bigint;
  readonly #signer: Ed25519Signer;

  constructor(signer: Ed25519Signer, timestamp: number | bigint) {
    this.#signer = signer;
    this.name = signer.name;
    this.keyId = computeKeyId(signer.name, SIG_TYPE_COSIGNATURE_V1, signer.publicKey);
    this.timestamp = toTimestamp(timestamp);
  }

  sign(text: Uint8Array): Uint8Array {
    const out = Buffer.alloc(8 + ED25519_SIGNATURE_SIZE);
    out.writeBigUInt64BE(this.timestamp, 0);
    out.set(this.#signer.sign(cosignatureMessage(text, this.timestamp)), 8);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** The matching verifier. */
  verifier(): CosignatureVerifier {
    return new CosignatureVerifier(this.name, this.#signer.publicKey);
  }
}

/** A verified witness cosignature. */
export interface Cosignature {
  readonly name: string;
  readonly keyId: string;
  /** POSIX seconds at which the witness cosigned. */
  readonly timestamp: bigint;
}

/** A checkpoint whose log signature (and any known witness cosignatures) verified. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: VerifiedNote;
  /** Valid cosignatures from the configured witnesses (unknown ones are ignored). */
  readonly cosignatures: readonly Cosignature[];
}

export interface OpenCheckpointOptions {
  /** Witness keys whose cosignatures are checked and reported. */
  readonly witnesses?: readonly NoteVerifier[];
  /** Required origin line; rejects checkpoints of another log signed with the same key. */
  readonly origin?: string;
  /** Fewest distinct witnesses whose valid cosignatures are required (default 0). */
  readonly witnessQuorum?: number;
}

function cosignatureOf(sig: NoteSignature): Cosignature {
  const ts = Buffer.from(sig.signature.buffer, sig.signature.byteOffset, sig.signature.byteLength).readBigUInt64BE(0);
  return { name: sig.name, keyId: sig.keyId, timestamp: ts };
}

/**
 * Verifies a signed checkpoint: the log's signature is required (LEDGER_UNVERIFIED otherwise),
 * every signature by a known log or witness key must be valid (LEDGER_BAD_SIGNATURE), the body
 * must parse (LEDGER_BAD_CHECKPOINT) and match `origin` when given, and at least `witnessQuorum`
 * distinct configured witnesses must have cosigned (LEDGER_UNVERIFIED).
 */
export function openCheckpoint(note: string | Uint8Array, log: NoteVerifier, options: OpenCheckpointOptions = {}): OpenedCheckpoint {
  const witnesses = options.witnesses ?? [];
  const verified = verifyNote(note, [log, ...witnesses]);
  if (!verified.verified.some((s) => s.name === log.name && s.keyId === log.keyId)) {
    throw new LedgerError('LEDGER_UNVERIFIED', `checkpoint is not signed by the log key ${log.name}+${log.keyId}`, {
      hint: 'only witness cosignatures were found; a checkpoint needs the log signature',
    });
  }
  const checkpoint = parseCheckpoint(verified.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw badCheckpoint(`checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the expected ${JSON.stringify(options.origin)}`, 'the checkpoint belongs to another log');
  }
  const witnessIds = new Set(witnesses.map((w) => `${w.name} ${w.keyId}`));
  const cosignatures = verified.verified.filter((s) => witnessIds.has(`${s.name} ${s.keyId}`)).map(cosignatureOf);
  const quorum = options.witnessQuorum ?? 0;
  if (cosignatures.length < quorum) {
    throw new LedgerError('LEDGER_UNVERIFIED', `checkpoint has ${cosignatures.length} valid witness cosignatures; ${quorum} required`, {
      hint: `expected cosignatures from: ${witnesses.map((w) => `${w.name}+${w.keyId}`).join(', ') || '(no witnesses configured)'}`,
    });
  }
  return { checkpoint, note: verified, cosignatures };
}

/**
 * Adds a witness cosignature to a signed checkpoint. The log signature is verified first: a
 * witness must never vouch for a checkpoint the log did not sign. (Consistency with the witness's
 * previous checkpoint is the caller's job, see c2sp.org/tlog-witness.)
 */
export function cosignCheckpoint(note: string, options: { readonly log: NoteVerifier; readonly witness: Ed25519Signer; readonly timestamp: number | bigint }): string {
  openCheckpoint(note, options.log);
  return signNote(parseNote(note), [new CosignatureSigner(options.witness, options.timestamp)]);
}

// ---- tlog-policy (https://c2sp.org/tlog-policy): which logs and witnesses, and the quorum ----

/** Upper bounds on policy size (the spec asks for at least 32 of each). */
export const MAX_POLICY_ITEMS = 256;

export interface PolicyLog {
  readonly verifier: Ed25519Verifier;
  readonly url: string | undefined;
}

export interface PolicyWitness {
  /** The policy-local name used by groups and the quorum (not the vkey's key name). */
  readonly name: string;
  readonly verifier: CosignatureVerifier;
  readonly url: string | undefined;
}

export interface PolicyGroup {
  readonly name: string;
  /** How many members must have witnessed (1 ≤ threshold ≤ members.length). */
  readonly threshold: number;
  readonly members: readonly string[];
}

export interface Policy {
  readonly logs: readonly PolicyLog[];
  readonly witnesses: readonly PolicyWitness[];
  readonly groups: readonly PolicyGroup[];
  /** A witness or group name, or `none` when no cosignatures are required. */
  readonly quorum: string;
}

// Allowed octets: tab, newline, 0x20–0x7E and anything ≥ 0x80 (tlog-policy §Character set).
const POLICY_BAD_CHAR = /[\x00-\x08\x0b-\x1f\x7f]/;

/**
 * Parses a tlog-policy file strictly: groups and the quorum may only name earlier definitions,
 * thresholds are 1 ≤ k ≤ n in plain decimal, no duplicate keys or names, a name is a group member
 * at most once, exactly one quorum line. Log keys must be Ed25519 (0x01), witness keys 0x04.
 * Input must be UTF-8 (the spec only recommends it; we require it so key names hash as written).
 */
export function parsePolicy(input: string | Uint8Array): Policy {
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch (cause) {
    throw new LedgerError('LEDGER_BAD_POLICY', 'policy file is not valid UTF-8', { cause });
  }
  const logs: PolicyLog[] = [];
  const witnesses: PolicyWitness[] = [];
  const groups: PolicyGroup[] = [];
  const defined = new Map<string, 'witness' | 'group'>();
  const usedAsMember = new Set<string>();
  const keys = new Set<string>();
  let quorum: string | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const bad = (message: string, hint?: string): LedgerError =>
      new LedgerError('LEDGER_BAD_POLICY', `policy line ${line}: ${message}`, hint === undefined ? { line } : { line, hint });
    if (POLICY_BAD_CHAR.test(raw)) throw bad('control character (only tab and newline are allowed)');
    const trimmed = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [keyword, ...args] = trimmed.split(/[ \t]+/) as [string, ...string[]];
    const parseKey = (vkey: string, type: number, what: string): VerifierKey => {
      let key: VerifierKey;
      try {
        key = parseVerifierKey(vkey);
      } catch (cause) {
        throw new LedgerError('LEDGER_BAD_POLICY', `policy line ${line}: invalid ${what} vkey`, { line, cause });
      }
      if (key.type !== type) throw bad(`${what} vkey must have signature type 0x0${type}, not 0x0${key.type}`);
      const raw32 = Buffer.from(key.publicKey).toString('hex');
      if (keys.has(raw32)) throw bad(`duplicate public key (${key.name})`, 'each log and witness must have its own key');
      keys.add(raw32);
      return key;
    };
    const define = (name: string, kind: 'witness' | 'group'): void => {
      if (name === 'none') throw bad('"none" is a reserved name');
      if (defined.has(name)) throw bad(`name ${JSON.stringify(name)} is already defined`);
      if (defined.size >= 2 * MAX_POLICY_ITEMS) throw bad('too many witnesses and groups');
      defined.set(name, kind);
    };
    switch (keyword) {
      case 'log': {
        if (args.length < 1 || args.length > 2) throw bad('expected: log <vkey> [<url>]');
        if (logs.length >= MAX_POLICY_ITEMS) throw bad(`more than ${MAX_POLICY_ITEMS} logs`);
        const key = parseKey(args[0] as string, SIG_TYPE_ED25519, 'log');
        logs.push({ verifier: new Ed25519Verifier(key.name, key.publicKey), url: args[1] });
        return;
      }
      case 'witness': {
        if (args.length < 2 || args.length > 3) throw bad('expected: witness <name> <vkey> [<url>]');
        const name = args[0] as string;
        define(name, 'witness');
        const key = parseKey(args[1] as string, SIG_TYPE_COSIGNATURE_V1, 'witness');
        witnesses.push({ name, verifier: new CosignatureVerifier(key.name, key.publicKey), url: args[2] });
        return;
      }
      case 'group': {
        if (args.length < 3) throw bad('expected: group <name> <all|any|k> <member>...');
        const [name, k, ...members] = args as [string, string, ...string[]];
        for (const m of members) {
          if (m === 'none') throw bad('"none" cannot be a group member');
          if (!defined.has(m)) throw bad(`group member ${JSON.stringify(m)} is not defined on an earlier line`);
          if (usedAsMember.has(m)) throw bad(`${JSON.stringify(m)} is already a group member`, 'each name may be listed as a group member at most once');
          usedAsMember.add(m);
        }
        let threshold: number;
        if (k === 'all') threshold = members.length;
        else if (k === 'any') threshold = 1;
        else if (DECIMAL.test(k) && k.length <= 4 && Number(k) >= 1 && Number(k) <= members.length) threshold = Number(k);
        else throw bad(`group threshold ${JSON.stringify(k)} must be all, any or a decimal 1 … ${members.length}`);
        define(name, 'group');
        groups.push({ name, threshold, members });
        return;
      }
      case 'quorum': {
        if (args.length !== 1) throw bad('expected: quorum <name>');
        if (quorum !== undefined) throw bad('a policy has exactly one quorum line');
        const name = args[0] as string;
        if (name !== 'none' && !defined.has(name)) throw bad(`quorum ${JSON.stringify(name)} is not defined on an earlier line`);
        quorum = name;
        return;
      }
      default:
        throw bad(`unknown keyword ${JSON.stringify(keyword.slice(0, 40))}`, 'lines start with log, witness, group or quorum');
    }
  });
  if (quorum === undefined) {
    throw new LedgerError('LEDGER_BAD_POLICY', 'policy has no quorum line', { hint: 'add `quorum none` to require no witness cosignatures' });
  }
  return { logs, witnesses, groups, quorum };
}

/** True when the witnesses named in `cosigned` (policy names) satisfy the policy's quorum. */
export function quorumSatisfied(policy: Policy, cosigned: ReadonlySet<string>): boolean {
  if (policy.quorum === 'none') return true;
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  const memo = new Map<string, boolean>();
  // Groups only reference earlier names, so this recursion is acyclic and at most one level per group.
  const witnessed = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const g = groups.get(name);
    const result = g === undefined ? cosigned.has(name) : g.members.filter(witnessed).length >= g.threshold;
    memo.set(name, result);
    return result;
  };
  return witnessed(policy.quorum);
}

/** A checkpoint accepted under a policy, with the policy names of the witnesses that cosigned. */
export interface PolicyCheckpoint extends OpenedCheckpoint {
  /** Key name of the log whose signature verified (equal to the origin). */
  readonly log: string;
  readonly witnesses: readonly string[];
}

/**
 * Verifies a checkpoint under a policy: signed by one of the policy's logs whose key name is the
 * origin, every known signature valid, and cosignatures meeting the quorum (LEDGER_UNVERIFIED).
 */
export function verifyCheckpointWithPolicy(note: string | Uint8Array, policy: Policy): PolicyCheckpoint {
  const logVerifiers = policy.logs.map((l) => l.verifier);
  const witnessVerifiers = policy.witnesses.map((w) => w.verifier);
  const verified = verifyNote(note, [...logVerifiers, ...witnessVerifiers]);
  const checkpoint = parseCheckpoint(verified.text);
  const id = (s: { name: string; keyId: string }): string => `${s.name} ${s.keyId}`;
  const logIds = new Set(logVerifiers.map(id));
  const signedBy = verified.verified.filter((s) => logIds.has(id(s)));
  if (signedBy.length === 0) {
    throw new LedgerError('LEDGER_UNVERIFIED', 'checkpoint is not signed by any log in the policy', { hint: 'check the policy\'s log lines' });
  }
  const log = signedBy.find((s) => s.name === checkpoint.origin);
  if (log === undefined) {
    throw badCheckpoint(`checkpoint origin ${JSON.stringify(checkpoint.origin)} does not match the signing log key ${signedBy[0]?.name ?? ''}`, 'a policy log key name must equal its checkpoints\' origin line');
  }
  const byId = new Map(policy.witnesses.map((w) => [id(w.verifier), w.name]));
  const cosigs = verified.verified.filter((s) => byId.has(id(s)));
  const names = cosigs.map((s) => byId.get(id(s)) as string);
  if (!quorumSatisfied(policy, new Set(names))) {
    throw new LedgerError('LEDGER_UNVERIFIED', `witness quorum ${policy.quorum} not met (cosigned by: ${names.join(', ') || 'none'})`, {
      hint: 'collect cosignatures from the policy\'s witnesses before trusting this checkpoint',
    });
  }
  return { checkpoint, note: verified, cosignatures: cosigs.map(cosignatureOf), log: log.name, witnesses: names };
}
