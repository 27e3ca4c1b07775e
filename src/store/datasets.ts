import { sql, type Selectable } from 'kysely';
import { translateWriteError } from './errors.ts';
import type { Executor } from './executor.ts';
import { toJson } from './schema.ts';
import type { DatasetsTable, SourcesTable } from './schema.ts';

export interface NewDataset {
  readonly id: string;
  readonly name: string;
  readonly labelSet: readonly string[];
  /** The column schema the dataset was created with (JSON). */
  readonly schema: unknown;
  /** Policy: quarantine threshold, two-person rule for high severity, ... (JSON; the app owns the shape). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly createdBy: string;
}

export interface DatasetRecord extends NewDataset {
  readonly createdAt: Date;
}

/** A source as ingest names it: its id is derived from the dataset and the name. */
export interface NewSource {
  readonly id: string;
  readonly datasetId: string;
  readonly name: string;
}

export interface SourceRecord {
  readonly id: string;
  readonly datasetId: string;
  readonly name: string;
  readonly createdAt: Date;
}

function toDataset(row: Selectable<DatasetsTable>): DatasetRecord {
  return {
    id: row.id,
    name: row.name,
    labelSet: row.label_set as string[],
    schema: row.schema,
    settings: row.settings as Record<string, unknown>,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

function toSource(row: Selectable<SourcesTable>): SourceRecord {
  return { id: row.id, datasetId: row.dataset_id, name: row.name, createdAt: row.created_at };
}

/** Datasets: a name, its label set, schema and review policy. */
export class DatasetRepo {
  constructor(private readonly db: Executor) {}

  /** Adds a dataset; STORE_CONFLICT when the id is taken. */
  async create(dataset: NewDataset): Promise<DatasetRecord> {
    try {
      const row = await this.db.insertInto('datasets').values({
        id: dataset.id,
        name: dataset.name,
        label_set: toJson(dataset.labelSet),
        schema: toJson(dataset.schema),
        settings: toJson(dataset.settings),
        created_by: dataset.createdBy,
      }).returningAll().executeTakeFirstOrThrow();
      return toDataset(row);
    } catch (err) {
      return translateWriteError(err, `dataset ${dataset.id}`);
    }
  }

  async get(id: string): Promise<DatasetRecord | undefined> {
    const row = await this.db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toDataset(row);
  }

  /** All datasets, by id. */
  async list(): Promise<DatasetRecord[]> {
    const rows = await this.db.selectFrom('datasets').selectAll().orderBy('id').execute();
    return rows.map(toDataset);
  }

  /** Replaces a dataset's settings; false when there is no such dataset. */
  async updateSettings(id: string, settings: Readonly<Record<string, unknown>>): Promise<boolean> {
    const res = await this.db.updateTable('datasets').set({ settings: toJson(settings) }).where('id', '=', id).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}

/** Sources: where a dataset's batches come from (a team, a crawler, a vendor). */
export class SourceRepo {
  constructor(private readonly db: Executor) {}

  /** The source named `name` in the dataset, created with `id` if it does not exist yet. */
  async ensure(source: NewSource): Promise<SourceRecord> {
    try {
      await this.db.insertInto('sources').values({ id: source.id, dataset_id: source.datasetId, name: source.name })
        .onConflict((oc) => oc.columns(['dataset_id', 'name']).doNothing()).execute();
    } catch (err) {
      translateWriteError(err, `source ${source.name}`);
    }
    const row = await this.db.selectFrom('sources').selectAll()
      .where('dataset_id', '=', source.datasetId).where('name', '=', source.name).executeTakeFirstOrThrow();
    return toSource(row);
  }

  async get(id: string): Promise<SourceRecord | undefined> {
    const row = await this.db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toSource(row);
  }

  /** A dataset's sources, by name. */
  async list(datasetId: string): Promise<SourceRecord[]> {
    const rows = await this.db.selectFrom('sources').selectAll().where('dataset_id', '=', datasetId).orderBy('name').execute();
    return rows.map(toSource);
  }

  /**
   * Each source of a dataset with its batches, samples (original rows, not relabels) and how many
   * of those the scans flagged for review: the flag rate that tells a poisoned source from the rest.
   */
  async stats(datasetId: string): Promise<SourceStats[]> {
    const rows = await this.db.selectFrom('sources as so')
      .leftJoin('batches as b', 'b.source_id', 'so.id')
      .leftJoin('samples as s', (j) => j.onRef('s.batch_id', '=', 'b.id').on('s.parent_id', 'is', null))
      .leftJoin('review_tasks as t', (j) => j.onRef('t.sample_id', '=', 's.id').onRef('t.dataset_id', '=', 's.dataset_id'))
      .select(['so.id', 'so.name'])
      .select(sql<string>`count(distinct b.id)`.as('batches'))
      .select(sql<string>`count(s.id)`.as('samples'))
      .select(sql<string>`count(t.id)`.as('flagged'))
      .where('so.dataset_id', '=', datasetId)
      .groupBy(['so.id', 'so.name']).orderBy('so.name').execute();
    return rows.map((r) => {
      const samples = Number(r.samples);
      const flagged = Number(r.flagged);
      return { id: r.id, name: r.name, batches: Number(r.batches), samples, flagged, flagRate: samples === 0 ? 0 : flagged / samples };
    });
  }
}

export interface SourceStats {
  readonly id: string;
  readonly name: string;
  readonly batches: number;
  readonly samples: number;
  /** Samples a scan quarantined for review. */
  readonly flagged: number;
  readonly flagRate: number;
}
