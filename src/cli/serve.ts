import type { Command } from 'commander';
import { openServiceOnHome } from '../app/index.ts';
import { buildServer } from '../server/index.ts';
import { resolveHomeConfig } from './access.ts';
import { CliError } from './errors.ts';

/** `trainguard serve`: the service on the home (embedded PGlite unless TRAINGUARD_DATABASE_URL is set). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the TrainGuard service: the HTTP API (OpenAPI at /openapi.json) and the scan workers, on the home')
    .option('--home <dir>', 'the TrainGuard home (default .trainguard, or TRAINGUARD_HOME)')
    .option('--config <file>', 'config file (default ./trainguard.config.json)')
    .option('--port <n>', 'port (0: any free one)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(async (flags: { home?: string; config?: string; port: string; host: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('CLI_BAD_FLAG', `--port must be 0–65535, got "${flags.port}"`, { hint: 'for example --port 8080' });
      const config = resolveHomeConfig(flags);
      const running = await openServiceOnHome(config, { ...(process.env['TRAINGUARD_DATABASE_URL'] === undefined ? {} : { databaseUrl: process.env['TRAINGUARD_DATABASE_URL'] }) });
      const app = await buildServer({ service: running.service, access: running.home.access });
      const url = await app.listen({ port, host: flags.host });
      process.stdout.write(`TrainGuard listening on ${url} (home ${running.home.dir}, database ${running.store.kind}); OpenAPI at ${url}/openapi.json\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.close();
      await running.close();
    });
}
