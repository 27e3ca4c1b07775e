import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../app/index.ts';
import { EXIT, reportError } from './exit.ts';
import { registerScan } from './scan.ts';
import { registerDemo } from './demo.ts';
import { registerRedteam } from './redteam.ts';
import { registerBaseline } from './baseline.ts';
import { registerLedger, registerSnapshot } from './ledger.ts';
import { registerAccess, registerVault } from './access.ts';
import { registerServe } from './serve.ts';
import { registerRemote } from './remote.ts';

/** The `trainguard` command line: parse, run one use case, render, set the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = new Command()
    .name('trainguard')
    .description('Find poisoned and mislabeled samples in training data, with evidence.')
    .version(TOOL_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerScan(program, setExit);
  registerDemo(program, setExit);
  registerRedteam(program, setExit);
  registerBaseline(program, setExit);
  registerLedger(program, setExit);
  registerSnapshot(program, setExit);
  registerAccess(program, setExit);
  registerVault(program, setExit);
  registerServe(program);
  registerRemote(program, setExit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; anything else commander refuses is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    return reportError(err);
  }
  return exitCode;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli/main.ts')) {
  process.exitCode = await main(process.argv.slice(2));
}
