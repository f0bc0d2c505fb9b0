import { useEffect } from 'react';
import type { ClaimStep, Connection } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { reported } from '../failures.js';
import { CLAIM_STEP_TEXT } from '../text.js';
import { ErrorBox } from './ErrorBox.js';
import { useClaimRun } from './use-claim-run.js';

export function ClaimTrail(props: { steps: ClaimStep[]; running: boolean }) {
  return (
    <ol className="steps compact" aria-label="Claim progress">
      {props.steps.map((step, index) => {
        const current = props.running && index === props.steps.length - 1;
        return (
          <li key={`${step}-${index}`} className={`step ${current ? 'step-current' : 'step-done'}`}>
            <span className="step-mark" aria-hidden="true">{current ? '…' : '✓'}</span>
            {CLAIM_STEP_TEXT[step]}
          </li>
        );
      })}
    </ol>
  );
}

export function ClaimPanel(props: { profileId: string; events: EventTarget; connection: Connection; onClaimed(connection: Connection): void; onClose(): void }) {
  const { steps, running, error, done, signInUrl, run } = useClaimRun(props);
  const start = (where: 'window' | 'browser') => run(() => reclaim.claimWithPlex(props.profileId, where));
  // Closing the panel (or leaving the server) ends a sign-in still waiting, rather than leaving
  // it polling out of sight with nothing left to cancel it.
  const { profileId } = props;
  useEffect(() => () => void reported(reclaim.cancelSignIn(profileId)), [profileId]);

  return (
    <aside className="side-panel" aria-labelledby="claim-title">
      <h3 id="claim-title">Claim this server</h3>
      <p>Sign in with the Plex account that should own this server. Reclaim then fetches a claim token and claims the server through the tunnel.</p>
      {!running && !done && (
        <>
          <div className="button-row">
            {reclaim.shell.sandboxed && <button type="button" className="primary" onClick={() => void start('window')}>Sign in with Plex</button>}
            <button type="button" className={reclaim.shell.sandboxed ? undefined : 'primary'} onClick={() => void start('browser')}>Sign in in my browser</button>
          </div>
          <p className="small-print">Your Plex account uses Google? Google does not allow signing in inside apps: choose “Sign in in my browser”.</p>
        </>
      )}
      {running && steps.at(-1) === 'signing-in' && (
        <div className="notice">
          <p>Sign in and approve Reclaim in the Plex page that opened. Waiting for your approval…</p>
          {signInUrl && <p className="small-print">If no page opened, go to: <code className="wrap">{signInUrl}</code></p>}
          <button type="button" onClick={() => void reported(reclaim.cancelSignIn(props.profileId))}>Cancel sign-in</button>
        </div>
      )}
      {steps.length > 0 && <ClaimTrail steps={steps} running={running} />}
      {done && <p className="success" role="status">{done}</p>}
      {error && <ErrorBox error={error} title="The claim did not go through" />}
      <p className="small-print">You can also use Plex Web's own “Claim server” button in the view on the left: it works here as it does on the server itself.</p>
      <div className="button-row">
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </aside>
  );
}
