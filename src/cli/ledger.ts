import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { appendEntries, consistencyBetween, cosignFile, createSnapshot, serveTiles, generateKeyFiles, initLog, latestCheckpoint, proveEntry, showKey, verifyFileInSnapshot, verifyReceiptFile, verifySnapshot, type EntryInput } from '../app/index.ts';
import { stat } from 'node:fs/promises';
import { CliError } from './errors.ts';
import { EXIT } from './exit.ts';
import { readStdin } from './stdin.ts';

/** `trainguard key …` and `trainguard log …`: signing keys and the provenance transparency log. */
export function registerLedger(program: Command, setExit: (code: number) => void): void {
  const key = program.command('key').description('Ed25519 signing keys for logs and snapshots (C2SP signed-note format)');
  key
    .command('generate <name>')
    .description('write <out>.key (private, mode 0600) and <out>.vkey (public)')
    .option('-o, --out <prefix>', 'file prefix (default: the name with / replaced by _)')
    .action(async (name: string, flags: { out?: string }) => {
      const r = await generateKeyFiles(name, flags.out ?? name.replaceAll('/', '_'));
      process.stdout.write(`${r.vkey}\n`);
      process.stderr.write(`wrote ${r.keyPath} (keep it secret) and ${r.vkeyPath}\n`);
      setExit(EXIT.ok);
    });
  key
    .command('show <file>')
    .description('print the public key (vkey) and key id of a key file')
    .action(async (file: string) => {
      const k = await showKey(file);
      process.stdout.write(`${k.vkey}\nname ${k.name}\nkey id ${k.keyId}\nwitness vkey ${k.witnessVkey}\n`);
      setExit(EXIT.ok);
    });

  const log = program.command('log').description('the append-only transparency log (C2SP tlog-tiles on disk, signed checkpoints)');
  log
    .command('init <dir>')
    .description('create an empty log whose checkpoints --key signs')
    .requiredOption('--key <file>', 'private key file (from `trainguard key generate`)')
    .option('--origin <name>', "the log's origin line (default: the key's name)")
    .action(async (dir: string, flags: { key: string; origin?: string }) => {
      const r = await initLog(dir, flags.key, flags.origin);
      process.stdout.write(r.checkpoint);
      setExit(EXIT.ok);
    });
  log
    .command('append <dir> [file]')
    .description('append entries, one JSON object per line {"kind": "...", "body": {...}, "idempotencyKey"?: "..."} (file or stdin), as one durable batch')
    .requiredOption('--key <file>', 'private key file that signs the new checkpoint')
    .action(async (dir: string, file: string | undefined, flags: { key: string }) => {
      const text = file === undefined || file === '-' ? await readStdin() : await readFile(file, 'utf8');
      const entries = parseEntryLines(text);
      const r = await appendEntries(dir, flags.key, entries);
      process.stdout.write(`${JSON.stringify({ indices: r.indices, size: r.size })}\n`);
      setExit(EXIT.ok);
    });
  log
    .command('checkpoint <dir>')
    .description('print the latest signed checkpoint')
    .action(async (dir: string) => {
      process.stdout.write(await latestCheckpoint(dir));
      setExit(EXIT.ok);
    });
  log
    .command('prove <dir>')
    .description('write a receipt (c2sp.org/tlog-proof@v1) for one entry: its inclusion proof, the entry and the signed checkpoint')
    .requiredOption('--index <n>', 'entry index')
    .option('-o, --out <file>', 'write the receipt here instead of stdout')
    .action(async (dir: string, flags: { index: string; out?: string }) => {
      const receipt = await proveEntry(dir, integer('index', flags.index));
      if (flags.out === undefined) process.stdout.write(receipt);
      else await writeFile(flags.out, receipt);
      setExit(EXIT.ok);
    });
  log
    .command('cosign <file>')
    .description('as a witness: add a tlog-cosignature to the checkpoint of a receipt or checkpoint file, after checking the log signature')
    .requiredOption('--key <file>', "the witness's private key")
    .requiredOption('--log-vkey <file>', "the log's public key")
    .option('-o, --out <file>', 'write here (default: replace the file)')
    .action(async (file: string, flags: { key: string; logVkey: string; out?: string }) => {
      const [text, vkey] = await Promise.all([readFile(file, 'utf8'), readFile(flags.logVkey, 'utf8')]);
      await writeFile(flags.out ?? file, await cosignFile(text, flags.key, vkey));
      setExit(EXIT.ok);
    });
  log
    .command('serve-tiles <dir>')
    .description('serve the log read-only over HTTP as C2SP tlog-tiles (checkpoint, tile/…, tile/entries/…)')
    .option('--port <n>', 'TCP port (0 = any free one)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(async (dir: string, flags: { port: string; host: string }) => {
      const server = await serveTiles(dir, { port: integer('port', flags.port), host: flags.host });
      process.stderr.write(`serving ${dir} at ${server.url} (Ctrl-C to stop)\n`);
      await server.closed;
      setExit(EXIT.ok);
    });
  log
    .command('consistency <dir>')
    .description('print the consistency proof between two tree sizes (base64, one hash per line)')
    .requiredOption('--from <size>', 'the older tree size')
    .option('--to <size>', 'the newer tree size (default: the current size)')
    .action(async (dir: string, flags: { from: string; to?: string }) => {
      const r = await consistencyBetween(dir, integer('from', flags.from), flags.to === undefined ? undefined : integer('to', flags.to));
      const b64 = (h: Uint8Array): string => Buffer.from(h).toString('base64');
      process.stdout.write(`old ${r.oldSize} ${b64(r.oldRoot)}\nnew ${r.newSize} ${b64(r.newRoot)}\n${r.proof.map(b64).join('\n')}${r.proof.length > 0 ? '\n' : ''}`);
      setExit(EXIT.ok);
    });
  log
    .command('verify <receipt>')
    .description('verify a receipt offline: the log signature (and with --policy the witness quorum) and the entry’s inclusion; with --state, that the log only ever grew')
    .option('--vkey <file>', "the log's public key")
    .option('--policy <file>', 'a C2SP tlog-policy file (log and witness keys, quorum) instead of --vkey')
    .option('--state <file>', 'remember the newest accepted checkpoint here and demand consistency to move on')
    .option('--log <dir>', 'where to read a consistency proof from when the receipt’s checkpoint differs from the remembered one')
    .action(async (receiptPath: string, flags: { vkey?: string; policy?: string; state?: string; log?: string }) => {
      const trust = flags.policy ?? flags.vkey;
      if (trust === undefined) throw new CliError('CLI_BAD_FLAG', 'give --vkey or --policy', { hint: 'the log’s public key (`trainguard key show`) or a tlog-policy file' });
      const [receipt, trustText] = await Promise.all([readFile(receiptPath, 'utf8'), readFile(trust, 'utf8')]);
      const r = await verifyReceiptFile(receipt, trustText, { policy: flags.policy !== undefined, ...(flags.state === undefined ? {} : { statePath: flags.state }), ...(flags.log === undefined ? {} : { logDir: flags.log }) });
      process.stdout.write(`OK entry ${r.index} of ${r.origin} (tree size ${r.size})${r.entry === null ? '' : `: ${r.entry.kind}`}; state ${r.state}\n`);
      setExit(EXIT.ok);
    });
}

/** `trainguard snapshot create` and `trainguard verify`. */
export function registerSnapshot(program: Command, setExit: (code: number) => void): void {
  const snapshot = program.command('snapshot').description('verifiable dataset snapshots: signed in-toto manifest, sample Merkle root, logged, with a receipt');
  snapshot
    .command('create <data>')
    .description('commit to the files and sample ids of <data>, sign the manifest, log it and write the snapshot directory')
    .requiredOption('--dataset <name>', 'dataset name recorded in the manifest')
    .requiredOption('--key <file>', 'private key: signs the manifest and the log checkpoint')
    .requiredOption('--log <dir>', 'the log the snapshot is recorded in (`trainguard log init`)')
    .option('-o, --out <dir>', 'snapshot directory (default: snapshot-<dataset>)')
    .option('--report <file>', 'the scan report this release was checked with (its SHA-256 is recorded)')
    .option('--parent <dir>', 'the previous snapshot of this dataset')
    .action(async (data: string, flags: { dataset: string; key: string; log: string; out?: string; report?: string; parent?: string }) => {
      const r = await createSnapshot(data, {
        dataset: flags.dataset,
        keyPath: flags.key,
        logDir: flags.log,
        outDir: flags.out ?? `snapshot-${flags.dataset.replaceAll('/', '_')}`,
        ...(flags.report === undefined ? {} : { reportPath: flags.report }),
        ...(flags.parent === undefined ? {} : { parentDir: flags.parent }),
      });
      process.stdout.write(`${JSON.stringify(r)}\n`);
      setExit(EXIT.ok);
    });
  program
    .command('verify <target>')
    .description('offline verification of a snapshot directory (signature, log inclusion, sample root, and with --data every file and sample), of a receipt, or with --snapshot of one data file')
    .requiredOption('--vkey <file>', "the signer's and log's public key")
    .option('--policy <file>', 'also require the log checkpoint to meet this tlog-policy (witness quorum)')
    .option('--data <path>', 'the data the snapshot is of: check every file’s bytes and sample id')
    .option('--state <file>', 'remember the newest accepted checkpoint and demand consistency to move on')
    .option('--log <dir>', 'where to read a consistency proof from')
    .option('--snapshot <dir>', '<target> is a data file: check it is one of this snapshot’s signed files')
    .action(async (target: string, flags: { vkey: string; policy?: string; data?: string; state?: string; log?: string; snapshot?: string }) => {
      const vkey = await readFile(flags.vkey, 'utf8');
      const policyText = flags.policy === undefined ? undefined : await readFile(flags.policy, 'utf8');
      const common = { ...(flags.state === undefined ? {} : { statePath: flags.state }), ...(flags.log === undefined ? {} : { logDir: flags.log }) };
      if (flags.snapshot !== undefined) {
        const r = await verifyFileInSnapshot(target, flags.snapshot, vkey, { ...common, ...(policyText === undefined ? {} : { policyText }) });
        process.stdout.write(`OK ${target} is ${r.subject} of snapshot ${r.dataset} (sha256 ${r.sha256}); log entry ${r.receipt.index} of ${r.receipt.origin}; state ${r.receipt.state}\n`);
      } else if ((await stat(target)).isDirectory()) {
        const r = await verifySnapshot(target, vkey, { ...common, ...(flags.data === undefined ? {} : { dataPath: flags.data }), ...(policyText === undefined ? {} : { policyText }) });
        process.stdout.write(`OK snapshot of ${r.dataset}: ${r.sampleCount} samples, ${r.files} files${r.dataChecked ? ' (data checked)' : ' (data not checked: pass --data)'}; log entry ${r.receipt.index} of ${r.receipt.origin}; state ${r.receipt.state}\n`);
      } else {
        const text = await readFile(target, 'utf8');
        if (!text.startsWith('c2sp.org/tlog-proof@v1\n')) {
          throw new CliError('CLI_USAGE', `${target} is neither a snapshot directory nor a receipt`, {
            hint: 'to check that a data file belongs to a snapshot, add --snapshot <dir>',
          });
        }
        const r = await verifyReceiptFile(text, policyText ?? vkey, { ...common, policy: policyText !== undefined });
        process.stdout.write(`OK entry ${r.index} of ${r.origin} (tree size ${r.size})${r.entry === null ? '' : `: ${r.entry.kind}`}; state ${r.state}\n`);
      }
      setExit(EXIT.ok);
    });
}

function integer(name: string, raw: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new CliError('CLI_BAD_FLAG', `--${name} must be a non-negative integer, got "${raw}"`, { hint: `for example --${name} 0` });
  }
  return Number(raw);
}

function parseEntryLines(text: string): EntryInput[] {
  const out: EntryInput[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new CliError('CLI_BAD_FLAG', `line ${i + 1} is not JSON`, { hint: 'one object per line: {"kind": "source", "body": {...}}' });
    }
    const o = v as { kind?: unknown; body?: unknown; idempotencyKey?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.kind !== 'string' || (o.idempotencyKey !== undefined && typeof o.idempotencyKey !== 'string')) {
      throw new CliError('CLI_BAD_FLAG', `line ${i + 1} needs a string "kind" and an object "body"`, { hint: '{"kind": "source", "body": {"id": "…", "sha256": "…"}}' });
    }
    out.push({ kind: o.kind, body: o.body, ...(typeof o.idempotencyKey === 'string' ? { idempotencyKey: o.idempotencyKey } : {}) });
  });
  if (out.length === 0) throw new CliError('CLI_BAD_FLAG', 'no entries to append', { hint: 'give a file with one JSON object per line, or pipe them in' });
  return out;
}
