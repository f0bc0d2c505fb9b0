import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRoute, type ConnectSettings, type SshHop } from '../../electron/core/ssh/connect.js';
import { rememberSecrets, type Prompter, type SecretQuestion } from '../../electron/core/ssh/prompter.js';
import { reclaimErrorOf } from '../support/failure.js';
import { makePpkKey, type PpkKey, type PpkKeyType } from '../support/ppk-keys.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// PuTTY users' keys as PuTTYgen saves them, every type and format it writes, signing in to a real
// OpenSSH sshd as they are: no conversion step for the person.

const PASSPHRASE = 'pässphrase with spaces';
const TYPES: PpkKeyType[] = ['rsa', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'ed25519'];

let dir: string;
let sshd: Sshd;
let knownHosts: string;
const keys: PpkKey[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-ppk-'));
  for (const type of TYPES) {
    const base = await makePpkKey(dir, `${type}-v3`, { type, version: 3 });
    keys.push(
      base,
      await makePpkKey(dir, `${type}-v3-encrypted`, { type, version: 3, passphrase: PASSPHRASE, from: base }),
      await makePpkKey(dir, `${type}-v2`, { type, version: 2, from: base }),
      await makePpkKey(dir, `${type}-v2-encrypted`, { type, version: 2, passphrase: PASSPHRASE, from: base }),
    );
  }
  const ed25519 = keys.find((key) => key.type === 'ed25519')!;
  for (const kdf of ['argon2id', 'argon2i', 'argon2d'] as const) {
    keys.push(await makePpkKey(dir, `ed25519-${kdf}`, { type: 'ed25519', version: 3, passphrase: PASSPHRASE, kdf, from: ed25519 }));
  }
  sshd = await startSshd({ authorizedKeys: keys.map((key) => key.publicLine) });
  knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const route = (): SshHop[] => [{ label: 'server', host: sshd.host, port: sshd.port, user: sshd.user.name, configIdentityFiles: [] }];
const settings = (identityFile: string, prompter: Prompter = {}): ConnectSettings => ({
  auth: { identityFile },
  prompter,
  hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false },
});

function answering(...answers: string[]) {
  const asked: SecretQuestion[] = [];
  const prompter: Prompter = {
    async askSecret(question) {
      asked.push(question);
      return answers.shift();
    },
  };
  return { prompter, asked };
}

async function signIn(connect: ConnectSettings): Promise<void> {
  const connection = await connectRoute(route(), connect);
  connection.close();
  await connection.closed;
}

const label = (key: PpkKey) => `${key.type}, format ${key.version}${key.passphrase ? `, passphrase (${key.kdf ?? (key.version === 3 ? 'argon2id' : 'SHA-1')})` : ''}`;

describe('PuTTY .ppk key files', () => {
  it('signs in with every key PuTTYgen makes, asking for the passphrase exactly when the file has one', async () => {
    expect(keys).toHaveLength(TYPES.length * 4 + 3);
    for (const key of keys) {
      const { prompter, asked } = answering(PASSPHRASE);
      const mark = sshd.log().length;
      await signIn(settings(key.path, prompter)).catch((error: Error) => {
        throw new Error(`${label(key)}: ${error.message}`);
      });
      // The server itself says which key it accepted.
      await sshd.waitForLog(new RegExp(`Accepted publickey for ${sshd.user.name} .*${key.fingerprint!.replace(/[+/]/g, '.')}`), 10_000, mark);
      expect(asked, label(key)).toEqual(key.passphrase ? [{ kind: 'passphrase', subject: key.path, attempt: 1, attempts: 3 }] : []);
    }
  });

  it('asks again after a wrong passphrase, in both formats', async () => {
    for (const key of keys.filter((candidate) => candidate.type === 'ed25519' && candidate.passphrase && !candidate.kdf)) {
      const { prompter, asked } = answering('not the passphrase', PASSPHRASE);
      await signIn(settings(key.path, prompter));
      expect(asked.map((question) => question.attempt), label(key)).toEqual([1, 2]);
    }
  });

  it('remembers a passphrase typed once, as for OpenSSH keys, so a reconnect does not ask again', async () => {
    const key = keys.find((candidate) => candidate.type === 'rsa' && candidate.version === 3 && candidate.passphrase)!;
    const { prompter, asked } = answering(PASSPHRASE);
    const remembering = rememberSecrets(prompter);
    await signIn(settings(key.path, remembering));
    await signIn(settings(key.path, remembering));
    expect(asked).toHaveLength(1);
  });

  it('says which key file is damaged, and how, without showing its contents', async () => {
    const key = keys.find((candidate) => candidate.type === 'ed25519' && candidate.version === 3 && !candidate.passphrase)!;
    const text = await readFile(key.path, 'utf8');
    const privateLine = text.split('\n')[text.split('\n').indexOf('Private-Lines: 1') + 1]!;
    const cases: Array<[string, string, RegExp]> = [
      ['edited-comment', text.replace(/^Comment: .*$/m, 'Comment: someone else'), /Private-MAC/],
      ['truncated', text.slice(0, text.indexOf('Private-Lines')), /"Private-Lines" line is missing/],
      ['bad-base64', text.replace(privateLine, `${privateLine.slice(0, 10)}!${privateLine.slice(11)}`), /not valid base64/],
    ];
    for (const [name, content, why] of cases) {
      const file = path.join(dir, `${name}.ppk`);
      await writeFile(file, content);
      const error = await reclaimErrorOf(signIn(settings(file)), 'BAD_INPUT');
      expect(error.message).toContain(`The PuTTY key file ${file} is damaged`);
      expect(error.message).toMatch(why);
      expect(error.details).toEqual({ file });
      expect(`${error.message} ${error.fix}`).not.toContain(privateLine.slice(0, 12));
    }
  });

  it('refuses an Ed448 key plainly, saying what to make instead', async () => {
    const ed448 = await makePpkKey(dir, 'ed448', { type: 'ed448', version: 3 });
    const error = await reclaimErrorOf(signIn(settings(ed448.path)), 'BAD_INPUT');
    expect(error.message).toBe(`The key in ${ed448.path} is an Ed448 key. Reclaim's SSH library cannot sign in with Ed448 keys (and OpenSSH servers do not accept them).`);
    expect(error.fix).toMatch(/Ed25519 key in PuTTYgen/);
  });
});
