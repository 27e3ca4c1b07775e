/**
 * Ingest's parsing and hashing on a worker thread. Reading a 1,000-row upload, content-addressing
 * its rows and building the Merkle root of their ids is ~8 ms of CPU in one piece; on the service's
 * event loop every other request's next step (a file write, a database reply) waited behind it.
 * The thread loads the TypeScript modules through tsx's `tsImport` (an eval'd worker has no loader
 * of its own). Data errors come back as DataError with their code, hint and line.
 */
import { Worker } from 'node:worker_threads';
import { DataError, type DataErrorCode } from '../data/index.ts';
import type { ParsedUpload } from './upload-parse.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = import(workerData.tsx).then(({ tsImport }) => tsImport(workerData.module, workerData.parent));
parentPort.on('message', async (m) => {
  try {
    const { parseUpload } = await ready;
    parentPort.postMessage({ id: m.id, ok: true, result: m.warm ? undefined : await parseUpload(m.bytes, m.format) });
  } catch (err) {
    const e = err ?? {};
    parentPort.postMessage({ id: m.id, ok: false, error: { name: String(e.name ?? 'Error'), code: e.code, message: String(e.message ?? err), hint: e.hint, file: e.file, line: e.line, column: e.column } });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: ParsedUpload;
  readonly error?: { name: string; code?: string; message: string; hint?: string; file?: string; line?: number; column?: number };
}

function rebuild(e: NonNullable<Reply['error']>): Error {
  if (e.name === 'DataError' && typeof e.code === 'string') {
    return new DataError(e.code as DataErrorCode, e.message, {
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      ...(e.file === undefined ? {} : { file: e.file }),
      ...(e.line === undefined ? {} : { line: e.line }),
      ...(e.column === undefined ? {} : { column: e.column }),
    });
  }
  return new Error(`parsing the upload failed: ${e.message}`);
}

class ParseThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  #nextId = 0;
  dead = false;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { tsx: import.meta.resolve('tsx/esm/api'), module: new URL('./upload-parse.ts', import.meta.url).href, parent: import.meta.url },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      p?.resolve(reply);
    });
    const die = (err: Error): void => {
      this.dead = true;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`the parse thread exited (code ${code})`)));
  }

  async parse(bytes: Uint8Array, format: string): Promise<ParsedUpload> {
    // Copied, not transferred: the caller still encrypts these bytes into the vault.
    const reply = await this.#call({ bytes, format });
    if (!reply.ok || reply.result === undefined) throw rebuild(reply.error ?? { name: 'Error', message: 'no result' });
    return reply.result;
  }

  /** Resolves once the thread has loaded the parser (or rejects with why it could not). */
  async warm(): Promise<void> {
    const reply = await this.#call({ warm: true });
    if (!reply.ok) throw rebuild(reply.error ?? { name: 'Error', message: 'no result' });
  }

  #call(message: Record<string, unknown>): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...message });
    });
  }
}

let thread: ParseThread | undefined;

function parseThread(): ParseThread {
  if (thread === undefined || thread.dead) thread = new ParseThread();
  return thread;
}

/** {@link parseUpload} on the shared parse thread (started on first use, replaced if it died). */
export function parseUploadOffThread(bytes: Uint8Array, format: string): Promise<ParsedUpload> {
  return parseThread().parse(bytes, format);
}

/**
 * Starts the parse thread and waits until it has loaded the parser: ~0.4 s of module loading that
 * would otherwise fall on the first uploads (measured: the first ten of a 20/s load waited 420–446 ms).
 */
export function warmParseThread(): Promise<void> {
  return parseThread().warm();
}
