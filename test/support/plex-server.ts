import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startPlexTv, type PlexTv } from '../stand-ins/plex-tv.js';
import { startPms, type Pms, type PmsOptions } from '../stand-ins/pms.js';
import { makeKeyPair, type KeyPair } from './keys.js';
import { createNetHost, type NetHost } from './netns.js';
import { startSshd, type Sshd } from './sshd.js';

// The scene for claim and diagnose tests: a "server" namespace with a real sshd, a Plex Media
// Server stand-in on its own 127.0.0.1:32400 (one at a time, restarted per test for a clean
// state), and the plex.tv stand-in at the root side of the server's link, which both this test
// process and the PMS inside the namespace can reach.

export interface PlexServerScene {
  home: string;
  key: KeyPair;
  server: NetHost;
  sshd: Sshd;
  plexTv: PlexTv;
  knownHosts: string;
  /** Starts a new PMS (stopping the previous one). */
  freshPms(options?: Partial<PmsOptions>): Promise<Pms>;
  /** Stops the PMS and brings plex.tv back up: call after each test. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startPlexServerScene(name: string): Promise<PlexServerScene> {
  const home = await mkdtemp(path.join(os.tmpdir(), `reclaim-${name}-`));
  const key = await makeKeyPair(home, { type: 'ed25519' });
  const server = await createNetHost();
  const sshd = await startSshd({ host: server, authorizedKeys: [key.publicLine] });
  const plexTv = await startPlexTv({ host: server.peerAddress });
  const knownHosts = path.join(home, 'known_hosts');
  await writeFile(knownHosts, `${sshd.knownHostsLine()}\n`);
  let pms: Pms | undefined;
  const stopPms = async () => {
    await pms?.stop();
    pms = undefined;
  };
  return {
    home, key, server, sshd, plexTv, knownHosts,
    async freshPms(options = {}) {
      await stopPms();
      pms = await startPms({ host: server, plexTvUrl: plexTv.url, ...options });
      return pms;
    },
    async reset() {
      await stopPms();
      plexTv.setDown(false);
    },
    async close() {
      await stopPms();
      await sshd.stop();
      await plexTv.stop();
      await server.destroy();
      await rm(home, { recursive: true, force: true });
    },
  };
}
