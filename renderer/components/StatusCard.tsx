import { useState } from 'react';
import type { Connection, ErrorInfo } from '../../electron/shared/ipc-contract.js';
import { reclaim } from '../bridge.js';

export function StatusCard(props: { connection: Connection; onRefreshed(connection: Connection): void }) {
  const { connection } = props;
  const status = connection.status;
  const [error, setError] = useState<ErrorInfo | undefined>(connection.statusError);
  const refresh = async () => {
    const result = await reclaim.refreshStatus(connection.profileId);
    setError(result.ok ? undefined : result.error);
    if (result.ok) props.onRefreshed({ ...connection, status: result.value, statusError: undefined });
  };
  return (
    <section className="status-card" aria-label="Server status">
      <dl>
        <div>
          <dt>Plex server</dt>
          <dd>{status?.friendlyName ?? (status ? 'Plex Media Server' : 'Not answering')}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{status?.version ?? '–'}</dd>
        </div>
        <div>
          <dt>Claimed</dt>
          <dd>
            {status ? (
              <span className={`badge ${status.claimed ? 'badge-ok' : 'badge-bad'}`}>{status.claimed ? 'Yes' : 'No: not linked to any Plex account'}</span>
            ) : '–'}
          </dd>
        </div>
        <div>
          <dt>Plex account</dt>
          <dd>{status?.account || (status?.claimed ? 'Claimed (Plex shows the name only to its owner)' : 'None')}</dd>
        </div>
        <div className="wide">
          <dt>Tunnel</dt>
          <dd><code>{connection.webUrl}</code></dd>
        </div>
        <div className="wide">
          <dt>Server key</dt>
          <dd><code title={connection.hostKey.type}>{connection.hostKey.fingerprint}</code></dd>
        </div>
      </dl>
      <button type="button" className="small" onClick={() => void refresh()}>Refresh</button>
      {error && <p className="field-error" role="alert">{error.message} {error.fix}</p>}
    </section>
  );
}
