// The real PuTTY (Debian's plink, package putty-tools) signing in to a test sshd, as a PuTTY user
// does, so that PuTTY itself writes what Reclaim then reads: its trusted host keys, from the
// person's "y" to PuTTY's question. plink asks on a terminal only, so it runs under script(1),
// which gives it one.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A saved session as PuTTY writes one on Linux: `Key=value` lines in <dir>/sessions/<escaped name>. */
export async function writePuttySession(puttyDir: string, fileName: string, settings: Record<string, string | number>): Promise<string> {
  const dir = path.join(puttyDir, 'sessions');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, fileName);
  await writeFile(file, Object.entries(settings).map(([key, value]) => `${key}=${value}\n`).join(''), { mode: 0o600 });
  return file;
}

/**
 * `plink -load <session> true` with PUTTYDIR=puttyDir, answering "y" when PuTTY asks whether to
 * store the server's host key. Resolves once plink has signed in, run the command and exited 0.
 */
export function plinkAcceptingHostKey(puttyDir: string, session: string, timeoutMs = 30_000): Promise<string> {
  // script(1) runs its argument through sh: the session name is quoted for it.
  const command = `plink -load '${session.replace(/'/g, `'\\''`)}' true`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH, HOME: puttyDir, PUTTYDIR: puttyDir, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let answered = false;
  let begun = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`plink did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      // PuTTY discards anything typed before it asks, so the answer goes only after the question.
      if (!answered && output.includes('Store key in cache?')) {
        answered = true;
        child.stdin.write('y\n');
      }
      // PuTTY's guard against servers faking its prompts, after a question was answered.
      if (!begun && output.includes('Press Return to begin session')) {
        begun = true;
        child.stdin.write('\n');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && answered) resolve(output);
      else reject(new Error(`plink exited with ${code}${answered ? '' : ' without asking about the host key'}:\n${output}`));
    });
  });
}
