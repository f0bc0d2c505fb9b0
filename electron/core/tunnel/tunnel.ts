import type { ErrorCode } from '../../shared/error-codes.js';
import type ssh2 from 'ssh2';
import { forwardError } from '../ssh/channel-errors.js';
import { ReclaimError, isReclaimError } from '../common/errors.js';
import { log } from '../common/log.js';
import { ForwardListener, probeForward } from './forward-listener.js';
import { LOOPBACK } from '../common/loopback.js';
import type { VerifiedHostKey } from '../ssh/host-keys/policy.js';
import { rememberSecrets } from '../ssh/prompter.js';
import { connectRoute, type ConnectSettings, type SshConnection, type SshHop } from '../ssh/connect.js';
import { formatHostPort, type HostPort } from '../common/target.js';

// The tunnel's life: bind the local port, log in, check the far end answers (like OpenSSH's
// ExitOnForwardFailure, so "forwarding forbidden" and "Plex is not running" show up before anyone
// opens a browser), then keep it alive: when the link drops (sleep, Wi-Fi change, sshd restart)
// the listener stays up and the SSH session is rebuilt with backoff until it serves again. Each of
// these turns is written to the log, with its reason.

export const DEFAULT_LOCAL_PORT = 8888;
const WARNING_INTERVAL_MS = 10_000;
/**
 * Reconnect backoff: 1 s doubling to at most 10 s, so a link that comes back is found within
 * 10 s even with nobody looking. Someone who opens or reloads a page during a wait is looking:
 * that ends the wait (see reconnect()), though no sooner than PAGE_RETRY_GAP_MS after the last
 * attempt, so a page that keeps sending requests cannot turn the retries into a flood.
 */
const RECONNECT_INITIAL_MS = 1000;
const RECONNECT_MAX_MS = 10_000;
const PAGE_RETRY_GAP_MS = 1000;
export const DEFAULT_REMOTE: HostPort = { host: LOOPBACK, port: 32400 };

export interface TunnelOptions {
  route: SshHop[];
  connect: ConnectSettings;
  /** Default 8888; 0 picks any free port. */
  localPort?: number;
  /** Default 127.0.0.1:32400 on the server: Plex trusts only its own loopback. */
  remote?: HostPort;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Called once logged in, as the far end is tried (a window shows it as a step). */
  onCheckingForward?: () => void;
}

export type TunnelEvent =
  | { event: 'ready'; localPort: number; localUrl: string; webUrl: string; hostKey: VerifiedHostKey; reconnected: boolean }
  | { event: 'reconnecting'; attempt: number; delayMs: number; code: ErrorCode; message: string }
  | { event: 'blocked'; reason: string }
  /** The tunnel is up, but the server refused a connection through it (Plex stopped?). */
  | { event: 'warning'; code: ErrorCode; message: string; fix: string }
  | { event: 'error'; error: ReclaimError }
  | { event: 'closed' };

/** Errors that another attempt cannot fix: reconnecting would only repeat them. */
const FATAL_ON_RECONNECT: ReadonlySet<ErrorCode> = new Set([
  'HOST_KEY_UNKNOWN', 'HOST_KEY_CHANGED', 'HOST_KEY_REVOKED', 'AUTH_FAILED', 'BAD_INPUT', 'CANCELLED', 'FORWARD_PROHIBITED',
]);

export class Tunnel {
  private connection: SshConnection | undefined;
  private closing = false;
  private wakeReconnect: (() => void) | undefined;
  /** Set during a reconnect wait: a connection arrived that is waiting for the link. */
  private pageWaiting: (() => void) | undefined;
  private attempt: AbortController | undefined;
  private lastHostKey: VerifiedHostKey | undefined;
  /** How the log names this tunnel; fixed while the port is open, as it is still needed after. */
  private readonly logName: string;

  private constructor(
    private readonly options: TunnelOptions,
    private readonly listener: ForwardListener,
    private readonly emit: (event: TunnelEvent) => void,
  ) {
    this.logName = `tunnel ${LOOPBACK}:${listener.port}`;
  }

  /** Resolves once the tunnel serves; rejects with a ReclaimError (and leaves no port open). */
  static async open(options: TunnelOptions, onEvent: (event: TunnelEvent) => void = () => {}): Promise<Tunnel> {
    const remote = options.remote ?? DEFAULT_REMOTE;
    const server = describeRoute(options.route);
    const serverLabel = options.route[options.route.length - 1]!.label;
    // A browser retries a refused connection many times a second: one warning per burst is enough.
    let lastWarning = 0;
    // Connections wait only once the link has been up, so the tunnel exists by then.
    let onWaiting = () => {};
    const listener = await ForwardListener.onLoopback(options.localPort ?? DEFAULT_LOCAL_PORT, remote, {
      onBlocked: (reason) => onEvent({ event: 'blocked', reason }),
      onRefused: (error) => {
        if (Date.now() - lastWarning < WARNING_INTERVAL_MS) return;
        lastWarning = Date.now();
        const refusal = forwardError(error, serverLabel, remote);
        onEvent({ event: 'warning', code: refusal.code, message: refusal.message, fix: refusal.fix });
      },
      onWaiting: () => onWaiting(),
    }).catch((error: unknown) => {
      log.error(`tunnel to ${server}: could not listen on 127.0.0.1:${options.localPort ?? DEFAULT_LOCAL_PORT}`, error);
      throw error;
    });
    // Held only in this tunnel's memory, for as long as it runs.
    const connect = { ...options.connect, prompter: rememberSecrets(options.connect.prompter) };
    const tunnel = new Tunnel({ ...options, connect }, listener, onEvent);
    onWaiting = () => tunnel.pageWaiting?.();
    try {
      log.info(`${tunnel.logName}: connecting to ${server}, to forward to ${formatHostPort(remote.host, remote.port)} there`);
      const connection = await connectRoute(options.route, connect);
      options.onCheckingForward?.();
      await probeForward(connection.client, serverLabel, remote).catch(async (error: unknown) => {
        await connection.close();
        throw error;
      });
      tunnel.adopt(connection, false);
      return tunnel;
    } catch (error) {
      log.error(`${tunnel.logName}: could not open`, error);
      await listener.close();
      throw error;
    }
  }

  get localPort(): number {
    return this.listener.port;
  }

  /** The server key of the current (or last) link. */
  get hostKey(): VerifiedHostKey | undefined {
    return this.lastHostKey;
  }

  /** The SSH session of the current link, for commands on the server; undefined while it is being rebuilt. */
  get sshClient(): ssh2.Client | undefined {
    return this.connection?.client;
  }

  get localUrl(): string {
    return `http://${LOOPBACK}:${this.localPort}`;
  }

  /**
   * Rebuild the link now, e.g. when the computer wakes up or the network comes back: a live link
   * is dropped and reconnected after the first short delay; a pending wait is cut short.
   */
  reconnectNow(): void {
    log.info(`${this.logName}: reconnecting now (the computer woke up, or Reconnect was pressed)`);
    // Its end is noticed by adopt(), which starts the reconnect.
    if (this.connection) void this.connection.close();
    else this.wakeReconnect?.();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wakeReconnect?.();
    this.attempt?.abort();
    const connection = this.connection;
    this.connection = undefined;
    await Promise.all([connection?.close(), this.listener.close()]);
    log.info(`${this.logName}: closed`);
    this.emit({ event: 'closed' });
  }

  get serverLabel(): string {
    const last = this.options.route[this.options.route.length - 1]!;
    return last.label;
  }

  private adopt(connection: SshConnection, reconnected: boolean): void {
    this.connection = connection;
    this.lastHostKey = connection.hostKey;
    let lastError: Error | undefined;
    connection.client.on('error', (error: Error) => {
      lastError = error;
    });
    void connection.closed.then(() => {
      if (this.connection !== connection || this.closing) return;
      this.connection = undefined;
      this.listener.use(undefined);
      void this.reconnect(lastError);
    });
    this.listener.use(connection.client);
    log.info(`${this.logName}: ${reconnected ? 'reconnected' : 'ready'}, signed in to ${describeRoute(this.options.route)} (server key ${connection.hostKey.type} ${connection.hostKey.fingerprint})`);
    this.emit({
      event: 'ready',
      localPort: this.localPort,
      localUrl: this.localUrl,
      webUrl: `${this.localUrl}/web`,
      hostKey: connection.hostKey,
      reconnected,
    });
  }

  private async reconnect(cause: Error | undefined): Promise<void> {
    const initial = this.options.reconnect?.initialDelayMs ?? RECONNECT_INITIAL_MS;
    const max = this.options.reconnect?.maxDelayMs ?? RECONNECT_MAX_MS;
    let reason: ReclaimError = new ReclaimError(
      'CONNECT_FAILED',
      `The SSH connection to ${this.serverLabel} was lost${cause ? ` (${cause.message === 'Keepalive timeout' ? 'it stopped answering' : cause.message})` : ''}.`,
      'Reclaim reconnects by itself; check your network if this keeps happening.',
      { server: this.serverLabel, reason: 'lost' },
      { cause },
    );
    for (let attempt = 1; !this.closing; attempt++) {
      const delayMs = Math.min(max, initial * 2 ** (attempt - 1));
      log.info(`${this.logName}: reconnecting in ${delayMs} ms (attempt ${attempt}), because ${reason.code}: ${reason.message}`);
      this.emit({ event: 'reconnecting', attempt, delayMs, code: reason.code, message: reason.message });
      await new Promise<void>((resolve) => {
        const waitStarted = Date.now();
        let timer = setTimeout(resolve, delayMs);
        this.wakeReconnect = () => {
          clearTimeout(timer);
          resolve();
        };
        this.pageWaiting = () => {
          this.pageWaiting = undefined;
          const soonest = Math.min(delayMs, PAGE_RETRY_GAP_MS) - (Date.now() - waitStarted);
          log.info(`${this.logName}: a connection is waiting for the link, so attempt ${attempt} is made ${soonest > 0 ? `in ${soonest} ms` : 'now'}`);
          clearTimeout(timer);
          timer = setTimeout(resolve, Math.max(0, soonest));
        };
      });
      this.wakeReconnect = undefined;
      this.pageWaiting = undefined;
      if (this.closing) return;
      try {
        this.attempt = new AbortController();
        const connection = await connectRoute(this.options.route, { ...this.options.connect, signal: this.attempt.signal });
        // A server can change while the link is down: one that now forbids forwarding must not
        // be announced as serving again. Plex not listening yet is normal right after a reboot
        // (sshd starts first), so that one still serves, and requests say what is wrong.
        await probeForward(connection.client, this.serverLabel, this.options.remote ?? DEFAULT_REMOTE).catch((error: unknown) => {
          if (isReclaimError(error) && error.code === 'REMOTE_NOT_LISTENING') return;
          connection.close();
          throw error;
        });
        if (this.closing) {
          await connection.close();
          return;
        }
        this.adopt(connection, true);
        return;
      } catch (error) {
        if (isReclaimError(error)) {
          reason = error;
        } else {
          // A fault in Reclaim rather than the network: the log gets its stack, the banner a line.
          log.error(`${this.logName}: reconnect attempt ${attempt}`, error);
          reason = new ReclaimError('CONNECT_FAILED', `Reconnecting failed: ${(error as Error).message}.`, 'Reclaim keeps trying.', { server: this.serverLabel, reason: 'lost' }, { cause: error });
        }
        if (FATAL_ON_RECONNECT.has(reason.code)) {
          log.error(`${this.logName}: stopped reconnecting`, reason);
          this.emit({ event: 'error', error: reason });
          await this.close();
          return;
        }
      }
    }
  }
}

/** `user@host:port through jump` for the log. */
function describeRoute(route: SshHop[]): string {
  const last = route[route.length - 1]!;
  const jumps = route.slice(0, -1).map((hop) => hop.label);
  return `${last.user}@${formatHostPort(last.host, last.port)}${jumps.length ? ` through ${jumps.join(', ')}` : ''}`;
}
