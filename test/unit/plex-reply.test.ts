import { describe, expect, it } from 'vitest';
import { readClaimReply, readIdentityReply } from '../../electron/core/plex/pms.js';
import { readPinCheckReply, readPinReply } from '../../electron/core/plex/plex-tv.js';
import { readFlag, readRootElement, readText, UnreadableReplyError } from '../../electron/core/plex/reply.js';
import { reclaimErrorOf } from '../support/failure.js';
import { bounded } from '../property/bounds.js';

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

// Found by test/property/plex-replies.test.ts.
describe('replies that used to break the readers', () => {
  it('reads a root element whose attributes are named like Object methods', () => {
    const fields = readRootElement(xml('<MediaContainer valueOf="" constructor="x" claimed="1" machineIdentifier="abcdef012" version="1"/>'), ['MediaContainer']);
    expect(readFlag(fields, 'claimed')).toBe(true);
    expect(readIdentityReply(json('{"MediaContainer":{"toString":"x","claimed":false,"machineIdentifier":"abcdef012","version":"1"}}')).claimed).toBe(false);
  });

  it('refuses a claim answered with a megabyte of "<" at once, instead of hanging', async () => {
    const error = await reclaimErrorOf(Promise.resolve().then(() => bounded(() => readClaimReply({ status: 500, contentType: 'text/html', body: '<'.repeat(1024 * 1024) }))));
    expect(error.code).toBe('SERVER_CANNOT_REACH_PLEX_TV');
  });

  it('quotes what the server said without its control characters, and briefly', async () => {
    const error = await reclaimErrorOf(Promise.resolve().then(() => readIdentityReply({ ...xml(`\u001b[2J\u001b]0;owned\u0007${'x'.repeat(5000)}`), status: 502 })));
    expect(error.code).toBe('PMS_BAD_REPLY');
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error.message.length).toBeLessThan(400);
  });

  it('takes a plex.tv reply of null or a list as unreadable, not as a crash', async () => {
    for (const body of ['null', '[]', '7']) {
      expect((await reclaimErrorOf(Promise.resolve().then(() => readPinReply(json(body))))).code).toBe('PLEX_TV_ERROR');
      expect((await reclaimErrorOf(Promise.resolve().then(() => readPinCheckReply(json(body))))).code).toBe('PLEX_TV_ERROR');
    }
  });
});
