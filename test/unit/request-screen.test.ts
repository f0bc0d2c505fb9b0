import { describe, expect, it } from 'vitest';
import { screenRequest } from '../../electron/core/tunnel/request-screen.js';

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
    expect(verdict).toEqual({ allowed: false, reason: 'it came from the web page https://evil.example' });
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
});
