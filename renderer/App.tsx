import { useCallback, useEffect, useState } from 'react';
import {
  DEFAULT_PROFILE,
  type ConnectStep,
  type Connection,
  type ErrorInfo,
  type ProfileFields,
  type Prompt,
  type ReclaimEvent,
  type ServerProfile,
} from '../electron/shared/ipc-contract.js';
import { reclaim } from './bridge.js';
import { onFailure, reported } from './failures.js';
import { ErrorBox } from './components/ErrorBox.js';
import { ImportList, type ImportSource } from './components/ImportList.js';
import { PromptDialog } from './components/PromptDialog.js';
import { SandboxWarning } from './components/SandboxWarning.js';
import { ServerForm } from './components/ServerForm.js';
import { ServerList } from './components/ServerList.js';
import { ServerPage } from './components/ServerPage.js';
import { Welcome } from './components/Welcome.js';

// The window's state: saved servers, which one is shown, each one's connection, and the
// questions SSH is waiting on. Everything changes through the bridge: requests out, events in.

export interface ConnectionState {
  phase: 'idle' | 'connecting' | 'connected' | 'failed';
  step?: ConnectStep;
  connection?: Connection;
  error?: ErrorInfo;
  reconnecting?: { attempt: number; delayMs: number; message: string };
  warning?: { message: string; fix: string };
}

type View =
  | { kind: 'welcome' }
  | { kind: 'form'; id: string | null; fields: ProfileFields }
  | { kind: 'import'; source: ImportSource; forms: ProfileFields[] }
  | { kind: 'server'; id: string };

const IDLE: ConnectionState = { phase: 'idle' };

export function App() {
  const [profiles, setProfiles] = useState<ServerProfile[]>([]);
  const [view, setView] = useState<View>({ kind: 'welcome' });
  const [connections, setConnections] = useState<Record<string, ConnectionState>>({});
  const [prompts, setPrompts] = useState<Prompt[]>([]);
  const [notice, setNotice] = useState<ErrorInfo | undefined>();
  const [events] = useState(() => new EventTarget());

  const patch = useCallback((id: string, change: (state: ConnectionState) => ConnectionState) => {
    setConnections((all) => ({ ...all, [id]: change(all[id] ?? IDLE) }));
  }, []);

  const loadProfiles = useCallback(async () => {
    const result = await reclaim.listProfiles();
    if (result.ok) setProfiles(result.value);
    else setNotice(result.error);
    return result.ok ? result.value : [];
  }, []);

  useEffect(() => {
    void loadProfiles().then(async (loaded) => {
      if (loaded[0]) setView({ kind: 'server', id: loaded[0].id });
      // After a reload, tunnels, attempts and questions are still under way in the main process.
      const state = await reported(reclaim.currentState());
      if (!state.ok) return;
      for (const connection of state.value.connections) patch(connection.profileId, () => ({ phase: 'connected', connection }));
      for (const id of state.value.connecting) patch(id, () => ({ phase: 'connecting' }));
      setPrompts(state.value.prompts);
    });
  }, [loadProfiles, patch]);

  useEffect(() => onFailure(setNotice), []);

  useEffect(() => reclaim.onEvent((event: ReclaimEvent) => {
    switch (event.type) {
      case 'connect-step':
        // A connected server that reconnects keeps its page; the banner tells about it.
        patch(event.profileId, (state) => (state.phase === 'connected' ? state : { ...state, phase: 'connecting', step: event.step }));
        break;
      case 'connected':
        patch(event.connection.profileId, () => ({ phase: 'connected', connection: event.connection }));
        break;
      case 'reconnecting':
        patch(event.profileId, (state) => ({ ...state, reconnecting: { attempt: event.attempt, delayMs: event.delayMs, message: event.message } }));
        break;
      case 'warning':
        patch(event.profileId, (state) => ({ ...state, warning: { message: event.message, fix: event.fix } }));
        break;
      case 'disconnected':
        patch(event.profileId, () => (event.error ? { phase: 'failed', error: event.error } : IDLE));
        break;
      case 'blocked':
        patch(event.profileId, (state) => ({
          ...state,
          warning: {
            message: `Reclaim blocked a request to the tunnel because ${event.reason}.`,
            fix: 'Only Reclaim and the Plex page through the tunnel may use it. If you did not expect this, close other browser tabs you do not trust.',
          },
        }));
        break;
      case 'prompt':
        setPrompts((waiting) => [...waiting, event.prompt]);
        break;
      case 'prompt-closed':
        setPrompts((waiting) => waiting.filter((prompt) => prompt.id !== event.id));
        break;
      default:
        // Claim steps, sign-in addresses and diagnose checks belong to the server page.
        events.dispatchEvent(new CustomEvent('reclaim', { detail: event }));
    }
  }), [events, patch]);

  const [cancelled] = useState(() => new Set<string>());
  const connect = useCallback(async (id: string) => {
    cancelled.delete(id);
    patch(id, () => ({ phase: 'connecting', step: 'connecting' }));
    const result = await reclaim.connect(id);
    // Pressing Cancel (here, or in a password question) is not a failure to report.
    if (!result.ok && (cancelled.has(id) || result.error.code === 'CANCELLED')) return patch(id, () => IDLE);
    patch(id, () => (result.ok ? { phase: 'connected', connection: result.value } : { phase: 'failed', error: result.error }));
  }, [cancelled, patch]);
  const cancelConnect = useCallback((id: string) => {
    cancelled.add(id);
    void reported(reclaim.disconnect(id));
  }, [cancelled]);

  const saved = async (profile: ServerProfile, andConnect: boolean) => {
    await loadProfiles();
    setView({ kind: 'server', id: profile.id });
    if (andConnect) void connect(profile.id);
  };

  const importFrom = async (source: ImportSource) => {
    const result = source === 'putty'
      ? await reclaim.importPuttySessions()
      : await reclaim.importSshConfig();
    if (!result.ok) return setNotice(result.error);
    setView({ kind: 'import', source, forms: result.value });
  };

  const selected = view.kind === 'server' ? profiles.find((profile) => profile.id === view.id) : undefined;
  // A native view lies over the page; while a question is open it must not cover the dialog.
  const dialogOpen = prompts.length > 0;

  return (
    <div className="app">
      <ServerList
        profiles={profiles}
        selectedId={view.kind === 'server' ? view.id : view.kind === 'form' ? view.id : null}
        connections={connections}
        onSelect={(id) => setView({ kind: 'server', id })}
        onAdd={() => setView({ kind: 'form', id: null, fields: DEFAULT_PROFILE })}
        onImport={(source) => void importFrom(source)}
      />
      <main className="content">
        <SandboxWarning />
        {notice && <ErrorBox error={notice} onDismiss={() => setNotice(undefined)} />}
        {view.kind === 'welcome' && <Welcome onAdd={() => setView({ kind: 'form', id: null, fields: DEFAULT_PROFILE })} onImport={(source) => void importFrom(source)} />}
        {view.kind === 'form' && (
          <ServerForm
            key={view.id ?? 'new'}
            id={view.id}
            initial={view.fields}
            onSaved={(profile, andConnect) => void saved(profile, andConnect)}
            onCancel={() => setView(view.id ? { kind: 'server', id: view.id } : { kind: 'welcome' })}
          />
        )}
        {view.kind === 'import' && (
          <ImportList source={view.source} forms={view.forms} onPick={(fields) => setView({ kind: 'form', id: null, fields })} onCancel={() => setView({ kind: 'welcome' })} />
        )}
        {view.kind === 'server' && selected && (
          <ServerPage
            key={selected.id}
            profile={selected}
            state={connections[selected.id] ?? IDLE}
            events={events}
            coveredByDialog={dialogOpen}
            onConnect={() => void connect(selected.id)}
            onCancelConnect={() => cancelConnect(selected.id)}
            onEdit={() => setView({ kind: 'form', id: selected.id, fields: selected })}
            onDeleted={() => void loadProfiles().then(() => setView({ kind: 'welcome' }))}
            onProfileChanged={() => void loadProfiles()}
            onStatus={(connection) => patch(selected.id, (state) => ({ ...state, connection }))}
            onDismissWarning={() => patch(selected.id, (state) => ({ ...state, warning: undefined, reconnecting: undefined }))}
          />
        )}
      </main>
      {prompts[0] && <PromptDialog key={prompts[0].id} prompt={prompts[0]} profiles={profiles} />}
    </div>
  );
}
