import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostKeyStore } from '../../electron/core/ssh/host-keys/policy.js';
import type { HostKeyQuestion, Prompter } from '../../electron/core/ssh/prompter.js';
import { connectRoute, type SshHop } from '../../electron/core/ssh/connect.js';
import { reclaimErrorOf } from '../support/failure.js';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// Trusting a server like OpenSSH does: known keys pass, unknown ones are asked about (or refused
// when nobody can be asked), changed and revoked ones are refused whatever anyone answers.

const execFileP = promisify(execFile);

let dir: string;
let key: KeyPair;
let sshd: Sshd;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-hostkeys-'));
  key = await makeKeyPair(dir, { type: 'ed25519' });
  sshd = await startSshd({ authorizedKeys: [key.publicLine], hostKeyTypes: ['ed25519', 'ecdsa'] });
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

const route = (): SshHop[] => [{ label: 'server', host: sshd.host, port: sshd.port, user: sshd.user.name, configIdentityFiles: [] }];
const name = () => `[${sshd.host}]:${sshd.port}`;

async function knownHostsFile(lines: string[]): Promise<string> {
  const file = path.join(dir, `known_hosts_${++counter}`);
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

async function connect(store: HostKeyStore, prompter: Prompter = {}): Promise<void> {
  const connection = await connectRoute(route(), { auth: { identityFile: key.privatePath }, hostKeys: store, prompter });
  await connection.close();
}

const refusal = (store: HostKeyStore, prompter: Prompter = {}) => reclaimErrorOf(connect(store, prompter));

function answering(yes: boolean) {
  const asked: HostKeyQuestion[] = [];
  return { asked, prompter: { confirmHostKey: async (q: HostKeyQuestion) => (asked.push(q), yes) } satisfies Prompter };
}

const neverAsked: Prompter = {
  confirmHostKey: async () => {
    throw new Error('the person must not be asked here');
  },
};

describe('an unknown server key', () => {
  it('is refused when nobody can be asked, with the fingerprint ssh-keygen prints', async () => {
    const file = path.join(dir, 'absent_known_hosts');
    const error = await refusal({ trustFiles: [file], recordFile: file, acceptNew: false });
    expect(error).toMatchObject({ code: 'HOST_KEY_UNKNOWN', details: { fingerprint: sshd.hostKeys[0]!.fingerprint } });
    expect(error.message).toContain(sshd.hostKeys[0]!.fingerprint);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  it('is shown to the person; accepted, it is recorded and not asked about again', async () => {
    const file = path.join(dir, 'record_known_hosts');
    const { asked, prompter } = answering(true);
    await connect({ trustFiles: [file], recordFile: file, acceptNew: false }, prompter);
    expect(asked).toEqual([{ host: sshd.host, port: sshd.port, keyType: 'ssh-ed25519', fingerprint: sshd.hostKeys[0]!.fingerprint, otherTypesKnown: [] }]);
    await connect({ trustFiles: [file], recordFile: file, acceptNew: false }, neverAsked);
    // The recorded line is one OpenSSH itself accepts.
    const { stdout } = await execFileP('ssh-keygen', ['-F', name(), '-f', file, '-l']);
    expect(stdout).toContain(sshd.hostKeys[0]!.fingerprint);
  });

  it('declined, it is HOST_KEY_UNKNOWN and nothing is recorded', async () => {
    const file = path.join(dir, 'declined_known_hosts');
    const error = await refusal({ trustFiles: [file], recordFile: file, acceptNew: false }, answering(false).prompter);
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toMatch(/did not accept/);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  it('is recorded without asking under accept-new, in Reclaim\'s file, never in the user\'s', async () => {
    const users = await knownHostsFile(['otherhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxqH8dkRdUKyLTmD1wB0bN6+T1HnqXt6GG1Ltd4eFnW']);
    const before = await readFile(users);
    const reclaims = path.join(dir, 'reclaim', 'known_hosts');
    await connect({ trustFiles: [users, reclaims], recordFile: reclaims, acceptNew: true }, neverAsked);
    expect(await readFile(users)).toEqual(before);
    expect(await readFile(reclaims, 'utf8')).toContain(sshd.hostKeys[0]!.blob.toString('base64'));
  });

  it('that cannot be recorded is refused as STORAGE_FAILED, naming Reclaim\'s file, not as an SSH failure', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const reclaims = path.join(blocker, 'known_hosts');
    const error = await refusal({ trustFiles: [reclaims], recordFile: reclaims, acceptNew: true }, neverAsked);
    expect(error).toMatchObject({ code: 'STORAGE_FAILED', details: { file: reclaims } });
    expect(error.message).toContain(reclaims);
  });

  it('uses the key type already on record, so a known ecdsa key is not mistaken for an unknown server', async () => {
    const file = await knownHostsFile([sshd.knownHostsLine(1)]);
    await connect({ trustFiles: [file], recordFile: file, acceptNew: false }, neverAsked);
  });
});

describe('a changed server key', () => {
  it('is refused even with accept-new and a yes from the person, naming both fingerprints and the line to fix', async () => {
    const impostor = await makeKeyPair(dir, { type: 'ed25519', name: 'impostor_host_key' });
    const [type, blob] = impostor.publicLine.split(' ');
    const file = await knownHostsFile(['# my servers', `${name()} ${type} ${blob}`]);
    const before = await readFile(file);
    const { asked, prompter } = answering(true);
    const error = await refusal({ trustFiles: [file], recordFile: file, acceptNew: true }, prompter);
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.message).toContain(impostor.fingerprint);
    expect(error.message).toContain(sshd.hostKeys[0]!.fingerprint);
    expect(error.fix).toContain(`line 2 of ${file}`);
    expect(error.details).toMatchObject({ known: [{ file, line: 2, type: 'ssh-ed25519', fingerprint: impostor.fingerprint }] });
    expect(asked).toEqual([]);
    expect(await readFile(file)).toEqual(before);
  });
});

describe('revoked and hashed entries', () => {
  it('refuses a key marked @revoked', async () => {
    const [, type, blob] = sshd.knownHostsLine().split(' ');
    const file = await knownHostsFile([sshd.knownHostsLine(), `@revoked * ${type} ${blob}`]);
    const error = await refusal({ trustFiles: [file], recordFile: file, acceptNew: true }, answering(true).prompter);
    expect(error.code).toBe('HOST_KEY_REVOKED');
    expect(error.message).toContain('line 2');
  });

  it('trusts a key from a hashed known_hosts made by ssh-keygen -H', async () => {
    const file = await knownHostsFile([sshd.knownHostsLine()]);
    await execFileP('ssh-keygen', ['-H', '-f', file]);
    expect(await readFile(file, 'utf8')).toMatch(/^\|1\|/);
    await connect({ trustFiles: [file], recordFile: file, acceptNew: false }, neverAsked);
  });
});
