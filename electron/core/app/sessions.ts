import type { AppState, ConnectStep, Connection, ReclaimEvent, ServerProfile, ServerStatus } from '../../shared/ipc-contract.js';
import { badInput, isCancelled, ReclaimError } from '../common/errors.js';
import { DisposableStore, toDisposable } from '../common/lifecycle.js';
import { log } from '../common/log.js';
import { parseHostPort } from '../common/target.js';
import { PmsClient } from '../plex/pms.js';
import { readServerStatus } from '../plex/server-status.js';
import type { SshHop } from '../ssh/connect.js';
import type { Prompter } from '../ssh/prompter.js';
import { Tunnel, type TunnelEvent } from '../tunnel/tunnel.js';
import { toErrorInfo } from './error-info.js';
import type { PromptBroker } from './prompt-broker.js';
import type { ServerPrompters } from './server-prompters.js';
import type { SshSettings } from './ssh-settings.js';

// One session per server from Connect until it ends. What a session makes (its tunnel, its Plex
// client, a sign-in window, the abort controller of its login) is registered in its store where
// it is made, so every way it can end (Disconnect, Cancel, a failed connect, a lost link that
// cannot come back, Delete, quitting) is the same dispose(), and nothing is left behind.

export interface Session {
  readonly profile: ServerProfile;
  readonly route: SshHop[];
  /** Remembers typed secrets, so reconnects and Diagnose do not ask again. */
  readonly prompter: Prompter;
  /** Everything this session holds; disposed exactly when the session ends. */
  readonly resources: DisposableStore;
  /** Aborted as the session ends, stopping a login under way. */
  readonly ended: AbortSignal;
  tunnel?: Tunnel;
  pms?: PmsClient;
  connection?: Connection;
  /** A Plex sign-in waiting for the person, so Cancel sign-in can stop it. */
  signIn?: AbortController;
}

export type ConnectedSession = Session & { tunnel: Tunnel; pms: PmsClient; connection: Connection };

export interface SessionsOptions {
  emit(event: ReclaimEvent): void;
  loadProfile(id: string): Promise<ServerProfile>;
  ssh: SshSettings;
  prompters: ServerPrompters;
  broker: PromptBroker;
  /** The server is disconnected: its Plex view, if it has one, is closed for good. */
  closePlexView(profileId: string): void;
  plexHeaders: Record<string, string>;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly preparing = new Set<string>();

  constructor(private readonly options: SessionsOptions) {}

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** The session of a connected server; a clear error when it is not connected. */
  connected(id: string): ConnectedSession {
    const session = this.sessions.get(id);
    if (!session?.tunnel || !session.pms || !session.connection) {
      throw new ReclaimError('NOT_CONNECTED', 'This server is not connected.', 'Press Connect first.');
    }
    return session as ConnectedSession;
  }

  state(): Pick<AppState, 'connections' | 'connecting'> {
    const sessions = [...this.sessions.values()];
    return {
      connections: sessions.flatMap((session) => (session.connection ? [session.connection] : [])),
      connecting: sessions.filter((session) => !session.connection).map((session) => session.profile.id),
    };
  }

  async connect(id: string): Promise<Connection> {
    const existing = this.sessions.get(id);
    if (existing?.connection) return existing.connection;
    if (existing || this.preparing.has(id)) throw badInput('Reclaim is already connecting to this server.', 'Wait for it to finish, or press Cancel.');
    // Held while the profile and route are read, so a second Connect cannot start a twin session.
    this.preparing.add(id);
    let session: Session;
    try {
      session = await this.newSession(id);
    } finally {
      this.preparing.delete(id);
    }
    this.sessions.set(id, session);
    // Steps are shown for the first login only; a reconnect is the banner's business.
    const emitStep = (step: ConnectStep, hop: string) => {
      if (!session.connection) this.options.emit({ type: 'connect-step', profileId: id, step, hop });
    };
    try {
      const server = session.route[session.route.length - 1]!.label;
      const tunnel = await Tunnel.open(
        {
          route: session.route,
          connect: this.options.ssh.connect(session.profile, session.prompter, session.ended, (step, hop) => emitStep(step, hop.label)),
          localPort: session.profile.localPort,
          remote: parseHostPort(session.profile.remote, 'Plex address on the server'),
          reconnect: this.options.reconnect,
          onCheckingForward: () => emitStep('opening-forward', server),
        },
        (event) => this.onTunnelEvent(session, event),
      );
      // A session that ended meanwhile (Cancel) releases these at once, as they are added.
      session.resources.add(toDisposable(() => tunnel.close()));
      session.tunnel = tunnel;
      const pms = new PmsClient(tunnel.localUrl, this.options.plexHeaders);
      session.resources.add(toDisposable(() => pms.close()));
      session.pms = pms;
      stillWanted(session);
      emitStep('checking-plex', server);
      const connection = await this.describeConnection(session);
      stillWanted(session);
      session.connection = connection;
      // What was typed for this server now belongs to this connection, and goes with it.
      session.resources.add(toDisposable(() => this.options.prompters.forget(id)));
      // Also as an event, for a window that was reloaded while this was under way.
      this.options.emit({ type: 'connected', connection });
      return connection;
    } catch (error) {
      const cancelled = session.resources.isDisposed || isCancelled(error);
      // The failure to connect is what the person needs to hear about; a teardown failure on top
      // of it would only hide it, so it goes to the log.
      await this.endSession(session, false).catch((teardown: unknown) => log.error(`${session.profile.name}: cleaning up after a failed connect`, teardown));
      this.options.emit({ type: 'disconnected', profileId: id, error: cancelled ? undefined : toErrorInfo(error) });
      throw error;
    }
  }

  /** Disconnect, or Cancel while connecting. Any question still open for this server is cancelled. */
  async end(id: string): Promise<void> {
    const session = this.sessions.get(id);
    try {
      if (session) await this.endSession(session, true);
    } finally {
      // Also without a session: a question Diagnose asked for this server must not outlive it.
      this.options.broker.cancelFor(id);
    }
  }

  /** Closes every tunnel (the app is quitting), each to the end even when another fails. */
  async endAll(): Promise<void> {
    const ends = await Promise.allSettled([...this.sessions.values()].map((session) => this.endSession(session, true)));
    const failures = ends.flatMap((end) => (end.status === 'rejected' ? [end.reason as unknown] : []));
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} connections did not close cleanly.`);
  }

  reconnect(id: string): void {
    this.connected(id).tunnel.reconnectNow();
  }

  /** Rebuilds every link now (the computer woke up); a live tunnel keeps its port meanwhile. */
  reconnectAll(): void {
    for (const session of this.sessions.values()) session.tunnel?.reconnectNow();
  }

  async refreshStatus(id: string): Promise<ServerStatus> {
    const session = this.connected(id);
    const status = await freshStatus(session);
    session.connection = { ...session.connection, status, statusError: undefined };
    return status;
  }

  private async newSession(id: string): Promise<Session> {
    const profile = await this.options.loadProfile(id);
    const route = await this.options.ssh.route(profile);
    const resources = new DisposableStore();
    resources.add(toDisposable(() => this.options.closePlexView(id)));
    resources.add(toDisposable(() => this.options.broker.cancelFor(id)));
    // Added last, so it goes first: a login under way stops before its questions are cancelled.
    const login = new AbortController();
    resources.add(toDisposable(() => login.abort()));
    return { profile, route, prompter: this.options.prompters.for(id), resources, ended: login.signal };
  }

  private async endSession(session: Session, announce: boolean): Promise<void> {
    const id = session.profile.id;
    const current = this.sessions.get(id) === session;
    if (current) this.sessions.delete(id);
    try {
      await session.resources.dispose();
    } finally {
      // Gone either way: the window must not keep showing it as connected.
      if (announce && current && session.connection) this.options.emit({ type: 'disconnected', profileId: id });
    }
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
      return { ...base, status: await freshStatus(session) };
    } catch (error) {
      // The tunnel works; Plex behind it does not answer properly. Say so on the card.
      return { ...base, status: null, statusError: toErrorInfo(error) };
    }
  }

  private onTunnelEvent(session: Session, event: TunnelEvent): void {
    const id = session.profile.id;
    // Events of a tunnel that was replaced or closed meanwhile are not this server's news any more.
    if (this.sessions.get(id) !== session) return;
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
        // No request is waiting to hear of a teardown failure here: the log is where it goes.
        void this.endSession(session, false).catch((teardown: unknown) => log.error(`${session.profile.name}: cleaning up after the link was lost`, teardown));
        break;
      case 'closed':
        break;
    }
  }
}

/** Cancel, Disconnect or quitting ended this session while it waited. */
function stillWanted(session: Session): void {
  if (session.resources.isDisposed) {
    throw new ReclaimError('CANCELLED', 'The connection attempt was cancelled.', 'Connect again when you are ready.');
  }
}

/**
 * Plex tells its name only while unclaimed or to its owner; once claimed, the name read
 * earlier on this connection is kept rather than forgotten.
 */
export async function freshStatus(session: Session): Promise<ServerStatus> {
  const { identity, signIn } = await readServerStatus(session.pms!);
  const status: ServerStatus = {
    friendlyName: signIn?.friendlyName,
    version: identity.version,
    claimed: identity.claimed,
    machineIdentifier: identity.machineIdentifier,
    account: signIn?.username,
  };
  const before = session.connection?.status;
  if (!status.friendlyName && before?.machineIdentifier === status.machineIdentifier) status.friendlyName = before.friendlyName;
  return status;
}
