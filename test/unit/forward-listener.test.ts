import net from 'node:net';
import type ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { ForwardListener } from '../../electron/core/tunnel/forward-listener.js';

// The local end of the tunnel with a stand-in SSH session, for what a real one cannot be made
// to do on cue: a session handed over just as it ends.

const REMOTE = { host: '127.0.0.1', port: 32400 };
const open: Array<{ close(): Promise<void> } | net.Socket> = [];

afterEach(async () => {
  for (const item of open.splice(0)) {
    if (item instanceof net.Socket) item.destroy();
    else await item.close();
  }
});

/** An SSH session that has already ended: ssh2 throws "Not connected" for every new channel. */
function endedSession(): { client: ssh2.Client; attempts(): number; firstAttempt: Promise<void> } {
  let attempts = 0;
  let tried!: () => void;
  const firstAttempt = new Promise<void>((resolve) => (tried = resolve));
  const client = {
    forwardOut() {
      attempts++;
      tried();
      // Bounded, so a listener that keeps retrying shows up as a count instead of a hung test.
      if (attempts < 1000) throw new Error('Not connected');
    },
  } as unknown as ssh2.Client;
  return { client, attempts: () => attempts, firstAttempt };
}

function browserConnection(port: number): net.Socket {
  const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(`GET /web HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
  socket.on('error', () => {});
  open.push(socket);
  return socket;
}

describe('the forward listener', () => {
  it('tries each held connection once on a session that has already ended, and keeps holding it', async () => {
    const first = endedSession();
    const listener = await ForwardListener.onLoopback(0, REMOTE);
    open.push(listener);
    listener.use(first.client);
    const socket = browserConnection(listener.port);
    await first.firstAttempt;

    // The reconnect hands over a session that ends before the connection is carried.
    const second = endedSession();
    listener.use(second.client);
    // One channel for the connection, and at most one for the pool of channels opened ahead.
    expect(second.attempts()).toBeLessThanOrEqual(2);
    expect(socket.destroyed).toBe(false);
  });

  it('tells the hook it was made with about a request it refused', async () => {
    const blocked: string[] = [];
    const listener = await ForwardListener.onLoopback(0, REMOTE, { onBlocked: (reason) => blocked.push(reason) });
    open.push(listener);
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: listener.port }, () => socket.write('GET / HTTP/1.1\r\nHost: rebind.example\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 403/);
    expect(blocked).toEqual([expect.stringContaining('rebind.example')]);
  });
});
