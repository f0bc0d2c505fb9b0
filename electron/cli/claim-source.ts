import readline from 'node:readline';
import { badInput } from '../core/common/errors.js';
import { validateClaimToken, type ClaimSource } from '../core/plex/claim.js';
import type { PlexTvClient } from '../core/plex/plex-tv.js';
import { signInWithPlex } from '../core/plex/sign-in.js';
import { openInBrowser } from './open-url.js';
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
}

export async function claimSource(options: ClaimSourceOptions): Promise<{ source: ClaimSource; account?: string }> {
  const { tokenOption, output } = options;
  if (tokenOption !== undefined) {
    if (tokenOption === '-' && process.stdin.isTTY) process.stderr.write('Paste the claim token from https://www.plex.tv/claim and press Enter: ');
    return { source: { kind: 'token', claimToken: options.tokenFromArgs ?? validateClaimToken(await readStdinLine()) } };
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

export async function readStdinLine(): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw badInput('--token - was given, but nothing came on standard input.', 'Pipe the claim token in, for example: pbpaste | reclaim claim myserver --token -');
}
