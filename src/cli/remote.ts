/**
 * `trainguard push` and `trainguard pull`: the service's HTTP API from the command line, for
 * contributors and trainers who do not hold the home. The token comes from TRAINGUARD_TOKEN, the
 * server from --server or TRAINGUARD_URL. Everything the server sends is checked before it is
 * trusted: file names, digests, and the snapshot's signature and log receipt against the log key.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { verifySnapshot } from '../app/index.ts';
import { CliError } from './errors.ts';
import { EXIT } from './exit.ts';

const DEFAULT_SERVER = 'http://127.0.0.1:8080';

const CONTENT_TYPES: readonly [RegExp, string][] = [
  [/\.csv$/i, 'text/csv'],
  [/\.tsv$/i, 'text/tab-separated-values'],
  [/\.jsonl$/i, 'application/x-ndjson'],
  [/\.parquet$/i, 'application/vnd.apache.parquet'],
  [/\.zip$/i, 'application/zip'],
  [/\.tar$/i, 'application/x-tar'],
  [/\.(tar\.gz|tgz)$/i, 'application/gzip'],
];

/** A file name the server sends may only name a file, never a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

interface RemoteFlags {
  server?: string;
  json?: boolean;
}

class Api {
  constructor(readonly base: string, private readonly token: string) {}

  static from(flags: RemoteFlags): Api {
    const token = process.env['TRAINGUARD_TOKEN'];
    if (token === undefined || token === '') throw new CliError('CLI_USAGE', 'TRAINGUARD_TOKEN is not set', { hint: 'create a token with `trainguard token create` (or in the web UI) and export TRAINGUARD_TOKEN' });
    const base = (flags.server ?? process.env['TRAINGUARD_URL'] ?? DEFAULT_SERVER).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/.test(base)) throw new CliError('CLI_BAD_FLAG', `--server must be an http(s) URL, got "${base}"`, { hint: `for example ${DEFAULT_SERVER}` });
    return new Api(base, token);
  }

  /**
   * One request; a refused connection, a 502/503/504 or a 429 is retried (3 tries, 0.5 s then 2 s):
   * pushes carry an Idempotency-Key, so a retry after a lost answer stores nothing twice.
   */
  async request(method: string, path: string, init: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
    const delays = [500, 2000];
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      try {
        res = await fetch(`${this.base}${path}`, { method, headers: { authorization: `Bearer ${this.token}`, ...init.headers }, ...(init.body === undefined ? {} : { body: init.body }) });
      } catch (err) {
        if (attempt >= delays.length) throw new CliError('CLI_NETWORK', `cannot reach ${this.base}: ${(err as Error).message}`, { hint: 'is `trainguard serve` running there? set --server or TRAINGUARD_URL' });
      }
      if (res !== undefined && !(res.status === 429 || res.status >= 502) ) {
        if (res.ok) return res;
        throw await apiError(res);
      }
      if (attempt >= delays.length) throw res === undefined ? new CliError('CLI_NETWORK', `cannot reach ${this.base}`) : await apiError(res);
      await new Promise((r) => setTimeout(r, delays[attempt]));
    }
  }

  async json<T>(method: string, path: string): Promise<T> {
    return (await (await this.request(method, path)).json()) as T;
  }
}

async function apiError(res: Response): Promise<CliError> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string; hint?: string };
  return new CliError('CLI_REMOTE', `${res.status} ${body.code ?? 'HTTP_ERROR'}: ${body.message ?? res.statusText}`, body.hint === undefined ? {} : { hint: body.hint });
}

function contentTypeOf(path: string): string {
  const hit = CONTENT_TYPES.find(([re]) => re.test(path));
  if (hit === undefined) throw new CliError('CLI_BAD_FLAG', `cannot tell the format of ${basename(path)}`, { hint: 'push .csv, .tsv, .jsonl, .parquet, or an image folder as .zip, .tar or .tar.gz' });
  return hit[1];
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json === true ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

export function registerRemote(program: Command, setExit: (code: number) => void): void {
  program
    .command('push <file>')
    .description('push a batch to a dataset on the service (CSV, TSV, JSONL, Parquet, or an image folder as .zip/.tar/.tar.gz); TRAINGUARD_TOKEN authenticates')
    .requiredOption('--dataset <id>', 'the dataset')
    .requiredOption('--source <name>', 'where the data comes from (a partner, a scrape, a team)')
    .option('--key <key>', 'idempotency key (default: derived from the dataset, source and file bytes, so pushing the same file again stores nothing new)')
    .option('--wait', 'wait until the batch is scanned and print how many samples were quarantined')
    .option('--server <url>', `the service (default TRAINGUARD_URL or ${DEFAULT_SERVER})`)
    .option('--json', 'print JSON')
    .action(async (file: string, flags: RemoteFlags & { dataset: string; source: string; key?: string; wait?: boolean }) => {
      const api = Api.from(flags);
      const type = contentTypeOf(file);
      const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        throw new CliError('CLI_USAGE', `cannot read ${file}: ${err.code ?? err.message}`);
      });
      const key = flags.key ?? `push-${createHash('sha256').update(`${flags.dataset}\n${flags.source}\n`).update(bytes).digest('hex').slice(0, 40)}`;
      const dataset = encodeURIComponent(flags.dataset);
      const res = await api.request('POST', `/api/datasets/${dataset}/batches?source=${encodeURIComponent(flags.source)}`, { body: bytes, headers: { 'content-type': type, 'idempotency-key': key } });
      const r = (await res.json()) as { batch: { id: string; sampleCount: number }; replayed: boolean; inserted: number; duplicates: number; jobId: string };
      let scan: { status: string; quarantined?: number } | undefined;
      if (flags.wait === true) scan = await waitScanned(api, dataset, r.batch.id);
      print(flags.json, { ...r, ...(scan === undefined ? {} : { scan }) }, `${r.replayed ? 'already pushed' : 'pushed'}: batch ${r.batch.id}, ${r.batch.sampleCount} samples (${r.inserted} new, ${r.duplicates} already in the dataset); scan job ${r.jobId}${scan === undefined ? '' : `; scan ${scan.status}`}`);
      setExit(EXIT.ok);
    });

  program
    .command('pull <snapshot>')
    .description('download a snapshot (the release file, decrypted, and its signed manifest) and verify it against the log key before keeping it')
    .option('-o, --out <dir>', 'where to write it (default: the snapshot id)')
    .option('--vkey <file>', "the log's public key to verify against (default: ask the server, trust on first use)")
    .option('--server <url>', `the service (default TRAINGUARD_URL or ${DEFAULT_SERVER})`)
    .option('--json', 'print JSON')
    .action(async (snapshotId: string, flags: RemoteFlags & { out?: string; vkey?: string }) => {
      const api = Api.from(flags);
      const id = encodeURIComponent(snapshotId);
      const meta = await api.json<{ snapshot: { datasetId: string; sampleCount: number }; dataFile: { name: string; sha256: string }; files: Record<string, string> }>('GET', `/api/snapshots/${id}`);
      const vkey = flags.vkey === undefined ? (await api.json<{ vkey: string }>('GET', '/api/log/key')).vkey : await readFile(flags.vkey, 'utf8');
      const out = flags.out ?? snapshotId;
      const names = [...Object.keys(meta.files), meta.dataFile.name];
      const bad = names.find((n) => !SAFE_NAME.test(n));
      if (bad !== undefined) throw new CliError('CLI_REMOTE', `the server named a file ${JSON.stringify(bad.slice(0, 80))}`, { hint: 'a snapshot names plain files only; this server is not to be trusted' });
      // Everything goes to a staging folder first and is renamed into place only once verified.
      const staging = `${out}.partial-${process.pid}`;
      await rm(staging, { recursive: true, force: true });
      try {
        await mkdir(join(staging, 'snapshot'), { recursive: true, mode: 0o700 });
        for (const [name, b64] of Object.entries(meta.files)) await writeFile(join(staging, 'snapshot', name), Buffer.from(b64, 'base64'));
        const data = Buffer.from(await (await api.request('GET', `/api/snapshots/${id}/data`)).arrayBuffer());
        const sha256 = createHash('sha256').update(data).digest('hex');
        if (sha256 !== meta.dataFile.sha256) throw new CliError('CLI_REMOTE', `the release file's SHA-256 is ${sha256.slice(0, 16)}…, the manifest names ${meta.dataFile.sha256.slice(0, 16)}…`, { hint: 'pull again; if it persists, the server is serving altered data' });
        await writeFile(join(staging, meta.dataFile.name), data, { mode: 0o600 });
        const v = await verifySnapshot(join(staging, 'snapshot'), vkey, { dataPath: join(staging, meta.dataFile.name) });
        await rm(out, { recursive: true, force: true });
        await rename(staging, out);
        print(flags.json, { out, dataFile: join(out, meta.dataFile.name), snapshotDir: join(out, 'snapshot'), sampleCount: v.sampleCount, logIndex: v.receipt.index, trustedKey: flags.vkey ?? 'from the server' }, `pulled ${snapshotId}: ${join(out, meta.dataFile.name)} (${v.sampleCount} samples), verified: signature, log entry ${v.receipt.index}, sample root${flags.vkey === undefined ? ' (against the key the server gave; pass --vkey to pin it)' : ''}`);
        setExit(EXIT.ok);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        throw err;
      }
    });
}

async function waitScanned(api: Api, dataset: string, batchId: string): Promise<{ status: string }> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const o = await api.json<{ batches: { id: string; status: string }[] }>('GET', `/api/datasets/${dataset}`);
    const status = o.batches.find((b) => b.id === batchId)?.status ?? 'unknown';
    if (status === 'scanned' || status === 'failed') return { status };
    if (Date.now() > deadline) return { status: `${status} (gave up waiting after 10 minutes)` };
    await new Promise((r) => setTimeout(r, 1000));
  }
}
