import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRoute, type ConnectSettings } from '../../electron/core/ssh/connect.js';
import { listPuttySessions } from '../../electron/core/ssh/putty/sessions.js';
import { defaultPuttyStorage, type PuttyStorage } from '../../electron/core/ssh/putty/storage.js';
import { resolveTarget } from '../../electron/core/ssh/route.js';
import { exitOf, runCli } from '../support/cli.js';
import { reclaimErrorOf } from '../support/failure.js';
import { httpGet, freePort } from '../support/net.js';
import { createNetHost, type NetHost } from '../support/netns.js';
import { plinkAcceptingHostKey, writePuttySession } from '../support/plink.js';
import { makePpkKey, type PpkKey } from '../support/ppk-keys.js';
import { startHttpTarget, type HttpTarget } from '../support/http-target.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// A PuTTY user's setup, made by the real PuTTY: a saved session (the server, the user, the .ppk
// key, the L8888=localhost:32400 forward of Plex's support article) that plink signs in with,
// accepting the server's key into PuTTY's own cache. Reclaim then uses both as they are.

const SESSION = 'My Plex Server';
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/electron/cli/main.js');

let dir: string;
let puttyDir: string;
let storage: PuttyStorage;
let userKey: PpkKey;
let server: NetHost;
let target: HttpTarget;
let sshd: Sshd;
let localPort: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-putty-'));
  puttyDir = path.join(dir, 'putty');
  userKey = await makePpkKey(dir, 'user', { type: 'ed25519', version: 3 });
  server = await createNetHost();
  target = await startHttpTarget({ host: server });
  // The server has an Ed25519 and an RSA key; this PuTTY prefers RSA, as PuTTY before 0.68 did.
  sshd = await startSshd({ host: server, authorizedKeys: [userKey.publicLine], hostKeyTypes: ['ed25519', 'rsa'] });
  localPort = await freePort();
  await writePuttySession(puttyDir, 'Default%20Settings', { Present: 1, HostName: '', Protocol: 'ssh', PortNumber: 22 });
  await writePuttySession(puttyDir, 'My%20Plex%20Server', {
    Present: 1, HostName: sshd.host, LogFileName: 'putty.log', LogType: 0, Protocol: 'ssh', PortNumber: 22,
    CloseOnExit: 1, PingInterval: 0, PingIntervalSecs: 30, TCPNoDelay: 1, TerminalType: 'xterm', AddressFamily: 0,
    ProxyExcludeList: '', ProxyMethod: 0, ProxyHost: 'proxy', ProxyPort: 80, ProxyUsername: '',
    UserName: sshd.user.name, NoPTY: 0, Compression: 0, TryAgent: 0, AgentFwd: 0,
    HostKey: 'rsa,ed25519,ecdsa,ed448,dsa,WARN', PublicKeyFile: userKey.path, RemoteCommand: '',
    LocalPortAcceptAll: 0, RemotePortAcceptAll: 0, PortForwardings: `L${localPort}=localhost:32400`,
  });
  await writePuttySession(puttyDir, 'Through%20SOCKS', { Present: 1, HostName: 'plex.example.com', Protocol: 'ssh', PortNumber: 22, ProxyMethod: 2, ProxyHost: 'socks.example.com', ProxyPort: 1080 });
  await plinkAcceptingHostKey(puttyDir, SESSION);
  storage = defaultPuttyStorage('linux', { PUTTYDIR: puttyDir }, dir);
});

afterAll(async () => {
  await sshd?.stop();
  await target?.stop();
  await server?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rsaKey = () => sshd.hostKeys.find((key) => key.type === 'ssh-rsa')!;
const noConfig = () => ({ configFile: path.join(dir, 'no-ssh-config'), homeDir: dir });

describe('a PuTTY setup, as PuTTY itself left it', () => {
  it('lists the saved session plink just used, and leaves out the defaults template', async () => {
    const sessions = await listPuttySessions(storage);
    expect(sessions.map((session) => session.name)).toEqual([SESSION, 'Through SOCKS']);
    expect(sessions[0]).toEqual({
      name: SESSION,
      host: sshd.host,
      port: 22,
      user: sshd.user.name,
      keyFile: userKey.path,
      jump: undefined,
      plexForward: { localPort, remote: 'localhost:32400' },
    });
  });

  it('knows the server by the key PuTTY trusts, asks nothing, and signs in with the session\'s .ppk key', async () => {
    const knownHosts = path.join(dir, 'reclaim-known_hosts');
    const { hops } = await resolveTarget({ target: SESSION, putty: storage, config: noConfig() });
    const settings: ConnectSettings = {
      auth: {},
      prompter: {},
      hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false, putty: storage },
    };
    const connection = await connectRoute(hops, settings);
    connection.close();
    await connection.closed;
    // The server offered Ed25519 first; Reclaim asked for the RSA key PuTTY knows.
    expect(connection.hostKey).toEqual({ type: 'ssh-rsa', fingerprint: rsaKey().fingerprint });
    expect(existsSync(knownHosts)).toBe(false);
    // PuTTY's cache is read, never written.
    expect(await readFile(storage.kind === 'files' ? storage.hostKeysFile : '', 'utf8')).toMatch(/^rsa2@22:\S+ 0x10001,0x[0-9a-f]+\n$/);
  });

  it('refuses a server whose key differs from the one PuTTY has, and says how to fix PuTTY\'s copy', async () => {
    // Another server answers where PuTTY knew this one: PuTTY's line, moved to that address.
    const impostor = await startSshd({ hostKeyTypes: ['rsa'] });
    try {
      const otherDir = path.join(dir, 'putty-moved');
      await mkdir(otherDir, { recursive: true });
      const line = (await readFile(path.join(puttyDir, 'sshhostkeys'), 'utf8')).replace(/@22:\S+/, `@${impostor.port}:127.0.0.1`);
      await writeFile(path.join(otherDir, 'sshhostkeys'), line);
      const moved = defaultPuttyStorage('linux', { PUTTYDIR: otherDir }, dir);
      const knownHosts = path.join(dir, 'impostor-known_hosts');
      const error = await reclaimErrorOf(connectRoute(
        [{ label: 'server', host: '127.0.0.1', port: impostor.port, user: impostor.user.name, configIdentityFiles: [] }],
        { auth: {}, prompter: { confirmHostKey: async () => true }, hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: true, putty: moved } },
      ), 'HOST_KEY_CHANGED');
      const file = path.join(otherDir, 'sshhostkeys');
      expect(error.details.known).toEqual([{ file, line: 1, type: 'ssh-rsa', fingerprint: rsaKey().fingerprint }]);
      expect(error.message).toContain(`It was ${rsaKey().fingerprint} and is now ${impostor.hostKeys[0]!.fingerprint}`);
      expect(error.fix).toContain(`let PuTTY replace the old key it keeps (connect with PuTTY and accept the new key when it warns), or remove line 1 (rsa2@${impostor.port}:127.0.0.1) of ${file}`);
      expect(existsSync(knownHosts)).toBe(false);
    } finally {
      await impostor.stop();
    }
  });

  it('says plainly that a session behind a SOCKS proxy cannot be used, and what to do', async () => {
    const error = await reclaimErrorOf(resolveTarget({ target: 'Through SOCKS', putty: storage, config: noConfig() }), 'BAD_INPUT');
    expect(error.message).toBe('The PuTTY session "Through SOCKS" reaches its server through a SOCKS 5 proxy, which Reclaim cannot use.');
    expect(error.fix).toMatch(/SSH to proxy and use port forwarding/);
  });
});

describe('reclaim tunnel with a PuTTY session name', () => {
  it('opens the session\'s own forward to Plex, trusting PuTTY\'s key, with no ssh config at all', async () => {
    const run = runCli(['tunnel', SESSION, '--json'], { home: dir, env: { PUTTYDIR: puttyDir } });
    const ready = await run.events.waitFor((event) => event.event === 'ready', 'the ready line');
    expect(ready).toMatchObject({ localPort, hostKey: { type: 'ssh-rsa', fingerprint: rsaKey().fingerprint } });
    expect((await httpGet(localPort, '/hello')).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await exitOf(run)).toEqual({ code: 0, signal: null });
  });

  it('takes -i key.ppk, asking for its passphrase on the terminal as for an OpenSSH key', async () => {
    const PASSPHRASE = 'typed at the prompt';
    const encrypted = await makePpkKey(dir, 'user-encrypted', { type: 'ed25519', version: 3, passphrase: PASSPHRASE, from: userKey });
    const knownHosts = path.join(dir, 'cli-known_hosts');
    await writeFile(knownHosts, `${sshd.knownHostsLine(0)}\n${sshd.knownHostsLine(1)}\n`);
    const port = await freePort();
    const args = ['tunnel', `${sshd.user.name}@${sshd.host}`, '-i', encrypted.path, '--known-hosts', knownHosts, '-L', String(port)];
    // A real terminal (script(1)), since Reclaim asks for passphrases only where a person can answer.
    const child = spawn('script', ['-qfec', `exec ${[process.execPath, CLI, ...args].map((arg) => `'${arg}'`).join(' ')}`, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: dir, RECLAIM_HOME: path.join(dir, 'reclaim-data'), TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let answered = false;
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no tunnel within 30 s:\n${output}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        // The prompt names the key as the person knows it, from their home folder.
        if (!answered && output.includes(`Enter passphrase for key '~/${path.relative(dir, encrypted.path)}': `)) {
          answered = true;
          child.stdin.write(`${PASSPHRASE}\n`);
        }
        if (output.includes('Tunnel ready: ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(output).not.toContain(PASSPHRASE);
    expect((await httpGet(port, '/hello')).status).toBe(200);
    child.stdin.write('\x03'); // Ctrl+C, as the person would press it
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    expect(await exited, output).toBe(0);
    clearTimeout(timer);
    expect(output).toContain('Tunnel closed.');
  });
});
