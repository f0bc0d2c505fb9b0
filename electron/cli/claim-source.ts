import { badInput } from '../core/common/errors.js';
import { validateClaimToken, type ClaimSource } from '../core/plex/claim.js';
import type { PlexTvClient } from '../core/plex/plex-tv.js';
import { signInWithPlex } from '../core/plex/sign-in.js';
import { openInBrowser } from './open-url.js';
import type { CommandLine } from './command-line.js';
import { commandToRun } from './next-steps.js';
import type { Output } from './output.js';

// Where a claim comes from on the command line: the person signs in with Plex in their browser
// (the PIN flow), or gives a claim token from plex.tv/claim (on stdin with "--token -", which keeps
// it out of the process list).

export interface ClaimSourceOptions {
  /** --token as given: undefined (sign in), "-" (read stdin) or the token itself. */
  tokenOption: string | undefined;
  /** The token from the command line, already checked. */
  tokenFromArgs: string | undefined;
  plexTv: PlexTvClient;
  signal: AbortSignal;
  output: Output;
  interactive: boolean;
  /** The command as the person gave it, for a fix that shows how to pipe the token in. */
  line: CommandLine;
}

export async function claimSource(options: ClaimSourceOptions): Promise<{ source: ClaimSource; account?: string }> {
  const { tokenOption, output } = options;
  if (tokenOption !== undefined) {
    if (tokenOption === '-' && process.stdin.isTTY) process.stderr.write('Paste the claim token from https://www.plex.tv/claim and press Enter: ');
    return { source: { kind: 'token', claimToken: options.tokenFromArgs ?? validateClaimToken(await readTokenLine(options.line)) } };
  }
  const signedIn = await signInWithPlex(options.plexTv, {
    signal: options.signal,
    onUrl: (url) => {
      output.event({ event: 'signin', url });
      const opened = options.interactive && openInBrowser(url);
      output.say(`${opened ? 'Opening your browser to sign in to Plex. If it does not open, go to' : 'Sign in to Plex and approve Reclaim at'}:\n  ${url}\nWaiting for your approval (Ctrl+C to cancel)...`);
    },
  });
  output.say(`Signed in to Plex${signedIn.username ? ` as ${signedIn.username}` : ''}.`);
  return { source: { kind: 'account', userToken: signedIn.token, plexTv: options.plexTv }, account: signedIn.username };
}

const pipeTokenIn = (line: CommandLine): string => commandToRun(`pbpaste | ${line.command('claim', { extra: ['--token', '-'] })}`);

/** Far more than a claim token (about 26 characters) with any whitespace a paste brings along. */
const MAX_TOKEN_LINE_BYTES = 4096;

/** The first line of standard input, read no further than MAX_TOKEN_LINE_BYTES (stdin may be endless: </dev/zero). */
export function readTokenLine(line: CommandLine): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: unknown, text?: string) => {
      stdin.off('data', onData).off('end', onEnd).off('error', onError);
      stdin.pause();
      // A terminal stays for later questions; a pipe or a file is done with.
      if (!stdin.isTTY) stdin.destroy();
      if (error) reject(error);
      else resolve(text!);
    };
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      const part = newline >= 0 ? chunk.subarray(0, newline) : chunk;
      chunks.push(part);
      size += part.length;
      if (size > MAX_TOKEN_LINE_BYTES) {
        finish(badInput(
          `--token - read more than ${MAX_TOKEN_LINE_BYTES / 1024} KiB from standard input without a line break: that is not a claim token (they look like claim-xxxxxxxxxxxxxxxxxxxx).`,
          `Give just the token, on one line, for example:${pipeTokenIn(line)}`,
        ));
      } else if (newline >= 0) {
        finish(undefined, Buffer.concat(chunks).toString('utf8'));
      }
    };
    const onEnd = () => size > 0
      ? finish(undefined, Buffer.concat(chunks).toString('utf8'))
      : finish(badInput(
        '--token - was given, but nothing came on standard input.',
        `Pipe the claim token in, for example:${pipeTokenIn(line)}`,
      ));
    const onError = (error: Error) => finish(badInput(
      `--token - could not read standard input (${error.message}).`,
      `Pipe the claim token in, for example:${pipeTokenIn(line)}`,
    ));
    stdin.on('data', onData).on('end', onEnd).on('error', onError);
    stdin.resume();
  });
}
