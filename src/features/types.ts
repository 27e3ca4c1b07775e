import type { FeatureMatrix } from '../compute/index.ts';

export type FeatureKind = 'tabular' | 'text' | 'image' | 'embedding' | 'mixed';

/** A dataset turned into numbers for the learners, with what was done to it. */
export interface Featurized {
  readonly matrix: FeatureMatrix;
  readonly kind: FeatureKind;
  /** One name per column; empty where columns have no names (hashed text, pixels, embeddings, mixed). */
  readonly featureNames: string[];
  /** What was done (sizes, dropped columns, ignored inputs), JSON-serialisable, for reports. */
  readonly info: Record<string, unknown>;
}

export interface FeaturizeOptions {
  /** Text is hashed into 2^hashBits columns (default 18, allowed 2..22). */
  readonly hashBits?: number;
  /** Character n-gram lengths within word boundaries (default [3, 5]); false turns them off. */
  readonly charNgrams?: readonly [number, number] | false;
  /** Word n-gram lengths (default [1, 2]). */
  readonly wordNgrams?: readonly [number, number];
  /** Categorical columns keep at most this many one-hot columns (default 32). */
  readonly maxCategories?: number;
  /** L2-normalise each given embedding (default false: used as is). */
  readonly normalizeEmbeddings?: boolean;
  /** Replace URLs and numbers by placeholder tokens before hashing (default true). */
  readonly placeholders?: boolean;
  /** Each text is cut to this many UTF-16 units before tokenising (default 100,000). */
  readonly maxTextChars?: number;
  /** Images: `global` centres each pixel and divides by one overall scale (default); `per-pixel` divides each pixel by its own std. */
  readonly imageScaling?: 'global' | 'per-pixel';
}
