import type { ClaimOutcome, ClaimStep, ReclaimEvent, ServerStatus } from '../../shared/ipc-contract.js';
import { badInput } from '../common/errors.js';
import { DisposableStore, toDisposable, type Disposable } from '../common/lifecycle.js';
import { claimServer, validateClaimToken, type ClaimResult } from '../plex/claim.js';
import { PlexTvClient } from '../plex/plex-tv.js';
import { signInWithPlex } from '../plex/sign-in.js';
import { freshStatus, type ConnectedSession, type Sessions } from './sessions.js';

// Claiming a connected server, from the window: with a Plex sign-in (in a child window or the
// person's browser) or with a claim token they pasted. What a claim opens (the sign-in window,
// the plex.tv client) is held by the server's session, so a Disconnect while the person is
// still signing in closes it all.

export interface ClaimFlowOptions {
  sessions: Sessions;
  emit(event: ReclaimEvent): void;
  /** Shows the plex.tv sign-in page in a child window; returns how to close it. */
  openSignInWindow(url: string, onClosedByPerson: () => void): () => void;
  openExternal(url: string): Promise<void>;
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
}

export class ClaimFlow {
  constructor(private readonly options: ClaimFlowOptions) {}

  async withPlex(id: string, signInWhere: 'window' | 'browser'): Promise<ClaimOutcome> {
    const session = this.options.sessions.connected(id);
    if (session.signIn) throw badInput('A Plex sign-in is already waiting for this server.', 'Finish it in the sign-in window, or cancel it first.');
    const step = (claimStep: ClaimStep) => this.options.emit({ type: 'claim-step', profileId: id, step: claimStep });
    step('checking');
    const before = await freshStatus(session);
    if (before.claimed) return { outcome: 'already-claimed', status: before };

    const claim = session.resources.add(new DisposableStore());
    const cancel = new AbortController();
    claim.add(toDisposable(() => cancel.abort()));
    session.signIn = cancel;
    const plexTv = new PlexTvClient(this.options.plexTvUrl, this.options.plexHeaders);
    claim.add(toDisposable(() => plexTv.close()));
    let signInWindow: Disposable | undefined;
    try {
      step('signing-in');
      const signedIn = await signInWithPlex(plexTv, {
        signal: cancel.signal,
        onUrl: (url) => {
          this.options.emit({ type: 'signin-url', profileId: id, url });
          // Closing the sign-in window is how a person says "not now".
          if (signInWhere === 'window') signInWindow = claim.add(toDisposable(this.options.openSignInWindow(url, () => cancel.abort())));
          // The page shows the address too, for when no browser opens.
          else this.options.openExternal(url).catch(() => {});
        },
      });
      if (signInWindow) await claim.delete(signInWindow);
      // The account token lives only in this call: used for one claim token and then dropped.
      const result = await claimServer({
        pms: session.pms,
        source: { kind: 'account', userToken: signedIn.token, plexTv },
        // 'checking' was shown already, before the sign-in.
        onStep: (claimStep) => {
          if (claimStep !== 'checking') step(claimStep);
        },
      });
      return await this.outcome(session, result);
    } finally {
      if (session.signIn === cancel) session.signIn = undefined;
      await session.resources.delete(claim);
    }
  }

  cancelSignIn(id: string): void {
    this.options.sessions.get(id)?.signIn?.abort();
  }

  async withToken(id: string, claimToken: string): Promise<ClaimOutcome> {
    const token = validateClaimToken(claimToken);
    const session = this.options.sessions.connected(id);
    const result = await claimServer({
      pms: session.pms,
      source: { kind: 'token', claimToken: token },
      onStep: (step) => this.options.emit({ type: 'claim-step', profileId: id, step }),
    });
    return this.outcome(session, result);
  }

  private async outcome(session: ConnectedSession, result: ClaimResult): Promise<ClaimOutcome> {
    const status: ServerStatus = await freshStatus(session).catch(() => ({
      version: result.identity.version,
      claimed: result.identity.claimed,
      machineIdentifier: result.identity.machineIdentifier,
    }));
    session.connection = { ...session.connection, status, statusError: undefined };
    if (result.outcome === 'already-claimed') return { outcome: 'already-claimed', status };
    return { outcome: 'claimed', status: { ...status, account: status.account ?? result.username }, account: result.username };
  }
}
