import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventLog } from './events.js';

// Runs the built `reclaim` CLI (dist/, made by `npm test`'s pretest build) as a user would, and
// collects its JSON lines, its stderr and its exit.

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/electron/cli/main.js');

export interface CliRun {
  child: ChildProcess;
  events: EventLog<Record<string, unknown>>;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Reclaim's log file for a run with this home (RECLAIM_HOME is home/reclaim-data). */
export const cliLogFile = (home: string): string => path.join(home, 'reclaim-data', 'reclaim.log');

/**
 * `as`: run as this (unprivileged) user instead of root. `command`: how to start reclaim, if not
 * the built dist/ with this Node (an installed `reclaim`). Without --json, stdout is text for
 * people; only its JSON lines are read as events.
 */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; home: string; as?: { uid: number; gid: number }; command?: string },
): CliRun {
  const [file, ...before] = options.command ? [options.command] : [process.execPath, CLI];
  const child = spawn(file!, [...before, ...args], {
    uid: options.as?.uid,
    gid: options.as?.gid,
    // stdin stays an open pipe: a CLI that waited for input would hang here, and the test fail.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: options.home,
      RECLAIM_HOME: path.join(options.home, 'reclaim-data'),
      ...options.env,
    },
  });
  // A CLI that exits before reading what a test writes to it breaks the pipe (EPIPE). What it
  // printed and its exit tell the test what happened; unheard, the 'error' would crash the run.
  child.stdin!.on('error', () => {});
  const events = new EventLog<Record<string, unknown>>();
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    // Without --json, stdout holds sentences for people: only JSON lines are events.
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, events, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for the process to end, failing the test if it takes longer than timeoutMs. */
export async function exitOf(run: CliRun, timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      reject(new Error(`reclaim did not exit within ${timeoutMs} ms; stdout: ${run.stdout()} stderr: ${run.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
