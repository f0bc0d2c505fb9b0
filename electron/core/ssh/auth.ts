import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, KeyboardInteractiveCallback, NextAuthHandler } from 'ssh2';
import { badInput, isReclaimError } from '../common/errors.js';
import type { Prompter } from './prompter.js';
import { openPrivateKey, type OpenedKey } from './private-key.js';

// Sign-in for one SSH hop, in OpenSSH's order: explicit key, agent, configured or default key
// files, keyboard-interactive, password. Methods are offered only when the server still lists
// them, and a person is asked for a passphrase or password only when that answer is about to be
// used, never up front.

export interface AuthSettings {
  /** `-i FILE`: the key the person asked for; unreadable is an input error, not a skip. */
  identityFile?: string;
  /** IdentityFile lines from ~/.ssh/config, tried after the agent. */
  configIdentityFiles?: string[];
  /** From --password-env or a saved secret; never from argv. */
  password?: string;
  /** Agent socket or pipe; undefined means no agent. */
  agent?: string;
  /** false: password and keyboard-interactive only (no agent, no key files, no passphrase questions). */
  keys?: boolean;
}

/** What the person is doing right now; the login timer pauses while they are asked something. */
export type AskPerson = <T>(ask: () => Promise<T>) => Promise<T>;

export interface AuthAttemptLog {
  /** Methods tried, for the AUTH_FAILED message ("key ~/.ssh/id_ed25519", "password"). */
  tried: string[];
  /** What the server said it accepts, from its last USERAUTH_FAILURE. */
  serverAccepts: string[];
  /** Keys skipped and why (encrypted with no way to ask, unreadable). */
  skipped: string[];
  cancelled: boolean;
  /** An input error met while preparing a method (an unreadable -i key), reported instead of AUTH_FAILED. */
  inputError?: unknown;
}

const MAX_SECRET_ATTEMPTS = 3;
const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

interface KeyCandidate { file: string; explicit: boolean }

/** Far larger than any private key (a 16384-bit RSA key is about 13 KB). */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

/** Why a key file could not be read, in words a person knows (not ENOENT). */
const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'there is no such file',
  ENOTDIR: 'a part of that path is not a folder',
  EACCES: 'permission denied',
  ELOOP: 'it is a loop of symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

export async function checkIdentityFile(file: string): Promise<Buffer> {
  try {
    // A device or a pipe named by mistake would never end; a huge file is no key either.
    const info = await fs.stat(file);
    if (!info.isFile() || info.size > MAX_KEY_FILE_BYTES) {
      throw badInput(
        `${file} is not a private key file (${info.isFile() ? 'it is far too large' : 'it is not a regular file'}).`,
        'Choose the private key file itself, for example ~/.ssh/id_ed25519 (not the .pub file).',
      );
    }
    const data = await fs.readFile(file);
    const opened = await openPrivateKey(file, data);
    if (opened.kind === 'unusable') {
      throw badInput(
        `The key file ${file} is not a private key Reclaim can read (${opened.reason}).`,
        'Choose the private key file (not the .pub file): an OpenSSH, PEM or PuTTY (.ppk) private key.',
      );
    }
    return data;
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (isReclaimError(error) || errno === undefined) throw error;
    throw badInput(
      `Cannot read the key file ${file}: ${READ_PROBLEMS[errno] ?? `it cannot be read (${errno})`}.`,
      errno === 'EACCES' ? 'Check that your user may read the file (ls -l shows its owner and permissions).' : 'Check the path: give the private key file, for example ~/.ssh/id_ed25519.',
    );
  }
}

export function createAuthHandler(options: {
  user: string;
  hostLabel: string;
  settings: AuthSettings;
  prompter: Prompter;
  askPerson: AskPerson;
  log: AuthAttemptLog;
  home?: string;
}): AuthHandlerMiddleware {
  const { user, hostLabel, settings, prompter, askPerson, log } = options;
  const home = options.home ?? os.homedir();
  const useKeys = settings.keys !== false;
  const keys: KeyCandidate[] = [];
  if (settings.identityFile && useKeys) keys.push({ file: settings.identityFile, explicit: true });
  const configured = settings.configIdentityFiles ?? [];
  const keyFiles = !useKeys ? [] : configured.length || settings.identityFile
    ? configured
    : DEFAULT_KEY_NAMES.map((name) => path.join(home, '.ssh', name));

  // A step resolves to the method to offer, null to skip it, or false to stop (the person cancelled).
  type Step = () => Promise<AnyAuthMethod | false | null>;
  const steps: Array<{ method: AuthenticationType; run: Step }> = [];
  const add = (method: AuthenticationType, run: Step) => steps.push({ method, run });

  for (const key of keys) add('publickey', () => keyAuth(key));
  if (settings.agent && useKeys) {
    const agent = settings.agent;
    add('agent', async () => {
      log.tried.push('ssh-agent');
      return { type: 'agent', username: user, agent };
    });
  }
  for (const file of keyFiles) add('publickey', () => keyAuth({ file, explicit: false }));
  if (prompter.answerKeyboardInteractive || prompter.askSecret || settings.password !== undefined) {
    add('keyboard-interactive', async () => {
      log.tried.push('keyboard-interactive');
      return { type: 'keyboard-interactive', username: user, prompt: keyboardInteractive };
    });
  }
  const passwordTries = settings.password !== undefined ? 1 : prompter.askSecret ? MAX_SECRET_ATTEMPTS : 0;
  for (let step = 1; step <= passwordTries; step++) add('password', () => passwordAuth());

  let usedPasswordForKeyboard = false;
  /** Password questions so far, by either method: the second one says the first was wrong. */
  let passwordAsks = 0;

  async function keyAuth(key: KeyCandidate): Promise<AnyAuthMethod | false | null> {
    let data: Buffer;
    try {
      data = key.explicit ? await checkIdentityFile(key.file) : await fs.readFile(key.file);
    } catch (error) {
      if (key.explicit) throw error;
      return null; // a default key that does not exist is normal
    }
    const opened = await openKey(key, data);
    if (!opened) return null;
    if (opened.kind === 'ready') {
      log.tried.push(`key ${key.file}`);
      return { type: 'publickey', username: user, key: opened.key };
    }
    if (opened.kind === 'unusable') {
      log.skipped.push(`${key.file}: not a private key Reclaim can read`);
      return null;
    }
    if (!prompter.askSecret) {
      log.skipped.push(`${key.file}: protected by a passphrase and there is no way to ask for it`);
      return null;
    }
    for (let attempt = 1; attempt <= MAX_SECRET_ATTEMPTS; attempt++) {
      const passphrase = await askPerson(() => prompter.askSecret!({ kind: 'passphrase', subject: key.file, attempt, attempts: MAX_SECRET_ATTEMPTS }));
      if (passphrase === undefined) {
        log.cancelled = true;
        return false;
      }
      const unlocked = await openKey(key, data, passphrase);
      if (!unlocked) return null;
      if (unlocked.kind === 'ready') {
        log.tried.push(`key ${key.file}`);
        return { type: 'publickey', username: user, key: unlocked.key, passphrase: unlocked.passphrase };
      }
    }
    log.skipped.push(`${key.file}: wrong passphrase ${MAX_SECRET_ATTEMPTS} times`);
    // Whatever comes next (another key, a password question) must not look like more of the same.
    prompter.notify?.({ kind: 'key-given-up', file: key.file, attempts: MAX_SECRET_ATTEMPTS });
    return null;
  }

  /** A damaged key named with -i stops the login; one from the config or ~/.ssh is skipped, saying why. */
  async function openKey(key: KeyCandidate, data: Buffer, passphrase?: string): Promise<OpenedKey | undefined> {
    try {
      return await openPrivateKey(key.file, data, passphrase);
    } catch (error) {
      if (key.explicit || !isReclaimError(error)) throw error;
      log.skipped.push(`${key.file}: ${error.message}`);
      return undefined;
    }
  }

  async function passwordAuth(): Promise<AnyAuthMethod | false> {
    if (settings.password !== undefined) {
      log.tried.push('password');
      return { type: 'password', username: user, password: settings.password };
    }
    const attempt = ++passwordAsks;
    const password = await askPerson(() => prompter.askSecret!({ kind: 'password', subject: `${user}@${hostLabel}`, attempt }));
    if (password === undefined) {
      log.cancelled = true;
      return false;
    }
    if (!log.tried.includes('password')) log.tried.push('password');
    return { type: 'password', username: user, password };
  }

  function keyboardInteractive(
    name: string,
    instructions: string,
    _lang: string,
    prompts: Array<{ prompt: string; echo: boolean }>,
    finish: KeyboardInteractiveCallback,
  ): void {
    if (prompts.length === 0) {
      finish([]);
      return;
    }
    // PAM usually asks for the account password this way; a password the person already gave
    // answers that first prompt so they are not asked twice for the same thing.
    const single = prompts.length === 1 ? prompts[0] : undefined;
    const asksPassword = single !== undefined && !single.echo && /password/i.test(single.prompt);
    if (asksPassword && settings.password !== undefined && !usedPasswordForKeyboard) {
      usedPasswordForKeyboard = true;
      finish([settings.password]);
      return;
    }
    // Asked as a password (not as a free-form question) so that it is remembered like one and
    // the tunnel can sign in again by itself after the link drops.
    if (asksPassword && settings.password === undefined && prompter.askSecret) {
      const attempt = ++passwordAsks;
      askPerson(() => prompter.askSecret!({ kind: 'password', subject: `${user}@${hostLabel}`, attempt }))
        .then((answer) => {
          if (answer === undefined) log.cancelled = true;
          finish([answer ?? '']);
        })
        .catch(() => finish(['']));
      return;
    }
    if (!prompter.answerKeyboardInteractive) {
      finish(prompts.map(() => ''));
      return;
    }
    askPerson(() => prompter.answerKeyboardInteractive!({ host: hostLabel, user, name, instructions, prompts }))
      .then((answers) => {
        if (answers === undefined) log.cancelled = true;
        finish(answers ?? prompts.map(() => ''));
      })
      .catch(() => finish(prompts.map(() => '')));
  }

  let next = 0;
  let askedServer = false;
  return (methodsLeft: AuthenticationType[] | null, _partialSuccess: boolean | null, callback: NextAuthHandler) => {
    // Like OpenSSH, start with "none": the server's answer lists the methods it accepts, so no
    // one is asked for a secret the server would not take, and a failure can say what it wants.
    if (!askedServer) {
      askedServer = true;
      callback({ type: 'none', username: user });
      return;
    }
    if (methodsLeft) log.serverAccepts = [...methodsLeft];
    const allowed = (method: AuthenticationType) =>
      !methodsLeft || methodsLeft.includes(method) || (method === 'agent' && methodsLeft.includes('publickey'));
    const advance = async (): Promise<AnyAuthMethod | false> => {
      while (next < steps.length && !log.cancelled) {
        const step = steps[next++]!;
        if (!allowed(step.method)) continue;
        const auth = await step.run();
        if (auth === false) return false;
        if (auth) return auth;
      }
      return false;
    };
    // ssh2 takes `false` as "no more methods"; its typings do not say so.
    const finish = callback as (auth: AnyAuthMethod | false) => void;
    advance().then(finish, (error: unknown) => {
      log.inputError = error;
      finish(false);
    });
  };
}
