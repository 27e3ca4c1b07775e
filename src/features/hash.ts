/**
 * MurmurHash3 x86 32-bit (Austin Appleby, public domain), written out so that feature hashing is
 * identical on every platform and version. Feature hashing hashes the UTF-32LE encoding of each
 * n-gram (one 4-byte block per code point): that is still plain murmur3_32 of a byte string, but it
 * lets the text featurizer extend a hash one code point at a time, so the 3-, 4- and 5-grams that
 * start at the same character share their work.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one 32-bit little-endian block `k` into the running state `h` (murmur3 body step). */
export function murmur3Block(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Finalises a state after `byteLength` bytes (murmur3 fmix32); returns an unsigned 32-bit hash. */
export function murmur3Finish(h: number, byteLength: number): number {
  h ^= byteLength;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86 32-bit of bytes; unsigned result. `murmur3_32(utf8("hello"), 0) === 0x248bfa47`. */
export function murmur3_32(data: Uint8Array, seed = 0): number {
  const len = data.length;
  const blocks = len & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    const k = (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24);
    h = murmur3Block(h, k);
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= (data[blocks + 2] ?? 0) << 16;
    if (tail >= 2) k ^= (data[blocks + 1] ?? 0) << 8;
    k ^= data[blocks] ?? 0;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return murmur3Finish(h, len);
}

const utf8 = new TextEncoder();

/** MurmurHash3 x86 32-bit of a string's UTF-8 bytes; unsigned result. */
export function murmur3Utf8(text: string, seed = 0): number {
  return murmur3_32(utf8.encode(text), seed);
}

/** MurmurHash3 x86 32-bit of code points `cps[start..end)` as UTF-32LE; equals murmur3_32 of those bytes. */
export function murmur3CodePoints(cps: ArrayLike<number>, start = 0, end = cps.length, seed = 0): number {
  let h = seed | 0;
  for (let i = start; i < end; i++) h = murmur3Block(h, cps[i] ?? 0);
  return murmur3Finish(h, (end - start) * 4);
}
