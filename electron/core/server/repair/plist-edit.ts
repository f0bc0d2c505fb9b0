import { decodeEntities, UnreadableReplyError } from '../../plex/reply.js';
import { unreadablePreferences } from '../preferences.js';
import { escapeAttribute, type PreferencesChanges } from './preferences-edit.js';

// The macOS domain com.plexapp.plexmediaserver as `defaults export <domain> -` prints it: an XML
// property list whose top <dict> holds one <key> and one value element per setting. Like
// Preferences.xml it is edited in place: only the named keys' entries are replaced, added or
// removed, every other byte stays as it was, and a replaced value keeps its element, so its type
// (string, integer, boolean) is the one Plex wrote (plex-repair.md §2.1, §6.6).

export type PlistType = 'string' | 'integer' | 'real' | 'boolean' | 'date' | 'data' | 'array' | 'dict';

export interface PlistEntry {
  key: string;
  type: PlistType;
  /** The value as `defaults read` shows a simple one: text, a number, 1/0 for a boolean. */
  value: string;
  /** Where the entry starts (the whitespace before its <key>) and ends (past its value element). */
  start: number;
  end: number;
  /** Where its value element starts. */
  valueStart: number;
}

export interface PlistDocument {
  text: string;
  entries: PlistEntry[];
  /** Just past the last entry (or the opening <dict>): where new entries go. */
  insertAt: number;
}

const SIMPLE = /<(string|integer|real|date|data)>([^<]*)<\/\1>|<(string|data|dict|array)\/>|<(true|false)\/>/y;
const KEY = /\s*<key>([^<]*)<\/key>\s*/y;

export function readPlistDocument(text: string, where: string): PlistDocument {
  const notPlist = (why: string) => unreadablePreferences(where, `are not the property list defaults exports (${why})`);
  const open = /<plist\b[^>]*>\s*<dict>/.exec(text);
  if (!open) throw notPlist(/<plist\b[^>]*>\s*<dict\/>/.test(text) ? 'the domain is empty' : 'there is no <plist><dict>');
  // Just past "<dict>", so the whitespace before the first key belongs to its entry.
  let at = open.index + open[0].lastIndexOf('<dict>') + '<dict>'.length;
  const entries: PlistEntry[] = [];
  const seen = new Set<string>();
  for (let count = 0; ; count++) {
    if (count > 100_000) throw notPlist('too many entries');
    const close = /\s*<\/dict>/y;
    close.lastIndex = at;
    if (close.test(text)) break;
    KEY.lastIndex = at;
    const key = KEY.exec(text);
    if (!key) throw notPlist(`a <key> was expected after character ${at}`);
    const name = decode(key[1] ?? '', notPlist);
    if (seen.has(name)) throw notPlist(`"${name}" is there twice`);
    seen.add(name);
    const valueStart = KEY.lastIndex;
    const { type, value, end } = readValue(text, valueStart, notPlist);
    entries.push({ key: name, type, value, start: at, end, valueStart });
    at = end;
  }
  return { text, entries, insertAt: at };
}

function decode(text: string, notPlist: (why: string) => Error): string {
  try {
    return decodeEntities(text);
  } catch (error) {
    if (!(error instanceof UnreadableReplyError)) throw error;
    throw notPlist('a value holds an impossible character reference');
  }
}

function readValue(text: string, start: number, notPlist: (why: string) => Error): { type: PlistType; value: string; end: number } {
  SIMPLE.lastIndex = start;
  const simple = SIMPLE.exec(text);
  if (simple) {
    const [, element, content, empty, boolean] = simple;
    const end = SIMPLE.lastIndex;
    if (boolean) return { type: 'boolean', value: boolean === 'true' ? '1' : '0', end };
    const type = (element ?? empty) as PlistType;
    return { type, value: empty ? '' : decode(content ?? '', notPlist), end };
  }
  // An array or dict: skipped whole, its nesting counted.
  const opening = /<(array|dict)>/y;
  opening.lastIndex = start;
  const first = opening.exec(text);
  if (!first) throw notPlist(`a value was expected after character ${start}`);
  const tags = /<(\/?)(array|dict)>/g;
  tags.lastIndex = opening.lastIndex;
  let depth = 1;
  for (let match = tags.exec(text); match; match = tags.exec(text)) {
    depth += match[1] ? -1 : 1;
    if (depth === 0) return { type: first[1] as PlistType, value: '', end: tags.lastIndex };
  }
  throw notPlist('an <array> or <dict> is not closed');
}

/** The settings by name, as `defaults read <domain> <key>` would show them. */
export function plistValues(document: PlistDocument): Map<string, string> {
  return new Map(document.entries.map((entry) => [entry.key, entry.value]));
}

/** The types of the settings, by name. */
export function plistTypes(document: PlistDocument): Map<string, PlistType> {
  return new Map(document.entries.map((entry) => [entry.key, entry.type]));
}

/**
 * The property list with `changes` made. A present key keeps its place and its value's element
 * (its type); a new one is added after the last, as a string, or as a boolean for the switches
 * AcceptedEULA and PublishServerOnPlexOnlineKey (how a Chef cookbook writes them, plex-repair.md
 * §2.1); a removed one goes with the whitespace before it. Nothing else changes.
 */
export function editPlist(document: PlistDocument, changes: PreferencesChanges): string {
  const { text } = document;
  let result = '';
  let copied = 0;
  for (const entry of document.entries) {
    if (!changes.has(entry.key)) continue;
    const value = changes.get(entry.key);
    if (value === null || value === undefined) {
      result += text.slice(copied, entry.start);
    } else {
      result += text.slice(copied, entry.valueStart) + valueElement(entry.type, value, entry.key);
    }
    copied = entry.end;
  }
  result += text.slice(copied, document.insertAt);
  const present = new Set(document.entries.map((entry) => entry.key));
  const indent = /\n([ \t]*)<key>/.exec(text)?.[1] ?? '\t';
  for (const [key, value] of changes) {
    if (value === null || present.has(key)) continue;
    const type: PlistType = BOOLEAN_SWITCHES.has(key) && /^[01]$/.test(value) ? 'boolean' : 'string';
    result += `\n${indent}<key>${escapeAttribute(key)}</key>\n${indent}${valueElement(type, value, key)}`;
  }
  return result + text.slice(document.insertAt);
}

const BOOLEAN_SWITCHES = new Set(['AcceptedEULA', 'PublishServerOnPlexOnlineKey']);

/** `value` in an element of `type`; a value the type cannot hold is refused (never silently retyped). */
function valueElement(type: PlistType, value: string, key: string): string {
  switch (type) {
    case 'string':
      return `<string>${escapeAttribute(value)}</string>`;
    case 'boolean':
      if (/^(1|true|YES)$/i.test(value)) return '<true/>';
      if (/^(0|false|NO)$/i.test(value)) return '<false/>';
      break;
    case 'integer':
      if (/^-?\d+$/.test(value)) return `<integer>${value}</integer>`;
      break;
    case 'real':
      if (/^-?\d+(\.\d+)?$/.test(value)) return `<real>${value}</real>`;
      break;
    default:
      break;
  }
  throw new Error(`${key} holds a ${type} in Plex's settings, which cannot take the value the repair would write`);
}
