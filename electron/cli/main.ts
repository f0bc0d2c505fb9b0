#!/usr/bin/env node
import { reclaimLogFile } from '../core/common/app-paths.js';
import { asReclaimError, ReclaimError } from '../core/common/errors.js';
import { log, openLog } from '../core/common/log.js';
import { invokedAs } from './invocation.js';
import { createOutput, exitCodeFor } from './output.js';
import type { Output } from './output.js';

// `reclaim <command>`: a thin shell over electron/core. It parses arguments, prints events and
// maps errors to exit codes; everything else happens in the core, shared with the desktop app.
// Every run writes to Reclaim's log (--verbose echoes it on stderr).

const USAGE = `Usage: reclaim <command> [options]

Commands:
  tunnel <server>     forward 127.0.0.1:8888 to Plex (127.0.0.1:32400) on the server over SSH
  status <server>     tell whether the server's Plex Media Server is claimed
  claim <server>      claim it for your Plex account (sign in with Plex, or --token from plex.tv/claim)
  diagnose <server>   check why Plex says "Not authorized", with a fix for each problem
  repair <server>     repair the server's Plex sign-in over SSH (backup first; --undo puts it back)

Run "${invokedAs()} <command> --help" for the options of a command.`;

type Command = (args: string[], output: Output) => Promise<number>;

// Each command loads only its own modules: a long-running `tunnel` then carries no HTTP client
// or Plex code in its heap, which measurably cuts garbage-collection work on bulk transfers.
const COMMANDS: Record<string, () => Promise<Command>> = {
  tunnel: async () => (await import('./tunnel-command.js')).runTunnel,
  status: async () => (await import('./status-command.js')).runStatus,
  claim: async () => (await import('./claim-command.js')).runClaim,
  diagnose: async () => (await import('./diagnose-command.js')).runDiagnose,
  repair: async () => (await import('./repair-command.js')).runRepair,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const json = args.includes('--json');
  const output = createOutput(json);
  openLog({
    file: reclaimLogFile(),
    source: 'cli',
    echo: args.includes('--verbose') ? (line) => process.stderr.write(`${line}\n`) : undefined,
    onWriteFailure: (error) => {
      output.event({ event: 'warning', code: error.code, message: error.message, fix: error.fix });
      output.say(`Warning: ${error.message}\nFix: ${error.fix}`);
    },
  });
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) {
      throw new ReclaimError('BAD_INPUT', `"${name}" is not a reclaim command.`, USAGE.replace(/^Usage: /, 'Use: '));
    }
    log.info(`reclaim ${name}: started`);
    const code = await (await command())(args, output);
    log.info(`reclaim ${name}: done (exit status ${code})`);
    return code;
  } catch (error) {
    const reclaimError = asInputError(error) ?? asReclaimError(error);
    if (command) log.error(`reclaim ${name}: failed (exit status ${exitCodeFor(reclaimError)})`, reclaimError);
    output.error(reclaimError);
    return exitCodeFor(reclaimError);
  }
}

/** node:util parseArgs errors (unknown option, missing value) are the person's to fix. */
function asInputError(error: unknown): ReclaimError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return undefined;
  return new ReclaimError('BAD_INPUT', (error as Error).message, 'See "reclaim <command> --help" for the options.');
}

// Last resort: whatever slipped past the handlers above is still said in words (or as a JSON
// error line with --json), never as a stack.
const lastResort = (error: unknown) => {
  log.error('reclaim: stopped by an error nothing else caught', error);
  createOutput(process.argv.includes('--json')).error(asReclaimError(error));
  process.exit(1);
};
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);
// A reader that goes away (reclaim ... | head) is not an error worth a message.
process.stdout.on('error', () => process.exit(process.exitCode ?? 0));

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
