import { ReclaimError, isReclaimError } from '../common/errors.js';
import type { Pin, PlexTvClient } from './plex-tv.js';

// "Sign in with Plex" for an app: create a PIN, let the person approve it at app.plex.tv, poll
// about once a second until it is approved, expires or the person cancels. The token that comes
// back stays in the caller's memory.

export interface SignInOptions {
  /** Called once with the page to open; the caller opens it (browser, child window) or shows it. */
  onUrl(url: string): void;
  signal?: AbortSignal;
  pollIntervalMs?: number;
  /** A strong PIN lives 15 minutes; stop waiting a little after that even if plex.tv says nothing. */
  maxWaitMs?: number;
}

export interface SignedIn {
  token: string;
  username?: string;
}

const POLL_INTERVAL_MS = 1000;
const MAX_WAIT_MS = 16 * 60_000;
/** Passing network blips and plex.tv hiccups while waiting are tolerated; this many in a row are not. */
const MAX_FAILED_POLLS = 5;

export async function signInWithPlex(plexTv: PlexTvClient, options: SignInOptions): Promise<SignedIn> {
  const pin: Pin = await plexTv.createPin();
  options.onUrl(plexTv.authUrl(pin));
  const interval = options.pollIntervalMs ?? POLL_INTERVAL_MS;
  const deadline = Date.now() + (options.maxWaitMs ?? MAX_WAIT_MS);
  let failedPolls = 0;
  while (Date.now() < deadline) {
    await pause(interval, options.signal);
    let result: string | null | 'expired';
    try {
      result = await plexTv.checkPin(pin);
      failedPolls = 0;
    } catch (error) {
      const passing = isReclaimError(error) && (error.code === 'PLEX_TV_UNREACHABLE' || error.code === 'PLEX_TV_ERROR');
      if (!passing || ++failedPolls >= MAX_FAILED_POLLS) throw error;
      continue;
    }
    if (result === 'expired') break;
    if (result !== null) {
      const user = await plexTv.checkToken(result);
      if (user.check === 'invalid') {
        throw new ReclaimError('PLEX_TOKEN_INVALID', 'plex.tv approved the sign-in but then refused its token.', 'Sign in again.');
      }
      return { token: result, username: user.username };
    }
  }
  throw new ReclaimError(
    'SIGNIN_EXPIRED',
    'The Plex sign-in was not approved in time (the sign-in code expired).',
    'Start the sign-in again and approve it in the page that opens within 15 minutes.',
  );
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => reject(new ReclaimError('CANCELLED', 'The Plex sign-in was cancelled.', 'Start it again when you are ready.'));
    if (signal?.aborted) return cancelled();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      cancelled();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
