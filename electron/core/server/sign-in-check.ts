import type { PlexTvClient } from '../plex/plex-tv.js';
import type { SignInReport } from './inspect-report.js';
import type { PreferencesSummary } from './preferences.js';

// Does plex.tv still accept the server's own sign-in? Asked from this computer with the server's
// PlexOnlineToken (plex-claim.md §2.3): 401 means no, 200 yes, anything else is no verdict.

export type TokenChecker = Pick<PlexTvClient, 'checkToken'>;

export async function checkServerSignIn(preferences: PreferencesSummary | undefined, plexTv: TokenChecker): Promise<SignInReport> {
  if (!preferences) {
    return { token: 'missing', accepted: null, detail: 'Not checked: the server\'s Preferences could not be read.' };
  }
  const username = preferences.username;
  if (!preferences.token) {
    return {
      token: 'missing',
      username,
      accepted: null,
      detail: preferences.tokenEmpty
        ? 'The server holds an empty sign-in (PlexOnlineToken=""): it is signed out, yet some images (LinuxServer) treat it as claimed and skip PLEX_CLAIM.'
        : 'The server is not signed in to any Plex account (no PlexOnlineToken): it is unclaimed.',
      fix: 'Claim it: reclaim claim <server>, or Claim this server in the app.',
    };
  }
  const { check } = await plexTv.checkToken(preferences.token.reveal());
  if (check === 'valid') {
    return { token: 'set', username, accepted: true, detail: 'plex.tv accepts this server\'s sign-in.' };
  }
  if (check === 'invalid') {
    return {
      token: 'set',
      username,
      accepted: false,
      detail: 'plex.tv no longer accepts this server\'s sign-in; this happens after a password reset that signed out all devices, or when the server was removed from its account.',
      fix: 'Repair the server\'s sign-in: press Repair in the app, or run reclaim repair <server>. It backs up the Preferences, removes the dead sign-in and claims the server for your account (undo puts the backup back).',
    };
  }
  return {
    token: 'set',
    username,
    accepted: null,
    detail: 'Could not check the server\'s sign-in with plex.tv from this computer (no clear answer): this is not a verdict either way.',
    fix: 'Check this computer\'s internet connection and try again.',
  };
}
