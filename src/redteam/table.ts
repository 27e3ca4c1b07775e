import { parse } from 'csv-parse/sync';
import { parseNumberCell, isMissing, type ColumnProfile } from '../data/index.ts';
import { RedteamError } from './errors.ts';

/** File formats the attack simulator reads and writes, raw. */
export type TableFormat = 'csv' | 'tsv' | 'jsonl';

/** One cell as read: CSV cells are strings; JSONL cells are any JSON value (undefined = key absent). */
export type Cell = string | number | boolean | null | readonly unknown[] | { readonly [k: string]: unknown } | undefined;

/**
 * A table kept in its raw form, so a poisoned copy has every column and every cell's text exactly as
 * given (the Dataset normalises numbers and drops columns, which would change the file under attack).
 */
export interface RawTable {
  readonly format: TableFormat;
  readonly columns: string[];
  readonly rows: Cell[][];
}

/** The format named by a path's extension, or null. */
export function tableFormatOf(path: string): TableFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return null;
}

/** Parse CSV/TSV (header row) or JSON Lines into a RawTable; malformed input is a REDTEAM_BAD_INPUT. */
export function parseTable(text: string, format: TableFormat, file?: string): RawTable {
  const where = file === undefined ? {} : { file };
  if (format === 'jsonl') return parseJsonl(text, where);
  let records: string[][];
  try {
    records = parse(text, { delimiter: format === 'tsv' ? '\t' : ',', bom: true, skip_empty_lines: true, relax_quotes: format === 'tsv' });
  } catch (err) {
    // csv-parse errors carry the line; turn them into our typed error at the boundary.
    const line = (err as { lines?: unknown }).lines;
    throw new RedteamError('REDTEAM_BAD_INPUT', `not valid ${format.toUpperCase()}: ${(err as Error).message}`, {
      ...where,
      ...(typeof line === 'number' ? { line } : {}),
      hint: 'every row needs the same number of fields as the header',
      cause: err,
    });
  }
  const header = records[0];
  if (header === undefined) throw new RedteamError('REDTEAM_BAD_INPUT', 'the file has no header row', where);
  checkUnique(header, where);
  return { format, columns: header, rows: records.slice(1) };
}

function parseJsonl(text: string, where: { file?: string }): RawTable {
  const columns: string[] = [];
  const index = new Map<string, number>();
  const objects: Record<string, unknown>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new RedteamError('REDTEAM_BAD_INPUT', 'line is not valid JSON', { ...where, line: i + 1, cause: err });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new RedteamError('REDTEAM_BAD_INPUT', 'line is valid JSON but not an object', { ...where, line: i + 1 });
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!index.has(key)) {
        index.set(key, columns.length);
        columns.push(key);
      }
    }
    objects.push(obj);
  }
  if (objects.length === 0) throw new RedteamError('REDTEAM_BAD_INPUT', 'the file has no records', where);
  const rows = objects.map((o) => columns.map((c) => (Object.hasOwn(o, c) ? (o[c] as Cell) : undefined)));
  return { format: 'jsonl', columns, rows };
}

function checkUnique(header: readonly string[], where: { file?: string }): void {
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new RedteamError('REDTEAM_BAD_INPUT', `column "${h}" appears twice in the header`, { ...where, line: 1 });
    seen.add(h);
  }
}

/** The text of a cell as a label or id: strings as they are, other JSON values as JSON. */
export function cellText(cell: Cell): string {
  if (cell === undefined || cell === null) return '';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

/** The number in a cell (JSON number or numeric text), or undefined. */
export function numberOf(cell: Cell): number | undefined {
  if (typeof cell === 'number') return cell;
  if (typeof cell !== 'string') return undefined;
  const v = parseNumberCell(cell);
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

/** Serialize a table; `lines[r]` is the 1-based line on which data row r starts (what a scan reports). */
export function serializeTable(table: RawTable, format: TableFormat): { text: string; lines: number[] } {
  const lines: number[] = [];
  const out: string[] = [];
  if (format === 'jsonl') {
    let line = 1;
    for (const row of table.rows) {
      const entries: [string, unknown][] = [];
      table.columns.forEach((c, j) => {
        const v = row[j];
        if (v !== undefined) entries.push([c, v]);
      });
      // fromEntries defines own properties, so a column named "__proto__" stays a column.
      out.push(JSON.stringify(Object.fromEntries(entries)));
      lines.push(line++);
    }
    return { text: out.length === 0 ? '' : `${out.join('\n')}\n`, lines };
  }
  const delimiter = format === 'tsv' ? '\t' : ',';
  const quote = (s: string): string => (s.includes(delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  out.push(table.columns.map(quote).join(delimiter));
  let line = 1 + countNewlines(out[0]!) + 1;
  for (const row of table.rows) {
    const text = table.columns.map((_, j) => quote(cellText(row[j]))).join(delimiter);
    lines.push(line);
    line += countNewlines(text) + 1;
    out.push(text);
  }
  return { text: `${out.join('\n')}\n`, lines };
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

/** Column profiles in the shape data's role inference takes, so inject picks the same label and id as a scan. */
export function profileColumns(table: RawTable): ColumnProfile[] {
  return table.columns.map((name, j) => {
    let numbers = 0;
    let arrays = 0;
    let strings = 0;
    let length = 0;
    for (const row of table.rows) {
      const v = row[j];
      if (v === undefined || v === null) continue;
      if (typeof v === 'number') numbers++;
      else if (Array.isArray(v)) arrays++;
      else {
        const s = cellText(v);
        if (isMissing(s)) continue;
        if (typeof v === 'string' && parseNumberCell(s) !== undefined) numbers++;
        else {
          strings++;
          length += s.length;
        }
      }
    }
    const kind: ColumnProfile['kind'] = strings > 0 ? 'string' : arrays > 0 && numbers === 0 ? 'array' : numbers > 0 ? 'number' : arrays > 0 ? 'string' : 'empty';
    return { name, kind, meanLength: strings === 0 ? 0 : length / strings };
  });
}
