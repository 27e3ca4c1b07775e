import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import { canonicalJson, sha256Hex } from '../core/index.ts';
import { StoreError } from './errors.ts';
import type { Database } from './schema.ts';

/**
 * One schema change. Applied migrations are never edited: a change is a new migration with the
 * next version. Statements run one by one (PGlite's extended protocol takes one statement per query).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** What `migrate` did: the versions applied now and the versions that were already there. */
export interface MigrationReport {
  readonly applied: number[];
  readonly present: number[];
}

/** Key of the PostgreSQL advisory lock that serialises concurrent starters ("tgmigrat" in ASCII). */
const MIGRATION_LOCK = 0x74676d6967726174n;

/** sha256 over the migration's canonical JSON: any edit to a shipped migration changes it. */
export function migrationChecksum(m: Migration): string {
  return sha256Hex(canonicalJson({ version: m.version, name: m.name, statements: m.statements }));
}

/**
 * Brings the schema up to `migrations`, each migration in its own transaction, and records each in
 * `schema_migrations` with its checksum. Refuses (before changing anything) a database that has a
 * migration this code does not know (a newer TrainGuard ran on it) or whose checksum differs (a
 * shipped migration was edited). Every step holds a transaction-scoped advisory lock, so servers
 * starting at once on one PostgreSQL database apply each migration exactly once.
 */
export async function migrate(db: Kysely<Database>, migrations: readonly Migration[]): Promise<MigrationReport> {
  const present = await db.transaction().execute(async (tx) => {
    await lock(tx);
    await sql`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now())`.execute(tx);
    const rows = await tx.selectFrom('schema_migrations').select(['version', 'name', 'checksum']).orderBy('version').execute();
    for (const row of rows) checkRecorded(row, migrations);
    return rows.map((r) => r.version);
  });
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (present.includes(m.version)) continue;
    const done = await db.transaction().execute(async (tx) => {
      await lock(tx);
      // Another starter may have applied it while we waited for the lock.
      const row = await tx.selectFrom('schema_migrations').select(['version', 'name', 'checksum']).where('version', '=', m.version).executeTakeFirst();
      if (row !== undefined) {
        checkRecorded(row, migrations);
        return false;
      }
      for (const statement of m.statements) await sql.raw(statement).execute(tx);
      await tx.insertInto('schema_migrations').values({ version: m.version, name: m.name, checksum: migrationChecksum(m) }).execute();
      return true;
    });
    if (done) applied.push(m.version);
  }
  return { applied, present };
}

async function lock(tx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`.execute(tx);
}

function checkRecorded(row: { version: number; name: string; checksum: string }, migrations: readonly Migration[]): void {
  const known = migrations.find((m) => m.version === row.version);
  if (known === undefined) {
    throw new StoreError('STORE_MIGRATION_UNKNOWN', `the database has migration ${row.version} (${row.name}), which this version of TrainGuard does not know`, {
      hint: 'a newer TrainGuard has upgraded this database: run that version, or restore a backup taken before the upgrade',
    });
  }
  if (migrationChecksum(known) !== row.checksum) {
    throw new StoreError('STORE_MIGRATION_CHANGED', `migration ${row.version} (${row.name}) was applied with different contents than this version of TrainGuard ships`, {
      hint: 'the schema may differ from what this code expects; run the TrainGuard version that created the database, or restore a backup',
    });
  }
}
