import { commandOutput, type ServerFacts } from './facts.js';
import type { PlexInstall } from './install.js';

// FreeBSD (and TrueNAS CORE) with the plexmediaserver port, on the host or in its jails, and macOS
// with the Plex Media Server app (plex-repair.md §1.2, §2.1).

const FREEBSD_DEFAULT = '/usr/local/plexdata';

/** rc.conf assignments: plexmediaserver_support_path="/mnt/config" and friends. */
function rcValues(texts: Array<string | undefined>): Map<string, string> {
  const values = new Map<string, string>();
  for (const text of texts) {
    for (const line of (text ?? '').split('\n')) {
      const match = /^\s*([A-Za-z0-9_]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(line);
      if (match) values.set(match[1]!, match[2] ?? match[3] ?? match[4] ?? '');
    }
  }
  return values;
}

interface FreeBsdPort {
  service: 'plexmediaserver' | 'plexmediaserver_plexpass';
  supportPath: string;
  source: string;
  user: string;
}

/** Which port is installed under `root` ('' for the host), and where it keeps its data. */
function freeBsdPort(facts: ServerFacts, root: string): FreeBsdPort | undefined {
  const plexpass = facts.dirs.has(`${root}/usr/local/share/plexmediaserver-plexpass`);
  if (!plexpass && !facts.dirs.has(`${root}/usr/local/share/plexmediaserver`)) return undefined;
  const service = plexpass ? 'plexmediaserver_plexpass' : 'plexmediaserver';
  const rc = rcValues([facts.files.get(`${root}/etc/rc.conf`), facts.files.get(`${root}/etc/rc.conf.local`)]);
  const configured = rc.get(`${service}_support_path`);
  return {
    service,
    supportPath: configured || FREEBSD_DEFAULT,
    source: configured ? `${service}_support_path in ${root}/etc/rc.conf` : 'the port\'s default',
    user: rc.get(`${service}_user`) || 'plex',
  };
}

export function detectFreeBsdHost(facts: ServerFacts): PlexInstall | undefined {
  if (facts.uname !== 'FreeBSD') return undefined;
  const port = freeBsdPort(facts, '');
  if (!port) return undefined;
  const dataDir = `${port.supportPath.replace(/\/+$/, '')}/Plex Media Server`;
  const process = facts.processes.find(() => true);
  return {
    platform: 'freebsd',
    description: `FreeBSD port ${port.service.replace('_', '-')}`,
    dataDir,
    dataDirSource: port.source,
    preferences: { kind: 'file', path: `${dataDir}/Preferences.xml` },
    logDir: `${dataDir}/Logs`,
    runsAs: process?.user ?? port.user,
    running: process !== undefined,
    pid: process?.pid,
    service: { manager: `rc.d service ${port.service}`, stop: ['service', port.service, 'stop'], start: ['service', port.service, 'start'], status: ['service', port.service, 'status'] },
    files: { via: 'host' },
    notes: [],
  };
}

export function detectFreeBsdJails(facts: ServerFacts): PlexInstall[] {
  const listing = commandOutput(facts, 'jls');
  if (listing === undefined) return [];
  const installs: PlexInstall[] = [];
  for (const line of listing.split('\n')) {
    const match = /^(\S+)\s+(\/.*?)\s*$/.exec(line);
    if (!match) continue;
    const [, name, jailRoot] = match as unknown as [string, string, string];
    const port = freeBsdPort(facts, jailRoot);
    if (!port) continue;
    const inJail = `${port.supportPath.replace(/\/+$/, '')}/Plex Media Server`;
    const dataDir = `${jailRoot.replace(/\/+$/, '')}${inJail}`;
    installs.push({
      platform: 'freebsd-jail',
      description: `FreeBSD jail "${name}" with the port ${port.service.replace('_', '-')}`,
      dataDir,
      dataDirSource: `${port.source} (in the jail: ${inJail})`,
      preferences: { kind: 'file', path: `${dataDir}/Preferences.xml` },
      logDir: `${dataDir}/Logs`,
      runsAs: port.user,
      // A jail's processes show in the host's ps; which jail runs which is not told apart here.
      running: facts.processes.length > 0 ? null : false,
      service: { manager: `rc.d service ${port.service} in jail ${name}`, stop: ['jexec', name, 'service', port.service, 'stop'], start: ['jexec', name, 'service', port.service, 'start'] },
      files: { via: 'host' },
      jail: { name, path: jailRoot },
      notes: ['On TrueNAS CORE the same works as "iocage exec <jail> service …".'],
    });
  }
  return installs;
}

export function detectMac(facts: ServerFacts): PlexInstall | undefined {
  if (facts.uname !== 'Darwin' || !facts.dirs.has('/Applications/Plex Media Server.app')) return undefined;
  const process = facts.processes[0];
  const user = process?.user ?? facts.account.user;
  const home = user === facts.account.user && facts.account.home ? facts.account.home : `/Users/${user}`;
  return {
    platform: 'macos',
    description: 'macOS app Plex Media Server',
    dataDir: `${home}/Library/Application Support/Plex Media Server`,
    preferences: { kind: 'defaults', domain: 'com.plexapp.plexmediaserver', user },
    logDir: `${home}/Library/Logs/Plex Media Server`,
    runsAs: user,
    running: process !== undefined,
    pid: process?.pid,
    service: {
      manager: 'the Plex Media Server app (quit and reopen it)',
      stop: ['osascript', '-e', 'tell app "Plex Media Server" to quit'],
      start: ['open', '-a', 'Plex Media Server'],
    },
    files: { via: 'host' },
    notes: process ? [] : ['Plex is not running, so the account it runs as is not known: your SSH account is assumed.'],
  };
}
