import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectSettings, SshHop } from '../../electron/core/ssh/connect.js';
import { Tunnel, type TunnelEvent } from '../../electron/core/tunnel/tunnel.js';
import { EventLog } from '../support/events.js';
import { reclaimErrorOf } from '../support/failure.js';
import type { KeyPair } from '../support/keys.js';
import { httpGet, occupyPort, portIsFree, tryConnect } from '../support/net.js';
import type { NetHost } from '../support/netns.js';
import { startSshd, type Sshd, type SshdOptions } from '../support/sshd.js';
import { startTunnelScene, type TunnelScene } from '../support/tunnel-scene.js';

// The forward itself, end to end: a real sshd in a network namespace "server" whose HTTP
// service listens on the server's own 127.0.0.1:32400, reachable only through the tunnel.

let dir: string;
let key: KeyPair;
let server: NetHost;
let sshd: Sshd;
let knownHosts: string;
let scene: TunnelScene | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-tunnel-'));
  scene = await startTunnelScene(dir);
  ({ key, server, sshd, knownHosts } = scene);
});

afterAll(async () => {
  await scene?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Sends raw bytes (so the test controls every header) and returns everything that comes back. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(text));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (/\r\n\r\n/.test(reply) && /Connection: close|Content-Length: \d+/i.test(reply) && reply.length > 40) socket.end();
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
    socket.setTimeout(20_000, () => socket.destroy(new Error('no reply')));
  });
}

/** Another sshd (root namespace, loopback) for one test, trusted beside the main one. */
async function extraSshd(options: SshdOptions = {}): Promise<Sshd> {
  const extra = await startSshd({ authorizedKeys: [key.publicLine], ...options });
  await appendFile(knownHosts, `${extra.knownHostsLine()}\n`);
  return extra;
}

function routeTo(s: Sshd): SshHop[] {
  return [{ label: 'plex-server', host: s.host, port: s.port, user: s.user.name, configIdentityFiles: [] }];
}

function settings(): ConnectSettings {
  return {
    auth: { identityFile: key.privatePath },
    hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false },
    prompter: {},
  };
}

const openError = reclaimErrorOf;

describe('the forward', () => {
  it('reaches the server-only service, and Plex sees the request come from its own 127.0.0.1', async () => {
    expect(await tryConnect(32400, server.address)).not.toBe('connected');
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open({ route: routeTo(sshd), connect: settings(), localPort: 0 }, events.push);
    try {
      const ready = events.events[0];
      expect(ready).toMatchObject({ event: 'ready', localPort: tunnel.localPort, reconnected: false });
      expect(ready).toMatchObject({ webUrl: `http://127.0.0.1:${tunnel.localPort}/web`, hostKey: { fingerprint: sshd.hostKeys[0]!.fingerprint } });
      expect(await httpGet(tunnel.localPort, '/hello')).toEqual({ status: 200, body: 'hello from the server' });
      expect(JSON.parse((await httpGet(tunnel.localPort, '/peer')).body)).toEqual({ remoteAddress: '127.0.0.1' });
      const many = await Promise.all(Array.from({ length: 20 }, () => httpGet(tunnel.localPort, '/hello')));
      expect(many.every((r) => r.body === 'hello from the server')).toBe(true);
      const big = await httpGet(tunnel.localPort, '/bytes?n=5000000');
      expect(big.body.length).toBe(5_000_000);
    } finally {
      await tunnel.close();
    }
  });

  it('listens on 127.0.0.1 only: other addresses of this computer cannot use it', async () => {
    const tunnel = await Tunnel.open({ route: routeTo(sshd), connect: settings(), localPort: 0 });
    try {
      expect(await tryConnect(tunnel.localPort, '127.0.0.1')).toBe('connected');
      // The root side of the veth link is an address of this machine on a real interface.
      expect(await tryConnect(tunnel.localPort, server.peerAddress)).toBe('ECONNREFUSED');
      expect(await tryConnect(tunnel.localPort, '::1')).toBe('ECONNREFUSED');
    } finally {
      await tunnel.close();
    }
  });

  it('names a taken local port instead of picking another or binding wider', async () => {
    const taken = await occupyPort();
    try {
      const error = await openError(Tunnel.open({ route: routeTo(sshd), connect: settings(), localPort: taken.port }));
      expect(error.code).toBe('PORT_IN_USE');
      expect(error.message).toContain(String(taken.port));
      expect(error.fix).toMatch(/another local port/);
    } finally {
      await taken.close();
    }
  });

  it('says nothing listens on the far end (is Plex running?) before serving, and frees the port', async () => {
    const free = await occupyPort();
    await free.close();
    const error = await openError(Tunnel.open({
      route: routeTo(sshd), connect: settings(), localPort: free.port, remote: { host: '127.0.0.1', port: 32400 + 7 },
    }));
    expect(error.code).toBe('REMOTE_NOT_LISTENING');
    expect(error.message).toContain('127.0.0.1:32407');
    expect(await portIsFree(free.port)).toBe(true);
    const plexDown = await extraSshd();
    try {
      const plexError = await openError(Tunnel.open({ route: routeTo(plexDown), connect: settings(), localPort: 0 }));
      expect(plexError.code).toBe('REMOTE_NOT_LISTENING');
      expect(plexError.message).toMatch(/Is Plex Media Server running\?/);
      expect(plexError.fix).toMatch(/Start Plex Media Server/);
    } finally {
      await plexDown.stop();
    }
  });

  it.each([
    ['AllowTcpForwarding no'],
    ['PermitOpen 127.0.0.1:1'],
    ['DisableForwarding yes'],
  ])('explains that the account may not forward (%s)', async (line) => {
    const forbidden = await extraSshd({ config: [line] });
    try {
      const error = await openError(Tunnel.open({ route: routeTo(forbidden), connect: settings(), localPort: 0 }));
      expect(error.code).toBe('FORWARD_PROHIBITED');
      expect(error.fix).toMatch(/AllowTcpForwarding/);
    } finally {
      await forbidden.stop();
    }
  });

  it('refuses forwarding for a key restricted in authorized_keys', async () => {
    const restricted = await extraSshd({ authorizedKeys: [`restrict ${key.publicLine}`] });
    try {
      const error = await openError(Tunnel.open({ route: routeTo(restricted), connect: settings(), localPort: 0 }));
      expect(error.code).toBe('FORWARD_PROHIBITED');
    } finally {
      await restricted.stop();
    }
  });
});

describe('the service stopping under a live tunnel', () => {
  it('is reported as a warning with the fix, while the tunnel stays up', async () => {
    const rootSshd = await extraSshd();
    const service = net.createServer((socket) => socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', () => resolve()));
    const servicePort = (service.address() as net.AddressInfo).port;
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open({ route: routeTo(rootSshd), connect: settings(), localPort: 0, remote: { host: '127.0.0.1', port: servicePort } }, events.push);
    try {
      await new Promise<void>((resolve) => service.close(() => resolve()));
      // Warm channels opened before the stop belong to the old service; use them up first.
      for (let i = 0; i < 10 && !events.events.some((e) => e.event === 'warning'); i++) {
        await httpGet(tunnel.localPort, '/').catch(() => undefined);
      }
      const warning = await events.waitFor((e) => e.event === 'warning', 'a warning');
      expect(warning).toMatchObject({ event: 'warning', code: 'REMOTE_NOT_LISTENING' });
      expect(events.events.some((e) => e.event === 'closed' || e.event === 'error')).toBe(false);
    } finally {
      await tunnel.close();
      await rootSshd.stop();
    }
  });
});

describe('requests from other web pages', () => {
  it('are refused before they reach the server, and reported', async () => {
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open({ route: routeTo(sshd), connect: settings(), localPort: 0 }, events.push);
    try {
      const port = tunnel.localPort;
      const crossSite = await rawRequest(port, `POST /hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://evil.example\r\nContent-Length: 0\r\n\r\n`);
      expect(crossSite).toMatch(/^HTTP\/1\.1 403 Forbidden/);
      expect(crossSite).toContain('https://evil.example');
      const rebound = await rawRequest(port, 'GET /peer HTTP/1.1\r\nHost: rebind.evil.example:8888\r\n\r\n');
      expect(rebound).toMatch(/^HTTP\/1\.1 403 Forbidden/);
      expect(rebound).not.toContain('remoteAddress');
      const ours = await rawRequest(port, `GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
      expect(ours).toMatch(/^HTTP\/1\.1 200/);
      expect(events.events.filter((e) => e.event === 'blocked')).toHaveLength(2);
    } finally {
      await tunnel.close();
    }
  });

  it('are refused even when the body a page posts is written to look like our headers', async () => {
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open({ route: routeTo(sshd), connect: settings(), localPort: 0 }, events.push);
    try {
      const port = tunnel.localPort;
      const body = `x\r\nOrigin: http://127.0.0.1:${port}\r\nSec-Fetch-Site: same-origin\r\n\r\n`;
      // A cross-site form post with a text/plain body: the head and the body arrive in one write.
      const posted = await rawRequest(port, `POST /hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://evil.example\r\n` +
        `Sec-Fetch-Site: cross-site\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      expect(posted).toMatch(/^HTTP\/1\.1 403 Forbidden/);
      expect(events.events.filter((e) => e.event === 'blocked')).toHaveLength(1);
    } finally {
      await tunnel.close();
    }
  });
});

describe('a live tunnel', () => {
  it('serves again by itself after sshd restarts under it, on the same local port', async () => {
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open(
      { route: routeTo(sshd), connect: settings(), localPort: 0, reconnect: { initialDelayMs: 50, maxDelayMs: 400 } },
      events.push,
    );
    try {
      const port = tunnel.localPort;
      expect((await httpGet(port, '/hello')).status).toBe(200);
      await sshd.restart();
      await events.waitFor((e) => e.event === 'reconnecting', 'a reconnecting event');
      const ready = await events.waitFor((e) => e.event === 'ready' && e.reconnected, 'ready again after the restart');
      expect(ready).toMatchObject({ localPort: port });
      expect(await httpGet(port, '/hello')).toEqual({ status: 200, body: 'hello from the server' });
      expect(events.events.some((e) => e.event === 'error' || e.event === 'closed')).toBe(false);
    } finally {
      await tunnel.close();
    }
  });

  it('holds connections made while the link is down and serves them once it is back', async () => {
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open(
      { route: routeTo(sshd), connect: settings(), localPort: 0, reconnect: { initialDelayMs: 50, maxDelayMs: 400 } },
      events.push,
    );
    try {
      await sshd.down();
      await events.waitFor((e) => e.event === 'reconnecting', 'a reconnecting event');
      const pending = httpGet(tunnel.localPort, '/hello');
      await sshd.restart();
      expect(await pending).toEqual({ status: 200, body: 'hello from the server' });
    } finally {
      await tunnel.close();
    }
  });

  it('tries again at once when a page is opened during a long wait, instead of at the end of the backoff', async () => {
    const events = new EventLog<TunnelEvent>();
    // A wait of an hour: the tunnel comes back within this test only if the page cuts it short.
    const hour = 3_600_000;
    const tunnel = await Tunnel.open(
      { route: routeTo(sshd), connect: settings(), localPort: 0, reconnect: { initialDelayMs: hour, maxDelayMs: hour } },
      events.push,
    );
    try {
      await sshd.down();
      await events.waitFor((e) => e.event === 'reconnecting', 'a reconnecting event');
      await sshd.restart();
      // The network is back; the person reloads the page.
      expect(await httpGet(tunnel.localPort, '/hello')).toEqual({ status: 200, body: 'hello from the server' });
      expect(events.events.filter((e) => e.event !== 'ready')).toEqual([
        expect.objectContaining({ event: 'reconnecting', attempt: 1, delayMs: hour }),
      ]);
      expect(events.events.at(-1)).toMatchObject({ event: 'ready', reconnected: true, localPort: tunnel.localPort });
    } finally {
      await tunnel.close();
    }
  });

  it('close() during a reconnect stops the attempt at once, even one stuck waiting on the server', async () => {
    const rootSshd = await extraSshd();
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open(
      { route: routeTo(rootSshd), connect: settings(), localPort: 0, remote: { host: '127.0.0.1', port: rootSshd.port }, reconnect: { initialDelayMs: 10, maxDelayMs: 10 } },
      events.push,
    );
    // The server comes back as something that accepts connections and never says a word.
    const silent = new EventLog<'accepted' | 'dropped'>();
    const mute = net.createServer((socket) => {
      silent.push('accepted');
      socket.on('close', () => silent.push('dropped'));
    });
    try {
      await rootSshd.down();
      await new Promise<void>((resolve) => mute.listen(rootSshd.port, '127.0.0.1', () => resolve()));
      await silent.waitFor((e) => e === 'accepted', 'the reconnect attempt reaching the silent server');
      await tunnel.close();
      await silent.waitFor((e) => e === 'dropped', 'the attempt being abandoned');
      expect(events.events.at(-1)).toEqual({ event: 'closed' });
    } finally {
      mute.close();
      await rootSshd.stop();
    }
  });

  it('close() frees the port and reports closed', async () => {
    const events = new EventLog<TunnelEvent>();
    const tunnel = await Tunnel.open({ route: routeTo(sshd), connect: settings(), localPort: 0 }, events.push);
    const port = tunnel.localPort;
    await tunnel.close();
    expect(events.events.at(-1)).toEqual({ event: 'closed' });
    expect(await portIsFree(port)).toBe(true);
  });
});
