/**
 * A scan in a child process. The detectors are CPU-bound for seconds; run in the service's process
 * they held its event loop, and ingest latency with them (bench:service, `--workers 1`). In a child
 * they run on another core, a crash or a runaway input kills only the child, and an aborted job
 * (lost lease, shutdown) kills it at once.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.ts';
import type { ScanReport } from '../scan/index.ts';
import { ServiceError } from './service-errors.ts';

const CHILD = fileURLToPath(new URL('./scan-child.ts', import.meta.url));
/** tsx by absolute URL: the child may start in any working directory. */
const TSX = import.meta.resolve('tsx');

interface Reply {
  readonly ok: boolean;
  readonly report?: ScanReport;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

/** Scans `path` with `config` in a new process; rejects with the scan's own error code when it fails. */
export function scanFileInChild(path: string, config: Config, signal?: AbortSignal): Promise<ScanReport> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      execArgv: ['--import', TSX],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      ...(signal === undefined ? {} : { signal }),
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString();
    });
    let reply: Reply | undefined;
    child.once('message', (m: Reply) => {
      reply = m;
    });
    child.once('error', (err) => reject(err));
    child.once('exit', (code, sig) => {
      if (reply?.ok === true && reply.report !== undefined) resolve(reply.report);
      else if (reply?.error !== undefined) reject(new ServiceError('SERVICE_SCAN_FAILED', `scan failed: ${reply.error.code}: ${reply.error.message}`, { hint: reply.error.hint ?? 'see the message; the job is retried' }));
      else reject(new ServiceError('SERVICE_SCAN_FAILED', `the scan process ended (${sig ?? `exit ${code}`}) without a report${stderr === '' ? '' : `: ${stderr.trim().slice(-500)}`}`, { hint: 'the job is retried; if it keeps failing, scan the batch with trainguard scan to see why' }));
    });
    child.send({ path, config });
  });
}
