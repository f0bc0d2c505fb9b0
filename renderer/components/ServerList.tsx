import type { ServerProfile } from '../../electron/shared/ipc-contract.js';
import type { ConnectionState } from '../App.js';
import type { ImportSource } from './ImportList.js';

const PHASE_TEXT: Record<ConnectionState['phase'], string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  failed: 'Could not connect',
};

export function ServerList(props: {
  profiles: ServerProfile[];
  selectedId: string | null;
  connections: Record<string, ConnectionState>;
  onSelect(id: string): void;
  onAdd(): void;
  onImport(source: ImportSource): void;
}) {
  return (
    <nav className="sidebar" aria-label="Servers">
      <h1 className="brand">Reclaim</h1>
      <p className="tagline">Claim your Plex server from anywhere, over SSH.</p>
      <h2 className="sidebar-heading">Servers</h2>
      {props.profiles.length === 0 && <p className="muted">No servers yet.</p>}
      <ul className="server-list">
        {props.profiles.map((profile) => {
          const phase = props.connections[profile.id]?.phase ?? 'idle';
          return (
            <li key={profile.id}>
              <button
                type="button"
                className={`server-item${profile.id === props.selectedId ? ' selected' : ''}`}
                aria-current={profile.id === props.selectedId ? 'page' : undefined}
                onClick={() => props.onSelect(profile.id)}
              >
                <span className="server-name">{profile.name}</span>
                <span className={`server-phase phase-${phase}`}>
                  <span className="dot" aria-hidden="true" /> {PHASE_TEXT[phase]}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      <div className="sidebar-actions">
        <button type="button" className="primary" onClick={props.onAdd}>Add server</button>
        <button type="button" onClick={() => props.onImport('ssh-config')}>Import from ~/.ssh/config</button>
        <button type="button" onClick={() => props.onImport('putty')}>Import from PuTTY</button>
      </div>
    </nav>
  );
}
