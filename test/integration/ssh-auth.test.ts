import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyboardInteractiveQuestion, Prompter, SecretQuestion } from '../../electron/core/ssh/prompter.js';
import { connectRoute, type ConnectSettings, type SshHop } from '../../electron/core/ssh/connect.js';
import { reclaimErrorOf } from '../support/failure.js';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// Every way a person signs in, against a real OpenSSH sshd (PAM for password and
// keyboard-interactive), with the questions a person would be asked.

const execFileP = promisify(execFile);

let dir: string;
let knownHosts: string;
const keys: Record<string, KeyPair> = {};
let sshd: Sshd;
let kbdOnly: Sshd;
let keyAndKbd: Sshd;
const PASSPHRASE = 'correct horse battery staple';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reclaim-auth-'));
  keys.ed25519 = await makeKeyPair(dir, { type: 'ed25519' });
  keys.ecdsaPem = await makeKeyPair(dir, { type: 'ecdsa', format: 'pem', name: 'ecdsa_pem' });
  keys.rsaPem = await makeKeyPair(dir, { type: 'rsa', format: 'pem', name: 'rsa_pem' });
  keys.rsa = await makeKeyPair(dir, { type: 'rsa' });
  keys.encrypted = await makeKeyPair(dir, { type: 'ed25519', passphrase: PASSPHRASE, name: 'encrypted' });
  keys.encryptedPem = await makeKeyPair(dir, { type: 'rsa', format: 'pem', passphrase: PASSPHRASE, name: 'encrypted_pem' });
  keys.agentOnly = await makeKeyPair(dir, { type: 'ed25519', name: 'agent_only' });
  const authorized = Object.values(keys).map((k) => k.publicLine);
  sshd = await startSshd({ authorizedKeys: authorized });
  kbdOnly = await startSshd({ config: ['AuthenticationMethods keyboard-interactive'] });
  keyAndKbd = await startSshd({ authorizedKeys: authorized, config: ['AuthenticationMethods publickey,keyboard-interactive'] });
  knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, [sshd, kbdOnly, keyAndKbd].map((s) => s.knownHostsLine()).join('\n') + '\n');
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), kbdOnly?.stop(), keyAndKbd?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function hop(s: Sshd): SshHop[] {
  return [{ label: 'server', host: s.host, port: s.port, user: s.user.name, configIdentityFiles: [] }];
}

function settings(auth: ConnectSettings['auth'], prompter: Prompter = {}, extra: Partial<ConnectSettings> = {}): ConnectSettings {
  return { auth, prompter, hostKeys: { trustFiles: [knownHosts], recordFile: knownHosts, acceptNew: false }, ...extra };
}

async function logsIn(s: Sshd, connect: ConnectSettings): Promise<void> {
  const connection = await connectRoute(hop(s), connect);
  await connection.close();
}

const failure = (s: Sshd, connect: ConnectSettings) => reclaimErrorOf(logsIn(s, connect));

function recordingPrompter(answers: { secrets?: string[]; keyboard?: string[][] }) {
  const asked: Array<SecretQuestion | KeyboardInteractiveQuestion> = [];
  const secrets = [...(answers.secrets ?? [])];
  const keyboard = [...(answers.keyboard ?? [])];
  const prompter: Prompter = {
    async askSecret(question) {
      asked.push(question);
      return secrets.shift();
    },
    async answerKeyboardInteractive(question) {
      asked.push(question);
      return keyboard.shift();
    },
  };
  return { prompter, asked };
}

describe('key files', () => {
  it.each(['ed25519', 'ecdsaPem', 'rsaPem', 'rsa'])('signs in with a %s key', async (name) => {
    await logsIn(sshd, settings({ identityFile: keys[name]!.privatePath }));
  });

  it('asks for the passphrase of an encrypted key, again after a wrong one', async () => {
    for (const name of ['encrypted', 'encryptedPem']) {
      const { prompter, asked } = recordingPrompter({ secrets: ['wrong guess', PASSPHRASE] });
      await logsIn(sshd, settings({ identityFile: keys[name]!.privatePath }, prompter));
      expect(asked).toEqual([
        { kind: 'passphrase', subject: keys[name]!.privatePath, attempt: 1, attempts: 3 },
        { kind: 'passphrase', subject: keys[name]!.privatePath, attempt: 2, attempts: 3 },
      ]);
    }
  });

  it('says so when an encrypted key cannot be unlocked because nobody can be asked', async () => {
    const error = await failure(sshd, settings({ identityFile: keys.encrypted!.privatePath }));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(`${keys.encrypted!.privatePath}: protected by a passphrase`);
  });

  it('a cancelled passphrase question is a cancelled sign-in, not a wrong password', async () => {
    const { prompter } = recordingPrompter({ secrets: [] });
    const error = await failure(sshd, settings({ identityFile: keys.encrypted!.privatePath }, prompter));
    expect(error.code).toBe('CANCELLED');
    expect(error.message).toMatch(/cancelled/);
  });

  it('a server that stops after too many keys (MaxAuthTries) says so, of the key given rather than "use -i"', async () => {
    const strict = await startSshd({ authorizedKeys: [keys.ed25519!.publicLine], config: ['MaxAuthTries 2'] });
    try {
      await writeFile(knownHosts, [sshd, kbdOnly, keyAndKbd, strict].map((s) => s.knownHostsLine()).join('\n') + '\n');
      const strangers = await Promise.all(['a', 'b', 'c'].map((n) => makeKeyPair(dir, { type: 'ed25519', name: `stranger_${n}` })));
      const route = [{ label: 'server', host: strict.host, port: strict.port, user: strict.user.name, configIdentityFiles: strangers.slice(1).map((k) => k.privatePath) }];
      const error = await reclaimErrorOf(connectRoute(route, settings({ identityFile: strangers[0]!.privatePath })));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.fix).toMatch(/MaxAuthTries/);
      expect(error.fix).toContain(strangers[0]!.privatePath);
      expect(error.fix).not.toContain('-i FILE');
    } finally {
      await strict.stop();
    }
  });

  it('a key the server does not know is AUTH_FAILED saying what was tried and what the server accepts', async () => {
    const stranger = await makeKeyPair(dir, { type: 'ed25519', name: 'stranger' });
    const error = await failure(sshd, settings({ identityFile: stranger.privatePath }));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(`key ${stranger.privatePath}`);
    expect(error.message).toMatch(/accepts: .*publickey/);
  });
});

describe('ssh-agent', () => {
  let agent: ChildProcess;
  let socket: string;
  beforeAll(async () => {
    socket = path.join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    // ssh-agent prints its SSH_AUTH_SOCK line once the socket is listening.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ssh-agent did not start')), 10_000);
      agent.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('SSH_AUTH_SOCK')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await execFileP('ssh-add', [keys.agentOnly!.privatePath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  });
  afterAll(() => agent?.kill());

  it('signs in with a key held only by a real ssh-agent', async () => {
    const mark = sshd.log().length;
    await logsIn(sshd, settings({ agent: socket }));
    await sshd.waitForLog(new RegExp(`Accepted publickey for ${sshd.user.name}.*${keys.agentOnly!.fingerprint.replace(/[+/]/g, '.')}`), 10_000, mark);
  });
});

describe('passwords and keyboard-interactive', () => {
  it('signs in with a given password', async () => {
    await logsIn(kbdOnly, settings({ password: kbdOnly.user.password }));
    await logsIn(sshd, settings({ password: sshd.user.password }));
  });

  it('asks for the password when none was given, and again after a wrong one', async () => {
    const { prompter, asked } = recordingPrompter({ secrets: ['wrong', sshd.user.password] });
    // This sshd offers password as well as keyboard-interactive; answer the keyboard prompt wrongly first.
    prompter.answerKeyboardInteractive = undefined;
    await logsIn(sshd, settings({}, prompter));
    expect(asked).toEqual([
      { kind: 'password', subject: `${sshd.user.name}@${sshd.host}:${sshd.port}`, attempt: 1 },
      { kind: 'password', subject: `${sshd.user.name}@${sshd.host}:${sshd.port}`, attempt: 2 },
    ]);
  });

  it('asks a PAM "Password:" prompt as a password, so the tunnel can remember it for reconnects', async () => {
    const { prompter, asked } = recordingPrompter({ secrets: [kbdOnly.user.password] });
    await logsIn(kbdOnly, settings({}, prompter));
    expect(asked).toEqual([{ kind: 'password', subject: `${kbdOnly.user.name}@${kbdOnly.host}:${kbdOnly.port}`, attempt: 1 }]);
  });

  it('passes other keyboard-interactive prompts (2FA style) to the person and their answers back', async () => {
    const { prompter, asked } = recordingPrompter({ keyboard: [[kbdOnly.user.password]] });
    prompter.askSecret = undefined;
    await logsIn(kbdOnly, settings({}, prompter));
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ user: kbdOnly.user.name, prompts: [{ prompt: expect.stringMatching(/Password/), echo: false }] });
  });

  it('chains a key and a keyboard-interactive step when the server demands both', async () => {
    const { prompter, asked } = recordingPrompter({ secrets: [keyAndKbd.user.password] });
    await logsIn(keyAndKbd, settings({ identityFile: keys.ed25519!.privatePath }, prompter));
    expect(asked).toHaveLength(1);
  });

  it('does not count the time a person takes to answer against the login timeout', async () => {
    // A slow person, not a synchronisation: the answer comes well after the login limit.
    const slowPrompter: Prompter = {
      answerKeyboardInteractive: () => new Promise((resolve) => setTimeout(() => resolve([kbdOnly.user.password]), 1500)),
    };
    await logsIn(kbdOnly, settings({}, slowPrompter, { loginTimeoutMs: 1000 }));
  });

  it('a wrong password is AUTH_FAILED and the message never contains it', async () => {
    const error = await failure(kbdOnly, settings({ password: 'hunter2-wrong' }));
    expect(error.code).toBe('AUTH_FAILED');
    expect(JSON.stringify(error.toJSON())).not.toContain('hunter2-wrong');
    expect(error.fix).toMatch(/password/i);
  });

  it('with nothing to offer and nobody to ask, fails at once and says how to give a password', async () => {
    const error = await failure(kbdOnly, settings({}));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toMatch(/no way to ask/);
    expect(error.fix).toMatch(/--password-env/);
  });
});
