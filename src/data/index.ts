export type { Dataset, ColumnRole, NumericColumn, CategoricalColumn, FeatureColumn, ImageData, SkippedRow, DatasetFormat, ColumnSpec, ReadOptions } from './dataset.ts';
