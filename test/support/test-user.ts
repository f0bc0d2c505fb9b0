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

function locked(args: string[], stdin?: string): Promise<void> {
  mkdirSync('/run/lock', { recursive: true });
  return new Promise((resolve, reject) => {
    // A command that reads no input gets none: a pipe to one that has already exited fails with EPIPE.
    const child = spawn('flock', ['-w', '30', LOCK_FILE, ...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${args[0]} exited with ${code}: ${stderr.trim()}`));
    });
    if (stdin !== undefined) {
      // If the command dies before reading its input, its exit status (above) says why.
      child.stdin!.on('error', () => {});
      child.stdin!.end(stdin);
    }
  });
}

let cached: Promise<TestUser> | undefined;

export function ensureTestUser(): Promise<TestUser> {
  cached ??= (async () => {
    await locked(['sh', '-c', `id -u ${USER} >/dev/null 2>&1 || useradd -m -s /bin/bash ${USER}`]);
    const password = createHmac('sha256', readOrCreateSecret()).update(USER).digest('base64url').slice(0, 24);
    // Password goes through stdin only, never argv (visible in ps).
    await locked(['chpasswd'], `${USER}:${password}\n`);
    const { stdout } = await execFileP('getent', ['passwd', USER]);
    const [, , uid, gid, , home] = stdout.trim().split(':');
    return { name: USER, home: home ?? `/home/${USER}`, password, uid: Number(uid), gid: Number(gid) };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
