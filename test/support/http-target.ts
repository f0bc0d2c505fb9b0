// Starts http-target-server.mjs: the stand-in for the server's 127.0.0.1:32400.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { netnsSpawn, type NetHost } from './netns.js';
import { stopChild } from './child.js';

const SCRIPT = fileURLToPath(new URL('./http-target-server.mjs', import.meta.url));

export interface HttpTarget { port: number; stop(): Promise<void> }

/**
 * With `host`: runs inside that namespace on 127.0.0.1:<port> (default 32400),
 * so it is reachable only through an SSH tunnel to that host.
 * Without: 127.0.0.1 in the root namespace (port 0 = any free port).
 * Endpoints: GET /hello, GET /bytes?n=N, GET /peer.
 */
export async function startHttpTarget(options: { host?: NetHost; port?: number } = {}): Promise<HttpTarget> {
  const args = [SCRIPT, String(options.port ?? 32400)];
  // stdin is a pipe on purpose: the server exits when it closes (we died).
  const child: ChildProcess = options.host
    ? netnsSpawn(options.host, process.execPath, args, { stdio: 'pipe' })
    : spawn(process.execPath, args, { stdio: 'pipe' });

  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('did not print "listening <port>" within 10 s')), 10_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /^listening (\d+)$/m.exec(output);
      if (m) {
        cleanup();
        resolve(Number(m[1]));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`exited with ${code} before listening`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    const fail = (err: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`http target: ${err.message}. Output:\n${output}`));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', onExit);
    child.once('error', fail);
  });
  child.stdout!.resume(); // keep draining so the child never blocks on a full pipe

  let stopped: Promise<void> | undefined;
  return {
    port,
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
}
