import type { Stats } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { badInput } from '../../common/errors.js';

// A reader for the parts of ~/.ssh/config that Reclaim needs, following OpenSSH's own rules
// (ssh_config(5) and readconf.c) so that an alias means here what it means to `ssh`:
//
//  - keywords are case-insensitive and written `Keyword value`, `Keyword=value` or
//    `Keyword = value`; arguments are split like OpenSSH's argv_split (double or single quotes,
//    backslash escapes, `#` starting a word ends the line);
//  - the first value obtained for a parameter wins, except IdentityFile, which accumulates;
//  - `Host` patterns use `*`, `?` and `!` negation;
//  - `Include` takes paths relative to ~/.ssh, with `~` and glob wildcards, and is only followed
//    inside a block that applies.
//
// Deliberately different from OpenSSH, for safety: nothing is ever executed and no name is ever
// looked up. `Match all` applies; every other `Match` (exec, host, user, canonical, ...) is
// treated as not applying. ProxyCommand is reported, never run.

export interface HostConfig {
  /** HostName, with %h expanded to the alias and %% to %, lowercased as ssh does. */
  hostName?: string;
  user?: string;
  /** Validated to 1..65535. */
  port?: number;
  /**
   * Every IdentityFile in order of appearance (OpenSSH tries them all), duplicates and `none`
   * dropped, with ~ and %-tokens expanded and relative paths resolved against the home dir.
   */
  identityFiles: string[];
  /** The raw ProxyJump value; `ProxyJump none` gives undefined. */
  proxyJump?: string;
  /**
   * The raw ProxyCommand value (never executed; `none` gives undefined). OpenSSH uses whichever
   * of ProxyJump and ProxyCommand comes first, so at most one of the two is set.
   */
  proxyCommand?: string;
}

export interface ResolveOptions {
  /** Defaults to path.join(homeDir, '.ssh', 'config'). */
  configFile?: string;
  /** Defaults to os.homedir(). */
  homeDir?: string;
  /** Defaults to os.userInfo().username. */
  localUser?: string;
}

/** OpenSSH's READCONF_MAX_DEPTH: the user config is depth 0. */
const MAX_INCLUDE_DEPTH = 16;

interface Context {
  configFile: string;
  homeDir: string;
  localUser: string;
  /** Where relative Include paths live (~/.ssh for the user configuration). */
  sshDir: string;
}

interface ConfigLine {
  file: string;
  line: number;
  /** Lowercased. */
  keyword: string;
  /** The arguments after unquoting and unescaping. */
  args: string[];
  /** The rest of the line after the keyword, as written (used for ProxyCommand). */
  rest: string;
}

interface Setting<T> {
  value: T;
  from: ConfigLine;
}

interface Collected {
  hostName?: Setting<string>;
  user?: Setting<string>;
  port?: Setting<number>;
  identityFiles: Setting<string>[];
  proxyJump?: Setting<string>;
  proxyCommand?: Setting<string>;
}

/** How Host/Match blocks gate an Include when listing aliases: Host patterns, or never. */
type Guard = string[] | 'never';

export async function resolveHostConfig(alias: string, options: ResolveOptions = {}): Promise<HostConfig> {
  if (alias.trim() === '') {
    throw badInput('No SSH host or alias was given.', 'Give a host name or a Host alias from ~/.ssh/config.');
  }
  const ctx = makeContext(options);
  const collected: Collected = { identityFiles: [] };
  await walkResolve(ctx, alias, ctx.configFile, 0, [], true, collected, undefined);
  return finish(ctx, alias, collected);
}

/**
 * The literal Host names (no wildcard, no negation) in file order, Includes followed, each name
 * once. A name in a file included from inside a Host or Match block is listed only when that
 * block would apply to it, since otherwise ssh could never reach it.
 */
export async function listHostAliases(options: ResolveOptions = {}): Promise<string[]> {
  const ctx = makeContext(options);
  const found = new Map<string, string>();
  await walkList(ctx, ctx.configFile, 0, [], [], found, undefined);
  return [...found.values()];
}

function makeContext(options: ResolveOptions): Context {
  const homeDir = options.homeDir ?? os.homedir();
  return {
    homeDir,
    configFile: path.resolve(options.configFile ?? path.join(homeDir, '.ssh', 'config')),
    localUser: options.localUser ?? defaultLocalUser(),
    sshDir: path.join(homeDir, '.ssh'),
  };
}

function defaultLocalUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? process.env['USERNAME'] ?? '';
  }
}

// ---------------------------------------------------------------------------------------------
// Walking the files

async function walkResolve(
  ctx: Context,
  alias: string,
  file: string,
  depth: number,
  chain: string[],
  startActive: boolean,
  out: Collected,
  includedFrom: ConfigLine | undefined,
): Promise<void> {
  const real = await enterFile(file, depth, chain, includedFrom);
  const lines = await readConfigLines(file, includedFrom === undefined);
  if (!lines) return;
  let active = startActive;
  for (const l of lines) {
    switch (l.keyword) {
      case 'host':
        active = hostApplies(alias, patternArgs(l));
        break;
      case 'match':
        active = matchApplies(patternArgs(l));
        break;
      case 'include':
        // OpenSSH reads files included from a block that does not apply with every Host in them
        // forced off, so nothing in them can take effect: skipping them is equivalent.
        if (!active) break;
        for (const arg of patternArgs(l)) {
          for (const included of await expandInclude(ctx, arg, l)) {
            // Lines before the included file's first Host share the including block's state
            // (active here); the including file's state is restored afterwards.
            await walkResolve(ctx, alias, included, depth + 1, [...chain, real], true, out, l);
          }
        }
        break;
      case 'hostname': {
        const value = singleArg(l);
        if (active && !out.hostName) out.hostName = { value, from: l };
        break;
      }
      case 'user': {
        const value = singleArg(l);
        if (active && !out.user) out.user = { value, from: l };
        break;
      }
      case 'port': {
        // Like OpenSSH, a bad Port is an error wherever it is, not only in blocks that apply.
        const value = parsePort(singleArg(l), l);
        if (active && !out.port) out.port = { value, from: l };
        break;
      }
      case 'identityfile': {
        const value = singleArg(l);
        if (active) out.identityFiles.push({ value, from: l });
        break;
      }
      case 'proxyjump': {
        const value = singleArg(l);
        if (active && !out.proxyJump && !out.proxyCommand) out.proxyJump = { value, from: l };
        break;
      }
      case 'proxycommand': {
        if (l.rest === '') throw missingValue(l);
        if (active && !out.proxyJump && !out.proxyCommand) out.proxyCommand = { value: l.rest, from: l };
        break;
      }
      default:
        // Every other keyword is OpenSSH's business, not Reclaim's.
        break;
    }
  }
}

async function walkList(
  ctx: Context,
  file: string,
  depth: number,
  chain: string[],
  guards: Guard[],
  found: Map<string, string>,
  includedFrom: ConfigLine | undefined,
): Promise<void> {
  const real = await enterFile(file, depth, chain, includedFrom);
  const lines = await readConfigLines(file, includedFrom === undefined);
  if (!lines) return;
  // The block this line is in; undefined before any Host/Match (or after Match all): no extra guard.
  let block: Guard | undefined;
  for (const l of lines) {
    switch (l.keyword) {
      case 'host': {
        const patterns = patternArgs(l);
        block = patterns;
        for (const name of patterns) {
          if (name.startsWith('!') || /[*?]/.test(name)) continue;
          if (found.has(name)) continue;
          if (guards.every((g) => g !== 'never' && hostApplies(name, g)) && hostApplies(name, patterns)) {
            found.set(name, name);
          }
        }
        break;
      }
      case 'match':
        block = matchApplies(patternArgs(l)) ? undefined : 'never';
        break;
      case 'include': {
        const inner = block === undefined ? guards : [...guards, block];
        const args = patternArgs(l);
        if (inner.includes('never')) break;
        for (const arg of args) {
          for (const included of await expandInclude(ctx, arg, l)) {
            await walkList(ctx, included, depth + 1, [...chain, real], inner, found, l);
          }
        }
        break;
      }
      default:
        break;
    }
  }
}

/** Guards against Include cycles and too-deep nesting; returns the file's real path. */
async function enterFile(
  file: string,
  depth: number,
  chain: string[],
  includedFrom: ConfigLine | undefined,
): Promise<string> {
  const real = await realpath(file).catch(() => path.resolve(file));
  if (includedFrom && chain.includes(real)) {
    throw badInput(
      `${where(includedFrom)}: Include makes a loop: ${file} ends up including itself.`,
      `Remove the Include line in ${includedFrom.file} (or the one that leads back to ${file}).`,
      { file: includedFrom.file, line: includedFrom.line, included: file },
    );
  }
  if (includedFrom && depth > MAX_INCLUDE_DEPTH) {
    throw badInput(
      `${where(includedFrom)}: Include nests more than ${MAX_INCLUDE_DEPTH} files deep (at ${file}).`,
      `Flatten the chain of Include lines that leads to ${file}.`,
      { file: includedFrom.file, line: includedFrom.line, included: file },
    );
  }
  return real;
}

// ---------------------------------------------------------------------------------------------
// Reading and splitting lines

/** The file's lines, or null when it does not exist (a missing config is simply no config). */
async function readConfigLines(file: string, isMain: boolean): Promise<ConfigLine[] | null> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw unreadable(file, error);
  }
  if (!info.isFile()) {
    // A directory matched by an Include glob reads as empty to OpenSSH; the main config must be a file.
    if (!isMain) return null;
    throw badInput(
      `The SSH config ${file} is not a regular file.`,
      `Point Reclaim at your SSH config file, or move whatever is at ${file} out of the way.`,
      { file },
    );
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw unreadable(file, error);
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines: ConfigLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const parsed = parseLine(raw, file, index + 1);
    if (parsed) lines.push(parsed);
  });
  return lines;
}

/** readconf.c's process_config_line_depth up to the keyword switch. */
function parseLine(raw: string, file: string, line: number): ConfigLine | null {
  const text = raw.replace(/[ \t\r\n\f]+$/, '');
  let i = 0;
  while (i < text.length && isSpace(text[i])) i++;
  const start = i;
  while (i < text.length && !isSpace(text[i]) && text[i] !== '=') i++;
  const keyword = text.slice(start, i);
  if (keyword === '' || keyword.startsWith('#')) return null;
  // The keyword ends at whitespace or one `=`; then whitespace, then at most one `=` in all.
  const delimiter = text[i];
  if (i < text.length) i++;
  while (i < text.length && isSpace(text[i])) i++;
  if (delimiter !== '=' && text[i] === '=') {
    i++;
    while (i < text.length && isSpace(text[i])) i++;
  }
  const rest = text.slice(i);
  const result: ConfigLine = { file, line, keyword: keyword.toLowerCase(), args: [], rest };
  const args = splitArgs(rest);
  if (args === null) {
    throw badInput(
      `${where(result)}: a quote on this ${keyword} line is never closed.`,
      `Close the quote (or remove it) on line ${line} of ${file}.`,
      { file, line },
    );
  }
  result.args = args;
  return result;
}

/** misc.c's argv_split with terminate_on_comment; null for an unclosed quote. */
function splitArgs(s: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) {
          i++;
          arg += next;
        } else {
          arg += ch;
        }
      } else if (quote === '' && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === '' && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== '' && ch === quote) {
        quote = '';
      } else {
        arg += ch;
      }
    }
    if (quote !== '') return null;
    args.push(arg);
  }
  return args;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

// ---------------------------------------------------------------------------------------------
// Keyword arguments

function patternArgs(l: ConfigLine): string[] {
  if (l.args.length === 0) throw missingValue(l);
  if (l.args.some((a) => a === '')) {
    throw badInput(
      `${where(l)}: ${displayKeyword(l)} has an empty argument.`,
      `Remove the empty quotes on line ${l.line} of ${l.file}.`,
      { file: l.file, line: l.line },
    );
  }
  return l.args;
}

function singleArg(l: ConfigLine): string {
  const [value, ...extra] = l.args;
  if (value === undefined || value === '') throw missingValue(l);
  if (extra.length > 0) {
    throw badInput(
      `${where(l)}: ${displayKeyword(l)} takes one value but has ${l.args.length}.`,
      `Keep one value on line ${l.line} of ${l.file} (quote it if it contains spaces).`,
      { file: l.file, line: l.line },
    );
  }
  return value;
}

function parsePort(value: string, l: ConfigLine): number {
  const port = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badInput(
      `${where(l)}: Port "${value}" is not a port number from 1 to 65535.`,
      `Fix the Port on line ${l.line} of ${l.file}.`,
      { file: l.file, line: l.line },
    );
  }
  return port;
}

/**
 * OpenSSH's Host line: active if some pattern matches and no negated pattern does. ssh 9.x
 * compares the alias as typed, case-sensitively (`Host plex` does not apply to `PLEX`).
 */
function hostApplies(alias: string, patterns: string[]): boolean {
  let applies = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    if (matchPattern(alias, negated ? raw.slice(1) : raw)) {
      if (negated) return false;
      applies = true;
    }
  }
  return applies;
}

/** Only `Match all` applies; nothing is ever executed or looked up to evaluate a Match. */
function matchApplies(criteria: string[]): boolean {
  return criteria.length === 1 && criteria[0]!.toLowerCase() === 'all';
}

/** match.c's match_pattern: `*` any run, `?` any one character, everything else literal. */
function matchPattern(text: string, pattern: string): boolean {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escapeRegExp(c)))
    .join('');
  return new RegExp(`^${source}$`, 'su').test(text);
}

// ---------------------------------------------------------------------------------------------
// Include

async function expandInclude(ctx: Context, arg: string, l: ConfigLine): Promise<string[]> {
  let pattern: string;
  if (arg.startsWith('~')) pattern = expandTilde(arg, ctx, l);
  else if (!path.isAbsolute(arg)) pattern = joinRaw(ctx.sshDir, arg);
  else pattern = arg;
  return glob(pattern);
}

/** glob(3) for `*` and `?`: lexically sorted, dot files only by an explicit dot, no match = []. */
async function glob(pattern: string): Promise<string[]> {
  const root = path.parse(pattern).root;
  const parts = pattern
    .slice(root.length)
    .split(process.platform === 'win32' ? /[\\/]/ : /\//)
    .filter((p) => p !== '');
  let candidates = [root];
  for (const part of parts) {
    if (!hasMagic(part)) {
      const literal = unescapeGlob(part);
      candidates = candidates.map((base) => joinRaw(base, literal));
      continue;
    }
    const re = globRegExp(part);
    const next: string[] = [];
    for (const base of candidates) {
      let names: string[];
      try {
        names = await readdir(base);
      } catch {
        continue; // Not a directory, or unreadable: glob(3) skips it too.
      }
      for (const name of names) {
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(name)) next.push(joinRaw(base, name));
      }
    }
    candidates = next;
  }
  const existing: string[] = [];
  for (const candidate of candidates) {
    try {
      await lstat(candidate);
      existing.push(candidate);
    } catch {
      // Nonexistent matches are silently ignored, as OpenSSH does.
    }
  }
  return existing.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const ESCAPES = process.platform !== 'win32';

function hasMagic(part: string): boolean {
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (ESCAPES && c === '\\') i++;
    else if (c === '*' || c === '?') return true;
  }
  return false;
}

function unescapeGlob(part: string): string {
  return ESCAPES ? part.replace(/\\(.)/gsu, '$1') : part;
}

function globRegExp(part: string): RegExp {
  let source = '';
  const chars = [...part];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (ESCAPES && c === '\\' && i + 1 < chars.length) source += escapeRegExp(chars[++i]!);
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 'su');
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function joinRaw(base: string, name: string): string {
  return base.endsWith(path.sep) || base.endsWith('/') ? base + name : base + path.sep + name;
}

// ---------------------------------------------------------------------------------------------
// Final values and %-tokens

function finish(ctx: Context, alias: string, c: Collected): HostConfig {
  const result: HostConfig = { identityFiles: [] };
  let host = alias.toLowerCase();
  if (c.hostName) {
    // ssh expands %h to the name as typed, then lowercases the result.
    host = percentExpand(c.hostName, new Map([['h', () => alias]])).toLowerCase();
    result.hostName = host;
  }
  if (c.user) result.user = c.user.value;
  if (c.port) result.port = c.port.value;
  if (c.proxyJump && c.proxyJump.value.toLowerCase() !== 'none') result.proxyJump = c.proxyJump.value;
  if (c.proxyCommand && c.proxyCommand.value.toLowerCase() !== 'none') result.proxyCommand = c.proxyCommand.value;

  const remoteUser = c.user?.value ?? ctx.localUser;
  const localHost = (): string => os.hostname();
  const tokens = new Map<string, () => string>([
    ['d', () => ctx.homeDir],
    ['u', () => ctx.localUser],
    ['h', () => host],
    ['r', () => remoteUser],
    ['n', () => alias],
    ['p', () => String(result.port ?? 22)],
    ['j', () => result.proxyJump ?? ''],
    ['l', localHost],
    ['L', () => localHost().split('.')[0] ?? ''],
    ['i', () => String(os.userInfo().uid)],
  ]);
  const seen = new Set<string>();
  for (const setting of c.identityFiles) {
    if (setting.value.toLowerCase() === 'none') continue; // ssh skips IdentityFile none
    const expanded = percentExpand({ value: expandTilde(setting.value, ctx, setting.from), from: setting.from }, tokens);
    const file = path.isAbsolute(expanded) ? expanded : path.resolve(ctx.homeDir, expanded);
    if (seen.has(file)) continue;
    seen.add(file);
    result.identityFiles.push(file);
  }
  return result;
}

function percentExpand(setting: Setting<string>, tokens: Map<string, () => string>): string {
  const { value, from } = setting;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const key = value[++i];
    if (key === '%') {
      out += '%';
      continue;
    }
    const expand = key === undefined ? undefined : tokens.get(key);
    if (!expand) {
      const token = key === undefined ? 'a lone "%" at the end' : `the token %${key}`;
      const known = [...tokens.keys()].map((k) => `%${k}`).join(' ');
      throw badInput(
        `${where(from)}: ${displayKeyword(from)} uses ${token}, which Reclaim cannot expand here.`,
        `Use only ${known} or %% (for a literal %) in ${displayKeyword(from)} on line ${from.line} of ${from.file}.`,
        { file: from.file, line: from.line, token: key === undefined ? '%' : `%${key}` },
      );
    }
    out += expand();
  }
  return out;
}

/** `~` and `~/...` are the home dir; `~user` is accepted only for the local user. */
function expandTilde(value: string, ctx: Context, from: ConfigLine): string {
  if (!value.startsWith('~')) return value;
  const slash = value.search(process.platform === 'win32' ? /[\\/]/ : /\//);
  const user = slash === -1 ? value.slice(1) : value.slice(1, slash);
  const rest = slash === -1 ? '' : value.slice(slash + 1);
  if (user !== '' && user !== ctx.localUser) {
    throw badInput(
      `${where(from)}: ${displayKeyword(from)} refers to another user's home directory (~${user}).`,
      `Write the full path instead of ~${user} on line ${from.line} of ${from.file}.`,
      { file: from.file, line: from.line },
    );
  }
  return rest === '' ? ctx.homeDir : joinRaw(ctx.homeDir, rest);
}

// ---------------------------------------------------------------------------------------------
// Errors

function where(l: ConfigLine): string {
  return `${l.file}:${l.line}`;
}

const KEYWORD_NAMES: Record<string, string> = {
  host: 'Host',
  match: 'Match',
  include: 'Include',
  hostname: 'HostName',
  user: 'User',
  port: 'Port',
  identityfile: 'IdentityFile',
  proxyjump: 'ProxyJump',
  proxycommand: 'ProxyCommand',
};

function displayKeyword(l: ConfigLine): string {
  return KEYWORD_NAMES[l.keyword] ?? l.keyword;
}

function missingValue(l: ConfigLine): Error {
  return badInput(
    `${where(l)}: ${displayKeyword(l)} has no value.`,
    `Give ${displayKeyword(l)} a value on line ${l.line} of ${l.file}, or remove the line.`,
    { file: l.file, line: l.line },
  );
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadable(file: string, error: unknown): Error {
  const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return badInput(
    `Cannot read the SSH config ${file} (${reason}).`,
    `Make ${file} readable by your user, or remove it.`,
    { file },
  );
}
