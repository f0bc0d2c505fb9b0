import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCancelled } from '../../electron/core/common/errors.js';
import { connectRoute, type ConnectSettings, type SshHop } from '../../electron/core/ssh/connect.js';
import { EventLog } from '../support/events.js';
import { reclaimErrorOf } from '../support/failure.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { occupyPort } from '../support/net.js';
import { createNetHost, netnsSpawn, type NetHost } from '../support/netns.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// CONNECT_FAILED must say which of the three it was (name lookup, refused, timed out), and a
// port that is not SSH must not look like a password problem.

const execFileP = promisify(execFile);
let dir: string;

beforeAll(async () => {
  await mkdir(path.join(os.tmpdir(), `reclaim-connect-${process.pid}`), { recursive: true });
  dir = path.join(os.tmpdir(), `reclaim-connect-${process.pid}`);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function settings(extra: Partial<ConnectSettings> = {}): ConnectSettings {
  const file = path.join(dir, 'known_hosts');
  return { auth: {}, prompter: {}, hostKeys: { trustFiles: [file], recordFile: file, acceptNew: false }, ...extra };
}

function failure(host: string, port: number, extra: Partial<ConnectSettings> = {}) {
  return reclaimErrorOf(connectRoute([{ label: host, host, port, user: 'nobody', configIdentityFiles: [] }], settings(extra)));
}

it('refused: nothing accepts SSH on that port', async () => {
  const closed = await occupyPort();
  await closed.close();
  const error = await failure('127.0.0.1', closed.port);
  expect(error).toMatchObject({ code: 'CONNECT_FAILED', details: { reason: 'refused' } });
  expect(error.message).toContain(`port ${closed.port}`);
  expect(error.fix).toMatch(/port/);
});

/**
 * An address that swallows packets. A namespace that no longer owns its address drops what
 * arrives for it, silently; a static neighbour entry stops the kernel from answering
 * "unreachable" after a failed ARP instead.
 */
async function swallowingHost(): Promise<NetHost> {
  const host: NetHost = await createNetHost();
  const { stdout } = await execFileP('ip', ['-n', host.name, '-o', 'link', 'show', 'eth0']);
  const mac = /link\/ether ([0-9a-f:]+)/.exec(stdout)![1]!;
  const { stdout: route } = await execFileP('ip', ['-o', 'route', 'get', host.address]);
  const device = /dev (\S+)/.exec(route)![1]!;
  await execFileP('ip', ['-n', host.name, 'addr', 'del', `${host.address}/30`, 'dev', 'eth0']);
  await execFileP('ip', ['neigh', 'replace', host.address, 'lladdr', mac, 'dev', device, 'nud', 'permanent']);
  return host;
}

it('timed out: the address swallows packets', async () => {
  const host = await swallowingHost();
  try {
    const error = await failure(host.address, 22, { connectTimeoutMs: 1000 });
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', details: { reason: 'timeout' } });
    expect(error.message).toMatch(/timed out/);
  } finally {
    await host.destroy();
  }
});

describe('a hop behind a jump host that swallows packets', () => {
  // The jump host (a real sshd) connects onward itself and answers only once that connect ends,
  // which for such an address takes the kernel minutes.
  let jump: Sshd;
  let key: KeyPair;
  let hidden: NetHost;
  let jumpSettings: (extra: Partial<ConnectSettings>) => ConnectSettings;
  beforeAll(async () => {
    key = await makeKeyPair(dir, { type: 'ed25519', name: 'jump_key' });
    jump = await startSshd({ authorizedKeys: [key.publicLine] });
    hidden = await swallowingHost();
    const knownHosts = path.join(dir, 'jump_known_hosts');
    await writeFile(knownHosts, `${jump.knownHostsLine()}\n`);
    jumpSettings = (extra) => ({
      ...settings(extra),
      auth: { identityFile: key.privatePath },
      hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false },
    });
  });
  afterAll(async () => {
    await jump?.stop();
    await hidden?.destroy();
  });

  const route = (): SshHop[] => [
    { label: 'bastion', host: jump.host, port: jump.port, user: jump.user.name, configIdentityFiles: [] },
    { label: 'plex-box', host: hidden.address, port: 22, user: 'nobody', configIdentityFiles: [] },
  ];

  it('times out like a direct connect, naming the jump host', async () => {
    const error = await reclaimErrorOf(connectRoute(route(), jumpSettings({ connectTimeoutMs: 1000 })));
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', details: { reason: 'timeout', jump: 'bastion' } });
    expect(error.message).toMatch(/bastion got no answer from .* \(timed out\)/);
  }, 20_000);

  it('stops at once when cancelled while the jump host is still trying', async () => {
    const cancel = new AbortController();
    const error = await reclaimErrorOf(connectRoute(route(), jumpSettings({
      connectTimeoutMs: 600_000,
      signal: cancel.signal,
      onProgress: (step, hop) => {
        // The channel request goes out in the same turn as this report: cancel once it is out.
        if (step === 'connecting' && hop.label === 'plex-box') setImmediate(() => cancel.abort());
      },
    })));
    expect(isCancelled(error)).toBe(true);
  }, 20_000);
});

it('timed out: something accepts the connection but never speaks SSH', async () => {
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    const error = await failure('127.0.0.1', port, { loginTimeoutMs: 500 });
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', details: { reason: 'timeout' } });
    expect(error.message).toMatch(/did not finish the SSH login/);
  } finally {
    silent.close();
  }
});

it('cancelled: an attempt stopped while it waits is CANCELLED, not a failure to connect', async () => {
  const accepted = new EventLog<'accepted'>();
  const silent = net.createServer(() => accepted.push('accepted'));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  try {
    const stop = new AbortController();
    const attempt = failure('127.0.0.1', (silent.address() as net.AddressInfo).port, { signal: stop.signal });
    await accepted.waitFor(() => true, 'the attempt reaching the silent server');
    stop.abort();
    const error = await attempt;
    expect(error.code).toBe('CANCELLED');
    expect(isCancelled(error)).toBe(true);
    expect(error.message).toMatch(/cancelled/);
  } finally {
    silent.close();
  }
});

describe('not an SSH port', () => {
  let web: HttpTarget;
  beforeAll(async () => {
    web = await startHttpTarget({ port: 0 });
  });
  afterAll(async () => web?.stop());

  it('a web server on the SSH port is SSH_FAILED, pointing at the port, not at the password', async () => {
    const error = await failure('127.0.0.1', web.port);
    expect(error.code).toBe('SSH_FAILED');
    expect(error.fix).toMatch(/SSH port/);
  });
});

describe('name lookup', () => {
  let host: NetHost;
  beforeAll(async () => {
    host = await createNetHost();
    // `ip netns exec` mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf for processes in
    // that namespace: its resolver is the namespace's own loopback, where nothing answers.
    await mkdir(`/etc/netns/${host.name}`, { recursive: true });
    await writeFile(`/etc/netns/${host.name}/resolv.conf`, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  });
  afterAll(async () => {
    await rm(`/etc/netns/${host.name}`, { recursive: true, force: true });
    await host?.destroy();
  });

  it('a name that does not resolve is CONNECT_FAILED naming the name (run by the CLI in a namespace)', async () => {
    const cli = path.resolve('dist/electron/cli/main.js');
    const child = netnsSpawn(host, process.execPath, [cli, 'tunnel', 'plex-box.invalid', '-L', '0', '--json'], {
      env: { PATH: process.env.PATH, HOME: dir, RECLAIM_HOME: dir },
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(1);
    const event = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(event).toMatchObject({ event: 'error', code: 'CONNECT_FAILED', reason: 'dns' });
    expect(event.message).toContain('"plex-box.invalid"');
  });
});
