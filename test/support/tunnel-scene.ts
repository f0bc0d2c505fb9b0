import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startHttpTarget, type HttpTarget } from './http-target.js';
import { makeKeyPair, type KeyPair } from './keys.js';
import { createNetHost, type NetHost } from './netns.js';
import { startSshd, type Sshd } from './sshd.js';

// The scene most tunnel tests need: a server in its own namespace with an HTTP service on its
// 127.0.0.1:32400 side and a real sshd that accepts one ed25519 key, and a known_hosts file (in
// `dir`) that already trusts it.

export interface TunnelScene {
  key: KeyPair;
  server: NetHost;
  sshd: Sshd;
  target: HttpTarget;
  knownHosts: string;
  stop(): Promise<void>;
}

export async function startTunnelScene(dir: string): Promise<TunnelScene> {
  const key = await makeKeyPair(dir, { type: 'ed25519' });
  const server = await createNetHost();
  const target = await startHttpTarget({ host: server });
  const sshd = await startSshd({ host: server, authorizedKeys: [key.publicLine] });
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n`);
  return {
    key, server, sshd, target, knownHosts,
    async stop() {
      await sshd.stop();
      await target.stop();
      await server.destroy();
    },
  };
}
