import path from 'node:path/posix';
import type { ProbeRecord } from './records.js';

// The probe's records as facts the platform detectors can ask about: which files and directories
// exist, what small files say, what each command printed, which Plex processes run and as whom.

export interface CommandOutput {
  exit: number;
  output: string;
}

export interface PlexProcess {
  pid: number;
  user?: string;
  /** The process's cgroup (Linux): names the container or snap it runs in. */
  cgroup: string;
  /** Its PLEX_MEDIA_SERVER_* variables, when /proc/<pid>/environ was readable. */
  environment?: Map<string, string>;
}

export interface ServerFacts {
  uname: string;
  account: { uid: number; user: string; home: string };
  /** The server's local time, as Plex writes it in its log ("Jun 17, 2023 22:42:27"). */
  now: string;
  files: Map<string, string>;
  dirs: Set<string>;
  present: Set<string>;
  links: Map<string, string>;
  /** What could not be read as this account: a reason to ask for root. */
  denied: Set<string>;
  markers: Set<string>;
  commands: Map<string, CommandOutput[]>;
  processes: PlexProcess[];
}

export function factsFrom(records: ProbeRecord[]): ServerFacts {
  const facts: ServerFacts = {
    uname: '',
    account: { uid: -1, user: '', home: '' },
    now: '',
    files: new Map(),
    dirs: new Set(),
    present: new Set(),
    links: new Map(),
    denied: new Set(),
    markers: new Set(),
    commands: new Map(),
    processes: [],
  };
  const uids: Array<{ pid: number; uid?: number }> = [];
  const environments = new Map<number, Map<string, string>>();
  for (const { kind, fields } of records) {
    const [first = '', second = '', third = ''] = fields;
    switch (kind) {
      case 'uname':
        facts.uname = first.trim();
        break;
      case 'account':
        facts.account = { uid: /^\d+$/.test(first) ? Number(first) : -1, user: second, home: third };
        break;
      case 'now':
        facts.now = first.trim();
        break;
      case 'file':
        facts.files.set(first, second);
        break;
      case 'dir':
        facts.dirs.add(first);
        break;
      case 'present':
        facts.present.add(first);
        break;
      case 'link':
        facts.links.set(first, second.trim());
        break;
      case 'denied':
        facts.denied.add(first);
        break;
      case 'marker':
        facts.markers.add(first);
        break;
      case 'cmd': {
        const list = facts.commands.get(first) ?? [];
        list.push({ exit: /^\d+$/.test(second) ? Number(second) : -1, output: third });
        facts.commands.set(first, list);
        break;
      }
      case 'process': {
        const pid = Number(first);
        if (!Number.isSafeInteger(pid) || pid <= 0) break;
        const uid = /^Uid:\s*(\d+)/.exec(second)?.[1];
        uids.push({ pid, uid: uid === undefined ? undefined : Number(uid) });
        facts.processes.push({ pid, cgroup: third });
        break;
      }
      case 'environ':
        environments.set(Number(first), parseEnvironment(second));
        break;
    }
  }
  const users = usersByUid(facts.files.get('/etc/passwd') ?? '');
  for (const process of facts.processes) {
    const uid = uids.find((entry) => entry.pid === process.pid)?.uid;
    process.user = uid === undefined ? undefined : users.get(uid) ?? String(uid);
    process.environment = environments.get(process.pid);
  }
  facts.processes.push(...processesFromPs(facts.commands.get('ps')?.[0]?.output ?? ''));
  return facts;
}

/** The first output of a command, when it ran and exited 0. */
export function commandOutput(facts: ServerFacts, name: string): string | undefined {
  const run = facts.commands.get(name)?.[0];
  return run && run.exit === 0 ? run.output : undefined;
}

/** `KEY=value` lines (os-release, VERSION, env files): the value without its quotes. */
export function keyValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!.trim();
    if (/^"(.*)"$/.test(value) || /^'(.*)'$/.test(value)) value = value.slice(1, -1);
    values.set(match[1]!, value);
  }
  return values;
}

/** A directory that a resolved symlink or a relative path points at, as an absolute path. */
export function resolveLink(link: string, target: string): string {
  return path.resolve(path.dirname(link), target);
}

function parseEnvironment(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1));
  }
  return values;
}

function usersByUid(passwd: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}

/** `ps -axo pid=,user=,comm=` lines whose program is Plex Media Server (FreeBSD, macOS). */
function processesFromPs(output: string): PlexProcess[] {
  const found: PlexProcess[] = [];
  for (const line of output.split('\n')) {
    const match = /^\s*(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (match && /(^|\/)Plex Media Server$/.test(match[3]!)) found.push({ pid: Number(match[1]), user: match[2], cgroup: '' });
  }
  return found;
}
