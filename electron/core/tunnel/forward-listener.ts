import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type ssh2 from 'ssh2';
import { ReclaimError } from '../common/errors.js';
import { channelOpenReason, forwardError } from '../ssh/channel-errors.js';
import { LOOPBACK } from '../common/loopback.js';
import { headEnd, looksLikeHttp, MAX_HEAD_BYTES, refusal, screenRequest } from './request-screen.js';
import { formatHostPort, type HostPort } from '../common/target.js';
import { WarmChannels } from './warm-channels.js';

// The local end of the tunnel: a listener on 127.0.0.1 (never a wider address: to Plex, what
// arrives through the tunnel is "local" and trusted) whose every connection is carried over its
// own direct-tcpip channel. While the SSH link is down, new connections wait for it to come back
// rather than failing, so a browser that reloads during a reconnect just takes a moment longer.

const MAX_WAITING = 256;
const LOCAL_BUFFER_BYTES = 1024 * 1024;
const SILENT_CLIENT_MS = 500;
const PROBE_TIMEOUT_MS = 20_000;
const MAX_WAIT_MS = 60_000;

export interface ForwardListenerHooks {
  /** Called with the reason whenever a request is refused by the screening (see request-screen.ts). */
  onBlocked?: (reason: string) => void;
  /** Called when the server refuses a channel for a connection (e.g. Plex stopped meanwhile). */
  onRefused?: (error: Error) => void;
  /** Called when a connection starts waiting for the link to come back (a page opened meanwhile). */
  onWaiting?: () => void;
}

export class ForwardListener {
  private client: ssh2.Client | undefined;
  private warm: WarmChannels | undefined;
  private readonly live = new Set<net.Socket>();
  private readonly waiting = new Map<net.Socket, NodeJS.Timeout>();

  private constructor(
    private readonly server: net.Server,
    /** The port it listens on, still known once it is closed. */
    readonly port: number,
    private readonly remote: HostPort,
    private readonly hooks: ForwardListenerHooks,
  ) {}

  /** Binds 127.0.0.1:port (0 = any free port). A taken port is an error naming it, never a fallback. */
  static async onLoopback(port: number, remote: HostPort, hooks: ForwardListenerHooks = {}): Promise<ForwardListener> {
    // A 32 KiB SSH packet would overflow a socket's default 16 KiB write buffer and stall the
    // relay after every packet; 1 MiB stays well inside the channel's 2 MiB window.
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: LOCAL_BUFFER_BYTES });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, port)));
      server.listen({ host: LOOPBACK, port, exclusive: true }, () => resolve());
    });
    const listener = new ForwardListener(server, (server.address() as net.AddressInfo).port, remote, hooks);
    server.on('connection', (socket) => listener.accept(socket));
    // Once listening, an error is a failed accept (e.g. out of file descriptors): that one
    // connection is lost, the listener keeps serving.
    server.on('error', () => {});
    return listener;
  }

  /** The SSH session to carry connections over, or undefined while the link is down. */
  use(client: ssh2.Client | undefined): void {
    this.client = client;
    void this.warm?.close();
    this.warm = client ? new WarmChannels(client, this.remote) : undefined;
    if (!client) return;
    // A copy: a session that has already ended puts each connection straight back into
    // `waiting`, and walking the live map would then visit it again, forever.
    for (const [socket, timer] of [...this.waiting]) {
      clearTimeout(timer);
      this.waiting.delete(socket);
      if (!socket.destroyed) this.carry(socket, client);
    }
  }

  async close(): Promise<void> {
    this.client = undefined;
    const warm = this.warm;
    this.warm = undefined;
    for (const timer of this.waiting.values()) clearTimeout(timer);
    for (const socket of [...this.live, ...this.waiting.keys()]) socket.destroy();
    this.waiting.clear();
    await Promise.all([warm?.close(), new Promise<void>((resolve) => this.server.close(() => resolve()))]);
  }

  private accept(socket: net.Socket): void {
    this.live.add(socket);
    socket.once('close', () => this.live.delete(socket));
    // A browser resetting a connection is routine; without a listener it would crash the process.
    socket.on('error', () => socket.destroy());
    void readHead(socket).then((head) => {
      if (socket.destroyed) return;
      const verdict = screenRequest(head.toString('latin1'), this.port);
      if (!verdict.allowed) {
        this.hooks.onBlocked?.(verdict.reason);
        socket.end(refusal(verdict.reason));
        return;
      }
      if (head.length) socket.unshift(head);
      if (this.client) this.carry(socket, this.client);
      else this.wait(socket);
    });
  }

  private wait(socket: net.Socket): void {
    if (this.waiting.size >= MAX_WAITING) {
      socket.destroy();
      return;
    }
    this.waiting.set(socket, setTimeout(() => {
      this.waiting.delete(socket);
      socket.destroy();
    }, MAX_WAIT_MS));
    socket.once('close', () => {
      clearTimeout(this.waiting.get(socket));
      this.waiting.delete(socket);
    });
    this.hooks.onWaiting?.();
  }

  private carry(socket: net.Socket, client: ssh2.Client): void {
    const warm = this.warm?.take();
    if (warm) {
      join(socket, warm);
      return;
    }
    try {
      // The originator port is informational for sshd; reading the real one costs a syscall.
      client.forwardOut(LOOPBACK, 0, this.remote.host, this.remote.port, (error, channel) => {
        if (!error) return join(socket, channel);
        // No reason code: the link went down before the server answered, so the connection
        // waits for the reconnect like any other. With one, the server refused: say why.
        if (channelOpenReason(error) === undefined) return this.wait(socket);
        socket.destroy();
        this.hooks.onRefused?.(error);
      });
    } catch {
      // "Not connected": the link died between the last event and this connection. Hold the
      // connection until the reconnect hands us a new session.
      this.wait(socket);
    }
  }
}

/**
 * Carries bytes both ways; each side's end is passed on (half-closes stay intact), and a close or
 * an error on either side takes the other down with it.
 */
function join(socket: net.Socket, channel: ssh2.ClientChannel): void {
  if (socket.destroyed) {
    channel.close();
    return;
  }
  relay(socket, channel);
  relay(channel, socket, socket);
  channel.once('close', () => {
    if (!socket.writableEnded) socket.end();
  });
  channel.on('error', () => socket.destroy());
  socket.once('close', () => channel.close());
}

/**
 * Like pipe(), minus its per-chunk bookkeeping. Writes to a local socket are corked for the rest
 * of the tick: one transport read holds several 32 KiB SSH packets, and they leave as one
 * writev instead of one write() each.
 */
function relay(from: Readable, to: Writable, corkable?: net.Socket): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    corkable!.uncork();
  };
  from.on('data', (chunk: Buffer) => {
    if (corkable && !corked) {
      corked = true;
      corkable.cork();
      process.nextTick(uncork);
    }
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  if (from.readableEnded) to.end();
  else from.once('end', () => to.end());
  from.resume();
}

/**
 * The first bytes of a connection, up to the end of the HTTP header block. Protocols where the
 * server speaks first send nothing, so a silent client is passed on after a short wait.
 */
function readHead(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    let head: Buffer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(silence);
      socket.off('data', onData);
      socket.off('end', done);
      socket.off('close', done);
      socket.pause();
      resolve(head);
    };
    const onData = (chunk: Buffer) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const text = head.toString('latin1');
      if (!looksLikeHttp(text) || headEnd(text) >= 0 || head.length >= MAX_HEAD_BYTES) done();
    };
    const silence = setTimeout(done, SILENT_CLIENT_MS);
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('close', done);
    socket.resume(); // accepted sockets start paused (pauseOnConnect)
  });
}

function listenError(error: NodeJS.ErrnoException, port: number): ReclaimError {
  if (error.code === 'EADDRINUSE') {
    return new ReclaimError(
      'PORT_IN_USE',
      `Port ${port} on this computer (127.0.0.1:${port}) is already in use, perhaps by another tunnel or an earlier Reclaim that is still running.`,
      `Close the program that uses port ${port}, or pick another local port (for example 8889, or 0 for any free port).`,
      { port, errno: error.code },
      { cause: error },
    );
  }
  // Permission denied: a port below 1024, which only administrators may open. Saying "in use"
  // would send people hunting for a program that is not there.
  if (error.code === 'EACCES') {
    return new ReclaimError(
      'PORT_NEEDS_PRIVILEGES',
      `Only administrators may listen on port ${port} on this computer (permission denied). Reclaim does not need such a port.`,
      'Pick a local port from 1024 up, for example 8888 (the default), or 0 for any free port.',
      { port },
      { cause: error },
    );
  }
  return new ReclaimError(
    'PORT_IN_USE',
    `Could not listen on 127.0.0.1:${port} (${error.code ?? error.message}).`,
    'Pick another local port, for example 8889, or 0 for any free port.',
    { port, errno: error.code },
    { cause: error },
  );
}

/** Open one channel to the target and close it: proves forwarding is allowed and something listens. */
export function probeForward(client: ssh2.Client, server: string, remote: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    // sshd answers only once its own connect to the target succeeds or fails; a target that
    // swallows packets would otherwise keep everyone waiting for minutes.
    const timer = setTimeout(() => reject(new ReclaimError(
      'FORWARD_FAILED',
      `${server} did not manage to connect to ${formatHostPort(remote.host, remote.port)} within ${PROBE_TIMEOUT_MS / 1000} seconds.`,
      'Check the remote address: something between the server and it drops connections.',
      { server, target: formatHostPort(remote.host, remote.port) },
    )), PROBE_TIMEOUT_MS);
    client.forwardOut(LOOPBACK, 0, remote.host, remote.port, (error, channel) => {
      clearTimeout(timer);
      if (error) {
        reject(forwardError(error, server, remote));
        return;
      }
      channel.on('error', () => {});
      channel.close();
      resolve();
    });
  });
}
