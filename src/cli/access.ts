import type { Command } from 'commander';
import { resolveConfig, type Config } from '../config/index.ts';
import { isRole, openHome, resolveActor, type Home, type Principal, type Role } from '../app/index.ts';
import { CliError } from './errors.ts';
import { EXIT } from './exit.ts';
import { readStdin } from './stdin.ts';

interface HomeFlags {
  home?: string;
  config?: string;
  as?: string;
}

/** Every home command takes these: where the home is, and who acts. */
function homeOptions(cmd: Command, actor = true): Command {
  cmd.option('--home <dir>', 'the TrainGuard home (default .trainguard, or TRAINGUARD_HOME)').option('--config <file>', 'config file (default ./trainguard.config.json)');
  if (actor) cmd.option('--as <name>', 'act as this principal (or set TRAINGUARD_TOKEN to act as a token’s principal)');
  return cmd;
}

/** The config with `--home` applied, for every command that works on a home (`serve` too). */
export function resolveHomeConfig(flags: { home?: string; config?: string }): Config {
  return resolveConfig({ file: flags.config, flags: flags.home === undefined ? {} : { home: { dir: flags.home } } });
}

async function withHome<T>(flags: HomeFlags, fn: (home: Home) => Promise<T>): Promise<T> {
  return fn(await openHome(resolveHomeConfig(flags)));
}

async function actorOf(home: Home, flags: HomeFlags): Promise<Principal> {
  return resolveActor(home, { ...(flags.as === undefined ? {} : { as: flags.as }), ...(process.env['TRAINGUARD_TOKEN'] === undefined ? {} : { token: process.env['TRAINGUARD_TOKEN'] }) });
}

function role(raw: string): Role {
  if (!isRole(raw)) throw new CliError('CLI_BAD_FLAG', `unknown role "${raw}"`, { hint: 'roles: admin, curator, contributor, reviewer, trainer, auditor (docs/access.md)' });
  return raw;
}


function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

/** `trainguard user|token|grant|revoke|keys`: principals, API tokens, roles and key rotation (docs/access.md, docs/vault.md). */
export function registerAccess(program: Command, setExit: (code: number) => void): void {
  const user = program.command('user').description('users and service accounts');
  homeOptions(user.command('add <name>'))
    .description('add a user (or with --service a service account); the very first, with --admin, becomes the global admin')
    .option('--admin', 'bootstrap: the first principal of an empty home, granted admin globally')
    .option('--service', 'a service account (no password; uses tokens)')
    .option('--password-stdin', 'read a password for the web UI from stdin (at least 15 characters)')
    .action(async (name: string, flags: HomeFlags & { admin?: boolean; service?: boolean; passwordStdin?: boolean }) => {
      // One trailing newline is the shell's (echo, a heredoc), not part of the password.
      const password = flags.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
      await withHome(flags, async (home) => {
        const pw = password === undefined ? {} : { password };
        let p: Principal;
        if (flags.admin) p = await home.access.bootstrapAdmin(name, pw);
        else if (flags.service) p = await home.access.createServiceAccount(await actorOf(home, flags), name);
        else p = await home.access.addUser(await actorOf(home, flags), name, pw);
        process.stdout.write(`${JSON.stringify(p)}\n`);
      });
      setExit(EXIT.ok);
    });
  homeOptions(user.command('list'))
    .description('list principals')
    .option('--json', 'one JSON array')
    .action(async (flags: HomeFlags & { json?: boolean }) => {
      await withHome(flags, async (home) => {
        const users = await home.access.listUsers(await actorOf(home, flags));
        print(flags.json === true, users, users.map((u) => `${u.name}\t${u.kind}\t${u.disabled ? 'disabled' : 'enabled'}\t${u.id}\t${u.createdAt}`).join('\n'));
      });
      setExit(EXIT.ok);
    });
  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    homeOptions(user.command(`${verb} <name>`))
      .description(disabled ? 'disable a principal: its tokens and password stop working at once' : 'enable a disabled principal')
      .action(async (name: string, flags: HomeFlags) => {
        await withHome(flags, async (home) => {
          const actor = await actorOf(home, flags);
          const p = disabled ? await home.access.disableUser(actor, name) : await home.access.enableUser(actor, name);
          process.stdout.write(`${JSON.stringify(p)}\n`);
        });
        setExit(EXIT.ok);
      });
  }

  const token = program.command('token').description('API tokens (shown once, stored as hashes)');
  homeOptions(token.command('create'))
    .description('create an API token; it is printed once and cannot be shown again')
    .requiredOption('--name <label>', 'what the token is for, e.g. "ci push"')
    .option('--for <principal>', 'whose token (default: the acting principal; another’s needs user:manage)')
    .option('--days <n>', 'days until it expires (1–366, default 90)')
    .action(async (flags: HomeFlags & { name: string; for?: string; days?: string }) => {
      await withHome(flags, async (home) => {
        const days = flags.days === undefined ? undefined : Number(flags.days);
        if (days !== undefined && !Number.isInteger(days)) throw new CliError('CLI_BAD_FLAG', `--days must be a whole number, got "${flags.days}"`, { hint: 'for example --days 30' });
        const r = await home.access.createToken(await actorOf(home, flags), { name: flags.name, ...(flags.for === undefined ? {} : { principal: flags.for }), ...(days === undefined ? {} : { expiresInDays: days }) });
        process.stdout.write(`${r.token}\n`);
        process.stderr.write(`token ${r.info.id} expires ${r.info.expiresAt}; it is shown only now — store it in a secret manager\n`);
      });
      setExit(EXIT.ok);
    });
  homeOptions(token.command('list'))
    .description('list tokens (never their secrets)')
    .option('--for <principal>', 'another principal’s tokens (user:manage)')
    .option('--json', 'one JSON array')
    .action(async (flags: HomeFlags & { for?: string; json?: boolean }) => {
      await withHome(flags, async (home) => {
        const list = await home.access.listTokens(await actorOf(home, flags), flags.for === undefined ? {} : { principal: flags.for });
        print(flags.json === true, list, list.map((t) => `${t.id}\t${t.name}\texpires ${t.expiresAt}\t${t.revokedAt === null ? 'active' : `revoked ${t.revokedAt}`}`).join('\n'));
      });
      setExit(EXIT.ok);
    });
  homeOptions(token.command('revoke <id>'))
    .description('revoke a token by its id (the part between tg_ and the secret)')
    .action(async (id: string, flags: HomeFlags) => {
      await withHome(flags, async (home) => {
        const t = await home.access.revokeToken(await actorOf(home, flags), id);
        process.stdout.write(`${JSON.stringify(t)}\n`);
      });
      setExit(EXIT.ok);
    });

  for (const verb of ['grant', 'revoke'] as const) {
    homeOptions(program.command(`${verb} <principal> <role>`))
      .description(verb === 'grant' ? 'grant a role on one dataset (--dataset) or globally; logged' : 'revoke a role on one dataset (--dataset) or globally; logged')
      .option('--dataset <id>', 'the dataset (default: global)')
      .action(async (principal: string, roleName: string, flags: HomeFlags & { dataset?: string }) => {
        await withHome(flags, async (home) => {
          const request = { principal, role: role(roleName), datasetId: flags.dataset ?? null };
          const actor = await actorOf(home, flags);
          const g = verb === 'grant' ? await home.access.grant(actor, request) : await home.access.revoke(actor, request);
          process.stdout.write(`${JSON.stringify(g)}\n`);
        });
        setExit(EXIT.ok);
      });
  }
  homeOptions(program.command('grants'))
    .description('list grants')
    .option('--principal <name>', 'only this principal’s')
    .option('--dataset <id>', 'only those that apply to this dataset (its own and the global ones)')
    .option('--json', 'one JSON array')
    .action(async (flags: HomeFlags & { principal?: string; dataset?: string; json?: boolean }) => {
      await withHome(flags, async (home) => {
        const list = await home.access.listGrants(await actorOf(home, flags), { ...(flags.principal === undefined ? {} : { principal: flags.principal }), ...(flags.dataset === undefined ? {} : { datasetId: flags.dataset }) });
        print(flags.json === true, list, list.map((g) => `${g.principalId}\t${g.role}\t${g.datasetId ?? '(global)'}\t${g.grantedAt}`).join('\n'));
      });
      setExit(EXIT.ok);
    });
  homeOptions(program.command('access-events'))
    .description('the access audit list: principals, tokens, grants, revocations and denied attempts')
    .option('--after <seq>', 'only events after this sequence number')
    .option('--denied', 'only denied attempts')
    .action(async (flags: HomeFlags & { after?: string; denied?: boolean }) => {
      await withHome(flags, async (home) => {
        const events = await home.access.events(await actorOf(home, flags), { ...(flags.after === undefined ? {} : { afterSeq: Number(flags.after) }), ...(flags.denied ? { kinds: ['denied'] as const } : {}) });
        for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`);
      });
      setExit(EXIT.ok);
    });
}

/** `trainguard keys …` (key-encryption keys, rotation) and `trainguard vault put|get` (docs/vault.md). */
export function registerVault(program: Command, setExit: (code: number) => void): void {
  const keys = program.command('keys').description('the vault’s key-encryption keys: list, rotate, retire (each change logged)');
  homeOptions(keys.command('list'))
    .description('KEKs, which is primary, and how many objects each wraps')
    .option('--json', 'one JSON array')
    .action(async (flags: HomeFlags & { json?: boolean }) => {
      await withHome(flags, async (home) => {
        const list = await home.listKeys(await actorOf(home, flags));
        print(flags.json === true, list, list.map((k) => `${k.id}\t${k.status}${k.primary ? ' (primary)' : ''}\t${k.objects} objects\t${k.created}`).join('\n'));
      });
      setExit(EXIT.ok);
    });
  homeOptions(keys.command('rotate'))
    .description('add a new primary KEK and re-wrap every data key under it (headers only, no data re-encrypted); logged')
    .action(async (flags: HomeFlags) => {
      await withHome(flags, async (home) => {
        const r = await home.rotateKeys(await actorOf(home, flags));
        process.stdout.write(`${JSON.stringify(r)}\n`);
        if (r.failures.length > 0) throw new CliError('CLI_USAGE', `${r.failures.length} objects could not be re-wrapped`, { hint: 'see "failures" above; fix or restore those objects and run rotate again' });
      });
      setExit(EXIT.ok);
    });
  homeOptions(keys.command('retire <kekId>'))
    .description('retire an old KEK once no object uses it; logged')
    .action(async (kekId: string, flags: HomeFlags) => {
      await withHome(flags, async (home) => {
        const r = await home.retireKey(await actorOf(home, flags), kekId);
        process.stdout.write(`${JSON.stringify({ retired: kekId, logIndex: r.logIndex })}\n`);
      });
      setExit(EXIT.ok);
    });

  const vault = program.command('vault').description('the encrypted, content-addressed blob store');
  homeOptions(vault.command('put <file>'))
    .description('encrypt a file into the vault for a dataset (needs batch:push); prints its SHA-256 and log index')
    .requiredOption('--dataset <id>', 'the dataset it belongs to (bound into the encryption)')
    .action(async (file: string, flags: HomeFlags & { dataset: string }) => {
      await withHome(flags, async (home) => {
        const r = await home.putFile(await actorOf(home, flags), file, flags.dataset);
        process.stdout.write(`${JSON.stringify(r)}\n`);
      });
      setExit(EXIT.ok);
    });
  homeOptions(vault.command('get <sha256>'))
    .description('decrypt an object to a file (needs sample:read on its dataset); nothing is left behind unless it verifies')
    .requiredOption('-o, --out <file>', 'where to write the plaintext')
    .action(async (sha256: string, flags: HomeFlags & { out: string }) => {
      await withHome(flags, async (home) => {
        const info = await home.getFile(await actorOf(home, flags), sha256, flags.out);
        process.stderr.write(`wrote ${flags.out}: ${info.size} bytes, sha256 verified\n`);
      });
      setExit(EXIT.ok);
    });
}
