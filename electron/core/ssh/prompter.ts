import type { KnownKey } from './host-keys/known-hosts.js';

// What the SSH layer may ask a person while logging in. Each question is optional: a caller
// that cannot ask (a script, `--json`, no terminal) leaves it out, and the login then fails
// with a clear error instead of waiting for an answer that will never come.

export interface HostKeyQuestion {
  host: string;
  port: number;
  keyType: string;
  /** SHA256 fingerprint exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** Keys of other types already on record for this host (OpenSSH warns about this too). */
  otherTypesKnown: KnownKey[];
}

export interface SecretQuestion {
  kind: 'password' | 'passphrase';
  /** `user@host` for a password, the key file for a passphrase. */
  subject: string;
  /** 1 for the first ask, 2+ after a wrong answer. */
  attempt: number;
  /** How many asks there will be at most, when that is known (a key's passphrase). */
  attempts?: number;
}

export interface KeyboardInteractiveQuestion {
  host: string;
  user: string;
  name: string;
  instructions: string;
  prompts: Array<{ prompt: string; echo: boolean }>;
}

/** Things the person should hear about while signing in, though nothing is asked. */
export type LoginNotice =
  /** A server key they accepted (or --accept-new took) was written to `file`. */
  | { kind: 'host-key-recorded'; host: string; port: number; keyType: string; fingerprint: string; file: string }
  /** A key's passphrase was wrong every time: the sign-in goes on without that key. */
  | { kind: 'key-given-up'; file: string; attempts: number };

export interface Prompter {
  /** true: trust it; false: the person said no; undefined: they cancelled the question (Ctrl+C). */
  confirmHostKey?(question: HostKeyQuestion): Promise<boolean | undefined>;
  /** Resolves to undefined when the person cancels. */
  askSecret?(question: SecretQuestion): Promise<string | undefined>;
  /** One answer per prompt, or undefined when the person cancels. */
  answerKeyboardInteractive?(question: KeyboardInteractiveQuestion): Promise<string[] | undefined>;
  notify?(notice: LoginNotice): void;
}

/**
 * Secrets typed once are reused when a tunnel rebuilds its link, so an unattended tunnel recovers
 * by itself; a second ask (after a wrong answer) always goes to the person.
 */
export function rememberSecrets(prompter: Prompter): Prompter {
  if (!prompter.askSecret) return prompter;
  const ask = prompter.askSecret.bind(prompter);
  const remembered = new Map<string, string>();
  return {
    confirmHostKey: prompter.confirmHostKey?.bind(prompter),
    answerKeyboardInteractive: prompter.answerKeyboardInteractive?.bind(prompter),
    notify: prompter.notify?.bind(prompter),
    async askSecret(question: SecretQuestion) {
      const key = `${question.kind}\u0000${question.subject}`;
      const known = remembered.get(key);
      if (question.attempt === 1 && known !== undefined) return known;
      const answer = await ask(question);
      if (answer !== undefined) remembered.set(key, answer);
      return answer;
    },
  };
}
