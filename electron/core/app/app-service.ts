import type {
  AppState,
  ClaimOutcome,
  ClaimStep,
  ConnectStep,
  Connection,
  DiagnoseCheck,
  ProfileFields,
  PromptAnswer,
  ReclaimEvent,
  ReclaimHandlers,
  ServerProfile,
  ServerStatus,
  ViewBounds,
} from '../../shared/ipc-contract.js';
import type { AuthSettings } from '../ssh/auth.js';
import { claimServer, validateClaimToken, type ClaimResult } from '../plex/claim.js';
import { diagnose } from '../diagnose/diagnose.js';
import { badInput, isCancelled, ReclaimError } from '../common/errors.js';
import { log } from '../common/log.js';
import type { HostKeyStore } from '../ssh/host-keys/policy.js';
import { PmsClient } from '../plex/pms.js';
import { signInWithPlex } from '../plex/sign-in.js';
import { PlexTvClient } from '../plex/plex-tv.js';
import { rememberSecrets, type Prompter } from '../ssh/prompter.js';
import { resolveRoute } from '../ssh/route.js';
import { readServerStatus } from '../plex/server-status.js';
import type { ResolveOptions } from '../ssh/config/ssh-config.js';
import type { ConnectSettings, SshHop } from '../ssh/connect.js';
import { parseHostPort, formatHostPort } from '../common/target.js';
import { Tunnel, type TunnelEvent } from '../tunnel/tunnel.js';
import { describeCheck, diagnoseReport } from '../diagnose/report.js';
import { toErrorInfo } from './error-info.js';
import { checkProfileFields, profilesFromSshConfig, ProfileStore } from './profiles.js';
import { profilesFromPutty } from './putty-profiles.js';
import type { PuttyStorage } from '../ssh/putty/storage.js';
import { PromptBroker } from './prompt-broker.js';
import type { SecretVault } from './secret-vault.js';

// Everything the desktop window can ask for, in plain Node: saved servers, one tunnel per
// connected server, the questions SSH asks on the way, claiming and diagnosing. The Electron
// main process and the UI tests both drive this same class; only AppHost differs.

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

/** Enough of the log to show what led up to a problem, short enough to paste into a post. */
const REPORT_LOG_LINES = 40;

interface Session {
  profile: ServerProfile;
  route: SshHop[];
  /** Remembers typed secrets for this session, so reconnects and diagnose do not ask again. */
  prompter: Prompter;
  attempt: AbortController;
  tunnel?: Tunnel;
  pms?: PmsClient;
  connection?: Connection;
  signIn?: { cancel: AbortController; closeWindow?: () => void };
}

export class AppService implements ReclaimHandlers {
  private readonly store: ProfileStore;
  private readonly broker: PromptBroker;
  private readonly sessions = new Map<string, Session>();
  private readonly preparing = new Set<string>();
  private readonly lastChecks = new Map<string, DiagnoseCheck[]>();
  /** One prompter per server that is not connected, for diagnose. */
  private readonly idlePrompters = new Map<string, Prompter>();

  constructor(private readonly options: AppServiceOptions) {
    this.store = new ProfileStore(options.profilesFile);
    this.broker = new PromptBroker(options.emit, options.host.vault);
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

  async deleteProfile(id: string): Promise<null> {
    await this.disconnect(id);
    await this.options.host.vault.forget(id);
    await this.store.remove(id);
    this.lastChecks.delete(id);
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
    const sessions = [...this.sessions.values()];
    return {
      connections: sessions.flatMap((session) => (session.connection ? [session.connection] : [])),
      connecting: sessions.filter((session) => !session.connection).map((session) => session.profile.id),
      prompts: this.broker.pending(),
    };
  }

  async chooseKeyFile(): Promise<string | null> {
    return (await this.options.host.chooseFile()) ?? null;
  }

  async connect(id: string): Promise<Connection> {
    const existing = this.sessions.get(id);
    if (existing?.connection) return existing.connection;
    if (existing || this.preparing.has(id)) throw badInput('Reclaim is already connecting to this server.', 'Wait for it to finish, or press Cancel.');
    // Held while the profile and route are read, so a second Connect cannot start a twin session.
    this.preparing.add(id);
    let session: Session;
    try {
      const profile = await this.profile(id);
      session = { profile, route: await this.route(profile), prompter: this.prompterFor(id), attempt: new AbortController() };
    } finally {
      this.preparing.delete(id);
    }
    this.sessions.set(id, session);
    // Steps are shown for the first login only; a reconnect is the banner's business.
    const emitStep = (step: ConnectStep, hop: string) => {
      if (!session.connection) this.options.emit({ type: 'connect-step', profileId: id, step, hop });
    };
    /** Cancel (Disconnect) or quitting ended this attempt while it waited. */
    const stillWanted = () => {
      if (this.sessions.get(id) !== session) throw new ReclaimError('CANCELLED', 'The connection attempt was cancelled.', 'Connect again when you are ready.');
    };
    try {
      const connect = this.connectSettings(session, (step, hop) => emitStep(step, hop.label));
      const server = session.route[session.route.length - 1]!.label;
      session.tunnel = await Tunnel.open(
        {
          route: session.route,
          connect,
          localPort: session.profile.localPort,
          remote: parseHostPort(session.profile.remote, 'Plex address on the server'),
          reconnect: this.options.reconnect,
          onCheckingForward: () => emitStep('opening-forward', server),
        },
        (event) => this.onTunnelEvent(id, session, event),
      );
      session.pms = new PmsClient(session.tunnel.localUrl, this.options.plexHeaders);
      stillWanted();
      emitStep('checking-plex', server);
      const connection = await this.describeConnection(session);
      stillWanted();
      session.connection = connection;
      this.idlePrompters.delete(id);
      // Also as an event, for a window that was reloaded while this was under way.
      this.options.emit({ type: 'connected', connection });
      return connection;
    } catch (error) {
      const cancelled = this.sessions.get(id) !== session || session.attempt.signal.aborted || isCancelled(error);
      if (this.sessions.get(id) === session) await this.endSession(id);
      else await session.tunnel?.close();
      this.options.emit({ type: 'disconnected', profileId: id, error: cancelled ? undefined : toErrorInfo(error) });
      throw error;
    }
  }

  async disconnect(id: string): Promise<null> {
    await this.endSession(id);
    return null;
  }

  async reconnect(id: string): Promise<null> {
    this.connected(id).tunnel.reconnectNow();
    return null;
  }

  async answerPrompt(promptId: string, answer: PromptAnswer): Promise<null> {
    this.broker.answer(promptId, answer);
    return null;
  }

  async refreshStatus(id: string): Promise<ServerStatus> {
    const session = this.connected(id);
    const status = await this.freshStatus(session);
    session.connection = { ...session.connection, status, statusError: undefined };
    return status;
  }

  async claimWithPlex(id: string, signInWhere: 'window' | 'browser'): Promise<ClaimOutcome> {
    const session = this.connected(id);
    if (session.signIn) throw badInput('A Plex sign-in is already waiting for this server.', 'Finish it in the sign-in window, or cancel it first.');
    const step = (claimStep: ClaimStep) => this.options.emit({ type: 'claim-step', profileId: id, step: claimStep });
    step('checking');
    const before = await this.freshStatus(session);
    if (before.claimed) return { outcome: 'already-claimed', status: before };

    const plexTv = new PlexTvClient(this.options.plexTvUrl, this.options.plexHeaders);
    const signIn: NonNullable<Session['signIn']> = { cancel: new AbortController() };
    session.signIn = signIn;
    try {
      step('signing-in');
      const signedIn = await signInWithPlex(plexTv, {
        signal: signIn.cancel.signal,
        onUrl: (url) => {
          this.options.emit({ type: 'signin-url', profileId: id, url });
          // Closing the sign-in window is how a person says "not now".
          if (signInWhere === 'window') signIn.closeWindow = this.options.host.openSignInWindow(url, () => signIn.cancel.abort());
          else void this.options.host.openExternal(url);
        },
      });
      signIn.closeWindow?.();
      // The account token lives only in this call: used for one claim token and then dropped.
      const result = await claimServer({
        pms: session.pms,
        source: { kind: 'account', userToken: signedIn.token, plexTv },
        // 'checking' was shown already, before the sign-in.
        onStep: (claimStep) => {
          if (claimStep !== 'checking') step(claimStep);
        },
      });
      return await this.claimOutcome(session, result);
    } finally {
      signIn.closeWindow?.();
      if (session.signIn === signIn) session.signIn = undefined;
      await plexTv.close();
    }
  }

  async cancelSignIn(id: string): Promise<null> {
    this.sessions.get(id)?.signIn?.cancel.abort();
    return null;
  }

  async claimWithToken(id: string, claimToken: string): Promise<ClaimOutcome> {
    const token = validateClaimToken(claimToken);
    const session = this.connected(id);
    const result = await claimServer({
      pms: session.pms,
      source: { kind: 'token', claimToken: token },
      onStep: (step) => this.options.emit({ type: 'claim-step', profileId: id, step }),
    });
    return this.claimOutcome(session, result);
  }

  /** Works whether or not the server is connected: it is most useful when connecting fails. */
  async diagnose(id: string): Promise<DiagnoseCheck[]> {
    const session = this.sessions.get(id);
    const profile = session?.profile ?? (await this.profile(id));
    const checks: DiagnoseCheck[] = [];
    this.lastChecks.delete(id);
    const prompterSession = session ?? { profile, prompter: this.prompterFor(id), attempt: new AbortController(), route: [] };
    await diagnose({
      route: session?.route ?? (await this.route(profile)),
      connect: this.connectSettings(prompterSession),
      remote: parseHostPort(profile.remote, 'Plex address on the server'),
      plexTvUrl: this.options.plexTvUrl,
      plexHeaders: this.options.plexHeaders,
      onCheck: (check) => {
        const described = describeCheck(check);
        checks.push(described);
        this.options.emit({ type: 'diagnose-check', profileId: id, check: described });
      },
    });
    this.lastChecks.set(id, checks);
    return checks;
  }

  async copyDiagnoseReport(id: string): Promise<string> {
    const checks = this.lastChecks.get(id);
    if (!checks) throw badInput('There is no diagnose report for this server yet.', 'Run Diagnose first.');
    const profile = await this.profile(id);
    const report = diagnoseReport(`${profile.name} (${profile.user ? `${profile.user}@` : ''}${formatHostPort(profile.host, profile.sshPort)})`, checks, new Date(), log.recentLines(REPORT_LOG_LINES));
    this.options.host.copyText(report);
    return report;
  }

  async openInBrowser(id: string): Promise<null> {
    await this.options.host.openExternal(this.connected(id).connection.webUrl);
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
    this.connected(id);
    this.options.host.focusPlexView(id);
    return null;
  }

  /** Rebuilds every link now (the computer woke up); a live tunnel keeps its port meanwhile. */
  reconnectAll(): void {
    for (const session of this.sessions.values()) session.tunnel?.reconnectNow();
  }

  /** Closes every tunnel (the app is quitting). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.endSession(id)));
  }

  private async profile(id: string): Promise<ServerProfile> {
    const stored = await this.store.get(id);
    return { ...stored, hasSavedSecret: await this.options.host.vault.has(id) };
  }

  private route(profile: ProfileFields): Promise<SshHop[]> {
    return resolveRoute({
      target: profile.user ? `${profile.user}@${profile.host}` : profile.host,
      // 22 in the form means "the usual": a Port from ~/.ssh/config still applies then.
      port: profile.sshPort === 22 ? undefined : profile.sshPort,
      jump: profile.jump || undefined,
      config: this.options.sshConfig ?? {},
    });
  }

  private prompterFor(id: string): Prompter {
    const session = this.sessions.get(id);
    if (session) return session.prompter;
    let prompter = this.idlePrompters.get(id);
    if (!prompter) {
      prompter = rememberSecrets(this.broker.prompterFor(id));
      this.idlePrompters.set(id, prompter);
    }
    return prompter;
  }

  private connectSettings(session: Pick<Session, 'profile' | 'prompter' | 'attempt'>, onProgress?: ConnectSettings['onProgress']): ConnectSettings {
    const { profile } = session;
    const agent = profile.auth === 'password' ? undefined : this.options.findAgent();
    const auth: Omit<AuthSettings, 'configIdentityFiles'> = profile.auth === 'key'
      ? { identityFile: profile.keyPath, agent }
      : profile.auth === 'password' ? { keys: false } : { agent };
    return {
      auth,
      hostKeys: { ...this.options.hostKeys, acceptNew: false, putty: this.options.putty },
      prompter: session.prompter,
      signal: session.attempt.signal,
      onProgress,
    };
  }

  private async describeConnection(session: Session): Promise<Connection> {
    const tunnel = session.tunnel!;
    const base = {
      profileId: session.profile.id,
      localPort: tunnel.localPort,
      webUrl: `${tunnel.localUrl}/web`,
      hostKey: tunnel.hostKey!,
    };
    try {
      return { ...base, status: await this.freshStatus(session) };
    } catch (error) {
      // The tunnel works; Plex behind it does not answer properly. Say so on the card.
      return { ...base, status: null, statusError: toErrorInfo(error) };
    }
  }

  private async claimOutcome(session: Session & { connection: Connection }, result: ClaimResult): Promise<ClaimOutcome> {
    const status: ServerStatus = await this.freshStatus(session).catch(() => ({
      version: result.identity.version,
      claimed: result.identity.claimed,
      machineIdentifier: result.identity.machineIdentifier,
    }));
    session.connection = { ...session.connection, status, statusError: undefined };
    if (result.outcome === 'already-claimed') return { outcome: 'already-claimed', status };
    return { outcome: 'claimed', status: { ...status, account: status.account ?? result.username }, account: result.username };
  }

  /**
   * Plex tells its name only while unclaimed or to its owner; once claimed, the name read
   * earlier on this connection is kept rather than forgotten.
   */
  private async freshStatus(session: Session): Promise<ServerStatus> {
    const status = await serverStatus(session.pms!);
    const before = session.connection?.status;
    if (!status.friendlyName && before?.machineIdentifier === status.machineIdentifier) status.friendlyName = before.friendlyName;
    return status;
  }

  private connected(id: string): Session & { tunnel: Tunnel; pms: PmsClient; connection: Connection } {
    const session = this.sessions.get(id);
    if (!session?.tunnel || !session.pms || !session.connection) {
      throw new ReclaimError('NOT_CONNECTED', 'This server is not connected.', 'Press Connect first.');
    }
    return session as Session & { tunnel: Tunnel; pms: PmsClient; connection: Connection };
  }

  private onTunnelEvent(id: string, session: Session, event: TunnelEvent): void {
    // Events of a tunnel that was replaced or closed meanwhile are not this server's news any more.
    if (this.sessions.get(id) !== session && event.event !== 'closed') return;
    switch (event.event) {
      case 'ready':
        // The first ready is the answer to connect(); later ones are recoveries.
        if (event.reconnected && session.connection) {
          void this.describeConnection(session).then((connection) => {
            if (this.sessions.get(id) !== session) return;
            session.connection = connection;
            this.options.emit({ type: 'connected', connection });
          });
        }
        break;
      case 'reconnecting':
        this.options.emit({ type: 'reconnecting', profileId: id, attempt: event.attempt, delayMs: event.delayMs, message: event.message });
        break;
      case 'warning':
        this.options.emit({ type: 'warning', profileId: id, message: event.message, fix: event.fix });
        break;
      case 'blocked':
        this.options.emit({ type: 'blocked', profileId: id, reason: event.reason });
        break;
      case 'error':
        this.options.emit({ type: 'disconnected', profileId: id, error: isCancelled(event.error) ? undefined : toErrorInfo(event.error) });
        void this.endSession(id, false);
        break;
      case 'closed':
        break;
    }
  }

  private async endSession(id: string, announce = true): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    session.attempt.abort();
    session.signIn?.cancel.abort();
    session.signIn?.closeWindow?.();
    this.broker.cancelFor(id);
    this.options.host.closePlexView(id);
    await session.tunnel?.close();
    await session.pms?.close();
    if (announce && session.connection) this.options.emit({ type: 'disconnected', profileId: id });
  }
}

async function serverStatus(pms: PmsClient): Promise<ServerStatus> {
  const { identity, signIn } = await readServerStatus(pms);
  return {
    friendlyName: signIn?.friendlyName,
    version: identity.version,
    claimed: identity.claimed,
    machineIdentifier: identity.machineIdentifier,
    account: signIn?.username,
  };
}
