import ssh2 from 'ssh2';
import { isPpk, parsePpk, unlockPpk } from './putty/ppk.js';
import { ppkToOpenSsh } from './putty/openssh-key.js';

// A private key file's contents made into what ssh2 signs with: OpenSSH and PEM keys as they
// are (ssh2 reads them), PuTTY .ppk keys converted in memory, never on disk. ssh2 reads format 2
// RSA .ppk files itself but signs with them using SHA-1, which current servers refuse, so every
// .ppk goes through Reclaim's own reader.

export type OpenedKey =
  /** What to hand ssh2 as `key` (and `passphrase`). */
  | { kind: 'ready'; key: Buffer | string; passphrase?: string }
  /** Protected by a passphrase, and none or a wrong one was given. */
  | { kind: 'locked' }
  /** Not a private key ssh2 can use; `reason` says why in Reclaim's words, never the file's bytes. */
  | { kind: 'unusable'; reason: string };

/**
 * Throws BAD_INPUT for a PuTTY key file that is damaged or of an unusable type; a passphrase is
 * asked for only when its answer is about to be used.
 */
export async function openPrivateKey(file: string, data: Buffer, passphrase?: string): Promise<OpenedKey> {
  if (isPpk(data)) {
    const ppk = parsePpk(file, data);
    if (ppk.encrypted && passphrase === undefined) return { kind: 'locked' };
    const plain = await unlockPpk(ppk, passphrase);
    return plain === 'wrong-passphrase' ? { kind: 'locked' } : { kind: 'ready', key: ppkToOpenSsh(ppk, plain) };
  }
  const parsed = ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    if (passphrase !== undefined || /passphrase/i.test(parsed.message)) return { kind: 'locked' };
    return { kind: 'unusable', reason: keyProblem(parsed.message) };
  }
  if (!(Array.isArray(parsed) ? parsed[0] : parsed)?.isPrivateKey()) return { kind: 'unusable', reason: 'it is a public key' };
  return passphrase === undefined ? { kind: 'ready', key: data } : { kind: 'ready', key: data, passphrase };
}

/**
 * ssh2's reason in our words. Its messages quote what the file holds (a cipher or key type name
 * read from the file), and a file's bytes never go to the screen: they may be anything.
 */
function keyProblem(ssh2Message: string): string {
  if (/cipher/i.test(ssh2Message)) return 'it is encrypted in a way Reclaim cannot read';
  if (/key type|OID/i.test(ssh2Message)) return 'its key type is not one Reclaim supports';
  if (/^Unsupported key format$/i.test(ssh2Message)) return 'it is not a private key in OpenSSH or PEM format';
  return 'it is damaged, or not a private key';
}
