import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectRoute, type SshConnection } from '../../electron/core/ssh/connect.js';
import { WarmChannels } from '../../electron/core/tunnel/warm-channels.js';
import { EventLog } from '../support/events.js';
import { makeKeyPair } from '../support/keys.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// Channels opened ahead of need are real connections to the service on the server: the service
// here counts them, so the test sees exactly what Plex would see.

let dir: string;
let sshd: Sshd;
let connection: SshConnection;
let service: net.Server;
const seen = new EventLog<'open' | 'close'>();
/** Connections the service closes as soon as they open, as a restarting Plex would. */
let hangUpAtOnce = false;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-warm-'));
  const key = await makeKeyPair(dir, { type: 'ed25519' });
  sshd = await startSshd({ authorizedKeys: [key.publicLine] });
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n`);
  service = net.createServer((socket) => {
    seen.push('open');
    socket.on('close', () => seen.push('close'));
    socket.on('error', () => {});
    if (hangUpAtOnce) socket.destroy();
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', () => resolve()));
  connection = await connectRoute(
    [{ label: 'server', host: sshd.host, port: sshd.port, user: sshd.user.name, configIdentityFiles: [] }],
    { auth: { identityFile: key.privatePath }, prompter: {}, hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false } },
  );
});

afterAll(async () => {
  await connection?.close();
  service?.close();
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

const count = (kind: 'open' | 'close') => seen.events.filter((e) => e === kind).length;
const nth = (kind: 'open' | 'close', n: number) => seen.waitFor(() => count(kind) >= n, `${n} ${kind} events`);

it('opens a few channels while connections arrive, hands them out, and holds none once idle', async () => {
  const port = (service.address() as net.AddressInfo).port;
  const available = new EventLog<number>();
  const warm = new WarmChannels(connection.client, { host: '127.0.0.1', port }, { size: 2, maxAgeMs: 300, idleAfterMs: 100, onReady: available.push });
  try {
    expect(warm.take()).toBeUndefined(); // nothing is opened before the first demand
    await nth('open', 2);
    await available.waitFor((n) => n === 2, 'two warm channels ready');
    const used = warm.take();
    expect(used).toBeDefined();
    await nth('open', 3); // refilled behind the one handed out
    // No more demand: each warm channel ages out and is not replaced, so Plex sees them all close.
    await nth('close', 2);
    expect(count('open')).toBe(3);
    used!.close();
    await nth('close', 3);
    expect(count('open')).toBe(3);
  } finally {
    await warm.close();
  }
});

it('never hands out a channel the server has already closed', async () => {
  const port = (service.address() as net.AddressInfo).port;
  const before = count('close');
  hangUpAtOnce = true;
  const available = new EventLog<number>();
  const warm = new WarmChannels(connection.client, { host: '127.0.0.1', port }, { size: 2, maxAgeMs: 60_000, idleAfterMs: 60_000, onReady: available.push });
  try {
    warm.take();
    await available.waitFor((n) => n === 2, 'two warm channels opened');
    await nth('close', before + 2);
    // SSH messages arrive in order: once a later channel open is answered, the server's EOF for
    // the warm channels has been processed too.
    await new Promise<void>((resolve, reject) => connection.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (error, channel) => {
      if (error) return reject(error);
      channel.on('error', () => {});
      channel.close();
      resolve();
    }));
    hangUpAtOnce = false;
    expect(warm.take()).toBeUndefined();
  } finally {
    hangUpAtOnce = false;
    await warm.close();
  }
});
