// A faithful test server with a Plex Media Server install, for tests of inspecting and repairing
// Plex over SSH. Real: OpenSSH sshd, sudo (with the test user's password), the accounts (a plex
// system user owns the data), the deb's file layout, unit file and drop-ins, pidof/ps/pgrep.
// Stand-ins: systemctl (test/stand-ins/plex-install/systemctl.mjs) and Plex Media Server itself
// (pms-daemon.mjs around pms-server.mjs), which the stand-in service manager starts as plex under
// PMS's own name. plex.tv is the stand-in of test/stand-ins/plex-tv.ts.
//
// The server is a network namespace (netns.ts) whose sshd runs in a mount and pid namespace of its
// own (plex-install/boot.sh): /etc, /home, /opt, /srv, /usr/bin, /usr/lib and /var/lib are
// overlays whose changes stay in a per-server directory, so nothing here touches this machine's
// files, and the server's processes see only each other. Requires root.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parsePreferences } from '../stand-ins/preferences.mjs';
import { formatLogLine } from '../stand-ins/pms-log.mjs';
import { plexPreferences } from '../stand-ins/pms-preferences.js';
import { startPlexTv, type PlexTv } from '../stand-ins/plex-tv.js';
import { pidAlive } from './child.js';
import { makeKeyPair, type KeyPair } from './keys.js';
import { createNetHost, netnsSpawn, type NetHost } from './netns.js';
import { startSshd, type Sshd } from './sshd.js';

const execFileP = promisify(execFile);
const STAND_INS = fileURLToPath(new URL('../stand-ins/', import.meta.url));
const INSTALL = join(STAND_INS, 'plex-install');
const DIR_PREFIX = 'reclaim-plexhost-';
const UNIT = 'plexmediaserver.service';
const COMMAND_TIMEOUT_MS = 60_000;
const PMS_READY_TIMEOUT_MS = 20_000;

export const DEFAULT_SUPPORT_DIR = '/var/lib/plexmediaserver/Library/Application Support';
/** Where a custom data directory may be: the server's overlaid directories a user would pick. */
const CUSTOM_DATA_ROOTS = ['/srv/', '/opt/', '/var/lib/', '/home/'];

export interface PlexHostOptions {
  /** Preferences.xml as written; null: none (PMS makes a new identity at its first start). Default: plexPreferences(). */
  preferences?: string | null;
  /** With the default Preferences: signed in to this plex.tv account (created in plexTv), with a live server token. */
  signedInAs?: { username: string; email: string };
  /** File mode of Preferences.xml; default 0o644 (UNCONFIRMED in plex-repair.md: the mode PMS creates it with). */
  preferencesMode?: number;
  /** PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR; anything but the default is set by a drop-in override.conf. */
  supportDir?: string;
  /** More drop-ins: file name (e.g. '10-user.conf') → contents. */
  dropIns?: Record<string, string>;
  /** The test user's sudo: 'password' (member of group sudo, Debian's default), 'nopasswd', 'none'. Default 'password'. */
  sudo?: 'password' | 'nopasswd' | 'none';
  /** PMS started when the server is ready (default true). */
  pmsRunning?: boolean;
  /** Log lines ("LEVEL - message", e.g. from pms-log.mjs) PMS writes at each start after its banner. */
  logLines?: readonly string[];
  /** A Cache/cert-v2.p12 as a signed-in server has; default: when the Preferences hold a PlexOnlineToken. */
  certificate?: boolean;
  version?: string;
}

export interface CommandResult { code: number | null; stdout: string; stderr: string }

export interface PlexHost {
  server: NetHost;
  sshd: Sshd;
  /** The SSH user; `password` is also its sudo password. */
  user: { name: string; password: string; home: string };
  /** Client side: key accepted for the user, known_hosts with the server's key, a directory for files. */
  key: KeyPair;
  knownHosts: string;
  clientDir: string;
  plexTv: PlexTv;
  supportDir: string;
  /** Paths on the server. */
  paths: { pmsDir: string; preferences: string; log: string };
  plex: { uid: number; gid: number };
  /** Runs `command` with sh as root on the server (in its namespaces), like a root shell there. */
  runAsRoot(command: string, stdin?: string): Promise<CommandResult>;
  /** Runs `command` over SSH as the test user with OpenSSH's client (stdin is how secrets go in). */
  ssh(command: string, stdin?: string): Promise<CommandResult>;
  /** A file on the server (undefined if absent), read as root. */
  readFile(path: string): Promise<string | undefined>;
  /** Writes a file on the server as root, in place: an existing file keeps its owner and mode, a new one is root's. */
  writeFile(path: string, data: string): Promise<void>;
  stat(path: string): Promise<{ uid: number; gid: number; mode: number }>;
  listDir(path: string): Promise<string[]>;
  readPreferences(): Promise<string | undefined>;
  writePreferences(xml: string): Promise<void>;
  /** The settings in Preferences.xml (throws if absent or malformed). */
  preferences(): Promise<Map<string, string>>;
  readLog(): Promise<string>;
  /** Appends lines ("LEVEL - message") to the PMS log in its format, as a running PMS would. */
  appendLog(lines: readonly string[]): Promise<void>;
  /** Log lines for PMS's next starts (replacing the option's). */
  setLogLines(lines: readonly string[]): Promise<void>;
  /**
   * From PMS's next start, its first `requests` HTTP requests get 503 "still starting up", as a
   * server busy with its startup tasks (after waking from sleep) answers; 0 turns it off.
   */
  setStartingUp(requests: number): Promise<void>;
  /**
   * Faults for PMS's next starts: `refuseStart` (it fails at once, every start, until cleared),
   * `ignoreSigterm` (it will not stop; a drop-in with SendSIGKILL=no keeps systemd from killing it).
   */
  setPmsFaults(faults: { refuseStart?: boolean; ignoreSigterm?: boolean }): Promise<void>;
  /** PMS's next starts wait (before they answer) until the returned release is called, a minute at most. */
  holdStarts(): Promise<() => Promise<void>>;
  /** systemd's view of the service (read from the stand-in's state): pid in the server's pid namespace. */
  service(): Promise<{ activeState: string; mainPid: number }>;
  /** What the service wrote to stdout/stderr (its journal). */
  journal(): Promise<string>;
  /** `systemctl start` as root, then waits until PMS answers /identity. */
  startPms(): Promise<void>;
  stopPms(): Promise<void>;
  waitForPms(): Promise<void>;
  /** An HTTP request to PMS on the server's 127.0.0.1:32400, from the server (curl). */
  pmsRequest(path: string, init?: { method?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/** State directories of test processes that died without stop(). */
function cleanupStale(): void {
  for (const entry of readdirSync(tmpdir())) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(entry);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}
let staleCleaned = false;

async function requireTools(): Promise<void> {
  const tools: Array<[string, string]> = [
    ['sudo', 'sudo'], ['useradd', 'passwd'], ['unshare', 'util-linux'], ['nsenter', 'util-linux'],
    ['pidof', 'procps'], ['curl', 'curl'], ['ssh', 'openssh-client'],
  ];
  for (const [tool, pkg] of tools) {
    await execFileP('sh', ['-c', `command -v ${tool}`]).catch(() => {
      throw new Error(`The test server needs ${tool}: apt-get install ${pkg} (.ci/run installs it).`);
    });
  }
}

function validate(options: PlexHostOptions): string {
  const supportDir = options.supportDir ?? DEFAULT_SUPPORT_DIR;
  if (!posix.isAbsolute(supportDir) || posix.normalize(supportDir) !== supportDir.replace(/\/+$/, '')) {
    throw new Error(`supportDir must be a normalised absolute path, not ${JSON.stringify(supportDir)}`);
  }
  if (!CUSTOM_DATA_ROOTS.some((root) => supportDir.startsWith(root))) {
    throw new Error(`supportDir must be under ${CUSTOM_DATA_ROOTS.join(', ')} (the server's own directories), not ${supportDir}`);
  }
  if (/["\\\n]/.test(supportDir)) throw new Error('supportDir must not contain quotes, backslashes or newlines');
  if (options.sudo && !['password', 'nopasswd', 'none'].includes(options.sudo)) {
    throw new Error(`sudo must be 'password', 'nopasswd' or 'none', not ${JSON.stringify(options.sudo)}`);
  }
  return supportDir.replace(/\/+$/, '');
}

/** Whether the Preferences hold a sign-in (a malformed file, which a test may want, holds none). */
function hasSignIn(preferences: string | null): boolean {
  try {
    return Boolean(preferences && parsePreferences(preferences).get('PlexOnlineToken'));
  } catch {
    return false;
  }
}

function run(command: string, args: string[], stdin: string | undefined, spawnIn?: NetHost): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const opts = { stdio: ['pipe', 'pipe', 'pipe'] as ('pipe')[] };
    const child = spawnIn ? netnsSpawn(spawnIn, command, args, opts) : spawn(command, args, opts);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.on('error', () => {}); // a command that does not read its stdin
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

export async function startPlexHost(options: PlexHostOptions = {}): Promise<PlexHost> {
  const supportDir = validate(options);
  await requireTools();
  if (!staleCleaned) {
    staleCleaned = true;
    cleanupStale();
  }
  const state = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  liveDirs.add(state);
  chmodSync(state, 0o755);
  const stage = join(state, 'stage');
  const clientDir = join(state, 'client');
  mkdirSync(stage);
  mkdirSync(clientDir);

  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
    rmSync(state, { recursive: true, force: true });
    liveDirs.delete(state);
  };
  try {
    const key = await makeKeyPair(clientDir, { type: 'ed25519' });
    const server = await createNetHost();
    cleanups.push(() => server.destroy());
    const plexTv = await startPlexTv({ host: server.peerAddress });
    cleanups.push(() => plexTv.stop());

    // What install.sh puts on the server.
    let preferences = options.preferences;
    if (preferences === undefined) {
      const account = options.signedInAs;
      if (account) plexTv.addUser(account);
      const signedIn = account && { ...account, token: plexTv.issueToken(account.username) };
      preferences = plexPreferences({ signedIn }).xml;
    }
    cpSync(join(INSTALL, 'plexmediaserver.service'), join(stage, 'plexmediaserver.service'));
    cpSync(STAND_INS, join(stage, 'stand-ins'), { recursive: true });
    if (preferences !== null) writeFileSync(join(stage, 'Preferences.xml'), preferences);
    const dropIns = { ...options.dropIns };
    if (supportDir !== DEFAULT_SUPPORT_DIR && !dropIns['override.conf']) {
      // What `systemctl edit plexmediaserver` leaves for a moved data directory (plex-repair.md §1.3).
      dropIns['override.conf'] = `[Service]\nEnvironment="PLEX_MEDIA_SERVER_APPLICATION_SUPPORT_DIR=${supportDir}"\n`;
    }
    if (Object.keys(dropIns).length) {
      mkdirSync(join(stage, 'drop-ins'));
      for (const [name, text] of Object.entries(dropIns)) {
        if (!/^[\w.-]+\.conf$/.test(name)) throw new Error(`drop-in names end in .conf and have no slashes: ${name}`);
        writeFileSync(join(stage, 'drop-ins', name), text);
      }
    }
    let pmsConfig: Record<string, unknown> = { plexTvUrl: plexTv.url, version: options.version, logLines: options.logLines ?? [] };
    writeFileSync(join(stage, 'pms.json'), JSON.stringify(pmsConfig));

    const sshd = await startSshd({
      host: server,
      authorizedKeys: [key.publicLine],
      wrap: (command) => [
        'unshare', '--mount', '--pid', '--fork', '--mount-proc', '--kill-child', '--propagation', 'private',
        'sh', join(INSTALL, 'boot.sh'), state, process.execPath, ...command,
      ],
    });
    cleanups.push(() => sshd.stop());
    const knownHosts = join(clientDir, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine()}\n`);

    // One SSH connection with a channel per command, as Reclaim itself works (and an SSH handshake
    // per command would be most of these tests' time). One per sshd instance: after a restart the
    // old connection is dead, and a fresh control path never hands a command to it.
    const destination = `${sshd.user.name}@${sshd.host}`;
    const connections = new Set<string>();
    const sshOptions = (controlPath: string) => [
      '-F', '/dev/null', '-i', key.privatePath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10',
      '-o', `ControlPath=${controlPath}`, '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=2',
    ];
    const closeConnection = (controlPath: string) => run('ssh', [...sshOptions(controlPath), '-O', 'exit', destination], undefined);
    /** The options of a command on this sshd instance's connection, opened on first use. */
    const connected = async () => {
      const controlPath = join(clientDir, `ssh-${anchor()}`);
      if (!connections.has(controlPath)) {
        for (const old of connections) await closeConnection(old);
        connections.clear();
        const master = await run('ssh', [...sshOptions(controlPath), '-M', '-N', '-f', '-o', 'ControlPersist=yes', destination], undefined);
        if (master.code !== 0) throw new Error(`ssh to the test server failed (${master.code}): ${master.stderr}`);
        connections.add(controlPath);
      }
      return sshOptions(controlPath);
    };
    cleanups.push(async () => {
      for (const controlPath of connections) await closeConnection(controlPath);
    });

    /** The spawned unshare: its mount namespace is the server's; its children's pid namespace too. */
    const anchor = () => {
      const pid = sshd.pid();
      if (pid === undefined) throw new Error('the test server is down (sshd stopped)');
      return pid;
    };
    const onServer = (path: string) => `/proc/${anchor()}/root${path}`;
    const runAsRoot = (command: string, stdin?: string) => {
      const ns = `/proc/${anchor()}/ns`;
      return run('nsenter', [
        `--mount=${ns}/mnt`, `--net=${ns}/net`, `--pid=${ns}/pid_for_children`, '--',
        'env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8',
        'sh', '-c', command,
      ], stdin);
    };
    const mustRun = async (command: string, stdin?: string) => {
      const result = await runAsRoot(command, stdin);
      if (result.code !== 0) throw new Error(`on the test server, \`${command}\` failed (${result.code}): ${result.stderr}${result.stdout}`);
      return result;
    };

    const pmsDir = `${supportDir}/Plex Media Server`;
    const preferencesPath = `${pmsDir}/Preferences.xml`;
    const certificate = options.certificate ?? hasSignIn(preferences);
    const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const installEnv = {
      STAGE: stage, NODE: process.execPath, TEST_USER: sshd.user.name, SUDO: options.sudo ?? 'password',
      SUPPORT_DIR: supportDir, PREFERENCES_MODE: (options.preferencesMode ?? 0o644).toString(8), CERTIFICATE: certificate ? '1' : '0',
    };
    await mustRun(`${Object.entries(installEnv).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')} sh ${shellQuote(join(INSTALL, 'install.sh'))}`);
    const [, , uid, gid] = (await mustRun('getent passwd plex')).stdout.trim().split(':');

    const readServerFile = async (path: string) => {
      try {
        return await readFile(onServer(path), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    };
    const service = async () => {
      const text = await readServerFile(`/run/reclaim-stand-in/${UNIT}.json`);
      const parsed = text ? (JSON.parse(text) as { activeState: string; mainPid: number }) : { activeState: 'inactive', mainPid: 0 };
      return { activeState: parsed.activeState, mainPid: parsed.mainPid };
    };
    const journal = async () => (await readServerFile(`/run/reclaim-stand-in/${UNIT}.journal`)) ?? '';
    const pmsRequest = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
      const args = ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', '-X', init.method ?? 'GET'];
      for (const [k, v] of Object.entries(init.headers ?? {})) args.push('-H', `${k}: ${v}`);
      const result = await run('curl', [...args, `http://127.0.0.1:32400${path}`], undefined, server);
      const cut = result.stdout.lastIndexOf('\n');
      return { status: Number(result.stdout.slice(cut + 1)) || 0, body: result.stdout.slice(0, Math.max(cut, 0)) };
    };
    const waitForPms = async () => {
      // PMS gives no sign when it is ready, so ask it (bounded), as a person would.
      const deadline = Date.now() + PMS_READY_TIMEOUT_MS;
      for (;;) {
        if ((await pmsRequest('/identity')).status === 200) return;
        const { activeState } = await service();
        if (activeState !== 'active' && activeState !== 'activating') {
          throw new Error(`Plex Media Server did not start (${activeState}). Journal:\n${await journal()}`);
        }
        if (Date.now() > deadline) throw new Error(`Plex Media Server did not answer within ${PMS_READY_TIMEOUT_MS} ms. Journal:\n${await journal()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const startPms = async () => {
      await mustRun(`systemctl start ${UNIT}`);
      await waitForPms();
    };
    if (options.pmsRunning ?? true) await startPms();

    return {
      server, sshd, user: sshd.user, key, knownHosts, clientDir, plexTv, supportDir,
      paths: { pmsDir, preferences: preferencesPath, log: `${pmsDir}/Logs/Plex Media Server.log` },
      plex: { uid: Number(uid), gid: Number(gid) },
      runAsRoot,
      async ssh(command, stdin) {
        return run('ssh', [...(await connected()), '-o', 'ControlMaster=no', destination, command], stdin);
      },
      readFile: readServerFile,
      writeFile: (path, data) => writeFile(onServer(path), data),
      async stat(path) {
        const s = await stat(onServer(path));
        return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 };
      },
      listDir: async (path) => (await readdir(onServer(path))).sort(),
      readPreferences: () => readServerFile(preferencesPath),
      writePreferences: (xml) => writeFile(onServer(preferencesPath), xml),
      async preferences() {
        const xml = await readServerFile(preferencesPath);
        if (xml === undefined) throw new Error(`${preferencesPath} does not exist on the test server`);
        return parsePreferences(xml);
      },
      readLog: async () => (await readServerFile(`${pmsDir}/Logs/Plex Media Server.log`)) ?? '',
      async appendLog(lines) {
        const text = lines.map((line) => `${formatLogLine(new Date(), '139800000000001', line)}\n`).join('');
        await writeFile(onServer(`${pmsDir}/Logs/Plex Media Server.log`), text, { flag: 'a' });
      },
      async setLogLines(lines) {
        pmsConfig = { ...pmsConfig, logLines: lines };
        await writeFile(onServer('/usr/lib/reclaim-stand-in/pms.json'), JSON.stringify(pmsConfig));
      },
      async holdStarts() {
        const hold = onServer('/run/reclaim-stand-in/hold-start');
        await mkdir(onServer('/run/reclaim-stand-in'), { recursive: true });
        await writeFile(hold, '');
        return () => rm(hold, { force: true });
      },
      async setPmsFaults(faults) {
        pmsConfig = { ...pmsConfig, ...faults };
        await writeFile(onServer('/usr/lib/reclaim-stand-in/pms.json'), JSON.stringify(pmsConfig));
      },
      async setStartingUp(requests) {
        pmsConfig = { ...pmsConfig, startingUpRequests: requests };
        await writeFile(onServer('/usr/lib/reclaim-stand-in/pms.json'), JSON.stringify(pmsConfig));
      },
      service,
      journal,
      startPms,
      async stopPms() {
        await mustRun(`systemctl stop ${UNIT}`);
      },
      waitForPms,
      pmsRequest,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

