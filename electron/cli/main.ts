#!/usr/bin/env node
import { reclaimLogFile } from '../core/common/app-paths.js';
import { asReclaimError, ReclaimError } from '../core/common/errors.js';
import { quoteInput } from '../core/common/quote-input.js';
import { log, openLog } from '../core/common/log.js';
import { invokedAs } from './invocation.js';
import { createOutput, exitCodeFor } from './output.js';
import type { Output } from './output.js';

// `reclaim <command>`: a thin shell over electron/core. It parses arguments, prints events and
// maps errors to exit codes; everything else happens in the core, shared with the desktop app.
// Every run writes to Reclaim's log (--verbose echoes it on stderr).

const usage = (): string => `Usage: ${invokedAs()} <command> [options]

Commands:
  tunnel <server>     forward 127.0.0.1:8888 to Plex (127.0.0.1:32400) on the server over SSH
  status <server>     tell whether the server's Plex Media Server is claimed
  claim <server>      claim it for your Plex account (sign in with Plex, or --token from plex.tv/claim)
  diagnose <server>   check why Plex says "Not authorized", with a fix for each problem
  inspect <server>    read the server's Plex install: where it lives, its sign-in, what its log says
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
  inspect: async () => (await import('./inspect-command.js')).runInspect,
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
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) {
      throw new ReclaimError('BAD_INPUT', `${quoteInput(name)} is not a reclaim command.`, usage().replace(/^Usage: /, 'Use: '));
    }
    log.info(`reclaim ${name}: started`);
    const code = await (await command())(args, output);
    log.info(`reclaim ${name}: done (exit status ${code})`);
    return code;
  } catch (error) {
    const reclaimError = asReclaimError(error);
    if (command) log.error(`reclaim ${name}: failed (exit status ${exitCodeFor(reclaimError)})`, reclaimError);
    output.error(reclaimError);
    return exitCodeFor(reclaimError);
  }
}

const PARENT_CHECK_MS = 1000;

/**
 * `npm run reclaim` starts Reclaim under a shell that npm kills on SIGTERM without passing the
 * signal on: Reclaim would go on running, its tunnel open, with nobody left to stop it. A new
 * parent is the sign of that, and it then stops as if it had been sent the SIGTERM itself.
 */
function stopWithNpm(): void {
  if (process.env.npm_lifecycle_event !== 'reclaim') return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    log.info('reclaim: npm, which started it, has gone; stopping');
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_CHECK_MS);
  watch.unref();
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

stopWithNpm();
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
