/**
 * Reads a C2SP tlog-proof receipt for display: the entry (`extra`), its index, the audit path and
 * the signed checkpoint it proves against. Display only — the server verified it, and
 * `trainguard log verify` re-checks it offline; nothing here is trusted for a decision.
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64 entry>
 *   index <n>
 *   <base64 hash>…
 *   (blank line)
 *   <signed checkpoint: origin, size, base64 root, [extensions], blank line, signatures>
 */

export interface ParsedReceipt {
  readonly entry: Uint8Array | null;
  readonly index: number | null;
  /** The audit path, hex. */
  readonly hashes: readonly string[];
  readonly checkpoint: string;
  readonly origin: string | null;
  readonly treeSize: number | null;
  /** The checkpoint's root hash, hex. */
  readonly rootHash: string | null;
}

function base64Bytes(b64: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function parseReceipt(text: string): ParsedReceipt | null {
  const lines = text.split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') return null;
  let i = 1;
  let entry: Uint8Array | null = null;
  if (lines[i]?.startsWith('extra ')) entry = base64Bytes((lines[i++] as string).slice(6));
  const m = /^index (\d+)$/.exec(lines[i] ?? '');
  const index = m === null ? null : Number(m[1]);
  if (m !== null) i++;
  const hashes: string[] = [];
  for (; i < lines.length && lines[i] !== ''; i++) {
    const b = base64Bytes(lines[i] as string);
    hashes.push(b === null ? (lines[i] as string) : hex(b));
  }
  const checkpoint = lines.slice(i + 1).join('\n');
  const [origin, size, root] = checkpoint.split('\n');
  const rootBytes = root === undefined ? null : base64Bytes(root);
  return {
    entry,
    index,
    hashes,
    checkpoint,
    origin: origin ?? null,
    treeSize: size !== undefined && /^\d+$/.test(size) ? Number(size) : null,
    rootHash: rootBytes === null ? null : hex(rootBytes),
  };
}

/** RFC 6962 leaf hash, SHA-256(0x00 ‖ entry); null where WebCrypto is missing (a page not served over https or from localhost). */
export async function leafHash(entry: Uint8Array): Promise<string | null> {
  if (globalThis.crypto?.subtle === undefined) return null;
  const data = new Uint8Array(entry.length + 1);
  data.set(entry, 1);
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
}

/** The logged entry as text (`trainguard/v1/<kind>` and canonical JSON). */
export function entryText(entry: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(entry);
}

async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const data = new Uint8Array(1 + left.length + right.length);
  data[0] = 1;
  data.set(left, 1);
  data.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

function hexBytes(h: string): Uint8Array | null {
  if (!/^(?:[0-9a-f]{2})+$/i.test(h)) return null;
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/**
 * Recomputes the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2), so the page checks
 * the inclusion itself rather than only showing the server's verdict. Sizes are safe integers,
 * halved by division (no bitwise operators on them). Null where WebCrypto is missing.
 */
export async function recomputeRoot(leafHex: string, index: number, treeSize: number, pathHex: readonly string[]): Promise<string | null> {
  if (globalThis.crypto?.subtle === undefined) return null;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return 'invalid';
  let r = hexBytes(leafHex);
  if (r === null) return 'invalid';
  let fn = index;
  let sn = treeSize - 1;
  for (const h of pathHex) {
    const p = hexBytes(h);
    if (p === null || sn === 0) return 'invalid';
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? hex(r) : 'invalid';
}
