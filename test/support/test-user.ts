// The local Linux account the test sshd instances let in. Requires root.
import { execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TestUser { name: string; home: string; password: string; uid: number; gid: number }

const USER = 'reclaimtest';
const SECRET_FILE = '/var/tmp/reclaim-test-user.secret';
// Serialises useradd/chpasswd between racing test processes (flock(1)).
const LOCK_FILE = '/run/lock/reclaim-test-user.lock';

/**
 * All test processes (vitest runs files in parallel workers, and two runs may
 * overlap) must agree on the password, so it is derived from a secret created
 * once. Written to a temp file first and then hard-linked into place: link()
 * fails with EEXIST atomically, so nobody can ever read a half-written secret.
 * Delete the file to rotate the password.
 */
function readOrCreateSecret(): Buffer {
  const tmp = `${SECRET_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, randomBytes(32).toString('hex'), { mode: 0o600 });
  try {
    linkSync(tmp, SECRET_FILE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const secret = readFileSync(SECRET_FILE);
  if (secret.length < 32) throw new Error(`${SECRET_FILE} looks truncated; delete it and rerun`);
  return secret;
}

/** Runs a command under the test-user lock, with `stdin` as its input (none if undefined). */
export function runLocked(args: string[], stdin?: string): Promise<void> {
  mkdirSync('/run/lock', { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['-w', '30', LOCK_FILE, ...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    // A command that exits before reading its input (flock giving up, say) breaks the pipe: the
    // write fails with EPIPE, an 'error' event that would otherwise go unhandled. Both that and
    // the exit decide the outcome, so wait for the input to be written or refused as well.
    const inputDone = new Promise<Error | undefined>((settle) => {
      if (!child.stdin) return settle(undefined);
      child.stdin.on('error', (error) => settle(error));
      child.stdin.once('finish', () => settle(undefined));
      child.stdin.end(stdin);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      void inputDone.then((inputError) => {
        if (code !== 0) reject(new Error(`${args[0]} exited with ${code}: ${stderr.trim()}`));
        else if (inputError) reject(new Error(`${args[0]} exited before reading all its input (${inputError.message})`));
        else resolve();
      });
    });
  });
}

let cached: Promise<TestUser> | undefined;

export function ensureTestUser(): Promise<TestUser> {
  cached ??= (async () => {
    await runLocked(['sh', '-c', `id -u ${USER} >/dev/null 2>&1 || useradd -m -s /bin/bash ${USER}`]);
    const password = createHmac('sha256', readOrCreateSecret()).update(USER).digest('base64url').slice(0, 24);
    // Password goes through stdin only, never argv (visible in ps).
    await runLocked(['chpasswd'], `${USER}:${password}\n`);
    const { stdout } = await execFileP('getent', ['passwd', USER]);
    const [, , uid, gid, , home] = stdout.trim().split(':');
    return { name: USER, home: home ?? `/home/${USER}`, password, uid: Number(uid), gid: Number(gid) };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
