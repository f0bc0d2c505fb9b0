import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Where PuTTY keeps its saved sessions and the host keys it trusts, as its own storage code
// (windows/storage.c, unix/storage.c) finds them: the registry under HKEY_CURRENT_USER on
// Windows, read with `reg query` (no native module); files under ~/.putty (or $PUTTYDIR, or
// ~/.config/putty when that exists) on Linux and macOS. Reclaim only ever reads them.

export const PUTTY_REGISTRY_KEY = 'HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY';

/** `reg query KEY` (with /s: every subkey too); undefined when the key does not exist. */
export type RegQuery = (key: string, recursive: boolean) => Promise<string | undefined>;

export type PuttyStorage =
  | { kind: 'registry'; query: RegQuery }
  | { kind: 'files'; sessionsDir: string; hostKeysFile: string };

export interface RegValue {
  type: string;
  data: string;
}

export interface RegKey {
  path: string;
  values: Map<string, RegValue>;
}

const REG_TIMEOUT_MS = 15_000;
const REG_MAX_OUTPUT = 32 * 1024 * 1024;

export function defaultPuttyStorage(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): PuttyStorage {
  if (platform === 'win32') return { kind: 'registry', query: runRegQuery };
  const dir = puttyDir(env, home);
  return {
    kind: 'files',
    sessionsDir: env.PUTTYSESSIONS || path.join(dir, 'sessions'),
    hostKeysFile: env.PUTTYSSHHOSTKEYS || path.join(dir, 'sshhostkeys'),
  };
}

/** unix/storage.c's choice: $PUTTYDIR, else the XDG directory if it exists, else ~/.putty. */
function puttyDir(env: NodeJS.ProcessEnv, home: string): string {
  if (env.PUTTYDIR) return env.PUTTYDIR;
  const xdg = path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'putty');
  return existsSync(xdg) ? xdg : path.join(home, '.putty');
}

/** The real `reg.exe`. */
export const runRegQuery: RegQuery = (key, recursive) =>
  new Promise((resolve, reject) => {
    execFile('reg', ['query', key, ...(recursive ? ['/s'] : [])], { encoding: 'buffer', windowsHide: true, timeout: REG_TIMEOUT_MS, maxBuffer: REG_MAX_OUTPUT }, (error, stdout) => {
      // reg exits 1 when the key is not there, which for PuTTY's keys means "nothing saved yet".
      if (error && (error as { code?: unknown }).code === 1) return resolve(undefined);
      if (error) return reject(error);
      resolve(decodeOutput(stdout));
    });
  });

/** reg writes in the console's code page; PuTTY's names are ASCII (it %-escapes the rest), values are mostly so. */
function decodeOutput(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * The keys and values in `reg query` output: a line with the key's full path, then one line per
 * value, `    Name    REG_TYPE    data`, four spaces apart.
 */
export function parseRegQuery(output: string): RegKey[] {
  const keys: RegKey[] = [];
  let current: RegKey | undefined;
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.replace(/\r$/, '');
    if (/^HKEY_/.test(line)) {
      current = { path: line.trimEnd(), values: new Map() };
      keys.push(current);
      continue;
    }
    const value = /^ {4}(.+?) {4}(REG_[A-Z0-9_]+)(?: {4}(.*))?$/.exec(line);
    if (value && current) current.values.set(value[1]!, { type: value[2]!, data: value[3] ?? '' });
  }
  return keys;
}

/** A REG_DWORD as reg prints it (0x16), or a number written as text in a session file. */
export function regNumber(value: RegValue | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : value.data.trim();
  const parsed = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text.slice(2), 16) : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

/**
 * PuTTY's %XX escapes in registry key names (escape_registry_key) and session file names
 * (make_session_filename): the bytes are the name in the system's code page, UTF-8 nowadays.
 */
export function unescapePuttyName(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const hex = escaped[i] === '%' ? /^[0-9A-Fa-f]{2}/.exec(escaped.slice(i + 1, i + 3))?.[0] : undefined;
    if (hex) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(escaped[i]!, 'utf8'));
    }
  }
  return decodeOutput(Buffer.from(bytes));
}
