// PuTTY private keys (.ppk) for tests, made by Debian's real puttygen (package putty-tools).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fingerprintOf } from './keys.js';

const execFileP = promisify(execFile);

export type PpkKeyType = 'rsa' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521' | 'ed25519' | 'ed448';
export type PpkKdf = 'argon2id' | 'argon2i' | 'argon2d';

export interface PpkKey {
  path: string;
  type: PpkKeyType;
  version: 2 | 3;
  passphrase?: string;
  kdf?: PpkKdf;
  /** `ssh-ed25519 AAAA… comment`, as puttygen -L prints it. */
  publicLine: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it (for types OpenSSH knows). */
  fingerprint?: string;
}

const GENERATE: Record<PpkKeyType, string[]> = {
  rsa: ['-t', 'rsa', '-b', '2048'],
  'ecdsa-256': ['-t', 'ecdsa', '-b', '256'],
  'ecdsa-384': ['-t', 'ecdsa', '-b', '384'],
  'ecdsa-521': ['-t', 'ecdsa', '-b', '521'],
  ed25519: ['-t', 'ed25519'],
  ed448: ['-t', 'ed448'],
};

async function passphraseFile(dir: string, name: string, passphrase: string | undefined): Promise<string> {
  if (passphrase === undefined) return '/dev/null';
  const file = join(dir, `${name}.passphrase`);
  await writeFile(file, passphrase, { mode: 0o600 });
  return file;
}

/**
 * A new key of `type`, or (with `from`) the same key saved again in another format, with or
 * without a passphrase: as PuTTYgen's "Save private key" would write it.
 */
export async function makePpkKey(
  dir: string,
  name: string,
  options: { type: PpkKeyType; version: 2 | 3; passphrase?: string; kdf?: PpkKdf; from?: PpkKey },
): Promise<PpkKey> {
  const path = join(dir, `${name}.ppk`);
  if (existsSync(path)) throw new Error(`makePpkKey: ${path} already exists`);
  const params = [`version=${options.version}`, ...(options.kdf ? [`kdf=${options.kdf}`] : [])].join(',');
  const newPassphrase = await passphraseFile(dir, name, options.passphrase);
  const source = options.from
    ? [options.from.path, '--old-passphrase', await passphraseFile(dir, `${name}.old`, options.from.passphrase), '-P', '-O', 'private']
    : [...GENERATE[options.type], '-C', `reclaim-test-${name}`];
  // puttygen saves a random seed in PuTTY's folder: keep it in the test's directory, not in ~/.putty.
  const env = { ...process.env, PUTTYDIR: join(dir, 'putty') };
  await execFileP('puttygen', [...source, '-q', '-o', path, '--new-passphrase', newPassphrase, '--ppk-param', params], { timeout: 60_000, env });
  const { stdout } = await execFileP('puttygen', [path, '--old-passphrase', newPassphrase, '-L'], { timeout: 30_000, env });
  const publicLine = stdout.trim();
  let fingerprint: string | undefined;
  if (options.type !== 'ed448') {
    const publicPath = join(dir, `${name}.pub`);
    await writeFile(publicPath, `${publicLine}\n`);
    fingerprint = await fingerprintOf(publicPath);
  }
  return { path, type: options.type, version: options.version, passphrase: options.passphrase, kdf: options.kdf, publicLine, fingerprint };
}
