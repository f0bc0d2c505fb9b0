import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatHostPort,
  parseHostPort,
  parseJumpList,
  parsePort,
  parseSshAddress,
  validateHost,
} from '../../electron/core/common/target.js';
import { expectTidyMessage, outcomeOf, runs, textFrom } from './bounds.js';

// What a person types as the server, the far end, a port or a jump list: anything at all is
// either read or refused in words that name it, and what Reclaim prints back reads the same.

const FRAGMENTS = ['@', ':', '[', ']', ',', '.', ' ', 'ssh://', '/', '::1', '2001:db8::1', '127.0.0.1', 'nas', 'plex',
  'user', '22', '65535', '65536', '0', '-', '_', '%', '\u0000', '\u001b[2J', '\n', 'é', 'a'.repeat(70)];
const typed = fc.oneof(textFrom(FRAGMENTS), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ minLength: 256, maxLength: 2001 }));

const label = fc.stringMatching(/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,10}[A-Za-z0-9_])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const host = fc.oneof(hostName, fc.ipV4(), fc.ipV6());
const userName = fc.stringMatching(/^[^\s@:/\\\u0000-\u001f\u007f]{1,20}$/);
const port = fc.integer({ min: 1, max: 65535 });
const address = fc.record({ user: fc.option(userName, { nil: undefined }), host, port: fc.option(port, { nil: undefined }) });
// ssh splits a jump list at every comma, so a hop's user name cannot hold one.
const hop = address.filter((a) => !a.user?.includes(','));

function format(a: { user?: string; host: string; port?: number }): string {
  const where = a.port !== undefined ? formatHostPort(a.host, a.port) : a.host.includes(':') ? `[${a.host}]` : a.host;
  return a.user !== undefined ? `${a.user}@${where}` : where;
}

describe('target parsing, for any input', () => {
  it('reads [user@]host[:port] or refuses it as BAD_INPUT with a short, clean message', () => {
    fc.assert(
      fc.property(typed, (text) => {
        const result = outcomeOf(() => parseSshAddress(text));
        if (result.ok) {
          expect(validateHost(result.value.host)).toBe(result.value.host);
          if (result.value.port !== undefined) expect(result.value.port).toBeGreaterThanOrEqual(1);
        } else {
          expect(result.error.code).toBe('BAD_INPUT');
          expectTidyMessage(result.error);
        }
      }),
      runs(200),
    );
  });

  it('reads HOST:PORT, ports and jump lists, or refuses them the same way', () => {
    fc.assert(
      fc.property(typed, (text) => {
        const parsers: Array<() => unknown> = [() => parseHostPort(text, 'Remote'), () => parsePort(text, 'SSH port'), () => parseJumpList(text)];
        for (const parse of parsers) {
          const result = outcomeOf(parse);
          if (!result.ok) {
            expect(result.error.code).toBe('BAD_INPUT');
            expectTidyMessage(result.error);
          }
        }
      }),
      runs(150),
    );
  });

  it('names the jump host and its position when a hop is bad', () => {
    fc.assert(
      fc.property(fc.array(hop, { maxLength: 3 }), typed, fc.array(hop, { maxLength: 3 }), (before, bad, after) => {
        fc.pre(!outcomeOf(() => parseSshAddress(bad)).ok && !bad.includes(','));
        const result = outcomeOf(() => parseJumpList([...before.map(format), bad, ...after.map(format)].join(',')));
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.message).toMatch(new RegExp(`^Jump host ${before.length + 1} of ${before.length + after.length + 1}\\b`));
          expectTidyMessage(result.error);
        }
      }),
      runs(150),
    );
  });
});

describe('target parsing round-trips', () => {
  it('reads back any [user@]host[:port] it could have been given', () => {
    fc.assert(
      fc.property(address, (a) => {
        expect(parseSshAddress(format(a))).toEqual({ user: a.user, host: a.host, port: a.port });
      }),
      runs(300),
    );
  });

  it('reads back HOST:PORT as formatHostPort writes it, and every port number', () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        expect(parseHostPort(formatHostPort(h, p), 'Remote')).toEqual({ host: h, port: p });
        expect(parsePort(String(p), 'SSH port')).toBe(p);
      }),
      runs(300),
    );
  });

  it('reads back a jump list hop by hop', () => {
    fc.assert(
      fc.property(fc.array(hop, { minLength: 1, maxLength: 5 }), (hops) => {
        expect(parseJumpList(hops.map(format).join(','))).toEqual(hops.map((a) => ({ user: a.user, host: a.host, port: a.port })));
      }),
      runs(200),
    );
  });
});
