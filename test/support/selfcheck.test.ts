// Proves the integration test bed works: real sshd (in and out of network
// namespaces), PAM logins, restart semantics, ProxyJump isolation, and the
// forwarding failure codes. Requires root (see test/support/*.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpTarget, type HttpTarget } from './http-target.js';
import { makeKeyPair, type KeyPair } from './keys.js';
import { createNetHost, destroyAllNetHosts, type NetHost } from './netns.js';
import { startSshd, stopAllSshds, type Sshd } from './sshd.js';

const T = { timeout: 60_000 };
const clients = new Set<Client>();

/** Connect and authenticate; host key must be exactly sshd.hostKeys[0]. */
function sshConnect(sshd: Sshd, auth: Partial<ConnectConfig>, onKeyboard?: (prompts: string[]) => void): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    clients.add(client);
    client.on('ready', () => resolve(client));
    client.on('error', reject);
    client.on('close', () => clients.delete(client));
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
      onKeyboard?.(prompts.map((p) => p.prompt));
      finish(prompts.map((p) => (/password/i.test(p.prompt) ? sshd.user.password : '')));
    });
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user.name,
      readyTimeout: 20_000,
      hostVerifier: (key: Buffer) => key.equals(sshd.hostKeys[0]!.blob),
      ...auth,
    });
  });
}

function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}

/** One HTTP GET over an already-open stream (e.g. a forwardOut channel). */
function httpGet(channel: ClientChannel, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ path, createConnection: () => channel as unknown as Socket }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function exec(client: Client, command: string): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let code: number | null = null;
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.resume();
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('close', () => resolve({ stdout, code }));
    });
  });
}

/** Resolves with the error code of a TCP connect that must fail (bounded). */
function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect to ${host}:${port} neither failed nor succeeded within 5 s`));
    }, 5_000);
    sock.on('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      reject(new Error(`connect to ${host}:${port} unexpectedly succeeded`));
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}

function closed(client: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ssh client not closed within ${timeoutMs} ms`)), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('test bed self-check', () => {
  const keyDir = mkdtempSync(join(tmpdir(), 'reclaim-selfcheck-'));
  let key: KeyPair;
  let host: NetHost;
  let sshd: Sshd;
  let target: HttpTarget;

  beforeAll(async () => {
    key = await makeKeyPair(keyDir, { type: 'ed25519' });
    host = await createNetHost();
    sshd = await startSshd({ host, authorizedKeys: [key.publicLine] });
    target = await startHttpTarget({ host });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await target?.stop();
    await stopAllSshds();
    await destroyAllNetHosts();
    rmSync(keyDir, { recursive: true, force: true });
  }, 60_000);

  it('(a) key login inside a NetHost; forwardOut reaches the target as 127.0.0.1; target not reachable from root', T, async () => {
    expect(sshd.host).toBe(host.address);
    expect(sshd.port).toBe(22);
    expect(sshd.knownHostsLine()).toBe(`${host.address} ${sshd.hostKeys[0]!.type} ${sshd.hostKeys[0]!.blob.toString('base64')}`);
    expect(sshd.hostKeys[0]!.fingerprint).toMatch(/^SHA256:/);

    const client = await sshConnect(sshd, { privateKey: readFileSync(key.privatePath) });
    await sshd.waitForLog(/Accepted publickey for reclaimtest/);
    const peer = await httpGet(await forwardOut(client, '127.0.0.1', target.port), '/peer');
    expect(peer.status).toBe(200);
    expect(JSON.parse(peer.body)).toEqual({ remoteAddress: '127.0.0.1' });
    const hello = await httpGet(await forwardOut(client, '127.0.0.1', target.port), '/hello');
    expect(hello.body).toBe('hello from the server');
    // Commands run too (PAM session setup works for exec, not just forwarding).
    expect(await exec(client, 'id -un')).toEqual({ stdout: 'reclaimtest\n', code: 0 });
    client.end();

    expect(await connectError(host.address, target.port)).toBe('ECONNREFUSED');
    expect(await connectError('127.0.0.1', target.port)).toBe('ECONNREFUSED');
  });

  it('(b) password login', T, async () => {
    const client = await sshConnect(sshd, { password: sshd.user.password });
    await sshd.waitForLog(/Accepted password for reclaimtest/);
    expect((await exec(client, 'echo ok')).stdout).toBe('ok\n');
    client.end();
  });

  it('(c) keyboard-interactive login answering the PAM prompt', T, async () => {
    const kbd = await startSshd({ config: ['AuthenticationMethods keyboard-interactive'] });
    expect(kbd.host).toBe('127.0.0.1');
    let prompts: string[] = [];
    const client = await sshConnect(kbd, { tryKeyboard: true }, (p) => (prompts = p));
    expect(prompts).toEqual([expect.stringMatching(/^Password: ?$/)]);
    await kbd.waitForLog(/Accepted keyboard-interactive\/pam for reclaimtest/);
    expect((await exec(client, 'echo ok')).stdout).toBe('ok\n');
    client.end();
    await kbd.stop();
    await kbd.stop(); // idempotent
    expect(await connectError('127.0.0.1', kbd.port)).toBe('ECONNREFUSED');
  });

  it('(d) restart() drops live connections, then accepts new ones', T, async () => {
    const rs = await startSshd({ authorizedKeys: [key.publicLine] });
    const first = await sshConnect(rs, { privateKey: readFileSync(key.privatePath) });
    // A live session with a running command, like a user would have.
    first.exec('sleep 600', () => {});
    const dropped = closed(first, 15_000);
    await rs.restart();
    await dropped;
    expect(rs.log().match(/Server listening on/g)).toHaveLength(2);
    const second = await sshConnect(rs, { privateKey: readFileSync(key.privatePath) });
    expect((await exec(second, 'echo again')).stdout).toBe('again\n');
    second.end();
    await rs.stop();
  });

  it('(e) ProxyJump: B only reachable through A', T, async () => {
    const a = await createNetHost();
    const b = await createNetHost({ peer: a });
    expect(b.peerAddress).not.toBe(a.address);
    const jump = await startSshd({ host: a, authorizedKeys: [key.publicLine] });
    const server = await startSshd({ host: b, authorizedKeys: [key.publicLine], hostKeyTypes: ['ecdsa', 'rsa'] });
    expect(server.hostKeys.map((k) => k.type)).toEqual(['ecdsa-sha2-nistp256', 'ssh-rsa']);

    expect(await connectError(b.address, 22)).toMatch(/EHOSTUNREACH|ENETUNREACH/);

    const viaJump = await sshConnect(jump, { privateKey: readFileSync(key.privatePath) });
    const sock = await forwardOut(viaJump, b.address, 22);
    const inner = await sshConnect(server, { sock, privateKey: readFileSync(key.privatePath) });
    await server.waitForLog(new RegExp(`Accepted publickey for reclaimtest from ${b.peerAddress.replace(/\./g, '\\.')} `));
    expect((await exec(inner, 'echo inner')).stdout).toBe('inner\n');
    inner.end();
    viaJump.end();
    await server.stop();
    await jump.stop();
    await b.destroy();
    await a.destroy();
    await a.destroy(); // idempotent
  });

  it('(f) forwardOut failure reasons: 1 = prohibited, 2 = connect failed', T, async () => {
    const noFwd = await startSshd({ authorizedKeys: [key.publicLine], config: ['AllowTcpForwarding no'] });
    const c1 = await sshConnect(noFwd, { privateKey: readFileSync(key.privatePath) });
    await expect(forwardOut(c1, '127.0.0.1', target.port)).rejects.toMatchObject({ reason: 1 });
    c1.end();
    await noFwd.stop();

    const c2 = await sshConnect(sshd, { privateKey: readFileSync(key.privatePath) });
    await expect(forwardOut(c2, '127.0.0.1', 1)).rejects.toMatchObject({ reason: 2 });
    c2.end();
  });
});
