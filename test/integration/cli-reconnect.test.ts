import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, runCli, type CliRun } from '../support/cli.js';
import { EventLog } from '../support/events.js';
import type { KeyPair } from '../support/keys.js';
import { httpGet } from '../support/net.js';
import type { NetHost } from '../support/netns.js';
import type { Sshd } from '../support/sshd.js';
import { startTunnelScene, type TunnelScene } from '../support/tunnel-scene.js';

// A running `reclaim tunnel` when the link or the server changes under it, as a person at the
// terminal sees it: a network that goes silent is noticed and said, and a server that no longer
// allows forwarding is said once, plainly, instead of "Reconnected".

const execFileP = promisify(execFile);

let home: string;
let key: KeyPair;
let server: NetHost;
let sshd: Sshd;
let knownHosts: string;
let scene: TunnelScene | undefined;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-cli-reconnect-'));
  scene = await startTunnelScene(home);
  ({ key, server, sshd, knownHosts } = scene);
});

afterAll(async () => {
  await scene?.stop();
  await rm(home, { recursive: true, force: true });
});

/** Everything a stream printed so far, after each chunk, to wait on. */
function textOf(stream: Readable): EventLog<string> {
  const log = new EventLog<string>();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => log.push((text += chunk)));
  return log;
}

/** The server's side of the link, as if its network cable were pulled (or plugged back in). */
const serverLink = (state: 'up' | 'down') => execFileP('ip', ['-n', server.name, 'link', 'set', 'eth0', state], { timeout: 15_000 });

async function startTunnel(): Promise<{ run: CliRun; stdout: EventLog<string>; stderr: EventLog<string>; port: number }> {
  const run = runCli(['tunnel', `${sshd.user.name}@${sshd.host}`, '-i', key.privatePath, '--known-hosts', knownHosts, '-L', '0'], { home });
  const stdout = textOf(run.child.stdout!);
  const stderr = textOf(run.child.stderr!);
  const ready = await stdout.waitFor((text) => /Tunnel ready: http:\/\/127\.0\.0\.1:(\d+)\/web/.test(text), 'the ready line');
  return { run, stdout, stderr, port: Number(/127\.0\.0\.1:(\d+)/.exec(ready)![1]) };
}

describe('a network that goes silent under a running tunnel', () => {
  it('is noticed and said ("connection lost, reconnecting"); a request made meanwhile waits and is served once the link is back', async () => {
    const { run, stdout, stderr, port } = await startTunnel();
    try {
      await serverLink('down');
      // Nothing closes the connection: only Reclaim's own keepalives can tell it is dead. The
      // bound is generous for "about 15 seconds", and far below the minute it used to take.
      await stderr.waitFor((text) => /connection lost, reconnecting/i.test(text), 'the connection-lost line', 40_000);
      const pending = httpGet(port, '/hello');
      await serverLink('up');
      expect(await pending).toEqual({ status: 200, body: 'hello from the server' });
      await stdout.waitFor((text) => text.includes(`Reconnected. The tunnel serves again at http://127.0.0.1:${port}/web`), 'the reconnected line', 60_000);
    } finally {
      await serverLink('up');
      run.child.kill('SIGTERM');
      expect((await exitOf(run)).code).toBe(0);
    }
  }, 150_000);
});

describe('a server that forbids forwarding after a reconnect', () => {
  it('says FORWARD_PROHIBITED once, never "Reconnected", and stops with exit status 1', async () => {
    const { run } = await startTunnel();
    try {
      sshd.setAuthorizedKeys([`restrict ${key.publicLine}`]);
      await sshd.restart();
      expect((await exitOf(run, 60_000)).code).toBe(1);
      const said = run.stdout() + run.stderr();
      expect(said).not.toContain('Reconnected');
      expect(said.match(/\(code FORWARD_PROHIBITED\)/g)).toHaveLength(1);
      expect(said).toMatch(/does not let this account forward connections/);
      expect(said).not.toContain('Warning:');
    } finally {
      sshd.setAuthorizedKeys([key.publicLine]);
      run.child.kill('SIGKILL');
    }
  }, 90_000);
});
