import { claimServer, validateClaimToken, type ClaimSource, type ClaimStep } from '../core/plex/claim.js';
import { signInWithPlex } from '../core/plex/sign-in.js';
import { PlexTvClient, plexTvUrl } from '../core/plex/plex-tv.js';
import { readTokenLine } from './claim-source.js';
import { openInBrowser } from './open-url.js';
import type { Output } from './output.js';
import { ONE_SHOT_HELP, parseOneShot, withPms } from './one-shot.js';
import { isInteractive, SSH_OPTIONS_HELP } from './ssh-options.js';
import { invokedAs } from './invocation.js';

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
