import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventLog } from './events.js';

// Runs the built `reclaim` on a pseudo-terminal, as a person at a terminal meets it: it asks its
// questions (host key, password, passphrase), and the test answers by typing keys, Ctrl+C
// included. The terminal is made by `script` (util-linux; Debian's bsdutils, always installed),
// which copies what the test writes to the terminal and the terminal's output back.

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/electron/cli/main.js');

export interface TerminalRun {
  /** Keys typed at the terminal: "yes\r", "\x03" for Ctrl+C. */
  type(keys: string): void;
  /** What the terminal showed so far, without control sequences, lines ending in \n. */
  screen(): string;
  /** Waits until the screen matches, failing the test after timeoutMs. */
  waitFor(match: RegExp | ((screen: string) => boolean), what: string, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null }>;
  kill(): void;
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

export function runCliInTerminal(args: string[], options: { home: string; env?: NodeJS.ProcessEnv; columns?: number }): TerminalRun {
  const command = `stty cols ${options.columns ?? 200} rows 50; exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      SHELL: '/bin/sh',
      TERM: 'xterm',
      HOME: options.home,
      RECLAIM_HOME: path.join(options.home, 'reclaim-data'),
      ...options.env,
    },
  });
  // Keys typed after the program ended have nowhere to go; that is not the test's failure.
  child.stdin!.on('error', () => {});
  let raw = '';
  const screens = new EventLog<string>();
  const screen = () => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const collect = (chunk: string) => {
    raw += chunk;
    screens.push(screen());
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<{ code: number | null }>((resolve) => child.once('close', (code) => resolve({ code })));
  return {
    type: (keys) => child.stdin!.write(keys),
    screen,
    async waitFor(match, what, timeoutMs = 30_000) {
      const test = typeof match === 'function' ? match : (text: string) => match.test(text);
      // A program that has ended will show nothing more: no need to wait out the timeout.
      const ended = exited.then(() => {
        if (test(screen())) return screen();
        throw new Error(`reclaim ended before the terminal showed ${what}; it showed:\n${screen()}`);
      });
      try {
        return await Promise.race([screens.waitFor(test, what, timeoutMs), ended]);
      } catch (error) {
        if ((error as Error).message.startsWith('reclaim ended')) throw error;
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the terminal showed:\n${screen()}`);
      }
    },
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

/** How many times `pattern` (global) appears. */
export const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;
