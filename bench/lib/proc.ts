// Child-process plumbing for the benchmark: every process we start is registered so that it is
// killed on any exit path (normal end, exception, Ctrl+C), and is started under
// `setpriv --pdeathsig KILL` so it also dies if this process is SIGKILLed.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
const HAVE_SETPRIV = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;

/** spawn() + registration for cleanup. setpriv execs the command, so the pid stays the command's. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = HAVE_SETPRIV
    ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], options)
    : spawn(command, args, options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

export function killAllTrackedSync(): void {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  live.clear();
}

process.on('exit', killAllTrackedSync);

/** Resolves when the child exits; SIGKILLs it if it has not exited within timeoutMs. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode, killed: false });
  }
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, killed });
    });
  });
}

/** Run to completion, collecting stdout/stderr, bounded by timeoutMs (then SIGKILL). */
export async function run(command: string, args: string[], timeoutMs: number, options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  const child = spawnTracked(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const { code, killed } = await Promise.race([waitExit(child, timeoutMs), spawnError]);
  return { code, stdout, stderr, killed };
}

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface ProcStat { comm: string; state: string; ppid: number; cpuSec: number }

/** utime+stime of one process (seconds), from /proc/<pid>/stat; undefined if it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] = field 3 (state); utime = field 14 → f[11], stime = field 15 → f[12].
    return { comm, state: f[0]!, ppid: Number(f[1]), cpuSec: (Number(f[11]) + Number(f[12])) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used by a process so far: the sum of /proc/<pid>/task/<tid>/schedstat "time on
 * CPU" (nanoseconds, all threads, so Node's libuv/V8 helper threads count) — finer than the
 * 10 ms ticks of /proc/<pid>/stat, which is the fallback.
 */
export function cpuSec(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch { /* thread exited */ }
    }
    if (ns > 0) return ns / 1e9;
  } catch { /* no schedstat */ }
  return procStat(pid)?.cpuSec ?? 0;
}


/** Collects a child's stream into lines and lets callers wait (bounded) for a matching one. */
export class LineWatcher {
  text = '';
  private waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  private lines: string[] = [];
  private partial = '';

  constructor(stream: NodeJS.ReadableStream, private readonly keepChars = 256 * 1024) {
    stream.on('data', (d: Buffer) => this.push(d.toString()));
  }

  private push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.keepChars * 2) this.text = this.text.slice(-this.keepChars);
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.replace(/\r$/, ''); // ssh logs "\r\n" to stderr
      if (this.lines.length < 10_000) this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.re.test(line)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(line);
        }
      }
    }
  }

  allLines(): string[] {
    return this.lines;
  }

  waitFor(re: RegExp, timeoutMs: number, what: string, exited?: Promise<unknown>): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}. Output so far:\n${this.text.slice(-4000)}`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiters.push({ re, resolve: done });
      void exited?.then(() => {
        if (!this.waiters.some((w) => w.resolve === done)) return;
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        clearTimeout(timer);
        reject(new Error(`process exited while waiting for ${what}. Output:\n${this.text.slice(-4000)}`));
      });
    });
  }
}

/** Busy (non-idle, non-iowait) CPU seconds of the whole machine so far, from /proc/stat. */
export function machineBusySec(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}
