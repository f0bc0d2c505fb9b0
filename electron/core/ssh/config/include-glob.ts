import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { hasWildcard, matchWildcard } from '../../common/wildcard.js';

// glob(3) as OpenSSH uses it for Include: `*` and `?` per path component, backslash escapes
// (except on Windows, where a backslash separates), lexically sorted, dot files only by an
// explicit dot, nothing matched = nothing included.

const ESCAPES = process.platform !== 'win32';

export async function glob(pattern: string): Promise<string[]> {
  const root = path.parse(pattern).root;
  const parts = pattern
    .slice(root.length)
    .split(process.platform === 'win32' ? /[\\/]/ : /\//)
    .filter((p) => p !== '');
  let candidates = [root];
  for (const part of parts) {
    if (!hasWildcard(part, { escapes: ESCAPES })) {
      const literal = ESCAPES ? part.replace(/\\(.)/gsu, '$1') : part;
      candidates = candidates.map((base) => joinRaw(base, literal));
      continue;
    }
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
        if (matchWildcard(name, part, { escapes: ESCAPES })) next.push(joinRaw(base, name));
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

/** base + separator + name, without path.join's normalising (which would change what ssh reads). */
export function joinRaw(base: string, name: string): string {
  return base.endsWith(path.sep) || base.endsWith('/') ? base + name : base + path.sep + name;
}
