import { parseArgs } from 'node:util';
import { badInput } from '../core/common/errors.js';
import { quoteInput } from '../core/common/quote-input.js';
import { invokedAs } from './invocation.js';

// Reading a command's arguments. node:util parseArgs splits them; every mistake is then named in
// Reclaim's own words, with the option as typed and what to type instead, rather than Node's
// messages ("argument is ambiguous", "place it at the end of the command after '--'").

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** An example value, for the fix of a missing or empty one: `8888`, `~/.ssh/id_ed25519`. */
  example?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArguments {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseArguments(command: string, args: string[], specs: OptionSpecs): ParsedArguments {
  const options = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}) }]));
  // Not strict: parseArgs then reports each option as it read it, and the checks below say what
  // is wrong with it; in strict mode it would throw its own message instead.
  const { values, positionals, tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  if (values.help === true) return { values, positionals };
  const help = `see ${invokedAs()} ${command} --help for the options`;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    const typed = quoteInput(token.rawName);
    if (!spec) {
      const guess = closestOption(token.rawName, specs);
      // Whoever tries --password is told why there is none, not only where to look.
      const passwords = /pass/i.test(token.name)
        ? ' Reclaim never takes a password on the command line, where other users can read it: it asks for it, or reads it from the environment variable that --password-env NAME names.'
        : '';
      throw badInput(
        `${typed} is not an option of ${command}.`,
        `${guess ? `Did you mean ${guess}? (${help})` : `Leave it out (${help}).`}${passwords}`,
      );
    }
    const long = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw badInput(`${long} takes no value, but was given ${quoteInput(token.value)}.`, `Write just ${long}.`);
      continue;
    }
    const example = `for example ${token.rawName} ${spec.example ?? 'VALUE'}`;
    if (token.value === undefined) {
      throw badInput(`${typed} needs a value after it.`, `Give it right after the option, ${example}.`);
    }
    // `-L -1` or `-i --agent`: the next word was meant as another option, or the value is missing.
    if (!token.inlineValue && token.value.startsWith('-') && token.value !== '-') {
      throw badInput(
        `${typed} needs a value, but the word after it, ${quoteInput(token.value)}, starts with a dash like an option.`,
        `Give the value right after ${token.rawName}, ${example}. A value that really starts with a dash is written ${long}=${/^[\w@%+=:,./-]{1,60}$/.test(token.value) ? token.value : 'VALUE'}.`,
      );
    }
    if (token.value.trim() === '') {
      throw badInput(`${typed} was given an empty value.`, `Give a value, ${example}, or leave ${token.rawName} out.`);
    }
  }
  return { values, positionals };
}

/** The option the person most likely meant: a prefix of one (`--known`), or one or two letters off (`--acept-new`). */
function closestOption(typed: string, specs: OptionSpecs): string | undefined {
  const name = typed.replace(/^-+/, '').toLowerCase();
  if (name.length === 0) return undefined;
  const longNames = Object.keys(specs).filter((candidate) => candidate !== 'help');
  if (!typed.startsWith('--') && name.length === 1) {
    // A short option: perhaps the right letter in the wrong case (-f for -F, -j for -J).
    const match = Object.entries(specs).find(([, spec]) => spec.short?.toLowerCase() === name);
    return match ? `-${match[1].short} (--${match[0]})` : undefined;
  }
  const prefixed = longNames.filter((candidate) => candidate.startsWith(name) || name.startsWith(candidate));
  if (prefixed.length === 1) return `--${prefixed[0]}`;
  const scored = longNames
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ distance, candidate }) => distance <= Math.min(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance);
  return scored[0] ? `--${scored[0].candidate}` : undefined;
}

/** Levenshtein distance; option names are short, so the plain table is cheap. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
