import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exitOf, runCli } from '../support/cli.js';
import { makeKeyPair, type KeyPair } from '../support/keys.js';
import { createNetHost, type NetHost } from '../support/netns.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// A remote address (--remote) the server cannot look up is said as that, not as "nothing is
// listening there: is Plex running?". The server's resolver is its own loopback, where nothing
// answers, so the lookup fails at once and no name ever leaves the namespace.

let home: string;
let key: KeyPair;
let server: NetHost;
let sshd: Sshd;
let knownHosts: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'reclaim-remote-'));
  key = await makeKeyPair(home, { type: 'ed25519' });
  server = await createNetHost();
  // `ip netns exec` (how sshd is started there) mounts this over /etc/resolv.conf.
  await mkdir(`/etc/netns/${server.name}`, { recursive: true });
  await writeFile(`/etc/netns/${server.name}/resolv.conf`, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  sshd = await startSshd({ host: server, authorizedKeys: [key.publicLine] });
  knownHosts = path.join(home, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  await rm(`/etc/netns/${server?.name}`, { recursive: true, force: true });
  await server?.destroy();
  await rm(home, { recursive: true, force: true });
});

it('a --remote name the server cannot look up is FORWARD_FAILED naming the name, not "is Plex running?"', async () => {
  const run = runCli(['tunnel', `${sshd.user.name}@${sshd.host}`, '-i', key.privatePath, '--known-hosts', knownHosts,
    '-L', '0', '--remote', 'plex-box.invalid:32400', '--json'], { home });
  expect((await exitOf(run)).code).toBe(1);
  const error = run.events.events.at(-1)!;
  expect(error).toMatchObject({ event: 'error', code: 'FORWARD_FAILED', target: 'plex-box.invalid:32400' });
  expect(error.message).toContain('cannot find a machine called "plex-box.invalid"');
  expect(`${String(error.message)} ${String(error.fix)}`).not.toMatch(/Plex Media Server running|systemctl/);
});
