import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPuttyHostKeys } from '../../electron/core/ssh/putty/host-keys.js';
import { listPuttySessions } from '../../electron/core/ssh/putty/sessions.js';
import { PUTTY_REGISTRY_KEY, runRegQuery, type PuttyStorage } from '../../electron/core/ssh/putty/storage.js';

// The registry reading code against a real Windows registry and the real reg.exe: the host keys a
// real PuTTY recorded (test/fixtures/putty/sshhostkeys) and saved sessions, written with `reg add`
// the way PuTTY's storage writes them. They go under a key of this test's own, which the reading
// code sees in PuTTY's place, so a PuTTY installed on the machine is never touched.

const execFileP = promisify(execFile);
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/putty');
const SANDBOX_ROOT = `HKEY_CURRENT_USER\\Software\\ReclaimTest-${process.pid}`;
const SANDBOX = `${SANDBOX_ROOT}\\SimonTatham\\PuTTY`;

const storage: PuttyStorage = {
  kind: 'registry',
  query: async (key, recursive) => (await runRegQuery(key.replace(PUTTY_REGISTRY_KEY, SANDBOX), recursive))?.replaceAll(SANDBOX, PUTTY_REGISTRY_KEY),
};

async function regAdd(key: string, name: string, type: 'REG_SZ' | 'REG_DWORD', data: string | number): Promise<void> {
  await execFileP('reg', ['add', key, '/v', name, '/t', type, '/d', String(data), '/f'], { windowsHide: true, timeout: 15_000 });
}

const PUB_FILES: Record<string, string> = {
  'ssh-ed25519': 'ed25519', 'ssh-rsa': 'rsa', 'ecdsa-sha2-nistp256': 'ecdsa', 'ecdsa-sha2-nistp384': 'ecdsa-384', 'ecdsa-sha2-nistp521': 'ecdsa-521',
};

beforeAll(async () => {
  expect(process.platform).toBe('win32');
  const recorded = (await readFile(path.join(FIXTURES, 'sshhostkeys'), 'utf8')).trim().split('\n');
  for (const line of recorded) {
    const [name, value] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    await regAdd(`${SANDBOX}\\SshHostKeys`, name, 'REG_SZ', value);
  }
  const plex = `${SANDBOX}\\Sessions\\My%20Plex%20Server`;
  await regAdd(plex, 'Present', 'REG_DWORD', 1);
  await regAdd(plex, 'HostName', 'REG_SZ', 'plex.example.com');
  await regAdd(plex, 'Protocol', 'REG_SZ', 'ssh');
  await regAdd(plex, 'PortNumber', 'REG_DWORD', 22);
  await regAdd(plex, 'UserName', 'REG_SZ', 'plex');
  await regAdd(plex, 'ProxyMethod', 'REG_DWORD', 0);
  await regAdd(plex, 'PublicKeyFile', 'REG_SZ', 'C:\\Users\\Sam Jones\\Documents\\plex key.ppk');
  await regAdd(plex, 'PortForwardings', 'REG_SZ', 'L8888=localhost:32400');
  const bastion = `${SANDBOX}\\Sessions\\bastion`;
  await regAdd(bastion, 'HostName', 'REG_SZ', 'gw.example.com');
  await regAdd(bastion, 'PortNumber', 'REG_DWORD', 2222);
  await regAdd(bastion, 'UserName', 'REG_SZ', 'ops');
  const nas = `${SANDBOX}\\Sessions\\nas%20(via%20bastion)%2050%25`;
  await regAdd(nas, 'HostName', 'REG_SZ', 'admin@nas.local');
  await regAdd(nas, 'PortNumber', 'REG_DWORD', 22);
  await regAdd(nas, 'UserName', 'REG_SZ', '');
  await regAdd(nas, 'ProxyMethod', 'REG_DWORD', 6);
  await regAdd(nas, 'ProxyHost', 'REG_SZ', 'bastion');
  await regAdd(nas, 'PortForwardings', 'REG_SZ', '4L127.0.0.1:9999=localhost:22,L32401=127.0.0.1:32400,D1080=');
  const telnet = `${SANDBOX}\\Sessions\\old%20router`;
  await regAdd(telnet, 'HostName', 'REG_SZ', '192.168.1.1');
  await regAdd(telnet, 'Protocol', 'REG_SZ', 'telnet');
});

afterAll(async () => {
  await execFileP('reg', ['delete', SANDBOX_ROOT, '/f'], { windowsHide: true, timeout: 15_000 }).catch(() => undefined);
});

describe('PuTTY data in a real Windows registry', () => {
  it('reads every host key type, with the fingerprints ssh-keygen -lf prints for the same keys', async () => {
    const keys = await readPuttyHostKeys(storage);
    expect(keys).toHaveLength(5);
    for (const key of keys) {
      const pub = (await readFile(path.join(FIXTURES, 'host-keys', `${PUB_FILES[key.type]}.pub`), 'utf8')).split(' ')[1]!;
      const expected = `SHA256:${createHash('sha256').update(Buffer.from(pub, 'base64')).digest('base64').replace(/=+$/, '')}`;
      expect(key.fingerprint, key.entry).toBe(expected);
      expect(key.file).toBe(`${PUTTY_REGISTRY_KEY}\\SshHostKeys`);
    }
    expect(keys.map((key) => [key.host, key.port])).toContainEqual(['2001:db8::20', 22]);
  });

  it('lists the SSH sessions, unescaping their names, with their keys, jump hosts and Plex forwards', async () => {
    expect(await listPuttySessions(storage)).toEqual([
      { name: 'My Plex Server', host: 'plex.example.com', port: 22, user: 'plex', keyFile: 'C:\\Users\\Sam Jones\\Documents\\plex key.ppk', jump: undefined, plexForward: { localPort: 8888, remote: 'localhost:32400' } },
      { name: 'bastion', host: 'gw.example.com', port: 2222, user: 'ops', keyFile: undefined, jump: undefined, plexForward: undefined },
      { name: 'nas (via bastion) 50%', host: 'nas.local', port: 22, user: 'admin', keyFile: undefined, jump: { host: 'gw.example.com', port: 2222, user: 'ops' }, plexForward: { localPort: 32401, remote: '127.0.0.1:32400' } },
    ]);
  });
});
