export type {
  Dataset,
  ColumnRole,
  NumericColumn,
  CategoricalColumn,
  FeatureColumn,
  ImageData,
  SkippedRow,
  DatasetFormat,
  ColumnSpec,
  ReadOptions,
  RawColumnProfile,
  MissingTokenCount,
} from './dataset.ts';
export { isSpecialCharactersOnly, ABSENT_TOKEN, WHITESPACE_TOKEN, PROFILE_DISTINCT_CAP, PROFILE_ROW_SAMPLE } from './profile.ts';
export { readDataset, readDatasetBytes, detectFormat } from './read.ts';
export { inferRoles } from './roles.ts';
export type { ColumnProfile, RoleAssignment, EmbeddingSource } from './roles.ts';
export { DataError } from './errors.ts';
export type { DataErrorCode, DataSkipCode } from './errors.ts';
export { isMissing, parseNumberCell, MISSING_TOKENS } from './missing.ts';
export { compareLabels, sampleId } from './content-id.ts';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_LINE_BYTES } from './text-stream.ts';
export { extractArchive, ARCHIVE_LIMITS } from './archive.ts';
export { parquetRows } from './parquet.ts';
export type { ArchiveLimits, ArchiveFormat, ExtractedArchive } from './archive.ts';
