/**
 * Two small POSIX facts every durable store here needs: a rename or a new file is only durable
 * once its directory is fsynced, and a lock file names a process that may be gone.
 */
import { open } from 'node:fs/promises';

/** fsync a directory, so the entries just created or renamed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
