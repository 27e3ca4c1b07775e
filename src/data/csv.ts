import type { Dataset, ReadOptions } from './dataset.ts';
import { CsvTokenizer } from './csv-tokenizer.ts';
import { DataError } from './errors.ts';
import { missingTextToken } from './profile.ts';
import { TableBuilder } from './table.ts';
import { readTextChunks } from './text-stream.ts';
import type { ByteLimits } from './text-stream.ts';

/** Called once with the header, then once per record with its fields and start line. */
export interface CsvHandlers {
  header(names: string[]): void;
  record(fields: string[], line: number): void;
}

/**
 * Streams a delimited file through the byte guard and the tokenizer. `delimiter: 'auto'` uses a
 * comma unless the header has none and has a semicolon or tab (spreadsheet exports in some locales).
 * Throws DATA_EMPTY for a file with no header.
 */
export async function streamCsv(file: string, limits: ByteLimits, delimiter: string, handlers: CsvHandlers, bytes?: Uint8Array): Promise<void> {
  let header: string[] | null = null;
  let tokenizer: CsvTokenizer | null = null;
  const onRecord = (fields: string[], line: number): void => {
    if (header === null) {
      header = fields;
      handlers.header(fields);
    } else handlers.record(fields, line);
  };
  for await (const text of readTextChunks(file, limits, bytes)) {
    if (tokenizer === null) tokenizer = new CsvTokenizer(delimiter === 'auto' ? sniffDelimiter(text) : delimiter, onRecord, file, limits.maxLineBytes);
    tokenizer.push(text);
  }
  tokenizer?.end();
  if (header === null) throw new DataError('DATA_EMPTY', 'file is empty', { file, hint: 'a CSV needs a header row and at least one data row' });
}

function sniffDelimiter(text: string): string {
  const nl = text.indexOf('\n');
  const first = nl === -1 ? text : text.slice(0, nl);
  if (first.includes(',')) return ',';
  if (first.includes(';')) return ';';
  if (first.includes('\t')) return '\t';
  return ',';
}

/** Reads a CSV or TSV file (header row required) into a Dataset. Ragged rows are skipped and listed. */
export async function readCsv(file: string, format: 'csv' | 'tsv', limits: ByteLimits, options: ReadOptions = {}, bytes?: Uint8Array): Promise<Dataset> {
  const table = new TableBuilder(file, format, options.columns ?? {});
  let width = 0;
  let cols = table.columns;
  await streamCsv(file, limits, format === 'tsv' ? '\t' : 'auto', {
    header(names) {
      cols = table.setHeader(names);
      width = names.length;
    },
    record(fields, line) {
      if (fields.length !== width) {
        table.skip('DATA_RAGGED_ROW', `expected ${width} fields, found ${fields.length}`, line);
        return;
      }
      for (let j = 0; j < width; j++) {
        const col = cols[j] as (typeof cols)[number];
        const missing = col.missing;
        col.pushText(fields[j] as string);
        // Rare path: remember how the missing cell was spelled, for the mixed-null check.
        if (col.missing !== missing) table.noteMissing(col, missingTextToken(fields[j] as string));
      }
      table.endFullRow(line);
    },
  }, bytes);
  return table.finish();
}
