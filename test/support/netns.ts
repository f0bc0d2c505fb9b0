// Throwaway "hosts" for integration tests: each one is a Linux network
// namespace linked by a veth pair to its peer (the root namespace, or another
// NetHost). Requires root and iproute2.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { pidAlive } from './child.js';

const execFileP = promisify(execFile);

export interface NetHost {
  name: string;
  /** IPv4 of this host on its link to its peer. */
  address: string;
  /** IPv4 of the peer (root namespace or peer NetHost) on that link. */
  peerAddress: string;
  destroy(): Promise<void>;
}

// 10.201.0.0/16 is carved into 16384 /30 links ("slots").
const SLOT_COUNT = 16384;
const POOL = '10.201.0.0/16';
// Serialises "ensure guard route + add netns" against "remove guard route if
// no rcl-* netns is left", across every test process on the machine.
const LOCK_FILE = '/run/lock/reclaim-netns.lock';

const liveHosts = new Set<NetHost>();
const usedSlots = new Set<number>();
let counter = 0;

async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP('ip', args, { timeout: 15_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

async function withLock(script: string): Promise<void> {
  // flock(1) gives us a cross-process mutex without extra dependencies.
  mkdirSync('/run/lock', { recursive: true });
  await execFileP('flock', ['-w', '30', LOCK_FILE, 'sh', '-c', script], { timeout: 40_000 });
}

function slotAddresses(slot: number): { peer: string; host: string } {
  const base = slot * 4;
  const o3 = Math.floor(base / 256);
  const o4 = base % 256;
  return { peer: `10.201.${o3}.${o4 + 1}`, host: `10.201.${o3}.${o4 + 2}` };
}


async function listNetns(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** Kill every process inside the namespace, then delete it. */
async function deleteNetns(name: string): Promise<void> {
  const pids = (await ip('netns', 'pids', name).catch(() => ''))
    .split('\n').map(Number).filter((p) => p > 0);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  // Wait (bounded) for them to be reaped so the namespace really goes away.
  const deadline = Date.now() + 5_000;
  while (pids.some((p) => existsSync(`/proc/${p}`)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await ip('netns', 'delete', name).catch((err: Error) => {
    if (!/No such file|not found|Cannot remove/i.test(err.message)) throw err;
  });
}

/** Remove namespaces left behind by test processes that no longer exist. */
async function cleanupStale(): Promise<void> {
  for (const name of await listNetns()) {
    const m = /^rcl-(\d+)-\d+$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) await deleteNetns(name).catch(() => {});
  }
}

let staleCleaned: Promise<void> | undefined;

export async function createNetHost(options: { peer?: NetHost } = {}): Promise<NetHost> {
  staleCleaned ??= cleanupStale();
  await staleCleaned;
  const peer = options.peer;
  if (peer && !liveHosts.has(peer)) throw new Error(`peer ${peer.name} is not a live NetHost`);

  const name = `rcl-${process.pid}-${counter++}`;
  // A blackhole for the whole pool: root reaches hosts linked to it through the
  // more specific /30 routes, but a host hidden behind another host must not be
  // reachable — without this, root would send those packets to its default
  // gateway, i.e. off the machine.
  await withLock(`ip route replace unreachable ${POOL} && ip netns add ${name}`);

  let slot = -1;
  try {
    await ip('-n', name, 'link', 'set', 'lo', 'up');
    // The root-side veth end is named after its slot, so creating it atomically
    // reserves the slot against other test processes (their root-linked hosts
    // keep that name for their lifetime). Start from pid+counter to spread out.
    const start = (process.pid * 37 + counter * 7) % SLOT_COUNT;
    for (let i = 0; i < 256 && slot < 0; i++) {
      const candidate = (start + i) % SLOT_COUNT;
      if (usedSlots.has(candidate)) continue;
      try {
        await ip('link', 'add', `rcl${candidate}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
        slot = candidate;
      } catch (err) {
        if (!/exists/i.test((err as Error).message)) throw err;
      }
    }
    if (slot < 0) throw new Error('no free 10.201.x.x/30 slot after 256 attempts');
    usedSlots.add(slot);

    const addr = slotAddresses(slot);
    const link = `rcl${slot}`;
    const peerNs = peer ? ['-n', peer.name] : [];
    if (peer) await ip('link', 'set', link, 'netns', peer.name);
    await ip(...peerNs, 'addr', 'add', `${addr.peer}/30`, 'dev', link);
    await ip(...peerNs, 'link', 'set', link, 'up');
    await ip('-n', name, 'addr', 'add', `${addr.host}/30`, 'dev', 'eth0');
    await ip('-n', name, 'link', 'set', 'eth0', 'up');

    let destroyed: Promise<void> | undefined;
    const host: NetHost = {
      name,
      address: addr.host,
      peerAddress: addr.peer,
      destroy() {
        destroyed ??= (async () => {
          liveHosts.delete(host);
          // Deleting the veth explicitly makes its removal synchronous (netns
          // teardown frees it asynchronously), so the slot is free right away.
          await ip(...peerNs, 'link', 'del', link).catch(() => {});
          await deleteNetns(name);
          usedSlots.delete(slot);
        })();
        return destroyed;
      },
    };
    liveHosts.add(host);
    return host;
  } catch (err) {
    if (slot >= 0) await ip('link', 'del', `rcl${slot}`).catch(() => {});
    usedSlots.delete(slot);
    await deleteNetns(name).catch(() => {});
    throw err;
  }
}

/** afterAll safety net: destroy every NetHost this process created. */
export async function destroyAllNetHosts(): Promise<void> {
  // Children before parents is not required: deleting a netns removes its veths.
  for (const host of [...liveHosts].reverse()) await host.destroy();
  // Drop the guard route once no test namespace exists anywhere (under the lock
  // so we never remove it while another process is adding a host).
  await withLock(
    `ip netns list | grep -q '^rcl-' || ip route del unreachable ${POOL} 2>/dev/null; true`,
  ).catch(() => {});
}

// Last resort if a worker exits without afterAll (stale cleanup on the next
// run covers hard kills).
process.on('exit', () => {
  for (const host of liveHosts) {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', host.name], { encoding: 'utf8' });
      for (const pid of pids.split('\n').map(Number).filter((p) => p > 0)) process.kill(pid, 'SIGKILL');
      execFileSync('ip', ['netns', 'delete', host.name], { stdio: 'ignore' });
    } catch { /* best effort */ }
  }
});

/** Run `command` inside the host's namespace (`ip netns exec`). */
export function netnsSpawn(host: NetHost, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', host.name, command, ...args], options);
}
