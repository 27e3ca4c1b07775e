import type { Dataset, ReadOptions } from './dataset.ts';
import type { ColumnBuilder } from './columns.ts';
import { toNumberArray } from './columns.ts';
import { missingValueToken } from './profile.ts';
import { TableBuilder } from './table.ts';
import { readTextChunks } from './text-stream.ts';
import type { ByteLimits } from './text-stream.ts';

/**
 * Reads JSON Lines: one object per line. A line that is not valid JSON, or not an object, is
 * skipped and listed with its line number; blank lines are ignored. Arrays of numbers become
 * array columns (embeddings).
 */
export async function readJsonl(file: string, limits: ByteLimits, options: ReadOptions = {}, bytes?: Uint8Array): Promise<Dataset> {
  const table = new TableBuilder(file, 'jsonl', options.columns ?? {});
  let carry = '';
  let line = 1;
  const onLine = (text: string): void => {
    const here = line++;
    if (text.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      table.skip('DATA_BAD_JSON', `not valid JSON: ${err instanceof Error ? err.message : String(err)}`, here);
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      table.skip('DATA_BAD_JSON', 'line is valid JSON but not an object', here);
      return;
    }
    for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
      const col = table.column(key);
      const missing = col.missing;
      pushValue(col, value);
      if (col.missing !== missing) table.noteMissing(col, missingValueToken(value));
    }
    table.endRow(here);
  };
  for await (const chunk of readTextChunks(file, limits, bytes)) {
    let text = carry + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
    text = '';
  }
  if (carry !== '') onLine(carry);
  return table.finish();
}

/**
 * Pushes one decoded value (JSON, or a Parquet cell) into its column. Strings go through the same
 * parsing as CSV cells, so `"5"` here and `5` in a CSV give the same content id.
 */
export function pushValue(col: ColumnBuilder, value: unknown): void {
  if (value === null || value === undefined) col.pushMissing();
  else if (typeof value === 'string') col.pushText(value);
  else if (typeof value === 'number') {
    if (col.forceString) col.pushText(String(value));
    else col.pushNumber(value);
  } else if (typeof value === 'bigint') {
    if (col.forceString) col.pushText(value.toString());
    else col.pushNumber(Number(value));
  }
  else if (typeof value === 'boolean') col.pushText(value ? 'true' : 'false');
  else if (value instanceof Date) col.pushText(Number.isNaN(value.getTime()) ? '' : value.toISOString());
  else {
    const arr = col.forceString ? undefined : toNumberArray(value);
    if (arr !== undefined) col.pushArray(arr);
    else col.pushText(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }
}
