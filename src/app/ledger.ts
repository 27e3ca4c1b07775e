/**
 * Use cases of the provenance ledger (issue 5): signing keys, a local transparency log (init,
 * append, checkpoint, prove) and offline verification of receipts with remembered state.
 * Entries are commitments only: `trainguard/v1/<kind>\n` + RFC 8785 canonical JSON, ≤ 64 KiB.
 */
import { existsSync } from 'node:fs';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { canonicalJson } from '../core/index.ts';
import {
  CHECKPOINT_PATH,
  FileTileStorage,
  LedgerError,
  parseTilePath,
  readTileBytes,
  type TileRef,
  createLog,
  createNoteVerifier,
  encodeReceipt,
  generateKey,
  leafHash,
  cosignCheckpoint,
  openCheckpoint,
  openLog,
  parsePolicy,
  verifyCheckpointWithPolicy,
  formatVerifierKey,
  SIG_TYPE_COSIGNATURE_V1,
  parseReceipt,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyConsistency,
  verifyInclusion,
  type Log,
} from '../ledger/index.ts';

/** Largest entry the tile format can hold (uint16 length prefix). */
export const MAX_ENTRY_BYTES = 65535;
const KIND = /^[a-z][a-z0-9-]{0,31}$/;

/** `trainguard key generate`: a new Ed25519 signed-note key; the private key file is created 0600 and never overwritten. */
export async function generateKeyFiles(name: string, prefix: string): Promise<{ keyPath: string; vkeyPath: string; vkey: string }> {
  const { skey, vkey } = generateKey(name);
  const keyPath = `${prefix}.key`;
  const vkeyPath = `${prefix}.vkey`;
  for (const p of [keyPath, vkeyPath]) {
    if (existsSync(p)) throw new LedgerError('LEDGER_BAD_INPUT', `${p} already exists`, { hint: 'keys are never overwritten; choose another --out prefix' });
  }
  await writeFile(keyPath, `${skey}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(keyPath, 0o600);
  await writeFile(vkeyPath, `${vkey}\n`, { flag: 'wx' });
  return { keyPath, vkeyPath, vkey };
}

/** `trainguard key show`: the public half (vkey) and key id of a private or public key file. */
export async function showKey(path: string): Promise<{ name: string; keyId: string; vkey: string; witnessVkey: string; private: boolean }> {
  const text = (await readKeyFile(path)).trim();
  const isPrivate = text.startsWith('PRIVATE+KEY+');
  const v = isPrivate ? parseVerifierKey(parseSignerKey(text).vkey) : parseVerifierKey(text);
  // The same Ed25519 key as a tlog-cosignature/v1 witness key (type 0x04, its own key id), for policies.
  const witnessVkey = formatVerifierKey({ name: v.name, type: SIG_TYPE_COSIGNATURE_V1, publicKey: v.publicKey });
  return { name: v.name, keyId: v.keyId, vkey: formatVerifierKey(v), witnessVkey, private: isPrivate };
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new LedgerError('LEDGER_BAD_KEY', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'create one with `trainguard key generate <name>`' });
  }
}

async function signerFrom(path: string): Promise<ReturnType<typeof parseSignerKey>> {
  return parseSignerKey((await readKeyFile(path)).trim());
}

/** `trainguard log init`: a new empty log whose checkpoints the key signs; the origin defaults to the key's name. */
export async function initLog(dir: string, keyPath: string, origin?: string): Promise<{ origin: string; checkpoint: string }> {
  const signer = await signerFrom(keyPath);
  const log = await createLog(dir, { origin: origin ?? signer.name, signCheckpoint: (body) => signNote(body, [signer]) });
  try {
    return { origin: log.origin, checkpoint: log.checkpoint };
  } finally {
    await log.close();
  }
}

export interface EntryInput {
  readonly kind: string;
  readonly body: unknown;
  /** Exact de-duplication: the same key appends nothing and returns the first index. */
  readonly idempotencyKey?: string;
}

/** The canonical bytes of an entry: `trainguard/v1/<kind>\n` + RFC 8785 JSON of the body. */
export function encodeEntry(kind: string, body: unknown): Uint8Array {
  if (!KIND.test(kind)) throw new LedgerError('LEDGER_BAD_INPUT', `entry kind ${JSON.stringify(kind.slice(0, 40))} is not a lowercase word`, { hint: 'kinds look like source, contribution, review, snapshot' });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new LedgerError('LEDGER_BAD_INPUT', 'an entry body must be a JSON object', { hint: 'log commitments (ids, digests, roots, principals), never data' });
  let json: string;
  try {
    json = canonicalJson(body);
  } catch (err) {
    throw new LedgerError('LEDGER_BAD_INPUT', `entry body is not canonical JSON: ${(err as Error).message}`);
  }
  const bytes = Buffer.from(`trainguard/v1/${kind}\n${json}`, 'utf8');
  if (bytes.length > MAX_ENTRY_BYTES) throw new LedgerError('LEDGER_BAD_INPUT', `entry is ${bytes.length} bytes, over ${MAX_ENTRY_BYTES}`, { hint: 'log a digest of large content, not the content' });
  return new Uint8Array(bytes);
}

/** How long a one-off append waits for another writer (a running `trainguard serve`) to finish its commit. */
const APPEND_LOCK_WAIT_MS = 10_000;

/** `trainguard log append`: one durable batch; returns each entry's index and the new checkpoint. */
export async function appendEntries(dir: string, keyPath: string, entries: readonly EntryInput[]): Promise<{ indices: number[]; size: number; checkpoint: string }> {
  const signer = await signerFrom(keyPath);
  const encoded = entries.map((e) => encodeEntry(e.kind, e.body));
  const log = await openLog(dir, { signCheckpoint: (body) => signNote(body, [signer]), lockWaitMs: APPEND_LOCK_WAIT_MS });
  try {
    const r = await log.append(encoded, { idempotencyKeys: entries.map((e) => e.idempotencyKey) });
    return { indices: r.indices, size: r.size, checkpoint: r.checkpoint };
  } finally {
    await log.close();
  }
}

/** Appends to one log for the life of a process; see {@link openLogWriter}. */
export interface LogWriter {
  append(entries: readonly EntryInput[]): Promise<{ indices: number[]; size: number; checkpoint: string }>;
}

/**
 * A process's writer on a log (a home's): the log stays open, so an append costs one commit
 * rather than an open (lock, right edge, the whole idempotency journal), and concurrent appends
 * share a commit. The writer lock is taken per commit (`lock: 'commit'`), so CLI commands on the
 * same home still append meanwhile; each commit first reads in what they appended. After a failed
 * write the log is reopened on the next append, which runs crash recovery.
 */
export function openLogWriter(dir: string, keyPath: string): LogWriter {
  let opened: Promise<Log> | undefined;
  const open = async (): Promise<Log> => {
    const signer = await signerFrom(keyPath);
    return openLog(dir, { signCheckpoint: (body) => signNote(body, [signer]), lock: 'commit', lockWaitMs: APPEND_LOCK_WAIT_MS });
  };
  return {
    async append(entries) {
      const encoded = entries.map((e) => encodeEntry(e.kind, e.body));
      const current = (opened ??= open());
      let log: Log;
      try {
        log = await current;
      } catch (err) {
        if (opened === current) opened = undefined;
        throw err;
      }
      try {
        const r = await log.append(encoded, { idempotencyKeys: entries.map((e) => e.idempotencyKey) });
        return { indices: r.indices, size: r.size, checkpoint: r.checkpoint };
      } finally {
        if (log.failed && opened === current) {
          opened = undefined;
          await log.close().catch(() => undefined);
        }
      }
    },
  };
}

async function withReadOnlyLog<T>(dir: string, f: (log: Log) => Promise<T>): Promise<T> {
  const log = await openLog(dir, { readOnly: true });
  try {
    return await f(log);
  } finally {
    await log.close();
  }
}

/** `trainguard log checkpoint`: the latest signed checkpoint. */
export async function latestCheckpoint(dir: string): Promise<string> {
  return withReadOnlyLog(dir, async (log) => log.checkpoint);
}

/** `trainguard log prove`: a self-contained receipt (c2sp.org/tlog-proof@v1, the entry in `extra`). */
export async function proveEntry(dir: string, index: number): Promise<string> {
  return withReadOnlyLog(dir, async (log) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= log.size) {
      throw new LedgerError('LEDGER_BAD_INPUT', `index ${index} is outside the log (size ${log.size})`, { hint: `use 0..${log.size - 1}` });
    }
    const [entry, proof] = await Promise.all([log.readEntry(index), log.inclusionProof(index, log.size)]);
    return encodeReceipt({ extra: entry, index, proof, checkpoint: log.checkpoint });
  });
}

/** `trainguard log consistency`: the proof that the tree at `oldSize` is a prefix of the tree at `newSize`. */
export async function consistencyBetween(dir: string, oldSize: number, newSize?: number): Promise<{ oldSize: number; newSize: number; oldRoot: Uint8Array; newRoot: Uint8Array; proof: Uint8Array[] }> {
  return withReadOnlyLog(dir, async (log) => {
    const to = newSize ?? log.size;
    const proof = await log.consistencyProof(oldSize, to);
    return { oldSize, newSize: to, oldRoot: await log.rootAt(oldSize), newRoot: await log.rootAt(to), proof };
  });
}

export interface VerifiedReceipt {
  readonly origin: string;
  readonly index: number;
  readonly size: number;
  /** The logged entry (from the receipt's extra data), decoded when it is one of ours. */
  readonly entry: { readonly kind: string; readonly body: unknown } | null;
  /** What the remembered state said: first checkpoint seen, same, moved forward (consistency proven), or older. */
  readonly state: 'none' | 'new' | 'same' | 'advanced' | 'older';
}

/**
 * `trainguard log verify`: offline check of a receipt against the log's public key — the
 * checkpoint's signature, then the entry's inclusion. With a state file the verifier remembers the
 * newest checkpoint it accepted and moves forward only with a consistency proof (read from `logDir`):
 * a different root at the same size, or a failed proof, is a fork, reported with both signed checkpoints.
 */
export async function verifyReceiptFile(receiptText: string, trustText: string, options: { statePath?: string; logDir?: string; policy?: boolean } = {}): Promise<VerifiedReceipt> {
  const receipt = parseReceipt(receiptText);
  const open = trustedOpener(trustText, options.policy === true);
  const checkpoint = open(receipt.checkpoint);
  if (receipt.extra === null) throw new LedgerError('LEDGER_BAD_RECEIPT', 'the receipt carries no entry (no extra line)', { hint: 'write receipts with `trainguard log prove`' });
  verifyInclusion(leafHash(receipt.extra), receipt.index, checkpoint.size, receipt.proof, checkpoint.rootHash);
  const entry = decodeEntry(receipt.extra);
  let state: VerifiedReceipt['state'] = 'none';
  if (options.statePath !== undefined) state = await advanceState(options.statePath, receipt.checkpoint, checkpoint, open, options.logDir);
  return { origin: checkpoint.origin, index: receipt.index, size: checkpoint.size, entry, state };
}

type CheckpointOpener = (note: string) => { origin: string; size: number; rootHash: Uint8Array };

/**
 * What a verifier trusts: the log's vkey alone, or a C2SP tlog-policy (log keys, witness keys and
 * a quorum of cosignatures a checkpoint must carry).
 */
function trustedOpener(trustText: string, isPolicy: boolean): CheckpointOpener {
  if (isPolicy) {
    const policy = parsePolicy(trustText);
    return (note) => verifyCheckpointWithPolicy(note, policy).checkpoint;
  }
  const verifier = createNoteVerifier(trustText.trim());
  return (note) => openCheckpoint(note, verifier).checkpoint;
}

/**
 * `trainguard log cosign`: a witness adds its tlog-cosignature to the checkpoint of a receipt (or
 * of a bare checkpoint file), after checking the log's signature.
 */
export async function cosignFile(text: string, witnessKeyPath: string, logVkeyText: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  const witness = await signerFrom(witnessKeyPath);
  const log = createNoteVerifier(logVkeyText.trim());
  if (text.startsWith('c2sp.org/tlog-proof@v1\n')) {
    const r = parseReceipt(text);
    return encodeReceipt({ ...r, checkpoint: cosignCheckpoint(r.checkpoint, { log, witness, timestamp }) });
  }
  return cosignCheckpoint(text, { log, witness, timestamp });
}

function decodeEntry(bytes: Uint8Array): VerifiedReceipt['entry'] {
  const text = Buffer.from(bytes).toString('utf8');
  const m = /^trainguard\/v1\/([a-z][a-z0-9-]{0,31})\n/.exec(text);
  if (m === null) return null;
  try {
    return { kind: m[1]!, body: JSON.parse(text.slice(m[0].length)) as unknown };
  } catch {
    return null;
  }
}

async function advanceState(
  statePath: string,
  note: string,
  checkpoint: { origin: string; size: number; rootHash: Uint8Array },
  open: CheckpointOpener,
  logDir: string | undefined,
): Promise<VerifiedReceipt['state']> {
  let remembered: string | null = null;
  try {
    remembered = await readFile(statePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LedgerError('LEDGER_BAD_INPUT', `cannot read state ${statePath}`);
  }
  const save = async (): Promise<void> => {
    const tmp = `${statePath}.tmp`;
    await writeFile(tmp, note);
    await rename(tmp, statePath);
  };
  if (remembered === null) {
    await save();
    return 'new';
  }
  const old = open(remembered);
  if (old.origin !== checkpoint.origin) throw new LedgerError('LEDGER_BAD_CHECKPOINT', `state file holds log ${JSON.stringify(old.origin)}, the receipt is from ${JSON.stringify(checkpoint.origin)}`, { hint: 'use one state file per log' });
  const fork = (why: string): LedgerError =>
    new LedgerError('LEDGER_FORK', `the log forked: ${why}`, { hint: `evidence — remembered checkpoint:\n${remembered}\nreceipt checkpoint:\n${note}` });
  if (old.size === checkpoint.size) {
    if (!Buffer.from(old.rootHash).equals(Buffer.from(checkpoint.rootHash))) throw fork(`two different roots signed for size ${old.size}`);
    return 'same';
  }
  if (logDir === undefined) {
    throw new LedgerError('LEDGER_UNVERIFIED', `the receipt's checkpoint (size ${checkpoint.size}) differs from the remembered one (size ${old.size}) and no consistency proof was given`, {
      hint: 'pass --log <dir> so the verifier can check that one tree extends the other',
    });
  }
  const [small, large] = old.size < checkpoint.size ? [old, checkpoint] : [checkpoint, old];
  const proof = await consistencyBetween(logDir, small.size, large.size);
  try {
    verifyConsistency(small.size, large.size, small.rootHash, large.rootHash, proof.proof);
  } catch {
    throw fork(`the checkpoints of size ${small.size} and ${large.size} are not consistent`);
  }
  if (checkpoint.size > old.size) {
    await save();
    return 'advanced';
  }
  return 'older';
}

/**
 * `trainguard log serve-tiles`: the log directory over HTTP, read-only, as tlog-tiles specifies:
 * `GET /checkpoint` (no caching) and `GET /tile/...` (immutable). Only paths that parse as tile paths
 * are served, so nothing else in the directory (lock, keys, temp files) is reachable.
 */
export async function serveTiles(dir: string, options: { port: number; host: string }): Promise<{ url: string; close: () => Promise<void>; closed: Promise<void> }> {
  const storage = new FileTileStorage(dir);
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      let cache = 'public, max-age=31536000, immutable';
      let ref: TileRef | null = null;
      if (path === CHECKPOINT_PATH) cache = 'no-cache';
      else {
        try {
          ref = parseTilePath(path);
        } catch {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not a tlog-tiles path\n');
          return;
        }
      }
      try {
        // A partial tile that has since filled up is served from the full tile's prefix.
        const bytes = ref === null ? await readFile(join(dir, path)) : await readTileBytes(storage, ref);
        if (bytes === undefined) throw new Error('missing');
        const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        res.writeHead(200, { 'content-type': path === CHECKPOINT_PATH ? 'text/plain; charset=utf-8' : 'application/octet-stream', 'cache-control': cache, 'content-length': body.length });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new LedgerError('LEDGER_BAD_INPUT', `cannot listen on ${options.host}:${options.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'choose another --port' })));
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return { url: `http://${options.host}:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())), closed };
}
