// OpenSSH's match.c match_pattern, shared by known_hosts host lists, ssh config Host patterns and
// Include globs: `*` matches any run of characters, `?` exactly one, everything else itself.
// Iterative (at most text × pattern steps), so a long name against a pattern full of `*` cannot
// stall the way a backtracking regular expression would.

export interface WildcardOptions {
  /** glob(3): a backslash makes the next character literal. */
  escapes?: boolean;
}

type Token = '*' | '?' | { literal: string };

function tokens(pattern: string, escapes: boolean): Token[] {
  const chars = [...pattern];
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escapes && c === '\\' && i + 1 < chars.length) out.push({ literal: chars[++i]! });
    else if (c === '*' || c === '?') out.push(c);
    else out.push({ literal: c });
  }
  return out;
}

export function matchWildcard(text: string, pattern: string, options: WildcardOptions = {}): boolean {
  const t = [...text];
  const p = tokens(pattern, options.escapes ?? false);
  let ti = 0;
  let pi = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    const token = p[pi];
    if (token !== undefined && (token === '?' || (token !== '*' && token.literal === t[ti]))) {
      ti++;
      pi++;
    } else if (token === '*') {
      starP = pi++;
      starT = ti;
    } else if (starP !== -1) {
      pi = starP + 1;
      ti = ++starT;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** Whether the pattern has an unescaped `*` or `?` (glob(3) reads it literally otherwise). */
export function hasWildcard(pattern: string, options: WildcardOptions = {}): boolean {
  return tokens(pattern, options.escapes ?? false).some((token) => token === '*' || token === '?');
}
