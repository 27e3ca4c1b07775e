import { createHash } from 'node:crypto';

/** SHA-256 of bytes or a UTF-8 string, as lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Incremental SHA-256 for content made of several parts; each part is length-prefixed so that
 * ("ab","c") and ("a","bc") never collide. */
export function sha256Parts(parts: ReadonlyArray<string | Uint8Array>): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(8);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    len.writeBigUInt64BE(BigInt(bytes.byteLength));
    h.update(len);
    h.update(bytes);
  }
  return h.digest('hex');
}
