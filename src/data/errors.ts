import { TrainGuardError } from '../core/index.ts';

/**
 * Every way reading a dataset can fail, or a row can be skipped. One closed set, so the CLI maps
 * codes to exit codes and tests assert codes, never message text.
 */
export type DataErrorCode =
  | 'DATA_FILE_NOT_FOUND'
  | 'DATA_READ_FAILED'
  | 'DATA_EMPTY'
  | 'DATA_MALFORMED_CSV'
  | 'DATA_INVALID_UTF8'
  | 'DATA_LINE_TOO_LONG'
  | 'DATA_TOO_LARGE'
  | 'DATA_NO_LABEL_COLUMN'
  | 'DATA_NO_CONTENT'
  | 'DATA_UNKNOWN_COLUMN'
  | 'DATA_BAD_JSON'
  | 'DATA_PATH_ESCAPE'
  | 'DATA_IMAGE_DECODE'
  | 'DATA_IMAGE_MISSING'
  | 'DATA_NOT_AN_IMAGE'
  | 'DATA_NO_IMAGES'
  | 'DATA_TOO_MANY_BAD_ROWS'
  | 'DATA_UNSUPPORTED_FORMAT'
  | 'DATA_PARQUET'
  | 'DATA_BAD_OPTION'
  | 'DATA_ARCHIVE_ESCAPE'
  | 'DATA_ARCHIVE_LINK'
  | 'DATA_ARCHIVE_TOO_LARGE'
  | 'DATA_ARCHIVE_BAD'
  | 'DATA_ARCHIVE_UNSUPPORTED'
  // Row-level codes: used in `Dataset.skipped`, never thrown on their own.
  | 'DATA_RAGGED_ROW'
  | 'DATA_MISSING_LABEL'
  | 'DATA_BAD_EMBEDDING';

/** Codes that appear in `Dataset.skipped` (a row or file that was left out, and why). */
export type DataSkipCode = Extract<
  DataErrorCode,
  'DATA_RAGGED_ROW' | 'DATA_MISSING_LABEL' | 'DATA_BAD_EMBEDDING' | 'DATA_BAD_JSON' | 'DATA_IMAGE_DECODE' | 'DATA_IMAGE_MISSING' | 'DATA_NOT_AN_IMAGE'
>;

/** A dataset file that cannot be read as given: bad bytes, bad structure, missing columns. */
export class DataError extends TrainGuardError<DataErrorCode> {
  override readonly name = 'DataError';
  readonly module = 'data';
}

/** Turns an fs error into a DataError at the boundary, so a user never sees a raw ENOENT stack. */
export function fsError(err: unknown, file: string): DataError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new DataError('DATA_FILE_NOT_FOUND', 'file not found', { file, hint: 'check the path', cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new DataError('DATA_READ_FAILED', 'permission denied', { file, hint: 'check the file permissions', cause: err });
  }
  if (code === 'EISDIR') {
    return new DataError('DATA_READ_FAILED', 'expected a file, found a directory', { file, hint: 'pass --format images for an image folder', cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new DataError('DATA_READ_FAILED', `cannot read file: ${msg}`, { file, cause: err });
}
