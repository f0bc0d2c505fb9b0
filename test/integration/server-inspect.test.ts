import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectServer } from '../../electron/core/server/inspect.js';
import { Privilege } from '../../electron/core/server/privilege.js';
import { sshShell } from '../../electron/core/server/server-shell.js';
import { connectRoute, type SshConnection } from '../../electron/core/ssh/connect.js';
import { runRemote } from '../../electron/core/ssh/remote-exec.js';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// The server module over a real SSH session to a real OpenSSH sshd, with the test machine's real
// sudo: the transport (stdin, output cap, timeout), "no Plex here", and sudo saying no. The test
// user is not in sudoers, so sudo asks for its password and then refuses it, as on a server where
// the account may not use sudo.

let dir: string;
let key: KeyPair;
let sshd: Sshd;
let connection: SshConnection;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-inspect-'));
  key = await makeKeyPair(dir, { type: 'ed25519' });
  // A pid namespace of its own: the Plex Media Server stand-ins that other test files start run on
  // this same machine, and would otherwise show in this "server without Plex"'s process table.
  sshd = await startSshd({
    authorizedKeys: [key.publicLine],
    wrap: (command) => ['unshare', '--mount', '--pid', '--fork', '--mount-proc', '--kill-child', '--propagation', 'private', ...command],
  });
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n`);
  connection = await connectRoute(
    [{ label: 'server', host: sshd.host, port: sshd.port, user: sshd.user.name, configIdentityFiles: [] }],
    { auth: { identityFile: key.privatePath }, prompter: {}, hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false } },
  );
});

afterAll(async () => {
  connection?.close();
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the server module over a real SSH session', () => {
  it('runRemote hands stdin to the command, caps its output and closes a command that runs too long', async () => {
    expect(await runRemote(connection.client, 'cat', { stdin: 'only on stdin\n' })).toMatchObject({ exitCode: 0, stdout: 'only on stdin\n', truncated: false });
    const flood = await runRemote(connection.client, 'head -c 1000000 /dev/zero', { maxOutputBytes: 4096 });
    expect(flood).toMatchObject({ truncated: true });
    expect(flood.stdout.length).toBe(4096);
    await expect(runRemote(connection.client, 'sleep 30', { timeoutMs: 500 })).rejects.toThrow(/did not finish within/);
  });

  it('a server without Plex: PLEX_INSTALL_NOT_FOUND, with what to do', async () => {
    await expect(inspectServer(connection.client, {
      plexTv: { checkToken: async () => ({ check: 'valid' }) },
      headers: { 'X-Plex-Client-Identifier': 'inspect-test', 'X-Plex-Product': 'Reclaim' },
    })).rejects.toMatchObject({ code: 'PLEX_INSTALL_NOT_FOUND', fix: expect.stringContaining('sign in as that user or as root') });
  });

  it('sudo without a password to give: SUDO_REQUIRED', async () => {
    const privilege = new Privilege(sshShell(connection.client));
    await expect(privilege.asRoot('id -u', 'test', 'read Plex\'s Preferences')).rejects.toMatchObject({ code: 'SUDO_REQUIRED', message: expect.stringContaining(`sudo asks ${sshd.user.name} for a password`) });
  });

  it('an account sudo does not allow: SUDO_REFUSED, named; a wrong password: SUDO_REFUSED, asked once', async () => {
    const notAllowed = new Privilege(sshShell(connection.client), sshd.user.password);
    await expect(notAllowed.asRoot('id -u', 'test', 'read it')).rejects.toMatchObject({ code: 'SUDO_REFUSED', details: { reason: 'not-allowed' }, message: expect.stringContaining('is not in the sudoers file') });
    let asked = 0;
    const wrong = new Privilege(sshShell(connection.client), async () => {
      asked++;
      return 'not the password';
    });
    const error = await wrong.asRoot('id -u', 'test', 'read it').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SUDO_REFUSED', details: { reason: 'wrong-password' } });
    expect(JSON.stringify(error)).not.toContain('not the password');
    await expect(wrong.asRoot('id -u', 'test', 'read it')).rejects.toBe(error);
    expect(asked).toBe(1);
  });
});
