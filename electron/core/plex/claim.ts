import { badInput, ReclaimError, isReclaimError } from '../common/errors.js';
import type { PlexTvClient } from './plex-tv.js';
import type { PmsClient, PmsIdentity } from './pms.js';

// Claiming a server through the tunnel (plex-claim.md §7): read /identity and stop if it is
// already claimed; otherwise fetch a claim token right before use (they live ~4 minutes), POST
// it to /myplex/claim from the server's own loopback, retry once with a fresh token on 401, and
// believe it only when /identity says claimed.

export type ClaimSource =
  | { kind: 'account'; userToken: string; plexTv: Pick<PlexTvClient, 'claimToken'> }
  | { kind: 'token'; claimToken: string };

export type ClaimStep = 'checking' | 'waiting-for-plex' | 'fetching-claim-token' | 'claiming' | 'retrying' | 'verifying';

export type ClaimResult =
  | { outcome: 'already-claimed'; identity: PmsIdentity }
  | { outcome: 'claimed'; identity: PmsIdentity; username?: string; signInState?: string };

export interface ClaimOptions {
  pms: PmsClient;
  source: ClaimSource;
  onStep?: (step: ClaimStep) => void;
  /** How long to wait for a server that says it is still starting up. */
  startupWaitMs?: number;
  retryDelayMs?: number;
}

const CLAIM_TOKEN = /^claim-[A-Za-z0-9_-]{4,128}$/;

export function validateClaimToken(text: string): string {
  const token = text.trim();
  if (!CLAIM_TOKEN.test(token)) {
    throw badInput(
      'That is not a claim token (they look like claim-xxxxxxxxxxxxxxxxxxxx).',
      'Copy the whole token from https://www.plex.tv/claim while signed in as the server\'s owner, and use it within 4 minutes.',
    );
  }
  return token;
}

export async function claimServer(options: ClaimOptions): Promise<ClaimResult> {
  const { pms, source } = options;
  const step = options.onStep ?? (() => {});
  if (source.kind === 'token') validateClaimToken(source.claimToken);
  step('checking');
  const before = await identityWhenStarted(options);
  if (before.claimed) return { outcome: 'already-claimed', identity: before };

  const userToken = source.kind === 'account' ? source.userToken : undefined;
  const freshToken = async () => {
    if (source.kind === 'token') return source.claimToken.trim();
    step('fetching-claim-token');
    return source.plexTv.claimToken(source.userToken);
  };
  const claimWith = async (token: string) => {
    step('claiming');
    return pms.claim(token, userToken);
  };
  let claimed: { username?: string };
  try {
    claimed = await claimWith(await freshToken());
  } catch (error) {
    // A token can expire between fetch and use on a slow link; one fresh token is worth a try.
    if (!isReclaimError(error) || error.code !== 'CLAIM_TOKEN_INVALID' || source.kind !== 'account') throw error;
    step('retrying');
    claimed = await claimWith(await freshToken());
  }

  step('verifying');
  const after = await identityWhenStarted(options);
  if (!after.claimed) {
    throw new ReclaimError(
      'CLAIM_NOT_VERIFIED',
      'Plex Media Server accepted the claim, but still reports itself as unclaimed.',
      'Restart Plex Media Server on the server, then check again (Refresh in the app, "reclaim status" on the command line); if it stays unclaimed, run Diagnose.',
      { machineIdentifier: after.machineIdentifier },
    );
  }
  let username = claimed.username;
  let signInState: string | undefined;
  if (userToken) {
    const account = await pms.account(userToken).catch(() => 'needs-token' as const);
    if (account !== 'needs-token') {
      username = account.username ?? username;
      signInState = account.signInState;
    }
  }
  return { outcome: 'claimed', identity: after, username, signInState };
}

async function identityWhenStarted(options: ClaimOptions): Promise<PmsIdentity> {
  const deadline = Date.now() + (options.startupWaitMs ?? 60_000);
  for (let waited = false; ; waited = true) {
    try {
      return await options.pms.identity();
    } catch (error) {
      if (!isReclaimError(error) || error.code !== 'PMS_STARTING' || Date.now() >= deadline) throw error;
      if (!waited) options.onStep?.('waiting-for-plex');
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 2000));
    }
  }
}
