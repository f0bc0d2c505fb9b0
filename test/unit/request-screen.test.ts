import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, screenRequest } from '../../electron/core/tunnel/request-screen.js';

// The first request on each tunnel connection: only the tunnel's own pages (or the person typing
// the address) may reach a Plex server that trusts everything arriving through the tunnel.

const request = (...headers: string[]) => ['POST /myplex/claim?token=claim-x HTTP/1.1', ...headers, '', ''].join('\r\n');

describe('screening the first request', () => {
  it('lets the tunnel\'s own pages and typed addresses through', () => {
    expect(screenRequest(request('Host: 127.0.0.1:8888'), 8888)).toEqual({ allowed: true });
    expect(screenRequest(request('Host: localhost:8888', 'Origin: http://localhost:8888', 'Sec-Fetch-Site: same-origin'), 8888)).toEqual({ allowed: true });
    expect(screenRequest(request('host: 127.0.0.1:8888', 'sec-fetch-site: none'), 8888)).toEqual({ allowed: true });
  });

  it('refuses a page from another site posting to the tunnel', () => {
    const verdict = screenRequest(request('Host: 127.0.0.1:8888', 'Origin: https://evil.example'), 8888);
    expect(verdict).toEqual({ allowed: false, reason: 'it came from the web page "https://evil.example"' });
    expect(screenRequest(request('Host: 127.0.0.1:8888', 'Origin: null'), 8888).allowed).toBe(false);
    expect(screenRequest(request('Host: 127.0.0.1:8888', 'Sec-Fetch-Site: cross-site'), 8888).allowed).toBe(false);
    // Another local web app is "same-site" but not this origin.
    expect(screenRequest(request('Host: 127.0.0.1:8888', 'Origin: http://127.0.0.1:3000'), 8888).allowed).toBe(false);
  });

  it('refuses DNS rebinding: a request addressed to another name', () => {
    expect(screenRequest(request('Host: rebind.evil.example:8888'), 8888)).toMatchObject({ allowed: false });
    expect(screenRequest(request(), 8888)).toMatchObject({ allowed: false });
    expect(screenRequest(request('Host: 127.0.0.1:9999'), 8888)).toMatchObject({ allowed: false });
  });

  it('passes anything that is not HTTP untouched', () => {
    expect(screenRequest('SSH-2.0-OpenSSH_9.2\r\n', 8888)).toEqual({ allowed: true });
    expect(screenRequest('\u0016\u0003\u0001', 8888)).toEqual({ allowed: true });
  });

  // Found by test/property/request-screen.test.ts: each of these used to be let through.
  it('never reads a body as headers: a page cannot override Origin or Sec-Fetch-Site with what it posts', () => {
    const head = request('Host: 127.0.0.1:8888', 'Origin: https://evil.example', 'Sec-Fetch-Site: cross-site', 'Content-Type: text/plain');
    const body = 'x\r\nOrigin: http://127.0.0.1:8888\r\nSec-Fetch-Site: same-origin\r\n\r\n';
    expect(screenRequest(head + body, 8888)).toEqual({ allowed: false, reason: 'it came from the web page "https://evil.example"' });
    const rebound = request('Host: rebind.evil.example:8888') + 'x\r\nHost: 127.0.0.1:8888\r\n\r\n';
    expect(screenRequest(rebound, 8888)).toMatchObject({ allowed: false });
  });

  it('refuses a request whose head was cut off, by a long URL or a pause', () => {
    const longUrl = `POST /myplex/claim?token=claim-x&pad=${'a'.repeat(MAX_HEAD_BYTES)} HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n`;
    expect(screenRequest(longUrl.slice(0, MAX_HEAD_BYTES), 8888)).toEqual({ allowed: false, reason: 'its request was cut off or too long to check' });
    expect(screenRequest('POST /myplex/claim?token=claim-x HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n', 8888)).toMatchObject({ allowed: false });
  });

  it('refuses a head Plex could read differently: a repeated Host or Origin, a malformed line', () => {
    expect(screenRequest(request('Host: 127.0.0.1:8888', 'Host: evil.example'), 8888)).toEqual({ allowed: false, reason: 'it had more than one Host header' });
    expect(screenRequest(request('Host: evil.example', 'host: 127.0.0.1:8888'), 8888)).toMatchObject({ allowed: false });
    expect(screenRequest(request('Host: 127.0.0.1:8888', 'Origin: http://127.0.0.1:8888', 'Origin: https://evil.example'), 8888)).toMatchObject({ allowed: false });
    expect(screenRequest('GET /  HTTP/1.1\r\n\r\n', 8888)).toEqual({ allowed: false, reason: 'its request line was malformed' });
    expect(screenRequest(request('Host: 127.0.0.1:8888', ' folded'), 8888)).toEqual({ allowed: false, reason: 'its headers were malformed' });
    expect(screenRequest('GET / HTTP/1.1\nHost: 127.0.0.1:8888\r\n\r\n', 8888)).toMatchObject({ allowed: false });
  });

  it('shows at most 60 characters of a foreign Host', () => {
    const verdict = screenRequest(request(`Host: ${'x'.repeat(5000)}`), 8888);
    expect(verdict).toEqual({ allowed: false, reason: `it was addressed to "${'x'.repeat(60)}…", not to this tunnel (127.0.0.1:8888)` });
  });
});
