import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readXmlRoot } from '../../electron/core/plex/reply.js';
import { editPreferences, preferenceValues, readPreferencesDocument, type PreferencesDocument } from '../../electron/core/server/repair/preferences-edit.js';
import { outcomeOf, runs } from './bounds.js';

// Editing Preferences.xml must change the named settings and nothing else: whatever the file's
// quoting, spacing, entities and values, reading the edited file gives the new values, and with
// the touched settings taken out, the edited file and the original are the same text.

const WHERE = '/srv/plex/Preferences.xml';

const names = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,11}$/);
const valueText = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '&', '<', '>', '"', '\'', ';', '\t', '\n', 'é', '€', '🙂', ',', '=', '/') , maxLength: 24 });

/** One attribute as a file might hold it: either quote, any spacing, entities in several spellings. */
const attribute = fc.record({
  name: names,
  value: valueText,
  quote: fc.constantFrom('"', '\''),
  space: fc.constantFrom(' ', '  ', '\n', '\n  ', '\t'),
  equals: fc.constantFrom('=', ' = ', '=\n'),
  ampersand: fc.constantFrom('&amp;', '&#38;', '&#x26;'),
});

function encode(value: string, quote: string, ampersand: string): string {
  return value
    .replace(/&/g, ampersand)
    .replace(/</g, '&lt;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(quote === '"' ? /"/g : /'/g, quote === '"' ? '&quot;' : '&#39;');
}

const documents = fc.record({
  declaration: fc.constantFrom('', '<?xml version="1.0" encoding="utf-8"?>\n', '\uFEFF<?xml version="1.0"?>\r\n', '<!-- kept -->\n'),
  attributes: fc.uniqueArray(attribute, { selector: (a) => a.name, maxLength: 10 }),
  close: fc.constantFrom('/>', ' />', '/>\n', '/>\n\n', '></Preferences>\n'),
}).map(({ declaration, attributes, close }) => ({
  text: `${declaration}<Preferences${attributes.map((a) => `${a.space}${a.name}${a.equals}${a.quote}${encode(a.value, a.quote, a.ampersand)}${a.quote}`).join('')}${close}`,
  values: new Map(attributes.map((a) => [a.name, a.value])),
}));

/** The text with these settings' spans taken out. */
function without(document: PreferencesDocument, touched: Set<string>): string {
  let text = '';
  let copied = 0;
  for (const attribute of document.attributes) {
    if (!touched.has(attribute.name)) continue;
    text += document.text.slice(copied, attribute.start);
    copied = attribute.end;
  }
  return text + document.text.slice(copied);
}

describe('editing Preferences.xml', () => {
  it('gives the new values, and leaves every other byte as it was', () => {
    // Changes to settings the file has (picked by index) and to settings it lacks.
    const edits = fc.array(fc.tuple(fc.oneof(fc.nat(), names), fc.option(valueText)), { maxLength: 6 });
    fc.assert(fc.property(documents, edits, ({ text, values }, picks) => {
      const present = [...values.keys()];
      const changes = new Map(picks.map(([which, value]) => [
        typeof which === 'number' ? present[which % present.length] ?? `Added${which}` : which, value,
      ]));
      const original = readPreferencesDocument(text, WHERE);
      expect(preferenceValues(original)).toEqual(values);
      const edited = readPreferencesDocument(editPreferences(original, changes), WHERE);
      const expected = new Map(values);
      for (const [name, value] of changes) {
        if (value === null) expected.delete(name);
        else expected.set(name, value);
      }
      expect(preferenceValues(edited)).toEqual(expected);
      const touched = new Set(changes.keys());
      expect(without(edited, touched)).toBe(without(original, touched));
      if (!/<!--/.test(text)) {
        // Another reader (the one inspect uses) sees the same settings.
        expect(new Map(Object.entries(readXmlRoot(edited.text, ['Preferences'])))).toEqual(expected);
      }
    }), runs(300));
  });

  it('reads or refuses any text with a ReclaimError, never anything else', () => {
    const fragments = ['<Preferences', ' a="1"', ' b=\'&amp;\'', '/>', '>', '<?xml version="1.0"?>', '"', '&#x;', '&#99999999;', ' a="2"', '<!--', '-->', '\uFEFF'];
    fc.assert(fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 10 }).map((parts) => parts.join('')), (text) => {
      const outcome = outcomeOf(() => readPreferencesDocument(text, WHERE));
      if (!outcome.ok) expect(outcome.error.code).toBe('PLEX_PREFERENCES_UNREADABLE');
    }), runs(500));
  });
});
