import { claimServer, validateClaimToken, type ClaimSource, type ClaimStep } from '../core/plex/claim.js';
import { badInput } from '../core/common/errors.js';
import { signInWithPlex } from '../core/plex/sign-in.js';
import { PlexTvClient, plexTvUrl } from '../core/plex/plex-tv.js';
import { openInBrowser } from './open-url.js';
import type { Output } from './output.js';
import { ONE_SHOT_HELP, parseOneShot, withPms } from './one-shot.js';
import { isInteractive, SSH_OPTIONS_HELP } from './ssh-options.js';
import { invokedAs } from './invocation.js';
import type { CommandLine } from './command-line.js';
import { commandToRun } from './next-steps.js';

const claimHelp = (): string => `Usage: ${invokedAs()} claim <[user@]host[:port] | ssh-config alias | PuTTY session> [--token claim-… | --token -] [options]

Claims an unclaimed Plex Media Server for your Plex account, through an SSH tunnel so that Plex
sees the request as local. Without --token, you sign in with Plex in your browser and Reclaim
fetches a claim token right before using it. With --token, it uses a token from
https://www.plex.tv/claim (they expire after about 4 minutes); "--token -" reads it from stdin,
which keeps it out of the process list.
${ONE_SHOT_HELP}
${SSH_OPTIONS_HELP}`;

const STEP_TEXT: Record<ClaimStep, string> = {
  checking: 'Checking the server...',
  'waiting-for-plex': 'Plex Media Server is still starting up; waiting...',
  'fetching-claim-token': 'Fetching a claim token from plex.tv...',
  claiming: 'Claiming the server...',
  retrying: 'The claim token was refused; retrying once with a fresh one...',
  verifying: 'Checking that the server is now claimed...',
};

export async function runClaim(args: string[], output: Output): Promise<number> {
  const shot = await parseOneShot('claim', args, output, { token: { type: 'string', example: '-' } });
  if (shot === 'help') {
    output.say(claimHelp(), 'stdout');
    return 0;
  }
  const tokenOption = shot.values.token as string | undefined;
  // A token on the command line is checked before connecting; one from stdin is read only once
  // the server turns out to need it, so logging in does not eat into its 4-minute life.
  const tokenFromArgs = tokenOption === undefined || tokenOption === '-' ? undefined : validateClaimToken(tokenOption);
  const plexTv = new PlexTvClient(plexTvUrl(), shot.headers);
  const cancel = new AbortController();
  let signingIn = false;
  // While waiting for the person to approve the sign-in, Ctrl+C cancels it with a message; at any
  // other moment nothing is half-done that the OS will not clean up, so it stops at once.
  const onSignal = () => {
    if (signingIn) cancel.abort();
    else process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const result = await withPms(shot, async (pms) => {
      // Nothing is asked of the person for a server that needs nothing.
      const identity = await pms.identity();
      if (identity.claimed) return { outcome: 'already-claimed' as const, identity };
      let source: ClaimSource;
      if (tokenOption !== undefined) {
        if (tokenOption === '-' && process.stdin.isTTY) process.stderr.write('Paste the claim token from https://www.plex.tv/claim and press Enter: ');
        source = { kind: 'token', claimToken: tokenFromArgs ?? validateClaimToken(await readTokenLine(shot.line)) };
      } else {
        signingIn = true;
        const signedIn = await signInWithPlex(plexTv, {
          signal: cancel.signal,
          onUrl: (url) => {
            output.event({ event: 'signin', url });
            const opened = isInteractive(shot.values) && openInBrowser(url);
            output.say(`${opened ? 'Opening your browser to sign in to Plex. If it does not open, go to' : 'Sign in to Plex and approve Reclaim at'}:\n  ${url}\nWaiting for your approval (Ctrl+C to cancel)...`);
          },
        });
        signingIn = false;
        output.say(`Signed in to Plex${signedIn.username ? ` as ${signedIn.username}` : ''}.`);
        source = { kind: 'account', userToken: signedIn.token, plexTv };
      }
      return claimServer({
        pms,
        source,
        onStep: (step) => {
          output.event({ event: 'step', step });
          output.say(STEP_TEXT[step]);
        },
      });
    });
    if (result.outcome === 'already-claimed') {
      output.event({ event: 'already-claimed', machineIdentifier: result.identity.machineIdentifier });
      output.say('This server is already claimed; nothing was changed.', 'stdout');
      return 0;
    }
    output.event({ event: 'claimed', machineIdentifier: result.identity.machineIdentifier, username: result.username ?? null });
    output.say(`Done: the server is now claimed${result.username ? ` by ${result.username}` : ''}. Plex apps signed in to that account will see it again.`, 'stdout');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    await plexTv.close();
  }
}

const pipeTokenIn = (line: CommandLine): string => commandToRun(`pbpaste | ${line.command('claim', { extra: ['--token', '-'] })}`);

/** Far more than a claim token (about 26 characters) with any whitespace a paste brings along. */
const MAX_TOKEN_LINE_BYTES = 4096;

/** The first line of standard input, read no further than MAX_TOKEN_LINE_BYTES (stdin may be endless: </dev/zero). */
function readTokenLine(line: CommandLine): Promise<string> {
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
