// The child side of scan-process.ts: one scan of one file, then exit. Runs in its own process with
// tsx loaded by the parent's --import.
import { scanFile } from './scan-file.ts';
import type { Config } from '../config/index.ts';

interface Request {
  readonly path: string;
  readonly config: Config;
}

process.once('message', (request: Request) => {
  scanFile(request.path, request.config)
    .then(({ report }) => ({ ok: true, report }), (err: unknown) => {
      const e = err as { code?: unknown; message?: unknown; hint?: unknown };
      return { ok: false, error: { code: typeof e.code === 'string' ? e.code : 'INTERNAL', message: String(e.message ?? err), ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) } };
    })
    // Exit once the reply is handed over: a detector's pool or timer must not keep the child alive.
    .then((reply) => process.send?.(reply, undefined, {}, () => process.exit(0)));
});
