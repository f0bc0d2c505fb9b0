import type ssh2 from 'ssh2';
import { ReclaimError } from '../common/errors.js';
import { RemoteTimeoutError, runRemote, shellQuote, type RemoteResult, type RunOptions } from '../ssh/remote-exec.js';

// The one way the server module runs anything on the server: a command line in, its output out.
// Over SSH for real; tests hand in a local shell over a recorded tree of a platform's files.

export type ServerShell = (command: string, options?: RunOptions) => Promise<RemoteResult>;

export function sshShell(client: ssh2.Client): ServerShell {
  return (command, options) => runRemote(client, command, options);
}

/**
 * A POSIX script as one command line. The account's login shell only sees `sh -c '…'`, so the
 * script runs the same under bash, zsh, ash or dash (a csh or fish login shell is not supported).
 */
export function posixCommand(script: string): string {
  return `sh -c ${shellQuote(script)}`;
}

/** A failure to run a command at all, in words, with what to do. */
export function commandFailed(what: string, error: unknown): ReclaimError {
  if (error instanceof ReclaimError) return error;
  if (error instanceof RemoteTimeoutError) {
    return new ReclaimError(
      'SERVER_COMMAND_FAILED',
      `Reclaim's command to ${what} did not finish on the server within ${Math.round(error.timeoutMs / 1000)} s.`,
      'The server may be very busy or a disk may be hanging. Try again; if it keeps happening, check the server (for example with "top" and "dmesg").',
      { timeoutMs: error.timeoutMs },
      { cause: error },
    );
  }
  return new ReclaimError(
    'SERVER_COMMAND_FAILED',
    `Reclaim could not run its command to ${what} on the server (${(error as Error)?.message ?? String(error)}).`,
    'Check that your SSH account may run commands (a shell, not only forwarding), then try again.',
    {},
    { cause: error },
  );
}
