import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { profilesFromPutty } from '../../electron/core/app/putty-profiles.js';
import { checkPuttyHostKey, puttyKeysFor, readPuttyHostKeys } from '../../electron/core/ssh/putty/host-keys.js';
import { listPuttySessions } from '../../electron/core/ssh/putty/sessions.js';
import { defaultPuttyStorage, PUTTY_REGISTRY_KEY, type PuttyStorage } from '../../electron/core/ssh/putty/storage.js';
import { resolveRoute } from '../../electron/core/ssh/route.js';
import { fingerprintOf } from '../support/keys.js';

// What Reclaim makes of PuTTY's saved data: the host keys a real PuTTY recorded, in its file
// (Linux, macOS) and as reg.exe prints the same values from the registry (Windows), and a
// registry full of saved sessions. Fingerprints must be exactly what `ssh-keygen -lf` prints.

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/putty');
const HOST_KEYS = `${PUTTY_REGISTRY_KEY}\\SshHostKeys`;

/** reg.exe, as recorded: the fixture for the key asked about, nothing for any other key. */
function recordedRegistry(): { storage: PuttyStorage; asked: Array<[string, boolean]> } {
  const asked: Array<[string, boolean]> = [];
  const outputs: Record<string, string> = {
    [`${PUTTY_REGISTRY_KEY}\\SshHostKeys`]: 'reg-query-SshHostKeys.txt',
    [`${PUTTY_REGISTRY_KEY}\\Sessions`]: 'reg-query-Sessions.txt',
  };
  return {
    asked,
    storage: {
      kind: 'registry',
      query: async (key, recursive) => {
        asked.push([key, recursive]);
        return outputs[key] ? readFile(path.join(FIXTURES, outputs[key]), 'latin1') : undefined;
      },
    },
  };
}

const EXPECTED: Array<{ pub: string; type: string; host: string; port: number }> = [
  { pub: 'ed25519', type: 'ssh-ed25519', host: 'plex.example.com', port: 22 },
  { pub: 'rsa', type: 'ssh-rsa', host: 'plex.example.com', port: 22 },
  { pub: 'ecdsa', type: 'ecdsa-sha2-nistp256', host: '192.168.1.20', port: 2222 },
  { pub: 'ecdsa-384', type: 'ecdsa-sha2-nistp384', host: 'nas.local', port: 22 },
  { pub: 'ecdsa-521', type: 'ecdsa-sha2-nistp521', host: '2001:db8::20', port: 22 },
];

describe('the host keys PuTTY trusts', () => {
  let fingerprints: string[];
  let blobs: Buffer[];
  beforeAll(async () => {
    fingerprints = await Promise.all(EXPECTED.map((key) => fingerprintOf(path.join(FIXTURES, 'host-keys', `${key.pub}.pub`))));
    blobs = await Promise.all(EXPECTED.map(async (key) =>
      Buffer.from((await readFile(path.join(FIXTURES, 'host-keys', `${key.pub}.pub`), 'utf8')).split(' ')[1]!, 'base64')));
  });

  it('reads every key type from the registry, with the fingerprints ssh-keygen -lf prints', async () => {
    const { storage, asked } = recordedRegistry();
    const keys = await readPuttyHostKeys(storage);
    expect(asked).toEqual([[HOST_KEYS, false]]);
    expect(keys.map((key) => [key.type, key.host, key.port, key.fingerprint, key.file, key.line])).toEqual(
      EXPECTED.map((key, index) => [key.type, key.host, key.port, fingerprints[index], HOST_KEYS, 0]),
    );
    expect(keys.map((key) => key.blob.toString('base64'))).toEqual(blobs.map((blob) => blob.toString('base64')));
  });

  it('reads the same keys from ~/.putty/sshhostkeys, with their line numbers', async () => {
    const storage: PuttyStorage = { kind: 'files', sessionsDir: path.join(FIXTURES, 'none'), hostKeysFile: path.join(FIXTURES, 'sshhostkeys') };
    const keys = await readPuttyHostKeys(storage);
    expect(keys.map((key) => [key.fingerprint, key.file, key.line])).toEqual(fingerprints.map((fingerprint, index) => [fingerprint, storage.hostKeysFile, index + 1]));
  });

  it('judges a key as known_hosts would: the same key is trusted, another of its type changed, another type unknown', async () => {
    const keys = await readPuttyHostKeys(recordedRegistry().storage);
    const forPlex = puttyKeysFor(keys, 'PLEX.example.com', 22);
    expect(forPlex.map((key) => key.type)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(checkPuttyHostKey(forPlex, { type: 'ssh-rsa', blob: blobs[1]! })).toEqual({ kind: 'trusted', file: HOST_KEYS, line: 0 });
    // The nistp256 key shown by plex.example.com: PuTTY has keys for it, none of that type.
    expect(checkPuttyHostKey(forPlex, { type: 'ecdsa-sha2-nistp256', blob: blobs[2]! })).toEqual({
      kind: 'unknown',
      otherTypesKnown: [
        { file: HOST_KEYS, line: 0, type: 'ssh-ed25519', fingerprint: fingerprints[0] },
        { file: HOST_KEYS, line: 0, type: 'ssh-rsa', fingerprint: fingerprints[1] },
      ],
    });
    // 192.168.1.20:2222 knows a nistp256 key; another nistp256 key there is a changed key.
    const other = Buffer.from(blobs[2]!);
    other[other.length - 1] = other.at(-1)! ^ 1;
    expect(checkPuttyHostKey(puttyKeysFor(keys, '192.168.1.20', 2222), { type: 'ecdsa-sha2-nistp256', blob: other })).toEqual({
      kind: 'changed',
      known: [{ file: HOST_KEYS, line: 0, type: 'ecdsa-sha2-nistp256', fingerprint: fingerprints[2] }],
    });
    expect(puttyKeysFor(keys, '192.168.1.20', 22)).toEqual([]);
  });

  it('finds nothing, and no error, where PuTTY has never been', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'reclaim-no-putty-'));
    try {
      expect(await readPuttyHostKeys(defaultPuttyStorage('linux', {}, empty))).toEqual([]);
      expect(await listPuttySessions(defaultPuttyStorage('darwin', {}, empty))).toEqual([]);
      expect(await readPuttyHostKeys({ kind: 'registry', query: async () => undefined })).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('PuTTY\'s saved sessions in the registry', () => {
  it('offers each SSH session with what Reclaim can use of it', async () => {
    const { storage, asked } = recordedRegistry();
    const sessions = await listPuttySessions(storage);
    expect(asked).toEqual([[`${PUTTY_REGISTRY_KEY}\\Sessions`, true]]);
    expect(sessions).toEqual([
      { name: 'My Plex Server', host: 'plex.example.com', port: 22, user: 'plex', keyFile: 'C:\\Users\\Sam Jones\\Documents\\plex key.ppk', jump: undefined, plexForward: { localPort: 8888, remote: 'localhost:32400' } },
      { name: 'Plex \\ office 50%', host: '10.0.0.5', port: 2200, user: 'root', keyFile: undefined, jump: { host: 'jump.example.com', port: 22, user: 'me' }, plexForward: { localPort: 8889, remote: 'media.lan:32400' } },
      { name: 'bastion', host: 'gw.example.com', port: 2222, user: 'ops', keyFile: undefined, jump: undefined, plexForward: undefined },
      { name: 'nas (via bastion)', host: 'nas.local', port: 22, user: 'admin', keyFile: undefined, jump: { host: 'gw.example.com', port: 2222, user: 'ops' }, plexForward: { localPort: 32401, remote: '127.0.0.1:32400' } },
      { name: 'through socks', host: 'media.example.com', port: 22, user: 'plex', keyFile: undefined, jump: { unsupported: 'a SOCKS 5 proxy' }, plexForward: undefined },
    ]);
  });

  it('routes a session name through its jump host, named by another saved session', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-putty-route-'));
    try {
      await mkdir(path.join(home, '.ssh'));
      const hops = await resolveRoute({ target: 'nas (via bastion)', putty: recordedRegistry().storage, config: { homeDir: home, localUser: 'me' } });
      expect(hops.map((hop) => [hop.label, hop.user, hop.host, hop.port, hop.configIdentityFiles])).toEqual([
        ['ops@gw.example.com:2222', 'ops', 'gw.example.com', 2222, []],
        ['nas (via bastion)', 'admin', 'nas.local', 22, []],
      ]);
      // -p and -J typed on the command line still win.
      const typed = await resolveRoute({ target: 'My Plex Server', port: 2022, jump: 'gw2.example.com', putty: recordedRegistry().storage, config: { homeDir: home, localUser: 'me' } });
      expect(typed.map((hop) => [hop.user, hop.host, hop.port, hop.configIdentityFiles])).toEqual([
        ['me', 'gw2.example.com', 22, []],
        ['plex', 'plex.example.com', 2022, ['C:\\Users\\Sam Jones\\Documents\\plex key.ppk']],
      ]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('Import from PuTTY in the app', () => {
  it('offers the sessions as server forms, leaving out the one behind a SOCKS proxy', async () => {
    expect(await profilesFromPutty(recordedRegistry().storage)).toEqual([
      { name: 'My Plex Server', host: 'plex.example.com', sshPort: 22, user: 'plex', auth: 'key', keyPath: 'C:\\Users\\Sam Jones\\Documents\\plex key.ppk', jump: '', localPort: 8888, remote: 'localhost:32400' },
      { name: 'Plex \\ office 50%', host: '10.0.0.5', sshPort: 2200, user: 'root', auth: 'auto', keyPath: '', jump: 'me@jump.example.com', localPort: 8889, remote: 'media.lan:32400' },
      { name: 'bastion', host: 'gw.example.com', sshPort: 2222, user: 'ops', auth: 'auto', keyPath: '', jump: '', localPort: 8888, remote: '127.0.0.1:32400' },
      { name: 'nas (via bastion)', host: 'nas.local', sshPort: 22, user: 'admin', auth: 'auto', keyPath: '', jump: 'ops@gw.example.com:2222', localPort: 32401, remote: '127.0.0.1:32400' },
    ]);
  });
});
