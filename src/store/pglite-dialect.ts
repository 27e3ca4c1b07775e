import { CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import type { PgliteSession } from './pglite-thread.ts';

/**
 * A kysely dialect for PGlite: PostgreSQL's adapter, compiler and introspector over one embedded
 * database. In house because the npm PGlite dialects pin PGlite 0.4 or kysely 0.27
 * (../shared/research/ecosystem.md). The database runs on its own thread (pglite-thread.ts).
 * PGlite has a single session, so the driver hands its one
 * connection to one holder at a time: a kysely transaction keeps it from BEGIN to COMMIT and no
 * other query can land inside it.
 */
export class PgliteDialect implements Dialect {
  constructor(private readonly pg: PgliteSession) {}

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PgliteDriver(this.pg);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- kysely's Dialect signature
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

/** How often (at most) the driver looks for tables to analyze. */
const ANALYZE_CHECK_MS = 1000;

/**
 * Tables that grew by a tenth (and a page) since they were last analyzed: autovacuum's analyze
 * rule, in pages since PGlite keeps no reliable row counters.
 */
const GROWN_TABLES = `
  select c.oid::regclass::text as name from pg_class c
  where c.relkind = 'r' and c.relnamespace = current_schema()::regnamespace
    and pg_relation_size(c.oid) / current_setting('block_size')::int >= c.relpages * 1.1 + 1`;

class PgliteDriver implements Driver {
  readonly #connection: PgliteConnection;
  readonly #pg: PgliteSession;
  #tail: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;
  #lastAnalyzeCheck = 0;
  #analyzing: Promise<void> | undefined;

  constructor(pg: PgliteSession) {
    this.#pg = pg;
    this.#connection = new PgliteConnection(pg);
  }

  async init(): Promise<void> {
    // The session is open (and ready) before the dialect is made.
  }

  /** Waits until the previous holder released the connection (FIFO). */
  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((resolve) => { release = resolve; });
    await previous;
    this.#release = release;
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
    if (this.#analyzing === undefined && Date.now() - this.#lastAnalyzeCheck >= ANALYZE_CHECK_MS) {
      this.#lastAnalyzeCheck = Date.now();
      this.#analyzing = this.#analyzeGrown().finally(() => {
        this.#analyzing = undefined;
      });
    }
  }

  /**
   * PGlite runs no autovacuum, so without this the planner never learns that a table grew, and a
   * plan made while a table was nearly empty stays cached for the session: the foreign-key check
   * of every inserted sample kept scanning all of `batches`, and a 1,000-sample batch took 35 ms
   * at first, 136 ms after 800 batches. Analyzing grown tables (a few ms each) keeps it flat.
   * Runs between transactions, holding the connection like any query; failures are left to the
   * next check (a closing database, above all).
   */
  async #analyzeGrown(): Promise<void> {
    try {
      const connection = await this.acquireConnection();
      try {
        const grown = await connection.executeQuery<{ name: string }>(CompiledQuery.raw(GROWN_TABLES));
        for (const { name } of grown.rows) await connection.executeQuery(CompiledQuery.raw(`analyze ${name}`));
      } finally {
        const release = this.#release;
        this.#release = undefined;
        release?.();
      }
    } catch {
      // Planner statistics only: the next check retries.
    }
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let text = 'start transaction';
    if (settings.isolationLevel !== undefined) text += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode !== undefined) text += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(text));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    await this.#analyzing;
    if (!this.#pg.closed) await this.#pg.close();
  }
}

class PgliteConnection implements DatabaseConnection {
  constructor(private readonly pg: PgliteSession) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pg.query<R>(compiled.sql, compiled.parameters);
    return {
      rows: result.rows,
      ...(result.affectedRows === undefined ? {} : { numAffectedRows: BigInt(result.affectedRows) }),
    };
  }

  // PGlite returns whole results; streaming is not offered.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on PGlite');
  }
}
