import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { createPgBossQueue, createWorkerPool, type JobQueue } from '../jobs/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { openHome, type Home } from './home.ts';
import { Service, ServiceError } from './service.ts';
import { warmParseThread } from './upload-parse-thread.ts';

export interface ServiceHostOptions {
  readonly cwd?: string;
  /** PostgreSQL (TRAINGUARD_DATABASE_URL); none: PGlite under <home>/db. */
  readonly databaseUrl?: string;
  /** The PostgreSQL schema to use (TRAINGUARD_DATABASE_SCHEMA; it must exist); pg-boss gets `<schema>_pgboss`. */
  readonly databaseSchema?: string;
  /** Scan jobs this process runs at once; 0 runs none here (a `trainguard worker` must). Default 1. */
  readonly workers?: number;
  /** Whether this process takes uploads (default true; a `trainguard worker` does not). */
  readonly ingest?: boolean;
}

export interface ServiceHost {
  readonly home: Home;
  readonly service: Service;
  readonly store: Store;
  /** Where scan jobs run: the in-process pool (embedded), or pg-boss (PostgreSQL). */
  readonly queue: JobQueue;
  close(): Promise<void>;
}

/**
 * The whole service on a home: the database, the vault, the home's principals and grants, its log,
 * and the scan workers.
 *
 * - Embedded (PGlite under <home>/db): ingest commits each scan job in the database's job table in
 *   the batch's own transaction, and the in-process pool runs it.
 * - PostgreSQL: the same committed job is forwarded by the in-process pool to pg-boss (one job per
 *   batch, by singleton key; the forward is retried until it is acknowledged), and pg-boss hands it
 *   to any worker — this process and every `trainguard worker` on the same database and home. The
 *   job table is the transactional outbox: a batch is never stored without its scan job, however the
 *   process dies.
 *
 * `close()` stops the workers, then the database.
 */
export async function openServiceOnHome(config: Config, options: ServiceHostOptions = {}): Promise<ServiceHost> {
  // The parse thread loads while the home and database open, not on the first uploads.
  const warming = options.ingest === false ? Promise.resolve() : warmParseThread();
  warming.catch(() => undefined); // awaited below; never an unhandled rejection if opening fails first
  const home = await openHome(config, options.cwd === undefined ? {} : { cwd: options.cwd });
  const url = options.databaseUrl === '' ? undefined : options.databaseUrl;
  const store = await openStore(url === undefined
    ? { kind: 'pglite', dataDir: join(home.dir, 'db') }
    : { kind: 'postgres', url, ...(options.databaseSchema === undefined ? {} : { schema: options.databaseSchema }) });
  try {
    await warming;
  } catch (err) {
    await store.close();
    throw err;
  }
  const pool = createWorkerPool({ store: store.jobs });
  const boss = url === undefined ? undefined : createPgBossQueue({ url, schema: options.databaseSchema === undefined ? 'pgboss' : `${options.databaseSchema}_pgboss` });
  const queue = boss ?? pool;
  const service = new Service({
    store,
    vault: home.vault,
    access: home.access,
    queue,
    record: home.record,
    config,
    releases: { keyPath: home.logKeyPath, logDir: home.ledgerDir, dir: join(home.dir, 'snapshots') },
  });
  const workers = options.workers ?? 1;
  if (boss !== undefined) service.forwardScans(pool, boss);
  if (workers > 0) service.registerWorkers(workers);
  if (boss !== undefined) await boss.start();
  // The embedded database is this process's alone (locked by pid): its active jobs are a dead one's.
  if (url === undefined) await store.jobs.requeueAbandoned();
  await pool.start();
  return {
    home,
    service,
    store,
    queue,
    async close() {
      await pool.stop({ graceful: true });
      if (boss !== undefined) await boss.stop({ graceful: true });
      await store.close();
    },
  };
}

/**
 * `trainguard worker`: a process that only runs scan jobs, from pg-boss on the service's
 * PostgreSQL. It needs the same home (vault keys and log) as the server.
 */
export async function openWorkerOnHome(config: Config, options: ServiceHostOptions): Promise<ServiceHost> {
  if (options.databaseUrl === undefined || options.databaseUrl === '') {
    throw new ServiceError('SERVICE_BAD_INPUT', 'a worker needs the service on PostgreSQL', {
      hint: 'set TRAINGUARD_DATABASE_URL to the server\'s database; on the embedded default the server runs its own workers',
    });
  }
  return openServiceOnHome(config, { ...options, workers: options.workers ?? 1, ingest: false });
}
