import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Config } from '../config/index.ts';
import { openServiceOnHome, openWorkerOnHome, seedDemo, type Principal, type ServiceHost } from '../app/index.ts';
import { buildServer } from '../server/index.ts';
import { resolveHomeConfig } from './access.ts';
import { CliError } from './errors.ts';

/** The built web UI (`npm run build:web`, run by `npm ci` through `prepare`). */
const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

interface ServeFlags {
  home?: string;
  config?: string;
  port: string;
  host: string;
  workers: string;
  demo?: boolean;
}

function database(): { databaseUrl?: string; databaseSchema?: string } {
  const url = process.env['TRAINGUARD_DATABASE_URL'];
  const schema = process.env['TRAINGUARD_DATABASE_SCHEMA'];
  return { ...(url === undefined || url === '' ? {} : { databaseUrl: url }), ...(schema === undefined || schema === '' ? {} : { databaseSchema: schema }) };
}

function count(raw: string, flag: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > 64) throw new CliError('CLI_BAD_FLAG', `${flag} must be a whole number from ${min} to 64, got "${raw}"`, { hint: `for example ${flag} 2` });
  return n;
}

/** Waits for SIGINT or SIGTERM. */
function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `trainguard serve` and `trainguard worker`: the service on the home (embedded PGlite unless TRAINGUARD_DATABASE_URL is set). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the TrainGuard service: the web UI, the HTTP API (OpenAPI at /openapi.json) and the scan workers, on the home')
    .option('--home <dir>', 'the TrainGuard home (default .trainguard, or TRAINGUARD_HOME)')
    .option('--config <file>', 'config file (default ./trainguard.config.json)')
    .option('--port <n>', 'port (0: any free one)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--workers <n>', 'scan jobs this process runs at once (0: leave them to `trainguard worker`, PostgreSQL only)', '1')
    .option('--demo', 'seed a demo dataset (SpamAssassin mail with planted attacks) into a new home and print a one-time sign-in link')
    .action(async (flags: ServeFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('CLI_BAD_FLAG', `--port must be 0–65535, got "${flags.port}"`, { hint: 'for example --port 8080' });
      const workers = count(flags.workers, '--workers', 0);
      let config = resolveHomeConfig(flags);
      if (flags.demo === true) config = demoConfig(config, flags.home);
      const host = await openServiceOnHome(config, { ...database(), workers: flags.demo === true ? Math.max(1, workers) : workers });
      const codes = new Map<string, Principal>();
      let demoLines: string[] = [];
      try {
        if (flags.demo === true) demoLines = await seed(host, codes);
      } catch (err) {
        await host.close();
        throw err;
      }
      const webBuilt = existsSync(WEB_ROOT);
      const app = await buildServer({ service: host.service, access: host.home.access, signInCodes: codes, ...(webBuilt ? { webRoot: WEB_ROOT } : {}) });
      const url = await app.listen({ port, host: flags.host });
      process.stdout.write(`TrainGuard listening on ${url} (home ${host.home.dir}, database ${host.store.kind}); OpenAPI at ${url}/openapi.json\n`);
      if (!webBuilt) process.stdout.write('The web UI is not built: run `npm run build:web` and restart to get it at /\n');
      for (const line of demoLines) process.stdout.write(`${line.replaceAll('{url}', url)}\n`);
      await untilSignalled();
      await app.close();
      await host.close();
    });

  program
    .command('worker')
    .description('run scan jobs only, from pg-boss on the service\'s PostgreSQL (TRAINGUARD_DATABASE_URL), with the server\'s home')
    .option('--home <dir>', 'the TrainGuard home (default .trainguard, or TRAINGUARD_HOME)')
    .option('--config <file>', 'config file (default ./trainguard.config.json)')
    .option('--workers <n>', 'scan jobs at once', '1')
    .action(async (flags: { home?: string; config?: string; workers: string }) => {
      const host = await openWorkerOnHome(resolveHomeConfig(flags), { ...database(), workers: count(flags.workers, '--workers', 1) });
      process.stdout.write(`TrainGuard worker running scan jobs (home ${host.home.dir}, database ${host.store.kind}); stop with Ctrl-C\n`);
      await untilSignalled();
      await host.close();
    });
}

/** The demo scans with the text-trigger detector too: one of its planted attacks is a rare-token backdoor. */
function demoConfig(config: Config, homeFlag: string | undefined): Config {
  const detectors = config.scan.detectors.includes('text-triggers') ? config.scan.detectors : [...config.scan.detectors, 'text-triggers'];
  // Without --home the demo gets its own fresh home, so it never mixes with real data.
  const home = homeFlag === undefined ? { ...config.home, dir: '.trainguard-demo' } : config.home;
  return { ...config, home, scan: { ...config.scan, detectors } };
}

async function seed(host: ServiceHost, codes: Map<string, Principal>): Promise<string[]> {
  if ((await host.store.datasets.list()).length > 0 || (await host.home.accessStore.read((r) => r.principalCount())) > 0) {
    throw new CliError('CLI_USAGE', `--demo needs a new home, and ${host.home.dir} is in use`, { hint: 'remove it, or pass --home <a new folder>' });
  }
  process.stdout.write('Seeding the demo: 3 batches of SpamAssassin mail, two with planted attacks, pushed and scanned (about 30 s)…\n');
  const demo = await seedDemo(host);
  const code = randomBytes(18).toString('base64url');
  codes.set(code, demo.reviewer.principal);
  return [
    `Demo dataset "${demo.dataset}": ${demo.batches.map((b) => `${b.source} ${b.samples} samples${b.planted > 0 ? ` (${b.planted} planted)` : ''}`).join(', ')}; ${demo.quarantined} quarantined for review.`,
    `Open {url}/#code=${code} to sign in as ${demo.reviewer.name} (one-time link).`,
    'Accounts (name / password):',
    ...demo.accounts.map((a) => `  ${a.name.padEnd(18)} ${a.role.padEnd(12)} ${a.password}`),
  ];
}
