import { decodeEntities, UnreadableReplyError } from '../../plex/reply.js';
import { unreadablePreferences } from '../preferences.js';

// Editing Preferences.xml as XML, not as lines of text (plex-repair.md §4 lists what sed did to
// values with "&", ";" or quotes): the one <Preferences …/> element is read attribute by
// attribute with the exact place of each, and only the named attributes are replaced, added or
// removed. Every other byte of the file, the declaration, other attributes with their quoting and
// spacing, and what follows the element, is kept exactly as it was.

export interface PreferencesAttribute {
  name: string;
  /** The value with its references decoded. */
  value: string;
  /** Where the attribute starts in the text, with the whitespace before it. */
  start: number;
  /** Just past its closing quote. */
  end: number;
  quote: '"' | '\'';
}

export interface PreferencesDocument {
  text: string;
  attributes: PreferencesAttribute[];
  /** Where a new attribute goes: just past the last attribute (or the element name). */
  insertAt: number;
}

/** What to change: a value to set, or null to remove the attribute. */
export type PreferencesChanges = ReadonlyMap<string, string | null>;

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ATTRIBUTE = /(\s+)([A-Za-z_:][\w.:-]*)(\s*=\s*)(?:"([^"<]*)"|'([^'<]*)')/y;
const CLOSE = /\s*\/?>/y;
const BEFORE_ELEMENT = /^(?:\uFEFF)?(?:\s|<\?xml(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->)*/;

export function readPreferencesDocument(text: string, where: string): PreferencesDocument {
  const notXml = (why: string) => unreadablePreferences(where, `are not the XML Plex writes (${why})`);
  if (text.trim() === '') throw unreadablePreferences(where, 'are empty');
  const lead = BEFORE_ELEMENT.exec(text)![0].length;
  if (!text.startsWith('<Preferences', lead)) throw notXml('the file does not begin with a <Preferences> element');
  NAME.lastIndex = lead + 1;
  NAME.exec(text);
  if (NAME.lastIndex !== lead + '<Preferences'.length) throw notXml('the file does not begin with a <Preferences> element');
  const attributes: PreferencesAttribute[] = [];
  const seen = new Set<string>();
  let at = NAME.lastIndex;
  for (;;) {
    CLOSE.lastIndex = at;
    if (CLOSE.test(text)) break;
    ATTRIBUTE.lastIndex = at;
    const match = ATTRIBUTE.exec(text);
    if (!match) throw notXml(`a setting is cut off or malformed after character ${at}`);
    const [, , name = '', , double, single] = match;
    if (seen.has(name)) throw notXml(`"${name}" is there twice`);
    seen.add(name);
    let value: string;
    try {
      value = decodeEntities(double ?? single ?? '');
    } catch (error) {
      if (!(error instanceof UnreadableReplyError)) throw error;
      throw notXml(`"${name}" holds an impossible character reference`);
    }
    attributes.push({ name, value, start: at, end: ATTRIBUTE.lastIndex, quote: double === undefined ? '\'' : '"' });
    at = ATTRIBUTE.lastIndex;
  }
  return { text, attributes, insertAt: at };
}

/** The settings by name, as Plex reads them. */
export function preferenceValues(document: PreferencesDocument): Map<string, string> {
  return new Map(document.attributes.map((attribute) => [attribute.name, attribute.value]));
}

/**
 * The text with `changes` made: a present attribute keeps its place, spacing and quote character
 * and gets the new value; a new one is added after the last; a removed one goes with the space
 * before it. Nothing else changes.
 */
export function editPreferences(document: PreferencesDocument, changes: PreferencesChanges): string {
  const { text } = document;
  for (const name of changes.keys()) {
    NAME.lastIndex = 0;
    if (!NAME.test(name) || NAME.lastIndex !== name.length) throw new Error(`not an XML attribute name: ${JSON.stringify(name)}`);
  }
  let result = '';
  let copied = 0;
  for (const attribute of document.attributes) {
    if (!changes.has(attribute.name)) continue;
    const value = changes.get(attribute.name);
    result += text.slice(copied, attribute.start);
    if (value !== null && value !== undefined) {
      const head = text.slice(attribute.start, attribute.end).match(/^\s+[^=\s]+\s*=\s*/)![0];
      result += `${head}${attribute.quote}${escapeAttribute(value)}${attribute.quote}`;
    }
    copied = attribute.end;
  }
  result += text.slice(copied, document.insertAt);
  const present = new Set(document.attributes.map((attribute) => attribute.name));
  for (const [name, value] of changes) {
    if (value !== null && !present.has(name)) result += ` ${name}="${escapeAttribute(value)}"`;
  }
  return result + text.slice(document.insertAt);
}

/**
 * A value as an attribute value: the XML specials (both quote characters too) as entities, and tab
 * and line breaks as character references so a parser does not turn them into spaces. Other
 * control characters cannot be in XML 1.0 at all; callers refuse them before this.
 */
export function escapeAttribute(value: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(value)) {
    throw new Error('a value with control characters cannot be written to XML');
  }
  return value.replace(/[&<>"'\t\n\r]/g, (character) => ENTITIES[character] ?? `&#${character.charCodeAt(0)};`);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&apos;' };
