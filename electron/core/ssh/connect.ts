import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { createAuthHandler, type AskPerson, type AuthAttemptLog, type AuthSettings } from './auth.js';
import { jumpError } from './channel-errors.js';
import { LOOPBACK } from '../common/loopback.js';
import { ReclaimError, isReclaimError } from '../common/errors.js';
import { createHostKeyCheck, hostKeyAlgorithms, type HostKeyStore, type VerifiedHostKey } from './host-keys/policy.js';
import type { Prompter } from './prompter.js';
import { formatHostPort } from '../common/target.js';

// Logging in to an SSH server, directly or through jump hosts. Each hop gets its own host key
// check and sign-in. ssh2's readyTimeout is switched off because it keeps counting while a person
// reads a fingerprint or types a 2FA code; our own login timer pauses whenever someone is asked.

export interface SshHop {
  /** What the person typed or the config alias, for messages. */
  label: string;
  host: string;
  port: number;
  user: string;
  /** IdentityFile entries from ~/.ssh/config for this hop. */
  configIdentityFiles: string[];
}

export interface ConnectSettings {
  auth: Omit<AuthSettings, 'configIdentityFiles'>;
  hostKeys: HostKeyStore;
  prompter: Prompter;
  loginTimeoutMs?: number;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Aborting stops the attempt at once, wherever it is (closing a tunnel while it reconnects). */
  signal?: AbortSignal;
  /** Told as each hop moves on, so a window can show where a slow login is. */
  onProgress?: (step: LoginStep, hop: SshHop) => void;
}

export type LoginStep = 'connecting' | 'verifying-host-key' | 'signing-in';

export interface SshConnection {
  /** The session on the last hop: forwards and commands go through it. */
  client: ssh2.Client;
  hostKey: VerifiedHostKey;
  /** Resolves once any hop of the route has closed, for whatever reason. */
  closed: Promise<void>;
  /** Ends every hop; resolves once all have closed, or once the socket is cut when a dead link does not answer. */
  close(): Promise<void>;
}

const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
// A link that stops answering is given up after (count + 1) intervals, 15 s, so a dropped
// network is noticed and reconnected while the person is still looking, not a minute later.
const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000;
const DEFAULT_KEEPALIVE_COUNT_MAX = 2;
/** How long a closing connection waits for the server's goodbye before it cuts the socket. */
const CLOSE_GRACE_MS = 2_000;

export async function connectRoute(hops: SshHop[], settings: ConnectSettings): Promise<SshConnection> {
  const clients: ssh2.Client[] = [];
  const closeAll = () => {
    for (const client of [...clients].reverse()) client.end();
  };
  try {
    let hostKey: VerifiedHostKey | undefined;
    let tcp: net.Socket | undefined;
    const timeoutMs = settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    for (const [index, hop] of hops.entries()) {
      settings.onProgress?.('connecting', hop);
      let sock: Duplex;
      if (index === 0) sock = tcp = await connectTcp(hop, timeoutMs, settings.signal);
      else sock = await openJumpChannel(clients[index - 1]!, hops[index - 1]!, hop, timeoutMs, settings.signal);
      const login = await loginHop(hop, settings, sock);
      clients.push(login.client);
      hostKey = login.hostKey;
    }
    const closeEvents = clients.map((client) => new Promise<void>((resolve) => client.once('close', () => resolve())));
    const closed = Promise.race(closeEvents);
    const allClosed = Promise.all(closeEvents);
    // One hop gone means the route is gone: take the rest down so nothing lingers half-open.
    void closed.then(closeAll);
    const close = async () => {
      closeAll();
      let cut: NodeJS.Timeout | undefined;
      const cutOff = new Promise<void>((resolve) => {
        cut = setTimeout(() => {
          tcp!.destroy();
          resolve();
        }, CLOSE_GRACE_MS);
      });
      await Promise.race([allClosed, cutOff]);
      clearTimeout(cut);
    };
    return { client: clients[clients.length - 1]!, hostKey: hostKey!, closed, close };
  } catch (error) {
    closeAll();
    throw error;
  }
}

function cancelled(): ReclaimError {
  return new ReclaimError('CANCELLED', 'The connection attempt was cancelled.', 'Connect again when you are ready.');
}

function connectTcp(hop: SshHop, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
  const where = formatHostPort(hop.host, hop.port);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const socket = net.connect({ host: hop.host, port: hop.port });
    const onAbort = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ReclaimError(
        'CONNECT_FAILED',
        `No answer from ${where} within ${Math.round(timeoutMs / 1000)} seconds (timed out).`,
        `Check the address and port, that the server is switched on, and that no firewall or router blocks port ${hop.port}.`,
        { host: hop.host, port: hop.port, reason: 'timeout' },
      ));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Interactive web traffic is many small request/response exchanges; Nagle's algorithm
      // would hold each small SSH packet back waiting for an ACK.
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(tcpError(error, hop));
    });
  });
}

function tcpError(error: NodeJS.ErrnoException, hop: SshHop): ReclaimError {
  const where = formatHostPort(hop.host, hop.port);
  const facts = { host: hop.host, port: hop.port, errno: error.code };
  const options = { cause: error };
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ReclaimError(
        'CONNECT_FAILED',
        `Could not find a server called "${hop.host}" (the name lookup failed).`,
        'Check the spelling of the server name, or use its IP address. If it is a name from your ~/.ssh/config, check the Host line.',
        { ...facts, reason: 'dns' },
        options,
      );
    case 'ECONNREFUSED':
      return new ReclaimError(
        'CONNECT_FAILED',
        `${hop.host} answered, but nothing accepts SSH connections on port ${hop.port} (connection refused).`,
        'Check the port (SSH usually uses 22) and that the SSH server (sshd) is running on that machine.',
        { ...facts, reason: 'refused' },
        options,
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return new ReclaimError(
        'CONNECT_FAILED',
        `Cannot reach ${where} (${error.code === 'ETIMEDOUT' ? 'timed out' : 'no route to it'}).`,
        `Check the address, that the server is switched on and online, and that no firewall or router blocks port ${hop.port}.`,
        { ...facts, reason: error.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable' },
        options,
      );
    default:
      return new ReclaimError(
        'CONNECT_FAILED',
        `Could not connect to ${where} (${error.code ?? error.message}).`,
        'Check the address and your network connection, then try again.',
        { ...facts, reason: 'network' },
        options,
      );
  }
}

/**
 * The jump host connects to the next hop on our behalf and answers only once that connect
 * succeeds or fails, so the same timeout and Cancel apply here as to a direct connect.
 */
function openJumpChannel(jump: ssh2.Client, jumpHop: SshHop, next: SshHop, timeoutMs: number, signal?: AbortSignal): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    let settled = false;
    const settle = (error: ReclaimError | undefined, channel?: ClientChannel) => {
      if (settled) {
        // Too late: the attempt already gave up on this hop.
        channel?.close();
        return;
      }
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(channel!);
    };
    const onAbort = () => settle(cancelled());
    signal?.addEventListener('abort', onAbort, { once: true });
    const where = formatHostPort(next.host, next.port);
    const timer = setTimeout(() => settle(new ReclaimError(
      'CONNECT_FAILED',
      `The jump host ${jumpHop.label} got no answer from ${where} within ${Math.round(timeoutMs / 1000)} seconds (timed out).`,
      `Check the address and port of ${next.label} as the jump host sees it, that it is switched on, and that no firewall between the two blocks port ${next.port}.`,
      { jump: jumpHop.label, target: where, reason: 'timeout' },
    )), timeoutMs);
    try {
      jump.forwardOut(LOOPBACK, 0, next.host, next.port, (error, channel) => {
        if (error) settle(jumpError(error, jumpHop.label, next));
        else settle(undefined, channel);
      });
    } catch (error) {
      // ssh2 throws "Not connected" when the jump host hung up right before this hop.
      settle(new ReclaimError(
        'CONNECT_FAILED',
        `The jump host ${jumpHop.label} closed the connection before it could reach ${where} (${(error as Error).message}).`,
        'Check your network and try again.',
        { jump: jumpHop.label, target: where, reason: 'closed' },
        { cause: error },
      ));
    }
  });
}

/** A timer that stops counting while a person is being asked something. */
class LoginTimer {
  private remaining: number;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pauses = 0;

  constructor(limitMs: number, private readonly onExpire: () => void) {
    this.remaining = limitMs;
    this.run();
  }

  readonly askPerson: AskPerson = async (ask) => {
    this.pause();
    try {
      return await ask();
    } finally {
      this.resume();
    }
  };

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pauses = Number.POSITIVE_INFINITY;
  }

  private run(): void {
    this.startedAt = Date.now();
    this.timer = setTimeout(this.onExpire, this.remaining);
  }

  private pause(): void {
    if (this.pauses++ === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.remaining -= Date.now() - this.startedAt;
    }
  }

  private resume(): void {
    if (--this.pauses === 0) this.run();
  }
}

function loginHop(hop: SshHop, settings: ConnectSettings, sock: Duplex): Promise<{ client: ssh2.Client; hostKey: VerifiedHostKey }> {
  const where = formatHostPort(hop.host, hop.port);
  const loginTimeoutMs = settings.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const fail = (error: ReclaimError) => {
      if (settled) return;
      settled = true;
      settings.signal?.removeEventListener('abort', onAbort);
      timer.stop();
      client.end();
      sock.destroy();
      reject(error);
    };
    const timer = new LoginTimer(loginTimeoutMs, () => fail(new ReclaimError(
      'CONNECT_FAILED',
      `${where} accepted the connection but did not finish the SSH login within ${Math.round(loginTimeoutMs / 1000)} seconds (timed out).`,
      'The server may be overloaded, or something other than an SSH server answers on that port. Try again, or check the port.',
      { host: hop.host, port: hop.port, reason: 'timeout' },
    )));
    const hostKeyCheck = createHostKeyCheck({
      host: hop.host, port: hop.port, store: settings.hostKeys, prompter: settings.prompter, askPerson: timer.askPerson,
    });
    const authLog: AuthAttemptLog = { tried: [], serverAccepts: [], skipped: [], cancelled: false };
    const authHandler = createAuthHandler({
      user: hop.user,
      hostLabel: where,
      settings: { ...settings.auth, configIdentityFiles: hop.configIdentityFiles },
      prompter: settings.prompter,
      askPerson: timer.askPerson,
      log: authLog,
    });

    const onAbort = () => fail(cancelled());
    if (settings.signal?.aborted) onAbort();
    settings.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      settings.signal?.removeEventListener('abort', onAbort);
      timer.stop();
      resolve({ client, hostKey: hostKeyCheck.accepted()! });
    });
    client.on('error', (error: Error & { level?: string }) => {
      if (settled) return;
      const hostKeyFailure = hostKeyCheck.failure();
      if (hostKeyFailure) return fail(hostKeyFailure);
      const keyFile = settings.auth.identityFile;
      if (error.level === 'client-authentication') return fail(authFailure(hop, authLog, keyFile));
      // sshd's MaxAuthTries cuts the login off with a disconnect after too many keys were offered.
      if (/too many authentication failures/i.test(error.message)) return fail(authFailure(hop, authLog, keyFile, true));
      if (error.level === 'client-socket' || error.level === 'client-timeout') {
        return fail(new ReclaimError(
          'CONNECT_FAILED',
          `The connection to ${where} was cut during login (${error.message}).`,
          'Check your network and try again. Servers that block repeated logins (fail2ban) also cut connections like this.',
          { host: hop.host, port: hop.port, reason: 'network' },
          { cause: error },
        ));
      }
      fail(new ReclaimError(
        'SSH_FAILED',
        `SSH negotiation with ${where} failed: ${error.message}.`,
        'Check that this is the SSH port of the server. A very old SSH server may offer only algorithms Reclaim refuses as unsafe; update it.',
        { host: hop.host, port: hop.port, level: error.level },
        { cause: error },
      ));
    });
    client.once('close', () => fail(new ReclaimError(
      'CONNECT_FAILED',
      `${where} closed the connection during login.`,
      'Check that this is the SSH port of the server. Servers that limit logins (MaxStartups, fail2ban, AllowUsers) also close connections like this.',
      { host: hop.host, port: hop.port, reason: 'closed' },
    )));

    hostKeyAlgorithms(settings.hostKeys, hop.host, hop.port)
      .then((serverHostKey) => {
        if (settled) return;
        client.connect({
          sock,
          username: hop.user,
          readyTimeout: 0,
          keepaliveInterval: settings.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
          keepaliveCountMax: settings.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX,
          hostVerifier: (key: Buffer, verify: (trusted: boolean) => void) => {
            settings.onProgress?.('verifying-host-key', hop);
            hostKeyCheck.verify(key, (trusted) => {
              if (trusted) settings.onProgress?.('signing-in', hop);
              verify(trusted);
            });
          },
          authHandler,
          algorithms: { serverHostKey: serverHostKey as ssh2.ServerHostKeyAlgorithm[] },
        });
      })
      .catch((error: unknown) => fail(isReclaimError(error) ? error : new ReclaimError(
        'SSH_FAILED', `Could not start the SSH login to ${where}: ${(error as Error).message}.`, 'Try again; if it persists, report this as a bug.',
        { host: hop.host, port: hop.port }, { cause: error },
      )));
  });
}

/** `keyFile`: the key the person named (-i, Key file): the fix then speaks of that key instead of telling them to name one. */
function authFailure(hop: SshHop, log: AuthAttemptLog, keyFile: string | undefined, tooManyTries = false): ReclaimError {
  if (isReclaimError(log.inputError)) return log.inputError;
  const account = `${hop.user}@${formatHostPort(hop.host, hop.port)}`;
  const accepts = log.serverAccepts.length ? log.serverAccepts.join(', ') : 'unknown';
  const facts = { user: hop.user, host: hop.host, port: hop.port, tried: log.tried, serverAccepts: log.serverAccepts, skipped: log.skipped };
  if (log.cancelled) {
    return new ReclaimError('CANCELLED', `Sign-in to ${account} was cancelled.`, 'Connect again when you have the password or passphrase at hand.');
  }
  if (tooManyTries) {
    return new ReclaimError(
      'AUTH_FAILED',
      `The server stopped the sign-in to ${account} after too many attempts (tried: ${log.tried.join(', ') || 'several keys'}).`,
      keyFile
        ? `The server allows only a few keys per login (MaxAuthTries), and ${keyFile} was not one it accepts. Check that its .pub is in ~/.ssh/authorized_keys on the server, or remove unneeded keys from your SSH agent.`
        : 'The server allows only a few keys per login (MaxAuthTries). Choose the right key (Key file in the app, -i FILE on the command line), or remove unneeded keys from your SSH agent.',
      facts,
    );
  }
  const asksSecret = log.serverAccepts.includes('password') || log.serverAccepts.includes('keyboard-interactive');
  if (log.tried.length === 0 && asksSecret) {
    return new ReclaimError(
      'AUTH_FAILED',
      `${account} wants a password, and Reclaim had no way to ask for one (no terminal, or --json).${log.skipped.length ? ` Skipped: ${log.skipped.join('; ')}.` : ''}`,
      keyFile
        ? `Run it in a terminal to be asked (for the password, or for the passphrase of ${keyFile}), or pass the password with --password-env NAME.`
        : 'Run it in a terminal to be asked, pass the password with --password-env NAME, or sign in with a key (-i FILE).',
      facts,
    );
  }
  const tried = log.tried.length ? log.tried.join(', ') : 'nothing it accepts';
  const skipped = log.skipped.length ? ` Skipped: ${log.skipped.join('; ')}.` : '';
  const keyAdvice = !keyFile
    ? 'sign in with the key the server expects (Key file in the app, -i FILE on the command line)'
    : log.skipped.some((reason) => reason.startsWith(`${keyFile}: wrong passphrase`))
      ? `try ${keyFile} again with its right passphrase`
      : `check that the .pub of ${keyFile} is in ~/.ssh/authorized_keys on the server`;
  return new ReclaimError(
    'AUTH_FAILED',
    `The server refused to sign in ${account}. Tried: ${tried}. The server accepts: ${accepts}.${skipped}`,
    asksSecret
      ? `Check the user name and password (or ${keyAdvice}). Passwords are case-sensitive.`
      : keyFile
        ? `This server accepts only keys: ${keyAdvice}, or load the right key into your SSH agent.`
        : 'This server accepts only keys: choose the private key whose .pub is in ~/.ssh/authorized_keys on the server (Key file in the app, -i FILE on the command line), or load it into your SSH agent.',
    facts,
  );
}
