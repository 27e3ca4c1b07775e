/**
 * The body: AES-256-GCM over fixed-size plaintext segments, STREAM-style as in Tink's
 * AES-GCM-HKDF streaming AEAD (research/provenance.md §6.2). Segment i is sealed under
 *
 *   key   = HKDF-SHA-256(ikm = DEK, salt = object id, info = stable header bytes, L = 32)
 *   nonce = nonce prefix (7) ‖ uint32 BE i ‖ last (1: 0x01 on the final segment, else 0x00)
 *
 * so a segment moved to another index, a body cut at a segment boundary (its new final segment
 * was sealed with last = 0) and a body extended past its final segment all fail authentication,
 * and any change to the stable header changes the key. Nothing in the key or nonce depends on the
 * KEK or the wrapped key, which is what lets rotation rewrite the header and leave the body alone.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { VaultError } from './errors.ts';
import { MAX_SEGMENTS, NONCE_PREFIX_SIZE, TAG_SIZE } from './format.ts';
import { Sha256Stream } from './hash.ts';
import type { ObjectDigest, StableHeader } from './format.ts';

const ALGORITHM = 'aes-256-gcm';

/** The segment key of an object: HKDF-SHA-256(DEK, salt = object id, info = stable header). */
export function deriveSegmentKey(dek: Uint8Array, stable: StableHeader): Buffer {
  return Buffer.from(hkdfSync('sha256', dek, stable.objectId, stable.bytes, 32));
}

function segmentNonce(prefix: Uint8Array, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(NONCE_PREFIX_SIZE + 5);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_SIZE);
  nonce[NONCE_PREFIX_SIZE + 4] = last ? 1 : 0;
  return nonce;
}

interface Frame {
  readonly bytes: Uint8Array;
  readonly last: boolean;
}

/**
 * Cuts a byte stream into frames of exactly `size` bytes, the final one shorter (or empty when the
 * stream is). A frame is only called final once the stream has ended, so a stream whose length is
 * a multiple of `size` ends with a full final frame, never an empty one after it. Frames are views
 * into the source's chunks where they fit in one, so the source must not reuse a chunk's memory
 * after yielding it (node streams never do).
 */
async function* frames(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Frame> {
  const pending: Uint8Array[] = [];
  let first = 0; // index of the first unconsumed chunk in `pending`
  let offset = 0; // bytes of pending[first] already consumed
  let available = 0;

  const take = (n: number): Uint8Array => {
    const head = pending[first];
    if (head !== undefined && head.byteLength - offset >= n) {
      const view = head.subarray(offset, offset + n);
      offset += n;
      available -= n;
      if (offset === head.byteLength) {
        pending[first++] = EMPTY; // release the chunk for GC
        offset = 0;
      }
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = pending[first] ?? EMPTY;
      const k = Math.min(n - filled, chunk.byteLength - offset);
      out.set(chunk.subarray(offset, offset + k), filled);
      filled += k;
      offset += k;
      if (offset === chunk.byteLength) {
        pending[first++] = EMPTY;
        offset = 0;
      }
    }
    available -= n;
    return out;
  };

  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) {
      throw new VaultError('VAULT_BAD_INPUT', `input stream yielded ${typeof chunk}, not bytes`, {
        hint: 'pass a byte stream (no setEncoding) or a Uint8Array',
      });
    }
    if (chunk.byteLength === 0) continue;
    pending.push(chunk);
    available += chunk.byteLength;
    // Strictly more than one frame buffered: the frame we emit is certainly not the final one.
    while (available > size) yield { bytes: take(size), last: false };
    if (first > 64) {
      pending.splice(0, first);
      first = 0;
    }
  }
  yield { bytes: take(available), last: true };
}

const EMPTY = new Uint8Array(0);

/** An encryption in progress: iterate `chunks` to completion, then read `digest()`. */
export interface BodyEncryption {
  /** The body's ciphertext, in order; each chunk is fresh memory the consumer may keep. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Plaintext size and SHA-256 and the body's SHA-256; throws until `chunks` has been drained. */
  digest(): ObjectDigest;
}

/** Encrypts a plaintext stream into STREAM segments in constant memory. */
export function encryptBody(source: AsyncIterable<Uint8Array>, segmentKey: Uint8Array, stable: StableHeader): BodyEncryption {
  let result: ObjectDigest | undefined;
  async function* run(): AsyncGenerator<Uint8Array> {
    const plainHash = new Sha256Stream();
    const bodyHash = new Sha256Stream();
    try {
      let size = 0;
      let index = 0;
      for await (const frame of frames(source, stable.segmentSize)) {
        if (index >= MAX_SEGMENTS) {
          throw new VaultError('VAULT_BAD_INPUT', `input exceeds ${MAX_SEGMENTS} segments of ${stable.segmentSize} bytes`, {
            hint: 'use a larger segment size for objects this big',
          });
        }
        const cipher = createCipheriv(ALGORITHM, segmentKey, segmentNonce(stable.noncePrefix, index, frame.last));
        const ct = cipher.update(frame.bytes);
        cipher.final();
        const tag = cipher.getAuthTag();
        await plainHash.update(frame.bytes);
        await bodyHash.update(ct);
        await bodyHash.update(tag);
        size += frame.bytes.byteLength;
        index += 1;
        yield ct;
        yield tag;
      }
      result = { size, sha256: await plainHash.digest(), ciphertextSha256: await bodyHash.digest() };
    } finally {
      plainHash.abandon();
      bodyHash.abandon();
    }
  }
  return {
    chunks: run(),
    digest() {
      if (result === undefined) throw new Error('encryptBody: digest() read before the body was drained');
      return result;
    },
  };
}

/**
 * Decrypts and authenticates a body. Each segment is released only after its tag verifies, and the
 * final segment only after the plaintext's size and SHA-256 match the header, so a consumer never
 * sees the end of a stream whose content is not exactly the object that was stored.
 */
export async function* decryptBody(
  source: AsyncIterable<Uint8Array>,
  segmentKey: Uint8Array,
  stable: StableHeader,
  expected: ObjectDigest,
  name: string,
): AsyncGenerator<Uint8Array> {
  const corrupt = (what: string, cause?: unknown): VaultError =>
    new VaultError('VAULT_CORRUPT', `object ${name}: ${what}`, {
      path: name,
      hint: 'the stored object was damaged or tampered with; restore it from a replica or delete it',
      cause,
    });
  const plainHash = new Sha256Stream();
  try {
    let size = 0;
    let index = 0;
    for await (const frame of frames(source, stable.segmentSize + TAG_SIZE)) {
      const bytes = frame.bytes;
      if (bytes.byteLength < TAG_SIZE) throw corrupt(`body is truncated in segment ${index}`);
      if (index >= MAX_SEGMENTS) throw corrupt('body has more segments than the format allows');
      const decipher = createDecipheriv(ALGORITHM, segmentKey, segmentNonce(stable.noncePrefix, index, frame.last));
      decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_SIZE));
      const plain = decipher.update(bytes.subarray(0, bytes.byteLength - TAG_SIZE));
      try {
        decipher.final();
      } catch (err) {
        throw corrupt(`segment ${index} failed authentication (damaged, truncated, extended or reordered body)`, err);
      }
      size += plain.byteLength;
      if (size > expected.size) throw corrupt(`body holds more than the ${expected.size} bytes its header records`);
      await plainHash.update(plain);
      index += 1;
      if (frame.last) {
        if (size !== expected.size) throw corrupt(`body holds ${size} bytes; its header records ${expected.size}`);
        if ((await plainHash.digest()) !== expected.sha256) throw corrupt('plaintext does not hash to the object name');
      }
      yield plain;
    }
  } finally {
    plainHash.abandon();
  }
}
