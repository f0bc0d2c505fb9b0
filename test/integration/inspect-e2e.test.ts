import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plexHeaders } from '../../electron/core/plex/headers.js';
import { PlexTvClient } from '../../electron/core/plex/plex-tv.js';
import { inspectEvents, inspectReportText, type InspectReport } from '../../electron/core/server/inspect-report.js';
import { inspectServer } from '../../electron/core/server/inspect.js';
import type { SudoPassword } from '../../electron/core/server/privilege.js';
import { connectRoute, type SshConnection } from '../../electron/core/ssh/connect.js';
import { DNS_FAILURE, TLS_FAILURE, TOKEN_REJECTED } from '../stand-ins/pms-log.mjs';
import { destroyAllNetHosts } from '../support/netns.js';
import { startPlexHost, type PlexHost } from '../support/plex-host.js';
import { stopAllSshds } from '../support/sshd.js';
import { ensureTestUser } from '../support/test-user.js';

// `inspectServer` over a real ssh2 session to the faithful test server (test/support/plex-host.ts):
// a deb install owned by plex, real sudo, the systemctl stand-in, a PMS stand-in that writes real
// log lines, and a plex.tv stand-in that can revoke the server's token. What a person would see:
// the install, its sign-in (never the token itself), the log findings, and the plain-words verdicts.

const HEADERS = plexHeaders('reclaim-inspect-e2e');

afterAll(async () => {
  await stopAllSshds();
  await destroyAllNetHosts();
});

async function connect(host: PlexHost): Promise<SshConnection> {
  return connectRoute(
    [{ label: 'server', host: host.sshd.host, port: host.sshd.port, user: host.user.name, configIdentityFiles: [] }],
    { auth: { identityFile: host.key.privatePath }, prompter: {}, hostKeys: { trustFiles: [host.knownHosts], recordFile: host.knownHosts, acceptNew: false } },
  );
}

/** Inspects over a fresh SSH session, as `reclaim inspect` does. */
async function inspect(host: PlexHost, sudoPassword?: SudoPassword): Promise<InspectReport> {
  const connection = await connect(host);
  const plexTv = new PlexTvClient(host.plexTv.url, HEADERS);
  try {
    return await inspectServer(connection.client, { plexTv, headers: HEADERS, sudoPassword });
  } finally {
    await plexTv.close();
    await connection.close();
  }
}

function expectNoToken(report: InspectReport, token: string): void {
  expect(JSON.stringify(report)).not.toContain(token);
  expect(JSON.stringify(inspectEvents(report))).not.toContain(token);
  expect(inspectReportText(report)).not.toContain(token);
}

describe('a deb install signed in to plex.tv, sudo with a password', () => {
  let host: PlexHost;
  let token: string;
  let machineIdentifier: string;

  beforeAll(async () => {
    await ensureTestUser();
    host = await startPlexHost({ signedInAs: { username: 'alice', email: 'alice@example.com' }, logLines: [...DNS_FAILURE, ...TLS_FAILURE] });
    const settings = await host.preferences();
    token = settings.get('PlexOnlineToken')!;
    machineIdentifier = settings.get('ProcessedMachineIdentifier')!;
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('finds the deb install, reads its Preferences as root through sudo -S, and plex.tv accepts its sign-in', async () => {
    const asked: Array<{ user: string; reason: string }> = [];
    const report = await inspect(host, async (request) => {
      asked.push(request);
      return host.user.password;
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.user).toBe(host.user.name);
    expect(report.installs).toHaveLength(1);
    expect(report.chosen).toBe(0);
    const [entry] = report.installs;
    expect(entry!.install).toMatchObject({
      platform: 'linux',
      dataDir: host.paths.pmsDir,
      preferences: { kind: 'file', path: host.paths.preferences },
      logDir: `${host.paths.pmsDir}/Logs`,
      runsAs: 'plex',
      running: true,
    });
    expect(entry!.preferences).toMatchObject({ machineIdentifier, username: 'alice' });
    expect(entry!.answersTunnel).toBe(true);
    expect(entry!.signIn).toMatchObject({ token: 'set', username: 'alice', accepted: true });
    expect(report.choice).toContain(machineIdentifier);
    expect(report.starting).toBeUndefined();
    expectNoToken(report, token);
  });

  it('names the findings in its log: what each means, the line with its token redacted, how old it is, the fix', async () => {
    const report = await inspect(host, host.user.password);
    const { findings } = report.installs[0]!.log;
    expect(findings.map((finding) => finding.id)).toEqual(['log-dns', 'log-certificate', 'log-device-connections']);
    const certificate = findings.find((finding) => finding.id === 'log-certificate')!;
    expect(certificate).toMatchObject({
      title: 'The server does not trust plex.tv\'s certificate',
      fix: expect.stringContaining('HTTPS inspection'),
      beforeLastStart: false,
    });
    expect(certificate.line).toContain('X-Plex-Token=[redacted]');
    expect(certificate.line).not.toContain('xxxxxxxxxxxxxxxxxxxx');
    // Written by the server moments ago, by its own clock.
    expect(certificate.ageSeconds).not.toBeNull();
    expect(certificate.ageSeconds!).toBeLessThan(15 * 60);
    expect(inspectReportText(report)).toMatch(/\[log \] The server cannot look up plex\.tv \(last (just now|\d+ minutes ago), 2×\)/);
  });

  it('after plex.tv revoked the server\'s token: "no longer accepts this server\'s sign-in", also from the log', async () => {
    host.plexTv.revokeToken(token);
    await host.setLogLines([]); // the DNS and certificate lines stay in the previous file
    await host.runAsRoot('systemctl restart plexmediaserver');
    await host.waitForPms();
    const report = await inspect(host, host.user.password);
    const [entry] = report.installs;
    expect(entry!.signIn).toMatchObject({ token: 'set', username: 'alice', accepted: false });
    expect(entry!.signIn.detail).toContain('plex.tv no longer accepts this server\'s sign-in; this happens after a password reset that signed out all devices');
    expect(entry!.signIn.fix).toContain('reclaim repair');
    const rejected = entry!.log.findings.find((finding) => finding.id === 'log-sign-in-rejected');
    expect(rejected?.line).toContain(TOKEN_REJECTED[1]!.replace(/^\w+ - /, ''));
    // The certificate line, read from Plex Media Server.1.log, was written before this start: told apart as older.
    expect(entry!.log.findings.find((finding) => finding.id === 'log-certificate')?.beforeLastStart).toBe(true);
    const events = inspectEvents(report);
    expect(events[0]).toMatchObject({ event: 'install', signIn: { token: 'set', username: 'alice', accepted: false } });
    expect(events.at(-1)).toMatchObject({ event: 'summary', signInAccepted: false, ok: false });
    expectNoToken(report, token);
  });

  it('PMS still starting (as after waking from sleep): says so and what to do, not a failure', async () => {
    await host.setStartingUp(1_000_000);
    try {
      await host.runAsRoot('systemctl restart plexmediaserver');
      await waitUntil(async () => (await host.pmsRequest('/identity')).status === 503, 'PMS to answer "still starting"');
      const report = await inspect(host, host.user.password);
      expect(report.tunnel).toMatchObject({ problem: { code: 'PMS_STARTING' } });
      expect(report.starting).toMatchObject({
        title: 'Plex Media Server is still starting',
        fix: expect.stringContaining('Wait a few minutes, then reload Plex'),
      });
      expect(report.starting!.detail).toMatch(/It started (just now|\d+ minutes ago)/);
      expect(report.chosen).toBe(0);
      expect(inspectReportText(report)).toMatch(/^Plex Media Server is still starting: /);
      expect(inspectEvents(report).at(-1)).toMatchObject({ event: 'summary', starting: true });
    } finally {
      await host.setStartingUp(0);
      await host.runAsRoot('systemctl restart plexmediaserver');
      await host.waitForPms();
    }
  });

  it('PMS stopped: the install is still found and read, shown as not running', async () => {
    await host.stopPms();
    try {
      const report = await inspect(host, host.user.password);
      expect(report.installs[0]!.install).toMatchObject({ platform: 'linux', running: false, dataDir: host.paths.pmsDir, dataDirSource: 'systemctl show plexmediaserver' });
      expect(report.installs[0]!.preferences).toMatchObject({ machineIdentifier });
      expect(report.tunnel).toMatchObject({ problem: { code: expect.stringMatching(/^(REMOTE_NOT_LISTENING|PMS_UNREACHABLE)$/) } });
      expect(report.starting).toBeUndefined();
      expect(report.chosen).toBe(0);
      expect(inspectReportText(report)).toContain('Runs as: plex; not running');
    } finally {
      await host.startPms();
    }
  });

  it('a wrong sudo password: asked once, SUDO_REFUSED named, and the password shown nowhere', async () => {
    await host.runAsRoot(`chmod 600 '${host.paths.preferences}'`);
    let asked = 0;
    const report = await inspect(host, async () => {
      asked++;
      return 'not-the-password';
    });
    expect(asked).toBe(1);
    const [entry] = report.installs;
    expect(entry!.preferencesProblem).toMatchObject({ code: 'SUDO_REFUSED', message: expect.stringContaining('did not accept the password') });
    expect(entry!.signIn).toMatchObject({ token: 'missing', accepted: null });
    expect(report.notes.map((note) => note.title)).toContain('Reclaim could not look everywhere');
    expect(JSON.stringify(report)).not.toContain('not-the-password');
    expect(inspectReportText(report)).toContain('did not accept the password');
  });

  it('no sudo password to give while root is needed: SUDO_REQUIRED, with how to give one', async () => {
    const report = await inspect(host);
    expect(report.installs[0]!.preferencesProblem).toMatchObject({ code: 'SUDO_REQUIRED', fix: expect.stringContaining('--sudo-password-env') });
    await host.runAsRoot(`chmod 644 '${host.paths.preferences}'`);
  });
});

describe('a data directory moved by a drop-in, passwordless sudo', () => {
  const moved = '/srv/plex data/Library/Application Support';
  let host: PlexHost;

  beforeAll(async () => {
    await ensureTestUser();
    host = await startPlexHost({ supportDir: moved, sudo: 'nopasswd', preferencesMode: 0o600 });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('finds the moved data folder from the running process, reads it with sudo -n, never asking', async () => {
    const report = await inspect(host, async () => {
      throw new Error('sudo -n works here: no password may be asked for');
    });
    const [entry] = report.installs;
    expect(entry!.install).toMatchObject({ dataDir: `${moved}/Plex Media Server`, dataDirSource: expect.stringContaining('running Plex process\'s environment') });
    expect(entry!.readAsRoot).toBe(true);
    expect(entry!.answersTunnel).toBe(true);
    expect(inspectReportText(report)).toContain(`Preferences: ${moved}/Plex Media Server/Preferences.xml`);
  });

  it('with Plex stopped, from the drop-in systemd applies', async () => {
    await host.stopPms();
    const report = await inspect(host);
    expect(report.installs[0]!.install).toMatchObject({ dataDir: `${moved}/Plex Media Server`, running: false, dataDirSource: 'systemctl show plexmediaserver' });
    expect(report.installs[0]!.preferences?.machineIdentifier).toMatch(/^[0-9a-f]{40}$/);
  });
});

/** Polls `condition` (bounded) for a state the test server reaches by itself. */
async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
