import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostKeyCheck } from '../../electron/core/ssh/host-keys/policy.js';
import {
  checkHostKey,
  checkKnownHostsFile,
  fingerprintSha256,
  hostKeyType,
  knownHostsName,
  knownKeyTypes,
  recordHostKey,
  type HostKey,
} from '../../electron/core/ssh/host-keys/known-hosts.js';

// Every key here is made by the real ssh-keygen, and every claim about OpenSSH's behaviour is
// checked against ssh-keygen itself where it can answer (-l fingerprints, -H hashing, -F lookup).

const run = promisify(execFile);
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

interface TestKey extends HostKey {
  pubFile: string;
  /** The `type base64` part of the .pub file, ready to put in a known_hosts line. */
  text: string;
}

let dir: string;
let fileCounter = 0;
const keys = {} as Record<'ed' | 'ed2' | 'ecdsa' | 'ecdsa2' | 'rsa', TestKey>;

async function makeKey(name: string, args: string[]): Promise<TestKey> {
  const path = join(dir, name);
  await run(SSH_KEYGEN, ['-q', ...args, '-N', '', '-C', `${name}@test`, '-f', path]);
  const pubFile = `${path}.pub`;
  const [type, base64] = (await readFile(pubFile, 'utf8')).trim().split(' ') as [string, string];
  return { type, blob: Buffer.from(base64, 'base64'), pubFile, text: `${type} ${base64}` };
}

/** A fresh known_hosts file with these lines (joined with '\n', plus a final newline). */
async function knownHosts(...lines: string[]): Promise<string> {
  const file = join(dir, `known_hosts_${++fileCounter}`);
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** ssh-keygen -F -l: the lines OpenSSH finds for this name and can parse a key from, [] when none. */
async function opensshFinds(name: string, file: string): Promise<number[]> {
  try {
    // -l makes ssh-keygen parse each key as ssh does; plain -F only matches host names.
    const { stdout } = await run(SSH_KEYGEN, ['-F', name, '-l', '-f', file]);
    return [...stdout.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
  } catch (error) {
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

function known(file: string, line: number, key: TestKey) {
  return { file, line, type: key.type, fingerprint: fingerprintSha256(key.blob) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reclaim-known-hosts-'));
  keys.ed = await makeKey('ed', ['-t', 'ed25519']);
  keys.ed2 = await makeKey('ed2', ['-t', 'ed25519']);
  keys.ecdsa = await makeKey('ecdsa', ['-t', 'ecdsa', '-b', '256']);
  keys.ecdsa2 = await makeKey('ecdsa2', ['-t', 'ecdsa', '-b', '384']);
  keys.rsa = await makeKey('rsa', ['-t', 'rsa', '-b', '2048']);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('key helpers', () => {
  it('fingerprints exactly as ssh-keygen -lf prints them', async () => {
    for (const key of [keys.ed, keys.ecdsa, keys.ecdsa2, keys.rsa]) {
      const { stdout } = await run(SSH_KEYGEN, ['-lf', key.pubFile]);
      expect(fingerprintSha256(key.blob)).toBe(stdout.split(' ')[1]);
    }
  });

  it('reads the key type from the wire blob', () => {
    expect(hostKeyType(keys.ed.blob)).toBe('ssh-ed25519');
    expect(hostKeyType(keys.ecdsa.blob)).toBe('ecdsa-sha2-nistp256');
    expect(hostKeyType(keys.ecdsa2.blob)).toBe('ecdsa-sha2-nistp384');
    expect(hostKeyType(keys.rsa.blob)).toBe('ssh-rsa');
    expect(() => hostKeyType(Buffer.from([0, 0, 0, 9, 0x61]))).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('names hosts as OpenSSH does', () => {
    expect(knownHostsName('Example.COM', 22)).toBe('example.com');
    expect(knownHostsName('Example.COM', 2222)).toBe('[example.com]:2222');
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222');
  });
});

describe('checkHostKey', () => {
  it('matches hashed entries written by ssh-keygen -H, on port 22 and [host]:2222', async () => {
    const file = await knownHosts(`example.com ${keys.ed.text}`, `[example.com]:2222 ${keys.ecdsa.text}`);
    await run(SSH_KEYGEN, ['-H', '-f', file]);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.every((l) => l.startsWith('|1|'))).toBe(true);

    expect(await checkHostKey([file], 'example.com', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
    expect(await checkHostKey([file], 'EXAMPLE.com', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
    expect(await checkHostKey([file], 'example.com', 2222, keys.ecdsa)).toEqual({ kind: 'trusted', file, line: 2 });
    expect(await checkHostKey([file], 'example.com', 2223, keys.ecdsa)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
    expect(await checkHostKey([file], 'example.org', 22, keys.ed)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
  });

  it('trusts a plain entry, reporting its file and line', async () => {
    const file = await knownHosts('# my servers', '', `other.host ${keys.ed2.text}`, `plex.lan,10.0.0.5 ${keys.ed.text} a comment`);
    expect(await checkHostKey([join(dir, 'missing'), file], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 4 });
    expect(await checkHostKey([file], '10.0.0.5', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 4 });
    expect(await opensshFinds('10.0.0.5', file)).toEqual([4]);
  });

  it('matches * and ? wildcards, including inside [host]:port', async () => {
    const file = await knownHosts(`*.example.com ${keys.ed.text}`, `[*.example.net]:2222 ${keys.ed.text}`, `host? ${keys.ed.text}`);
    expect(await checkHostKey([file], 'db.example.com', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
    expect(await checkHostKey([file], 'example.com', 22, keys.ed)).toMatchObject({ kind: 'unknown' });
    expect(await checkHostKey([file], 'a.example.net', 2222, keys.ed)).toEqual({ kind: 'trusted', file, line: 2 });
    expect(await checkHostKey([file], 'a.example.net', 22, keys.ed)).toMatchObject({ kind: 'unknown' });
    expect(await checkHostKey([file], 'host1', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 3 });
    expect(await checkHostKey([file], 'host12', 22, keys.ed)).toMatchObject({ kind: 'unknown' });
    expect(await opensshFinds('[a.example.net]:2222', file)).toEqual([2]);
  });

  it('excludes a host named by a negated pattern, wherever it sits in the list', async () => {
    const file = await knownHosts(`*.example.com,!secret.example.com ${keys.ed.text}`, `!vault.example.com,*.example.com ${keys.ed.text}`);
    expect(await checkHostKey([file], 'secret.example.com', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 2 });
    expect(await checkHostKey([file], 'vault.example.com', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
    expect(await checkHostKey([file], 'www.example.com', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
    expect(await opensshFinds('secret.example.com', file)).toEqual([2]);

    const only = await knownHosts(`*.example.com,!secret.example.com ${keys.ed.text}`);
    expect(await checkHostKey([only], 'secret.example.com', 22, keys.ed)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
  });

  it('reports a different key of the same type as changed, with where it is recorded', async () => {
    const first = await knownHosts('# header', `plex.lan ${keys.ed2.text}`);
    const second = await knownHosts(`plex.lan ${keys.ecdsa.text}`, `*.lan ${keys.ed2.text}`);
    expect(await checkHostKey([first, second], 'plex.lan', 22, keys.ed)).toEqual({
      kind: 'changed',
      known: [known(first, 2, keys.ed2), known(second, 2, keys.ed2)],
    });
  });

  it('treats ECDSA keys on different curves as different types', async () => {
    const file = await knownHosts(`plex.lan ${keys.ecdsa2.text}`);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ecdsa)).toEqual({
      kind: 'unknown',
      otherTypesKnown: [known(file, 1, keys.ecdsa2)],
    });
  });

  it('trusts the key when any line has it, even if another line of that type differs', async () => {
    const file = await knownHosts(`plex.lan ${keys.ed2.text}`, `plex.lan ${keys.ed.text}`);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 2 });
  });

  it('reports unknown, listing keys of other types already on record', async () => {
    const file = await knownHosts(`plex.lan ${keys.rsa.text}`, `other ${keys.ed2.text}`, `plex.lan ${keys.ecdsa.text}`);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed)).toEqual({
      kind: 'unknown',
      otherTypesKnown: [known(file, 1, keys.rsa), known(file, 3, keys.ecdsa)],
    });
  });

  it('refuses a key marked @revoked for any matching pattern, even when also trusted', async () => {
    const file = await knownHosts(`plex.lan ${keys.ed.text}`, `@revoked * ${keys.ed.text}`, `@revoked plex.lan ${keys.ed2.text}`);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'revoked', file, line: 2 });
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed2)).toEqual({ kind: 'revoked', file, line: 3 });
    // A revoked line does not count as a key on record.
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ecdsa)).toEqual({
      kind: 'unknown',
      otherTypesKnown: [known(file, 1, keys.ed)],
    });
  });

  it('ignores @cert-authority lines and unknown markers', async () => {
    const file = await knownHosts(`@cert-authority * ${keys.ed.text}`, `@trusted plex.lan ${keys.ed.text}`, `@revoked @revoked plex.lan ${keys.ed.text}`);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed2)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
  });

  it('skips comments, garbage and malformed lines exactly where ssh-keygen -F does, and tolerates CRLF', async () => {
    const [type, base64] = keys.ed.text.split(' ') as [string, string];
    const file = join(dir, 'messy_known_hosts');
    const lines = [
      '# comment',
      '   ',
      'garbage',
      'plex.lan',
      `plex.lan ${type}`,
      `plex.lan ${type} not-base64!`,
      `plex.lan ${type} ${base64}=`,
      `plex.lan ${type} ${base64}AAAA`,
      `plex.lan ssh-rsa ${base64}`,
      `plex.lan ${type} ${base64.slice(0, 20)}`,
      `|1|bm90IGEgc2FsdA==|AAAA ${keys.ed.text}`,
      `plex.lan ${keys.ed2.text}`,
      `\t plex.lan\t${keys.ed.text}  trailing comment`,
    ];
    await writeFile(file, lines.map((l) => `${l}\r\n`).join(''));
    expect(await opensshFinds('plex.lan', file)).toEqual([12, 13]);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 13 });
    expect(await checkHostKey([file], 'plex.lan', 22, keys.ecdsa)).toEqual({
      kind: 'unknown',
      otherTypesKnown: [known(file, 12, keys.ed2), known(file, 13, keys.ed)],
    });
  });

  it('accepts an RSA key recorded under a signature algorithm name, as OpenSSH does', async () => {
    const base64 = keys.rsa.text.split(' ')[1]!;
    const file = await knownHosts(`plex.lan rsa-sha2-512 ${base64}`);
    expect(await opensshFinds('plex.lan', file)).toEqual([1]);
    expect(await checkHostKey([file], 'plex.lan', 22, keys.rsa)).toEqual({ kind: 'trusted', file, line: 1 });
  });

  it('skips missing and unreadable files', async () => {
    const folder = join(dir, 'a-directory');
    await mkdir(folder, { recursive: true });
    const file = await knownHosts(`plex.lan ${keys.ed.text}`);
    expect(await checkHostKey([join(dir, 'nope'), folder], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
    expect(await checkHostKey([folder, file], 'plex.lan', 22, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
  });

  it('does not match a bare-host entry for a non-standard port', async () => {
    const file = await knownHosts(`plex.lan ${keys.ed.text}`, `plex.lan:2222 ${keys.ed.text}`);
    expect(await checkHostKey([file], 'plex.lan', 2222, keys.ed)).toEqual({ kind: 'unknown', otherTypesKnown: [] });
    expect(await opensshFinds('[plex.lan]:2222', file)).toEqual([]);
  });
});

describe('knownKeyTypes', () => {
  it('lists the types on record for the host in file order, without revoked keys', async () => {
    const file = await knownHosts(
      `other ${keys.rsa.text}`,
      `plex.lan ${keys.ecdsa.text}`,
      `plex.lan ${keys.ed.text}`,
      `*.lan ${keys.ed2.text}`,
      `plex.lan ${keys.rsa.text}`,
      `@revoked * ${keys.rsa.text}`,
    );
    expect(await knownKeyTypes([file], 'plex.lan', 22)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    expect(await knownKeyTypes([file], 'plex.lan', 2222)).toEqual([]);
  });
});

describe('recordHostKey', () => {
  it('creates the directory (0700) and file (0600), and OpenSSH finds the line', async () => {
    const file = join(dir, 'new', 'nested', 'known_hosts');
    await recordHostKey(file, '127.0.0.1', 2222, keys.ed);

    // Windows has no POSIX permission bits (the user's profile folder's ACLs apply there).
    if (process.platform !== 'win32') {
      expect((await stat(join(dir, 'new'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dir, 'new', 'nested'))).mode & 0o777).toBe(0o700);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.1]:2222 ${keys.ed.text}\n`);
    expect(await checkHostKey([file], '127.0.0.1', 2222, keys.ed)).toEqual({ kind: 'trusted', file, line: 1 });
    expect(await opensshFinds('[127.0.0.1]:2222', file)).toEqual([1]);
    const { stdout } = await run(SSH_KEYGEN, ['-F', '[127.0.0.1]:2222', '-f', file]);
    expect(stdout).toContain(`[127.0.0.1]:2222 ${keys.ed.text}`);
  });

  it('appends after existing lines without touching them, adding a missing final newline', async () => {
    const file = join(dir, 'no_newline_known_hosts');
    const before = `# keep me\r\nplex.lan ${keys.ed2.text} old comment`;
    await writeFile(file, before);
    await recordHostKey(file, '127.0.0.1', 2222, keys.ed);
    await recordHostKey(file, 'Plex.LAN', 22, keys.rsa);

    expect(await readFile(file, 'utf8')).toBe(`${before}\n[127.0.0.1]:2222 ${keys.ed.text}\nplex.lan ${keys.rsa.text}\n`);
    expect(await checkHostKey([file], '127.0.0.1', 2222, keys.ed)).toEqual({ kind: 'trusted', file, line: 3 });
    expect(await checkHostKey([file], 'plex.lan', 22, keys.rsa)).toEqual({ kind: 'trusted', file, line: 4 });
    expect(await opensshFinds('[127.0.0.1]:2222', file)).toEqual([3]);
    expect(await opensshFinds('plex.lan', file)).toEqual([2, 4]);
  });

  it('refuses host names that would widen or corrupt the entry', async () => {
    const file = join(dir, 'refused_known_hosts');
    for (const host of ['*', 'a,b', 'a b', '!a', '|1|x', '@revoked', '', 'a\nb']) {
      await expect(recordHostKey(file, host, 22, keys.ed)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    }
    await expect(recordHostKey(file, 'plex.lan', 22, { type: 'ssh-rsa', blob: keys.ed.blob })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a known_hosts path that is not a file', () => {
  it('is refused as BAD_INPUT naming it where a person named it, and as STORAGE_FAILED naming it where a key would be recorded', async () => {
    const folder = join(dir, 'named-a-directory');
    await mkdir(folder, { recursive: true });
    await expect(checkKnownHostsFile(folder)).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining(folder) });
    await expect(recordHostKey(folder, 'plex.lan', 22, keys.ed)).rejects.toMatchObject({
      code: 'STORAGE_FAILED', message: `Reclaim could not save its file ${folder} (it is a folder, not a file).`,
    });
    await expect(checkKnownHostsFile(join(dir, 'not-yet-there'))).resolves.toBeUndefined();
  });

  it('reaches the person as that STORAGE_FAILED, not as an SSH failure with a raw EISDIR', async () => {
    const folder = join(dir, 'record-into-a-directory');
    await mkdir(folder, { recursive: true });
    const check = createHostKeyCheck({
      host: 'plex.lan', port: 22, store: { trustFiles: [folder], recordFile: folder, acceptNew: true }, prompter: {}, askPerson: (ask) => ask(),
    });
    const trusted = await new Promise<boolean>((resolve) => check.verify(keys.ed.blob, resolve));
    expect(trusted).toBe(false);
    expect(check.failure()).toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringContaining(folder) });
  });

  it('shows at most 60 characters of a host name it will not record', async () => {
    await expect(recordHostKey(join(dir, 'never'), `*${'x'.repeat(2000)}`, 22, keys.ed)).rejects.toMatchObject({
      message: `"*${'x'.repeat(59)}…" cannot be recorded as a host name in known_hosts.`,
    });
  });
});
