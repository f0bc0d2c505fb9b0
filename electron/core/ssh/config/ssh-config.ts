import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { badInput } from '../../common/errors.js';
import { missingValue, patternArgs, portArg, singleArg, where, type ConfigLine } from './config-line.js';
import { readConfigLines } from './config-lexer.js';
import { expandTilde, percentExpand } from './expansion.js';
import { hostApplies, isLiteralHost, matchApplies } from './host-patterns.js';
import { glob, joinRaw } from './include-glob.js';

// What ~/.ssh/config says about a host, for the parts Reclaim needs, following OpenSSH's own
// rules (ssh_config(5) and readconf.c) so that an alias means here what it means to `ssh`:
//
//  - the first value obtained for a parameter wins, except IdentityFile, which accumulates;
//  - `Include` takes paths relative to ~/.ssh, with `~` and glob wildcards, and is only followed
//    inside a block that applies; loops and nesting deeper than OpenSSH's limit are refused.
//
// Deliberately different from OpenSSH, for safety: nothing is ever executed and no name is ever
// looked up (see host-patterns.ts). ProxyCommand is reported, never run.

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
  /** configFile was named by the person (ssh -F): a missing file is an error, as with ssh. */
  configFileMustExist?: boolean;
}

/** OpenSSH's READCONF_MAX_DEPTH: the user config is depth 0. */
const MAX_INCLUDE_DEPTH = 16;
/**
 * Files entered to answer one question. A file may be included several times (legitimately, from
 * different Host blocks), but a chain that includes each next file several times grows
 * exponentially: three Includes of the next file, sixteen deep, is 43 million files to enter.
 */
const MAX_FILES_ENTERED = 4096;

interface Context {
  configFile: string;
  homeDir: string;
  localUser: string;
  /** Where relative Include paths live (~/.ssh for the user configuration). */
  sshDir: string;
  /** The person named configFile (ssh -F): its absence is an error, not "no config". */
  configFileMustExist: boolean;
  /** Counts down from MAX_FILES_ENTERED. */
  filesLeft: number;
  /** Each file, path and glob is looked at once per question, however often it is included. */
  seen: {
    realPaths: Map<string, string>;
    lines: Map<string, ConfigLine[] | null>;
    globs: Map<string, string[]>;
  };
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
    configFileMustExist: options.configFileMustExist ?? false,
    filesLeft: MAX_FILES_ENTERED,
    seen: { realPaths: new Map(), lines: new Map(), globs: new Map() },
  };
}

function defaultLocalUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? process.env['USERNAME'] ?? '';
  }
}

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
  const real = await enterFile(ctx, file, depth, chain, includedFrom);
  const lines = await readMainOrIncluded(ctx, file, real, includedFrom);
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
        const value = portArg(l);
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
  const real = await enterFile(ctx, file, depth, chain, includedFrom);
  const lines = await readMainOrIncluded(ctx, file, real, includedFrom);
  if (!lines) return;
  // The block this line is in; undefined before any Host/Match (or after Match all): no extra guard.
  let block: Guard | undefined;
  for (const l of lines) {
    switch (l.keyword) {
      case 'host': {
        const patterns = patternArgs(l);
        block = patterns;
        for (const name of patterns) {
          if (!isLiteralHost(name) || found.has(name)) continue;
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
  ctx: Context,
  file: string,
  depth: number,
  chain: string[],
  includedFrom: ConfigLine | undefined,
): Promise<string> {
  let real = ctx.seen.realPaths.get(file);
  if (real === undefined) {
    real = await realpath(file).catch(() => path.resolve(file));
    ctx.seen.realPaths.set(file, real);
  }
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
  if (includedFrom && --ctx.filesLeft < 0) {
    throw badInput(
      `${where(includedFrom)}: Include makes Reclaim read more than ${MAX_FILES_ENTERED} files (at ${file}): the same files are included over and over.`,
      `Include each file once: look for Include lines that name the same file several times, starting with line ${includedFrom.line} of ${includedFrom.file}.`,
      { file: includedFrom.file, line: includedFrom.line, included: file },
    );
  }
  return real;
}

/** The file's lines (read once, under the name it was first included by), null when missing. */
async function readMainOrIncluded(ctx: Context, file: string, real: string, includedFrom: ConfigLine | undefined): Promise<ConfigLine[] | null> {
  if (ctx.seen.lines.has(real)) return ctx.seen.lines.get(real)!;
  const lines = await readConfigLines(file, includedFrom === undefined);
  ctx.seen.lines.set(real, lines);
  if (lines === null && includedFrom === undefined && ctx.configFileMustExist) {
    throw badInput(
      `The SSH config file ${file} does not exist.`,
      'Check the path of the config file you named, or leave it out to use ~/.ssh/config.',
      { file },
    );
  }
  return lines;
}

async function expandInclude(ctx: Context, arg: string, l: ConfigLine): Promise<string[]> {
  let pattern: string;
  if (arg.startsWith('~')) pattern = expandTilde(arg, ctx, l);
  else if (!path.isAbsolute(arg)) pattern = joinRaw(ctx.sshDir, arg);
  else pattern = arg;
  let matches = ctx.seen.globs.get(pattern);
  if (matches === undefined) {
    matches = await glob(pattern);
    ctx.seen.globs.set(pattern, matches);
  }
  return matches;
}

function finish(ctx: Context, alias: string, c: Collected): HostConfig {
  const result: HostConfig = { identityFiles: [] };
  let host = alias.toLowerCase();
  if (c.hostName) {
    // ssh expands %h to the name as typed, then lowercases the result.
    host = percentExpand(c.hostName.value, c.hostName.from, new Map([['h', () => alias]])).toLowerCase();
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
    const expanded = percentExpand(expandTilde(setting.value, ctx, setting.from), setting.from, tokens);
    const file = path.isAbsolute(expanded) ? expanded : path.resolve(ctx.homeDir, expanded);
    if (seen.has(file)) continue;
    seen.add(file);
    result.identityFiles.push(file);
  }
  return result;
}

