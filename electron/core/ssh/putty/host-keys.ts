import { readFile } from 'node:fs/promises';
import { log } from '../../common/log.js';
import { fingerprintSha256, hostKeyType, type HostKey, type HostKeyVerdict, type KnownKey } from '../host-keys/known-hosts.js';
import { WireWriter } from '../wire.js';
import { parseRegQuery, PUTTY_REGISTRY_KEY, unescapePuttyName, type PuttyStorage } from './storage.js';

// The server keys PuTTY already trusts, read (never written) so that a server a person has been
// reaching with PuTTY is known to Reclaim too, and a key that differs from PuTTY's is a changed
// key, exactly as with known_hosts. PuTTY files each one as `type@port:host` with its own text
// encoding of the key (the cache_str of PuTTY's key classes), which is turned back into the SSH
// wire form here, so fingerprints are the ones `ssh-keygen -lf` prints:
//   rsa2                 0x<e>,0x<n>                 (hex, exponent then modulus)
//   ecdsa-sha2-nistpN    nistpN,0x<x>,0x<y>          (the public point's affine coordinates)
//   ssh-ed25519          0x<x>,0x<y>                 (likewise, compressed as RFC 8032 says)
// Other types (dss, ssh-ed448) are skipped: Reclaim never accepts those host keys.

export interface PuttyHostKey extends KnownKey {
  /** PuTTY's own name for the entry, `ssh-ed25519@22:host`. */
  entry: string;
  host: string;
  port: number;
  blob: Buffer;
}

export const PUTTY_HOST_KEYS_KEY = `${PUTTY_REGISTRY_KEY}\\SshHostKeys`;

const CURVE_BYTES: Record<string, number> = { nistp256: 32, nistp384: 48, nistp521: 66 };
const ED25519_BYTES = 32;

export async function readPuttyHostKeys(storage: PuttyStorage): Promise<PuttyHostKey[]> {
  const entries: Array<{ name: string; value: string; line: number }> = [];
  let where: string;
  try {
    if (storage.kind === 'registry') {
      where = PUTTY_HOST_KEYS_KEY;
      const key = parseRegQuery((await storage.query(PUTTY_HOST_KEYS_KEY, false)) ?? '').find((k) => k.path === PUTTY_HOST_KEYS_KEY);
      // The registry has no lines; 0 says so wherever a line number is shown.
      for (const [name, value] of key?.values ?? []) if (value.type === 'REG_SZ') entries.push({ name, value: value.data, line: 0 });
    } else {
      where = storage.hostKeysFile;
      const text = await readFile(storage.hostKeysFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      text.split('\n').forEach((line, index) => {
        const space = line.indexOf(' ');
        if (space > 0) entries.push({ name: line.slice(0, space), value: line.slice(space + 1).replace(/\r$/, ''), line: index + 1 });
      });
    }
  } catch (error) {
    // Like an unreadable known_hosts file: trust nothing from it, and say so in the log.
    log.error('reading the host keys PuTTY trusts', error);
    return [];
  }
  const keys: PuttyHostKey[] = [];
  for (const { name, value, line } of entries) {
    const parsed = /^([^@]+)@(\d{1,5}):(.+)$/.exec(name);
    if (!parsed) continue;
    const blob = puttyHostKeyBlob(parsed[1]!, value);
    if (!blob) continue;
    const type = hostKeyType(blob);
    // Registry value names are escaped like session names; the file keeps host names as they are.
    const host = storage.kind === 'registry' ? unescapePuttyName(parsed[3]!) : parsed[3]!;
    keys.push({ entry: name, host, port: Number(parsed[2]), blob, type, fingerprint: fingerprintSha256(blob), file: where!, line });
  }
  return keys;
}

/** A key in PuTTY's cache encoding, in the SSH wire form; undefined for types or text Reclaim cannot use. */
export function puttyHostKeyBlob(cacheType: string, value: string): Buffer | undefined {
  const parts = value.trim().split(',');
  const hex = (text: string | undefined): Buffer | undefined => {
    const digits = /^0x([0-9a-fA-F]+)$/.exec(text ?? '')?.[1];
    return digits === undefined ? undefined : Buffer.from(digits.length % 2 ? `0${digits}` : digits, 'hex');
  };
  const fixed = (bytes: Buffer | undefined, length: number): Buffer | undefined => {
    if (!bytes) return undefined;
    let start = 0;
    while (bytes.length - start > length && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    return trimmed.length > length ? undefined : Buffer.concat([Buffer.alloc(length - trimmed.length), trimmed]);
  };
  if (cacheType === 'rsa2' && parts.length === 2) {
    const [e, n] = [hex(parts[0]), hex(parts[1])];
    return e && n ? new WireWriter().string('ssh-rsa').mpint(e).mpint(n).toBuffer() : undefined;
  }
  const curve = /^ecdsa-sha2-(nistp\d+)$/.exec(cacheType)?.[1];
  if (curve && CURVE_BYTES[curve] && parts.length === 3 && parts[0] === curve) {
    const [x, y] = [fixed(hex(parts[1]), CURVE_BYTES[curve]), fixed(hex(parts[2]), CURVE_BYTES[curve])];
    if (!x || !y) return undefined;
    return new WireWriter().string(cacheType).string(curve).string(Buffer.concat([Buffer.from([4]), x, y])).toBuffer();
  }
  if (cacheType === 'ssh-ed25519' && parts.length === 2) {
    const [x, y] = [hex(parts[0]), fixed(hex(parts[1]), ED25519_BYTES)];
    if (!x || !y || (y[0]! & 0x80) !== 0) return undefined;
    // y little-endian, with the low bit of x in the top bit.
    const point = Buffer.from(y).reverse();
    point[ED25519_BYTES - 1] = point[ED25519_BYTES - 1]! | ((x[x.length - 1]! & 1) << 7);
    return new WireWriter().string(cacheType).string(point).toBuffer();
  }
  return undefined;
}

/** PuTTY's entries for this host and port; host names compare without regard to case, as in known_hosts. */
export function puttyKeysFor(keys: PuttyHostKey[], host: string, port: number): PuttyHostKey[] {
  const name = host.toLowerCase();
  return keys.filter((known) => known.port === port && known.host.replace(/^\[(.*)\]$/, '$1').toLowerCase() === name);
}

/**
 * PuTTY's verdict on the key a server showed, in known_hosts terms: trusted if PuTTY has this
 * very key, changed if it has another of the same type, else unknown. `forHost` is puttyKeysFor's.
 */
export function checkPuttyHostKey(forHost: PuttyHostKey[], key: HostKey): HostKeyVerdict {
  const same = forHost.find((known) => known.blob.equals(key.blob));
  if (same) return { kind: 'trusted', file: same.file, line: same.line };
  const type = hostKeyType(key.blob);
  const sameType = forHost.filter((known) => known.type === type).map(recordedAs);
  if (sameType.length > 0) return { kind: 'changed', known: sameType };
  return { kind: 'unknown', otherTypesKnown: forHost.map(recordedAs) };
}

/** Just the facts an error or a question shows, as for a known_hosts line. */
function recordedAs(key: PuttyHostKey): KnownKey {
  return { file: key.file, line: key.line, type: key.type, fingerprint: key.fingerprint };
}
