/**
 * PGlite on a thread of its own. PGlite is PostgreSQL compiled to WASM, and it runs on the thread
 * that opens it, file I/O included (synchronous). Opened on the service's event loop it took ~55 %
 * of that thread under the ingest load of `npm run bench:service` (28 ms of a 1,000-sample batch's
 * 59 ms), so parsing, hashing, HTTP and the database all queued behind each other on one core. On a
 * worker thread the database runs beside them; the event loop only posts SQL and gets rows back
 * (structured clone: dates, typed arrays and plain objects survive it as they are).
 */
import { Worker } from 'node:worker_threads';

/** The part of PGlite the kysely dialect uses. */
export interface PgliteSession {
  query<R>(text: string, params: readonly unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  close(): Promise<void>;
  readonly closed: boolean;
}

// CommonJS, evaluated in the worker. One database per worker; messages are answered by id. Errors
// travel as their fields (code is the SQLSTATE the store's error mapping reads). bigint columns
// become numbers, refusing any beyond 2^53 rather than rounding (the same rule as the pg driver's).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let db;
const int8 = (text) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError('bigint ' + text + ' is beyond the safe integer range');
  return n;
};
// PGlite's own bytea serializer formats byte by byte (a string per byte): 10 ms for the 64 KB of
// packed sample digests a 1,000-sample insert sends. Node's hex encoder does it in microseconds.
const bytea = (v) => {
  if (!(v instanceof Uint8Array)) throw new TypeError('a bytea parameter must be a Uint8Array');
  return '\\\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
};
const fields = (err) => {
  const out = { name: err?.name ?? 'Error', message: String(err?.message ?? err) };
  for (const k of ['code', 'constraint', 'detail', 'hint', 'table', 'column', 'schema', 'severity']) if (typeof err?.[k] === 'string') out[k] = err[k];
  return out;
};
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'open') {
      const { PGlite } = await import(workerData.pgliteUrl);
      db = await PGlite.create({ ...(m.dataDir === undefined ? {} : { dataDir: m.dataDir }), parsers: { 20: int8 }, serializers: { 17: bytea } });
      // A new 16 MB WAL segment (one a second under ingest load) is not zero-filled first: that
      // was a synchronous 16 MB write stalling every query queued behind it.
      await db.exec('set wal_init_zero = off');
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.op === 'query') {
      const r = await db.query(m.text, m.params);
      parentPort.postMessage({ id: m.id, ok: true, rows: r.rows, affectedRows: r.affectedRows });
    } else if (m.op === 'close') {
      if (db !== undefined && !db.closed) await db.close();
      parentPort.postMessage({ id: m.id, ok: true });
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, ok: false, error: fields(err) });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly rows?: unknown[];
  readonly affectedRows?: number;
  readonly error?: Record<string, string>;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

/** An error from the database thread, with the fields a pg/PGlite error has (code = SQLSTATE). */
function rebuild(fields: Record<string, string> | undefined): Error {
  const err = new Error(fields?.['message'] ?? 'the database thread failed');
  return Object.assign(err, fields ?? {}, { message: err.message });
}

class ThreadSession implements PgliteSession {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;
  #died: Error | undefined;

  constructor() {
    const pgliteUrl = import.meta.resolve('@electric-sql/pglite');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { pgliteUrl } });
    // Unreferenced while idle, like a socket: an open store alone does not keep the process alive.
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      p.resolve(reply);
    });
    const die = (err: Error): void => {
      this.#died ??= err;
      this.#closed = true;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`the database thread exited (code ${code})`)));
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #call(message: Record<string, unknown>): Promise<Reply> {
    if (this.#died !== undefined) throw this.#died;
    const id = this.#nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
    if (!reply.ok) throw rebuild(reply.error);
    return reply;
  }

  async open(dataDir: string | undefined): Promise<void> {
    try {
      await this.#call({ op: 'open', dataDir });
    } catch (err) {
      await this.#worker.terminate();
      throw err;
    }
  }

  async query<R>(text: string, params: readonly unknown[]): Promise<{ rows: R[]; affectedRows?: number }> {
    if (this.#closed) throw new Error('the embedded database is closed');
    const reply = await this.#call({ op: 'query', text, params });
    return { rows: (reply.rows ?? []) as R[], ...(reply.affectedRows === undefined ? {} : { affectedRows: reply.affectedRows }) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#call({ op: 'close' });
    } finally {
      await this.#worker.terminate();
    }
  }
}

/** Opens PGlite (in `dataDir`, or in memory) on a new worker thread. */
export async function openPgliteThread(dataDir: string | undefined): Promise<PgliteSession> {
  const session = new ThreadSession();
  await session.open(dataDir);
  return session;
}
