import { invokedAs } from './invocation.js';
import type { SshOptionValues } from './ssh-options.js';

// Commands Reclaim suggests (claim after status, accept a key, another local port) are printed so
// that they run when pasted: named as the person started Reclaim, for the same server, with every
// option they gave for reaching it and signing in, each word quoted for the shell. None of those
// options holds a secret (a password comes only through --password-env NAME); a claim token
// (--token) is never carried over.

/** The options that say how to reach and sign in to the server, as the person gave them. */
const KEPT: Array<[keyof SshOptionValues, string]> = [
  ['port', '-p'],
  ['identity', '-i'],
  ['password-env', '--password-env'],
  ['agent', '--agent'],
  ['known-hosts', '--known-hosts'],
  ['accept-new', '--accept-new'],
  ['jump', '-J'],
  ['config', '-F'],
  ['remote', '--remote'],
];

export class CommandLine {
  private constructor(
    private readonly server: string,
    private readonly options: string[],
    private readonly localPort: string | undefined,
  ) {}

  static from(server: string, values: SshOptionValues): CommandLine {
    const options = KEPT.flatMap(([name, flag]) => {
      const value = values[name];
      if (value === undefined || value === false) return [];
      return value === true ? [flag] : [flag, value];
    });
    return new CommandLine(server, options, values['local-port']);
  }

  /** The pasteable command: `reclaim <command> <server> <options>`, plus `extra`; `localPort` replaces -L. */
  command(command: string, changes: { extra?: string[]; localPort?: string } = {}): string {
    const localPort = changes.localPort ?? this.localPort;
    const words = [command, this.server, ...this.options, ...(localPort === undefined ? [] : ['-L', localPort]), ...(changes.extra ?? [])];
    return [invokedAs(), ...words.map((word) => shellWord(word))].join(' ');
  }

  has(flag: string): boolean {
    return this.options.includes(flag);
  }
}

/** One word as a shell reads it back unchanged: POSIX sh quoting, or double quotes on Windows. */
export function shellWord(word: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return /^[\w@+=:,./\\-]+$/.test(word) ? word : `"${word}"`;
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
