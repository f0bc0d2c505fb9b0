// The server side of the benchmark, built from the integration-test support code: a network
// namespace "server" with the HTTP target on its own 127.0.0.1:32400 and a real sshd on
// host.address:22 that lets our throwaway ed25519 key in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startHttpTarget, type HttpTarget } from '../../test/support/http-target.js';
import { makeKeyPair, type KeyPair } from '../../test/support/keys.js';
import { createNetHost, destroyAllNetHosts, type NetHost } from '../../test/support/netns.js';
import { startSshd, stopAllSshds, type Sshd } from '../../test/support/sshd.js';
import { cpuSec, killAllTrackedSync, procStat, run } from './proc.js';
import type { TunnelTarget } from './tunnels.js';

export interface Testbed {
  dir: string;
  key: KeyPair;
  host: NetHost;
  sshd: Sshd;
  target: HttpTarget;
  knownHostsPath: string;
  tunnelTarget: TunnelTarget;
}

/** Build one server; the caller owns `dir` (temp) and must call teardownAll(). */
export async function createTestbed(dir: string, options: { sshdConfig?: string[]; name?: string } = {}): Promise<Testbed> {
  const sub = await mkdtemp(path.join(dir, `${options.name ?? 'server'}-`));
  const key = await makeKeyPair(sub, { type: 'ed25519' });
  const host = await createNetHost();
  const target = await startHttpTarget({ host });
  const sshd = await startSshd({ host, authorizedKeys: [key.publicLine], config: options.sshdConfig });
  const knownHostsPath = path.join(sub, 'known_hosts');
  await writeFile(knownHostsPath, `${sshd.knownHostsLine()}\n`);
  return {
    dir: sub, key, host, sshd, target, knownHostsPath,
    tunnelTarget: { user: sshd.user.name, host: host.address, keyPath: key.privatePath, knownHostsPath },
  };
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'reclaim-bench-'));
}

/** Everything the support code started, in a safe order. Never throws. */
export async function teardownAll(dir: string | undefined): Promise<void> {
  await stopAllSshds().catch((e: Error) => console.error(`stopping sshd: ${e.message}`));
  // The http targets die with their namespace (deleteNetns kills every process in it).
  await destroyAllNetHosts().catch((e: Error) => console.error(`removing namespaces: ${e.message}`));
  if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
}

/** CPU seconds of the namespace's processes by kind: every sshd, and the HTTP target (node). */
export async function namespacePids(host: NetHost): Promise<number[]> {
  const res = await run('ip', ['netns', 'pids', host.name], 10_000);
  return res.stdout.split('\n').map(Number).filter((p) => p > 0);
}

export function namespaceCpu(pids: number[]): { sshd: number; target: number } {
  let sshd = 0;
  let target = 0;
  for (const pid of pids) {
    const st = procStat(pid);
    if (!st) continue;
    if (st.comm.startsWith('sshd')) sshd += cpuSec(pid);
    else if (st.comm === 'node') target += cpuSec(pid);
  }
  return { sshd, target };
}

/**
 * Runs a stand-alone bench script's job in a temp dir, then cleans up (tracked processes,
 * namespaces, the dir) exactly once: on success, failure, a signal, or when `minutes` run out.
 */
export async function runScript(name: string, minutes: number, job: (dir: string) => Promise<void>): Promise<never> {
  let dir: string | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    killAllTrackedSync();
    await teardownAll(dir);
  })());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      const force = setTimeout(() => process.exit(130), 20_000);
      void cleanup().finally(() => {
        clearTimeout(force);
        process.exit(130);
      });
    });
  }
  const deadline = setTimeout(() => {
    console.error(`${name} exceeded ${minutes} minutes: aborting`);
    void cleanup().finally(() => process.exit(1));
  }, minutes * 60_000);
  let code = 0;
  try {
    if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces and sshd need it)');
    dir = await makeTempDir();
    await job(dir);
  } catch (error) {
    console.error(`${name} failed: ${(error as Error)?.stack ?? String(error)}`);
    code = 1;
  }
  clearTimeout(deadline);
  await cleanup();
  process.exit(code);
}
