/**
 * The columnar in-memory dataset every reader produces. Columns are typed arrays where possible,
 * so a 100k-row file costs megabytes, not a million objects.
 */

/** What a column is used for. Given by flags/config or inferred by `inferRoles`. */
export type ColumnRole = 'id' | 'label' | 'source' | 'text' | 'numeric' | 'categorical' | 'embedding' | 'image' | 'ignore';

export interface NumericColumn {
  readonly kind: 'numeric';
  readonly name: string;
  /** NaN marks a missing value (empty cell, null, NA, ...). */
  readonly values: Float64Array;
}

export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly name: string;
  /** null marks a missing value. */
  readonly values: ReadonlyArray<string | null>;
}

export type FeatureColumn = NumericColumn | CategoricalColumn;

/** Images decoded to a fixed size, channel-last, values in [0, 1]. */
export interface ImageData {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** n × (height·width·channels), row-major per image. */
  readonly pixels: Float32Array;
  /** Path of each image relative to the dataset root. */
  readonly paths: readonly string[];
}

/** A row (or file) that could not be read. Nothing is dropped silently: these are reported. */
export interface SkippedRow {
  /** 1-based line number for text formats, row index for Parquet, undefined for image files. */
  readonly line?: number;
  readonly path?: string;
  readonly code: string;
  readonly message: string;
}

export interface Dataset {
  /** Where it came from, for reports. */
  readonly origin: { readonly path: string; readonly format: DatasetFormat };
  /** Number of samples. */
  readonly n: number;
  /** The name of each column and the role it plays (after inference). */
  readonly roles: Readonly<Record<string, ColumnRole>>;
  /** SHA-256 over the canonical encoding of the sample's content (features, text, embedding or image bytes). */
  readonly contentIds: readonly string[];
  /** SHA-256 over (contentId, label): the sample id used everywhere (reports, log, snapshots). */
  readonly ids: readonly string[];
  /** The user's own id column, if any. */
  readonly externalIds: ReadonlyArray<string | null>;
  /** Label names, sorted; `labelCodes[i]` indexes into it. */
  readonly labelNames: readonly string[];
  readonly labelCodes: Int32Array;
  /** Where each sample came from (a `source` column), if present. */
  readonly sources: ReadonlyArray<string | null> | null;
  /** The text column, if present. */
  readonly text: readonly string[] | null;
  readonly textColumn: string | null;
  /** Tabular feature columns (numeric and categorical). */
  readonly features: readonly FeatureColumn[];
  /** Given embeddings, n × dim row-major. */
  readonly embedding: { readonly dim: number; readonly values: Float32Array } | null;
  readonly images: ImageData | null;
  /** 1-based source line (or row/file number) of each sample, for messages. */
  readonly lineNumbers: Int32Array;
  /** Rows that could not be read, with the reason. */
  readonly skipped: readonly SkippedRow[];
  /** Raw per-column statistics gathered while reading (table formats only), for the validation checks. */
  readonly profile?: readonly RawColumnProfile[];
}

/** How often one raw token encoded a missing value in a column (`""`, `NA`, `null`, `NaN`, ...). */
export interface MissingTokenCount {
  /** The token as written; whitespace-only cells are `<whitespace>`, JSONL keys left out are `<absent>`. */
  readonly token: string;
  readonly count: number;
  /** Dataset indices of the first rows that used it (capped; rows dropped while reading are left out). */
  readonly rows: readonly number[];
}

/**
 * What one raw column looked like before role inference turned it into features: counts over every
 * row read, including rows later skipped (no label). Numbers are null where they do not apply.
 */
export interface RawColumnProfile {
  readonly name: string;
  readonly role: ColumnRole;
  /** How the reader stored it: all missing, numbers, arrays of numbers (embeddings), or text. */
  readonly kind: 'empty' | 'number' | 'array' | 'string';
  /** Cells read (rows including skipped ones). */
  readonly cells: number;
  readonly present: number;
  readonly missing: number;
  /** Missing cells by the raw token that encoded them, most frequent first. */
  readonly missingTokens: readonly MissingTokenCount[];
  /** Present values that parse as numbers (including ±Infinity) and those that do not. */
  readonly numeric: number;
  readonly nonNumeric: number;
  /** Missing cells spelled NaN/nan: a float that went NaN upstream rather than an absent value. */
  readonly nanLiterals: number;
  readonly infinities: number;
  /** Over the finite numeric values. */
  readonly numericMin: number | null;
  readonly numericMax: number | null;
  readonly numericMean: number | null;
  /** Distinct present values, counted up to `distinctCap`; `distinctCapped` when there are more. */
  readonly distinct: number;
  readonly distinctCapped: boolean;
  /** Length in UTF-16 units of the present text values (text columns only). */
  readonly lengthMin: number | null;
  readonly lengthMax: number | null;
  readonly lengthMean: number | null;
  /** Present text values made only of punctuation, symbols and spaces. */
  readonly specialOnly: number;
}

export type DatasetFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet' | 'images';

/** How the user tells us what the columns are. Anything not given is inferred where obvious. */
export interface ColumnSpec {
  readonly label?: string;
  readonly text?: string;
  readonly id?: string;
  readonly source?: string;
  readonly embedding?: string;
  readonly image?: string;
  /** Columns to ignore entirely. */
  readonly ignore?: readonly string[];
}

export interface ReadOptions {
  readonly columns?: ColumnSpec;
  /** Format override; otherwise from the extension (or a folder = images). */
  readonly format?: DatasetFormat;
  /** Images are decoded and resized to this (square) size; default 28 for ≤ 28, else 32. */
  readonly imageSize?: number;
  /** Convert images to grey (1 channel); default: grey if every image is grey. */
  readonly imageGrey?: boolean;
  /** Abort if more than this many bytes would be read from one file (default 4 GiB). */
  readonly maxBytes?: number;
  /** Abort if a single line is longer than this (default 64 MiB) — a 2 GB single line is hostile. */
  readonly maxLineBytes?: number;
}
