import { badInput, type ReclaimError } from '../../common/errors.js';
import { quoteInput } from '../../common/quote-input.js';

// One line of an ssh config as readconf.c sees it, the checks on its arguments, and errors that
// point the person at the file and line to fix.

export interface ConfigLine {
  file: string;
  line: number;
  /** Lowercased. */
  keyword: string;
  /** The arguments after unquoting and unescaping. */
  args: string[];
  /** The rest of the line after the keyword, as written (used for ProxyCommand). */
  rest: string;
}

/** `file:line`, as compilers and ssh itself point at a line. */
export function where(l: Pick<ConfigLine, 'file' | 'line'>): string {
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

/** The keyword as ssh_config(5) spells it; any other word as written, quoted and cut short. */
export function displayKeyword(l: ConfigLine): string {
  return KEYWORD_NAMES[l.keyword] ?? quoteInput(l.keyword);
}

export function missingValue(l: ConfigLine): ReclaimError {
  return badInput(
    `${where(l)}: ${displayKeyword(l)} has no value.`,
    `Give ${displayKeyword(l)} a value on line ${l.line} of ${l.file}, or remove the line.`,
    { file: l.file, line: l.line },
  );
}

/** Host, Match and Include: one or more non-empty words. */
export function patternArgs(l: ConfigLine): string[] {
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

export function singleArg(l: ConfigLine): string {
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

export function portArg(l: ConfigLine): number {
  const value = singleArg(l);
  const port = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badInput(
      `${where(l)}: Port ${quoteInput(value)} is not a port number from 1 to 65535.`,
      `Fix the Port on line ${l.line} of ${l.file}.`,
      { file: l.file, line: l.line },
    );
  }
  return port;
}
