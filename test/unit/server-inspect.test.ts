import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ReclaimError } from '../../electron/core/common/errors.js';
import { inspectWith, type InspectOptions } from '../../electron/core/server/inspect.js';
import { inspectEvents, inspectReportText, type InspectReport } from '../../electron/core/server/inspect-report.js';
import type { ServerShell } from '../../electron/core/server/server-shell.js';
import { recordedServer, type RecordedServer } from '../support/recorded-server.js';

// What a person sees from `inspect`, and what a bad server cannot do to it.

let servers: RecordedServer[] = [];
afterEach(() => {
  servers.forEach((server) => server.close());
  servers = [];
});

const DEB = '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server';
const TOKEN = 'Zx9sAbCdEfGhIjKlMnOp';
const identity = async () => ({ claimed: true, machineIdentifier: '0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f', version: '1.41.6.9685' });

function debian(files: Record<string, string | null> = {}, options: Partial<InspectOptions> = {}): Promise<InspectReport> {
  const server = recordedServer('debian', { files });
  servers.push(server);
  return inspectWith(server.shell, { plexTv: { checkToken: async () => ({ check: 'invalid' }) }, identity, root: server.root, ...options });
}

describe('inspect', () => {
  it('a server whose sign-in plex.tv revoked: says so in plain words, with the log lines and their age, and never the token', async () => {
    const checked: string[] = [];
    const report = await debian({}, { plexTv: { checkToken: async (token: string) => (checked.push(token), { check: 'invalid' }) } });
    expect(checked).toEqual([TOKEN]);
    expect(report.chosen).toBe(0);
    expect(report.choice).toBe('This is the Plex answering through the tunnel (machine 0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f).');
    const [install, summary] = inspectEvents(report);
    expect(install).toMatchObject({
      event: 'install', platform: 'linux', preferences: `${DEB}/Preferences.xml`, logs: `${DEB}/Logs`, user: 'plex', running: true,
      machineIdentifier: '0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f', signIn: { token: 'set', username: 'alice', accepted: false },
    });
    expect(report.installs[0]!.signIn.detail).toContain('plex.tv no longer accepts this server\'s sign-in; this happens after a password reset that signed out all devices');
    expect((install!.findings as Array<{ id: string; age: string }>).map((finding) => [finding.id, finding.age])).toEqual([
      ['log-sign-in-rejected', '20 minutes ago'], ['log-dns', '2 hours ago'], ['log-certificate', '19 minutes ago'], ['log-device-connections', '19 minutes ago'],
    ]);
    expect(summary).toMatchObject({ event: 'summary', installs: 1, signInAccepted: false, ok: false, starting: false });
    for (const shown of [JSON.stringify(inspectEvents(report)), JSON.stringify(report), inspect(report, { depth: 10 }), inspectReportText(report)]) {
      expect(shown).not.toContain(TOKEN);
    }
  });

  it('plex.tv not answering is "could not check", never a verdict', async () => {
    const report = await debian({}, { plexTv: { checkToken: async () => ({ check: 'unknown' }) } });
    expect(report.installs[0]!.signIn).toMatchObject({ accepted: null, detail: expect.stringContaining('not a verdict') });
  });

  it('still starting (as after waking from sleep): says wait, not repair', async () => {
    const log = 'Jun 17, 2025 10:57:30.000 [1] INFO - Plex Media Server v1.41.6.9685-d301f511a - Debian - build: linux-x86_64 debian - GMT 00:00\n';
    const starting = new ReclaimError('PMS_STARTING', 'Plex Media Server is still starting up.', 'Wait.', { path: '/identity' });
    const report = await debian({ [`${DEB}/Logs/Plex Media Server.log`]: log }, { identity: async () => { throw starting; } });
    expect(report.starting).toMatchObject({ title: 'Plex Media Server is still starting', detail: expect.stringContaining('It started 3 minutes ago'), fix: expect.stringContaining('Nothing needs repairing') });
    expect(inspectEvents(report).at(-1)).toMatchObject({ starting: true });
  });

  it('odd paths (spaces, quotes, a newline) reach the server single-quoted and come back whole', async () => {
    const odd = '/srv/it\'s "plex"\nlibrary $(touch /tmp/pwned)';
    const environ = `PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${odd.replace('\n', ' ')}\0`;
    const dir = `${odd.replace('\n', ' ')}/Plex Media Server`;
    const report = await debian({
      '/proc/812/environ': environ,
      [`${dir}/Preferences.xml`]: '<Preferences ProcessedMachineIdentifier="0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f" PlexOnlineToken="t0k3n-odd"/>',
    });
    expect(report.installs[0]!.install.dataDir).toBe(dir);
    expect(report.installs[0]!.preferences).toMatchObject({ tokenState: 'set' });
  });

  it('missing or malformed Preferences: a clear problem for that install, the rest still reported', async () => {
    const missing = await debian({ [`${DEB}/Preferences.xml`]: null });
    expect(missing.installs[0]!.preferencesProblem).toMatchObject({ code: 'PLEX_PREFERENCES_UNREADABLE', message: `Plex's Preferences at ${DEB}/Preferences.xml do not exist.` });
    expect(missing.installs[0]!.log.findings.length).toBeGreaterThan(0);
    const broken = await debian({ [`${DEB}/Preferences.xml`]: '<Preferences ProcessedMachineIdentifier="0b6a2e1f3' });
    expect(broken.installs[0]!.preferencesProblem?.message).toMatch(/are not the XML Plex writes/);
    expect(broken.installs[0]!.signIn).toMatchObject({ accepted: null });
  });

  it('a huge, binary log is read only at its tail; a huge Preferences file is refused by its size', async () => {
    const noise = Buffer.alloc(2 * 1024 * 1024, 0).fill('\u0001\u00ff\u0000garbage', 0).toString('latin1');
    const tail = 'Jun 17, 2025 10:59:00.000 [1] ERROR - MyPlex: Error 401 requesting JSON from: https://plex.tv/api/v2/server/users/features\n';
    const report = await debian({
      [`${DEB}/Logs/Plex Media Server.log`]: `${noise}\n${tail}`,
      [`${DEB}/Logs/Plex Media Server.1.log`]: null,
    });
    expect(report.installs[0]!.log.findings.map((finding) => finding.id)).toEqual(['log-sign-in-rejected']);
    const huge = await debian({ [`${DEB}/Preferences.xml`]: `<Preferences ProcessedMachineIdentifier="0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f" X="${'a'.repeat(3 * 1024 * 1024)}"/>` });
    expect(huge.installs[0]!.preferencesProblem?.message).toMatch(/far larger than any Preferences file/);
  });

  it('a server that answers with garbage, or never answers: SERVER_COMMAND_FAILED, not a crash or a hang', async () => {
    const garbage: ServerShell = async (command) => ({ exitCode: 0, stdout: command === 'uname -s' ? 'Linux\n' : '\u001b[2J<html>Welcome</html>', stderr: '', truncated: false });
    await expect(inspectWith(garbage, { plexTv: { checkToken: async () => ({ check: 'valid' }) }, identity })).rejects.toMatchObject({ code: 'SERVER_COMMAND_FAILED' });
    const { RemoteTimeoutError } = await import('../../electron/core/ssh/remote-exec.js');
    const silent: ServerShell = async (command, options) => {
      if (command === 'uname -s') return { exitCode: 0, stdout: 'Linux\n', stderr: '', truncated: false };
      throw new RemoteTimeoutError(options?.timeoutMs ?? 0);
    };
    await expect(inspectWith(silent, { plexTv: { checkToken: async () => ({ check: 'valid' }) }, identity })).rejects.toMatchObject({ code: 'SERVER_COMMAND_FAILED', message: expect.stringContaining('did not finish on the server within 90 s') });
  });
});
