// A real OpenSSH sshd per test (root namespace or inside a NetHost), with its
// own host keys and config in a temp dir. Requires root.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKeyPair, type KeyType } from './keys.js';
import { netnsSpawn, type NetHost } from './netns.js';
import { ensureTestUser } from './test-user.js';
import { pidAlive } from './child.js';
import { freePort } from './net.js';

const SSHD = '/usr/sbin/sshd'; // must be absolute: sshd re-execs itself per connection
const DIR_PREFIX = 'reclaim-sshd-';

export interface SshdOptions {
  /** Run inside this namespace on host.address:22; default root namespace, 127.0.0.1:<free port>. */
  host?: NetHost;
  /** Public key lines accepted for the test user. */
  authorizedKeys?: string[];
  /**
   * Extra sshd_config lines. sshd keeps the FIRST value it reads for most
   * keywords, so these are placed before the defaults (they override them);
   * anything from the first `Match` line on goes at the very end.
   */
  config?: string[];
  /** Default ['ed25519']. */
  hostKeyTypes?: KeyType[];
  /**
   * Prefix the sshd command line, e.g. to start it in namespaces of its own. The prefix must exec
   * sshd or stay its parent: the process tree under the spawned process is what gets killed.
   */
  wrap?: (sshdCommand: string[]) => string[];
}

export interface HostKey { type: string; publicLine: string; fingerprint: string; blob: Buffer }

export interface Sshd {
  host: string;
  port: number;
  user: { name: string; password: string; home: string };
  hostKeys: HostKey[];
  /** `[host]:port type base64` (or `host type base64` on port 22), for a known_hosts file. */
  knownHostsLine(keyIndex?: number): string;
  /** Everything sshd wrote to stderr so far (across restarts). */
  log(): string;
  /**
   * Resolves with the first log line matching `pattern`, searching the log from
   * character offset `from` (default 0 = whole log, past lines included; pass
   * `sshd.log().length` taken earlier to only see newer lines). Default timeout 10 s.
   */
  waitForLog(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Replaces the authorized_keys lines: sshd reads them at each login, so live sessions keep what they had. */
  setAuthorizedKeys(lines: string[]): void;
  /** Kill listener + all per-connection children (live sessions drop), start again on the same address/port/keys. */
  restart(): Promise<void>;
  /** The kill alone, keeping config and keys: the server is down until restart(). */
  down(): Promise<void>;
  /** Host pid of the spawned process (sshd, or the first process of `wrap`); undefined while down. */
  pid(): number | undefined;
  /** Same kill, no restart, files removed. Idempotent. */
  stop(): Promise<void>;
}

const liveInstances = new Set<{ stop(): Promise<void>; killSync(): void }>();

// Last resort if a worker exits without afterAll: SIGKILL the process groups.
process.on('exit', () => {
  for (const inst of liveInstances) inst.killSync();
});

/** All processes as pid → ppid, read from /proc/<pid>/stat. */
function processTable(): Map<number, { ppid: number; zombie: boolean }> {
  const table = new Map<number, { ppid: number; zombie: boolean }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …" — comm may contain spaces/parens.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(ppid), zombie: state === 'Z' });
    } catch { /* exited while we looked */ }
  }
  return table;
}

function descendantsOf(root: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, info] of table) {
      if (info.ppid === parent) {
        out.push(pid);
        queue.push(pid);
      }
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* gone */ }
}

function isGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return true;
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  // No event exists for "a non-child process died", so poll — bounded.
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Kill an sshd listener and everything it spawned. Per-connection children
 * call setsid(), so killing the process group is not enough: we freeze the
 * group, then repeatedly collect and freeze descendants via /proc ppid links
 * (frozen processes cannot fork, so the set converges), then SIGKILL them all.
 * Inside a netns we also kill any sshd binary left in it (e.g. orphans).
 */
async function killTree(child: ChildProcess, netns?: string): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));
  signal(-pid, 'SIGSTOP');
  const victims = new Set<number>([pid]);
  for (let round = 0; round < 20; round++) {
    const fresh = descendantsOf(pid).filter((p) => !victims.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      victims.add(p);
      signal(p, 'SIGSTOP');
    }
  }
  const nsId = netns ? netnsInode(netns) : undefined;
  if (nsId) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/net`) === nsId && readlinkSync(`/proc/${entry}/exe`) === SSHD) {
          victims.add(Number(entry));
        }
      } catch { /* gone or kernel thread */ }
    }
  }
  signal(-pid, 'SIGKILL');
  for (const p of victims) signal(p, 'SIGKILL');
  await exited;
  await waitUntil(() => [...victims].every(isGone), 10_000, `sshd processes ${[...victims].join(',')} to die`);
}

/** `net:[inode]` of a named netns, to compare with /proc/<pid>/ns/net. */
function netnsInode(name: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${name}`).ino}]`;
  } catch {
    return undefined;
  }
}



/** Kill sshd instances and temp dirs left by test processes that died without cleanup. */
function cleanupStale(): void {
  const owners = new RegExp(`/${DIR_PREFIX}(\\d+)-`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = owners.exec(readFileSync(`/proc/${entry}/cmdline`, 'utf8'));
      if (m && !pidAlive(Number(m[1])) && readlinkSync(`/proc/${entry}/exe`) === SSHD) {
        signal(-Number(entry), 'SIGKILL');
        signal(Number(entry), 'SIGKILL');
      }
    } catch { /* gone */ }
  }
  for (const entry of readdirSync(tmpdir())) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(entry);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

let staleCleaned = false;

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  if (!staleCleaned) {
    staleCleaned = true;
    cleanupStale();
  }
  const user = await ensureTestUser();
  // Privilege separation directory; normally created by the systemd unit.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  // authorized_keys is read with the user's privileges, so the dir must be traversable.
  chmodSync(dir, 0o755);

  const hostKeys: HostKey[] = [];
  const hostKeyPaths: string[] = [];
  for (const type of options.hostKeyTypes ?? ['ed25519']) {
    const kp = await makeKeyPair(dir, { type, name: `ssh_host_${type}_key` });
    hostKeyPaths.push(kp.privatePath);
    const [keyType, b64] = kp.publicLine.split(' ');
    hostKeys.push({ type: keyType!, publicLine: kp.publicLine, fingerprint: kp.fingerprint, blob: Buffer.from(b64!, 'base64') });
  }
  const authorizedKeysPath = join(dir, 'authorized_keys');
  const writeAuthorizedKeys = (lines: string[]) =>
    writeFileSync(authorizedKeysPath, lines.map((l) => `${l.trim()}\n`).join(''), { mode: 0o644 });
  writeAuthorizedKeys(options.authorizedKeys ?? []);

  const extra = options.config ?? [];
  const matchAt = extra.findIndex((l) => /^\s*match\s/i.test(l));
  const before = matchAt < 0 ? extra : extra.slice(0, matchAt);
  const after = matchAt < 0 ? [] : extra.slice(matchAt);
  const address = options.host?.address ?? '127.0.0.1';
  const configPath = join(dir, 'sshd_config');
  const writeConfig = (port: number) =>
    writeFileSync(configPath, [
      '# extra lines first: sshd keeps the first value it reads',
      ...before,
      `ListenAddress ${address}`,
      `Port ${port}`,
      ...hostKeyPaths.map((p) => `HostKey ${p}`),
      'PidFile none',
      'UsePAM yes',
      'KbdInteractiveAuthentication yes',
      'PasswordAuthentication yes',
      'PubkeyAuthentication yes',
      'PermitRootLogin no',
      `AllowUsers ${user.name}`,
      `AuthorizedKeysFile ${authorizedKeysPath}`,
      'StrictModes no', // the key file lives under /tmp
      'LogLevel VERBOSE',
      'UseDNS no',
      'PrintMotd no',
      'MaxStartups 100:30:200', // benchmarks may open many connections at once
      ...(existsSync('/usr/lib/openssh/sftp-server') ? ['Subsystem sftp /usr/lib/openssh/sftp-server'] : []),
      ...after,
      '',
    ].join('\n'));

  let logText = '';
  const logWaiters = new Set<() => void>();
  let child: ChildProcess | undefined;

  /** Spawn sshd and resolve once it logs "Server listening on"; reject with the log if it exits first. */
  const launch = (port: number): Promise<void> => {
    writeConfig(port);
    const args = ['-D', '-e', '-f', configPath];
    // detached → own session/process group, so the group can be killed as one.
    const spawnOpts = { detached: true, stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[] };
    const [command, ...commandArgs] = options.wrap ? options.wrap([SSHD, ...args]) : [SSHD, ...args];
    const proc = options.host ? netnsSpawn(options.host, command!, commandArgs, spawnOpts) : spawn(command!, commandArgs, spawnOpts);
    child = proc;
    const startOffset = logText.length;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        done(new Error(`sshd did not report listening within 15 s. Log:\n${logText.slice(startOffset)}`));
      }, 15_000);
      const onData = () => {
        if (/Server listening on \S+ port \d+/.test(logText.slice(startOffset))) done();
      };
      const onExit = (code: number | null, sig: string | null) =>
        done(new Error(`sshd exited (${code ?? sig}) before listening. Log:\n${logText.slice(startOffset)}`));
      const done = (err?: Error) => {
        clearTimeout(timer);
        logWaiters.delete(onData);
        proc.off('exit', onExit);
        if (err) {
          void killTree(proc, options.host?.name).finally(() => reject(err));
        } else resolve();
      };
      logWaiters.add(onData);
      proc.once('exit', onExit);
      proc.once('error', (err) => done(err));
      proc.stderr!.on('data', (d: Buffer) => {
        logText += d.toString();
        for (const w of [...logWaiters]) w();
      });
    });
  };

  let port = 22;
  try {
    if (options.host) {
      await launch(port);
    } else {
      // Pick a free port, then start; another process may grab it in between, so retry (bounded).
      for (let attempt = 1; ; attempt++) {
        port = await freePort();
        try {
          await launch(port);
          break;
        } catch (err) {
          if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
        }
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let stopped = false;
  const kill = async () => {
    if (child) await killTree(child, options.host?.name);
  };
  const instance = {
    killSync: () => {
      if (child?.pid) signal(-child.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      liveInstances.delete(instance);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  liveInstances.add(instance);

  return {
    host: address,
    port,
    user: { name: user.name, password: user.password, home: user.home },
    hostKeys,
    knownHostsLine(keyIndex = 0) {
      const key = hostKeys[keyIndex];
      if (!key) throw new Error(`no host key #${keyIndex}`);
      const hostPart = port === 22 ? address : `[${address}]:${port}`;
      return `${hostPart} ${key.type} ${key.blob.toString('base64')}`;
    },
    log: () => logText,
    waitForLog(pattern, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = logText.slice(from).split('\n').find((l) => pattern.test(l));
          if (line === undefined) return;
          clearTimeout(timer);
          logWaiters.delete(check);
          resolve(line);
        };
        const timer = setTimeout(() => {
          logWaiters.delete(check);
          reject(new Error(`sshd log did not match ${pattern} within ${timeoutMs} ms. Log:\n${logText}`));
        }, timeoutMs);
        logWaiters.add(check);
        check();
      });
    },
    setAuthorizedKeys: writeAuthorizedKeys,
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await kill();
      await launch(port);
    },
    async down() {
      if (stopped) throw new Error('down() after stop()');
      await kill();
    },
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    stop: instance.stop,
  };
}

/** afterAll safety net: stop every sshd this process started. */
export async function stopAllSshds(): Promise<void> {
  await Promise.all([...liveInstances].map((i) => i.stop()));
}
