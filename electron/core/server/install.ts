import { shellQuote } from '../ssh/remote-exec.js';

// What Reclaim knows about one Plex Media Server install on the server: where it keeps its
// Preferences and logs, who it runs as and how it is stopped and started. Found by the platform
// detectors, read by inspect, and (next) used by the repair; nothing here is ever run as is.

export type PlatformId =
  | 'docker'
  | 'podman'
  | 'container'
  | 'synology-dsm7'
  | 'synology-dsm6'
  | 'qnap'
  | 'asustor'
  | 'readynas'
  | 'wd'
  | 'snap'
  | 'linux'
  | 'arch'
  | 'freebsd'
  | 'freebsd-jail'
  | 'macos'
  | 'windows';

export type PreferencesLocation =
  | { kind: 'file'; path: string }
  | { kind: 'registry'; key: string }
  | { kind: 'defaults'; domain: string; user: string };

/** A command as its words, to be shell-quoted by whoever runs it. */
export type CommandWords = readonly string[];

export interface ServiceControl {
  /** What controls it, in words: "systemd unit plexmediaserver", "the container's s6 service". */
  manager: string;
  stop: CommandWords;
  start: CommandWords;
  status?: CommandWords;
}

export type ContainerImage = 'plexinc' | 'linuxserver' | 'hotio' | 'binhex' | 'truenas' | 'other';

export interface ContainerFacts {
  runtime: 'docker' | 'podman';
  id: string;
  name: string;
  image: string;
  kind: ContainerImage;
}

/** How Reclaim reaches the install's files: on the server itself, or through `docker exec`. */
export type FileAccess = { via: 'host' } | { via: 'container'; runtime: 'docker' | 'podman'; id: string };

export interface PlexInstall {
  platform: PlatformId;
  /** In words, for people: "Linux package (deb/rpm) on Debian GNU/Linux 12 (bookworm)". */
  description: string;
  /** The "Plex Media Server" directory that holds Preferences.xml, Logs/, Cache/… */
  dataDir: string;
  /** Where the data directory came from, when it could have been moved. */
  dataDirSource?: string;
  preferences: PreferencesLocation;
  logDir: string;
  /** The account PMS runs as, when known. */
  runsAs?: string;
  /** true running, false stopped, null could not tell. */
  running: boolean | null;
  pid?: number;
  service: ServiceControl;
  files: FileAccess;
  container?: ContainerFacts;
  jail?: { name: string; path: string };
  /** Facts a person should know about this install, in words. */
  notes: string[];
}

/** Where its Preferences are, as one line of text (the `--json` "preferences" field). */
export function preferencesLabel(location: PreferencesLocation): string {
  switch (location.kind) {
    case 'file':
      return location.path;
    case 'registry':
      return location.key;
    case 'defaults':
      return `defaults domain ${location.domain} of ${location.user}`;
  }
}

/** How it is controlled, as one line of text (the `--json` "service" field). */
export function serviceLabel(service: ServiceControl): string {
  if (service.stop.length === 0) return service.manager;
  return `${service.manager}: ${commandText(service.stop)} / ${commandText(service.start)}`;
}

/** Words as a person would type them: quoted where a shell would split or expand them. */
function commandText(words: CommandWords): string {
  return words.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : shellQuote(word))).join(' ');
}
