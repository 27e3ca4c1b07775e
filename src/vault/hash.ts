/**
 * SHA-256 of a byte stream, computed on a worker thread once the stream is large. Hashing, not
 * AES-GCM, bounds the vault here: node's SHA-256 runs at ~1.3 GB/s and AES-256-GCM at ~2 GB/s on
 * one core, and a put hashes twice (plaintext name, ciphertext commitment). Moving the hashes to
 * other cores lets them overlap encryption and I/O. Streams under {@link INLINE_LIMIT} are hashed
 * on the calling thread: a worker round trip costs more than hashing them.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Streams shorter than this are hashed on the calling thread. */
export const INLINE_LIMIT = 4 * 1024 * 1024;
/** Bytes copied into one message to the worker. */
const BATCH = 1024 * 1024;
/** Bytes sent but not yet hashed before `update` waits: bounds the memory a slow worker can pin. */
const MAX_IN_FLIGHT = 8 * 1024 * 1024;
const POOL_SIZE = 2;

// CommonJS, evaluated in the worker: hashes batches per stream id and hands each batch back for
// reuse (fresh memory would cost a page fault per 4 KiB on every copy into it).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (h === undefined) hashes.set(m.id, (h = createHash('sha256')));
    h.update(m.data);
    parentPort.postMessage({ op: 'ack', id: m.id, data: m.data }, [m.data.buffer]);
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id) ?? createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, hex: h.digest('hex') });
  }
});
`;

interface Listener {
  ack(batch: Buffer): void;
  digest(hex: string): void;
  fail(err: unknown): void;
}

/** One worker thread hosting any number of streams; kept alive (ref'd) only while one is open. */
class HashWorker {
  readonly #worker: Worker;
  readonly #listeners = new Map<number, Listener>();
  #dead = false;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    this.#worker.unref();
    this.#worker.on('message', (m: { op: string; id: number; data?: Uint8Array; hex?: string }) => {
      const l = this.#listeners.get(m.id);
      if (m.op === 'ack' && m.data !== undefined) l?.ack(Buffer.from(m.data.buffer, 0, m.data.buffer.byteLength));
      else if (m.op === 'digest') {
        this.#close(m.id);
        l?.digest(m.hex ?? '');
      }
    });
    const die = (err: unknown): void => {
      this.#dead = true;
      for (const l of this.#listeners.values()) l.fail(err);
      this.#listeners.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`hash worker exited with code ${code}`)));
  }

  get usable(): boolean {
    return !this.#dead;
  }

  open(id: number, listener: Listener): void {
    if (this.#listeners.size === 0) this.#worker.ref(); // awaited digests must keep the process alive
    this.#listeners.set(id, listener);
  }

  #close(id: number): void {
    this.#listeners.delete(id);
    if (this.#listeners.size === 0) this.#worker.unref();
  }

  abandon(id: number): void {
    if (!this.#listeners.has(id)) return;
    this.#close(id);
    this.#worker.postMessage({ op: 'digest', id }); // frees the worker's state for this id
  }

  send(id: number, data: Buffer): void {
    this.#worker.postMessage({ op: 'update', id, data }, [data.buffer as ArrayBuffer]);
  }

  requestDigest(id: number): void {
    this.#worker.postMessage({ op: 'digest', id });
  }
}

const pool: HashWorker[] = [];
let nextId = 0;

/** Streams take workers in turn, so a put's two hashes land on different threads. */
function workerFor(id: number): HashWorker {
  const slot = id % POOL_SIZE;
  let w = pool[slot];
  if (w === undefined || !w.usable) pool[slot] = w = new HashWorker();
  return w;
}

/** Whether this machine has a second core for the hash workers to use. */
const PARALLEL = availableParallelism() > 1;
/**
 * SHA-256 of a stream of chunks: `await update(chunk)` for each, then `await digest()`. `update`
 * copies what it keeps, so the caller may reuse or hand on a chunk as soon as it returns (the
 * vault yields decrypted chunks to a consumer who owns them).
 */
export class Sha256Stream {
  /** Hashes on this thread when there is no second core. */
  readonly #local = PARALLEL ? undefined : createHash('sha256');
  /** Copies of the chunks, held until the stream reaches INLINE_LIMIT. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #batch: Buffer | undefined;
  #used = 0;
  /** Batches the worker has hashed and handed back. */
  #spare: Buffer[] = [];
  #remote: { worker: HashWorker; id: number } | undefined;
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #result: ((hex: string) => void) | undefined;
  #failure: { err: unknown } | undefined;
  #failed: ((err: unknown) => void) | undefined;
  #done = false;

  /** Adds bytes; resolves at once unless too much is waiting on the worker. */
  async update(data: Uint8Array): Promise<void> {
    if (this.#local !== undefined) {
      this.#local.update(data);
      return;
    }
    if (this.#remote !== undefined) return this.#copy(data);
    this.#held.push(Buffer.from(data));
    this.#heldBytes += data.byteLength;
    if (this.#heldBytes < INLINE_LIMIT) return;
    this.#goRemote();
    const held = this.#held;
    this.#held = [];
    for (const h of held) await this.#copy(h);
  }

  /** The lowercase hex digest. The stream cannot be used afterwards. */
  async digest(): Promise<string> {
    if (this.#done) throw new Error('Sha256Stream: already digested or abandoned');
    this.#done = true;
    if (this.#local !== undefined) return this.#local.digest('hex');
    if (this.#remote === undefined) {
      const h = createHash('sha256');
      for (const b of this.#held) h.update(b);
      this.#held = [];
      return h.digest('hex');
    }
    const { worker, id } = this.#remote;
    // The tail is a view of a batch of its own (allocUnsafeSlow), so transferring its buffer is safe.
    const tail = this.#batch?.subarray(0, this.#used);
    this.#batch = undefined;
    if (tail !== undefined && tail.byteLength > 0) await this.#send(tail);
    this.#throwIfFailed();
    const hex = new Promise<string>((resolve, reject) => {
      this.#result = resolve;
      this.#failed = reject;
    });
    worker.requestDigest(id);
    return hex;
  }

  /** Releases the worker's state when a stream is abandoned before its digest. */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.#held = [];
    if (this.#remote !== undefined) this.#remote.worker.abandon(this.#remote.id);
  }

  /** Copies into batches (reused once the worker hands them back), sending each full one. */
  async #copy(data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.byteLength) {
      this.#batch ??= this.#spare.pop() ?? Buffer.allocUnsafeSlow(BATCH);
      const n = Math.min(BATCH - this.#used, data.byteLength - at);
      this.#batch.set(data.subarray(at, at + n), this.#used);
      this.#used += n;
      at += n;
      if (this.#used === BATCH) {
        const full = this.#batch;
        this.#batch = undefined;
        this.#used = 0;
        await this.#send(full);
      }
    }
  }

  #goRemote(): void {
    const id = nextId++;
    const worker = workerFor(id);
    this.#remote = { worker, id };
    worker.open(id, {
      ack: (batch) => {
        this.#inFlight -= batch.byteLength;
        if (batch.byteLength === BATCH && !this.#done) this.#spare.push(batch);
        if (this.#inFlight <= MAX_IN_FLIGHT / 2) this.#wake();
      },
      digest: (hex) => this.#result?.(hex),
      fail: (err) => {
        this.#failure = { err };
        this.#wake();
        this.#failed?.(err);
      },
    });
  }

  #wake(): void {
    const d = this.#drained;
    this.#drained = undefined;
    d?.();
  }

  async #send(batch: Buffer): Promise<void> {
    const remote = this.#remote;
    if (remote === undefined) throw new Error('Sha256Stream: no worker');
    this.#throwIfFailed();
    while (this.#inFlight >= MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => (this.#drained = resolve));
      this.#throwIfFailed();
    }
    this.#inFlight += batch.buffer.byteLength;
    remote.worker.send(remote.id, batch);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.err;
  }
}
