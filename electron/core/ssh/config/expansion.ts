import { badInput } from '../../common/errors.js';
import { quoteInput } from '../../common/quote-input.js';
import { displayKeyword, where, type ConfigLine } from './config-line.js';
import { joinRaw } from './include-glob.js';

// `~` and %-tokens in config values, as ssh expands them (misc.c percent_expand, tilde_expand).

/** ssh's %-tokens: `%%` is a literal `%`; any token not in `tokens` is refused, naming the line. */
export function percentExpand(value: string, from: ConfigLine, tokens: Map<string, () => string>): string {
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
      const token = key === undefined ? 'a lone "%" at the end' : `the token ${quoteInput(`%${key}`)}`;
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
export function expandTilde(value: string, home: { homeDir: string; localUser: string }, from: ConfigLine): string {
  if (!value.startsWith('~')) return value;
  const slash = value.search(process.platform === 'win32' ? /[\\/]/ : /\//);
  const user = slash === -1 ? value.slice(1) : value.slice(1, slash);
  const rest = slash === -1 ? '' : value.slice(slash + 1);
  if (user !== '' && user !== home.localUser) {
    throw badInput(
      `${where(from)}: ${displayKeyword(from)} refers to another user's home directory (${quoteInput(`~${user}`)}).`,
      `Write the full path instead of ${quoteInput(`~${user}`)} on line ${from.line} of ${from.file}.`,
      { file: from.file, line: from.line },
    );
  }
  return rest === '' ? home.homeDir : joinRaw(home.homeDir, rest);
}
