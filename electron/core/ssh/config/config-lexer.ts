import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { badInput, type ReclaimError } from '../../common/errors.js';
import { displayKeyword, where, type ConfigLine } from './config-line.js';

// Reading an ssh config file into lines the way OpenSSH's readconf.c does: keywords are
// case-insensitive and written `Keyword value`, `Keyword=value` or `Keyword = value`; arguments
// are split like misc.c's argv_split (double or single quotes, backslash escapes, `#` starting
// a word ends the line).

/** The file's lines, or null when it does not exist (a missing config is simply no config). */
export async function readConfigLines(file: string, isMain: boolean): Promise<ConfigLine[] | null> {
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
  return lexConfig(text, file);
}

/** The lines of a config text that carry a keyword (blank lines and comments dropped). */
export function lexConfig(text: string, file: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n').forEach((raw, index) => {
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
      `${where(result)}: a quote on this ${displayKeyword(result)} line is never closed.`,
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

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadable(file: string, error: unknown): ReclaimError {
  const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
  return badInput(
    `Cannot read the SSH config ${file} (${reason}).`,
    `Make ${file} readable by your user, or remove it.`,
    { file },
  );
}
