import type {
  AppState,
  ClaimOutcome,
  Connection,
  DiagnoseCheck,
  ProfileFields,
  PromptAnswer,
  ReclaimEvent,
  ReclaimHandlers,
  ServerInspection,
  RepairGoAhead,
  RepairOutcome,
  RepairPlanInfo,
  RepairRequest,
  ServerProfile,
  ServerStatus,
  ViewBounds,
} from '../../shared/ipc-contract.js';
import { ReclaimError } from '../common/errors.js';
import type { ResolveOptions } from '../ssh/config/ssh-config.js';
import type { HostKeyStore } from '../ssh/host-keys/policy.js';
import { ClaimFlow } from './claim-flow.js';
import { DiagnoseRunner } from './diagnose-runner.js';
import { checkProfileFields, profilesFromSshConfig, ProfileStore } from './profiles.js';
import { profilesFromPutty } from './putty-profiles.js';
import type { PuttyStorage } from '../ssh/putty/storage.js';
import { PromptBroker } from './prompt-broker.js';
import { RepairFlow } from './repair-flow.js';
import type { SecretVault } from './secret-vault.js';
import { ServerInspector } from './server-inspector.js';
import { ServerPrompters } from './server-prompters.js';
import { Sessions } from './sessions.js';
import { SshSettings } from './ssh-settings.js';

// Everything the desktop window can ask for, in plain Node. This class is the one door the
// request router calls; the work is done by the saved servers (profiles.ts), the sessions
// (sessions.ts), the claim flow (claim-flow.ts) and the diagnose runner (diagnose-runner.ts).
// The Electron main process and the UI tests both drive it; only AppHost differs.

/** What only the surrounding shell can do (Electron in the app, a browser page in the UI tests). */
export interface AppHost {
  vault: SecretVault;
  /** Hands an address to the person's own browser. */
  openExternal(url: string): Promise<void>;
  /** Shows the plex.tv sign-in page in a child window; returns how to close it. */
  openSignInWindow(url: string, onClosedByPerson: () => void): () => void;
  copyText(text: string): void;
  /** The system's file chooser, for a private key; undefined when cancelled. */
  chooseFile(): Promise<string | undefined>;
  /** Lays the server's Plex Web App over `bounds`, or takes it off the window for now (null), keeping its page. */
  showPlexView(view: { profileId: string; webUrl: string }, bounds: ViewBounds | null): void;
  /** The server is disconnected: its Plex view, if it has one, is closed for good. */
  closePlexView(profileId: string): void;
  focusPlexView(profileId: string): void;
}

export interface AppServiceOptions {
  host: AppHost;
  emit(event: ReclaimEvent): void;
  profilesFile: string;
  /** known_hosts files trusted and the one new keys are recorded in. */
  hostKeys: Omit<HostKeyStore, 'acceptNew' | 'putty'>;
  /** Where PuTTY keeps its saved sessions and trusted host keys; without it, Reclaim does not look. */
  putty?: PuttyStorage;
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
  findAgent(): string | undefined;
  sshConfig?: ResolveOptions;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

export class AppService implements ReclaimHandlers {
  private readonly store: ProfileStore;
  private readonly broker: PromptBroker;
  private readonly prompters: ServerPrompters;
  private readonly sessions: Sessions;
  private readonly claims: ClaimFlow;
  private readonly diagnoses: DiagnoseRunner;
  private readonly inspector: ServerInspector;
  private readonly repairs: RepairFlow;

  constructor(private readonly options: AppServiceOptions) {
    const { host, emit } = options;
    this.store = new ProfileStore(options.profilesFile);
    this.broker = new PromptBroker(emit, host.vault);
    this.prompters = new ServerPrompters(this.broker);
    const ssh = new SshSettings({ hostKeys: { ...options.hostKeys, putty: options.putty }, findAgent: options.findAgent, sshConfig: options.sshConfig });
    const loadProfile = (id: string) => this.profile(id);
    this.sessions = new Sessions({
      emit,
      loadProfile,
      ssh,
      prompters: this.prompters,
      broker: this.broker,
      closePlexView: (profileId) => host.closePlexView(profileId),
      plexHeaders: options.plexHeaders,
      reconnect: options.reconnect,
    });
    this.claims = new ClaimFlow({
      sessions: this.sessions,
      emit,
      openSignInWindow: (url, onClosedByPerson) => host.openSignInWindow(url, onClosedByPerson),
      openExternal: (url) => host.openExternal(url),
      plexTvUrl: options.plexTvUrl,
      plexHeaders: options.plexHeaders,
    });
    this.diagnoses = new DiagnoseRunner({
      sessions: this.sessions,
      loadProfile,
      ssh,
      prompters: this.prompters,
      emit,
      copyText: (text) => host.copyText(text),
      plexTvUrl: options.plexTvUrl,
      plexHeaders: options.plexHeaders,
    });
    this.inspector = new ServerInspector({ sessions: this.sessions, broker: this.broker, plexTvUrl: options.plexTvUrl, plexHeaders: options.plexHeaders });
    this.repairs = new RepairFlow({
      sessions: this.sessions,
      loadProfile,
      ssh,
      prompters: this.prompters,
      broker: this.broker,
      emit,
      openSignInWindow: (url, onClosedByPerson) => host.openSignInWindow(url, onClosedByPerson),
      openExternal: (url) => host.openExternal(url),
      plexTvUrl: options.plexTvUrl,
      plexHeaders: options.plexHeaders,
    });
  }

  async listProfiles(): Promise<ServerProfile[]> {
    const stored = await this.store.list();
    return Promise.all(stored.map(async (profile) => ({ ...profile, hasSavedSecret: await this.options.host.vault.has(profile.id) })));
  }

  async checkProfile(fields: ProfileFields): Promise<null> {
    await checkProfileFields(fields);
    return null;
  }

  async saveProfile(id: string | null, fields: ProfileFields): Promise<ServerProfile> {
    const checked = await checkProfileFields(fields);
    const saved = await this.store.save(id, checked);
    return { ...saved, hasSavedSecret: await this.options.host.vault.has(saved.id) };
  }

  /** Nothing of a deleted server stays behind: its tunnel, questions, diagnose, inspection, and every password. */
  async deleteProfile(id: string): Promise<null> {
    this.diagnoses.forget(id);
    this.inspector.forget(id);
    this.repairs.forget(id);
    await this.sessions.end(id);
    this.prompters.forget(id);
    await this.options.host.vault.forget(id);
    await this.store.remove(id);
    return null;
  }

  importSshConfig(): Promise<ProfileFields[]> {
    return profilesFromSshConfig(this.options.sshConfig);
  }

  async importPuttySessions(): Promise<ProfileFields[]> {
    return this.options.putty ? profilesFromPutty(this.options.putty) : [];
  }

  async forgetSecret(id: string): Promise<null> {
    await this.options.host.vault.forget(id);
    return null;
  }

  async currentState(): Promise<AppState> {
    return { ...this.sessions.state(), prompts: this.broker.pending() };
  }

  async chooseKeyFile(): Promise<string | null> {
    return (await this.options.host.chooseFile()) ?? null;
  }

  connect(id: string): Promise<Connection> {
    return this.sessions.connect(id);
  }

  async disconnect(id: string): Promise<null> {
    await this.sessions.end(id);
    return null;
  }

  async reconnect(id: string): Promise<null> {
    this.sessions.reconnect(id);
    return null;
  }

  async answerPrompt(promptId: string, answer: PromptAnswer): Promise<null> {
    this.broker.answer(promptId, answer);
    return null;
  }

  refreshStatus(id: string): Promise<ServerStatus> {
    return this.sessions.refreshStatus(id);
  }

  claimWithPlex(id: string, signInWhere: 'window' | 'browser'): Promise<ClaimOutcome> {
    return this.claims.withPlex(id, signInWhere);
  }

  async cancelSignIn(id: string): Promise<null> {
    this.claims.cancelSignIn(id);
    return null;
  }

  claimWithToken(id: string, claimToken: string): Promise<ClaimOutcome> {
    return this.claims.withToken(id, claimToken);
  }

  diagnose(id: string): Promise<DiagnoseCheck[]> {
    return this.diagnoses.run(id);
  }

  planRepair(id: string, request: RepairRequest): Promise<RepairPlanInfo> {
    return this.repairs.plan(id, request);
  }

  repairGoAhead(id: string, how: RepairGoAhead): Promise<RepairOutcome> {
    return this.repairs.goAhead(id, how);
  }

  async cancelRepair(id: string): Promise<null> {
    await this.repairs.cancel(id);
    return null;
  }

  copyDiagnoseReport(id: string): Promise<string> {
    return this.diagnoses.copyReport(id, this.inspector.reportText(id));
  }

  inspectServer(id: string): Promise<ServerInspection> {
    return this.inspector.run(id);
  }

  async openInBrowser(id: string): Promise<null> {
    await this.options.host.openExternal(this.sessions.connected(id).connection.webUrl);
    return null;
  }

  async showPlexView(id: string, bounds: ViewBounds | null): Promise<null> {
    const connection = this.sessions.get(id)?.connection;
    // Taking away the view of a server that is gone needs nothing: it was closed with its tunnel.
    if (!connection) {
      if (bounds === null) return null;
      throw new ReclaimError('NOT_CONNECTED', 'This server is not connected.', 'Press Connect first.');
    }
    this.options.host.showPlexView({ profileId: id, webUrl: connection.webUrl }, bounds);
    return null;
  }

  async focusPlexView(id: string): Promise<null> {
    this.sessions.connected(id);
    this.options.host.focusPlexView(id);
    return null;
  }

  /** Rebuilds every link now (the computer woke up); a live tunnel keeps its port meanwhile. */
  reconnectAll(): void {
    this.sessions.reconnectAll();
  }

  /** Closes every tunnel and stops every diagnose (the app is quitting). */
  async shutdown(): Promise<void> {
    this.diagnoses.stopAll();
    await this.repairs.stopAll();
    await this.sessions.endAll();
  }

  private async profile(id: string): Promise<ServerProfile> {
    const stored = await this.store.get(id);
    return { ...stored, hasSavedSecret: await this.options.host.vault.has(id) };
  }
}
