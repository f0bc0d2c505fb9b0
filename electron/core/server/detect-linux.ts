import { commandOutput, keyValues, type PlexProcess, type ServerFacts } from './facts.js';
import type { PlexInstall, ServiceControl } from './install.js';

// Plex from a Linux package: snap, deb/rpm, Arch (plex-repair.md §1.1–§1.3). The data directory
// can be moved, so it is taken, in this order, from the running process's environment, then from
// `systemctl show`, then from the unit's drop-ins (and /etc/default/plexmediaserver), then the
// package's default. A path that differs between the first two is said out loud.

const SUPPORT_VARIABLE = 'PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR';
const DEB_DEFAULT = '/var/lib/plexmediaserver/Library/Application Support';
const ARCH_DEFAULT = '/var/lib/plex';

const SNAP_DATA = [
  '/var/snap/plexmediaserver/Library/Application Support/Plex Media Server',
  '/var/snap/plexmediaserver/common/Library/Application Support/Plex Media Server',
  '/var/snap/plexmediaserver/common/Library/Application_Support/Plex Media Server',
];

const SYSTEMD: ServiceControl = {
  manager: 'systemd unit plexmediaserver',
  stop: ['systemctl', 'stop', 'plexmediaserver'],
  start: ['systemctl', 'start', 'plexmediaserver'],
  status: ['systemctl', 'is-active', 'plexmediaserver'],
};

function isSnapProcess(process: PlexProcess): boolean {
  return /snap\.plexmediaserver/.test(process.cgroup);
}

function isContainerProcess(process: PlexProcess): boolean {
  return /docker|libpod|kubepods/.test(process.cgroup);
}

export function detectSnap(facts: ServerFacts): PlexInstall | undefined {
  if (!facts.dirs.has('/snap/plexmediaserver/current')) return undefined;
  const found = SNAP_DATA.filter((dir) => facts.dirs.has(dir));
  const dataDir = found[0] ?? SNAP_DATA[0]!;
  const process = facts.processes.find(isSnapProcess);
  return {
    platform: 'snap',
    description: 'Linux snap plexmediaserver',
    dataDir,
    dataDirSource: found.length ? undefined : 'none of the snap\'s known data folders exists yet',
    preferences: { kind: 'file', path: `${dataDir}/Preferences.xml` },
    logDir: `${dataDir}/Logs`,
    runsAs: process?.user,
    running: process !== undefined,
    pid: process?.pid,
    service: { manager: 'snap plexmediaserver', stop: ['snap', 'stop', 'plexmediaserver'], start: ['snap', 'start', 'plexmediaserver'] },
    files: { via: 'host' },
    notes: found.length > 1 ? [`Several snap data folders exist (${found.join(', ')}); the first is read.`] : [],
  };
}

export function detectLinuxPackage(facts: ServerFacts): PlexInstall | undefined {
  if (!facts.dirs.has('/usr/lib/plexmediaserver')) return undefined;
  const osRelease = keyValues(facts.files.get('/etc/os-release') ?? '');
  const arch = osRelease.get('ID') === 'arch' && facts.dirs.has(ARCH_DEFAULT) && !facts.dirs.has('/var/lib/plexmediaserver');
  if (!arch && !facts.dirs.has('/var/lib/plexmediaserver')) return undefined;
  const process = facts.processes.find((candidate) => !isSnapProcess(candidate) && !isContainerProcess(candidate));
  const unit = systemdUnit(facts);
  const dropIns = dropInSettings(facts, arch);
  const notes: string[] = [];

  const fromProcess = process?.environment?.get(SUPPORT_VARIABLE);
  const fromSystemd = unit?.environment.get(SUPPORT_VARIABLE);
  let appSupport: string;
  let source: string;
  if (fromProcess) {
    appSupport = fromProcess;
    source = `the running Plex process's environment (pid ${process!.pid})`;
    if (fromSystemd && fromSystemd !== fromProcess) {
      notes.push(`Plex runs with its data in "${fromProcess}", but systemd would now start it with "${fromSystemd}": a drop-in changed since Plex started, and the next restart moves it.`);
    }
  } else if (fromSystemd) {
    appSupport = fromSystemd;
    source = 'systemctl show plexmediaserver';
  } else if (dropIns.appSupport) {
    appSupport = dropIns.appSupport.value;
    source = dropIns.appSupport.file;
  } else {
    appSupport = arch ? ARCH_DEFAULT : DEB_DEFAULT;
    source = 'the package\'s default';
  }
  if (process && !process.environment && facts.denied.has(`/proc/${process.pid}/environ`)) {
    notes.push('The running Plex process\'s environment could not be read as your account, so its data folder is taken from systemd.');
  }
  const dataDir = `${appSupport.replace(/\/+$/, '')}/Plex Media Server`;
  const runsAs = process?.user ?? unit?.user ?? dropIns.user ?? 'plex';
  const distribution = osRelease.get('PRETTY_NAME');
  return {
    platform: arch ? 'arch' : 'linux',
    description: arch ? 'Arch Linux package plex-media-server' : `Linux package (deb/rpm)${distribution ? ` on ${distribution}` : ''}`,
    dataDir,
    dataDirSource: source,
    preferences: { kind: 'file', path: `${dataDir}/Preferences.xml` },
    logDir: `${dataDir}/Logs`,
    runsAs,
    running: process !== undefined ? true : unit ? unit.active === 'active' || unit.active === 'activating' : false,
    pid: process?.pid,
    service: SYSTEMD,
    files: { via: 'host' },
    notes,
  };
}

interface UnitFacts {
  active?: string;
  user?: string;
  environment: Map<string, string>;
}

/** `systemctl show plexmediaserver -p …`, when the unit is loaded. */
function systemdUnit(facts: ServerFacts): UnitFacts | undefined {
  const output = commandOutput(facts, 'systemctl-plexmediaserver');
  if (output === undefined) return undefined;
  const properties = new Map<string, string>();
  for (const line of output.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) properties.set(line.slice(0, at), line.slice(at + 1));
  }
  if (properties.get('LoadState') !== 'loaded') return undefined;
  return {
    active: properties.get('ActiveState'),
    user: properties.get('User') || undefined,
    environment: systemdEnvironment(properties.get('Environment') ?? ''),
  };
}

/**
 * systemd prints Environment= as space-separated assignments, quoting one that holds a space
 * ("A=b c") on current versions and escaping it (A=b\x20c) on older ones.
 */
export function systemdEnvironment(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const word = unescapeSystemd(match[1] ?? match[2] ?? '');
    const at = word.indexOf('=');
    if (at > 0) values.set(word.slice(0, at), word.slice(at + 1));
  }
  return values;
}

function unescapeSystemd(word: string): string {
  return word
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\(["\\])/g, '$1');
}

/** The last data-folder and User= settings in the unit's drop-ins (in name order) or env files. */
function dropInSettings(facts: ServerFacts, arch: boolean): { appSupport?: { value: string; file: string }; user?: string } {
  const sources = [...facts.files.keys()]
    .filter((file) => /^\/(etc|run)\/systemd\/system\/plexmediaserver\.service\.d\/[^/]+\.conf$/.test(file))
    .sort((a, b) => a.split('/').pop()!.localeCompare(b.split('/').pop()!));
  const envFiles = [arch ? '/etc/conf.d/plexmediaserver' : '/etc/default/plexmediaserver'].filter((file) => facts.files.has(file));
  let appSupport: { value: string; file: string } | undefined;
  let user: string | undefined;
  for (const file of [...envFiles, ...sources]) {
    for (const rawLine of facts.files.get(file)!.split('\n')) {
      const line = rawLine.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const environment = /^Environment\s*=\s*(.*)$/.exec(line);
      const assignments = environment ? systemdEnvironment(environment[1]!) : envFiles.includes(file) ? keyValues(line) : new Map<string, string>();
      const value = assignments.get(SUPPORT_VARIABLE);
      if (value) appSupport = { value, file: envFiles.includes(file) ? file : `drop-in ${file}` };
      const userLine = /^User\s*=\s*(\S+)$/.exec(line) ?? (envFiles.includes(file) ? /^PLEX_MEDIA_SERVER_USER=["']?([^"'\s]+)/.exec(line) : null);
      if (userLine) user = userLine[1];
    }
  }
  return { appSupport, user };
}
