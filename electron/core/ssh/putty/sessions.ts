import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatHostPort } from '../../common/target.js';
import { log } from '../../common/log.js';
import { parseRegQuery, PUTTY_REGISTRY_KEY, regNumber, unescapePuttyName, type PuttyStorage, type RegValue } from './storage.js';

// PuTTY's saved sessions, as far as Reclaim can use them: where the server is, who to sign in as,
// the key file, an SSH jump host ("SSH to proxy and use port forwarding"), and the local forward
// to Plex's port 32400 that Plex's support article has people set up. Setting names and meanings
// are PuTTY's (settings.c); every other setting of a session is ignored.

export interface PuttySession {
  /** As PuTTY shows it, unescaped ("My Server"). */
  name: string;
  host: string;
  port: number;
  user?: string;
  /** PublicKeyFile: the private key (.ppk) the session signs in with. */
  keyFile?: string;
  /** The SSH jump host, or why the session's proxy cannot be used. */
  jump?: { host: string; port: number; user?: string } | { unsupported: string };
  /** The first local forward to port 32400: `L8888=localhost:32400` gives 8888 and localhost:32400. */
  plexForward?: { localPort: number; remote: string };
}

const PLEX_PORT = 32400;
const DEFAULT_SSH_PORT = 22;
/** PuTTY's template for new sessions, not a server. */
const DEFAULT_SETTINGS = 'Default Settings';
// ProxyMethod numbers as PuTTY stores them (conf_enum_proxy_type).
const PROXY_METHODS: Record<number, string> = {
  1: 'a SOCKS 4 proxy', 2: 'a SOCKS 5 proxy', 3: 'an HTTP proxy', 4: 'a Telnet proxy', 5: 'a local proxy command',
  7: 'an SSH proxy that runs a command', 8: 'an SSH proxy subsystem',
};
const PROXY_SSH_PORT_FORWARDING = 6;

type Settings = Map<string, RegValue | string>;

/** Every saved SSH session with a host name, in PuTTY's order (alphabetical). */
export async function listPuttySessions(storage: PuttyStorage): Promise<PuttySession[]> {
  const raw = storage.kind === 'registry' ? await registrySessions(storage.query) : await fileSessions(storage.sessionsDir);
  const sessions: PuttySession[] = [];
  for (const [name, settings] of raw) {
    if (name === DEFAULT_SETTINGS) continue;
    const session = toSession(name, settings, raw);
    if (session) sessions.push(session);
  }
  return sessions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function findPuttySession(storage: PuttyStorage, name: string): Promise<PuttySession | undefined> {
  return (await listPuttySessions(storage)).find((session) => session.name === name);
}

async function registrySessions(query: (key: string, recursive: boolean) => Promise<string | undefined>): Promise<Map<string, Settings>> {
  const root = `${PUTTY_REGISTRY_KEY}\\Sessions`;
  const output = await query(root, true);
  const sessions = new Map<string, Settings>();
  for (const key of parseRegQuery(output ?? '')) {
    const relative = key.path.slice(root.length + 1);
    // Only the session keys themselves: PuTTY keeps no subkeys in them.
    if (!key.path.startsWith(`${root}\\`) || relative.includes('\\')) continue;
    sessions.set(unescapePuttyName(relative), key.values);
  }
  return sessions;
}

async function fileSessions(dir: string): Promise<Map<string, Settings>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return new Map(); // no PuTTY here, or it never saved a session
  }
  const sessions = new Map<string, Settings>();
  for (const fileName of names.sort()) {
    let text: string;
    try {
      text = await readFile(path.join(dir, fileName), 'utf8');
    } catch (error) {
      log.info(`PuTTY session file ${path.join(dir, fileName)} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); skipped`);
      continue;
    }
    const settings: Settings = new Map();
    for (const line of text.split('\n')) {
      const equals = line.indexOf('=');
      if (equals > 0) settings.set(line.slice(0, equals), line.slice(equals + 1).replace(/\r$/, ''));
    }
    sessions.set(unescapePuttyName(fileName), settings);
  }
  return sessions;
}

const text = (settings: Settings, name: string): string | undefined => {
  const value = settings.get(name);
  return value === undefined ? undefined : typeof value === 'string' ? value : value.data;
};

function toSession(name: string, settings: Settings, all: Map<string, Settings>): PuttySession | undefined {
  // A missing Protocol means PuTTY's built-in default, which is SSH.
  if ((text(settings, 'Protocol') ?? 'ssh') !== 'ssh') return undefined;
  const address = hostAndUser(text(settings, 'HostName') ?? '');
  if (!address.host) return undefined;
  const user = text(settings, 'UserName')?.trim() || address.user;
  const keyFile = text(settings, 'PublicKeyFile')?.trim();
  return {
    name,
    host: address.host,
    port: regNumber(settings.get('PortNumber')) || DEFAULT_SSH_PORT,
    user: user || undefined,
    keyFile: keyFile || undefined,
    jump: jumpHost(settings, all),
    plexForward: plexForward(text(settings, 'PortForwardings') ?? ''),
  };
}

/**
 * PuTTY accepts `user@host` in the host name box, and ignores a `:port` after a name with a
 * single colon (the port is its own setting); more colons make it an IPv6 address.
 */
function hostAndUser(value: string): { host: string; user?: string } {
  let host = value.trim();
  let user: string | undefined;
  const at = host.lastIndexOf('@');
  if (at >= 0) {
    user = host.slice(0, at);
    host = host.slice(at + 1);
  }
  host = host.replace(/^\[(.*)\]$/, '$1');
  if ((host.match(/:/g) ?? []).length === 1) host = host.slice(0, host.indexOf(':'));
  return { host, user: user || undefined };
}

function jumpHost(settings: Settings, all: Map<string, Settings>): PuttySession['jump'] {
  const method = regNumber(settings.get('ProxyMethod')) ?? 0;
  if (method === 0) return undefined;
  if (method !== PROXY_SSH_PORT_FORWARDING) return { unsupported: PROXY_METHODS[method] ?? 'a proxy' };
  const proxyHost = text(settings, 'ProxyHost')?.trim() ?? '';
  // Since 0.77 PuTTY lets the proxy be one of its saved sessions, named in the host box.
  const saved = all.get(proxyHost);
  if (saved) {
    const address = hostAndUser(text(saved, 'HostName') ?? '');
    if (address.host) {
      return { host: address.host, port: regNumber(saved.get('PortNumber')) || DEFAULT_SSH_PORT, user: text(saved, 'UserName')?.trim() || address.user };
    }
  }
  const address = hostAndUser(proxyHost);
  if (!address.host) return { unsupported: 'an SSH proxy with no host name' };
  return {
    host: address.host,
    port: regNumber(settings.get('ProxyPort')) || DEFAULT_SSH_PORT,
    user: text(settings, 'ProxyUsername')?.trim() || address.user,
  };
}

/** The jump host as Reclaim's jump field and -J take it. */
export function jumpSpec(jump: { host: string; port: number; user?: string }): string {
  return `${jump.user ? `${jump.user}@` : ''}${jump.port === DEFAULT_SSH_PORT ? jump.host : formatHostPort(jump.host, jump.port)}`;
}

/**
 * PortForwardings is PuTTY's map format: `key=value` pairs separated by commas, with `\` escaping
 * `,`, `=` and `\`. A local forward's key is `L` (or `4L`, `6L`) and its local port, perhaps after
 * a listening address (`L127.0.0.1:8888`); its value is the far end, `host:port`.
 */
function plexForward(value: string): PuttySession['plexForward'] {
  for (const [key, target] of mapEntries(value)) {
    const local = /^[46]?L(?:.*:)?(\d{1,5})$/.exec(key);
    const far = /^(.+):(\d{1,5})$/.exec(target);
    if (!local || !far || Number(far[2]) !== PLEX_PORT) continue;
    const localPort = Number(local[1]);
    if (localPort < 1 || localPort > 65535) continue;
    return { localPort, remote: target };
  }
  return undefined;
}

function mapEntries(value: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  let key = '';
  let current = '';
  let inValue = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '\\' && i + 1 < value.length) {
      current += value[++i];
    } else if (char === '=' && !inValue) {
      key = current;
      current = '';
      inValue = true;
    } else if (char === ',') {
      if (inValue) entries.push([key, current]);
      key = '';
      current = '';
      inValue = false;
    } else {
      current += char;
    }
  }
  if (inValue) entries.push([key, current]);
  return entries;
}
