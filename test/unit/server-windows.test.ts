import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectWindows, MAX_COMMAND_LINE, parseRegQuery, powershellCommand, windowsLogScript, windowsProbeScript, WINDOWS_PROBE } from '../../electron/core/server/windows.js';
import { FIXTURES } from '../support/recorded-server.js';

// Windows is verified only against transcripts: `reg query` output as reg.exe prints it, framed
// the way Reclaim's PowerShell script frames its records. No PowerShell runs here.

const transcript = (name: string) => readFileSync(path.join(FIXTURES, 'windows', name), 'utf8');
const records = (...list: string[][]) => list.map((fields) => `${fields.join('\u0001')}\u0000`).join('');

describe('Windows', () => {
  it('sends every script as powershell -EncodedCommand (UTF-16LE base64), short enough for cmd.exe', () => {
    for (const script of [windowsProbeScript(), windowsLogScript('D:\\Plex Data\\it\'s "here"\\Plex Media Server\\Logs')]) {
      const command = powershellCommand(script);
      const [, encoded] = /^powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(command)!;
      expect(Buffer.from(encoded!, 'base64').toString('utf16le')).toBe(script);
      expect(command.length).toBeLessThanOrEqual(MAX_COMMAND_LINE);
    }
    expect(windowsLogScript('C:\\it\'s')).toContain("Join-Path 'C:\\it''s'");
  });

  it('reads the registry as reg query prints it: strings as they are, DWORDs as numbers', () => {
    const values = parseRegQuery(transcript('reg-query-hkcu.txt'));
    expect(Object.fromEntries(values)).toMatchObject({ AcceptedEULA: '1', PlexOnlineHome: '0', PlexOnlineToken: 'WinTokenValue0016', LocalAppDataPath: 'D:\\Plex Data', ProcessedMachineIdentifier: '9d8d5b4c6f708192a3b4c5d6e7f8091a2b3c4d5e' });
    expect(parseRegQuery(transcript('reg-query-missing.txt')).size).toBe(0);
  });

  it('the install of the user running Plex: registry key, data and logs from LocalAppDataPath, how it is stopped', () => {
    const stdout = records(
      ['begin', WINDOWS_PROBE, '1'],
      ['account', 'LIVINGROOM-PC\\alice', 'S-1-5-21-1-2-3-1001', 'C:\\Users\\alice\\AppData\\Local'],
      ['now', 'Jun 17, 2025 11:00:00'],
      ['process', '6120', 'LIVINGROOM-PC\\alice', 'S-1-5-21-1-2-3-1001', 'C:\\Program Files\\Plex\\Plex Media Server\\Plex Media Server.exe'],
      ['reg', 'HKCU', '0', transcript('reg-query-hkcu.txt')],
      ['end'],
    );
    const [found] = detectWindows(stdout);
    expect(found!.install).toMatchObject({
      platform: 'windows',
      preferences: { kind: 'registry', key: 'HKEY_CURRENT_USER\\Software\\Plex, Inc.\\Plex Media Server' },
      dataDir: 'D:\\Plex Data\\Plex Media Server',
      logDir: 'D:\\Plex Data\\Plex Media Server\\Logs',
      runsAs: 'LIVINGROOM-PC\\alice',
      running: true,
      service: { stop: ['taskkill', '/im', 'Plex Media Server.exe'] },
    });
    expect(found!.preferences).toMatchObject({ machineIdentifier: '9d8d5b4c6f708192a3b4c5d6e7f8091a2b3c4d5e', tokenState: 'set' });
  });

  it('Plex run by another user: that user\'s hive (HKU\\<SID>) and profile', () => {
    const sid = 'S-1-5-21-1-2-3-1002';
    const stdout = records(
      ['begin', WINDOWS_PROBE, '1'],
      ['account', 'PC\\admin', 'S-1-5-21-1-2-3-500', 'C:\\Users\\admin\\AppData\\Local'],
      ['process', '77', 'PC\\plexuser', sid, 'C:\\Program Files\\Plex\\Plex Media Server\\Plex Media Server.exe'],
      ['reg', 'HKCU', '1', transcript('reg-query-missing.txt')],
      ['reg', `HKU\\${sid}`, '0', transcript('reg-query-hkcu.txt').replace('HKEY_CURRENT_USER', `HKEY_USERS\\${sid}`).replace(/ {4}LocalAppDataPath.*\r\n/, '')],
      ['profile', sid, 'C:\\Users\\plexuser'],
      ['end'],
    );
    const found = detectWindows(stdout);
    expect(found).toHaveLength(1);
    expect(found[0]!.install).toMatchObject({ runsAs: 'PC\\plexuser', dataDir: 'C:\\Users\\plexuser\\AppData\\Local\\Plex Media Server', preferences: { key: `HKEY_USERS\\${sid}\\Software\\Plex, Inc.\\Plex Media Server` } });
  });

  it('garbage instead of the records: SERVER_COMMAND_FAILED, not a crash', () => {
    expect(() => detectWindows('#< CLIXML\r\n<Objs Version="1.1.0.1">')).toThrow(expect.objectContaining({ code: 'SERVER_COMMAND_FAILED' }));
  });
});
