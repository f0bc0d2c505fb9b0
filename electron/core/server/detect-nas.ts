import { commandOutput, keyValues, resolveLink, type ServerFacts } from './facts.js';
import type { PlexInstall, ServiceControl } from './install.js';

// Plex packages on NAS systems (plex-repair.md §1.1, §1.2): Synology DSM 7 and 6, QNAP, ASUSTOR,
// Netgear ReadyNAS and Western Digital. unRAID runs Plex in Docker, so it only names the host.

function nativeProcess(facts: ServerFacts) {
  return facts.processes.find((process) => !/docker|libpod|kubepods/.test(process.cgroup));
}

function install(facts: ServerFacts, fields: Omit<PlexInstall, 'running' | 'pid' | 'files' | 'preferences' | 'logDir' | 'notes'> & { notes?: string[] }): PlexInstall {
  const process = nativeProcess(facts);
  return {
    ...fields,
    runsAs: process?.user ?? fields.runsAs,
    preferences: { kind: 'file', path: `${fields.dataDir}/Preferences.xml` },
    logDir: `${fields.dataDir}/Logs`,
    running: process !== undefined,
    pid: process?.pid,
    files: { via: 'host' },
    notes: fields.notes ?? [],
  };
}

function synopkg(name: string): ServiceControl {
  return {
    manager: `Synology package ${name}`,
    stop: ['/usr/syno/bin/synopkg', 'stop', name],
    start: ['/usr/syno/bin/synopkg', 'start', name],
    status: ['/usr/syno/bin/synopkg', 'status', name],
  };
}

function dsmVersion(facts: ServerFacts): string {
  const version = keyValues(facts.files.get('/etc.defaults/VERSION') ?? '');
  return version.get('productversion') ?? version.get('majorversion') ?? '';
}

export function detectSynology(facts: ServerFacts): PlexInstall | undefined {
  const version = dsmVersion(facts);
  if (facts.dirs.has('/var/packages/PlexMediaServer')) {
    const share = '/var/packages/PlexMediaServer/shares/PlexMediaServer';
    const target = facts.links.get(share);
    const volume = target ? resolveLink(share, target) : share;
    if (!facts.dirs.has(`${share}/AppData/Plex Media Server`) && !target) return undefined;
    return install(facts, {
      platform: 'synology-dsm7',
      description: `Synology DSM ${version || '7'} package PlexMediaServer`,
      dataDir: `${volume}/AppData/Plex Media Server`,
      dataDirSource: target ? `the package's share (${share} → ${target})` : undefined,
      runsAs: 'PlexMediaServer',
      service: synopkg('PlexMediaServer'),
      notes: ['synopkg needs root.'],
    });
  }
  if (facts.dirs.has('/var/packages/Plex Media Server')) {
    const libraryPath = facts.files.get('/var/packages/Plex Media Server/target/plex_library_path')?.split('\n')[0]?.trim();
    const sharePath = /Path\s*\.+\s*\[(.+?)\]/.exec(commandOutput(facts, 'synoshare') ?? '')?.[1];
    const appSupport = libraryPath || (sharePath ? `${sharePath}/Library/Application Support` : undefined);
    if (!appSupport) return undefined;
    return install(facts, {
      platform: 'synology-dsm6',
      description: `Synology DSM ${version || '6'} package "Plex Media Server"`,
      dataDir: `${appSupport.replace(/\/+$/, '')}/Plex Media Server`,
      dataDirSource: libraryPath ? 'the package\'s plex_library_path file' : 'the Plex shared folder (synoshare --get Plex)',
      runsAs: 'plex',
      // The package is named after its directory under /var/packages (plex-repair.md §1.2: R1's quoting breaks it).
      service: synopkg('Plex Media Server'),
    });
  }
  return undefined;
}

/** The [PlexMediaServer] section of QNAP's qpkg.conf, as getcfg reads it. */
function qpkgSection(text: string, section: string): Map<string, string> {
  const values = new Map<string, string>();
  let inside = false;
  for (const line of text.split('\n')) {
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (header) {
      inside = header[1] === section;
      continue;
    }
    const entry = /^\s*([^=]+?)\s*=\s*(.*?)\s*$/.exec(line);
    if (inside && entry) values.set(entry[1]!, entry[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return values;
}

export function detectQnap(facts: ServerFacts): PlexInstall | undefined {
  const conf = facts.files.get('/etc/config/qpkg.conf');
  if (conf === undefined) return undefined;
  // qpkg.conf is on every QNAP; only a PlexMediaServer section with a path means Plex is there.
  const installPath = qpkgSection(conf, 'PlexMediaServer').get('Install_path');
  if (!installPath) return undefined;
  const hasScript = facts.present.has('/etc/init.d/plex.sh');
  return install(facts, {
    platform: 'qnap',
    description: 'QNAP package PlexMediaServer',
    dataDir: `${installPath.replace(/\/+$/, '')}/Library/Plex Media Server`,
    dataDirSource: 'the package\'s Install_path in /etc/config/qpkg.conf',
    service: hasScript
      ? { manager: 'QNAP package script', stop: ['/etc/init.d/plex.sh', 'stop'], start: ['/etc/init.d/plex.sh', 'start'] }
      : { manager: 'QNAP App Center (this QNAP has no /etc/init.d/plex.sh)', stop: [], start: [] },
  });
}

export function detectAsustor(facts: ServerFacts): PlexInstall | undefined {
  const vendor = /^\s*Vendor\s*=\s*(\S+)/m.exec(facts.files.get('/etc/nas.conf') ?? '')?.[1];
  if (!vendor || !/ASUSTOR/i.test(vendor) || !facts.dirs.has('/volume1/Plex/Library/Plex Media Server')) return undefined;
  const control = '/usr/local/AppCentral/plexmediaserver/CONTROL/start-stop.sh';
  return install(facts, {
    platform: 'asustor',
    description: 'ASUSTOR ADM app plexmediaserver',
    dataDir: '/volume1/Plex/Library/Plex Media Server',
    service: { manager: 'ASUSTOR App Central', stop: [control, 'stop'], start: [control, 'start'] },
    notes: ['ADM has only BusyBox (no bash) unless Entware is installed.'],
  });
}

export function detectReadyNas(facts: ServerFacts): PlexInstall | undefined {
  if (!/ReadyNASOS/.test(facts.files.get('/etc/os-release') ?? '')) return undefined;
  const dataDir = [...facts.dirs].find((dir) => /^\/apps\/plexmediaserver[^/]*\/MediaLibrary\/Plex Media Server$/.test(dir));
  if (!dataDir) return undefined;
  return install(facts, {
    platform: 'readynas',
    description: 'Netgear ReadyNAS app plexmediaserver',
    dataDir,
    service: { manager: 'systemd unit fvapp-plexmediaserver', stop: ['systemctl', 'stop', 'fvapp-plexmediaserver'], start: ['systemctl', 'start', 'fvapp-plexmediaserver'], status: ['systemctl', 'is-active', 'fvapp-plexmediaserver'] },
  });
}

export function detectWd(facts: ServerFacts): PlexInstall | undefined {
  if (!/Western Digital Corp/.test(facts.files.get('/etc/system.conf') ?? '')) return undefined;
  const candidates = [...facts.dirs].filter((dir) => /^\/mnt\/HD\/HD[^/]*\/Nas_Prog\/plex_conf$/.test(dir)).sort();
  // Several drives can hold a plex_conf; the one with Preferences.xml is the live one (R1 e367fb0).
  const live = candidates.find((dir) => facts.present.has(`${dir}/Plex Media Server/Preferences.xml`)) ?? candidates[0];
  if (!live) return undefined;
  return install(facts, {
    platform: 'wd',
    description: 'Western Digital My Cloud (OS 5) app plexmediaserver',
    dataDir: `${live}/Plex Media Server`,
    service: { manager: 'the My Cloud dashboard (no command known)', stop: [], start: [] },
    notes: candidates.length > 1 ? [`Other drives also have a plex_conf folder: ${candidates.filter((dir) => dir !== live).join(', ')}.`] : [],
  });
}

/** "unRAID 6.12.4" when this is an unRAID server (its Plex runs in Docker). */
export function unraidVersion(facts: ServerFacts): string | undefined {
  const text = facts.files.get('/etc/unraid-version');
  if (text === undefined) return undefined;
  return `unRAID ${/version="([^"]+)"/.exec(text)?.[1] ?? ''}`.trim();
}
