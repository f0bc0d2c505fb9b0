import { describe, expect, it } from 'vitest';
import { interpretServerReport } from '../../electron/core/diagnose/diagnose.js';

// What the server printed for its clock, name lookup and HTTPS request, turned into checks a
// person can act on. The outputs are what getent, curl and wget really print for each failure.

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const clock = (offsetS = 0) => `clock ${Math.round(NOW / 1000) + offsetS}`;
const byId = (output: string) => Object.fromEntries(interpretServerReport(output, 'plex.tv', NOW).map((c) => [c.id, c]));

describe('the server-side report', () => {
  it('all good: lookup, HTTPS (any HTTP status means reachable) and clock', () => {
    const checks = byId([clock(12), 'dns ok', 'curl 0 401'].join('\n'));
    expect(checks['server-dns']!.ok).toBe(true);
    expect(checks['server-https']!.ok).toBe(true);
    expect(checks['server-clock']).toMatchObject({ ok: true, detail: expect.stringContaining('12 s') });
  });

  it('DNS failure (curl exit 6) blames the lookup, with the fix for resolv.conf', () => {
    const checks = byId([clock(), 'dns fail', "curl 6 curl: (6) Could not resolve host: plex.tv 000"].join('\n'));
    expect(checks['server-dns']).toMatchObject({ ok: false, fix: expect.stringContaining('resolv.conf') });
    expect(checks['server-https']).toMatchObject({ ok: false, fix: expect.stringContaining('DNS') });
  });

  it('TLS interception (curl exit 60) is named as such', () => {
    const checks = byId([clock(), 'dns ok', 'curl 60 curl: (60) SSL certificate problem: self-signed certificate in certificate chain 000'].join('\n'));
    expect(checks['server-https']).toMatchObject({ ok: false, detail: expect.stringContaining('self-signed certificate in certificate chain') });
    expect(checks['server-https']!.detail).toMatch(/intercepting/);
    expect(checks['server-https']!.fix).toMatch(/inspection/);
  });

  it('a firewall that drops HTTPS (curl exit 28) says no answer in time', () => {
    const checks = byId([clock(), 'dns ok', 'curl 28 curl: (28) Connection timed out after 15001 milliseconds 000'].join('\n'));
    expect(checks['server-https']).toMatchObject({ ok: false, detail: expect.stringContaining('no answer in time'), fix: expect.stringContaining('443') });
  });

  it('works with wget where curl is missing (exit 8 = the server answered with an HTTP error)', () => {
    expect(byId([clock(), 'dns unknown', 'wget 8 '].join('\n'))['server-https']!.ok).toBe(true);
    expect(byId([clock(), 'dns unknown', 'wget 5 SSL verification failed'].join('\n'))['server-https']!.detail).toMatch(/certificate/);
    // BusyBox wget (Alpine containers, many NAS) exits 1 on the 401.
    expect(byId([clock(), 'dns unknown', 'wget 1 wget: server returned error: HTTP/1.1 401 Unauthorized'].join('\n'))['server-https']!.ok).toBe(true);
  });

  it('no tools: the checks are not run rather than failed', () => {
    const checks = byId([clock(), 'dns unknown', 'https unknown'].join('\n'));
    expect(checks['server-dns']!.ok).toBeNull();
    expect(checks['server-https']!.ok).toBeNull();
  });

  it('a clock off by more than five minutes fails with how to fix it', () => {
    const checks = byId([clock(-3600), 'dns ok', 'curl 0 200'].join('\n'));
    expect(checks['server-clock']).toMatchObject({ ok: false, detail: expect.stringContaining('60 minutes'), fix: expect.stringContaining('ntp') });
  });
});
