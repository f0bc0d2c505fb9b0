import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReclaimError } from '../../electron/core/common/errors.js';
import { parsePreferencesXml, summarise } from '../../electron/core/server/preferences.js';

// Preferences.xml as Plex writes it (plex-claim.md §3: a fresh file's attributes; a signed-in one
// adds PlexOnline*), and everything a server might hold there instead.

const WHERE = '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Preferences.xml';
const SIGNED_IN = '<?xml version="1.0" encoding="utf-8"?>\n<Preferences OldestPreviousVersion="1.32.5.7349-8f4248874" MachineIdentifier="a1b2c3d4-0000-4000-8000-000000000001" ProcessedMachineIdentifier="6a646027a56abb6dbdf72484564db8567c737430" AnonymousMachineIdentifier="5c1e8f4a-1111-4111-8111-111111111111" MetricsEpoch="1" AcceptedEULA="1" FriendlyName="Ben &amp; Jerry&apos;s" PublishServerOnPlexOnlineKey="0" PlexOnlineHome="1" PlexOnlineMail="ben@example.com" PlexOnlineToken="sEcReTtOkEn-123" PlexOnlineUsername="ben&amp;jerry" LastAutomaticMappedPort="0"/>\n';

describe('reading Preferences', () => {
  it('says which sign-in keys are present, the machine and the account, and never shows the token', () => {
    const summary = parsePreferencesXml(SIGNED_IN, WHERE);
    expect(summary).toMatchObject({
      machineIdentifier: '6a646027a56abb6dbdf72484564db8567c737430',
      username: 'ben&jerry',
      tokenState: 'set',
      publishServer: '0',
      acceptedEula: '1',
      present: { PlexOnlineToken: true, PlexOnlineUsername: true, PlexOnlineMail: true, PlexOnlineHome: true, ProcessedMachineIdentifier: true, PublishServerOnPlexOnlineKey: true, AcceptedEULA: true },
    });
    expect(summary.token?.reveal()).toBe('sEcReTtOkEn-123');
    for (const shown of [JSON.stringify(summary), inspect(summary, { depth: 5 }), String(summary.token), `${summary.token}`]) {
      expect(shown).not.toContain('sEcReTtOkEn');
    }
  });

  it('a fresh, unclaimed file and an emptied token (binhex blanks it) both read as "missing"', () => {
    const fresh = '<Preferences MachineIdentifier="x" ProcessedMachineIdentifier="6a646027a56abb6dbdf72484564db8567c737430" AcceptedEULA="1" PublishServerOnPlexOnlineKey="1"/>';
    expect(parsePreferencesXml(fresh, WHERE)).toMatchObject({ tokenState: 'missing', tokenEmpty: false, present: { PlexOnlineToken: false } });
    const blanked = fresh.replace('/>', ' PlexOnlineToken="" PlexOnlineUsername="" PlexOnlineMail=""/>');
    expect(parsePreferencesXml(blanked, WHERE)).toMatchObject({ tokenState: 'missing', tokenEmpty: true, present: { PlexOnlineToken: true }, token: undefined });
  });

  it.each([
    ['empty', '', /are empty/],
    ['not XML', 'PlexOnlineToken=abc\n', /are not the XML Plex writes/],
    ['cut off', '<?xml version="1.0"?>\n<Preferences ProcessedMachineIdentifier="6a646027a56abb6dbdf72484564db8567c737430" PlexOnline', /are not the XML Plex writes/],
    ['another element', '<MediaContainer ProcessedMachineIdentifier="6a646027a56abb6dbdf72484564db8567c737430"/>', /not the XML Plex writes/],
    ['a key twice', '<Preferences ProcessedMachineIdentifier="6a646027a56abb6dbdf72484564db8567c737430" PlexOnlineToken="a" PlexOnlineToken="b"/>', /twice/],
    ['recreated, without identity', '<?xml version="1.0" encoding="utf-8"?>\n<Preferences/>\n', /no ProcessedMachineIdentifier/],
    ['binary', '\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR', /are not the XML Plex writes/],
  ])('%s: PLEX_PREFERENCES_UNREADABLE naming the file and what is wrong', (_, text, why) => {
    const error = (() => {
      try {
        return parsePreferencesXml(text, WHERE);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ReclaimError);
    expect(error).toMatchObject({ code: 'PLEX_PREFERENCES_UNREADABLE', message: expect.stringMatching(why), details: { where: WHERE } });
    expect((error as ReclaimError).message).toContain(WHERE);
    expect((error as ReclaimError).fix).toMatch(/Never delete or recreate/);
  });

  it('a file far larger than any Preferences is refused by its size', () => {
    expect(() => parsePreferencesXml('<Preferences/>', WHERE, 50 * 1024 * 1024)).toThrow(/far larger than any Preferences file/);
  });

  it('registry and defaults values read the same way', () => {
    const values = new Map([['ProcessedMachineIdentifier', '6a646027a56abb6dbdf72484564db8567c737430'], ['PlexOnlineToken', 'tok-tok'], ['PlexOnlineHome', '0']]);
    expect(summarise(values, 'HKEY_CURRENT_USER\\Software\\Plex, Inc.\\Plex Media Server')).toMatchObject({ tokenState: 'set', present: { PlexOnlineHome: true, PlexOnlineMail: false } });
  });

  it('whatever a server holds there, reading it gives a summary or a ReclaimError, never a crash', () => {
    const attribute = fc.tuple(fc.constantFrom('PlexOnlineToken', 'ProcessedMachineIdentifier', 'x', 'A-b.c', ''), fc.string({ maxLength: 60 }))
      .map(([name, value]) => `${name}="${value}"`);
    const almostPreferences = fc.tuple(fc.constantFrom('', '<?xml version="1.0"?>', '\ufeff'), fc.constantFrom('<Preferences', '<Preferences ', '<preferences', '<'), fc.array(attribute, { maxLength: 8 }), fc.constantFrom('/>', '>', '', ' />\n<junk>'))
      .map(([head, open, attributes, close]) => `${head}${open} ${attributes.join(' ')}${close}`);
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), almostPreferences), (text) => {
      try {
        const summary = parsePreferencesXml(text, WHERE);
        expect(summary.machineIdentifier).toMatch(/^[A-Za-z0-9-]{8,64}$/);
      } catch (error) {
        expect(error).toBeInstanceOf(ReclaimError);
        expect((error as ReclaimError).code).toBe('PLEX_PREFERENCES_UNREADABLE');
      }
    }), { numRuns: 500 });
  });
});
