import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { asReclaimError, printable, storageFailed, type ReclaimError } from './errors.js';
import { redactSecrets } from './redact.js';

// Reclaim's log, for the person who asks for help: connects, reconnects and their reasons,
// disconnects, and every unexpected error with its stack and causes. One file in Reclaim's
// folder, shared by the app and the CLI, rotated by size with one older file kept. Every line is
// redacted like the diagnose report, and passwords and tokens are never handed to it at all.
//
// Lines are written synchronously, as Node writes stderr to a file: there are only a handful per
// connection, and the line about a crash must be on disk before the process exits. Writing must
// never stop Reclaim: a log that cannot be written is reported once and then left alone.

export interface LogOptions {
  file: string;
  /** Which program writes ("app", "cli"): both share one file. */
  source: string;
  /** Past this size the file is renamed to FILE.1 (replacing the older one) and begun anew. */
  maxBytes?: number;
  /** Also gets every line as written (the CLI's --verbose echoes them on stderr). */
  echo?: (line: string) => void;
  /** Told once, when the file cannot be written; nothing more is tried after that. */
  onWriteFailure?: (error: ReclaimError<'STORAGE_FAILED'>) => void;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Enough for the last lines of any log; the rest of a 1 MiB file is not read for them. */
const TAIL_BYTES = 64 * 1024;
const MAX_CAUSES = 5;
const STALE_LOCK_MS = 10_000;

export class LogFile {
  private folderReady = false;
  private failure: ReclaimError<'STORAGE_FAILED'> | undefined;

  constructor(private readonly options: LogOptions) {}

  info(text: string): void {
    this.write('info', text);
  }

  /** A failure, as `context: CODE: message`; an unexpected one with the stack of each cause. */
  error(context: string, error: unknown): void {
    this.write('error', `${context}: ${describeFailure(error)}`);
  }

  /** The last `count` lines, reaching into the older file when the current one is short. */
  recentLines(count: number): string[] {
    const lines = this.failure ? [`(Nothing more could be written to the log: ${this.failure.message})`] : [];
    for (const file of [this.options.file, `${this.options.file}.1`]) {
      if (lines.length >= count) break;
      lines.unshift(...lastLines(file, count - lines.length));
    }
    return lines.slice(-count);
  }

  private write(level: 'info' | 'error', text: string): void {
    const entry = printable(redactSecrets(`${new Date().toISOString()} ${this.options.source}[${process.pid}] ${level}: ${text}`).replace(/\n/g, '\n    '));
    try {
      this.options.echo?.(entry);
    } catch {
      // An echo that fails (stderr closed) must not take the file down with it.
    }
    if (this.failure) return;
    try {
      this.append(Buffer.from(`${entry}\n`));
    } catch (error) {
      this.failure = storageFailed(this.options.file, error);
      try {
        this.options.onWriteFailure?.(this.failure);
      } catch {
        // Reported as well as it could be; the log is off from here on either way.
      }
    }
  }

  // Opened for each line rather than held open: the app and a CLI share the file, and whichever
  // rotates it, the other then writes to the new one, not on into the renamed old one.
  private append(line: Buffer): void {
    const { file } = this.options;
    if (!this.folderReady) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      this.folderReady = true;
    }
    const fd = fs.openSync(file, 'a', 0o600);
    let rotated = false;
    try {
      const opened = fs.fstatSync(fd);
      rotated = opened.size > 0 && opened.size + line.length > (this.options.maxBytes ?? DEFAULT_MAX_BYTES) && rotateOnce(file, opened);
      if (!rotated) fs.writeSync(fd, line);
    } finally {
      fs.closeSync(fd);
    }
    if (rotated) fs.appendFileSync(file, line, { mode: 0o600 });
  }
}

/**
 * Renames the full file to FILE.1, unless another process already has: two that both find it
 * full would otherwise rotate twice, the second time moving the first one's fresh, nearly empty
 * file over the full older one. Rotating is done only while holding FILE.lock (created
 * exclusively), and only if the file at the path is still the one `opened` describes. True
 * when a new file is to be opened; false when someone else is rotating right now: the line
 * then goes into the file already open, which ends up as the older file, so it is kept.
 */
function rotateOnce(file: string, opened: fs.Stats): boolean {
  const lock = `${file}.lock`;
  if (!takeLock(lock)) return false;
  try {
    const atPath = fs.statSync(file, { throwIfNoEntry: false });
    if (atPath && atPath.dev === opened.dev && atPath.ino === opened.ino) fs.renameSync(file, `${file}.1`);
    return true;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** One try, and one more if the lock was left by a process that died while rotating. */
function takeLock(lock: string): boolean {
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx', 0o600));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Rotating takes a rename; a lock this old was left behind.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age < STALE_LOCK_MS) return false;
      fs.rmSync(lock, { force: true });
    }
  }
  return false;
}

function lastLines(file: string, count: number): string[] {
  if (count <= 0) return [];
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    fs.readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // begins mid-line
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

/** `CODE: message {details}`, then its causes: a message each, or for an unexpected error, its stack. */
export function describeFailure(error: unknown): string {
  const reclaim = asReclaimError(error);
  const facts = Object.keys(reclaim.details).length ? ` ${JSON.stringify(reclaim.details)}` : '';
  const lines = [`${reclaim.code}: ${reclaim.message}${facts}`];
  const unexpected = reclaim.code === 'UNEXPECTED';
  let cause = reclaim.cause;
  for (let depth = 0; cause !== undefined && cause !== null && depth < MAX_CAUSES; depth++) {
    lines.push(`caused by ${unexpected ? stackOf(cause) : messageOf(cause)}`);
    cause = (cause as { cause?: unknown }).cause;
  }
  return lines.join('\n');
}

function stackOf(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  return inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
}

function messageOf(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return inspect(value, { depth: 1, breakLength: Number.POSITIVE_INFINITY });
}

let processLog: LogFile | undefined;

/** Starts this process's log; the app and the CLI do so first thing. Until then nothing is logged. */
export function openLog(options: LogOptions): LogFile {
  processLog = new LogFile(options);
  return processLog;
}

/** This process's log, as every module writes to it: silent until openLog. */
export const log = {
  info: (text: string): void => processLog?.info(text),
  error: (context: string, error: unknown): void => processLog?.error(context, error),
  recentLines: (count: number): string[] => processLog?.recentLines(count) ?? [],
};
