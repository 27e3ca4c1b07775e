import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DataError, fsError } from './errors.ts';

/** Byte limits for one file. A hostile file may be huge or be one 2 GB line; both are refused early. */
export interface ByteLimits {
  readonly maxBytes: number;
  readonly maxLineBytes: number;
}

export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 ** 2;

const CHUNK_BYTES = 1 << 20;

/**
 * Streams a file as UTF-8 text chunks. Checks, as bytes arrive and before anything is buffered
 * further: total size (`maxBytes`), bytes since the last newline (`maxLineBytes`), and that the
 * bytes are valid UTF-8 (a sequence split across chunks is fine). A leading BOM is dropped.
 * With `bytes`, those are the file's content (an upload held in memory): the same checks, no disk;
 * `file` then only names it in errors.
 */
export async function* readTextChunks(file: string, limits: ByteLimits, bytes?: Uint8Array): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let total = 0;
  let line = 1;
  let bytesInLine = 0;
  let tail: Uint8Array = new Uint8Array(0);
  const stream = bytes === undefined ? createReadStream(file, { highWaterMark: CHUNK_BYTES }) : Readable.from(chunksOf(bytes), { objectMode: true });
  try {
    for await (const raw of stream) {
      const chunk = raw as Buffer;
      total += chunk.length;
      if (total > limits.maxBytes) {
        throw new DataError('DATA_TOO_LARGE', `file is larger than the limit of ${limits.maxBytes} bytes`, {
          file,
          hint: 'raise maxBytes if the file is trusted, or split it',
        });
      }
      const lineAtStart = line;
      const bytesAtStart = bytesInLine;
      let pos = 0;
      for (;;) {
        const nl = chunk.indexOf(10, pos);
        const end = nl === -1 ? chunk.length : nl;
        bytesInLine += end - pos;
        if (bytesInLine > limits.maxLineBytes) {
          throw new DataError('DATA_LINE_TOO_LONG', `line ${line} is longer than the limit of ${limits.maxLineBytes} bytes`, {
            file,
            line,
            hint: 'a single huge line is refused as hostile; raise maxLineBytes if the file is trusted',
          });
        }
        if (nl === -1) break;
        line++;
        bytesInLine = 0;
        pos = nl + 1;
      }
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch (err) {
        throw invalidUtf8(file, tail, chunk, lineAtStart, bytesAtStart, err);
      }
      tail = chunk.subarray(Math.max(0, chunk.length - 3));
      if (text.length > 0) yield text;
    }
    let rest: string;
    try {
      rest = decoder.decode();
    } catch (err) {
      throw new DataError('DATA_INVALID_UTF8', 'file ends inside a UTF-8 character', { file, line, hint: 'the file is truncated or not UTF-8; re-export it as UTF-8', cause: err });
    }
    if (rest.length > 0) yield rest;
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fsError(err, file);
  } finally {
    stream.destroy();
  }
}

function* chunksOf(bytes: Uint8Array): Generator<Buffer> {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < all.length; at += CHUNK_BYTES) yield all.subarray(at, at + CHUNK_BYTES);
}

/** Finds where the invalid byte is (the fast decoder only says "somewhere"), for a usable message. */
function invalidUtf8(file: string, tail: Uint8Array, chunk: Buffer, lineAtStart: number, bytesAtStart: number, cause: unknown): DataError {
  // The decoder may hold an incomplete sequence from the previous chunk: re-validate from its lead byte.
  const pending = pendingSequenceStart(tail);
  const joined = Buffer.concat([tail.subarray(pending), chunk]);
  const bad = firstInvalidUtf8(joined);
  // Negative when the bad sequence began in the previous chunk (same line: it holds no newline).
  const offset = bad - (tail.length - pending);
  let line = lineAtStart;
  let lineStart = -bytesAtStart;
  for (let p = chunk.indexOf(10); p !== -1 && p < offset; p = chunk.indexOf(10, p + 1)) {
    line++;
    lineStart = p + 1;
  }
  return new DataError('DATA_INVALID_UTF8', `invalid UTF-8 byte sequence at line ${line}`, {
    file,
    line,
    column: offset - lineStart + 1,
    hint: 'the file is not UTF-8 (Latin-1 or binary?); re-export it as UTF-8',
    cause,
  });
}

/** Index in `tail` where an unfinished multi-byte sequence starts, or tail.length if none. */
function pendingSequenceStart(tail: Uint8Array): number {
  for (let i = tail.length - 1; i >= 0 && i >= tail.length - 3; i--) {
    const b = tail[i] ?? 0;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return tail.length - i < need ? i : tail.length;
  }
  return tail.length;
}

/** Offset of the first byte that is not part of a valid UTF-8 sequence (WHATWG rules), or bytes.length. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}
