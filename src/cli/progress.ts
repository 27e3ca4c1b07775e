import cliProgress from 'cli-progress';
import type { ProgressFn } from '../core/index.ts';

/**
 * Progress bars per stage on stderr, only when stderr is a terminal and not `--quiet`, so
 * machine output on stdout and CI logs stay clean.
 */
export function createProgress(enabled: boolean): { progress: ProgressFn; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { progress: () => undefined, stop: () => undefined };
  const multi = new cliProgress.MultiBar(
    { stream: process.stderr, format: ' {stage} [{bar}] {percentage}% {value}/{total}', barsize: 30, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const progress: ProgressFn = (stage, done, total) => {
    let bar = bars.get(stage);
    const label = stage.padEnd(22);
    if (bar === undefined) {
      bar = multi.create(Math.max(1, total), done, { stage: label });
      bars.set(stage, bar);
    }
    bar.setTotal(Math.max(1, total));
    bar.update(done, { stage: label });
  };
  return { progress, stop: () => multi.stop() };
}
