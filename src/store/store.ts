import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DbAccessStore } from './access-store.ts';
import { BatchRepo, SampleRepo } from './batches.ts';
import { DatasetRepo, SourceRepo } from './datasets.ts';
import { StoreError } from './errors.ts';
import type { Executor } from './executor.ts';
import { ScanRepo } from './findings.ts';
import { DbJobStore } from './jobs.ts';
import { migrate } from './migrations.ts';
import type { MigrationReport } from './migrations.ts';
import { PgliteDialect } from './pglite-dialect.ts';
import { openPgliteThread, type PgliteSession } from './pglite-thread.ts';
import { ReviewRepo } from './reviews.ts';
import type { Database } from './schema.ts';
import { MIGRATIONS } from './service-schema.ts';
import { SnapshotRepo } from './snapshots.ts';

/**
 * Where the service database lives.
 * - `pglite`: embedded PostgreSQL (WASM) in `dataDir`, or in memory when `dataDir` is omitted (tests).
 * - `postgres`: a PostgreSQL server (the service reads the URL from `TRAINGUARD_DATABASE_URL`);
 *   `schema` puts every table in that schema (it must exist), `poolSize` caps connections (10).
 */
export type StoreOptions =
  | { readonly kind: 'pglite'; readonly dataDir?: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string; readonly poolSize?: number };

/** The repositories, bound to the store's pool or to one transaction. */
export interface Repositories {
  readonly datasets: DatasetRepo;
  readonly sources: SourceRepo;
  readonly batches: BatchRepo;
  readonly samples: SampleRepo;
  readonly scans: ScanRepo;
  readonly reviews: ReviewRepo;
  readonly snapshots: SnapshotRepo;
  /** The job store: enqueueing inside a transaction makes "store this and schedule its work" atomic. */
  readonly jobs: DbJobStore;
}

export interface Store extends Repositories {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Kysely<Database>;
  readonly access: DbAccessStore;
  /** What opening did to the schema. */
  readonly migrations: MigrationReport;
  /** Runs `fn` with repositories on one transaction: all its writes or none. */
  transaction<T>(fn: (repos: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PG_INT8 = 20;

/**
 * bigint columns (log indices, sequence numbers, counts) as JS numbers, refusing any beyond 2^53
 * rather than rounding it. The pg driver gets this parser and the PGlite thread the same rule
 * (pglite-thread.ts), so results have the same types on both.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${text} is beyond the safe integer range`);
  return n;
}

function repositories(db: Executor): Repositories {
  return {
    datasets: new DatasetRepo(db),
    sources: new SourceRepo(db),
    batches: new BatchRepo(db),
    samples: new SampleRepo(db),
    scans: new ScanRepo(db),
    reviews: new ReviewRepo(db),
    snapshots: new SnapshotRepo(db),
    jobs: new DbJobStore(db),
  };
}

/**
 * Opens the service database and brings its schema up to date (refusing a database migrated by
 * a newer or different TrainGuard: STORE_MIGRATION_UNKNOWN / STORE_MIGRATION_CHANGED).
 * @example const store = await openStore({ kind: 'pglite', dataDir: join(home, 'db') });
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const opened = options.kind === 'pglite' ? await openPglite(options.dataDir) : await openPostgres(options);
  let report: MigrationReport;
  try {
    report = await migrate(opened.db, MIGRATIONS);
  } catch (err) {
    await opened.close();
    throw err;
  }
  const { db } = opened;
  return {
    kind: options.kind,
    db,
    ...repositories(db),
    access: new DbAccessStore(db),
    migrations: report,
    transaction: (fn) => db.transaction().execute((tx) => fn(repositories(tx))),
    close: opened.close,
  };
}

interface Opened {
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

async function openPglite(dataDir: string | undefined): Promise<Opened> {
  if (dataDir === undefined) return pgliteOn(undefined, async () => undefined);
  const dir = resolve(dataDir);
  // The database holds password and token hashes: owner only.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const unlock = await lockDataDir(dir);
  try {
    return await pgliteOn(dir, unlock);
  } catch (err) {
    await unlock();
    throw err;
  }
}

async function pgliteOn(dataDir: string | undefined, unlock: () => Promise<void>): Promise<Opened> {
  let instance: PgliteSession;
  try {
    instance = await openPgliteThread(dataDir);
  } catch (err) {
    throw new StoreError('STORE_UNAVAILABLE', `cannot open the embedded database${dataDir === undefined ? '' : ` in ${dataDir}`}: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'check that the directory is a TrainGuard database directory and is not damaged; restore a backup if it is',
      ...(dataDir === undefined ? {} : { path: dataDir }),
      cause: err,
    });
  }
  const db = new Kysely<Database>({ dialect: new PgliteDialect(instance) });
  return {
    db,
    close: async () => {
      await db.destroy();
      await unlock();
    },
  };
}

/**
 * PGlite does not lock its data directory, and two processes writing one directory corrupt it.
 * A `<dataDir>.lock` file holding our pid keeps a second process out; a lock left by a process
 * that no longer exists (a crash) is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new StoreError('STORE_UNAVAILABLE', `the embedded database in ${dataDir} is in use by process ${holder}`, {
        hint: 'stop the other TrainGuard process, or point TRAINGUARD_DATABASE_URL at a PostgreSQL server to share one database',
        path: dataDir,
      });
    }
    await unlink(path).catch(() => undefined);
  }
  throw new StoreError('STORE_UNAVAILABLE', `cannot lock the embedded database in ${dataDir}`, { hint: `remove ${path} if no TrainGuard process is running`, path: dataDir });
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** host:port of a PostgreSQL URL, for messages: never the user or password. */
function serverOf(url: string): { where: string; database: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid://');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    // The URL may hold a password: never echo it.
    throw new StoreError('STORE_BAD_INPUT', 'the database URL is not a postgres:// URL', {
      hint: 'set TRAINGUARD_DATABASE_URL to postgres://user:password@host:5432/database',
    });
  }
  return { where: `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`, database: decodeURIComponent(parsed.pathname.slice(1)) };
}

async function openPostgres(options: { readonly url: string; readonly schema?: string; readonly poolSize?: number }): Promise<Opened> {
  const { where, database } = serverOf(options.url);
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new StoreError('STORE_BAD_INPUT', `invalid schema name ${JSON.stringify(options.schema.slice(0, 70))}`, { hint: 'use 1-63 characters a-z, 0-9, _' });
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === PG_INT8 ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  // An idle connection the server drops emits 'error' on the pool; unhandled it would kill the
  // process. The next query gets a fresh connection or fails with its own error.
  pool.on('error', () => undefined);
  let schemaExists = true;
  try {
    const client = await pool.connect();
    try {
      if (options.schema !== undefined) schemaExists = (await client.query('select 1 from pg_namespace where nspname = $1', [options.schema])).rowCount === 1;
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new StoreError('STORE_UNAVAILABLE', `cannot connect to PostgreSQL at ${where}${database === '' ? '' : ` (database ${database})`}: ${reason}`, {
      hint: 'check TRAINGUARD_DATABASE_URL, that the server is running and reachable, and the credentials',
      cause: err,
    });
  }
  if (!schemaExists) {
    await pool.end();
    throw new StoreError('STORE_BAD_INPUT', `schema ${options.schema} does not exist in the database at ${where}`, {
      hint: `create it first (create schema ${options.schema}) or leave the schema option out`,
    });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, close: () => db.destroy() };
}
