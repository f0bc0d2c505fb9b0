import { readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectWith } from '../../electron/core/server/inspect.js';
import type { PlexInstall } from '../../electron/core/server/install.js';
import { Privilege } from '../../electron/core/server/privilege.js';
import { parseJournal, type Journal } from '../../electron/core/server/repair/journal.js';
import { fingerprintLike, RemoteFiles, type RepairFiles } from '../../electron/core/server/repair/remote-file.js';
import { ServiceControl } from '../../electron/core/server/repair/service-control.js';
import { recordedServer, type RecordedServer, type ShellFlavour } from '../support/recorded-server.js';

// The repair's scripts run by dash with GNU tools and by BusyBox alone, over recorded trees of a
// platform's files (test/fixtures/servers/): the lock, the backup, the checked write and rename,
// the roll-back copy, and finding Plex's processes. The real test server (plex-host.ts) runs them
// over SSH with sudo; here they meet the shells and tools of other servers.

const DEB = '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server';
const PREFS = `${DEB}/Preferences.xml`;

let servers: RecordedServer[] = [];
afterEach(() => {
  servers.forEach((server) => server.close());
  servers = [];
});

function server(platform: string, flavour: ShellFlavour, options: Parameters<typeof recordedServer>[1] = {}): RecordedServer {
  const recorded = recordedServer(platform, { flavour, ...options });
  servers.push(recorded);
  return recorded;
}

function filesOn(recorded: RecordedServer, run: string, preferences = PREFS, dataDir = DEB): RemoteFiles {
  const files: RepairFiles = { preferences, dataDir, access: { via: 'host' }, root: recorded.root };
  return new RemoteFiles(files, new Privilege(recorded.shell), run, 'test the repair');
}

const journal = (run: string): Journal => ({ run, action: 'repair', mode: 'signout', state: 'stopped', began: '2025-06-17T11:00:00.000Z', wasRunning: true });

describe.each<ShellFlavour>(['dash', 'busybox'])('the repair\'s file scripts (%s)', (flavour) => {
  it('lock, backup, checked write, restore: every copy whole, owner and mode kept', async () => {
    const recorded = server('debian', flavour);
    const local = path.join(recorded.root, PREFS);
    chmodSync(local, 0o640);
    const original = readFileSync(local, 'utf8');
    const files = filesOn(recorded, 'run-one');
    const opened = await files.open();
    expect(opened).toMatchObject({ tookOverLock: false, journal: undefined, backups: [], file: { mode: '640', fingerprint: fingerprintLike(`sha256sum:x:0`, original) } });
    expect(opened.freeKib).toBeGreaterThan(0);

    const snapshot = await files.snapshot({ backup: `${PREFS}.reclaim-backup-20250617T110000Z`, journal: journal('run-one') });
    expect(snapshot.content).toBe(original);
    expect(snapshot.backup).toBe(`${PREFS}.reclaim-backup-20250617T110000Z`);
    expect(readFileSync(path.join(recorded.root, snapshot.backup!), 'utf8')).toBe(original);
    expect(statSync(path.join(recorded.root, snapshot.backup!)).mode & 0o777).toBe(0o640);
    expect(parseJournal(readFileSync(`${local}.reclaim-journal`, 'utf8'))).toMatchObject({ state: 'backed-up', backup: snapshot.backup, original: snapshot.fingerprint });
    // A second backup in the same second gets a name of its own.
    expect((await files.snapshot({ backup: `${PREFS}.reclaim-backup-20250617T110000Z` })).backup).toBe(`${PREFS}.reclaim-backup-20250617T110000Z-1`);

    const edited = original.replace(/ PlexOnlineToken="[^"]*"/, '');
    const written = await files.write(edited, snapshot, { ...journal('run-one'), backup: snapshot.backup, original: snapshot.fingerprint });
    expect(readFileSync(local, 'utf8')).toBe(edited);
    expect(written).toBe(fingerprintLike(snapshot.fingerprint, edited));
    expect(statSync(local).mode & 0o777).toBe(0o640);
    expect(readdirSync(path.dirname(local)).filter((name) => name.endsWith('.reclaim-new'))).toEqual([]);
    expect(parseJournal(readFileSync(`${local}.reclaim-journal`, 'utf8'))).toMatchObject({ state: 'written', written });

    // A write that finds the file changed since it was read refuses.
    await expect(files.write('<Preferences/>', snapshot, journal('run-one'))).rejects.toMatchObject({ code: 'REPAIR_WRITE_FAILED', details: { step: 'write', reason: 'changed' } });
    expect(readFileSync(local, 'utf8')).toBe(edited);

    await files.restore(snapshot.backup!, journal('run-one'));
    expect(readFileSync(local, 'utf8')).toBe(original);
    expect(statSync(local).mode & 0o777).toBe(0o640);
    expect((await files.open()).backups).toEqual([`${PREFS}.reclaim-backup-20250617T110000Z`, `${PREFS}.reclaim-backup-20250617T110000Z-1`]);

    await files.close();
    expect(readdirSync(path.dirname(local)).filter((name) => /reclaim-(journal|lock|new)/.test(name))).toEqual([]);
  });

  it('a second run is refused while the lock is held; a lock left by a dead session is taken over', async () => {
    const recorded = server('debian', flavour);
    await filesOn(recorded, 'run-one').open();
    await expect(filesOn(recorded, 'run-two').open()).rejects.toMatchObject({ code: 'REPAIR_IN_PROGRESS', message: expect.stringMatching(/under way \(it began Jun 17, 2025 11:00:00\)/) });
    // The session that held it is gone (no such process).
    writeFileSync(path.join(recorded.root, `${PREFS}.reclaim-lock/owner`), 'run=run-one\nsession=4194000 12345\nsince=1\nbegan=long ago\n');
    expect(await filesOn(recorded, 'run-two').open()).toMatchObject({ tookOverLock: true });
    await expect(filesOn(recorded, 'run-three').open()).rejects.toMatchObject({ code: 'REPAIR_IN_PROGRESS' });
  });

  it('sets the cached certificate aside, and never touches a Preferences that is a link or missing', async () => {
    const recorded = server('debian', flavour, { files: { [`${DEB}/Cache/cert-v2.p12`]: 'certificate' } });
    const files = filesOn(recorded, 'run-one');
    await files.open();
    expect(await files.setAsideCertificates('20250617T110000Z')).toEqual([`${DEB}/Cache/cert-v2.p12`]);
    expect(readdirSync(path.join(recorded.root, DEB, 'Cache'))).toEqual(['cert-v2.p12.reclaim-backup-20250617T110000Z']);

    const missing = server('debian', flavour, { files: { [PREFS]: null } });
    expect((await filesOn(missing, 'run-one').open()).file).toEqual({ problem: 'missing', target: undefined });
  });

  it('finds Plex Media Server among the processes of a deb install, not a snap\'s', async () => {
    const install = (await inspectWith(server('debian', flavour).shell, { plexTv: { checkToken: async () => ({ check: 'valid' }) }, identity: noTunnel, root: servers.at(-1)!.root })).installs[0]!.install;
    const recorded = servers.at(-1)!;
    // Plex itself and its helper, whose names Linux cuts to 15 characters.
    expect(await new ServiceControl(install, new Privilege(recorded.shell), 'test', recorded.root).processes()).toEqual([{ pid: 812, name: 'Plex Media Serv' }, { pid: 830, name: 'Plex Tuner Serv' }]);
    const snapOnly = server('snap', flavour);
    const deb: PlexInstall = { ...install, platform: 'linux' };
    expect(await new ServiceControl(deb, new Privilege(snapOnly.shell), 'test', snapOnly.root).processes()).toEqual([]);
    expect(await new ServiceControl({ ...install, platform: 'snap' }, new Privilege(snapOnly.shell), 'test', snapOnly.root).processes()).toEqual([{ pid: 2211, name: 'Plex Media Serv' }]);
  });

  it('runs the platform\'s stop command and says what it printed', async () => {
    const recorded = server('debian', flavour, { recording: { commands: { systemctl: [{ args: 'stop plexmediaserver', stdout: 'Failed to stop plexmediaserver.service: Unit plexmediaserver.service not loaded.\n', exit: 5 }] } } });
    const install = (await inspectWith(recorded.shell, { plexTv: { checkToken: async () => ({ check: 'valid' }) }, identity: noTunnel, root: recorded.root })).installs[0]!.install;
    expect(await new ServiceControl(install, new Privilege(recorded.shell), 'test', recorded.root).stop()).toEqual({ exit: 5, output: 'Failed to stop plexmediaserver.service: Unit plexmediaserver.service not loaded.' });
  });
});

describe('files inside a container (no /config volume), reached with docker exec', () => {
  // docker exec, played by running the command here: the "container" sees the same tree.
  const DOCKER = 'case "$1" in exec) shift ;; *) exit 1 ;; esac\nif [ "$1" = -i ]; then shift; fi\necho "$1" >> "$0.ids"; shift\nexec "$@"';

  it.each<ShellFlavour>(['dash', 'busybox'])('backs up, writes and restores through docker exec, stdin included (%s)', async (flavour) => {
    const recorded = server('debian', flavour, { scripts: { docker: DOCKER } });
    const files = new RemoteFiles({ preferences: PREFS, dataDir: DEB, access: { via: 'container', runtime: 'docker', id: 'c0ffee' }, root: recorded.root }, new Privilege(recorded.shell), 'run-one', 'test');
    const original = readFileSync(path.join(recorded.root, PREFS), 'utf8');
    await files.open();
    const snapshot = await files.snapshot({ backup: `${PREFS}.reclaim-backup-20250617T110000Z`, journal: journal('run-one') });
    await files.write(`${original}<!-- edited -->\n`, snapshot, journal('run-one'));
    expect(readFileSync(path.join(recorded.root, PREFS), 'utf8')).toBe(`${original}<!-- edited -->\n`);
    await files.restore(snapshot.backup!, journal('run-one'));
    expect(readFileSync(path.join(recorded.root, PREFS), 'utf8')).toBe(original);
    await files.close();
    // Every file operation went through the container.
    expect(new Set(readFileSync(path.join(path.dirname(recorded.root), 'bin', 'docker.ids'), 'utf8').trim().split('\n'))).toEqual(new Set(['c0ffee']));
  });
});

describe('a server whose only checksum tool is cksum', () => {
  it('checks copies with cksum', async () => {
    const recorded = server('debian', 'dash', { withoutTools: ['sha256sum', 'md5sum'], extraTools: ['cksum'] });
    const files = filesOn(recorded, 'run-one');
    const opened = await files.open();
    expect(opened.file).toMatchObject({ fingerprint: expect.stringMatching(/^cksum:\d+:\d+$/) });
    const snapshot = await files.snapshot({ backup: `${PREFS}.reclaim-backup-20250617T110000Z` });
    await files.write(`${snapshot.content}\n`, snapshot, journal('run-one'));
    expect(readFileSync(path.join(recorded.root, PREFS), 'utf8')).toBe(`${snapshot.content}\n`);
  });
});

async function noTunnel(): Promise<never> {
  throw new Error('no tunnel in this test');
}
