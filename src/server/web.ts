/**
 * Serves the built web UI (web/dist): its files under `/`, and index.html for any other GET that is
 * not an API route (the UI routes in the page itself). Paths are resolved inside the root only, and
 * every page carries a Content-Security-Policy that allows nothing from elsewhere.
 */
import { readFile, realpath } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Images come from the API as blobs; nothing else from anywhere but this origin.
  'content-security-policy': "default-src 'self'; img-src 'self' blob:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function serveWeb(app: FastifyInstance, webRoot: string): void {
  const root = resolve(webRoot);
  const index = join(root, 'index.html');
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      path = '/';
    }
    if (path.startsWith('/api/')) {
      void reply.status(404);
      return { code: 'HTTP_NOT_FOUND', message: 'no such route' };
    }
    const file = await fileInside(root, path);
    const target = file ?? index;
    let body: Buffer;
    try {
      body = await readFile(target);
    } catch {
      void reply.status(503);
      return { code: 'WEB_NOT_BUILT', message: 'the web UI is not built', hint: 'run `npm run build:web`' };
    }
    void reply.headers(SECURITY_HEADERS).type(TYPES[extname(target)] ?? 'application/octet-stream')
      // Vite names assets by content hash: cache them for good; never cache the page that names them.
      .header('cache-control', file !== null && path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    return body;
  });
}

/** The file at `path` under `root`, or null when there is none or it would leave the root (`..`, symlinks). */
async function fileInside(root: string, path: string): Promise<string | null> {
  if (path === '/' || path.includes('\0')) return null;
  const candidate = resolve(root, `.${path}`);
  if (!candidate.startsWith(root + sep)) return null;
  try {
    const real = await realpath(candidate);
    const realRoot = await realpath(root);
    return real.startsWith(realRoot + sep) && extname(real) !== '' ? real : null;
  } catch {
    return null;
  }
}
