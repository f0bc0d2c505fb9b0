import { describe, expect, it } from 'vitest';
import { readFlag, readRootElement, readText, UnreadableReplyError } from '../../electron/core/plex/reply.js';

// PMS answers XML or JSON; whatever it sends, "claimed" must be read exactly or not at all.

const xml = (body: string) => ({ status: 200, contentType: 'text/xml;charset=utf-8', body });
const json = (body: string) => ({ status: 200, contentType: 'application/json', body });

describe('reading a Plex reply', () => {
  it('reads the identity in XML and in JSON alike', () => {
    const fromXml = readRootElement(xml('<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" claimed="1" machineIdentifier="6a64" version="1.29.1.6316-f4cdfea9c"/>'), ['MediaContainer']);
    const fromJson = readRootElement(json('{"MediaContainer":{"size":1,"claimed":true,"machineIdentifier":"6a64","version":"1.40.2"}}'), ['MediaContainer']);
    expect(readFlag(fromXml, 'claimed')).toBe(true);
    expect(readFlag(fromJson, 'claimed')).toBe(true);
    expect(readText(fromXml, 'version')).toBe('1.29.1.6316-f4cdfea9c');
    expect(readFlag(readRootElement(xml('<MediaContainer claimed="0"></MediaContainer>'), ['MediaContainer']), 'claimed')).toBe(false);
  });

  it('decodes XML entities in attribute values', () => {
    const fields = readRootElement(xml('<MediaContainer friendlyName="Tom &amp; Jerry&#39;s &lt;NAS&gt;"/>'), ['MediaContainer']);
    expect(fields.friendlyName).toBe("Tom & Jerry's <NAS>");
  });

  it.each([
    ['an HTML error page', xml('<html><body>Bad gateway</body></html>')],
    ['plain text', xml('server is busy')],
    ['truncated JSON', json('{"MediaContainer":{"claimed":tr')],
    ['JSON without the root', json('{"Other":{}}')],
    ['an empty body', xml('')],
    ['an attribute given twice', xml('<MediaContainer claimed="0" claimed="1"/>')],
    ['an impossible character reference', xml('<MediaContainer friendlyName="&#x110000;"/>')],
  ])('refuses %s instead of guessing', (_name, reply) => {
    expect(() => readRootElement(reply, ['MediaContainer'])).toThrow(UnreadableReplyError);
  });

  it.each([['missing', {}], ['"yes"', { claimed: 'yes' }], ['2', { claimed: 2 }], ['null', { claimed: null }]])(
    'a claimed flag that is %s is unreadable, never "not claimed"',
    (_name, fields) => {
      expect(() => readFlag(fields as Record<string, string>, 'claimed')).toThrow(UnreadableReplyError);
    },
  );
});
