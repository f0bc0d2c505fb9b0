import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpReply } from '../../electron/core/plex/http-request.js';
import { readAccountReply, readClaimReply, readIdentityReply, readRootReply } from '../../electron/core/plex/pms.js';
import { readClaimTokenReply, readPinCheckReply, readPinReply, readTokenCheckReply } from '../../electron/core/plex/plex-tv.js';
import { readRootElement, UnreadableReplyError } from '../../electron/core/plex/reply.js';
import { bounded, expectTidyMessage, outcomeOf, runs, textFrom } from './bounds.js';

// Whatever answers on the server's port 32400, and whatever plex.tv (or something pretending to
// be it) sends: every reply is read or refused with a ReclaimError, in bounded time, and a reply
// Plex would write is read back exactly.

const XML_FRAGMENTS = ['<?xml version="1.0"?>', '<MediaContainer', '<MyPlex', '/>', '>', '<', ' claimed="1"', " claimed='0'",
  ' machineIdentifier="abcdef0123"', ' version="1.41.0"', ' username="me"', '&amp;', '&#x', '&#', ';', '"', "'", '=', ' ', '\n',
  '&#x110000;', '&#99999999999;', '</MediaContainer>', '<html>', 'starting up'];
const JSON_FRAGMENTS = ['{', '}', '[', ']', '"MediaContainer"', '"MyPlex"', ':', ',', '"claimed"', 'true', 'false', 'null', '1', '0',
  '"id"', '"code"', '"authToken"', '"token"', '"claim-abcd1234"', '"ABCD"', '"username"', '"title"', '"x"', '__proto__'];

/** Bodies of every size up to the 1 MiB the HTTP helper accepts, including long runs of one fragment. */
const body = fc.oneof(
  textFrom(XML_FRAGMENTS, 30),
  textFrom(JSON_FRAGMENTS, 30),
  fc.json(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.tuple(fc.constantFrom(...XML_FRAGMENTS, ...JSON_FRAGMENTS), fc.integer({ min: 1, max: 1024 * 1024 })).map(([piece, bytes]) =>
    piece.repeat(Math.max(1, Math.floor(bytes / piece.length))),
  ),
);
const reply: fc.Arbitrary<HttpReply> = fc.record({
  // Mostly 200, where the body is read; the rest exercises every refusal.
  status: fc.oneof({ arbitrary: fc.constant(200), weight: 3 }, fc.constantFrom(201, 204, 400, 401, 403, 404, 500, 503), fc.integer({ min: 100, max: 599 })),
  contentType: fc.constantFrom('', 'application/json', 'text/xml;charset=utf-8', 'text/html', 'application/JSON; charset=utf-8'),
  body,
});

const READERS: Array<[string, (r: HttpReply) => unknown]> = [
  ['PMS /identity', readIdentityReply],
  ['PMS /', readRootReply],
  ['PMS /myplex/account', readAccountReply],
  ['PMS /myplex/claim', readClaimReply],
  ['plex.tv PIN', readPinReply],
  ['plex.tv PIN check', readPinCheckReply],
  ['plex.tv user', readTokenCheckReply],
  ['plex.tv claim token', readClaimTokenReply],
];

describe('Plex replies, whatever is sent', () => {
  it('are read or refused with a ReclaimError that names no more than a short excerpt', () => {
    fc.assert(
      fc.property(reply, (r) => {
        for (const [, read] of READERS) {
          const result = outcomeOf(() => read(r));
          if (!result.ok) expectTidyMessage(result.error, 600);
        }
      }),
      runs(100),
    );
  });

  it('reach the root element reader only as values or UnreadableReplyError', () => {
    fc.assert(
      fc.property(reply, fc.constantFrom<string[]>(['MediaContainer'], ['MyPlex', 'MediaContainer']), (r, roots) => {
        try {
          bounded(() => readRootElement(r, roots));
        } catch (error) {
          expect(error).toBeInstanceOf(UnreadableReplyError);
        }
      }),
      runs(150),
    );
  });
});

/** Attribute text as Plex writes it: XML-escaped, non-ASCII and control characters as references. */
function xmlAttribute(value: string): string {
  return [...value]
    .map((c) => {
      const code = c.codePointAt(0)!;
      if (c === '&') return '&amp;';
      if (c === '<') return '&lt;';
      if (c === '"') return '&quot;';
      return code < 0x20 || code > 0x7e ? `&#x${code.toString(16)};` : c;
    })
    .join('');
}

const identity = fc.record({
  claimed: fc.boolean(),
  machineIdentifier: fc.stringMatching(/^[A-Za-z0-9-]{8,64}$/),
  version: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
});

describe('Plex replies round-trip', () => {
  it('reads back any identity PMS writes, in XML or JSON, whatever other attributes come with it', () => {
    const otherName = fc.constantFrom('size', 'friendlyName', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf');
    const others = fc.uniqueArray(fc.tuple(otherName, fc.string({ maxLength: 10 })), { maxLength: 4, selector: ([name]) => name });
    fc.assert(
      fc.property(identity, others, fc.boolean(), (id, extra, asJson) => {
        const text = asJson
          ? `{"MediaContainer":{${[...extra, ...Object.entries(id)].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}}`
          : `<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer${extra.map(([k, v]) => ` ${k}="${xmlAttribute(v)}"`).join('')} claimed="${id.claimed ? 1 : 0}" machineIdentifier="${id.machineIdentifier}" version="${xmlAttribute(id.version)}"/>\n`;
        const contentType = asJson ? 'application/json' : 'text/xml;charset=utf-8';
        expect(readIdentityReply({ status: 200, contentType, body: text })).toEqual(id);
      }),
      runs(200),
    );
  });

  it('reads back the PIN, the approved token and the claim token plex.tv sends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.stringMatching(/^[A-Za-z0-9]{4,64}$/),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.stringMatching(/^claim-[A-Za-z0-9_-]{4,128}$/),
        (id, code, authToken, token) => {
          const json = (value: unknown): HttpReply => ({ status: 200, contentType: 'application/json', body: JSON.stringify(value) });
          expect(readPinReply({ ...json({ id, code, authToken: null }), status: 201 })).toEqual({ id, code });
          expect(readPinCheckReply(json({ id, code, authToken }))).toBe(authToken);
          expect(readPinCheckReply(json({ id, code, authToken: null }))).toBeNull();
          expect(readClaimTokenReply(json({ token }))).toBe(token);
        },
      ),
      runs(200),
    );
  });
});
