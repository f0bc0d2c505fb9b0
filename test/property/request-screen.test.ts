import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headEnd, looksLikeHttp, MAX_HEAD_BYTES, screenRequest } from '../../electron/core/tunnel/request-screen.js';
import { bounded, runs, textFrom } from './bounds.js';

// The first request on a tunnel connection, as the forward listener hands it over: whatever
// arrived before the end of the header block, MAX_HEAD_BYTES, a pause or a non-HTTP start. The
// screen may let a request through only when what Plex will read from it is unambiguously
// addressed to the tunnel and comes from no other page.

const PORT = 8888;
const OURS = ['127.0.0.1:8888', 'localhost:8888', 'LOCALHOST:8888'];
const OTHERS = ['evil.example', 'evil.example:8888', '127.0.0.1:9999', '127.0.0.1', '', '127.0.0.1:8888 evil.example'];

const headerName = (name: string) => fc.constantFrom(name, name.toUpperCase(), name.toLowerCase());
const header = fc.oneof(
  fc.tuple(headerName('Host'), fc.constantFrom(...OURS, ...OTHERS)),
  fc.tuple(headerName('Origin'), fc.constantFrom('http://127.0.0.1:8888', 'http://localhost:8888', 'https://evil.example', 'null')),
  fc.tuple(headerName('Sec-Fetch-Site'), fc.constantFrom('same-origin', 'none', 'same-site', 'cross-site')),
  fc.tuple(fc.constantFrom('Accept', 'Content-Type', 'X-Plex-Token', 'Cookie'), fc.string({ maxLength: 20 })),
).map(([name, value]) => `${name}: ${value}`);

const requestLine = fc
  .tuple(fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'PUT'), fc.oneof(fc.constantFrom('/', '/myplex/claim?token=claim-x', '/web'), fc.stringMatching(/^[\x21-\x7e]{0,40}$/).map((s) => `/${s}`)), fc.constantFrom('HTTP/1.1', 'HTTP/1.0'))
  .map(([method, target, version]) => `${method} ${target} ${version}`);

/** A request as a browser or an attacker's page could make it, with a body that may look like headers. */
const request = fc
  .record({
    line: requestLine,
    headers: fc.array(header, { maxLength: 6 }),
    body: fc.oneof(fc.constant(''), fc.array(header, { maxLength: 3 }).map((lines) => `x\r\n${lines.join('\r\n')}\r\n\r\n`)),
    padding: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MAX_HEAD_BYTES + 100 })),
  })
  .map(({ line, headers, body, padding }) => {
    // A long URL pushes the end of the request line past what the listener reads.
    const padded = padding ? line.replace(' HTTP/', `${'?pad='.padEnd(padding, 'a')} HTTP/`) : line;
    return `${[padded, ...headers].join('\r\n')}\r\n\r\n${body}`;
  });

/** Where the listener stops reading: at the end of the head, at MAX_HEAD_BYTES, or anywhere (a pause). */
const firstBytes = fc.oneof(
  request.map((r) => (headEnd(r) >= 0 && headEnd(r) <= MAX_HEAD_BYTES ? r : r.slice(0, MAX_HEAD_BYTES))),
  fc.tuple(request, fc.nat()).map(([r, cut]) => r.slice(0, cut % (Math.min(r.length, MAX_HEAD_BYTES) + 1))),
  textFrom(['GET / HTTP/1.1', '\r\n', '\n', 'Host: 127.0.0.1:8888', 'Host: evil', ' ', ':', 'Origin: null', '\r\n\r\n', '\u0016\u0003\u0001']),
);

/** What a lenient server could take as the request's headers: every `name: value` line before the blank line. */
function headersAsPlexMayReadThem(head: string): Array<[string, string]> {
  const end = head.indexOf('\r\n\r\n');
  return head
    .slice(0, end < 0 ? head.length : end)
    .split(/\r\n|\n|\r/)
    .slice(1)
    .filter((line) => line.includes(':'))
    .map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim().toLowerCase()]);
}

describe('the request screen, for any first bytes', () => {
  it('never throws, and lets HTTP through only when it is complete, addressed to the tunnel, and from no other page', () => {
    fc.assert(
      fc.property(fc.oneof(firstBytes, fc.string({ unit: 'binary', maxLength: 200 })), (head) => {
        const verdict = bounded(() => screenRequest(head, PORT));
        bounded(() => [looksLikeHttp(head), headEnd(head)]);
        if (!verdict.allowed) {
          expect(verdict.reason).not.toBe('');
          return;
        }
        if (head === '' || !looksLikeHttp(head)) return;
        expect(headEnd(head), 'a request let through has a complete head').toBeGreaterThan(0);
        const headers = headersAsPlexMayReadThem(head);
        const hosts = headers.filter(([name]) => name === 'host');
        expect(hosts.map(([, value]) => value)).toHaveLength(1);
        expect(['127.0.0.1:8888', 'localhost:8888']).toContain(hosts[0]![1]);
        for (const [name, value] of headers) {
          if (name === 'origin') expect(['http://127.0.0.1:8888', 'http://localhost:8888']).toContain(value);
          if (name === 'sec-fetch-site') expect(['same-origin', 'none']).toContain(value);
        }
      }),
      runs(1000),
    );
  });

  it('lets a complete request from the tunnel\'s own pages through', () => {
    fc.assert(
      fc.property(
        requestLine,
        fc.constantFrom(...OURS),
        fc.option(fc.constantFrom('http://127.0.0.1:8888', 'http://localhost:8888'), { nil: undefined }),
        fc.option(fc.constantFrom('same-origin', 'none'), { nil: undefined }),
        (line, host, origin, site) => {
          const lines = [line, `Host: ${host}`, ...(origin ? [`Origin: ${origin}`] : []), ...(site ? [`Sec-Fetch-Site: ${site}`] : [])];
          expect(screenRequest(`${lines.join('\r\n')}\r\n\r\n`, PORT)).toEqual({ allowed: true });
        },
      ),
      runs(200),
    );
  });
});
