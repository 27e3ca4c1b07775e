import type { ColumnRole, ColumnSpec } from './dataset.ts';
import { DataError } from './errors.ts';

/** What a reader learned about one column while streaming it: enough to decide its role. */
export interface ColumnProfile {
  readonly name: string;
  /** `empty`: every value missing; `number`: every value parsed as a number; `array`: JSON arrays of numbers. */
  readonly kind: 'empty' | 'number' | 'array' | 'string';
  /** Mean length in characters of the non-missing values (string columns), else 0. */
  readonly meanLength: number;
  /** Share of the non-missing values that look like JSON arrays (string columns): a few bad rows in an embedding column. */
  readonly arrayShare?: number;
}

/** The embedding: one column of arrays, or scalar columns gathered in index order (`emb_0..emb_n`). */
export type EmbeddingSource = { readonly kind: 'array'; readonly column: string } | { readonly kind: 'columns'; readonly columns: readonly string[] };

/** The outcome of role inference. */
export interface RoleAssignment {
  readonly roles: Record<string, ColumnRole>;
  readonly label: string;
  readonly id: string | null;
  readonly source: string | null;
  readonly text: string | null;
  readonly embedding: EmbeddingSource | null;
}

const LABEL_NAMES = ['label', 'labels', 'class', 'target', 'y', 'category'];
// tg_id is the id column `trainguard redteam inject` adds to files that have none.
const ID_NAMES = ['id', 'uid', 'uuid', 'sample_id', '_id', 'tg_id'];
const SOURCE_NAMES = ['source', 'origin', 'contributor', 'annotator'];
const TEXT_NAMES = ['text', 'content', 'body', 'sentence', 'review', 'message', 'email'];
const EMBEDDING_NAMES = ['embedding', 'embeddings', 'vector', 'emb'];
const EMBEDDING_PART = /^(?:emb|embedding|embeddings|vector)_?(\d+)$/i;
/** A string column whose values average more than this many characters is free text, not a category. */
const TEXT_MIN_MEAN_LENGTH = 20;

/**
 * True for columns whose text must be kept as given (labels, ids, sources, text): a label "01" is
 * not the number 1. Decided from the name alone, so readers can apply it while streaming.
 */
export function isVerbatimColumn(name: string, spec: ColumnSpec = {}): boolean {
  if (name === spec.label || name === spec.id || name === spec.source || name === spec.text) return true;
  const lower = name.toLowerCase();
  return LABEL_NAMES.includes(lower) || ID_NAMES.includes(lower) || SOURCE_NAMES.includes(lower) || TEXT_NAMES.includes(lower);
}

/**
 * Decides what each column is for: the ColumnSpec wins; otherwise by name (label, id, source,
 * embedding) and then by values (free text, numeric, categorical). Throws DATA_UNKNOWN_COLUMN for a
 * spec naming a column that is not there, DATA_NO_LABEL_COLUMN when no label can be found.
 */
export function inferRoles(columns: readonly ColumnProfile[], spec: ColumnSpec = {}, file?: string): RoleAssignment {
  const names = columns.map((c) => c.name);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const where = file === undefined ? {} : { file };
  const available = names.join(', ');
  const need = (name: string | undefined, what: string): string | undefined => {
    if (name === undefined) return undefined;
    if (!byName.has(name)) {
      throw new DataError('DATA_UNKNOWN_COLUMN', `${what} column "${name}" does not exist`, { ...where, hint: `available columns: ${available}` });
    }
    return name;
  };
  for (const name of spec.ignore ?? []) need(name, 'ignored');
  if (spec.image !== undefined) {
    need(spec.image, 'image');
    throw new DataError('DATA_UNSUPPORTED_FORMAT', 'image path columns in a table are not supported', {
      ...where,
      hint: 'put the images in a folder (one subfolder per class, or labels.csv with file,label) and scan the folder',
    });
  }
  const ignore = new Set(spec.ignore ?? []);
  const taken = new Set<string>(ignore);
  const pick = (given: string | undefined, what: string, candidates: readonly string[]): string | null => {
    const named = need(given, what);
    if (named !== undefined) {
      taken.add(named);
      return named;
    }
    for (const cand of candidates) {
      const hit = names.find((n) => !taken.has(n) && n.toLowerCase() === cand);
      if (hit !== undefined) {
        taken.add(hit);
        return hit;
      }
    }
    return null;
  };

  const label = pick(spec.label, 'label', LABEL_NAMES);
  if (label === null) {
    throw new DataError('DATA_NO_LABEL_COLUMN', 'no label column found', {
      ...where,
      hint: `columns found: ${available}; name the label column with --label <col>`,
    });
  }
  const id = pick(spec.id, 'id', ID_NAMES);
  const source = pick(spec.source, 'source', SOURCE_NAMES);
  const embedding = pickEmbedding(columns, spec.embedding, taken, where, available);
  const text = pickText(columns, need(spec.text, 'text'), taken);

  const entries: [string, ColumnRole][] = [];
  const embeddingCols = new Set(embedding === null ? [] : embedding.kind === 'array' ? [embedding.column] : embedding.columns);
  for (const col of columns) {
    const n = col.name;
    let role: ColumnRole;
    if (ignore.has(n)) role = 'ignore';
    else if (n === label) role = 'label';
    else if (n === id) role = 'id';
    else if (n === source) role = 'source';
    else if (n === text) role = 'text';
    else if (embeddingCols.has(n)) role = 'embedding';
    else if (col.kind === 'array') role = 'ignore'; // a second array column: no place for it in the Dataset
    else if (col.kind === 'string') role = 'categorical';
    else role = 'numeric';
    entries.push([n, role]);
  }
  // fromEntries defines own properties, so a column named "__proto__" is a column, not a prototype.
  const roles: Record<string, ColumnRole> = Object.fromEntries(entries);
  return { roles, label, id, source, text, embedding };
}

function pickEmbedding(
  columns: readonly ColumnProfile[],
  given: string | undefined,
  taken: Set<string>,
  where: { file?: string },
  available: string,
): EmbeddingSource | null {
  const free = columns.filter((c) => !taken.has(c.name));
  if (given !== undefined) {
    const col = columns.find((c) => c.name === given);
    if (col !== undefined && col.kind !== 'number' && col.kind !== 'empty') {
      taken.add(given);
      return { kind: 'array', column: given };
    }
    const group = gatherParts(free, new RegExp(`^${escapeRegExp(given)}_?(\\d+)$`, 'i'));
    if (group !== null) {
      for (const c of group) taken.add(c);
      return { kind: 'columns', columns: group };
    }
    if (col !== undefined) {
      taken.add(given);
      return { kind: 'columns', columns: [given] };
    }
    throw new DataError('DATA_UNKNOWN_COLUMN', `embedding column "${given}" does not exist (nor ${given}_0, ${given}_1, ...)`, {
      ...where,
      hint: `available columns: ${available}`,
    });
  }
  const arrays = free.filter((c) => c.kind === 'array');
  const named = free.find((c) => EMBEDDING_NAMES.includes(c.name.toLowerCase()) && (c.kind === 'array' || (c.kind === 'string' && (c.arrayShare ?? 0) > 0.5)));
  const chosen = named ?? (arrays.length === 1 ? arrays[0] : undefined);
  if (chosen !== undefined) {
    taken.add(chosen.name);
    return { kind: 'array', column: chosen.name };
  }
  const group = gatherParts(free, EMBEDDING_PART);
  if (group !== null && group.length >= 2) {
    for (const c of group) taken.add(c);
    return { kind: 'columns', columns: group };
  }
  return null;
}

/** Columns `<prefix>_0 .. <prefix>_{n-1}` matching `pattern` (all indices present, none an array), in index order. */
function gatherParts(columns: readonly ColumnProfile[], pattern: RegExp): string[] | null {
  const byPrefix = new Map<string, Map<number, string>>();
  for (const c of columns) {
    if (c.kind === 'array') continue;
    const m = pattern.exec(c.name);
    if (m === null || m[1] === undefined) continue;
    const idx = Number(m[1]);
    const prefix = c.name.slice(0, c.name.length - m[1].length).toLowerCase();
    let parts = byPrefix.get(prefix);
    if (parts === undefined) byPrefix.set(prefix, (parts = new Map()));
    if (!parts.has(idx)) parts.set(idx, c.name);
  }
  let best: string[] | null = null;
  for (const parts of byPrefix.values()) {
    const ordered: string[] = [];
    for (let i = 0; i < parts.size; i++) {
      const name = parts.get(i);
      if (name === undefined) break;
      ordered.push(name);
    }
    if (ordered.length === parts.size && (best === null || ordered.length > best.length)) best = ordered;
  }
  return best;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function pickText(columns: readonly ColumnProfile[], given: string | undefined, taken: Set<string>): string | null {
  if (given !== undefined) {
    taken.add(given);
    return given;
  }
  const strings = columns.filter((c) => !taken.has(c.name) && c.kind === 'string');
  for (const cand of TEXT_NAMES) {
    const hit = strings.find((c) => c.name.toLowerCase() === cand);
    if (hit !== undefined) {
      taken.add(hit.name);
      return hit.name;
    }
  }
  let best: ColumnProfile | undefined;
  for (const c of strings) if (c.meanLength > TEXT_MIN_MEAN_LENGTH && (best === undefined || c.meanLength > best.meanLength)) best = c;
  if (best === undefined) return null;
  taken.add(best.name);
  return best.name;
}
