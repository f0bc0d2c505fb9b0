import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIdentityFile } from '../../electron/core/ssh/auth.js';
import { reclaimErrorOf } from '../support/failure.js';

// A key file named with -i (or chosen in the app) that is not a usable private key: the person
// learns which file and why, in Reclaim's words, and never sees what the file holds.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-identity-file-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const ESCAPE = '\u001b]0;owned\u0007\u001b[2J';

const CORRUPT: Array<[string, string]> = [
  ['a PEM key naming a cipher it made up', `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: EVIL${ESCAPE},00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n`],
  ['an OpenSSH key with a made-up magic', `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.from(`evil-magic${ESCAPE}\u0000`).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`],
  ['plain garbage', `garbage${ESCAPE}`],
];

describe('a key file that cannot be used', () => {
  it.each(CORRUPT)('%s is BAD_INPUT naming the file, without echoing its contents', async (_name, contents) => {
    const file = path.join(dir, 'id_corrupt');
    await writeFile(file, contents);
    const error = await reclaimErrorOf(checkIdentityFile(file));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain(file);
    expect(error.message).not.toMatch(/EVIL|evil-magic|owned|\u001b/i);
    expect(error.fix).toMatch(/private key/);
  });
});
