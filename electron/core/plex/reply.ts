import type { HttpReply } from './http-request.js';

// Plex answers in XML unless asked for JSON, and either way the facts sit on one root element
// (`<MediaContainer claimed="1" …/>` or `{"MediaContainer":{"claimed":true,…}}`). This reads that
// element strictly: anything else is "not a reply I understand", never a guess.

export type PlexFields = Record<string, string | number | boolean | null>;

export class UnreadableReplyError extends Error {}

export function readRootElement(reply: HttpReply, rootNames: string[]): PlexFields {
  const text = reply.body.trim();
  if (/json/i.test(reply.contentType) || text.startsWith('{')) return readJson(text, rootNames);
  return readXml(text, rootNames);
}

function readJson(text: string, rootNames: string[]): PlexFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UnreadableReplyError('the reply is not valid JSON');
  }
  const root = rootNames.map((name) => (parsed as Record<string, unknown> | null)?.[name]).find((value) => value !== undefined);
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new UnreadableReplyError(`the reply has no ${rootNames.join(' or ')}`);
  }
  const fields = noFields();
  for (const [key, value] of Object.entries(root)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value as PlexFields[string];
  }
  return fields;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML character and entity references in an attribute value or element text, decoded. */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      if (!(code >= 0 && code <= 0x10ffff)) throw new UnreadableReplyError(`the reply has an impossible character reference ${whole}`);
      return String.fromCodePoint(code);
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** One XML root element's attributes (also how Plex's Preferences.xml is written). */
export function readXmlRoot(text: string, rootNames: string[]): PlexFields {
  return readXml(text.trim(), rootNames);
}

/** Fields with no prototype: a reply's "constructor" or "__proto__" is just another name. */
function noFields(): PlexFields {
  return Object.create(null) as PlexFields;
}

function readXml(text: string, rootNames: string[]): PlexFields {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
  const open = /^<([A-Za-z][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(body);
  if (!open) throw new UnreadableReplyError('the reply is neither JSON nor the XML Plex sends');
  const [, name, attributeText = ''] = open;
  if (!rootNames.includes(name!)) throw new UnreadableReplyError(`the reply is <${name}>, not ${rootNames.map((n) => `<${n}>`).join(' or ')}`);
  const fields = noFields();
  for (const match of attributeText.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    // Two values for one name (claimed="0" claimed="1") could be read either way: refuse both.
    if (match[1]! in fields) throw new UnreadableReplyError(`the reply gives "${match[1]}" twice`);
    fields[match[1]!] = decodeEntities(match[2] ?? match[3] ?? '');
  }
  return fields;
}

/** Plex writes booleans as "1"/"0" in XML and true/false in JSON; anything else is unreadable. */
export function readFlag(fields: PlexFields, name: string): boolean {
  const value = fields[name];
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  throw new UnreadableReplyError(`"${name}" is ${value === undefined ? 'missing' : `"${String(value)}"`}, not yes or no`);
}

export function readText(fields: PlexFields, name: string, pattern = /^.+$/s): string {
  const value = fields[name];
  if (typeof value !== 'string' && typeof value !== 'number') throw new UnreadableReplyError(`"${name}" is missing`);
  const text = String(value);
  if (!pattern.test(text)) throw new UnreadableReplyError(`"${name}" has an unexpected value`);
  return text;
}

export function readOptionalText(fields: PlexFields, name: string): string | undefined {
  const value = fields[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}
