import net from 'node:net';
import type ssh2 from 'ssh2';
import { ReclaimError } from './errors.js';
import type { HostPort } from './target.js';

// The local end of the tunnel: a listener on 127.0.0.1 (never a wider address: to Plex, what
// arrives through the tunnel is "local" and trusted) whose every connection is carried over its
// own direct-tcpip channel. While the SSH link is down, new connections wait for it to come back
// rather than failing, so a browser that reloads during a reconnect just takes a moment longer.

export const LOOPBACK = '127.0.0.1';

const MAX_WAITING = 256;
const MAX_WAIT_MS = 60_000;

export class ForwardListener {
  private client: ssh2.Client | undefined;
  private readonly live = new Set<net.Socket>();
  private readonly waiting = new Map<net.Socket, NodeJS.Timeout>();

  private constructor(private readonly server: net.Server, private readonly remote: HostPort) {}

  /** Binds 127.0.0.1:port (0 = any free port). A taken port is an error naming it, never a fallback. */
  static async listen(port: number, remote: HostPort): Promise<ForwardListener> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, port)));
      server.listen({ host: LOOPBACK, port, exclusive: true }, () => resolve());
    });
    const listener = new ForwardListener(server, remote);
    server.on('connection', (socket) => listener.accept(socket));
    return listener;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The SSH session to carry connections over, or undefined while the link is down. */
  use(client: ssh2.Client | undefined): void {
    this.client = client;
    if (!client) return;
    for (const [socket, timer] of this.waiting) {
      clearTimeout(timer);
      this.waiting.delete(socket);
      if (!socket.destroyed) this.carry(socket, client);
    }
  }

  /** Connections currently carried or waiting, e.g. to tell a person how many will be cut. */
  get connectionCount(): number {
    return this.live.size + this.waiting.size;
  }

  async close(): Promise<void> {
    this.client = undefined;
    for (const timer of this.waiting.values()) clearTimeout(timer);
    for (const socket of [...this.live, ...this.waiting.keys()]) socket.destroy();
    this.waiting.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.live.add(socket);
    socket.once('close', () => this.live.delete(socket));
    // A browser resetting a connection is routine; without a listener it would crash the process.
    socket.on('error', () => socket.destroy());
    if (this.client) this.carry(socket, this.client);
    else this.wait(socket);
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
  }

  private carry(socket: net.Socket, client: ssh2.Client): void {
    const onOpen = (error: Error | undefined, channel: ssh2.ClientChannel) => {
      if (error) {
        socket.destroy();
        return;
      }
      if (socket.destroyed) {
        channel.close();
        return;
      }
      // pipe() ends each side when the other ends, keeping half-closes intact; a close or an
      // error on either side then takes the other down with it.
      socket.pipe(channel).pipe(socket);
      channel.once('close', () => socket.end());
      channel.on('error', () => socket.destroy());
      socket.once('close', () => channel.close());
    };
    try {
      client.forwardOut(LOOPBACK, socket.remotePort ?? 0, this.remote.host, this.remote.port, onOpen);
    } catch {
      // "Not connected": the link died between the last event and this connection. Hold the
      // connection until the reconnect hands us a new session.
      this.wait(socket);
    }
  }
}

function listenError(error: NodeJS.ErrnoException, port: number): ReclaimError {
  if (error.code === 'EADDRINUSE') {
    return new ReclaimError(
      'PORT_IN_USE',
      `Port ${port} on this computer (127.0.0.1:${port}) is already in use, perhaps by another tunnel or an earlier Reclaim that is still running.`,
      `Close the program that uses port ${port}, or pick another local port (for example 8889, or 0 for any free port).`,
      { port },
    );
  }
  if (error.code === 'EACCES') {
    return new ReclaimError(
      'PORT_IN_USE',
      `This computer does not let Reclaim listen on port ${port} (permission denied).`,
      'Pick a local port above 1024, for example 8888, or 0 for any free port.',
      { port },
    );
  }
  return new ReclaimError(
    'PORT_IN_USE',
    `Could not listen on 127.0.0.1:${port} (${error.code ?? error.message}).`,
    'Pick another local port, for example 8889, or 0 for any free port.',
    { port },
  );
}
