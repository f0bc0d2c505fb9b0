// The two contenders, each a separate process forwarding 127.0.0.1:<port> to the server's
// 127.0.0.1:32400: the Reclaim CLI (ssh2 in Node) and OpenSSH's `ssh -N -L`.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/net.js';
import { LineWatcher, spawnTracked, waitExit } from './proc.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO_ROOT, 'dist/electron/cli/main.js');

export interface TunnelTarget {
  user: string;
  host: string;
  /** SSH port; 22 when absent. */
  port?: number;
  keyPath: string;
  knownHostsPath: string;
}

export interface RunningTunnel {
  name: 'reclaim' | 'openssh';
  pid: number;
  localPort: number;
  child: ChildProcess;
  /** stdout (Reclaim JSON) / stderr (ssh -v) lines seen so far. */
  log(): string[];
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; clean: boolean }>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** The child's environment without any SSH agent: both contenders sign in with the key file only. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  delete env.SSH_AGENT_PID;
  return env;
}

function exitPromise(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Which Reclaim build is measured: the commit, electron/ files changed since it, and when dist/ was
 * built (other people may rebuild dist/ from work in progress while a benchmark runs).
 */
export function buildInfo(): { commit: string; dirtyElectronFiles: string[]; distBuiltAt: string } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  let distBuiltAt = 'missing';
  try {
    distBuiltAt = statSync(path.join(REPO_ROOT, 'dist/electron/core/tunnel/forward-listener.js')).mtime.toISOString();
  } catch { /* not built */ }
  return {
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    dirtyElectronFiles: git('status', '--porcelain', '--', 'electron').split('\n').filter(Boolean),
    distBuiltAt,
  };
}

export const VARIANT_SCRIPT = path.join(REPO_ROOT, 'bench/reclaim-variant.mjs');
const NODE_RELAY = path.join(REPO_ROOT, 'bench/node-relay.mjs');

/**
 * Calibration: bench/node-relay.mjs in front of `behind` (an OpenSSH tunnel). The returned
 * tunnel's pid is the relay's, so CPU figures are Node's own per-connection cost; stop() stops both.
 */
export async function startNodeRelay(behind: RunningTunnel): Promise<RunningTunnel> {
  const child = spawnTracked(process.execPath, [NODE_RELAY, String(behind.localPort)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new LineWatcher(child.stdout!);
  const line = await out.waitFor(/"event":"ready"/, READY_TIMEOUT_MS, 'node-relay ready', exitPromise(child)).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await behind.stop();
    throw error;
  });
  const { localPort } = JSON.parse(line) as { localPort: number };
  return {
    name: 'reclaim', // reported under its label; the name only picks log formats
    pid: child.pid!,
    localPort,
    child,
    log: () => out.allLines(),
    async stop() {
      child.kill('SIGTERM');
      const { code, signal, killed } = await waitExit(child, STOP_TIMEOUT_MS);
      await behind.stop();
      return { code, signal, clean: !killed && code === 0 };
    },
  };
}

export interface ReclaimOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Run bench/reclaim-variant.mjs with RECLAIM_VARIANT=<variant> instead of the plain CLI. */
  variant?: string;
  /** Extra environment, e.g. glibc malloc tunables. */
  env?: Record<string, string>;
  /** Another build of the CLI (its dist/electron/cli/main.js), e.g. to compare two commits. */
  cli?: string;
  /** Run inside this network namespace (`ip netns exec`, which execs: the pid stays the tunnel's). */
  netns?: string;
}

/** The command, or the command run inside a network namespace. */
function inNetns(netns: string | undefined, command: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, command, ...args]] : [command, args];
}

export async function startReclaim(t: TunnelTarget, options: ReclaimOptions = {}): Promise<RunningTunnel> {
  const cli = options.cli ?? CLI;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npm run build" first`);
  const env = { ...cleanEnv(), ...options.env };
  if (options.variant) env.RECLAIM_VARIANT = options.variant;
  const args = [...(options.nodeArgs ?? []), options.variant ? VARIANT_SCRIPT : cli, 'tunnel', `${t.user}@${t.host}`, ...(t.port ? ['-p', String(t.port)] : []), '-i', t.keyPath, '--known-hosts', t.knownHostsPath, '-L', '0', '--json'];
  const child = spawnTracked(...inNetns(options.netns, process.execPath, args), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new LineWatcher(child.stdout!);
  const err = new LineWatcher(child.stderr!);
  const exited = exitPromise(child);
  let line: string;
  try {
    line = await out.waitFor(/"event":"(ready|error)"/, READY_TIMEOUT_MS, 'Reclaim {"event":"ready"}', exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstderr:\n${err.text.slice(-2000)}`);
  }
  const event = JSON.parse(line) as { event: string; localPort?: number; message?: string };
  if (event.event !== 'ready' || typeof event.localPort !== 'number') {
    child.kill('SIGKILL');
    throw new Error(`Reclaim did not become ready: ${line}`);
  }
  return {
    name: 'reclaim',
    pid: child.pid!,
    localPort: event.localPort,
    child,
    log: () => out.allLines(),
    async stop() {
      const closed = out.waitFor(/"event":"closed"/, STOP_TIMEOUT_MS, 'Reclaim {"event":"closed"}').then(() => true, () => false);
      child.kill('SIGTERM');
      const { code, signal, killed } = await waitExit(child, STOP_TIMEOUT_MS);
      // 'exit' can come before the last stdout bytes are read: give them a moment (bounded).
      const sawClosed = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
      return { code, signal, clean: !killed && code === 0 && sawClosed };
    },
  };
}

/** OpenSSH's default algorithms: nothing about ciphers/MACs/kex is forced unless `extra` does. */
export function opensshArgs(t: TunnelTarget, localPort: number, extra: string[] = [], verbose = true): string[] {
  return [
    '-N', ...(verbose ? ['-v'] : []),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${t.knownHostsPath}`,
    '-o', 'ExitOnForwardFailure=yes',
    ...extra,
    '-i', t.keyPath,
    ...(t.port ? ['-p', String(t.port)] : []),
    '-L', `127.0.0.1:${localPort}:127.0.0.1:32400`,
    `${t.user}@${t.host}`,
  ];
}

// With -N -v, ssh logs "Local forwarding listening on 127.0.0.1 port N." once the listener is
// bound (after authentication and, with ExitOnForwardFailure, after the bind succeeded), then
// "Entering interactive session." when its event loop starts serving it.
const SSH_READY = /debug1: Entering interactive session\./;

export interface OpenSshOptions {
  /** Extra ssh arguments, e.g. ['-c', 'aes128-gcm@openssh.com'] for a control run. */
  extra?: string[];
  /** Default true (-v). Without -v, readiness is detected by a successful GET /hello. */
  verbose?: boolean;
  /** Directory for ssh's stderr file. */
  logDir: string;
  /** Run inside this network namespace. */
  netns?: string;
}

let sshCounter = 0;

/**
 * ssh's stderr goes straight to a file rather than a pipe: with -v ssh logs several lines per
 * forwarded connection, and draining a pipe would cost this (benchmarking) process CPU on the
 * same two cores. Readiness is read from that file (bounded polling).
 */
export async function startOpenSsh(t: TunnelTarget, options: OpenSshOptions): Promise<RunningTunnel> {
  const verbose = options.verbose ?? true;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const localPort = await freePort();
    const logPath = path.join(options.logDir, `ssh-${process.pid}-${sshCounter++}.log`);
    const fd = openSync(logPath, 'w');
    let child: ChildProcess;
    try {
      child = spawnTracked(...inNetns(options.netns, 'ssh', opensshArgs(t, localPort, options.extra, verbose)), { env: cleanEnv(), stdio: ['ignore', 'ignore', fd] });
    } finally {
      closeSync(fd);
    }
    const readLog = () => {
      try {
        return readFileSync(logPath, 'utf8').replace(/\r/g, '');
      } catch {
        return '';
      }
    };
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    try {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (verbose ? SSH_READY.test(readLog()) : await answers(localPort)) break;
        if (exited()) throw new Error(`ssh exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${readLog().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`ssh not ready within ${READY_TIMEOUT_MS} ms:\n${readLog().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (verbose && !readLog().includes(`Local forwarding listening on 127.0.0.1 port ${localPort}.`)) {
        throw new Error(`ssh entered the session without "Local forwarding listening on 127.0.0.1 port ${localPort}."`);
      }
    } catch (error) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
      lastError = error as Error;
      // Lost the race for the port to another process: try another one (bounded).
      if (/Address already in use|cannot listen to port/i.test(readLog())) continue;
      throw error;
    }
    return {
      name: 'openssh',
      pid: child.pid!,
      localPort,
      child,
      log: () => readLog().split('\n'),
      async stop() {
        child.kill('SIGTERM');
        const { code, signal, killed } = await waitExit(child, STOP_TIMEOUT_MS);
        return { code, signal, clean: !killed };
      },
    };
  }
  throw lastError ?? new Error('ssh did not start');
}

/** One GET /hello through the port answered 200 (readiness probe for ssh without -v). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/hello', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
