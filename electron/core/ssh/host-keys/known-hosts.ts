import { createHash, createHmac } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { badInput, storageFailed, type ReclaimError } from '../../common/errors.js';
import { quoteInput } from '../../common/quote-input.js';
import { matchWildcard } from '../../common/wildcard.js';

// Reading and appending OpenSSH known_hosts files, matching the way OpenSSH itself does
// (hostfile.c, match.c, sshkey.c), so a key Reclaim trusts is one `ssh` would trust and the
// reverse. Where OpenSSH would reject a line, it is skipped here too.

export interface HostKey {
  /** Key type, e.g. 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa'. */
  type: string;
  /** SSH wire-format public key, as ssh2's hostVerifier receives it. */
  blob: Buffer;
}

export interface KnownKey {
  file: string;
  line: number;
  type: string;
  fingerprint: string;
}

export type HostKeyVerdict =
  | { kind: 'trusted'; file: string; line: number }
  | { kind: 'unknown'; otherTypesKnown: KnownKey[] }
  | { kind: 'changed'; known: KnownKey[] }
  | { kind: 'revoked'; file: string; line: number };

/** What `ssh-keygen -lf` prints: SHA256 of the wire blob, base64 without padding. */
export function fingerprintSha256(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type named at the start of a wire blob (uint32 length + string). */
export function hostKeyType(blob: Buffer): string {
  const type = readTypeString(blob);
  if (type === undefined) {
    throw badInput('The server sent a host key Reclaim cannot read.', 'Check that the address points to an SSH server.');
  }
  return type;
}

/** The name OpenSSH looks up and records: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  // ssh lowercases the host before building this name, which matters for hashed entries.
  const name = asciiLower(host);
  return port === 22 ? name : `[${name}]:${port}`;
}

export async function checkHostKey(files: string[], host: string, port: number, key: HostKey): Promise<HostKeyVerdict> {
  const entries = await entriesForHost(files, knownHostsName(host, port));
  const type = hostKeyType(key.blob);

  // Revocation overrides any other line that trusts the same key.
  const revoked = entries.find((e) => e.revoked && e.blob.equals(key.blob));
  if (revoked) return { kind: 'revoked', file: revoked.file, line: revoked.line };

  const plain = entries.filter((e) => !e.revoked);
  const same = plain.find((e) => e.blob.equals(key.blob));
  if (same) return { kind: 'trusted', file: same.file, line: same.line };

  // Only a different key of the same type is a change; another type is merely "not yet seen",
  // as OpenSSH's "keys of different type are already known for this host".
  const sameType = plain.filter((e) => e.type === type).map(toKnownKey);
  if (sameType.length > 0) return { kind: 'changed', known: sameType };
  return { kind: 'unknown', otherTypesKnown: plain.map(toKnownKey) };
}

/** Key types on record for the host, in file order, for ordering host key algorithms. */
export async function knownKeyTypes(files: string[], host: string, port: number): Promise<string[]> {
  const entries = await entriesForHost(files, knownHostsName(host, port));
  const revoked = entries.filter((e) => e.revoked);
  const types: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry.revoked || seen.has(entry.type)) continue;
    seen.add(entry.type);
    // Like OpenSSH, only the first key of a type is consulted; if it is revoked the type is not preferred.
    if (!revoked.some((r) => r.blob.equals(entry.blob))) types.push(entry.type);
  }
  return types;
}

/** Appends `name type base64` to the file, creating it (0600) and its directory (0700) if needed. */
export async function recordHostKey(file: string, host: string, port: number, key: HostKey): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badInput(`${port} is not a valid port number.`, 'Use a port between 1 and 65535.');
  }
  // Anything that the known_hosts grammar would read as a wildcard, list, marker, hash or field
  // separator would make the recorded line trust more hosts than this one, or none.
  if (host === '' || /[\s,*?!#|[\]\\\x00-\x1f\x7f]/.test(host) || host.startsWith('@')) {
    throw badInput(`${quoteInput(host)} cannot be recorded as a host name in known_hosts.`, 'Use a plain host name or IP address.');
  }
  const type = hostKeyType(key.blob);
  if (!isWellFormedBlob(key.blob) || !typeFieldMatches(key.type, type)) {
    throw badInput(`The ${key.type} host key to record is malformed.`, 'Connect again so the key is read afresh.');
  }

  // A file a person named was checked before any server was contacted (checkKnownHostsFile); a
  // failure here is Reclaim failing to write, whoever named the file.
  const handle = await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    .then(() => open(file, 'a+', 0o600))
    .catch((error: unknown) => { throw storageFailed(file, error); });
  try {
    const { size } = await handle.stat();
    let separator = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) separator = '\n';
    }
    await handle.appendFile(`${separator}${knownHostsName(host, port)} ${type} ${key.blob.toString('base64')}\n`);
  } finally {
    await handle.close();
  }
}

/**
 * A known_hosts file Reclaim is to record keys in, or that a person named: missing is fine (it is
 * created), anything but a regular file is refused by name before any server is contacted.
 */
export async function checkKnownHostsFile(file: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw notUsable(file, code === 'ENOTDIR' ? 'a part of its path is a file, not a folder' : `it cannot be read: ${code ?? String(error)}`);
  }
  if (!isFile) throw notUsable(file, 'it is a directory or a device, not a file');
}

function notUsable(file: string, why: string): ReclaimError {
  return badInput(
    `${file} cannot be used as a known_hosts file: ${why}.`,
    'Name a known_hosts file (it is created if it does not exist yet), for example ~/.ssh/known_hosts.',
    { file },
  );
}

interface Entry {
  file: string;
  line: number;
  revoked: boolean;
  type: string;
  blob: Buffer;
}

function toKnownKey(entry: Entry): KnownKey {
  return { file: entry.file, line: entry.line, type: entry.type, fingerprint: fingerprintSha256(entry.blob) };
}

/** Valid plain and @revoked lines of all files whose host patterns match `name`. */
async function entriesForHost(files: string[], name: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      // Missing or unreadable files are skipped, as ssh does with its default UserKnownHostsFile list.
      continue;
    }
    const lines = text.split('\n');
    lines.forEach((raw, index) => {
      const parsed = parseLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
      if (parsed && hostsMatch(name, parsed.hosts)) {
        entries.push({ file, line: index + 1, revoked: parsed.revoked, type: parsed.type, blob: parsed.blob });
      }
    });
  }
  return entries;
}

interface ParsedLine {
  revoked: boolean;
  hosts: string;
  type: string;
  blob: Buffer;
}

function parseLine(line: string): ParsedLine | undefined {
  const fields = line.replace(/^[ \t]+/, '').split(/[ \t]+/);
  if (fields[0] === '' || fields[0]!.startsWith('#')) return undefined;

  let revoked = false;
  if (fields[0]!.startsWith('@')) {
    const marker = fields.shift();
    // @cert-authority lines vouch for certificates, which Reclaim does not accept; any other marker is invalid.
    if (marker !== '@revoked') return undefined;
    revoked = true;
  }
  const [hosts, typeField, base64] = fields;
  if (!hosts || hosts.startsWith('@') || !typeField || !base64) return undefined;

  // OpenSSH's base64 decoder rejects stray characters, missing padding and non-zero pad bits;
  // requiring the canonical encoding is the same test.
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64 || !isWellFormedBlob(blob)) return undefined;
  const type = readTypeString(blob);
  if (type === undefined || !typeFieldMatches(typeField, type)) return undefined;
  return { revoked, hosts, type, blob };
}

// sshkey_read accepts an RSA signature algorithm name in the type field of an RSA key.
const TYPE_FIELD_ALIASES: Record<string, string> = { 'rsa-sha2-256': 'ssh-rsa', 'rsa-sha2-512': 'ssh-rsa' };

function typeFieldMatches(field: string, blobType: string): boolean {
  return field === blobType || TYPE_FIELD_ALIASES[field] === blobType;
}

function readTypeString(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || 4 + length > blob.length) return undefined;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

// Plain public keys of every type OpenSSH supports are a run of length-prefixed strings
// (mpints included) with nothing left over; sshkey_from_blob rejects trailing bytes.
function isWellFormedBlob(blob: Buffer): boolean {
  let offset = 0;
  let count = 0;
  while (offset < blob.length) {
    if (offset + 4 > blob.length) return false;
    offset += 4 + blob.readUInt32BE(offset);
    count++;
  }
  return offset === blob.length && count >= 2 && readTypeString(blob) !== undefined;
}

/** match_maybe_hashed: a field starting with '|' is one hashed name, anything else a pattern list. */
function hostsMatch(name: string, hosts: string): boolean {
  return hosts.startsWith('|') ? hashedNameMatches(name, hosts) : matchPatternList(asciiLower(name), hosts) === 1;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, compared as text exactly as host_hash does. */
function hashedNameMatches(name: string, field: string): boolean {
  const salt64 = /^\|1\|([^|]+)\|/.exec(field)?.[1];
  if (salt64 === undefined) return false;
  const salt = Buffer.from(salt64, 'base64');
  if (salt.length !== 20) return false;
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return field === `|1|${salt.toString('base64')}|${mac}`;
}

/** match.c match_pattern_list: 1 on a positive match, -1 if a negated pattern matched, else 0. */
function matchPatternList(name: string, patterns: string): number {
  let positive = 0;
  for (const raw of patterns.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = asciiLower(negated ? raw.slice(1) : raw);
    // OpenSSH copies each pattern into a 1024-byte buffer and fails the whole list if it does not fit.
    if (pattern.length >= 1023) return 0;
    if (matchWildcard(name, pattern)) {
      if (negated) return -1;
      positive = 1;
    }
  }
  return positive;
}

// OpenSSH lowercases with the C locale's tolower, which leaves non-ASCII bytes alone.
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
