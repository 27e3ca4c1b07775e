/**
 * Offline receipts: `c2sp.org/tlog-proof@v1` files (research/provenance.md §2.6). A receipt is the
 * leaf index, its RFC 6962 audit path (leaf sibling first) and the signed checkpoint the path leads
 * to, so anyone with the log's public key can check inclusion without the log.
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]
 *   index <decimal>
 *   <base64 hash>            (one line per audit-path element)
 *   <empty line>
 *   <signed checkpoint note>
 */
import { LedgerError } from './errors.ts';
import { decodeBase64, encodeBase64 } from './keys.ts';
import { HASH_SIZE } from './merkle.ts';

export const RECEIPT_HEADER = 'c2sp.org/tlog-proof@v1';
/** An audit path longer than this cannot belong to a tree of ≤ 2^63 leaves. */
const MAX_PATH = 63;

export interface Receipt {
  /** Unauthenticated application data (the entry itself, for us), if any. */
  readonly extra: Uint8Array | null;
  readonly index: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, as text (ends with a newline). */
  readonly checkpoint: string;
}

export function encodeReceipt(r: Receipt): string {
  const lines = [RECEIPT_HEADER];
  if (r.extra !== null) lines.push(`extra ${encodeBase64(r.extra)}`);
  lines.push(`index ${r.index}`);
  for (const h of r.proof) lines.push(encodeBase64(h));
  return `${lines.join('\n')}\n\n${r.checkpoint}`;
}

/** Strict parse: canonical base64 and decimals, 32-byte hashes, nothing unexpected. */
export function parseReceipt(text: string): Receipt {
  const bad = (message: string): LedgerError => new LedgerError('LEDGER_BAD_RECEIPT', message, { hint: 'a receipt is a c2sp.org/tlog-proof@v1 file as written by `trainguard log prove`' });
  const split = text.indexOf('\n\n');
  if (split < 0) throw bad('no empty line between the proof and the checkpoint');
  const head = text.slice(0, split).split('\n');
  const checkpoint = text.slice(split + 2);
  if (head[0] !== RECEIPT_HEADER) throw bad(`the first line is not "${RECEIPT_HEADER}"`);
  let at = 1;
  let extra: Uint8Array | null = null;
  if (head[at]?.startsWith('extra ') === true) {
    const decoded = decodeBase64(head[at]!.slice('extra '.length));
    if (decoded === undefined) throw bad('the extra line is not canonical base64');
    extra = decoded;
    at++;
  }
  const indexLine = head[at] ?? '';
  const m = /^index (0|[1-9][0-9]{0,15})$/.exec(indexLine);
  if (m === null || !Number.isSafeInteger(Number(m[1]))) throw bad(`expected "index <decimal>", got "${indexLine.slice(0, 40)}"`);
  at++;
  const proof: Uint8Array[] = [];
  for (; at < head.length; at++) {
    const h = decodeBase64(head[at]!);
    if (h === undefined || h.length !== HASH_SIZE) throw bad(`proof line ${proof.length + 1} is not a base64 32-byte hash`);
    proof.push(h);
  }
  if (proof.length > MAX_PATH) throw bad(`an audit path of ${proof.length} hashes is too long`);
  if (checkpoint.length === 0 || !checkpoint.endsWith('\n')) throw bad('the checkpoint note is missing or does not end with a newline');
  return { extra, index: Number(m[1]), proof, checkpoint };
}
