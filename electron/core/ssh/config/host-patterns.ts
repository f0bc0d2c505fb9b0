import { matchWildcard } from '../../common/wildcard.js';

// Whether a Host or Match block applies. Deliberately different from OpenSSH, for safety: nothing
// is ever executed and no name is ever looked up to decide, so only `Match all` applies.

/**
 * OpenSSH's Host line: active if some pattern matches and no negated pattern does. ssh 9.x
 * compares the alias as typed, case-sensitively (`Host plex` does not apply to `PLEX`).
 */
export function hostApplies(alias: string, patterns: string[]): boolean {
  let applies = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    if (matchWildcard(alias, negated ? raw.slice(1) : raw)) {
      if (negated) return false;
      applies = true;
    }
  }
  return applies;
}

/** Only `Match all` applies; every other Match (exec, host, user, canonical, ...) does not. */
export function matchApplies(criteria: string[]): boolean {
  return criteria.length === 1 && criteria[0]!.toLowerCase() === 'all';
}

/** A Host pattern that names exactly one host: no wildcard, no negation. */
export function isLiteralHost(pattern: string): boolean {
  return !pattern.startsWith('!') && !/[*?]/.test(pattern);
}
