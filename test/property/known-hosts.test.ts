import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHostKey, knownHostsName, knownKeyTypes, recordHostKey, type HostKey } from '../../electron/core/ssh/host-keys/known-hosts.js';
import { asyncOutcomeOf, expectTidyMessage, runs, textFrom } from './bounds.js';

// known_hosts files of any content: reading never fails on what a file holds, and a key Reclaim
// records is trusted for exactly that host and port afterwards, no other.

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-known-hosts-property-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function fileWith(text: string): Promise<string> {
  const file = path.join(dir, `known_hosts_${++counter}`);
  await writeFile(file, text);
  return file;
}

function sshString(data: Buffer | string): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A well-formed ed25519 or ecdsa public key blob (known_hosts only reads the format, not the curve math). */
const key: fc.Arbitrary<HostKey> = fc.tuple(fc.constantFrom('ssh-ed25519', 'ecdsa-sha2-nistp256'), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(
  ([type, bytes]) => ({
    type,
    blob: type === 'ssh-ed25519'
      ? Buffer.concat([sshString(type), sshString(Buffer.from(bytes))])
      : Buffer.concat([sshString(type), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([4]), Buffer.from(bytes), Buffer.from(bytes)]))]),
  }),
);

const hostName = fc.oneof(
  fc.constantFrom('plex.lan', 'PLEX.lan', '192.168.1.20', '::1', 'nas', 'a', 'ä.example'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
);
const port = fc.oneof(fc.constant(22), fc.integer({ min: 1, max: 65535 }));

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** Lines as people, ssh and broken editors leave them. */
const line = fc.oneof(
  fc.tuple(fc.constantFrom('', '@revoked ', '@cert-authority ', '@bogus '), textFrom(['plex.lan', '*', '?', '!', ',', '[', ']', ':2222', '|1|', 'nas'], 6), key, fc.constantFrom('', ' comment', '\r'))
    .map(([marker, hosts, k, tail]) => `${marker}${hosts} ${k.type} ${k.blob.toString('base64')}${tail}`),
  fc.tuple(hostName, port, key).map(([h, p, k]) => `${hashed(knownHostsName(h, p))} ${k.type} ${k.blob.toString('base64')}`),
  textFrom(['#', ' ', '\t', 'ssh-ed25519', 'AAAA', '=', '@revoked', '|1|', '\r'], 10),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('known_hosts, for any content', () => {
  it('is read without failing: a verdict for any host, port and key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), hostName, port, key, async (lines, host, p, k) => {
        const file = await fileWith(lines.join('\n'));
        const verdict = await asyncOutcomeOf(checkHostKey([file], host, p, k));
        expect(verdict.ok).toBe(true);
        expect((await asyncOutcomeOf(knownKeyTypes([file], host, p))).ok).toBe(true);
      }),
      runs(150),
    );
  });
});

describe('recording a key', () => {
  it('either refuses the host name as BAD_INPUT, or trusts the key for that host and port and no other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 4 }), hostName, port, key, hostName, port, async (lines, host, p, k, otherHost, otherPort) => {
        const file = await fileWith(lines.join('\n'));
        const otherBefore = await checkHostKey([file], otherHost, otherPort, k);
        const recorded = await asyncOutcomeOf(recordHostKey(file, host, p, k));
        if (!recorded.ok) {
          expect(recorded.error.code).toBe('BAD_INPUT');
          expectTidyMessage(recorded.error);
          return;
        }
        expect(await checkHostKey([file], host, p, k)).toMatchObject({ kind: 'trusted' });
        if (knownHostsName(otherHost, otherPort) !== knownHostsName(host, p)) {
          // Whatever else the file says about the other host, the new line adds nothing for it.
          expect(await checkHostKey([file], otherHost, otherPort, k)).toEqual(otherBefore);
        }
      }),
      runs(120),
    );
  });
});
