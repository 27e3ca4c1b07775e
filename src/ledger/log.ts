/**
 * The append-only log: C2SP tlog-tiles on a {@link TileStorage}, one writer per log.
 *
 * Durability contract (research/provenance.md §4.2, after Tessera's POSIX driver): a batch writes
 * its entry bundles, every touched hash tile (full and partial, all levels) and its idempotency
 * records, fsyncs them, and only then replaces the `checkpoint`. The checkpoint is the commit
 * point: on open, anything beyond its size is ignored and overwritten by the next batch, so a
 * crash at any moment leaves a log that opens, verifies, and holds every acknowledged entry.
 *
 * One writer at a time: the `LOCK` file. By default a writer holds it from open to close. With
 * `lock: 'commit'` it holds it only while a batch commits and first reads in whatever other
 * writers committed since (checkpoint, right edge, idempotency keys), so a long-running service
 * and short CLI commands can append to one log in turn.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError } from './errors.ts';
import {
  EMPTY_ROOT,
  HASH_SIZE,
  consistencyProof as merkleConsistencyProof,
  inclusionProof as merkleInclusionProof,
  leafHash,
  treeRoot,
} from './merkle.ts';
import type { HashReader } from './merkle.ts';
import { nodeHashInto } from './node-hash.ts';
import {
  CHECKPOINT_PATH,
  FileTileStorage,
  TILE_HEIGHT,
  TILE_WIDTH,
  checkEntrySize,
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  formatTilePath,
  readTileBytes,
} from './tiles.ts';
import type { StoredObject, TileStorage } from './tiles.ts';
import { isProcessAlive } from '../core/index.ts';

/** Journal of idempotency keys: `<index> <base64(utf8 key)>\n`, in index order. Not part of the served tiles. */
const KEYS_JOURNAL = '.state/idempotency';
const LOCK_FILE = 'LOCK';
/** Requests queued while a batch is being written are merged into the next one, up to this many entries. */
const MAX_BATCH_ENTRIES = 4096;
const MAX_KEY_BYTES = 1024;
const TILE_CACHE_SIZE = 128;
/** Interior trees of full tiles kept for proofs: 16 KiB each, so 1,024 is 16 MiB — every upper-level tile of a 100M-leaf log. */
const TREE_CACHE_SIZE = 1024;
/** With `lock: 'commit'`, how long a commit waits for another writer's lock by default. */
const COMMIT_LOCK_WAIT_MS = 10_000;

export interface LogOptions {
  /** Checkpoint origin line (createLog: required; openLog: checked against the stored checkpoint when given). */
  readonly origin?: string;
  /**
   * Turns a checkpoint body (`origin\nsize\nbase64 root\n`) into the stored note, normally by
   * appending signed-note signature lines. Without it the unsigned body is stored.
   */
  readonly signCheckpoint?: (body: string) => string | Promise<string>;
  /** Called with the stored checkpoint text on open; throw to refuse a checkpoint whose signature does not verify. */
  readonly verifyCheckpoint?: (note: string) => void | Promise<void>;
  /** Open without the lock and never write (for proofs, serving tiles, verification). */
  readonly readOnly?: boolean;
  /** `quick` (default) checks the right edge of the tree against the checkpoint; `full` re-hashes every tile and bundle. */
  readonly verify?: 'quick' | 'full';
  /** fsync files and directories (default true). Turn off only for throwaway logs in tests. */
  readonly fsync?: boolean;
  /**
   * When the writer lock is held (filesystem logs): `open` (default) from open to close, so no
   * other writer can append meanwhile; `commit` only while a batch commits, after reading in what
   * other writers appended since, so several processes can keep the log open for appending.
   */
  readonly lock?: 'open' | 'commit';
  /** How long to wait for a lock a live writer holds before failing with LEDGER_LOCKED (default 0; 10 s with `lock: 'commit'`). */
  readonly lockWaitMs?: number;
}

export interface AppendOptions {
  /** One per entry (undefined = none). A key seen before returns the index it got first, and adds nothing. */
  readonly idempotencyKeys?: readonly (string | undefined)[];
}

export interface AppendResult {
  /** The index of each entry, in order; a repeated idempotency key yields the original index. */
  readonly indices: number[];
  /** Tree size and root of the checkpoint that covers these entries. */
  readonly size: number;
  readonly root: Uint8Array;
  /** The stored checkpoint text (signed when a signer was given). */
  readonly checkpoint: string;
}

interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}

/** The partial tiles along the right edge: edge[T] holds the hashes of the last, incomplete tile at tile level T. */
type Edge = readonly (readonly Uint8Array[])[];

interface PendingAppend {
  readonly entries: readonly Uint8Array[];
  readonly keys: readonly (string | undefined)[] | undefined;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** Number of hashes stored at tile level T for a tree of `size` leaves: floor(size / 256^T). */
function levelCount(size: number, tileLevel: number): number {
  return Math.floor(size / TILE_WIDTH ** tileLevel);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Folds 2^r consecutive hashes (a perfect subtree) into its root with RFC 6962 node hashing, in one scratch buffer. */
function foldPerfect(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0 || (hashes.length & (hashes.length - 1)) !== 0) {
    throw new LedgerError('LEDGER_BAD_INPUT', `cannot fold ${hashes.length} hashes as a perfect subtree`);
  }
  const buf = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => buf.set(h, i * HASH_SIZE));
  for (let n = hashes.length; n > 1; n = Math.floor(n / 2)) {
    for (let i = 0; i < n / 2; i++) nodeHashInto(buf, 2 * i * HASH_SIZE, buf, (2 * i + 1) * HASH_SIZE, buf, i * HASH_SIZE);
  }
  return buf.slice(0, HASH_SIZE);
}

/**
 * The complete nodes of a tile's subtree, bottom-up, in a 511-hash array: level h (0..8) holds
 * the first width >> h of its 256 >> h slots, starting at hash number 512 − (512 >> h). Level 0
 * is the tile itself; level 8 is the root of a full tile. A partial tile has its perfect subtrees.
 */
function tileTree(tile: Uint8Array): Uint8Array {
  const width = tile.length / HASH_SIZE;
  const tree = new Uint8Array((2 * TILE_WIDTH - 1) * HASH_SIZE);
  tree.set(tile);
  for (let h = 1; h <= TILE_HEIGHT; h++) {
    const below = treeOffset(h - 1, 0);
    const here = treeOffset(h, 0);
    for (let i = 0; i < width >> h; i++) {
      nodeHashInto(tree, below + 2 * i * HASH_SIZE, tree, below + (2 * i + 1) * HASH_SIZE, tree, here + i * HASH_SIZE);
    }
  }
  return tree;
}

/** Byte offset of node `index` of level h in a {@link tileTree}. */
function treeOffset(h: number, index: number): number {
  return (2 * TILE_WIDTH - (2 * TILE_WIDTH >> h) + index) * HASH_SIZE;
}

function checkOrigin(origin: string): void {
  // tlog-checkpoint: a non-empty line; a control character (LF above all) would forge extra lines.
  if (origin.length === 0 || /\p{Cc}/u.test(origin)) {
    throw new LedgerError('LEDGER_BAD_INPUT', `invalid log origin ${JSON.stringify(origin)}`, {
      hint: 'use a non-empty origin without control characters, such as example.com/trainguard/log1',
    });
  }
}

/** `origin\nsize\nbase64(root)\n` — the tlog-checkpoint note text. */
export function checkpointBody(origin: string, size: number, root: Uint8Array): string {
  return `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;
}

/** Reads origin, size and root from the first three lines of a stored checkpoint (signed or not). */
function parseStoredCheckpoint(text: string, where: string): Checkpoint {
  const bad = (why: string): LedgerError =>
    new LedgerError('LEDGER_CORRUPT', `${where}: ${why}`, {
      path: where,
      hint: 'the checkpoint file is damaged; restore it from a backup or a witness-held copy',
    });
  if (text.includes('\uFFFD')) throw bad('not valid UTF-8');
  const lines = text.split('\n');
  if (lines.length < 4) throw bad('fewer than three lines');
  const [origin = '', sizeText = '', rootText = ''] = lines;
  if (origin.length === 0 || /\p{Cc}/u.test(origin)) throw bad('bad origin line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw bad('tree size is not a canonical decimal');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw bad('tree size too large');
  const root = new Uint8Array(Buffer.from(rootText, 'base64'));
  // Buffer's base64 decoder is lenient; insist on the canonical encoding of exactly 32 bytes.
  if (root.length !== HASH_SIZE || Buffer.from(root).toString('base64') !== rootText) throw bad('root hash is not canonical base64 of 32 bytes');
  return { origin, size, root };
}

function corrupt(message: string, path?: string): LedgerError {
  return new LedgerError('LEDGER_CORRUPT', message, {
    ...(path === undefined ? {} : { path }),
    hint: 'stored tiles do not match the checkpoint; nothing was changed — restore the named file from a backup or replica, then reopen',
  });
}

/**
 * The lock tokens this process holds. A lock naming this process's pid but none of these was left
 * by an earlier process that had the same pid (a container's PID 1 restarted): it is stale.
 */
const heldTokens = new Set<string>();

function lockHolderAlive(held: string, pid: number): boolean {
  return pid === process.pid ? heldTokens.has(held) : isProcessAlive(pid);
}

/** A held lock: `release` gives it up; `tookOver` says a dead writer's lock was taken over (its last commit may be torn). */
interface HeldLock {
  readonly release: () => Promise<void>;
  readonly tookOver: boolean;
}

/**
 * Single-writer lock: a file holding `pid token`, created atomically with its content (write temp,
 * link). A lock of a live process is waited for up to `waitMs`, then LEDGER_LOCKED.
 */
async function acquireLock(dir: string, waitMs = 0): Promise<HeldLock> {
  const lockPath = join(dir, LOCK_FILE);
  const token = `${process.pid} ${randomUUID()}\n`;
  const deadline = Date.now() + waitMs;
  let pause = 2;
  let tookOver = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    const temp = join(dir, `${LOCK_FILE}.${process.pid}.${randomUUID()}`);
    try {
      const fh = await open(temp, 'wx');
      try {
        await fh.write(token);
        await fh.sync();
      } finally {
        await fh.close();
      }
      // Counted as held before it exists: another caller in this process may read it at once.
      heldTokens.add(token);
      try {
        // link() fails with EEXIST when the lock exists, so readers never see a lock without content.
        await link(temp, lockPath);
        const release = async (): Promise<void> => {
          const now = await readFile(lockPath, 'utf8').catch(() => undefined);
          if (now === token) await unlink(lockPath).catch(() => undefined);
          heldTokens.delete(token);
        };
        return { release, tookOver };
      } catch (err) {
        heldTokens.delete(token);
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } catch (err) {
      throw new LedgerError('LEDGER_IO', `cannot create lock ${lockPath}: ${(err as Error).message}`, {
        path: lockPath,
        cause: err,
        hint: 'check that the log directory exists and is writable',
      });
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    const held = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (held === undefined) continue; // released meanwhile: try again
    const pid = Number(/^([1-9][0-9]*) /.exec(held)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || lockHolderAlive(held, pid)) {
      if (Date.now() < deadline) {
        // A live writer commits for milliseconds: wait a little and try again (not counted as an attempt).
        await sleep(Math.min(pause, Math.max(1, deadline - Date.now())));
        pause = Math.min(pause * 2, 50);
        attempt--;
        continue;
      }
      throw new LedgerError('LEDGER_LOCKED', `log ${dir} is locked by ${Number.isSafeInteger(pid) ? `process ${pid}` : 'an unknown process'}`, {
        path: lockPath,
        hint: 'only one writer may append to a log: stop the other writer, or open the log read-only; delete LOCK only if no writer runs',
      });
    }
    // Stale lock of a dead process. Move it aside (only one contender's rename of it succeeds) and
    // check that what we moved is that stale lock, not a fresh one another contender just made.
    const aside = join(dir, `${LOCK_FILE}.stale.${process.pid}.${randomUUID()}`);
    try {
      await rename(lockPath, aside);
    } catch {
      continue;
    }
    const moved = await readFile(aside, 'utf8').catch(() => undefined);
    if (moved !== held) await link(aside, lockPath).catch(() => undefined); // put a live lock back
    else tookOver = true;
    await unlink(aside).catch(() => undefined);
  }
  throw new LedgerError('LEDGER_LOCKED', `could not take the lock of log ${dir}`, {
    path: lockPath,
    hint: 'another writer keeps taking the lock; stop it and retry',
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * How an opened log holds the writer lock: `locked` while it opens (so it may clean up after a
 * crashed writer); `release` at close (`lock: 'open'`), or `lockForCommit` around each commit.
 */
interface LockHold {
  readonly locked: boolean;
  readonly release?: () => Promise<void>;
  readonly lockForCommit?: () => Promise<HeldLock>;
}

/** A small LRU for immutable (full) tiles and bundles. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly limit: number) {}
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.#map.delete(key);
    this.#map.set(key, v);
    if (this.#map.size > this.limit) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
  /** Drops `key` if it still maps to `v` (a failed read must not stay cached). */
  delete(key: string, v: V): void {
    if (this.#map.get(key) === v) this.#map.delete(key);
  }
}

/**
 * An open log. Create one with {@link createLog} / {@link openLog} (filesystem, locked) or
 * {@link openLogStorage} (any storage; the caller guarantees a single writer).
 */
export class Log {
  readonly #storage: TileStorage;
  readonly #options: LogOptions;
  readonly #release: (() => Promise<void>) | undefined;
  /** With `lock: 'commit'`: takes the writer lock for one commit. */
  readonly #lockForCommit: (() => Promise<HeldLock>) | undefined;
  readonly #origin: string;
  #size: number;
  #root: Uint8Array;
  #checkpoint: string;
  #edge: Edge;
  #bundleEdge: readonly Uint8Array[];
  readonly #keys = new Map<string, number>();
  /** Bytes of the key journal read in (all committed records), and the index of its last record. */
  #journalAt = 0;
  #journalLast = -1;
  readonly #tiles = new Lru<Uint8Array[]>(TILE_CACHE_SIZE);
  readonly #bundles = new Lru<Uint8Array[]>(16);
  /**
   * Every node inside full (immutable) tiles, as {@link tileTree} lays them out. Hashing a tile's
   * interior (255 node hashes) is most of a proof's cost; the upper tile levels are shared by every
   * proof, so caching their trees leaves one level-0 tile to hash per proof. Promises, so that the
   * parallel reads of one proof build each tree once.
   */
  readonly #trees = new Lru<Promise<Uint8Array>>(TREE_CACHE_SIZE);
  readonly #edgeTrees = new WeakMap<readonly Uint8Array[], Uint8Array>();
  readonly #queue: PendingAppend[] = [];
  #draining: Promise<void> | undefined;
  #failed: LedgerError | undefined;
  #closed = false;

  private constructor(
    storage: TileStorage,
    options: LogOptions,
    release: (() => Promise<void>) | undefined,
    lockForCommit: (() => Promise<HeldLock>) | undefined,
    checkpoint: string,
    parsed: Checkpoint,
  ) {
    this.#storage = storage;
    this.#options = options;
    this.#release = release;
    this.#lockForCommit = lockForCommit;
    this.#origin = parsed.origin;
    this.#size = parsed.size;
    this.#root = parsed.root;
    this.#checkpoint = checkpoint;
    this.#edge = [];
    this.#bundleEdge = [];
  }

  /** @internal Opens a log on a storage whose checkpoint exists. */
  static async _open(storage: TileStorage, options: LogOptions, hold: LockHold = { locked: false }): Promise<Log> {
    const { text, parsed } = await readCheckpoint(storage, options);
    const log = new Log(storage, options, hold.release, hold.lockForCommit, text, parsed);
    await log.#load(options.verify ?? 'quick', hold.locked);
    return log;
  }

  /** @internal Writes the empty checkpoint of a new log. */
  static async _create(storage: TileStorage, options: LogOptions): Promise<void> {
    if ((await storage.read(CHECKPOINT_PATH)) !== undefined) {
      throw new LedgerError('LEDGER_EXISTS', 'a log already exists here', {
        path: CHECKPOINT_PATH,
        hint: 'open it instead, or choose an empty directory',
      });
    }
    const origin = options.origin;
    if (origin === undefined) throw new LedgerError('LEDGER_BAD_INPUT', 'createLog needs an origin', { hint: 'pass { origin: "example.com/log1" }' });
    checkOrigin(origin);
    const note = await signBody(options, checkpointBody(origin, 0, EMPTY_ROOT));
    await storage.write([{ name: CHECKPOINT_PATH, data: Buffer.from(note, 'utf8') }]);
  }

  /**
   * Rebuilds the in-memory right edge from stored tiles and checks it against the checkpoint;
   * `locked`: this process holds the writer lock, so it may clean up after a crashed writer.
   */
  async #load(mode: 'quick' | 'full', locked: boolean): Promise<void> {
    const size = this.#size;
    const edge: Uint8Array[][] = [];
    for (let t = 0; levelCount(size, t) > 0; t++) {
      const count = levelCount(size, t);
      const width = count % TILE_WIDTH;
      if (width === 0) {
        edge.push([]);
        continue;
      }
      edge.push(await this.#readHashTile(t, Math.floor(count / TILE_WIDTH), width));
    }
    const bundleWidth = size % TILE_WIDTH;
    let bundleEdge: Uint8Array[] = [];
    if (bundleWidth > 0) {
      const path = formatTilePath({ level: 'entries', index: Math.floor(size / TILE_WIDTH), width: bundleWidth });
      bundleEdge = await this.#readBundle(Math.floor(size / TILE_WIDTH), bundleWidth);
      const leaves = edge[0] ?? [];
      bundleEdge.forEach((e, i) => {
        if (!equalBytes(leafHash(e), leaves[i] ?? EMPTY_ROOT)) throw corrupt(`${path}: entry ${i} does not match its leaf hash in tile/0`, path);
      });
    }
    this.#edge = edge;
    this.#bundleEdge = bundleEdge;
    // Each non-empty edge tile above level 0 ends with the hash of the last full tile below it: check that link.
    for (let t = 1; t < edge.length; t++) {
      const below = levelCount(size, t - 1);
      const fullBelow = Math.floor(below / TILE_WIDTH);
      if (fullBelow === 0 || (edge[t] ?? []).length === 0) continue;
      const tileHashes = await this.#fullTile(t - 1, fullBelow - 1);
      const top = edge[t]?.[(fullBelow - 1) % TILE_WIDTH];
      if (top === undefined || !equalBytes(foldPerfect(tileHashes), top)) {
        throw corrupt(`tile level ${t - 1} tile ${fullBelow - 1} does not hash to its entry in level ${t}`, formatTilePath({ level: t - 1, index: fullBelow - 1, width: TILE_WIDTH }));
      }
    }
    const root = await treeRoot(edgeReader(size, edge), size);
    if (!equalBytes(root, this.#root)) {
      throw corrupt(`the root recomputed from the tiles does not match the checkpoint at size ${size}`, CHECKPOINT_PATH);
    }
    if (mode === 'full') await this.verify();
    if (locked && this.#storage instanceof FileTileStorage) await this.#storage.clearTemp();
    if (!this.#options.readOnly) await this.#loadKeys();
  }

  /**
   * With `lock: 'commit'`, under the lock before a commit: reads in what other writers committed
   * since this process last looked (a new checkpoint: its right edge and key records), and drops
   * key records a failed or crashed writer left beyond the checkpoint.
   */
  async #catchUp(tookOver: boolean): Promise<void> {
    if (this.#storage instanceof FileTileStorage) this.#storage.forgetDirectories(); // another writer may have removed .tmp or partial-tile folders
    const { text, parsed } = await readCheckpoint(this.#storage, this.#options);
    if (text === this.#checkpoint) {
      const length = await journalLength(this.#storage);
      if (tookOver && this.#storage instanceof FileTileStorage) await this.#storage.clearTemp();
      if (length !== this.#journalAt) await this.#loadKeys();
      return;
    }
    if (parsed.origin !== this.#origin || parsed.size < this.#size || (parsed.size === this.#size && !equalBytes(parsed.root, this.#root))) {
      throw corrupt(`the checkpoint changed from size ${this.#size} to ${parsed.size} without extending the tree this process knew`, CHECKPOINT_PATH);
    }
    this.#size = parsed.size;
    this.#root = parsed.root;
    this.#checkpoint = text;
    await this.#load('quick', true);
  }

  /**
   * Reads a hash tile of the given width. A partial tile whose full tile has since been written
   * may have been garbage-collected; the full tile's first `width` hashes are the same hashes.
   */
  async #readHashTile(t: number, index: number, width: number): Promise<Uint8Array[]> {
    const path = formatTilePath({ level: t, index, width });
    const bytes = await readTileBytes(this.#storage, { level: t, index, width });
    if (bytes === undefined) throw corrupt(`${path} is missing`, path);
    return decodeHashTile(bytes, width, path);
  }

  /** Reads an entry bundle of the given width, with the same fallback to the full bundle. */
  async #readBundle(index: number, width: number): Promise<Uint8Array[]> {
    const path = formatTilePath({ level: 'entries', index, width });
    const bytes = await readTileBytes(this.#storage, { level: 'entries', index, width });
    if (bytes === undefined) throw corrupt(`${path} is missing`, path);
    return decodeEntryBundle(bytes, width, path);
  }

  /**
   * Loads the idempotency keys recorded since the last call; drops journal records beyond the
   * checkpoint (an uncommitted batch) or torn at the end.
   */
  async #loadKeys(): Promise<void> {
    const raw = await this.#storage.read(KEYS_JOURNAL);
    if (raw === undefined) {
      if (this.#journalAt > 0) throw corrupt(`${KEYS_JOURNAL} is gone`, KEYS_JOURNAL);
      return;
    }
    if (raw.length < this.#journalAt) throw corrupt(`${KEYS_JOURNAL} is shorter than the part already read`, KEYS_JOURNAL);
    let at = this.#journalAt;
    let keep = at;
    let last = this.#journalLast;
    while (at < raw.length) {
      const nl = raw.indexOf(10, at);
      if (nl < 0) break; // torn final record
      const line = Buffer.from(raw.subarray(at, nl)).toString('latin1');
      const m = /^(0|[1-9][0-9]*) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
      const index = Number(m?.[1] ?? NaN);
      if (m === null || !Number.isSafeInteger(index) || index <= last) {
        throw corrupt(`${KEYS_JOURNAL}: malformed record at byte ${at}`, KEYS_JOURNAL);
      }
      if (index >= this.#size) break; // written by a batch whose checkpoint never landed
      this.#keys.set(Buffer.from(m[2] ?? '', 'base64').toString('utf8'), index);
      last = index;
      at = nl + 1;
      keep = at;
    }
    this.#journalAt = keep;
    this.#journalLast = last;
    if (keep < raw.length) await this.#storage.truncate(KEYS_JOURNAL, keep);
  }

  get origin(): string {
    return this.#origin;
  }
  /** Number of committed entries. */
  get size(): number {
    return this.#size;
  }
  /** Root hash of the committed tree. */
  get root(): Uint8Array {
    return this.#root.slice();
  }
  /** The stored checkpoint text. */
  get checkpoint(): string {
    return this.#checkpoint;
  }
  /** True after a failed write: the log refuses appends until it is reopened (which recovers). */
  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /**
   * Appends entries; resolves once they and a checkpoint covering them are durable.
   * Concurrent calls are merged into one batch (one tile write, one checkpoint).
   * @example const { indices } = await log.append([bytes], { idempotencyKeys: ['event-42'] });
   */
  append(entries: readonly Uint8Array[], options: AppendOptions = {}): Promise<AppendResult> {
    try {
      this.#checkWritable();
      for (const e of entries) checkEntrySize(e);
      const keys = options.idempotencyKeys;
      if (keys !== undefined) {
        if (keys.length !== entries.length) {
          throw new LedgerError('LEDGER_BAD_INPUT', `${keys.length} idempotency keys for ${entries.length} entries`, {
            hint: 'pass one key per entry (undefined for entries without one)',
          });
        }
        for (const k of keys) if (k !== undefined) checkKey(k);
      }
      const copies = entries.map((e) => e.slice()); // the caller may reuse its buffers
      return new Promise<AppendResult>((resolve, reject) => {
        this.#queue.push({ entries: copies, keys, resolve, reject });
        this.#draining ??= this.#drain();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #checkWritable(): void {
    if (this.#closed) throw new LedgerError('LEDGER_CLOSED', 'the log is closed', { hint: 'open it again' });
    if (this.#options.readOnly) throw new LedgerError('LEDGER_READ_ONLY', 'the log was opened read-only', { hint: 'open it without readOnly to append' });
    if (this.#failed !== undefined) {
      throw new LedgerError('LEDGER_IO', `an earlier write failed, so the log refuses more appends: ${this.#failed.message}`, {
        cause: this.#failed,
        hint: 'fix the cause, then close and reopen the log; acknowledged entries are safe',
      });
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch: PendingAppend[] = [];
      let n = 0;
      while (this.#queue.length > 0 && (batch.length === 0 || n + (this.#queue[0]?.entries.length ?? 0) <= MAX_BATCH_ENTRIES)) {
        const p = this.#queue.shift() as PendingAppend;
        batch.push(p);
        n += p.entries.length;
      }
      if (this.#failed !== undefined) {
        for (const p of batch) p.reject(this.#failed);
        continue;
      }
      let held: HeldLock | undefined;
      try {
        held = this.#lockForCommit === undefined ? undefined : await this.#lockForCommit();
      } catch (err) {
        // Nothing was written: only this batch fails (another writer held the lock too long).
        for (const p of batch) p.reject(err);
        continue;
      }
      try {
        if (held !== undefined) await this.#catchUp(held.tookOver);
        await this.#commit(batch);
      } catch (err) {
        // After a failed write the disk state beyond the checkpoint is unknown; refuse further
        // appends until a reopen runs recovery.
        this.#failed =
          err instanceof LedgerError ? err : new LedgerError('LEDGER_IO', `append failed: ${(err as Error).message}`, { cause: err });
        for (const p of batch) p.reject(this.#failed);
      } finally {
        await held?.release();
      }
    }
    this.#draining = undefined;
  }

  async #commit(batch: readonly PendingAppend[]): Promise<void> {
    const oldSize = this.#size;
    const reader = this.hashReader();
    const fresh: Uint8Array[] = [];
    const freshLeaves: Uint8Array[] = [];
    const freshKeys = new Map<string, number>();
    const journal: string[] = [];
    const accepted: { p: PendingAppend; indices: number[] }[] = [];

    for (const p of batch) {
      // Stage each request separately so a conflict rejects only that request.
      const indices: number[] = [];
      const stagedKeys = new Map<string, number>();
      const staged: Uint8Array[] = [];
      const stagedLeaves: Uint8Array[] = [];
      const stagedJournal: string[] = [];
      let conflict: LedgerError | undefined;
      for (let i = 0; i < p.entries.length && conflict === undefined; i++) {
        const entry = p.entries[i] as Uint8Array;
        const leaf = leafHash(entry);
        const key = p.keys?.[i];
        if (key !== undefined) {
          const seen = this.#keys.get(key) ?? freshKeys.get(key) ?? stagedKeys.get(key);
          if (seen !== undefined) {
            const pos = seen - oldSize;
            const seenLeaf = pos < 0 ? await reader.hashAt(0, seen) : pos < fresh.length ? freshLeaves[pos] : stagedLeaves[pos - fresh.length];
            if (seenLeaf === undefined || !equalBytes(seenLeaf, leaf)) {
              conflict = new LedgerError('LEDGER_IDEMPOTENCY_CONFLICT', `idempotency key ${JSON.stringify(key)} was used for a different entry (index ${seen})`, {
                hint: 'an idempotency key must always come with the same entry bytes; use a new key for new content',
              });
            }
            indices.push(seen);
            continue;
          }
        }
        const index = oldSize + fresh.length + staged.length;
        staged.push(entry);
        stagedLeaves.push(leaf);
        if (key !== undefined) {
          stagedKeys.set(key, index);
          stagedJournal.push(`${index} ${Buffer.from(key, 'utf8').toString('base64')}\n`);
        }
        indices.push(index);
      }
      if (conflict !== undefined) {
        p.reject(conflict);
        continue;
      }
      fresh.push(...staged);
      freshLeaves.push(...stagedLeaves);
      for (const [k, v] of stagedKeys) freshKeys.set(k, v);
      journal.push(...stagedJournal);
      accepted.push({ p, indices });
    }

    if (fresh.length === 0) {
      const result = { size: this.#size, root: this.root, checkpoint: this.#checkpoint };
      for (const { p, indices } of accepted) p.resolve({ ...result, indices });
      return;
    }

    const newSize = oldSize + fresh.length;
    const objects: StoredObject[] = [];
    const completedTiles = new Map<string, Uint8Array[]>();
    const newEdge = this.#extend(oldSize, freshLeaves, objects, completedTiles);
    const newBundleEdge = this.#extendBundles(oldSize, fresh, objects);
    const root = await treeRoot(edgeReader(newSize, newEdge), newSize);
    const note = await signBody(this.#options, checkpointBody(this.#origin, newSize, root));

    // Tiles, bundles and key records first, all fsynced; the checkpoint last, as the commit point.
    const journalBytes = Buffer.from(journal.join(''), 'latin1');
    await Promise.all([
      this.#storage.write(objects),
      journal.length > 0 ? this.#storage.append(KEYS_JOURNAL, journalBytes) : undefined,
    ]);
    await this.#storage.write([{ name: CHECKPOINT_PATH, data: Buffer.from(note, 'utf8') }]);

    this.#size = newSize;
    this.#root = root;
    this.#checkpoint = note;
    this.#edge = newEdge;
    this.#bundleEdge = newBundleEdge;
    for (const [k, v] of freshKeys) this.#keys.set(k, v);
    if (journal.length > 0) {
      this.#journalAt += journalBytes.length;
      this.#journalLast = Math.max(...freshKeys.values());
    }
    for (const [k, v] of completedTiles) this.#tiles.set(k, v);
    // Partial tiles of now-full tiles are redundant (their hashes are the full tile's prefix, and
    // readers fall back to it). Only after the commit point, and best-effort: leftovers are harmless.
    const obsolete = objects.filter((o) => !o.name.includes('.p/') && o.name !== CHECKPOINT_PATH).map((o) => `${o.name}.p`);
    await Promise.all(obsolete.map((prefix) => this.#storage.removePrefix(prefix).catch(() => undefined)));
    for (const { p, indices } of accepted) p.resolve({ indices, size: newSize, root: root.slice(), checkpoint: note });
  }

  /** Adds leaf hashes to the tiles: queues every touched tile (all levels) and returns the new right edge. */
  #extend(oldSize: number, leaves: readonly Uint8Array[], objects: StoredObject[], completedTiles: Map<string, Uint8Array[]>): Edge {
    const edge: (readonly Uint8Array[])[] = this.#edge.slice();
    let added: readonly Uint8Array[] = leaves;
    for (let t = 0; added.length > 0; t++) {
      const oldCount = levelCount(oldSize, t);
      const startTile = Math.floor(oldCount / TILE_WIDTH);
      const hashes = [...(edge[t] ?? []), ...added];
      const completed: Uint8Array[] = [];
      let rest: Uint8Array[] = [];
      for (let i = 0; i < hashes.length; i += TILE_WIDTH) {
        const tile = hashes.slice(i, i + TILE_WIDTH);
        const index = startTile + i / TILE_WIDTH;
        objects.push({ name: formatTilePath({ level: t, index, width: tile.length }), data: encodeHashTile(tile) });
        if (tile.length === TILE_WIDTH) {
          completed.push(foldPerfect(tile));
          completedTiles.set(`${t}/${index}`, tile);
        } else {
          rest = tile;
        }
      }
      edge[t] = rest;
      added = completed;
    }
    return edge;
  }

  #extendBundles(oldSize: number, entries: readonly Uint8Array[], objects: StoredObject[]): readonly Uint8Array[] {
    const all = [...this.#bundleEdge, ...entries];
    const startBundle = Math.floor(oldSize / TILE_WIDTH);
    let rest: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += TILE_WIDTH) {
      const bundle = all.slice(i, i + TILE_WIDTH);
      objects.push({
        name: formatTilePath({ level: 'entries', index: startBundle + i / TILE_WIDTH, width: bundle.length }),
        data: encodeEntryBundle(bundle),
      });
      if (bundle.length < TILE_WIDTH) rest = bundle;
    }
    return rest;
  }

  /** The hashes of full tile `index` at tile level `t` (cached; full tiles never change once committed). */
  async #fullTile(t: number, index: number): Promise<Uint8Array[]> {
    const key = `${t}/${index}`;
    const hit = this.#tiles.get(key);
    if (hit !== undefined) return hit;
    const hashes = await this.#readHashTile(t, index, TILE_WIDTH);
    this.#tiles.set(key, hashes);
    return hashes;
  }

  /** The interior tree of full tile `index` at tile level `t` (cached). */
  #fullTree(t: number, index: number): Promise<Uint8Array> {
    const key = `${t}/${index}`;
    const hit = this.#trees.get(key);
    if (hit !== undefined) return hit;
    const built = (async () => {
      const path = formatTilePath({ level: t, index, width: TILE_WIDTH });
      const bytes = await readTileBytes(this.#storage, { level: t, index, width: TILE_WIDTH });
      if (bytes === undefined) throw corrupt(`${path} is missing`, path);
      if (bytes.length !== TILE_WIDTH * HASH_SIZE) decodeHashTile(bytes, TILE_WIDTH, path); // throws LEDGER_CORRUPT with the sizes
      return tileTree(bytes);
    })();
    built.catch(() => this.#trees.delete(key, built));
    this.#trees.set(key, built);
    return built;
  }

  /** The interior tree of a right-edge (partial) tile, built once per edge (edge arrays are never mutated). */
  #edgeTree(hashes: readonly Uint8Array[]): Uint8Array {
    let tree = this.#edgeTrees.get(hashes);
    if (tree === undefined) {
      tree = tileTree(encodeHashTile(hashes));
      this.#edgeTrees.set(hashes, tree);
    }
    return tree;
  }

  /**
   * A {@link HashReader} over the stored tiles of the committed tree: hashAt(level, index) reads
   * the tile at level floor(level/8) and takes the node level%8 levels up inside it.
   */
  hashReader(): HashReader {
    const size = this.#size;
    const edge = this.#edge;
    return {
      hashAt: async (level: number, index: number): Promise<Uint8Array> => {
        const loc = locate(size, level, index);
        const onEdge = loc.tile === Math.floor(levelCount(size, loc.t) / TILE_WIDTH);
        const tree = onEdge ? this.#edgeTree(edge[loc.t] ?? []) : await this.#fullTree(loc.t, loc.tile);
        const at = treeOffset(level % TILE_HEIGHT, loc.offset / loc.span);
        return tree.slice(at, at + HASH_SIZE);
      },
    };
  }

  /** The entry at `index` (a copy). */
  async readEntry(index: number): Promise<Uint8Array> {
    this.#checkIndex(index, this.#size, 'index');
    const bundle = Math.floor(index / TILE_WIDTH);
    if (bundle === Math.floor(this.#size / TILE_WIDTH)) return (this.#bundleEdge[index % TILE_WIDTH] as Uint8Array).slice();
    let entries = this.#bundles.get(String(bundle));
    if (entries === undefined) {
      entries = await this.#readBundle(bundle, TILE_WIDTH);
      this.#bundles.set(String(bundle), entries);
    }
    return (entries[index % TILE_WIDTH] as Uint8Array).slice();
  }

  /** RFC 9162 inclusion proof of `index` in the tree of `size` (default: the current size). */
  async inclusionProof(index: number, size: number = this.#size): Promise<Uint8Array[]> {
    this.#checkSize(size);
    this.#checkIndex(index, size, 'index');
    return merkleInclusionProof(this.hashReader(), index, size);
  }

  /** RFC 9162 consistency proof from `oldSize` to `newSize` (default: the current size). */
  async consistencyProof(oldSize: number, newSize: number = this.#size): Promise<Uint8Array[]> {
    this.#checkSize(newSize);
    this.#checkSize(oldSize);
    if (oldSize > newSize) throw new LedgerError('LEDGER_BAD_INPUT', `old size ${oldSize} is larger than new size ${newSize}`);
    return merkleConsistencyProof(this.hashReader(), oldSize, newSize);
  }

  /** Root of the tree of the first `size` entries (size ≤ current size). */
  async rootAt(size: number): Promise<Uint8Array> {
    this.#checkSize(size);
    return size === this.#size ? this.root : treeRoot(this.hashReader(), size);
  }

  /**
   * Full verification: every full tile hashes to its entry one level up, every bundle matches
   * its leaf hashes, and the root matches the checkpoint. O(size); throws LEDGER_CORRUPT.
   */
  async verify(): Promise<void> {
    const size = this.#size;
    const reader = this.hashReader();
    for (let t = 0; levelCount(size, t) >= TILE_WIDTH; t++) {
      const full = Math.floor(levelCount(size, t) / TILE_WIDTH);
      for (let n = 0; n < full; n++) {
        const hashes = await this.#fullTile(t, n);
        const above = await reader.hashAt((t + 1) * TILE_HEIGHT, n);
        if (!equalBytes(foldPerfect(hashes), above)) {
          throw corrupt(`tile level ${t} tile ${n} does not hash to its entry in level ${t + 1}`, formatTilePath({ level: t, index: n, width: TILE_WIDTH }));
        }
      }
    }
    const fullBundles = Math.floor(size / TILE_WIDTH);
    for (let n = 0; n < fullBundles; n++) {
      const path = formatTilePath({ level: 'entries', index: n, width: TILE_WIDTH });
      const entries = await this.#readBundle(n, TILE_WIDTH);
      const leaves = await this.#fullTile(0, n);
      entries.forEach((e, i) => {
        if (!equalBytes(leafHash(e), leaves[i] as Uint8Array)) throw corrupt(`${path}: entry ${i} does not match its leaf hash in tile/0`, path);
      });
    }
    const root = await treeRoot(reader, size);
    if (!equalBytes(root, this.#root)) throw corrupt(`root recomputed from the tiles does not match the checkpoint at size ${size}`, CHECKPOINT_PATH);
  }

  /** Waits for queued appends, then releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#draining !== undefined) await this.#draining;
    this.#closed = true;
    if (this.#release !== undefined) await this.#release();
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#size) {
      throw new LedgerError('LEDGER_BAD_INPUT', `tree size ${size} is not between 0 and the log size ${this.#size}`, {
        hint: 'ask for a size the log has reached',
      });
    }
  }

  #checkIndex(index: number, size: number, what: string): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new LedgerError('LEDGER_BAD_INPUT', `${what} ${index} is outside a tree of size ${size}`, {
        hint: 'indices start at 0 and must be below the tree size',
      });
    }
  }
}

function checkKey(key: string): void {
  const bytes = typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : 0;
  if (bytes === 0 || bytes > MAX_KEY_BYTES || key.includes('\uFFFD')) {
    throw new LedgerError('LEDGER_BAD_INPUT', `idempotency keys must be 1–${MAX_KEY_BYTES} bytes of valid UTF-8`, {
      hint: 'use a short stable id such as the event id',
    });
  }
}

async function signBody(options: LogOptions, body: string): Promise<string> {
  if (options.signCheckpoint === undefined) return body;
  const note = await options.signCheckpoint(body);
  if (!note.startsWith(body)) {
    throw new LedgerError('LEDGER_BAD_INPUT', 'signCheckpoint must return the body followed by signature lines', {
      hint: 'return the signed note whose text is exactly the body it was given',
    });
  }
  return note;
}

/** Where the perfect subtree (level, index) lives: tile level t, tile number, offset and span inside it. */
function locate(size: number, level: number, index: number): { t: number; tile: number; offset: number; span: number } {
  if (!Number.isInteger(level) || level < 0 || !Number.isSafeInteger(index) || index < 0) {
    throw new LedgerError('LEDGER_BAD_INPUT', `bad subtree (${level}, ${index})`);
  }
  const t = Math.floor(level / TILE_HEIGHT);
  const span = 2 ** (level % TILE_HEIGHT);
  const start = index * span;
  if (start + span > levelCount(size, t)) {
    throw new LedgerError('LEDGER_BAD_INPUT', `subtree (${level}, ${index}) is not complete in a tree of size ${size}`);
  }
  return { t, tile: Math.floor(start / TILE_WIDTH), offset: start % TILE_WIDTH, span };
}

/** A reader over the right edge only: enough for the root, which needs no full tile. */
function edgeReader(size: number, edge: Edge): HashReader {
  return {
    hashAt(level: number, index: number): Uint8Array {
      const loc = locate(size, level, index);
      if (loc.tile !== Math.floor(levelCount(size, loc.t) / TILE_WIDTH)) {
        throw new LedgerError('LEDGER_BAD_INPUT', `subtree (${level}, ${index}) is not on the right edge`);
      }
      return foldPerfect((edge[loc.t] ?? []).slice(loc.offset, loc.offset + loc.span));
    },
  };
}

/** The stored checkpoint, checked (signature through `verifyCheckpoint`, origin) and parsed. */
async function readCheckpoint(storage: TileStorage, options: LogOptions): Promise<{ text: string; parsed: Checkpoint }> {
  const raw = await storage.read(CHECKPOINT_PATH);
  if (raw === undefined) {
    throw new LedgerError('LEDGER_NOT_FOUND', 'no checkpoint: this is not a log, or it was never created', {
      path: CHECKPOINT_PATH,
      hint: 'create the log first (trainguard log init)',
    });
  }
  const text = Buffer.from(raw).toString('utf8');
  if (options.verifyCheckpoint !== undefined) await options.verifyCheckpoint(text);
  const parsed = parseStoredCheckpoint(text, CHECKPOINT_PATH);
  if (options.origin !== undefined && options.origin !== parsed.origin) {
    throw new LedgerError('LEDGER_BAD_INPUT', `log origin is ${JSON.stringify(parsed.origin)}, expected ${JSON.stringify(options.origin)}`, {
      hint: 'open the log you meant, or drop the origin option',
    });
  }
  return { text, parsed };
}

async function journalLength(storage: TileStorage): Promise<number> {
  if (storage.size !== undefined) return (await storage.size(KEYS_JOURNAL)) ?? 0;
  return (await storage.read(KEYS_JOURNAL))?.length ?? 0;
}

/** Creates a new, empty log in `dir` (made if missing) and returns it open for appending. */
export async function createLog(dir: string, options: LogOptions & { readonly origin: string }): Promise<Log> {
  await mkdir(dir, { recursive: true });
  const storage = new FileTileStorage(dir, { fsync: options.fsync ?? true });
  return openLocked(dir, storage, options, () => Log._create(storage, options));
}

/** Opens the log in `dir`: takes the writer lock (unless readOnly), recovers from a crash, verifies the tiles. */
export async function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  const found = await stat(dir).catch(() => undefined);
  if (found === undefined || !found.isDirectory()) {
    throw new LedgerError('LEDGER_NOT_FOUND', `no log directory at ${dir}`, { path: dir, hint: 'create the log first (trainguard log init)' });
  }
  const storage = new FileTileStorage(dir, { fsync: options.fsync ?? true });
  if (options.readOnly) return Log._open(storage, options);
  return openLocked(dir, storage, options);
}

/** Opens (after `create`) under the writer lock, then keeps it until close or, with `lock: 'commit'`, gives it back at once. */
async function openLocked(dir: string, storage: FileTileStorage, options: LogOptions, create?: () => Promise<void>): Promise<Log> {
  const perCommit = options.lock === 'commit';
  const waitMs = options.lockWaitMs ?? (perCommit ? COMMIT_LOCK_WAIT_MS : 0);
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new LedgerError('LEDGER_BAD_INPUT', `lockWaitMs must be a non-negative number, got ${waitMs}`);
  const { release } = await acquireLock(dir, waitMs);
  let keep = false;
  try {
    await create?.();
    const log = await Log._open(storage, options, perCommit ? { locked: true, lockForCommit: () => acquireLock(dir, waitMs) } : { locked: true, release });
    keep = !perCommit;
    return log;
  } finally {
    if (!keep) await release();
  }
}

/** Opens a log on any storage; the caller guarantees there is a single writer. Creates it when `create` is set. */
export async function openLogStorage(storage: TileStorage, options: LogOptions & { readonly create?: boolean }): Promise<Log> {
  if (options.create) await Log._create(storage, options);
  return Log._open(storage, options, { locked: true, release: async () => undefined });
}
