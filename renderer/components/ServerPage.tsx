import { useState } from 'react';
import { CONNECT_STEPS, type Connection, type ServerProfile } from '../../electron/shared/ipc-contract.js';
import type { ConnectionState } from '../App.js';
import { reclaim } from '../bridge.js';
import { reported } from '../failures.js';
import { CONNECT_STEP_TEXT } from '../text.js';
import { ClaimPanel } from './ClaimPanel.js';
import { DiagnosePanel } from './DiagnosePanel.js';
import { ErrorBox } from './ErrorBox.js';
import { HostKeyChanged } from './HostKeyChanged.js';
import { PlexRegion } from './PlexRegion.js';
import { ServerPanel } from './ServerPanel.js';
import { RepairPanel } from './RepairPanel.js';
import { StatusCard } from './StatusCard.js';
import { TokenPanel } from './TokenPanel.js';

// One saved server: connect to it, follow the steps, and once connected its status, the
// One saved server: connect to it, follow the steps, and once connected its status, the
// embedded Plex Web App and the actions (claim, token, diagnose, the server's Plex install,
// repair, browser, reconnect, disconnect). Diagnose and Repair also work unconnected: each opens
// an SSH connection of its own.

type Panel = 'claim' | 'token' | 'diagnose' | 'server' | 'repair' | null;

export function ServerPage(props: {
  profile: ServerProfile;
  state: ConnectionState;
  events: EventTarget;
  coveredByDialog: boolean;
  onConnect(): void;
  onCancelConnect(): void;
  onEdit(): void;
  onDeleted(): void;
  onProfileChanged(): void;
  onStatus(connection: Connection): void;
  onDismissWarning(): void;
}) {
  const { profile, state } = props;
  const [panel, setPanel] = useState<Panel>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const id = profile.id;
  const address = `${profile.user ? `${profile.user}@` : ''}${profile.host}${profile.sshPort !== 22 ? `:${profile.sshPort}` : ''}`;
  const connected = state.phase === 'connected' && state.connection;

  const remove = async () => {
    const result = await reported(reclaim.deleteProfile(id));
    setConfirmDelete(false);
    if (result.ok) props.onDeleted();
  };
  const forgetSecret = async () => {
    await reported(reclaim.forgetSecret(id));
    props.onProfileChanged();
  };
  const toggle = (which: Exclude<Panel, null>) => setPanel((open) => (open === which ? null : which));

  return (
    <section className="server-page" aria-labelledby="server-title">
      <header className="server-header">
        <div>
          <h2 id="server-title">{profile.name}</h2>
          <p className="muted">{address}{profile.jump ? ` via ${profile.jump}` : ''}</p>
        </div>
        {!connected && state.phase !== 'connecting' && (
          <div className="button-row">
            <button type="button" className="primary" onClick={props.onConnect}>Connect</button>
            <button type="button" onClick={() => toggle('diagnose')} aria-pressed={panel === 'diagnose'}>Diagnose</button>
            <button type="button" onClick={() => toggle('repair')} aria-pressed={panel === 'repair'}>Repair</button>
            <button type="button" onClick={props.onEdit}>Edit</button>
            {profile.hasSavedSecret && <button type="button" onClick={() => void forgetSecret()}>Forget saved password</button>}
            <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>Delete</button>
          </div>
        )}
        {state.phase === 'connecting' && (
          <div className="button-row">
            <button type="button" onClick={props.onCancelConnect}>Cancel</button>
          </div>
        )}
      </header>

      {confirmDelete && (
        <div className="confirm" role="alertdialog" aria-labelledby="confirm-delete">
          <p id="confirm-delete">Delete “{profile.name}” from Reclaim? Nothing on the server changes.</p>
          <div className="button-row">
            <button type="button" className="danger" onClick={() => void remove()}>Delete</button>
            <button type="button" autoFocus onClick={() => setConfirmDelete(false)}>Keep it</button>
          </div>
        </div>
      )}

      {state.phase === 'idle' && panel === null && (
        <p className="lead">Press <strong>Connect</strong> to open a secure tunnel to Plex on this server.</p>
      )}

      {state.phase === 'connecting' && (
        <ol className="steps" aria-label="Connecting">
          {CONNECT_STEPS.map((step, index) => {
            const current = CONNECT_STEPS.indexOf(state.step ?? 'connecting');
            const status = index < current ? 'done' : index === current ? 'current' : 'pending';
            return (
              <li key={step} className={`step step-${status}`} aria-current={status === 'current' ? 'step' : undefined}>
                <span className="step-mark" aria-hidden="true">{status === 'done' ? '✓' : status === 'current' ? '…' : ''}</span>
                {CONNECT_STEP_TEXT[step]}
                <span className="visually-hidden">{status === 'done' ? ' (done)' : status === 'current' ? ' (in progress)' : ''}</span>
              </li>
            );
          })}
        </ol>
      )}

      {state.phase === 'failed' && state.error && (
        state.error.code === 'HOST_KEY_CHANGED'
          ? <HostKeyChanged error={state.error} />
          : (
            <ErrorBox error={state.error} title="Could not connect">
              <button type="button" className="primary" onClick={props.onConnect}>Try again</button>
              <button type="button" onClick={() => setPanel('diagnose')}>Diagnose</button>
              <button type="button" onClick={props.onEdit}>Edit server</button>
            </ErrorBox>
          )
      )}

      {connected && state.reconnecting && (
        <div className="banner banner-warning" role="status">
          <span><strong>Connection lost.</strong> {state.reconnecting.message} Reconnecting by itself (attempt {state.reconnecting.attempt})…</span>
          <button type="button" onClick={() => void reported(reclaim.reconnect(id))}>Reconnect now</button>
        </div>
      )}
      {connected && !state.reconnecting && state.warning && (
        <div className="banner banner-warning" role="status">
          <span><strong>{state.warning.message}</strong> {state.warning.fix}</span>
          <button type="button" onClick={props.onDismissWarning}>Dismiss</button>
        </div>
      )}

      {connected && state.connection && (
        <>
          <StatusCard connection={state.connection} onRefreshed={props.onStatus} />
          <div className="actions" role="toolbar" aria-label="Server actions">
            <button type="button" className={state.connection.status?.claimed ? '' : 'primary'} aria-pressed={panel === 'claim'} onClick={() => toggle('claim')}>Claim this server</button>
            <button type="button" aria-pressed={panel === 'token'} onClick={() => toggle('token')}>Use a claim token</button>
            <button type="button" aria-pressed={panel === 'diagnose'} onClick={() => toggle('diagnose')}>Diagnose</button>
            <button type="button" aria-pressed={panel === 'server'} onClick={() => toggle('server')}>Server</button>
            <button type="button" aria-pressed={panel === 'repair'} onClick={() => toggle('repair')}>Repair</button>
            <button type="button" onClick={() => void reported(reclaim.openInBrowser(id))}>Open in browser</button>
            <button type="button" onClick={() => void reported(reclaim.reconnect(id))}>Reconnect</button>
            <button type="button" onClick={() => void reported(reclaim.disconnect(id))}>Disconnect</button>
            {/* Plex Web is a separate view that Tab cannot reach; this takes the keyboard there. */}
            <button type="button" className="skip-to-plex" onClick={() => void reported(reclaim.focusPlexView(id))}>Go to Plex Web</button>
          </div>
        </>
      )}

      {(connected || panel === 'diagnose' || panel === 'repair') && (
        <div className="workspace">
          {/* A repair stops Plex, so its Plex Web App gives way to the plan and the steps meanwhile. */}
          {connected && state.connection && panel !== 'repair' && (
            <PlexRegion profileId={id} visible={!props.coveredByDialog && !confirmDelete} webUrl={state.connection.webUrl} />
          )}
          {panel === 'claim' && connected && state.connection && (
            <ClaimPanel profileId={id} events={props.events} connection={state.connection} onClaimed={props.onStatus} onClose={() => setPanel(null)} />
          )}
          {panel === 'token' && connected && state.connection && (
            <TokenPanel profileId={id} events={props.events} connection={state.connection} onClaimed={props.onStatus} onClose={() => setPanel(null)} />
          )}
          {panel === 'diagnose' && <DiagnosePanel profileId={id} events={props.events} onClose={() => setPanel(null)} />}
          {panel === 'server' && connected && <ServerPanel profileId={id} onClose={() => setPanel(null)} />}
          {panel === 'repair' && (
            <RepairPanel profileId={id} events={props.events} connection={connected ? state.connection : undefined} onStatus={props.onStatus}
              onDone={props.onDismissWarning} onClose={() => setPanel(null)} />
          )}
        </div>
      )}
    </section>
  );
}
