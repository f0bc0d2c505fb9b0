import { afterEach, describe, expect, it } from 'vitest';
import { inspectWith, type InspectOptions } from '../../electron/core/server/inspect.js';
import { inspectEvents, type InspectReport } from '../../electron/core/server/inspect-report.js';
import { preferencesLabel, serviceLabel } from '../../electron/core/server/install.js';
import { recordedServer, type RecordedServer, type Recording, type ShellFlavour } from '../support/recorded-server.js';

// Finding the install on each platform, from recorded trees and transcripts of what those systems
// print (test/fixtures/servers/), with Reclaim's real scripts run by dash and by BusyBox alone.

let servers: RecordedServer[] = [];
afterEach(() => {
  servers.forEach((server) => server.close());
  servers = [];
});

const noTunnel = async () => {
  throw new Error('no tunnel in this test');
};

async function inspectRecorded(
  platform: string,
  flavour: ShellFlavour,
  extra: { files?: Record<string, string | null>; recording?: Recording; options?: Partial<InspectOptions> } = {},
): Promise<InspectReport> {
  const server = recordedServer(platform, { flavour, files: extra.files, recording: extra.recording });
  servers.push(server);
  return inspectWith(server.shell, { plexTv: { checkToken: async () => ({ check: 'valid' }) }, identity: noTunnel, root: server.root, ...extra.options });
}

function summary(report: InspectReport) {
  return report.installs.map(({ install, preferences, signIn }) => ({
    platform: install.platform,
    preferences: preferencesLabel(install.preferences),
    logs: install.logDir,
    user: install.runsAs,
    running: install.running,
    service: serviceLabel(install.service),
    machine: preferences?.machineIdentifier,
    token: signIn.token,
  }));
}

const DEB = '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server';

describe.each<ShellFlavour>(['dash', 'busybox'])('finding Plex (%s)', (flavour) => {
  it('Linux deb/rpm with systemd: the running process\'s environment names the data folder', async () => {
    const report = await inspectRecorded('debian', flavour);
    expect(summary(report)).toEqual([{
      platform: 'linux', preferences: `${DEB}/Preferences.xml`, logs: `${DEB}/Logs`, user: 'plex', running: true,
      service: 'systemd unit plexmediaserver: systemctl stop plexmediaserver / systemctl start plexmediaserver',
      machine: '0b6a2e1f3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f', token: 'set',
    }]);
    expect(report.installs[0]!.install.description).toBe('Linux package (deb/rpm) on Debian GNU/Linux 12 (bookworm)');
    expect(report.installs[0]!.install.dataDirSource).toBe('the running Plex process\'s environment (pid 812)');
  });

  it('a moved data folder: process environment first, then systemctl show, then drop-ins, then the default', async () => {
    const moved = '/srv/plex data/Library/Application Support';
    const environ = `PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${moved}\0PLEX_MEDIA_SERVER_HOME=/usr/lib/plexmediaserver\0`;
    const fromProcess = await inspectRecorded('debian', flavour, { files: { '/proc/812/environ': environ } });
    expect(fromProcess.installs[0]!.install.dataDir).toBe(`${moved}/Plex Media Server`);
    expect(fromProcess.installs[0]!.install.notes.join(' ')).toMatch(/systemd would now start it with ".*\/var\/lib\/plexmediaserver/);

    const systemd = `LoadState=loaded\nActiveState=active\nUser=media\nEnvironment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${moved}" PLEX_MEDIA_SERVER_HOME=/usr/lib/plexmediaserver\n`;
    const fromSystemd = await inspectRecorded('debian', flavour, {
      files: { '/proc/812': null, '/proc/830': null },
      recording: { commands: { systemctl: [{ args: 'show plexmediaserver *', stdout: systemd }, { args: '*', stdout: 'LoadState=not-found\n' }] } },
    });
    expect(fromSystemd.installs[0]!.install).toMatchObject({ dataDir: `${moved}/Plex Media Server`, dataDirSource: 'systemctl show plexmediaserver', runsAs: 'media', running: true });

    // An old systemd escapes the space instead of quoting the assignment.
    const escaped = await inspectRecorded('debian', flavour, {
      files: { '/proc/812': null },
      recording: { commands: { systemctl: [{ args: 'show plexmediaserver *', stdout: 'LoadState=loaded\nActiveState=inactive\nEnvironment=PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=/srv/old\\x20disk/AS\n' }, { args: '*', stdout: '' }] } },
    });
    expect(escaped.installs[0]!.install).toMatchObject({ dataDir: '/srv/old disk/AS/Plex Media Server', running: false });

    const dropIn = '[Service]\n# Environment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=/commented/out"\nEnvironment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=/mnt/ssd/Plex \'quoted\' dir"\nUser=admin\nUMask=0000\n';
    const fromDropIn = await inspectRecorded('debian', flavour, {
      files: { '/proc/812': null, '/etc/systemd/system/plexmediaserver.service.d/override.conf': dropIn },
      recording: { commands: { systemctl: [{ args: '*', stdout: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.\n', exit: 1 }] } },
    });
    expect(fromDropIn.installs[0]!.install).toMatchObject({
      dataDir: '/mnt/ssd/Plex \'quoted\' dir/Plex Media Server',
      dataDirSource: 'drop-in /etc/systemd/system/plexmediaserver.service.d/override.conf',
      runsAs: 'admin',
    });

    const fallback = await inspectRecorded('debian', flavour, {
      files: { '/proc/812': null },
      recording: { commands: { systemctl: [{ args: '*', stdout: '', exit: 1 }] } },
    });
    expect(fallback.installs[0]!.install).toMatchObject({ dataDir: DEB, dataDirSource: 'the package\'s default' });
  });

  it('Arch: /var/lib/plex, from systemd', async () => {
    expect(summary(await inspectRecorded('arch', flavour))).toMatchObject([{ platform: 'arch', preferences: '/var/lib/plex/Plex Media Server/Preferences.xml', running: false }]);
  });

  it('snap: each of the three data paths seen in the wild', async () => {
    const paths = [
      '/var/snap/plexmediaserver/common/Library/Application Support/Plex Media Server',
      '/var/snap/plexmediaserver/Library/Application Support/Plex Media Server',
      '/var/snap/plexmediaserver/common/Library/Application_Support/Plex Media Server',
    ];
    const original = `${paths[0]}/Preferences.xml`;
    for (const dataDir of paths) {
      const files: Record<string, string | null> = dataDir === paths[0] ? {} : { '/var/snap/plexmediaserver/common': null, [`${dataDir}/Preferences.xml`]: '<Preferences ProcessedMachineIdentifier="2d8c4a3b5e6f708192a3b4c5d6e7f8091a2b3c4d"/>' };
      const report = await inspectRecorded('snap', flavour, { files });
      expect(summary(report)).toMatchObject([{ platform: 'snap', preferences: `${dataDir}/Preferences.xml`, user: 'root', running: true, machine: '2d8c4a3b5e6f708192a3b4c5d6e7f8091a2b3c4d' }]);
      expect(original).toContain('common');
    }
  });

  it('a Docker host: Plex Inc, LinuxServer, hotio and binhex containers, each with its own layout and service', async () => {
    const report = await inspectRecorded('docker-host', flavour);
    expect(summary(report)).toEqual([
      {
        platform: 'docker', preferences: '/var/lib/docker/volumes/plex_config/_data/Library/Application Support/Plex Media Server/Preferences.xml',
        logs: '/var/lib/docker/volumes/plex_config/_data/Library/Application Support/Plex Media Server/Logs', user: 'plex', running: true,
        service: 'the container\'s s6 service plex: docker exec plex s6-svc -d /var/run/s6/services/plex / docker exec plex s6-svc -u /var/run/s6/services/plex',
        machine: '3e9d5b4c6f708192a3b4c5d6e7f8091a2b3c4d5e', token: 'set',
      },
      {
        platform: 'docker', preferences: '/srv/lsio/config/Library/Application Support/Plex Media Server/Preferences.xml',
        logs: '/srv/lsio/config/Library/Application Support/Plex Media Server/Logs', user: 'abc', running: true,
        service: 'the container\'s s6 service svc-plex: docker exec plex-lsio s6-svc -d /run/service/svc-plex / docker exec plex-lsio s6-svc -u /run/service/svc-plex',
        machine: '4fae6c5d708192a3b4c5d6e7f8091a2b3c4d5e6f', token: 'set',
      },
      {
        platform: 'docker', preferences: '/srv/hotio/config/Preferences.xml', logs: '/srv/hotio/config/Logs', user: 'hotio', running: false,
        service: 'the container\'s s6 service service-plex: docker exec plex-hotio s6-svc -d /run/service/service-plex / docker exec plex-hotio s6-svc -u /run/service/service-plex',
        machine: '5abf7d6e8192a3b4c5d6e7f8091a2b3c4d5e6f70', token: 'missing',
      },
      {
        platform: 'docker', preferences: '/mnt/user/appdata/binhex-plexpass/Plex Media Server/Preferences.xml',
        logs: '/mnt/user/appdata/binhex-plexpass/Plex Media Server/Logs', user: 'nobody', running: true,
        service: 'the container\'s supervisord program start-script: docker exec binhex-plexpass supervisorctl stop start-script / docker exec binhex-plexpass supervisorctl start start-script',
        machine: '6bc08e7f92a3b4c5d6e7f8091a2b3c4d5e6f7081', token: 'set',
      },
    ]);
    expect(report.chosen).toBeNull();
    expect(report.choice).toMatch(/Found 4 Plex installs, and could not tell which one answers through the tunnel/);
  });

  it('several installs: the one whose ProcessedMachineIdentifier matches /identity is chosen, and it says so', async () => {
    const report = await inspectRecorded('docker-host', flavour, {
      options: { identity: async () => ({ claimed: true, machineIdentifier: '4fae6c5d708192a3b4c5d6e7f8091a2b3c4d5e6f', version: '1.41.6' }) },
    });
    expect(report.chosen).toBe(1);
    expect(report.choice).toBe('Of 4 Plex installs, Docker container "plex-lsio" (lscr.io/linuxserver/plex:latest, LinuxServer\'s image) is the one answering through the tunnel: its ProcessedMachineIdentifier matches what Plex reports (machine 4fae6c5d708192a3b4c5d6e7f8091a2b3c4d5e6f).');
    expect(inspectEvents(report).filter((event) => event.event === 'install' && event.chosen).map((event) => event.machineIdentifier)).toEqual(['4fae6c5d708192a3b4c5d6e7f8091a2b3c4d5e6f']);
  });

  it('TrueNAS SCALE\'s app, with its logs on a volume of their own; unRAID; a rootless Podman volume', async () => {
    expect(summary(await inspectRecorded('truenas-scale', flavour))).toMatchObject([{
      platform: 'docker', preferences: '/mnt/.ix-apps/app_mounts/plex/config/Library/Application Support/Plex Media Server/Preferences.xml',
      logs: '/mnt/.ix-apps/app_mounts/plex/logs', running: true, machine: '7cd19f80a3b4c5d6e7f8091a2b3c4d5e6f708192',
    }]);
    const unraid = await inspectRecorded('unraid', flavour);
    expect(unraid.installs[0]!.install.description).toBe('Docker container "plex" (lscr.io/linuxserver/plex, LinuxServer\'s image) on unRAID 6.12.10');
    expect(summary(unraid)).toMatchObject([{ preferences: '/mnt/user/appdata/plex/Library/Application Support/Plex Media Server/Preferences.xml', user: 'abc' }]);
    expect(summary(await inspectRecorded('podman-host', flavour))).toMatchObject([{
      platform: 'podman', preferences: '/home/alice/.local/share/containers/storage/volumes/plex-config/_data/Preferences.xml', user: 'hotio',
      service: 'the container\'s s6 service service-plex: podman exec plex s6-svc -d /run/service/service-plex / podman exec plex s6-svc -u /run/service/service-plex',
    }]);
  });

  it('Synology DSM 7 and DSM 6, QNAP, ASUSTOR, ReadyNAS and WD', async () => {
    expect(summary(await inspectRecorded('synology-dsm7', flavour))).toMatchObject([{
      platform: 'synology-dsm7', preferences: '/volume1/PlexMediaServer/AppData/Plex Media Server/Preferences.xml', user: 'PlexMediaServer', running: true,
      service: 'Synology package PlexMediaServer: /usr/syno/bin/synopkg stop PlexMediaServer / /usr/syno/bin/synopkg start PlexMediaServer',
    }]);
    expect(summary(await inspectRecorded('synology-dsm6', flavour))).toMatchObject([{
      platform: 'synology-dsm6', preferences: '/volume1/Plex/Library/Application Support/Plex Media Server/Preferences.xml',
      service: 'Synology package Plex Media Server: /usr/syno/bin/synopkg stop \'Plex Media Server\' / /usr/syno/bin/synopkg start \'Plex Media Server\'',
    }]);
    expect(summary(await inspectRecorded('qnap', flavour))).toMatchObject([{
      platform: 'qnap', preferences: '/share/CACHEDEV1_DATA/.qpkg/PlexMediaServer/Library/Plex Media Server/Preferences.xml',
      service: 'QNAP package script: /etc/init.d/plex.sh stop / /etc/init.d/plex.sh start',
    }]);
    expect(summary(await inspectRecorded('asustor', flavour))).toMatchObject([{ platform: 'asustor', preferences: '/volume1/Plex/Library/Plex Media Server/Preferences.xml' }]);
    expect(summary(await inspectRecorded('readynas', flavour))).toMatchObject([{
      platform: 'readynas', preferences: '/apps/plexmediaserver-1.41/MediaLibrary/Plex Media Server/Preferences.xml',
      service: 'systemd unit fvapp-plexmediaserver: systemctl stop fvapp-plexmediaserver / systemctl start fvapp-plexmediaserver',
    }]);
    // Two drives hold a plex_conf; the one with Preferences.xml is the live one.
    const wd = await inspectRecorded('wd', flavour);
    expect(summary(wd)).toMatchObject([{ platform: 'wd', preferences: '/mnt/HD/HD_b2/Nas_Prog/plex_conf/Plex Media Server/Preferences.xml' }]);
    expect(wd.installs[0]!.install.notes).toEqual(['Other drives also have a plex_conf folder: /mnt/HD/HD_a2/Nas_Prog/plex_conf.']);
  });

  it('a QNAP without the Plex package is not a Plex install', async () => {
    await expect(inspectRecorded('qnap', flavour, { files: { '/etc/config/qpkg.conf': '[Container Station]\nInstall_Path = /share/CACHEDEV1_DATA/.qpkg/container-station\n' } }))
      .rejects.toMatchObject({ code: 'PLEX_INSTALL_NOT_FOUND' });
  });

  it('FreeBSD with the plexpass port, and a TrueNAS CORE jail', async () => {
    expect(summary(await inspectRecorded('freebsd', flavour))).toMatchObject([{
      platform: 'freebsd', preferences: '/tank/plexdata/Plex Media Server/Preferences.xml', user: 'plex', running: true,
      service: 'rc.d service plexmediaserver_plexpass: service plexmediaserver_plexpass stop / service plexmediaserver_plexpass start',
    }]);
    expect(summary(await inspectRecorded('truenas-core', flavour))).toMatchObject([{
      platform: 'freebsd-jail', preferences: '/mnt/tank/iocage/jails/plex/root/config/Plex Media Server/Preferences.xml', user: 'media',
      service: 'rc.d service plexmediaserver in jail plex: jexec plex service plexmediaserver stop / jexec plex service plexmediaserver start',
    }]);
  });

  it('macOS: the defaults domain of the user who runs Plex, read with `defaults`', async () => {
    const report = await inspectRecorded('macos', flavour);
    expect(summary(report)).toMatchObject([{
      platform: 'macos', preferences: 'defaults domain com.plexapp.plexmediaserver of alice', logs: '/Users/alice/Library/Logs/Plex Media Server',
      user: 'alice', running: true, machine: '8c7c4a3b5e6f708192a3b4c5d6e7f8091a2b3c4d', token: 'set',
    }]);
    expect(report.installs[0]!.preferences?.present).toMatchObject({ PlexOnlineToken: true, PlexOnlineUsername: true, AcceptedEULA: true });
  });

  it('no Plex anywhere: PLEX_INSTALL_NOT_FOUND, saying what was looked for and what to do', async () => {
    const error = await inspectRecorded('no-plex', flavour).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'PLEX_INSTALL_NOT_FOUND', message: expect.stringContaining('no Plex container'), fix: expect.stringContaining('sign in as that user or as root') });
  });
});
