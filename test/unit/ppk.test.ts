import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIdentityFile } from '../../electron/core/ssh/auth.js';
import { openPrivateKey } from '../../electron/core/ssh/private-key.js';
import { reclaimErrorOf } from '../support/failure.js';
import { makeKeyPair } from '../support/keys.js';
import { makePpkKey, type PpkKey, type PpkKeyType } from '../support/ppk-keys.js';

// The .ppk reader against PuTTYgen itself: the key Reclaim builds from a .ppk must be the very key
// PuTTYgen exports as OpenSSH from the same file. And every way a file can be wrong gets its own
// plain error naming the file.

const execFileP = promisify(execFile);
const PASSPHRASE = 'correct horse';
let dir: string;
const keys = new Map<PpkKeyType, PpkKey>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-ppk-unit-'));
  for (const type of ['rsa', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'ed25519'] as const) {
    keys.set(type, await makePpkKey(dir, type, { type, version: 3 }));
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What PuTTYgen itself exports from the file, as ssh2 reads it. */
async function puttygenExport(key: PpkKey): Promise<ssh2.ParsedKey> {
  const out = path.join(dir, `${path.basename(key.path)}.openssh`);
  await execFileP('puttygen', [key.path, '--old-passphrase', '/dev/null', '-O', 'private-openssh-new', '-o', out], { env: { ...process.env, PUTTYDIR: path.join(dir, 'putty') } });
  return ssh2.utils.parseKey(await readFile(out)) as ssh2.ParsedKey;
}

async function ready(file: string, passphrase?: string): Promise<ssh2.ParsedKey> {
  const opened = await openPrivateKey(file, await readFile(file), passphrase);
  if (opened.kind !== 'ready') throw new Error(`${file}: ${opened.kind}`);
  return ssh2.utils.parseKey(opened.key) as ssh2.ParsedKey;
}

describe('reading .ppk files', () => {
  it('makes the same private key PuTTYgen exports, for every key type, in both formats, with and without a passphrase', async () => {
    for (const [type, base] of keys) {
      const expected = await puttygenExport(base);
      const variants = [
        base,
        await makePpkKey(dir, `${type}-v2`, { type, version: 2, from: base }),
        await makePpkKey(dir, `${type}-v2-pass`, { type, version: 2, passphrase: PASSPHRASE, from: base }),
        await makePpkKey(dir, `${type}-v3-pass`, { type, version: 3, passphrase: PASSPHRASE, from: base }),
      ];
      for (const variant of variants) {
        const key = await ready(variant.path, variant.passphrase);
        expect(key.type, variant.path).toBe(expected.type);
        expect(key.getPrivatePEM(), variant.path).toBe(expected.getPrivatePEM());
        expect(key.getPublicSSH().equals(expected.getPublicSSH()), variant.path).toBe(true);
      }
    }
  });

  it('is locked without the passphrase, and stays locked with a wrong one', async () => {
    const locked = await makePpkKey(dir, 'locked', { type: 'ed25519', version: 3, passphrase: PASSPHRASE, kdf: 'argon2d', from: keys.get('ed25519')! });
    const data = await readFile(locked.path);
    expect(await openPrivateKey(locked.path, data)).toEqual({ kind: 'locked' });
    expect(await openPrivateKey(locked.path, data, 'Correct horse')).toEqual({ kind: 'locked' });
    expect((await openPrivateKey(locked.path, data, PASSPHRASE)).kind).toBe('ready');
    // -i accepts it before the passphrase is known: the question comes when it is used.
    await expect(checkIdentityFile(locked.path)).resolves.toEqual(data);
  });

  it('names the file and what is wrong for each kind of bad file', async () => {
    const good = await readFile(keys.get('ed25519')!.path, 'latin1');
    const cases: Array<[string, string, RegExp]> = [
      ['format-1', good.replace('PuTTY-User-Key-File-3', 'PuTTY-User-Key-File-1'), /is a PuTTY key file of format 1, which no released PuTTY ever wrote/],
      ['format-4', good.replace('PuTTY-User-Key-File-3', 'PuTTY-User-Key-File-4'), /format 4, newer than Reclaim knows/],
      ['dsa', good.replace('PuTTY-User-Key-File-3: ssh-ed25519', 'PuTTY-User-Key-File-3: ssh-dss'), /is a DSA key, which current SSH servers refuse/],
      ['other-type', good.replace('PuTTY-User-Key-File-3: ssh-ed25519', 'PuTTY-User-Key-File-3: x-unknown'), /of a type Reclaim cannot sign in with/],
      ['type-mismatch', good.replace('PuTTY-User-Key-File-3: ssh-ed25519', 'PuTTY-User-Key-File-3: ecdsa-sha2-nistp256'), /damaged \(its public key does not match its key type\)/],
      ['cipher', good.replace('Encryption: none', 'Encryption: des'), /damaged \(it names an encryption PuTTY does not use\)/],
      ['short-mac', good.replace(/Private-MAC: (\w+)/, 'Private-MAC: abcd'), /damaged \(its Private-MAC line is not a MAC\)/],
      ['trailing', `${good}Extra: line\n`, /damaged \(something follows the Private-MAC line\)/],
      ['line-count', good.replace('Public-Lines: 2', 'Public-Lines: 9999'), /damaged \(the "Public-Lines" count is wrong\)/],
      ['edited-public', good.replace(/^(Public-Lines: 2\n)(\S{40})(\S)/m, (_, head: string, start: string, last: string) => `${head}${start}${last === 'A' ? 'B' : 'A'}`), /damaged \(its integrity check \(Private-MAC\) does not match its contents\)/],
    ];
    for (const [name, content, message] of cases) {
      const file = path.join(dir, `bad-${name}.ppk`);
      await writeFile(file, content, 'latin1');
      const error = await reclaimErrorOf(checkIdentityFile(file), 'BAD_INPUT');
      expect(error.message, name).toMatch(message);
      expect(error.message, name).toContain(file);
      expect(error.details, name).toEqual({ file });
    }
  });

  it('refuses to run Argon2 with parameters no PuTTYgen default comes near, before spending the memory', async () => {
    const encrypted = await makePpkKey(dir, 'argon-heavy', { type: 'ed25519', version: 3, passphrase: PASSPHRASE, from: keys.get('ed25519')! });
    const text = (await readFile(encrypted.path, 'latin1')).replace(/Argon2-Memory: \d+/, 'Argon2-Memory: 4194304');
    const file = path.join(dir, 'argon-heavy-edited.ppk');
    await writeFile(file, text, 'latin1');
    const error = await reclaimErrorOf(openPrivateKey(file, Buffer.from(text, 'latin1'), PASSPHRASE), 'BAD_INPUT');
    expect(error.message).toBe(`The PuTTY key file ${file} asks for more work to unlock (Argon2 memory 4194304 KiB, ${/Argon2-Passes: (\d+)/.exec(text)![1]} passes, parallelism 1) than Reclaim allows.`);
  });

  it('still says a .pub file is a public key, and still reads OpenSSH keys', async () => {
    const pair = await makeKeyPair(dir, { type: 'ed25519', name: 'openssh' });
    const error = await reclaimErrorOf(checkIdentityFile(pair.publicPath), 'BAD_INPUT');
    expect(error.message).toContain('it is a public key');
    expect(error.fix).toMatch(/PuTTY \(\.ppk\)/);
    expect((await ready(pair.privatePath)).type).toBe('ssh-ed25519');
  });
});
