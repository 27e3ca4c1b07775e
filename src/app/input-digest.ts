import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * SHA-256 of what was scanned: the file's bytes, or for a folder the digest of its sorted
 * "relative-path NUL file-digest" lines, so a report names exactly the bytes it judged.
 */
export async function digestInput(path: string): Promise<string> {
  const info = await stat(path);
  if (!info.isDirectory()) return digestFile(path);
  const h = createHash('sha256');
  for (const f of await listFiles(path)) h.update(`${f.name}\0${await digestFile(f.path)}\n`);
  return h.digest('hex');
}

/** Every regular file under a folder (symlinks not followed), sorted, with its '/'-separated path relative to the folder. */
export async function listFiles(dir: string): Promise<{ path: string; name: string }[]> {
  const files: string[] = [];
  await walk(dir, files);
  files.sort();
  return files.map((p) => ({ path: p, name: relative(dir, p).split(sep).join('/') }));
}

/** SHA-256 (hex) of a file's bytes, streamed. */
export function digestFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    // Symlinks are not followed: the reader refuses links that leave the folder, and the digest
    // must not depend on what a link points to outside it.
    if (entry.isDirectory()) await walk(p, out);
    else if (entry.isFile()) out.push(p);
  }
}
