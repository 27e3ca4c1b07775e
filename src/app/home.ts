/**
 * The TrainGuard home: everything one installation keeps, in one directory (mode 0700).
 *
 *   <home>/log.key, log.vkey   the provenance log's Ed25519 key (0600) and its public key
 *   <home>/ledger/              the provenance log (C2SP tlog-tiles)
 *   <home>/access/              principals, tokens, password hashes, grants, access events
 *   <home>/keys/kek.json        the vault's key-encryption keys (0600; refused if others can read it)
 *   <home>/vault/               the encrypted, content-addressed blob store (backend 'fs')
 *
 * It joins the pieces so that nothing bypasses the ledger: every access event that changes who may
 * do what (principals, tokens, grants, revocations) and every key rotation becomes a log entry.
 * Access events reach the log through an outbox: the access store keeps every event with a
 * sequence number, each is appended with the idempotency key `access-event-<seq>`, and opening the
 * home first delivers any event a crash left undelivered — exactly once, whatever happened.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AccessControl, AccessError, FileAccessStore, type AccessEvent, type AccessStore, type Principal } from '../access/index.ts';
import { FileBackend, KeyFileProvider, openS3Backend, Vault, type BlobBackend, type KekInfo, type ObjectInfo, type PutResult, type RotationSummary } from '../vault/index.ts';
import type { Config } from '../config/index.ts';
import { generateKeyFiles, initLog, openLogWriter, type EntryInput } from './ledger.ts';

export interface Home {
  readonly dir: string;
  readonly ledgerDir: string;
  readonly logKeyPath: string;
  readonly logVkeyPath: string;
  readonly access: AccessControl;
  readonly accessStore: AccessStore;
  readonly vault: Vault;
  /** Appends provenance entries to the home's log (durable when it resolves). */
  record(entries: readonly EntryInput[]): Promise<{ indices: number[] }>;
  /** `trainguard keys rotate`: a new primary KEK, every data key re-wrapped, the rotation logged. */
  rotateKeys(actor: Principal): Promise<RotationSummary & { logIndex: number }>;
  /** `trainguard vault put`: encrypts a file into the vault for a dataset (batch:push), logs its commitments. */
  putFile(actor: Principal, path: string, dataset: string): Promise<PutResult & { logIndex: number }>;
  /**
   * `trainguard vault get`: decrypts an object to `outPath` (sample:read on the object's dataset).
   * Written to a temporary file and renamed only once every segment and the plaintext SHA-256 have
   * verified, so a damaged object never leaves a file that looks whole.
   */
  getFile(actor: Principal, sha256: string, outPath: string): Promise<ObjectInfo>;
  /** The KEKs and how many objects each wraps. */
  listKeys(actor: Principal): Promise<(KekInfo & { objects: number })[]>;
  /** `trainguard keys retire`: an old KEK no object uses any more is retired; logged. */
  retireKey(actor: Principal, kekId: string): Promise<{ logIndex: number }>;
}

/** Which access events become log entries, and as what kind. Denied attempts stay in the access audit list. */
const LOGGED: Readonly<Record<string, string>> = {
  grant: 'grant',
  revoke: 'revoke',
  'principal-created': 'principal',
  'principal-disabled': 'principal',
  'principal-enabled': 'principal',
  'password-set': 'principal',
  'token-created': 'token',
  'token-revoked': 'token',
};

const CURSOR_FILE = 'access/ledger-cursor';

/** Opens (creating on first use) the home named by config.home.dir. */
export async function openHome(config: Config, options: { cwd?: string } = {}): Promise<Home> {
  const dir = resolve(options.cwd ?? process.cwd(), config.home.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const logKeyPath = join(dir, 'log.key');
  const logVkeyPath = join(dir, 'log.vkey');
  const ledgerDir = join(dir, 'ledger');
  if (!existsSync(logKeyPath)) {
    // The origin names this installation's log; the random part keeps two homes on one host apart.
    await generateKeyFiles(`${hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'localhost'}/trainguard/${randomBytes(4).toString('hex')}`, join(dir, 'log'));
  }
  if (!existsSync(join(ledgerDir, 'checkpoint'))) await initLog(ledgerDir, logKeyPath);
  // One writer per home for the life of the process (a service appends for every request).
  const writer = openLogWriter(ledgerDir, logKeyPath);
  const record = async (entries: readonly EntryInput[]): Promise<{ indices: number[] }> => {
    const r = await writer.append(entries);
    return { indices: r.indices };
  };

  const accessStore = await FileAccessStore.open(join(dir, 'access'));
  const outbox = new AccessOutbox(join(dir, CURSOR_FILE), accessStore, record);
  await outbox.catchUp();
  const access = new AccessControl({ store: accessStore, listener: { record: (e) => outbox.deliver(e) } });

  const provider = await KeyFileProvider.open(join(dir, 'keys', 'kek.json'));
  const backend: BlobBackend = config.vault.backend === 's3' ? await openS3(config) : new FileBackend(join(dir, 'vault'));
  const vault = new Vault({ backend, keys: provider, segmentSize: config.vault.segmentSize });

  return {
    dir,
    ledgerDir,
    logKeyPath,
    logVkeyPath,
    access,
    accessStore,
    vault,
    record,
    async rotateKeys(actor) {
      await access.assertAllowed(actor, 'key:rotate');
      const summary = await vault.rotate();
      const body = { actor: actor.id, kek: summary.kekId, rewrapped: summary.rewrapped, unchanged: summary.unchanged, from: summary.from, failed: summary.failures.length, at: new Date().toISOString() };
      const { indices } = await record([{ kind: 'key-rotation', body }]);
      return { ...summary, logIndex: indices[0] as number };
    },
    async putFile(actor, path, dataset) {
      await access.assertAllowed(actor, 'batch:push', dataset);
      const r = await vault.put(createReadStream(path), { dataset });
      const body = { actor: actor.id, dataset, sha256: r.sha256, ciphertextSha256: r.ciphertextSha256, size: r.size };
      const { indices } = await record([{ kind: 'object', body, idempotencyKey: `object-${dataset}-${r.sha256}` }]);
      return { ...r, logIndex: indices[0] as number };
    },
    async getFile(actor, sha256, outPath) {
      const info = await vault.stat(sha256);
      await access.assertAllowed(actor, 'sample:read', info.context['dataset'] ?? null);
      const tmp = `${outPath}.${process.pid}.partial`;
      try {
        await pipeline(await vault.get(sha256), createWriteStream(tmp, { mode: 0o600 }));
        await rename(tmp, outPath);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return info;
    },
    async listKeys(actor) {
      await access.assertAllowed(actor, 'key:rotate');
      const usage = await vault.keyUsage();
      return (await provider.keys()).map((k) => ({ ...k, objects: usage.get(k.id) ?? 0 }));
    },
    async retireKey(actor, kekId) {
      await access.assertAllowed(actor, 'key:rotate');
      await vault.retire(kekId);
      const { indices } = await record([{ kind: 'key-retirement', body: { actor: actor.id, kek: kekId, at: new Date().toISOString() } }]);
      return { logIndex: indices[0] as number };
    },
  };
}

async function openS3(config: Config): Promise<BlobBackend> {
  const s3 = config.vault.s3;
  if (s3 === undefined) {
    throw new AccessError('ACCESS_BAD_INPUT', 'vault.backend is s3 but vault.s3 is not configured', {
      hint: 'set vault.s3.bucket (and endpoint for a non-AWS store) in trainguard.config.json',
    });
  }
  return openS3Backend({ bucket: s3.bucket, region: s3.region, prefix: s3.prefix, forcePathStyle: s3.forcePathStyle, ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }) });
}

/**
 * Delivers access events to the log exactly once: the idempotency key makes a repeat append a
 * no-op, and the cursor file (the last delivered sequence number) only saves re-reading.
 */
class AccessOutbox {
  constructor(
    private readonly cursorPath: string,
    private readonly store: AccessStore,
    private readonly record: (entries: readonly EntryInput[]) => Promise<unknown>,
  ) {}

  async catchUp(): Promise<void> {
    const after = await this.#cursor();
    const pending = await this.store.read((r) => r.events({ afterSeq: after }));
    const entries = pending.flatMap((e) => toEntry(e));
    if (entries.length > 0) await this.record(entries);
    const last = pending.at(-1);
    if (last !== undefined) await this.#save(last.seq);
  }

  async deliver(event: AccessEvent): Promise<void> {
    const entries = toEntry(event);
    if (entries.length > 0) await this.record(entries);
    await this.#save(event.seq);
  }

  async #cursor(): Promise<number> {
    const text = await readFile(this.cursorPath, 'utf8').catch(() => '0');
    const n = Number(text.trim());
    // A damaged cursor only costs a full re-delivery, which the idempotency keys make harmless.
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  async #save(seq: number): Promise<void> {
    const tmp = `${this.cursorPath}.tmp`;
    await writeFile(tmp, `${seq}\n`, { mode: 0o600 });
    await rename(tmp, this.cursorPath);
  }
}

function toEntry(e: AccessEvent): EntryInput[] {
  const kind = LOGGED[e.kind];
  if (kind === undefined) return [];
  // Commitments only: ids, roles, datasets, times; never names, hashes or secrets.
  const { seq, at, ...body } = e;
  return [{ kind, body: { event: body.kind, ...body, seq, at }, idempotencyKey: `access-event-${seq}` }];
}

/**
 * Who runs a CLI command against the home: the principal of TRAINGUARD_TOKEN when set (checked
 * like an API call), else `--as <name>`. Whoever can read the home's files already holds its keys,
 * so `--as` is an attribution for the log and the permission check, not an authentication.
 */
export async function resolveActor(home: Home, options: { as?: string; token?: string }): Promise<Principal> {
  if (options.token !== undefined && options.token !== '') return home.access.authenticate(options.token);
  if (options.as === undefined) {
    throw new AccessError('ACCESS_UNAUTHENTICATED', 'no principal to act as', {
      hint: 'pass --as <name> (an admin of this home) or set TRAINGUARD_TOKEN; the first admin is made with `trainguard user add <name> --admin`',
    });
  }
  const name = options.as;
  const p = await home.accessStore.read((r) => r.principalByName(name));
  if (p === undefined || p.disabled) {
    throw new AccessError('ACCESS_UNAUTHENTICATED', `no enabled principal named ${name}`, { hint: 'list principals with `trainguard user list --as <admin>`' });
  }
  return p;
}
