// Starts pms-server.mjs, the Plex Media Server stand-in, inside a NetHost on 127.0.0.1:32400 —
// reachable only through an SSH tunnel to that host, like the real server's loopback port.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { netnsSpawn, type NetHost } from '../support/netns.js';
import { stopChild } from '../support/child.js';

const SCRIPT = fileURLToPath(new URL('./pms-server.mjs', import.meta.url));
const START_TIMEOUT_MS = 10_000;
const STATE_TIMEOUT_MS = 5_000;

export interface PmsOptions {
  host: NetHost;
  /** plex.tv stand-in as seen from inside the namespace: startPlexTv({ host: host.peerAddress }).url */
  plexTvUrl: string;
  /** 40 hex; default derived like pms-docker does (sha1 of "<uuid>- Plex Media Server"). */
  machineIdentifier?: string;
  friendlyName?: string;
  version?: string;
  /** Start already claimed by this account; `token` is accepted as the owner's token. */
  claimedBy?: { username: string; token: string; email?: string };
  /** The first N HTTP requests answer 503 "server is still starting up. Please retry later". */
  startingUpRequests?: number;
  /** Make the named endpoint answer broken/unexpected content (claim-html still claims). */
  malformed?: 'identity-garbage' | 'identity-missing-claimed' | 'claim-html';
  /** Also listen on host.address:32400, as a real PMS bound to all interfaces would: only for testing non-loopback callers. */
  alsoListenOnHostAddress?: boolean;
  /** Bound on each call the PMS makes to plex.tv (default 10 s). */
  plexTvTimeoutMs?: number;
}

export interface PmsState { claimed: boolean; owner?: string; claimRequests: Array<{ from: string }> }

export interface Pms {
  port: 32400;
  machineIdentifier: string;
  state(): Promise<PmsState>;
  stop(): Promise<void>;
}

/** The PMS may only call plex.tv on loopback or on its own namespace link (test network rule). */
function checkPlexTvUrl(plexTvUrl: string, host: NetHost): void {
  const hostname = new URL(plexTvUrl).hostname.replace(/^\[|\]$/g, '');
  if (/^127\./.test(hostname) || hostname === '::1' || hostname === host.peerAddress || hostname === host.address) return;
  throw new Error(`plexTvUrl must point at loopback or ${host.peerAddress} (the namespace's peer), not ${hostname}`);
}

export async function startPms(options: PmsOptions): Promise<Pms> {
  checkPlexTvUrl(options.plexTvUrl, options.host);
  const machineIdentifier = options.machineIdentifier
    ?? createHash('sha1').update(`${randomUUID()}- Plex Media Server`).digest('hex');
  const config = {
    port: 32400,
    listen: options.alsoListenOnHostAddress ? ['127.0.0.1', options.host.address] : ['127.0.0.1'],
    plexTvUrl: options.plexTvUrl,
    plexTvTimeoutMs: options.plexTvTimeoutMs,
    machineIdentifier,
    friendlyName: options.friendlyName,
    version: options.version,
    claimedBy: options.claimedBy,
    startingUpRequests: options.startingUpRequests,
    malformed: options.malformed,
  };
  // stdin is a pipe on purpose: the server exits when it closes (we died); it also carries "state" queries.
  const child: ChildProcess = netnsSpawn(options.host, process.execPath, [SCRIPT, JSON.stringify(config)], { stdio: 'pipe' });
  child.stdin!.on('error', () => {}); // a dead child shows up as a state() timeout, not a crash
  const lines = createInterface({ input: child.stdout! });
  const stateWaiters = new Map<string, (state: PmsState) => void>();
  let output = '';

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`did not print "listening 32400" within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const onLine = (line: string) => {
      output += `${line}\n`;
      if (line === 'listening 32400') {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(new Error(`exited with ${code} before listening`));
    const cleanup = () => {
      clearTimeout(timer);
      lines.off('line', onLine);
      child.off('exit', onExit);
    };
    const fail = (err: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`PMS stand-in: ${err.message}. Output:\n${output}`));
    };
    lines.on('line', onLine);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', onExit);
    child.once('error', fail);
  });

  lines.on('line', (line) => {
    const m = /^state (\d+) (.*)$/.exec(line);
    if (m) stateWaiters.get(m[1]!)?.(JSON.parse(m[2]!) as PmsState);
  });

  let nextId = 0;
  let stopped: Promise<void> | undefined;
  return {
    port: 32400,
    machineIdentifier,
    state() {
      const id = String(nextId++);
      return new Promise<PmsState>((resolve, reject) => {
        const timer = setTimeout(() => {
          stateWaiters.delete(id);
          reject(new Error(`PMS stand-in did not answer "state" within ${STATE_TIMEOUT_MS} ms. Output:\n${output}`));
        }, STATE_TIMEOUT_MS);
        stateWaiters.set(id, (state) => {
          clearTimeout(timer);
          stateWaiters.delete(id);
          resolve(state);
        });
        child.stdin!.write(`state ${id}\n`);
      });
    },
    stop() {
      stopped ??= stopChild(child);
      return stopped;
    },
  };
}
