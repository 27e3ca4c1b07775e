import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import { translateWriteError } from './errors.ts';
import { checkHex64 } from './executor.ts';
import type { Executor } from './executor.ts';
import type { SnapshotsTable } from './schema.ts';

export interface NewSnapshot {
  readonly id: string;
  readonly datasetId: string;
  readonly parentId?: string | null;
  readonly createdBy: string;
  readonly sampleCount: number;
  /** Merkle root over the sorted sample ids. */
  readonly sampleRoot: string;
  /** SHA-256 of the signed DSSE envelope (the manifest). */
  readonly envelopeSha256: string;
  readonly logIndex?: number | null;
}

export interface SnapshotRecord {
  readonly id: string;
  readonly datasetId: string;
  readonly parentId: string | null;
  readonly createdBy: string;
  readonly sampleCount: number;
  readonly sampleRoot: string;
  readonly envelopeSha256: string;
  readonly logIndex: number | null;
  readonly createdAt: Date;
}

function toSnapshot(row: Selectable<SnapshotsTable>): SnapshotRecord {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    parentId: row.parent_id,
    createdBy: row.created_by,
    sampleCount: row.sample_count,
    sampleRoot: row.sample_root,
    envelopeSha256: row.envelope_sha256,
    logIndex: row.log_index,
    createdAt: row.created_at,
  };
}

/** Released snapshots of a dataset, and the accepted samples a new one is built from. */
export class SnapshotRepo {
  constructor(private readonly db: Executor) {}

  async create(snapshot: NewSnapshot): Promise<SnapshotRecord> {
    checkHex64(snapshot.envelopeSha256, 'envelopeSha256');
    try {
      const row = await this.db.insertInto('snapshots').values({
        id: snapshot.id,
        dataset_id: snapshot.datasetId,
        parent_id: snapshot.parentId ?? null,
        created_by: snapshot.createdBy,
        sample_count: snapshot.sampleCount,
        sample_root: snapshot.sampleRoot,
        envelope_sha256: snapshot.envelopeSha256,
        log_index: snapshot.logIndex ?? null,
      }).returningAll().executeTakeFirstOrThrow();
      return toSnapshot(row);
    } catch (err) {
      return translateWriteError(err, `snapshot ${snapshot.id}`);
    }
  }

  async get(id: string): Promise<SnapshotRecord | undefined> {
    const row = await this.db.selectFrom('snapshots').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toSnapshot(row);
  }

  /** The dataset's most recent snapshot. */
  async latest(datasetId: string): Promise<SnapshotRecord | undefined> {
    const row = await this.db.selectFrom('snapshots').selectAll().where('dataset_id', '=', datasetId)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row === undefined ? undefined : toSnapshot(row);
  }

  /** A dataset's snapshots, newest first. */
  async list(datasetId: string, limit = 100): Promise<SnapshotRecord[]> {
    const rows = await this.db.selectFrom('snapshots').selectAll().where('dataset_id', '=', datasetId)
      .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toSnapshot);
  }

  /** Ids of the dataset's accepted samples in byte order (the order the snapshot's Merkle tree uses). */
  async acceptedSampleIds(datasetId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('samples').select('id').where('dataset_id', '=', datasetId).where('status', '=', 'accepted')
      .orderBy(sql`id collate "C"`).execute();
    return rows.map((r) => r.id);
  }
}
