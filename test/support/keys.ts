// SSH key pairs for tests, made by the real ssh-keygen.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** 'ecdsa' is ssh-keygen's default curve (nistp256); the others name theirs. */
export type KeyType = 'ed25519' | 'ecdsa' | 'ecdsa-384' | 'ecdsa-521' | 'rsa';

export interface KeyPair {
  privatePath: string;
  publicPath: string;
  /** e.g. `ssh-ed25519 AAAA… comment` */
  publicLine: string;
  /** `SHA256:…` as printed by `ssh-keygen -lf`. */
  fingerprint: string;
}

export async function makeKeyPair(
  dir: string,
  options: { type: KeyType; format?: 'openssh' | 'pem'; passphrase?: string; name?: string },
): Promise<KeyPair> {
  const privatePath = join(dir, options.name ?? `id_${options.type}`);
  const publicPath = `${privatePath}.pub`;
  // ssh-keygen would prompt "Overwrite (y/n)?" — fail loudly instead.
  if (existsSync(privatePath)) throw new Error(`makeKeyPair: ${privatePath} already exists`);
  const [algorithm, bits] = options.type.split('-');
  const args = ['-q', '-t', algorithm!, '-N', options.passphrase ?? '', '-C', `reclaim-test-${options.type}`, '-f', privatePath];
  if (bits) args.push('-b', bits);
  if (options.type === 'rsa') args.push('-b', '2048'); // small = fast, still accepted by sshd
  if (options.format === 'pem') args.push('-m', 'PEM');
  await execFileP('ssh-keygen', args, { timeout: 30_000 });
  const publicLine = (await readFile(publicPath, 'utf8')).trim();
  return { privatePath, publicPath, publicLine, fingerprint: await fingerprintOf(publicPath) };
}

/** `SHA256:…` fingerprint of a public key file. */
export async function fingerprintOf(publicPath: string): Promise<string> {
  const { stdout } = await execFileP('ssh-keygen', ['-lf', publicPath], { timeout: 10_000 });
  const fp = stdout.split(' ')[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${stdout}`);
  return fp;
}
