import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeAge, readLog } from '../../electron/core/server/log-findings.js';

// The lines plex-repair.md §3.3 quotes from real reports, as Plex writes them (§3.2 format, with
// the thread ids seen in 2018, 2025 and on Windows).

const NOW = 'Jun 17, 2025 11:00:00';
const line = (time: string, thread: string, level: string, body: string) => `Jun 17, 2025 ${time} [${thread}] ${level} - ${body}`;
const BANNER = line('09:12:01.120', '140101640850232', 'INFO', 'Plex Media Server v1.41.6.9685-d301f511a - Ubuntu PC x86_64 - build: linux-x86_64 debian - GMT 00:00');

const REAL_LINES: Array<[string, string]> = [
  ['log-dns', line('09:30:00.411', '23030498642744', 'WARN', '[HttpClient/HCl#5b] HTTP error requesting GET https://plex.tv/api/v2/server/users/features (6, Couldn\'t resolve host name) (Could not resolve host: plex.tv)')],
  ['log-dns', line('09:30:00.412', '23030498642744', 'ERROR', 'MyPlex: Error -6 requesting JSON from: https://plex.tv/api/v2/server/users/features')],
  ['log-dns', line('09:30:00.413', '0x7fa0eebff700', 'DEBUG', 'Error issuing curl_easy_perform(handle): 6')],
  ['log-sign-in-rejected', line('10:40:17.902', '23030498642744', 'DEBUG', '[HttpClient/HCl#5d] HTTP/1.1 (0.0s) 401 response from GET https://plex.tv/api/v2/server/users/features (reused)')],
  ['log-sign-in-rejected', line('10:40:17.903', '23030498642744', 'ERROR', 'MyPlex: Error 401 requesting JSON from: https://plex.tv/api/v2/server/users/features')],
  ['log-sign-in-rejected', line('10:40:18.000', '0x7fa0eebff700', 'DEBUG', 'HTTP 401 response from GET https://plex.tv/media/providers?X-Plex-Token=OldTokenInUrl42')],
  ['log-certificate', line('10:41:02.118', '23030498642744', 'WARN', '[HttpClient/HCl#126] HTTP error requesting PUT https://plex.tv/devices/REDACTED?Connection[][uri]=http://REDACTED:22334&X-Plex-Token=xxxxxxxxxxxxxxxxxxxx (60, SSL peer certificate or SSH remote key was not OK) (SSL certificate problem: self-signed certificate in certificate chain)')],
  ['log-device-connections', line('10:41:02.119', '23030498642744', 'WARN', 'MyPlex: Updating device connections failed, retrying in 640 seconds.')],
  ['log-publish', line('10:45:00.000', '49768', 'DEBUG', 'MyPlex: Published Mapping State response was 422')],
];

describe('reading Plex\'s log', () => {
  it('recognises each real line, keeps the latest of each kind, and says how old it is by the server\'s clock', () => {
    const reading = readLog([BANNER, ...REAL_LINES.map(([, text]) => text)].join('\n'), NOW);
    expect(reading.findings.map((finding) => [finding.id, finding.count])).toEqual([
      ['log-sign-in-rejected', 3], ['log-dns', 3], ['log-certificate', 1], ['log-device-connections', 1], ['log-publish', 1],
    ]);
    const rejected = reading.findings[0]!;
    expect(rejected).toMatchObject({ at: 'Jun 17, 2025 10:40:18', ageSeconds: 1182, beforeLastStart: false, title: 'plex.tv refuses the server\'s sign-in' });
    expect(rejected.line).toBe(line('10:40:18.000', '0x7fa0eebff700', 'DEBUG', 'HTTP 401 response from GET https://plex.tv/media/providers?X-Plex-Token=[redacted]'));
    expect(reading.lastStart).toEqual({ at: 'Jun 17, 2025 09:12:01', ageSeconds: 6479, version: '1.41.6.9685-d301f511a' });
    expect(describeAge(rejected.ageSeconds)).toBe('20 minutes ago');
  });

  it('blanks every token: X-Plex-Token in URLs, claim tokens, and the server\'s own token wherever it appears', () => {
    const text = [
      line('10:00:00.000', '1', 'WARN', 'HTTP error requesting PUT https://plex.tv/devices/abc?X-Plex-Token=LeakedOne&foo=1 (60, SSL peer certificate or SSH remote key was not OK)'),
      line('10:00:01.000', '1', 'ERROR', 'MyPlex: Error 401 requesting JSON from: https://plex.tv/api/v2/user?token=SeCrEt-Server-Token&claim=claim-AbCdEf123456 SeCrEt-Server-Token'),
    ].join('\n');
    const shown = JSON.stringify(readLog(text, NOW, ['SeCrEt-Server-Token']));
    for (const secret of ['LeakedOne', 'SeCrEt-Server-Token', 'claim-AbCdEf123456']) expect(shown).not.toContain(secret);
  });

  it('lines from before Plex\'s latest start are marked as such; harmless libusb noise is ignored', () => {
    const text = [
      line('08:00:00.000', '1', 'ERROR', 'MyPlex: Error -6 requesting JSON from: https://plex.tv/api/v2/server/users/features'),
      BANNER,
      line('09:12:01.500', '1', 'ERROR', 'Critical: libusb_init failed'),
    ].join('\n');
    expect(readLog(text, NOW).findings).toMatchObject([{ id: 'log-dns', beforeLastStart: true }]);
  });

  it('a huge, binary or garbled log is read within its bounds and never throws', () => {
    const huge = `${'x'.repeat(3 * 1024 * 1024)}\n${REAL_LINES[4]![1]}`;
    expect(readLog(huge, NOW).findings.map((finding) => finding.id)).toEqual(['log-sign-in-rejected']);
    expect(readLog(`${'\u0000\u00ff'.repeat(100_000)}${'y'.repeat(20_000)}\n`, NOW).findings).toEqual([]);
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), fc.string({ maxLength: 30 }), (text, now) => {
      const reading = readLog(text, now);
      for (const finding of reading.findings) expect(finding.line.length).toBeLessThanOrEqual(401);
    }), { numRuns: 300 });
  });

  it('a server clock Reclaim cannot read gives no age, not a wrong one', () => {
    expect(readLog(REAL_LINES[4]![1], 'Thu 17 Jun').findings[0]!.ageSeconds).toBeNull();
    expect(describeAge(null)).toBe('at an unknown time');
  });
});
