import { sha256Hex, sha256Parts } from '../core/index.ts';
import type { FeatureColumn } from './dataset.ts';

/** The parts of a row that are its content (never id, label or source). */
export interface ContentColumns {
  /** Text per row; null = missing. */
  readonly text: ReadonlyArray<string | null> | null;
  readonly features: readonly FeatureColumn[];
  readonly embedding: { readonly dim: number; readonly values: Float32Array } | null;
}

/**
 * Content ids for every row: SHA-256 over core's canonical JSON (RFC 8785) of
 * `{embedding?: {base64, dtype: "float32le"}, features?: {col: value}, text?: string}`.
 * Missing values are null and ±Infinity the strings "Infinity"/"-Infinity" (JSON has no form for
 * them). The embedding is the float32 values we keep, as little-endian bytes in base64: a float32
 * Parquet column and a CSV give the same id, and formatting 13M floats as decimal text (the JSON
 * number form) took 3 s of a 7 s read of 100k × 128 embeddings.
 *
 * The bytes are written by hand rather than through `canonicalJson` on a per-row object: for 20k
 * rows of 785 columns that object churn dominated reading time. content-id.test.ts checks that the
 * output is byte-identical to `canonicalJson`.
 */
export function contentIds(cols: ContentColumns, n: number): string[] {
  const feats = [...cols.features].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const keys = feats.map((f, j) => UTF8.encode(`${j > 0 ? ',' : ''}${JSON.stringify(f.name)}:`));
  const out = new Array<string>(n);
  const emb = cols.embedding;
  const scratch = new Float32Array(emb?.dim ?? 0);
  const w = new ByteWriter();
  for (let i = 0; i < n; i++) {
    w.pos = 0;
    w.ascii('{');
    if (emb !== null) {
      w.ascii('"embedding":{"base64":"');
      w.ascii(embeddingBase64(emb.values, i * emb.dim, emb.dim, scratch));
      w.ascii('","dtype":"float32le"}');
    }
    if (feats.length > 0) {
      w.ascii(emb !== null ? ',"features":{' : '"features":{');
      for (let j = 0; j < feats.length; j++) {
        const f = feats[j] as FeatureColumn;
        w.bytes(keys[j] as Uint8Array);
        if (f.kind === 'numeric') {
          const v = f.values[i] ?? Number.NaN;
          if ((v | 0) === v && v >= 0 && v < SMALL_INTS.length) w.bytes(SMALL_INT_BYTES[v] as Uint8Array);
          else w.ascii(numberJson(v));
        } else {
          const v = f.values[i];
          if (v === null || v === undefined) w.ascii('null');
          else w.utf8(JSON.stringify(v));
        }
      }
      w.ascii('}');
    }
    if (cols.text !== null) {
      w.ascii(emb !== null || feats.length > 0 ? ',"text":' : '"text":');
      const t = cols.text[i];
      if (t === null || t === undefined) w.ascii('null');
      else w.utf8(JSON.stringify(t));
    }
    w.ascii('}');
    out[i] = sha256Hex(w.view());
  }
  return out;
}

/**
 * Appends the canonical bytes of a row straight into one reused buffer. Hashing a concatenated
 * string cost twice as much (V8 flattens the rope, then encodes it); most pieces here are ASCII.
 */
class ByteWriter {
  // A plain Uint8Array: element stores on a Buffer subclass were several times slower here.
  buf = new Uint8Array(1 << 16);
  pos = 0;
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  /** Only for strings known to be ASCII (numbers, base64, fixed keys). */
  ascii(s: string): void {
    this.room(s.length);
    const b = this.buf;
    let p = this.pos;
    for (let k = 0; k < s.length; k++) b[p++] = s.charCodeAt(k);
    this.pos = p;
  }
  bytes(u: Uint8Array): void {
    this.room(u.length);
    const b = this.buf;
    let p = this.pos;
    for (let k = 0; k < u.length; k++) b[p++] = u[k] as number;
    this.pos = p;
  }
  utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += UTF8.encodeInto(s, this.buf.subarray(this.pos)).written;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

const UTF8 = new TextEncoder();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Base64 of one embedding row as little-endian float32, with -0 written as 0. */
export function embeddingBase64(values: Float32Array, offset: number, dim: number, scratch: Float32Array = new Float32Array(dim)): string {
  for (let k = 0; k < dim; k++) scratch[k] = (values[offset + k] ?? 0) + 0; // + 0 turns -0 into 0
  const bytes = Buffer.from(scratch.buffer, scratch.byteOffset, dim * 4);
  if (!LITTLE_ENDIAN) {
    const le = Buffer.alloc(dim * 4);
    const view = new DataView(le.buffer, le.byteOffset, le.byteLength);
    for (let k = 0; k < dim; k++) view.setFloat32(k * 4, scratch[k] ?? 0, true);
    return le.toString('base64');
  }
  return bytes.toString('base64');
}

/** Small integers (pixels, counts) are most cells; their text is looked up, not formatted. */
const SMALL_INTS = Array.from({ length: 1024 }, (_, i) => String(i));
const SMALL_INT_BYTES = SMALL_INTS.map((t) => UTF8.encode(t));

/** The canonical JSON of a number we store: NaN (missing) → null, ±Infinity → a string. */
function numberJson(v: number): string {
  if ((v | 0) === v && v >= 0 && v < 1024) return SMALL_INTS[v] as string;
  if (v !== v) return 'null';
  if (v === Number.POSITIVE_INFINITY) return '"Infinity"';
  if (v === Number.NEGATIVE_INFINITY) return '"-Infinity"';
  return Object.is(v, -0) ? '0' : String(v);
}

/** The value a number takes in the canonical content object (for tests and other encoders). */
export function canonicalNumber(v: number): number | string | null {
  if (v !== v) return null;
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  return v;
}

/** Sample id: SHA-256 over (contentId, label), so a relabel is a new id and equal content+label is the same id anywhere. */
export function sampleId(contentId: string, label: string): string {
  return sha256Parts([contentId, label]);
}

/**
 * Orders label names the way a person expects and the same on every machine: numbers by value
 * ('2' < '10'), other text by runs of digits by value and the rest by UTF-16 code units.
 * (Intl.Collator would depend on the locale, and label codes must be reproducible.)
 */
export function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  const aNum = a.trim() !== '' && Number.isFinite(na);
  const bNum = b.trim() !== '' && Number.isFinite(nb);
  if (aNum && bNum && na !== nb) return na - nb;
  if (aNum !== bNum) return aNum ? -1 : 1;
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i] as string;
    const y = rb[i] as string;
    if (x === y) continue;
    const xd = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const yd = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (xd && yd) {
      const xs = x.replace(/^0+(?=\d)/, '');
      const ys = y.replace(/^0+(?=\d)/, '');
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
