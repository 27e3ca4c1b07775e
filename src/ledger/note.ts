import { LedgerError } from './errors.ts';
import { decodeBase64, encodeBase64, isValidKeyName } from './keys.ts';
import type { NoteSigner, NoteVerifier } from './keys.ts';

/**
 * C2SP signed notes (https://c2sp.org/signed-note):
 *   note    = text LF 1*sigline          text = 1*(line LF), split off at the LAST blank line
 *   sigline = "— " name SP base64(keyID[4] ‖ signature) LF      (— is U+2014, bytes E2 80 94)
 * The signed message is exactly `text`, including its final newline.
 */

/** Go's sumdb/note caps a note at 100 signatures; the spec asks verifiers to accept at least 16. */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 ';
// ASCII control characters other than LF are forbidden anywhere in a note (spec §Format).
const CONTROL_CHAR = /[\x00-\x09\x0b-\x1f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One signature line: key name, key ID (8 hex digits) and the signature bytes after the key ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: string;
  readonly signature: Uint8Array;
}

/** A note split into its signed text and its signature lines (nothing verified). */
export interface Note {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note with at least one signature verified by a known key. */
export interface VerifiedNote extends Note {
  /** Signatures from known keys, all valid (one per name and key ID). */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys not in the known set: ignored, as the spec requires. */
  readonly unverified: readonly NoteSignature[];
}

export interface NoteOptions {
  /** Most signature lines accepted (default 100). */
  readonly maxSignatures?: number;
}

function badNote(message: string, hint?: string): LedgerError {
  return new LedgerError('LEDGER_BAD_NOTE', message, hint === undefined ? {} : { hint });
}

/** Decodes note bytes as strict UTF-8 (no replacement characters) and checks the character rules. */
function noteString(msg: string | Uint8Array): string {
  let s: string;
  if (typeof msg === 'string') {
    if (LONE_SURROGATE.test(msg)) throw badNote('note is not valid UTF-8 (lone surrogate)');
    s = msg;
  } else {
    try {
      s = utf8.decode(msg);
    } catch (cause) {
      throw new LedgerError('LEDGER_BAD_NOTE', 'note is not valid UTF-8', { cause });
    }
  }
  const bad = CONTROL_CHAR.exec(s);
  if (bad !== null) {
    throw badNote(`note contains control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${bad.index}`, 'notes may contain no ASCII control characters other than newline (no CR, no tabs)');
  }
  return s;
}

/** Throws LEDGER_BAD_NOTE unless `text` can be the text of a signed note. */
export function checkNoteText(text: string): void {
  noteString(text);
  if (!text.endsWith('\n')) throw badNote('note text must end with a newline');
}

/** Parses a signed note's structure without verifying anything. Strict: canonical base64, ≤ 100 signatures. */
export function parseNote(msg: string | Uint8Array, options: NoteOptions = {}): Note {
  const maxSignatures = options.maxSignatures ?? MAX_NOTE_SIGNATURES;
  const s = noteString(msg);
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw badNote('note has no blank line before its signatures', 'a signed note is text, a blank line, then "— name signature" lines');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw badNote('note must end with a newline-terminated signature line');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > maxSignatures) throw badNote(`note has ${lines.length} signatures; at most ${maxSignatures} are accepted`);
  const signatures = lines.map((line, i) => parseSignatureLine(line, i + 1));
  return { text, signatures };
}

function parseSignatureLine(line: string, n: number): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) throw badNote(`signature line ${n} does not start with "— " (U+2014 and a space)`);
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw badNote(`signature line ${n} has no space between key name and signature`);
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) throw badNote(`signature line ${n} has an invalid key name`);
  const raw = decodeBase64(b64);
  if (raw === undefined) throw badNote(`signature line ${n} (${name}): signature is not canonical standard base64`);
  if (raw.byteLength < 5) throw badNote(`signature line ${n} (${name}): signature is shorter than a key ID plus one byte`);
  return { name, keyId: Buffer.from(raw.subarray(0, 4)).toString('hex'), signature: raw.slice(4) };
}

/** `— <name> <base64(keyID ‖ signature)>\n` */
export function formatSignatureLine(sig: NoteSignature): string {
  if (!/^[0-9a-f]{8}$/.test(sig.keyId)) throw new LedgerError('LEDGER_BAD_KEY', `key ID ${JSON.stringify(sig.keyId)} is not 8 lowercase hex digits`);
  if (!isValidKeyName(sig.name)) throw new LedgerError('LEDGER_BAD_KEY', `invalid key name ${JSON.stringify(sig.name)}`);
  return `${SIG_PREFIX}${sig.name} ${encodeBase64(Buffer.concat([Buffer.from(sig.keyId, 'hex'), sig.signature]))}\n`;
}

/** Text, blank line, signature lines. */
export function formatNote(note: Note): string {
  checkNoteText(note.text);
  if (note.signatures.length === 0) throw badNote('a signed note needs at least one signature');
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
}

/**
 * Signs a note text (or adds signatures to a parsed note): existing signatures are kept in order,
 * except ones from the same name and key ID as a new signer, which are replaced; new ones follow.
 */
export function signNote(note: string | Note, signers: readonly NoteSigner[]): string {
  const base: Note = typeof note === 'string' ? { text: note, signatures: [] } : note;
  checkNoteText(base.text);
  if (signers.length === 0 && base.signatures.length === 0) throw badNote('signNote needs at least one signer');
  const textBytes = Buffer.from(base.text, 'utf8');
  const fresh = signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(textBytes) }));
  const replaced = new Set(fresh.map((s) => `${s.name} ${s.keyId}`));
  const kept = base.signatures.filter((s) => !replaced.has(`${s.name} ${s.keyId}`));
  return formatNote({ text: base.text, signatures: [...kept, ...fresh] });
}

/**
 * Parses and verifies a signed note against known keys. A signature matches a key only when both
 * name and key ID match; others are ignored. Throws LEDGER_BAD_SIGNATURE when a known key's
 * signature is invalid, LEDGER_UNVERIFIED when no known key signed.
 */
export function verifyNote(msg: string | Uint8Array | Note, known: readonly NoteVerifier[], options: NoteOptions = {}): VerifiedNote {
  const note = typeof msg === 'string' || msg instanceof Uint8Array ? parseNote(msg, options) : msg;
  if (typeof msg !== 'string' && !(msg instanceof Uint8Array)) checkNoteText(note.text);
  const byId = new Map<string, NoteVerifier>();
  for (const v of known) {
    const id = `${v.name} ${v.keyId}`;
    if (byId.has(id)) {
      throw new LedgerError('LEDGER_BAD_KEY', `two known keys share name ${v.name} and key ID ${v.keyId}`, {
        hint: 'each trusted key must have a distinct name and key ID; remove the duplicate',
      });
    }
    byId.set(id, v);
  }
  const textBytes = Buffer.from(note.text, 'utf8');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of note.signatures) {
    const id = `${sig.name} ${sig.keyId}`;
    const v = byId.get(id);
    if (v === undefined) {
      unverified.push(sig);
      continue;
    }
    // Every signature from a known key is checked, duplicates too: one bad line rejects the note.
    if (!v.verify(textBytes, sig.signature)) {
      throw new LedgerError('LEDGER_BAD_SIGNATURE', `signature by ${sig.name}+${sig.keyId} does not verify`, {
        hint: 'the note text or signature was altered, or the key is wrong',
      });
    }
    if (!seen.has(id)) {
      seen.add(id);
      verified.push(sig);
    }
  }
  if (verified.length === 0) {
    const names = note.signatures.map((s) => `${s.name}+${s.keyId}`).join(', ');
    throw new LedgerError('LEDGER_UNVERIFIED', `note has no signature from a known key (signed by: ${names})`, {
      hint: `expected a signature by ${known.map((k) => `${k.name}+${k.keyId}`).join(', ') || '(no keys configured)'}`,
    });
  }
  return { text: note.text, signatures: note.signatures, verified, unverified };
}
