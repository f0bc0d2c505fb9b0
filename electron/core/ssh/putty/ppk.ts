import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { badInput, type ReclaimError } from '../../common/errors.js';
import { WireError, WireReader, WireWriter } from '../wire.js';
import { argon2, type Argon2Flavour } from './argon2.js';

// Reading PuTTY's private key files (.ppk), formats 2 and 3, as PuTTY's manual (appendix C,
// "PPK file format") describes them: a text outer layer with the public key in clear, the
// private key (AES-256-CBC when there is a passphrase), and a MAC over all of it. Format 2
// derives its keys with SHA-1, format 3 with Argon2. A file that fails its MAC is never used:
// when it has a passphrase that means the passphrase was wrong, without one that it is damaged.
// Messages name the file and what is wrong with it, never its contents.

export interface PpkFile {
  file: string;
  version: 2 | 3;
  /** The SSH key type, e.g. ssh-ed25519. */
  algorithm: string;
  encrypted: boolean;
  comment: Buffer;
  publicBlob: Buffer;
  kdf?: { flavour: Argon2Flavour; memory: number; passes: number; parallelism: number; salt: Buffer };
  /** As stored: encrypted when the file has a passphrase. */
  privateData: Buffer;
  mac: Buffer;
}

/** Key types ssh2 can sign with; PuTTY also writes ssh-dss and ssh-ed448. */
export const USABLE_PPK_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

const HEADER = 'PuTTY-User-Key-File-';
/** Well above what PuTTYgen writes (8 MiB, about 100 ms), low enough that a damaged or hostile file cannot exhaust memory or time. */
const MAX_ARGON2_MEMORY_KIB = 1024 * 1024;
const MAX_ARGON2_WORK = 64 * 1024 * 1024;
const MAX_ARGON2_PARALLELISM = 64;
const ARGON2_FLAVOURS: Record<string, Argon2Flavour> = { Argon2d: 'argon2d', Argon2i: 'argon2i', Argon2id: 'argon2id' };
const FIX_DAMAGED = 'Use an intact copy of the key file (from a backup, or the computer you made it on), or make a new key with PuTTYgen and put its public key in ~/.ssh/authorized_keys on the server.';
const FIX_NEW_KEY = 'Make an Ed25519 key in PuTTYgen (Key > Ed25519, Generate, Save private key), put its public key in ~/.ssh/authorized_keys on the server, and use that key file.';

export function isPpk(data: Buffer): boolean {
  return data.subarray(0, HEADER.length).toString('latin1') === HEADER;
}

function damaged(file: string, what: string): ReclaimError<'BAD_INPUT'> {
  return badInput(`The PuTTY key file ${file} is damaged (${what}).`, FIX_DAMAGED, { file });
}

/** The outer layer, checked field by field; the private part stays as it is until unlocked. */
export function parsePpk(file: string, data: Buffer): PpkFile {
  // PuTTY writes LF and accepts CR LF and CR alone; latin1 keeps every byte of the comment as it is.
  const lines = data.toString('latin1').split(/\r\n|\r|\n/);
  let at = 0;
  const field = (name: string): string => {
    const line = lines[at++];
    const prefix = `${name}: `;
    if (line === undefined || !line.startsWith(prefix)) throw damaged(file, `the "${name}" line is missing or out of place`);
    return line.slice(prefix.length);
  };
  const base64Lines = (name: string): Buffer => {
    const count = field(name);
    if (!/^\d{1,4}$/.test(count) || at + Number(count) > lines.length) throw damaged(file, `the "${name}" count is wrong`);
    const text = lines.slice(at, at + Number(count)).join('');
    at += Number(count);
    const bytes = Buffer.from(text, 'base64');
    // Node's decoder skips anything that is not base64; PuTTY's does not, and neither does this.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || bytes.toString('base64') !== text) throw damaged(file, `the data after "${name}" is not valid base64`);
    return bytes;
  };

  const first = lines[at++] ?? '';
  const header = /^PuTTY-User-Key-File-(\d+): (.*)$/.exec(first);
  if (!header) throw damaged(file, 'its first line is not a PuTTY key header');
  const version = Number(header[1]);
  if (version !== 2 && version !== 3) {
    throw badInput(
      `${file} is a PuTTY key file of format ${version > 3 ? `${version}, newer than Reclaim knows` : '1, which no released PuTTY ever wrote'}.`,
      version > 3 ? 'Save it from PuTTYgen in format 3 (Key > Parameters for saving key files > PPK file version 3), or update Reclaim.' : FIX_NEW_KEY,
      { file },
    );
  }
  const algorithm = header[2]!;
  checkUsable(file, algorithm);
  const encryption = field('Encryption');
  if (encryption !== 'none' && encryption !== 'aes256-cbc') throw damaged(file, 'it names an encryption PuTTY does not use');
  const comment = Buffer.from(field('Comment'), 'latin1');
  const publicBlob = base64Lines('Public-Lines');
  checkPublicBlob(file, algorithm, publicBlob);

  let kdf: PpkFile['kdf'];
  if (version === 3 && encryption !== 'none') {
    const flavour = ARGON2_FLAVOURS[field('Key-Derivation')];
    if (!flavour) throw damaged(file, 'it names a key derivation PuTTY does not use');
    const number = (name: string) => {
      const text = field(name);
      if (!/^\d{1,10}$/.test(text) || Number(text) < 1) throw damaged(file, `"${name}" is not a positive number`);
      return Number(text);
    };
    const memory = number('Argon2-Memory');
    const passes = number('Argon2-Passes');
    const parallelism = number('Argon2-Parallelism');
    const saltHex = field('Argon2-Salt');
    if (!/^(?:[0-9a-fA-F]{2}){8,256}$/.test(saltHex)) throw damaged(file, 'its Argon2 salt is not hexadecimal of a sensible length');
    if (memory > MAX_ARGON2_MEMORY_KIB || memory * passes > MAX_ARGON2_WORK || parallelism > MAX_ARGON2_PARALLELISM || memory < 8 * parallelism) {
      throw badInput(
        `The PuTTY key file ${file} asks for more work to unlock (Argon2 memory ${memory} KiB, ${passes} passes, parallelism ${parallelism}) than Reclaim allows.`,
        'Save the key again in PuTTYgen with the default key file parameters (Key > Parameters for saving key files), then choose it again.',
        { file },
      );
    }
    kdf = { flavour, memory, passes, parallelism, salt: Buffer.from(saltHex, 'hex') };
  }
  const privateData = base64Lines('Private-Lines');
  const macHex = field('Private-MAC');
  const macLength = version === 3 ? 32 : 20;
  if (!new RegExp(`^[0-9a-fA-F]{${macLength * 2}}$`).test(macHex)) throw damaged(file, 'its Private-MAC line is not a MAC');
  if (lines.slice(at).some((line) => line.trim() !== '')) throw damaged(file, 'something follows the Private-MAC line');
  if (encryption !== 'none' && (privateData.length === 0 || privateData.length % 16 !== 0)) throw damaged(file, 'the encrypted part has the wrong length');

  return { file, version, algorithm, encrypted: encryption !== 'none', comment, publicBlob, kdf, privateData, mac: Buffer.from(macHex, 'hex') };
}

function checkUsable(file: string, algorithm: string): void {
  if (USABLE_PPK_ALGORITHMS.includes(algorithm)) return;
  if (algorithm === 'ssh-ed448') {
    throw badInput(
      `The key in ${file} is an Ed448 key. Reclaim's SSH library cannot sign in with Ed448 keys (and OpenSSH servers do not accept them).`,
      FIX_NEW_KEY,
      { file },
    );
  }
  if (algorithm === 'ssh-dss') {
    throw badInput(`The key in ${file} is a DSA key, which current SSH servers refuse (OpenSSH turned DSA off in 2015).`, FIX_NEW_KEY, { file });
  }
  throw badInput(`The key in ${file} is of a type Reclaim cannot sign in with.`, FIX_NEW_KEY, { file });
}

function checkPublicBlob(file: string, algorithm: string, blob: Buffer): void {
  try {
    if (new WireReader(blob).text() === algorithm) return;
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
  }
  throw damaged(file, 'its public key does not match its key type');
}

/**
 * The private key blob in plain form, or 'wrong-passphrase' when the MAC does not match the
 * passphrase given (for a file without one, a MAC that does not match means it is damaged).
 */
export async function unlockPpk(ppk: PpkFile, passphrase?: string): Promise<Buffer | 'wrong-passphrase'> {
  const secret = Buffer.from(ppk.encrypted ? passphrase ?? '' : '', 'utf8');
  const keys = ppk.version === 3 ? await version3Keys(ppk, secret) : version2Keys(ppk, secret);
  let plain = ppk.privateData;
  if (ppk.encrypted) {
    const decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(ppk.privateData), decipher.final()]);
  }
  const preimage = new WireWriter()
    .string(ppk.algorithm)
    .string(ppk.encrypted ? 'aes256-cbc' : 'none')
    .string(ppk.comment)
    .string(ppk.publicBlob)
    .string(plain)
    .toBuffer();
  const mac = createHmac(ppk.version === 3 ? 'sha256' : 'sha1', keys.macKey).update(preimage).digest();
  if (mac.length === ppk.mac.length && timingSafeEqual(mac, ppk.mac)) return plain;
  if (ppk.encrypted) return 'wrong-passphrase';
  throw damaged(ppk.file, 'its integrity check (Private-MAC) does not match its contents');
}

interface DerivedKeys { cipherKey: Buffer; iv: Buffer; macKey: Buffer }

async function version3Keys(ppk: PpkFile, passphrase: Buffer): Promise<DerivedKeys> {
  // Without encryption all three keys are empty, and the MAC is keyed with nothing.
  if (!ppk.kdf) return { cipherKey: Buffer.alloc(0), iv: Buffer.alloc(0), macKey: Buffer.alloc(0) };
  let tag: Buffer;
  try {
    tag = await argon2({ ...ppk.kdf, password: passphrase, tagLength: 32 + 16 + 32 });
  } catch {
    throw damaged(ppk.file, 'its Argon2 parameters cannot be used');
  }
  return { cipherKey: tag.subarray(0, 32), iv: tag.subarray(32, 48), macKey: tag.subarray(48, 80) };
}

function version2Keys(ppk: PpkFile, passphrase: Buffer): DerivedKeys {
  const sha1 = (...parts: Buffer[]) => parts.reduce((hash, part) => hash.update(part), createHash('sha1')).digest();
  const counter = (n: number) => Buffer.from([0, 0, 0, n]);
  return {
    cipherKey: Buffer.concat([sha1(counter(0), passphrase), sha1(counter(1), passphrase)]).subarray(0, 32),
    iv: Buffer.alloc(16),
    macKey: sha1(Buffer.from('putty-private-key-file-mac-key'), passphrase),
  };
}
