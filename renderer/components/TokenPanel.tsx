import { useState, type FormEvent } from 'react';
import type { Connection } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';
import { ClaimTrail } from './ClaimPanel.js';
import { ErrorBox } from './ErrorBox.js';
import { useClaimRun } from './use-claim-run.js';

export function TokenPanel(props: { profileId: string; events: EventTarget; connection: Connection; onClaimed(connection: Connection): void; onClose(): void }) {
  const [token, setToken] = useState('');
  const { steps, running, error, done, run } = useClaimRun(props);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await run(() => reclaim.claimWithToken(props.profileId, token))) setToken('');
  };

  return (
    <aside className="side-panel" aria-labelledby="token-title">
      <h3 id="token-title">Use a claim token</h3>
      <form onSubmit={(event) => void submit(event)}>
        <ol className="plain-steps">
          <li>Sign in at <code>https://www.plex.tv/claim</code> in any browser, as the account that should own this server.</li>
          <li>Copy the token it shows (it starts with <code>claim-</code> and works for 4 minutes).</li>
          <li>Paste it here.</li>
        </ol>
        <label htmlFor="claim-token">Claim token</label>
        <input id="claim-token" value={token} autoComplete="off" spellCheck={false} placeholder="claim-xxxxxxxxxxxxxxxxxxxx"
          onChange={(event) => setToken(event.target.value)} />
        <div className="button-row">
          <button type="submit" className="primary" disabled={running || token.trim() === ''}>Claim with this token</button>
          <button type="button" onClick={props.onClose}>Close</button>
        </div>
      </form>
      {steps.length > 0 && <ClaimTrail steps={steps} running={running} />}
      {done && <p className="success" role="status">{done}</p>}
      {error && <ErrorBox error={error} title="The claim did not go through" />}
    </aside>
  );
}
