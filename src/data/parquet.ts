import { stat } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import type { Dataset, ReadOptions } from './dataset.ts';
import { DataError, fsError } from './errors.ts';
import { pushValue } from './jsonl.ts';
import { missingValueToken } from './profile.ts';
import { TableBuilder } from './table.ts';
import type { ByteLimits } from './text-stream.ts';

/**
 * Reads a Parquet file with hyparquet, one row group at a time. Line numbers are 1-based row
 * numbers. Any hyparquet failure (bad magic, corrupt footer or page) becomes DATA_PARQUET here,
 * so a hostile file gives a typed error, not a stack from inside the decoder.
 */
export async function readParquet(file: string, limits: ByteLimits, options: ReadOptions = {}): Promise<Dataset> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw fsError(err, file);
  }
  if (size > limits.maxBytes) throw tooLarge(file, limits.maxBytes);
  if (size === 0) throw new DataError('DATA_EMPTY', 'file is empty', { file, hint: 'a Parquet file needs at least one row' });
  const table = new TableBuilder(file, 'parquet', options.columns ?? {});
  try {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    checkDeclaredSize(file, metadata, limits.maxBytes);
    const schema = parquetSchema(metadata).children;
    const columns = schema.map((c) => c.element.name);
    const isFloat32 = schema.map((c) => c.element.type === 'FLOAT');
    const builders = table.setHeader(columns);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, rowFormat: 'object' });
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] as Record<string, unknown>;
        for (let j = 0; j < columns.length; j++) {
          const v = row[columns[j] as string];
          const col = builders[j] as (typeof builders)[number];
          const missing = col.missing;
          pushValue(col, isFloat32[j] === true && typeof v === 'number' ? shortestFloat32(v) : v);
          if (col.missing !== missing) table.noteMissing(col, missingValueToken(v));
        }
        table.endFullRow(rowStart + r + 1);
      }
      rowStart = rowEnd;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new DataError('DATA_PARQUET', `cannot read Parquet file: ${msg}`, {
      file,
      hint: 'the file is not Parquet, is truncated, or uses a feature hyparquet does not support',
      cause: err,
    });
  }
  return table.finish();
}

/**
 * A Parquet file's rows as JSON values, column by column as `readParquet` sees them: FLOAT as its
 * shortest decimal, INT64 as a number (as a string beyond 2^53), dates as ISO strings, lists as
 * arrays. Written out as JSON Lines they read back to the same ids (formats.test.ts holds the
 * readers to that): how the service releases Parquet batches.
 */
export async function parquetRows(bytes: Uint8Array): Promise<{ columns: string[]; rows: unknown[][] }> {
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const metadata = await parquetMetadataAsync(file);
    const schema = parquetSchema(metadata).children;
    const columns = schema.map((c) => c.element.name);
    const isFloat32 = schema.map((c) => c.element.type === 'FLOAT');
    const objects = await parquetReadObjects({ file, metadata, rowFormat: 'object' });
    const rows = objects.map((o) => columns.map((c, j) => {
      const v = (o as Record<string, unknown>)[c];
      return jsonValue(isFloat32[j] === true && typeof v === 'number' ? shortestFloat32(v) : v);
    }));
    return { columns, rows };
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError('DATA_PARQUET', `cannot read Parquet file: ${err instanceof Error ? err.message : String(err)}`, { hint: 'the file is not Parquet, is truncated, or uses a feature hyparquet does not support', cause: err });
  }
}

function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, jsonValue);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

/**
 * The shortest decimal that rounds to the same float32, as a double: a FLOAT column holding 0.1
 * then reads as 0.1 (as the same value in a CSV does), not 0.10000000149011612, so ids agree.
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v)) return v;
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

/** Decompression bombs: refuse when the footer says the columns expand past maxBytes. */
function checkDeclaredSize(file: string, metadata: FileMetaData, maxBytes: number): void {
  let total = 0;
  for (const group of metadata.row_groups) {
    for (const col of group.columns) total += Number(col.meta_data?.total_uncompressed_size ?? 0n);
  }
  if (total > maxBytes) throw tooLarge(file, maxBytes);
}

function tooLarge(file: string, maxBytes: number): DataError {
  return new DataError('DATA_TOO_LARGE', `file (or its decompressed columns) is larger than the limit of ${maxBytes} bytes`, {
    file,
    hint: 'raise maxBytes if the file is trusted, or split it',
  });
}
