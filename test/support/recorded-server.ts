// A "server" for the server module's unit tests: Reclaim's real scripts run in a real POSIX shell
// (dash with GNU tools, or BusyBox alone), over a copy of a recorded platform tree from
// test/fixtures/servers/<platform>/root, with that platform's commands (docker, systemctl,
// synoshare, defaults…) answered from transcripts of what those systems print
// (test/fixtures/servers/<platform>/commands.json). Nothing on the test machine is read but the
// shell and its basic tools, which is what every such server has too.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RemoteResult, RunOptions } from '../../electron/core/ssh/remote-exec.js';
import { RemoteTimeoutError } from '../../electron/core/ssh/remote-exec.js';
import type { ServerShell } from '../../electron/core/server/server-shell.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/servers');

export type ShellFlavour = 'dash' | 'busybox';

/** A recorded answer: for arguments matching `args` (a sh glob on "$*"), print this and exit so. */
export interface RecordedCommand {
  args: string;
  stdout?: string;
  /** A transcript file next to commands.json. */
  file?: string;
  exit?: number;
}

export interface Recording {
  env?: Record<string, string>;
  commands?: Record<string, RecordedCommand[]>;
}

export interface RecordedServer {
  root: string;
  shell: ServerShell;
  /** Every command line Reclaim sent, in order. */
  sent: string[];
  close(): void;
}

// What a plain server has besides the platform's own commands (the repair's scripts also copy,
// rename, checksum and look at processes).
const BASIC_TOOLS = [
  'sh', 'cat', 'head', 'tail', 'tr', 'grep', 'readlink', 'basename', 'id', 'date', 'wc', 'test', 'timeout', 'sleep', 'printf', 'uname', 'stat', 'ls',
  'sed', 'mkdir', 'rm', 'cp', 'mv', 'chown', 'chmod', 'sync', 'df', 'sha256sum', 'md5sum', 'kill', 'ps',
];

export function recordedServer(
  platform: string,
  options: {
    flavour?: ShellFlavour;
    files?: Record<string, string | null>;
    recording?: Recording;
    withoutTools?: string[];
    extraTools?: string[];
    /** Commands that do something rather than answer from a transcript: name → sh script body. */
    scripts?: Record<string, string>;
  } = {},
): RecordedServer {
  const flavour = options.flavour ?? 'dash';
  const work = mkdtempSync(path.join(tmpdir(), `reclaim-recorded-${platform}-`));
  const root = path.join(work, 'root');
  const bin = path.join(work, 'bin');
  const fixture = path.join(FIXTURES, platform);
  mkdirSync(root);
  if (existsSync(path.join(fixture, 'root'))) cpSync(path.join(fixture, 'root'), root, { recursive: true, verbatimSymlinks: true });
  for (const [file, content] of Object.entries(options.files ?? {})) {
    const target = path.join(root, file);
    if (content === null) {
      rmSync(target, { recursive: true, force: true });
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  const recorded: Recording = existsSync(path.join(fixture, 'commands.json')) ? JSON.parse(readFileSync(path.join(fixture, 'commands.json'), 'utf8')) : {};
  const commands = { ...recorded.commands, ...options.recording?.commands };
  const env = { ...recorded.env, ...options.recording?.env };

  mkdirSync(bin);
  const shellPath = flavour === 'busybox' ? '/usr/bin/busybox' : '/usr/bin/dash';
  for (const tool of [...BASIC_TOOLS, ...(options.extraTools ?? [])]) {
    if (commands[tool] || options.withoutTools?.includes(tool)) continue;
    const target = flavour === 'busybox' ? '/usr/bin/busybox' : tool === 'sh' ? '/usr/bin/dash' : which(tool);
    symlinkSync(target, path.join(bin, tool));
  }
  for (const [name, answers] of Object.entries(commands)) {
    writeStub(path.join(bin, name), shellPath, flavour, answers, fixture);
  }
  for (const [name, body] of Object.entries(options.scripts ?? {})) {
    writeFileSync(path.join(bin, name), `${flavour === 'busybox' ? `#!${shellPath} sh` : `#!${shellPath}`}
${body}
`);
    chmodSync(path.join(bin, name), 0o755);
  }

  const sent: string[] = [];
  const shell: ServerShell = (command: string, runOptions: RunOptions = {}) => {
    sent.push(command);
    return runLocally(command, runOptions, { PATH: bin, HOME: env.HOME ?? '/root', LC_ALL: 'C', ...env }, shellPath, flavour);
  };
  return { root, shell, sent, close: () => rmSync(work, { recursive: true, force: true }) };
}

function which(tool: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (existsSync(path.join(dir, tool))) return path.join(dir, tool);
  throw new Error(`the test machine has no ${tool}`);
}

function globPattern(glob: string): string {
  return glob.split('*').map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join('*');
}

function writeStub(file: string, shellPath: string, flavour: ShellFlavour, answers: RecordedCommand[], fixture: string): void {
  const name = path.basename(file);
  const cases = answers.map((answer) => {
    const output = answer.file ? `cat '${path.join(fixture, answer.file)}'` : `printf '%s' '${(answer.stdout ?? '').replace(/'/g, `'\\''`)}'`;
    return `  ${globPattern(answer.args)}) ${output}; exit ${answer.exit ?? 0} ;;`;
  });
  const shebang = flavour === 'busybox' ? `#!${shellPath} sh` : `#!${shellPath}`;
  writeFileSync(file, [shebang, 'case "$*" in', ...cases, 'esac', `echo "${name}: no recorded answer for: $*" >&2`, 'exit 127', ''].join('\n'));
  chmodSync(file, 0o755);
}

function runLocally(command: string, options: RunOptions, env: Record<string, string>, shellPath: string, flavour: ShellFlavour): Promise<RemoteResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const limit = options.maxOutputBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const args = flavour === 'busybox' ? ['sh', '-c', command] : ['-c', command];
    const child = spawn(shellPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
      reject(new RemoteTimeoutError(timeoutMs));
    }, timeoutMs);
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      if (size + chunk.length > limit) {
        into.push(chunk.subarray(0, Math.max(0, limit - size)));
        size = limit;
        truncated = true;
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
        return;
      }
      size += chunk.length;
      into.push(chunk);
    };
    child.stdout.on('data', take(out));
    child.stderr.on('data', take(err));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), truncated });
    });
    child.stdin.on('error', () => { /* a command that exits without reading its input */ });
    child.stdin.end(options.stdin ?? '');
  });
}
