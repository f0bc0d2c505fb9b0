// The server side of the link benchmark: a network namespace "server" with the Plex Web
// stand-in (bench/plex-web-target.mjs) on its own 127.0.0.1:32400 and a real sshd on its veth
// address; in front of sshd, one bench/link-relay.mjs per round-trip time (latency, and the
// record of what crossed), and `tc … tbf` on both ends of the veth for a rate cap.
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { makeKeyPair, type KeyPair } from '../../test/support/keys.js';
import { createNetHost, netnsSpawn, type NetHost } from '../../test/support/netns.js';
import { startSshd, type Sshd } from '../../test/support/sshd.js';
import type { RelayRecord } from './flights.js';
import { LineWatcher, run, spawnTracked } from './proc.js';
import { REPO_ROOT, type TunnelTarget } from './tunnels.js';

const PAGE_TARGET = path.join(REPO_ROOT, 'bench/plex-web-target.mjs');
const RELAY = path.join(REPO_ROOT, 'bench/link-relay.mjs');

export interface PageShape { pageBytes: number; scripts: number; styles: number; apiCalls: number }

export interface LinkBed {
  dir: string;
  key: KeyPair;
  host: NetHost;
  sshd: Sshd;
  shape: PageShape;
  /**
   * Where the browser and the tunnels it loads through run: a namespace of their own, so that
   * Chromium does not see other people's tests add and remove veths on this machine (it aborts
   * every request in flight with ERR_NETWORK_CHANGED when the machine's addresses change). It
   * reaches relays on its link's root-side address, `browserNet.peerAddress`.
   */
  browserNet: NetHost;
  /** One file for every relay: `[host]:<relay port>` lines with sshd's key. */
  knownHostsPath: string;
  /** Rate cap on both directions of the namespace's link (undefined removes it). */
  setRate(mbit: number | undefined): Promise<void>;
}

export async function createLinkBed(dir: string): Promise<LinkBed> {
  const sub = await mkdtemp(path.join(dir, 'link-'));
  const key = await makeKeyPair(sub, { type: 'ed25519' });
  const host = await createNetHost();
  const shape = await startPageTarget(host);
  const sshd = await startSshd({ host, authorizedKeys: [key.publicLine] });
  const browserNet = await createNetHost();
  const knownHostsPath = path.join(sub, 'known_hosts');
  await writeFile(knownHostsPath, '');
  const rootSide = await rootSideDevice(host);
  // Server → client leaves through the namespace's eth0, client → server through the root end.
  const ends: Array<{ prefix: string[]; dev: string }> = [{ prefix: ['ip', 'netns', 'exec', host.name, 'tc'], dev: 'eth0' }, { prefix: ['tc'], dev: rootSide }];
  const tc = async (prefix: string[], args: string[], mustWork = true) => {
    const res = await run(prefix[0]!, [...prefix.slice(1), ...args], 10_000);
    if (mustWork && res.code !== 0) throw new Error(`${[...prefix, ...args].join(' ')} failed: ${res.stderr.trim()}`);
  };
  return {
    dir: sub, key, host, sshd, shape, knownHostsPath, browserNet,
    async setRate(mbit) {
      for (const end of ends) {
        await tc(end.prefix, ['qdisc', 'del', 'dev', end.dev, 'root'], false); // none yet is fine
        // burst: a few full-size (GSO) packets; limit: about 100 ms of queue at that rate.
        if (mbit !== undefined) {
          await tc(end.prefix, ['qdisc', 'add', 'dev', end.dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '64kb', 'limit', `${Math.max(256, Math.round(mbit * 12.5))}kb`]);
        }
      }
    },
  };
}

/** The root namespace's end of the host's veth (it carries client → server traffic out). */
async function rootSideDevice(host: NetHost): Promise<string> {
  const res = await run('ip', ['-o', '-4', 'addr', 'show', 'to', `${host.peerAddress}/32`], 10_000);
  const device = /^\d+:\s+(\S+)/.exec(res.stdout.trim())?.[1];
  if (!device) throw new Error(`no root-side device has ${host.peerAddress}: ${res.stdout}${res.stderr}`);
  return device.replace(/@.*$/, '');
}

/** Starts the Plex Web stand-in inside the namespace; it dies with the namespace (or our stdin). */
async function startPageTarget(host: NetHost): Promise<PageShape> {
  const child = netnsSpawn(host, process.execPath, [PAGE_TARGET, '32400'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new LineWatcher(child.stdout!);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const line = await out.waitFor(/^listening 32400 /, 10_000, 'plex-web-target "listening 32400"', exited);
  return JSON.parse(line.replace(/^listening 32400 /, '')) as PageShape;
}

export interface Relay {
  rttMs: number;
  /** The address it listens on: 127.0.0.1, or the browser namespace's way out. */
  address: string;
  port: number;
  target(bed: LinkBed): TunnelTarget;
  /** Resolves with the next connection's accept time (ns) that arrives after this call. */
  nextAccept(timeoutMs: number): Promise<{ id: number; t: bigint }>;
  /** The record of connection `id`, once both its ends closed. */
  record(id: number, timeoutMs: number): Promise<RelayRecord>;
  stop(): void;
}

/** A relay with `rttMs` of round trip (half each way) in front of the bed's sshd, listening on `address`. */
export async function startRelay(bed: LinkBed, rttMs: number, address = '127.0.0.1'): Promise<Relay> {
  const child: ChildProcess = spawnTracked(process.execPath, [RELAY, String(rttMs / 2), bed.host.address, '22', address], { stdio: ['pipe', 'pipe', 'inherit'] });
  const accepts: Array<{ id: number; t: bigint }> = [];
  const records = new Map<number, RelayRecord>();
  const waiters = new Set<() => void>();
  let port: number | undefined;
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening) port = Number(listening[1]);
      else if (line.startsWith('{')) {
        const message = JSON.parse(line) as { event: string; id: number; t?: string } & RelayRecord;
        if (message.event === 'accept') accepts.push({ id: message.id, t: BigInt(message.t!) });
        else if (message.event === 'record') records.set(message.id, message);
      }
    }
    for (const wake of [...waiters]) wake();
  });
  const waitUntil = <T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const found = get();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`link relay: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const value = get();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(value);
      };
      waiters.add(check);
    });
  };
  const relayPort = await waitUntil(() => port, 10_000, '"listening <port>"');
  const hostKey = bed.sshd.hostKeys[0]!;
  await appendFile(bed.knownHostsPath, `[${address}]:${relayPort} ${hostKey.type} ${hostKey.blob.toString('base64')}\n`);
  return {
    rttMs,
    address,
    port: relayPort,
    target: (b) => ({ user: b.sshd.user.name, host: address, port: relayPort, keyPath: b.key.privatePath, knownHostsPath: b.knownHostsPath }),
    nextAccept(timeoutMs) {
      const seen = accepts.length;
      return waitUntil(() => accepts[seen], timeoutMs, 'new connection');
    },
    record(id, timeoutMs) {
      return waitUntil(() => records.get(id), timeoutMs, `record of connection ${id}`);
    },
    stop() {
      child.stdin!.end();
      child.kill();
    },
  };
}
