// Proves the test server with a Plex install (plex-host.ts) behaves like a real Debian server with
// the plexmediaserver deb, as a person logged in over SSH sees it: with OpenSSH's client as the
// test user, sudo with the user's password on stdin, and root only where a person would be root.
// The tests in each describe run in order and share one server.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNS_FAILURE, PUBLISHED, TLS_FAILURE, TOKEN_REJECTED } from '../stand-ins/pms-log.mjs';
import { parsePreferences, serializePreferences } from '../stand-ins/preferences.mjs';
import { destroyAllNetHosts } from './netns.js';
import { startPlexHost, type CommandResult, type PlexHost } from './plex-host.js';
import { stopAllSshds } from './sshd.js';
import { ensureTestUser } from './test-user.js';

const PMS = 'Plex Media Server';
const DEB_DATA = '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server';

afterAll(async () => {
  await stopAllSshds();
  await destroyAllNetHosts();
});

/** The command must succeed; its output otherwise explains why not. */
async function ok(run: Promise<CommandResult>): Promise<string> {
  const result = await run;
  expect(result, `${result.stderr}${result.stdout}`).toMatchObject({ code: 0 });
  return result.stdout;
}

/** `sudo -S` with the password on stdin, as a program driving SSH would run it. */
const sudo = (host: PlexHost, command: string) => host.ssh(`sudo -S -p '' ${command}`, `${host.user.password}\n`);

function edit(xml: string, changes: Record<string, string | undefined>): string {
  const settings = parsePreferences(xml);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) settings.delete(key);
    else settings.set(key, value);
  }
  return serializePreferences(settings);
}

describe('a deb install signed in to plex.tv, sudo with a password', () => {
  let host: PlexHost;
  let serverToken: string;
  let machineIdentifier: string;

  let hostAccounts: string;

  beforeAll(async () => {
    await ensureTestUser(); // the only change to this machine's accounts a test may make
    hostAccounts = readFileSync('/etc/passwd', 'utf8') + readFileSync('/etc/group', 'utf8');
    host = await startPlexHost({ signedInAs: { username: 'alice', email: 'alice@example.com' }, logLines: DNS_FAILURE });
    const settings = await host.preferences();
    serverToken = settings.get('PlexOnlineToken')!;
    machineIdentifier = settings.get('ProcessedMachineIdentifier')!;
  });
  afterAll(async () => {
    const clientDir = host?.clientDir;
    await host?.stop();
    if (clientDir) expect(existsSync(clientDir)).toBe(false);
  });

  it('has the deb layout only inside the server', async () => {
    expect(await ok(host.ssh(`test -d /usr/lib/plexmediaserver && test -f "/usr/lib/plexmediaserver/${PMS}" && test -d "${DEB_DATA}" && id plex`)))
      .toMatch(/^uid=\d+\(plex\) gid=\d+\(plex\) groups=\d+\(plex\)$/m);
    expect(await ok(host.ssh('getent passwd plex'))).toMatch(/^plex:x:\d+:\d+::\/var\/lib\/plexmediaserver:\/usr\/sbin\/nologin$/m);
    expect(readFileSync('/etc/passwd', 'utf8') + readFileSync('/etc/group', 'utf8')).toBe(hostAccounts);
    expect(existsSync('/usr/lib/reclaim-stand-in')).toBe(false);
    expect(await ok(host.ssh('readlink -f /usr/bin/systemctl; head -2 /usr/bin/systemctl'))).toMatch(/\nexec .*systemctl\.mjs/);
    expect(existsSync('/usr/bin/systemctl') && readFileSync('/usr/bin/systemctl').includes('reclaim-stand-in')).toBe(false);
    // The server's processes see only each other.
    expect((await ok(host.ssh('ps -e -o comm='))).split('\n')).not.toContain('vitest');
  });

  it('keeps Preferences.xml owned by plex, with the deb data directory', async () => {
    const prefs = await host.stat(host.paths.preferences);
    expect(prefs).toEqual({ uid: host.plex.uid, gid: host.plex.gid, mode: 0o644 });
    expect((await host.listDir(host.paths.pmsDir))).toEqual(expect.arrayContaining(['Cache', 'Logs', 'Preferences.xml']));
    expect(await host.listDir(`${host.paths.pmsDir}/Cache`)).toEqual(['cert-v2.p12']);
  });

  it('asks the test user for a password in sudo, and refuses a wrong one as sudo does', async () => {
    const noPassword = await host.ssh('sudo -n true');
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toContain('sudo: a password is required');
    expect(await ok(sudo(host, 'id -un'))).toBe('root\n');
    const wrong = await host.ssh('sudo -S true', 'not-the-password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('Sorry, try again.');
    expect(wrong.stderr).toMatch(/incorrect password attempt/);
  });

  it('shows Plex Media Server in the process table, running as plex', async () => {
    const pid = (await ok(host.ssh(`pidof '${PMS}'`))).trim();
    expect(pid).toMatch(/^\d+$/);
    expect(await ok(host.ssh(`pgrep -f '${PMS}' | grep -x ${pid}`))).toBe(`${pid}\n`);
    expect((await ok(host.ssh(`ps -o user=,comm=,args= -p ${pid}`))).trim()).toBe(`plex     Plex Media Serv /usr/lib/plexmediaserver/${PMS}`);
    expect((await ok(host.ssh(`systemctl show plexmediaserver -p MainPID --value`))).trim()).toBe(pid);
    // Its environment is readable by root only, and holds the unit's data directory.
    expect((await host.ssh(`cat /proc/${pid}/environ`)).code).not.toBe(0);
    expect(await ok(sudo(host, `cat /proc/${pid}/environ`))).toContain(`\0PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=/var/lib/plexmediaserver/Library/Application Support\0`);
  });

  it('answers like systemctl: read-only commands for anyone, changes for root only', async () => {
    expect(await host.ssh('systemctl is-active plexmediaserver')).toMatchObject({ code: 0, stdout: 'active\n' });
    expect(await ok(host.ssh('systemctl show plexmediaserver -p User,Group,FragmentPath,Environment')))
      .toBe('Environment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=/var/lib/plexmediaserver/Library/Application Support" '
        + 'PLEX_MEDIA_SERVER_HOME=/usr/lib/plexmediaserver PLEX_MEDIA_SERVER_MAX_PLUGIN_PROCS=6 PLEX_MEDIA_SERVER_TMPDIR=/tmp\n'
        + 'User=plex\nGroup=plex\nFragmentPath=/lib/systemd/system/plexmediaserver.service\n');
    expect(await ok(host.ssh('systemctl cat plexmediaserver'))).toMatch(/^# \/lib\/systemd\/system\/plexmediaserver.service\n[\s\S]*\nUser=plex\n/);
    expect(await ok(host.ssh('systemctl status plexmediaserver'))).toMatch(/Active: active \(running\)[\s\S]*Main PID: \d+ \(Plex Media Serv\)/);
    for (const verb of ['stop', 'start', 'restart']) {
      const refused = await host.ssh(`systemctl ${verb} plexmediaserver`);
      expect(refused).toEqual({
        code: 1,
        stdout: '',
        stderr: `Failed to ${verb} plexmediaserver.service: Interactive authentication required.\n`
          + 'See system logs and \'systemctl status plexmediaserver.service\' for details.\n',
      });
    }
    expect((await host.service()).activeState).toBe('active');
  });

  it('logs its banner and the chosen lines in PMS\'s format, and no refusal for a valid sign-in', async () => {
    const log = await host.readLog();
    const lines = log.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^\w{3} \d{2}, \d{4} \d{2}:\d{2}:\d{2}\.\d{3} \[\d+\] (DEBUG|INFO|WARN|ERROR) - /);
    expect(lines[0]).toMatch(/INFO - Plex Media Server v1\.41\.3\.9314-a0bfb8370 - /);
    expect(lines.map((l) => l.replace(/^.*?\] /, ''))).toEqual(expect.arrayContaining([...DNS_FAILURE]));
    expect(log).not.toContain('401');
    expect(await host.stat(host.paths.log)).toMatchObject({ uid: host.plex.uid });
  });

  it('loses an edit made to Preferences.xml while it runs: PMS rewrites them at stop', async () => {
    const before = (await host.readPreferences())!;
    await host.writePreferences(edit(before, { PlexOnlineToken: undefined, FriendlyName: 'edited-while-running' }));
    await ok(sudo(host, 'systemctl stop plexmediaserver'));
    expect((await host.ssh(`pidof '${PMS}'`)).code).toBe(1);
    expect(await host.ssh('systemctl is-active plexmediaserver')).toMatchObject({ code: 3, stdout: 'inactive\n' });
    const after = await host.preferences();
    expect(after.get('PlexOnlineToken')).toBe(serverToken);
    expect(after.get('FriendlyName')).toBe('plex-server');
    expect(await host.stat(host.paths.preferences)).toEqual({ uid: host.plex.uid, gid: host.plex.gid, mode: 0o644 });
  });

  it('keeps an edit made while it is stopped, reads it at the next start, and rotates its log', async () => {
    await host.appendLog(TLS_FAILURE);
    const oldLog = await host.readLog();
    expect(oldLog).toContain(`] ${TLS_FAILURE[0]}\n`);
    await host.setLogLines(PUBLISHED);
    const moved = 'f'.repeat(40);
    await host.writePreferences(edit((await host.readPreferences())!, { ProcessedMachineIdentifier: moved }));
    await ok(sudo(host, 'systemctl start plexmediaserver'));
    await host.waitForPms();
    expect((await host.pmsRequest('/identity')).body).toContain(`machineIdentifier="${moved}"`);
    expect((await host.preferences()).get('ProcessedMachineIdentifier')).toBe(moved);
    expect(await host.readFile(`${host.paths.pmsDir}/Logs/Plex Media Server.1.log`)).toBe(oldLog);
    const newLog = await host.readLog();
    expect(newLog).toContain(`] ${PUBLISHED[0]}\n`);
    expect(newLog).not.toContain(DNS_FAILURE[0]);
    await host.writePreferences(edit((await host.readPreferences())!, { ProcessedMachineIdentifier: machineIdentifier }));
  });

  it('logs plex.tv\'s refusal after the server token is revoked, and still says it is claimed', async () => {
    host.plexTv.revokeToken(serverToken);
    await ok(sudo(host, 'systemctl restart plexmediaserver'));
    await host.waitForPms();
    const log = await host.readLog();
    for (const line of TOKEN_REJECTED) expect(log).toContain(line);
    expect((await host.pmsRequest('/identity')).body).toContain('claimed="1"');
    const root = await host.pmsRequest('/', { headers: { 'X-Plex-Token': serverToken, Accept: 'application/json' } });
    expect(JSON.parse(root.body).MediaContainer).toMatchObject({ myPlex: true, myPlexSigninState: 'invalid' });
  });
});

describe('a data directory moved by a drop-in, passwordless sudo, first start', () => {
  const moved = '/srv/plex data/Library/Application Support';
  let host: PlexHost;

  beforeAll(async () => {
    host = await startPlexHost({ supportDir: moved, sudo: 'nopasswd', preferences: null });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('starts PMS on the moved directory named by the drop-in', async () => {
    expect(await ok(host.ssh('systemctl cat plexmediaserver.service')))
      .toContain(`\n# /etc/systemd/system/plexmediaserver.service.d/override.conf\n[Service]\nEnvironment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${moved}"\n`);
    expect(await ok(host.ssh('systemctl show plexmediaserver -p Environment --value'))).toMatch(new RegExp(`^"PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${moved}" `));
    const pid = (await ok(host.ssh(`pidof '${PMS}'`))).trim();
    expect(await ok(host.ssh(`sudo -n cat /proc/${pid}/environ`))).toContain(`\0PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${moved}\0`);
  });

  it('gives itself a new identity at its first start, in a Preferences.xml owned by plex', async () => {
    const settings = await host.preferences();
    expect(settings.get('ProcessedMachineIdentifier')).toMatch(/^[0-9a-f]{40}$/);
    expect((await host.pmsRequest('/identity')).body).toContain(`machineIdentifier="${settings.get('ProcessedMachineIdentifier')}" `);
    expect(await host.stat(`${moved}/Plex Media Server/Preferences.xml`)).toMatchObject({ uid: host.plex.uid, gid: host.plex.gid });
    expect(await host.readFile(`${DEB_DATA}/Preferences.xml`)).toBeUndefined();
    expect(await host.listDir(`${moved}/Plex Media Server/Cache`)).toEqual([]);
  });

  it('lets the test user use sudo without a password', async () => {
    expect(await ok(host.ssh('sudo -n id -un'))).toBe('root\n');
  });

  it('saves the sign-in in Preferences.xml when claimed, redeemed with its machine identifier', async () => {
    host.plexTv.addUser({ username: 'bob', email: 'bob@example.com' });
    const bob = host.plexTv.issueToken('bob');
    const claimToken = (await (await fetch(`${host.plexTv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': bob } })).json() as { token: string }).token;
    expect((await host.pmsRequest(`/myplex/claim?token=${claimToken}`, { method: 'POST' })).status).toBe(200);
    const settings = await host.preferences();
    expect(settings.get('PlexOnlineUsername')).toBe('bob');
    expect(settings.get('PlexOnlineMail')).toBe('bob@example.com');
    const exchange = host.plexTv.requests.find((r) => r.path.startsWith('/api/claim/exchange'))!;
    expect(exchange.headers['x-plex-client-identifier']).toBe(settings.get('ProcessedMachineIdentifier'));
    // The server token it got is a live one.
    const features = await fetch(`${host.plexTv.url}/api/v2/server/users/features`, {
      headers: { 'X-Plex-Token': settings.get('PlexOnlineToken')!, 'X-Plex-Client-Identifier': settings.get('ProcessedMachineIdentifier')! },
    });
    expect(features.status).toBe(200);
  });

  it('keeps its disk across a reboot (sshd restart), with PMS stopped', async () => {
    const before = await host.readPreferences();
    await host.sshd.restart();
    expect(await host.readPreferences()).toBe(before);
    expect(await host.ssh('systemctl is-active plexmediaserver')).toMatchObject({ code: 3 });
    expect((await host.ssh(`pidof '${PMS}'`)).code).toBe(1);
    await host.startPms();
    expect((await host.pmsRequest('/identity')).body).toContain('claimed="1"');
  });
});

describe('no sudo, and a Preferences.xml PMS cannot read', () => {
  let host: PlexHost;

  beforeAll(async () => {
    host = await startPlexHost({ sudo: 'none', pmsRunning: false });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('refuses sudo to the test user', async () => {
    const refused = await host.ssh('sudo -S true', `${host.user.password}\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${host.user.name} is not in the sudoers file.`);
  });

  it('fails to start when root took Preferences.xml away from plex, and says so', async () => {
    await ok(host.runAsRoot(`chown root:root '${host.paths.preferences}' && chmod 600 '${host.paths.preferences}'`));
    // Type=simple: systemctl start succeeds once the process runs; the failure shows afterwards.
    expect((await host.runAsRoot('systemctl start plexmediaserver')).code).toBe(0);
    await expect(host.waitForPms()).rejects.toThrow(/did not start \(failed\)/);
    expect(await host.ssh('systemctl is-active plexmediaserver')).toMatchObject({ code: 3, stdout: 'failed\n' });
    expect(await host.readLog()).toMatch(/ERROR - Unable to read preferences from .*Preferences\.xml: EACCES/);
  });

  it('fails the start job when a drop-in names a data directory plex cannot create', async () => {
    const dropIns = '/etc/systemd/system/plexmediaserver.service.d';
    await ok(host.runAsRoot(`mkdir -p ${dropIns} && cat > ${dropIns}/override.conf`,
      '[Service]\nEnvironment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=/srv/not yet/Application Support"\n'));
    expect(await host.runAsRoot('systemctl start plexmediaserver')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Job for plexmediaserver.service failed because the control process exited with error code.\n'
        + 'See "systemctl status plexmediaserver.service" and "journalctl -xeu plexmediaserver.service" for details.\n',
    });
    expect(await host.ssh('systemctl is-active plexmediaserver')).toMatchObject({ code: 3, stdout: 'failed\n' });
    expect(await host.journal()).toMatch(/mkdir: cannot create directory '\/srv\/not yet': Permission denied/);
  });

  it('has a plex.tv that answers 401 to a revoked token, and to every token after "sign out everywhere"', async () => {
    host.plexTv.addUser({ username: 'carol', email: 'carol@example.com' });
    const user = (token: string) => fetch(`${host.plexTv.url}/api/v2/user`, {
      headers: { 'X-Plex-Token': token, 'X-Plex-Client-Identifier': 'reclaim-test', Accept: 'application/json' },
    }).then((r) => r.status);
    const server = host.plexTv.issueToken('carol');
    const other = host.plexTv.issueToken('carol');
    expect(await user(server)).toBe(200);
    host.plexTv.revokeToken(server);
    expect(await user(server)).toBe(401);
    expect(await user(other)).toBe(200);
    const { token } = host.plexTv.signOutEverywhere('carol');
    expect(await user(other)).toBe(401);
    expect(await user(token)).toBe(200);
  });
});

describe('the faults a repair meets: a Plex that will not stop, will not start, or is slow to start', () => {
  let host: PlexHost;

  beforeAll(async () => {
    host = await startPlexHost({ sudo: 'nopasswd', dropIns: { 'stop.conf': '[Service]\nTimeoutStopSec=1\nSendSIGKILL=no\n' } });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('holds a start until released, answering only then', async () => {
    await host.stopPms();
    const release = await host.holdStarts();
    expect((await host.runAsRoot('systemctl start plexmediaserver')).code).toBe(0);
    expect((await host.pmsRequest('/identity')).status).toBe(0);
    await release();
    await host.waitForPms();
  });

  it('refuses to start while told to, and says so in its log', async () => {
    await host.setPmsFaults({ refuseStart: true });
    await host.stopPms();
    await host.runAsRoot('systemctl start plexmediaserver');
    await expect(host.waitForPms()).rejects.toThrow(/did not start \(failed\)/);
    expect(await host.readLog()).toMatch(/ERROR - Plex Media Server could not start/);
    await host.setPmsFaults({ refuseStart: false });
    await host.startPms();
  });

  it('ignores SIGTERM while told to; with SendSIGKILL=no systemd gives up and leaves it running', async () => {
    await host.setPmsFaults({ ignoreSigterm: true });
    await host.stopPms();
    await host.startPms();
    const pid = (await ok(host.runAsRoot('pidof "Plex Media Server"'))).trim();
    expect((await host.runAsRoot('systemctl stop plexmediaserver')).code).toBe(0);
    expect(await host.ssh('systemctl is-active plexmediaserver')).toMatchObject({ stdout: 'failed\n' });
    expect((await ok(host.runAsRoot('pidof "Plex Media Server"'))).trim()).toBe(pid);
    expect((await host.pmsRequest('/identity')).status).toBe(200);
    expect(await host.readLog()).toContain('Ignoring a request to stop');
  });
});
