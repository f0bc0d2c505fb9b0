// "Time to Plex Web" over WAN-like links (issue #13): for each link (round-trip time, with and
// without a rate cap), Reclaim and `ssh -N -L` side by side, alternated every round:
//   1. start → first reply: the CLI (process start until GET /hello answered through the tunnel;
//      the client retries every 5 ms from the start, so each tunnel answers as early as it can),
//      and the app's core (AppService.connect() called in a warm process, until its first GET);
//   2. Plex Web's first load in Chromium through each tunnel (load event, last API reply);
//   3. round trips by phase of each CLI start (lib/flights.ts), and CLI start-up (process start
//      until the first byte of its connection reaches the relay).
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../test/support/net.js';
import { countRoundTrips, PHASES, phaseTimes, type Phase, type PhaseCuts, type RelayRecord } from './flights.js';
import { createLinkBed, startRelay, type LinkBed, type Relay } from './link-bed.js';
import { LineWatcher, spawnTracked, waitExit } from './proc.js';
import { fmt, median } from './stats.js';
import { CLI, opensshArgs, REPO_ROOT, startOpenSsh, startReclaim, type RunningTunnel, type TunnelTarget } from './tunnels.js';

const CHROMIUM = '/usr/bin/chromium';
const DRIVER = path.join(REPO_ROOT, 'bench/app-connect-driver.mjs');
const POLL_MS = 5;
const FIRST_REPLY_TIMEOUT_MS = 60_000;
const PAGE_TIMEOUT_MS = 120_000;

export interface Link { rttMs: number; mbit?: number }
export const linkLabel = (link: Link): string => `${link.rttMs} ms${link.mbit ? `, ${link.mbit} Mbit/s` : ''}`;

export interface LinkConfig {
  links: Link[];
  /** Start → first reply rounds per link (each: Reclaim CLI, OpenSSH, Reclaim app). */
  rounds: number;
  /** Page loads per tunnel and link, after one unmeasured load each. */
  pageRounds: number;
}

export type Starter = 'reclaim-cli' | 'openssh' | 'reclaim-app';

export interface StartSample {
  link: string;
  rttMs: number;
  starter: Starter;
  round: number;
  /** Start until the first reply, ms. */
  firstReplyMs: number;
  /** Process start (the app: connect() called) until its first byte reached the relay, ms. */
  startupMs?: number;
  /** App only: connect() called until it resolved, ms. */
  connectMs?: number;
  phases?: Record<Phase, number>;
  /** ms spent in each phase (lib/flights.ts phaseTimes). */
  phaseMs?: ReturnType<typeof phaseTimes>;
  /** What the relay saw and the cuts (ns), to recount or inspect later. */
  evidence?: { record: RelayRecord; cuts: Partial<Record<keyof PhaseCuts, string>> };
}

export interface PageSample { link: string; rttMs: number; tunnel: 'reclaim' | 'openssh'; round: number; loadMs: number; lastApiMs: number }

export interface LinkResults {
  config: LinkConfig;
  shape: LinkBed['shape'];
  starts: StartSample[];
  pages: PageSample[];
  /** Page loads done again because Chromium saw the machine's network change meanwhile. */
  retriedLoads: number;
  /** Starts that failed (left out of the medians). */
  failedStarts: Array<{ link: string; starter: Starter; error: string }>;
}

const MAX_FAILED_STARTS = 3;

/**
 * Below this round trip the count is not shown: the phase cuts are stamped when a child's line is
 * read here, which can lag by more than a one-way delay, and the CPU work between the waits is
 * as long as the waits themselves.
 */
const MIN_COUNTED_RTT_MS = 20;

const now = () => process.hrtime.bigint();
const msSince = (from: bigint, to: bigint) => Number(to - from) / 1e6;

/** Lines of a child's stream, each stamped (CLOCK_MONOTONIC) as it is read here. */
class StampedLines {
  private readonly watcher: LineWatcher;
  private readonly stamps: Array<{ t: bigint; line: string }> = [];
  private partial = '';

  constructor(stream: Readable) {
    this.watcher = new LineWatcher(stream);
    stream.on('data', (chunk: Buffer) => {
      const t = now();
      const lines = (this.partial + chunk.toString()).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (this.stamps.length < 10_000) this.stamps.push({ t, line });
    });
  }

  async stampOf(re: RegExp, timeoutMs: number, what: string): Promise<bigint> {
    await this.watcher.waitFor(re, timeoutMs, what);
    return this.stamps.find((s) => re.test(s.line))!.t;
  }

  text(): string {
    return this.watcher.text;
  }
}

/** GET /hello on the port until it answers (refusals and resets are retried every POLL_MS). */
async function firstHello(port: number, child: ChildProcess | undefined, deadline: number): Promise<bigint> {
  for (let attempt = 0; attempt < 1_000_000; attempt++) {
    if (Date.now() > deadline) throw new Error(`no reply on 127.0.0.1:${port} within ${FIRST_REPLY_TIMEOUT_MS} ms`);
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`the tunnel process exited (${child.exitCode ?? child.signalCode}) before the first reply`);
    const answer = await new Promise<bigint | Error | undefined>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/hello', agent: false, timeout: Math.max(1, deadline - Date.now()) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && body === 'hello from the server' ? now() : new Error(`GET /hello answered ${res.statusCode}: ${body.slice(0, 200)}`)));
        res.on('error', () => resolve(undefined));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(undefined));
    });
    if (answer instanceof Error) throw answer;
    if (answer !== undefined) return answer;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error('unreachable');
}

const stringCuts = (cuts: PhaseCuts) => Object.fromEntries(Object.entries(cuts).map(([k, v]) => [k, String(v)])) as Partial<Record<keyof PhaseCuts, string>>;

/** One CLI start (Reclaim's `reclaim tunnel` or `ssh -N -L`) through the relay, measured. */
async function cliStart(starter: 'reclaim-cli' | 'openssh', bed: LinkBed, relay: Relay): Promise<Omit<StartSample, 'link' | 'rttMs' | 'round'>> {
  const target = relay.target(bed);
  const port = await freePort();
  const sshdLogFrom = bed.sshd.log().length;
  const accepted = relay.nextAccept(FIRST_REPLY_TIMEOUT_MS);
  const signedIn = bed.sshd.waitForLog(/Accepted publickey for /, FIRST_REPLY_TIMEOUT_MS, sshdLogFrom).then(() => now());
  // Both are awaited later; a failed start must not leave them as unhandled rejections.
  accepted.catch(() => {});
  signedIn.catch(() => {});
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  delete env.SSH_AGENT_PID;
  const [command, args] = starter === 'reclaim-cli'
    ? [process.execPath, [CLI, 'tunnel', `${target.user}@${target.host}`, '-p', String(target.port), '-i', target.keyPath, '--known-hosts', target.knownHostsPath, '-L', String(port), '--json']]
    : ['ssh', opensshArgs(target, port)];
  const started = now();
  const child = spawnTracked(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = new StampedLines(child.stdout!);
  const stderr = new StampedLines(child.stderr!);
  try {
    const firstReply = await firstHello(port, child, Date.now() + FIRST_REPLY_TIMEOUT_MS);
    const ready = starter === 'reclaim-cli'
      ? await stdout.stampOf(/"event":"ready"/, 10_000, 'Reclaim {"event":"ready"}')
      : await stderr.stampOf(/debug1: Entering interactive session\./, 10_000, 'ssh "Entering interactive session."');
    const accept = await accepted;
    const signedInAt = await signedIn;
    child.kill('SIGTERM');
    await waitExit(child, 10_000);
    const record = await relay.record(accept.id, 15_000);
    const cuts = { signedIn: signedInAt, ready, firstReply, oneWayNs: BigInt(Math.round((relay.rttMs / 2) * 1e6)) };
    // A reset when the process is stopped comes after the measured window: only a cut-off record is unusable.
    if (record.truncated) throw new Error('the relay\'s record is cut off (too many chunks)');
    return { starter, firstReplyMs: msSince(started, firstReply), startupMs: msSince(started, accept.t), phases: countRoundTrips(record, cuts), phaseMs: phaseTimes(record, cuts),
      evidence: { record, cuts: stringCuts(cuts) },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await waitExit(child, 5_000);
    throw new Error(`${starter} start through the ${relay.rttMs} ms relay: ${(error as Error).message}\nstdout: ${stdout.text().slice(-1500)}\nstderr: ${stderr.text().slice(-1500)}`);
  }
}

/** The app's core in its own warm Node process (bench/app-connect-driver.mjs). */
class AppDriver {
  private constructor(private readonly child: ChildProcess, private readonly out: LineWatcher, private readonly err: LineWatcher) {}
  private nextId = 0;

  static async start(bed: LinkBed): Promise<AppDriver> {
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    const child = spawnTracked(process.execPath, [DRIVER, bed.dir, bed.knownHostsPath], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = new LineWatcher(child.stdout!);
    const err = new LineWatcher(child.stderr!);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await out.waitFor(/"event":"started"/, 30_000, 'app driver start', exited).catch((error: Error) => {
      throw new Error(`${error.message}\n${err.text.slice(-2000)}`);
    });
    return new AppDriver(child, out, err);
  }

  async connect(bed: LinkBed, relay: Relay): Promise<{ connectMs: number; firstReplyMs: number; status: string } & Pick<StartSample, 'startupMs' | 'phases' | 'phaseMs' | 'evidence'>> {
    const id = this.nextId++;
    const target = relay.target(bed);
    const sshdLogFrom = bed.sshd.log().length;
    const accepted = relay.nextAccept(FIRST_REPLY_TIMEOUT_MS);
    const signedIn = bed.sshd.waitForLog(/Accepted publickey for /, FIRST_REPLY_TIMEOUT_MS, sshdLogFrom).then(() => now());
    accepted.catch(() => {});
    signedIn.catch(() => {});
    this.child.stdin!.write(`${JSON.stringify({ id, host: target.host, port: target.port, user: target.user, keyPath: target.keyPath })}\n`);
    const line = await this.out.waitFor(new RegExp(`^\\{"id":${id},`), FIRST_REPLY_TIMEOUT_MS, `app driver answer ${id}`);
    const answer = JSON.parse(line) as { ok: boolean; error?: string; connectCalled: string; tunnelOpen?: string; connected: string; firstReply: string; status: string };
    if (!answer.ok) throw new Error(`app connect through the ${relay.rttMs} ms relay failed: ${answer.error}\n${this.err.text.slice(-1500)}`);
    // The driver answers once it has disconnected, so the relay's record is complete soon.
    const accept = await accepted;
    const record = await relay.record(accept.id, 15_000);
    if (record.truncated) throw new Error('the relay\'s record of the app\'s connection is cut off (too many chunks)');
    const connected = BigInt(answer.connected);
    const cuts: PhaseCuts = {
      signedIn: await signedIn,
      ready: answer.tunnelOpen ? BigInt(answer.tunnelOpen) : connected,
      statusRead: connected,
      firstReply: BigInt(answer.firstReply),
      oneWayNs: BigInt(Math.round((relay.rttMs / 2) * 1e6)),
    };
    return {
      connectMs: msSince(BigInt(answer.connectCalled), connected),
      startupMs: msSince(BigInt(answer.connectCalled), accept.t),
      firstReplyMs: msSince(BigInt(answer.connectCalled), BigInt(answer.firstReply)),
      status: answer.status,
      phases: countRoundTrips(record, cuts),
      phaseMs: phaseTimes(record, cuts),
      evidence: { record, cuts: stringCuts(cuts) },
    };
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await waitExit(this.child, 10_000);
  }
}

/** Chromium inside the bed's browser namespace (see LinkBed.browserNet). */
async function launchChromium(bed: LinkBed): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Debian's Chromium is missing (${CHROMIUM}). Install it: apt-get install chromium`);
  const launcher = path.join(bed.dir, 'chromium-in-netns');
  await writeFile(launcher, `#!/bin/sh\nexec ip netns exec ${bed.browserNet.name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  // The UI tests' flags; playwright gives it a fresh profile directory. Signals are the
  // benchmark's: playwright's own handlers would exit the process before the namespaces are
  // removed (it still kills the browser when the process exits).
  return chromium.launch({
    executablePath: launcher,
    headless: true,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/** One first load of the Plex Web stand-in in a fresh browser context (empty cache, new connections). */
async function loadPage(browser: Browser, port: number, shape: LinkBed['shape']): Promise<{ loadMs: number; lastApiMs: number }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(`${new URL(request.url()).pathname}: ${request.failure()?.errorText ?? '?'}`));
    try {
      return await measureLoad(page, port, shape);
    } catch (error) {
      throw new Error(`${(error as Error).message}${failed.length ? `; failed requests: ${failed.slice(0, 10).join(', ')}` : ''}`);
    }
  } finally {
    await context.close();
  }
}

async function measureLoad(page: Page, port: number, shape: LinkBed['shape']): Promise<{ loadMs: number; lastApiMs: number }> {
  {
    await page.goto(`http://127.0.0.1:${port}/web/index.html`, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS });
    const timing = await page.evaluate(async (timeoutMs) => {
      const w = window as unknown as { __apiDone?: Promise<{ at: number; bytes: number }>; __chunks?: number };
      const api = await Promise.race([w.__apiDone, new Promise<undefined>((resolve) => setTimeout(resolve, timeoutMs))]);
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { load: navigation.loadEventStart - navigation.startTime, api: api ? api.at - navigation.startTime : -1, chunks: w.__chunks ?? 0 };
    }, PAGE_TIMEOUT_MS);
    if (timing.api < 0) throw new Error('the API calls did not finish');
    if (timing.chunks !== shape.scripts - 1) throw new Error(`only ${timing.chunks} of ${shape.scripts - 1} scripts ran`);
    return { loadMs: timing.load, lastApiMs: timing.api };
  }
}

export async function runLinks(dir: string, config: LinkConfig, log: (line: string) => void): Promise<LinkResults> {
  const bed = await createLinkBed(dir);
  log(`link bench: server namespace ${bed.host.name}; page ${bed.shape.scripts} scripts + ${bed.shape.styles} styles + ${bed.shape.apiCalls} API calls, ${fmt(bed.shape.pageBytes / 1e6, 2)} MB`);
  const results: LinkResults = { config, shape: bed.shape, starts: [], pages: [], retriedLoads: 0, failedStarts: [] };
  const relays = new Map<number, Relay>();
  const browserRelays = new Map<number, Relay>();
  const running: RunningTunnel[] = [];
  let browser: Browser | undefined;
  let app: AppDriver | undefined;
  try {
    browser = await launchChromium(bed);
    app = await AppDriver.start(bed);
    for (const link of config.links) {
      const label = linkLabel(link);
      let relay = relays.get(link.rttMs);
      if (!relay) {
        relay = await startRelay(bed, link.rttMs);
        relays.set(link.rttMs, relay);
      }
      await bed.setRate(link.mbit);
      // Unmeasured: the app process has been open a while, and has connected before.
      if (results.starts.length === 0) await app.connect(bed, relay);

      for (let round = 0; round < config.rounds; round++) {
        const order: Starter[] = ['reclaim-cli', 'openssh', 'reclaim-app'];
        for (let k = 0; k < order.length; k++) {
          const starter = order[(k + round) % order.length]!;
          const base = { link: label, rttMs: link.rttMs, round };
          try {
            if (starter === 'reclaim-app') {
              const r = await app.connect(bed, relay);
              results.starts.push({ ...base, starter, firstReplyMs: r.firstReplyMs, connectMs: r.connectMs, startupMs: r.startupMs, phases: r.phases, phaseMs: r.phaseMs, evidence: r.evidence });
              log(`  ${label.padEnd(18)} round ${round + 1} ${starter.padEnd(11)} first reply ${fmt(r.firstReplyMs, 0)} ms (connect() ${fmt(r.connectMs, 0)} ms, status ${r.status}; round trips ${PHASES.map((p) => r.phases![p]).join('/')})`);
            } else {
              const s = await cliStart(starter, bed, relay);
              results.starts.push({ ...base, ...s });
              log(`  ${label.padEnd(18)} round ${round + 1} ${starter.padEnd(11)} first reply ${fmt(s.firstReplyMs, 0)} ms (start-up ${fmt(s.startupMs ?? NaN, 0)} ms; round trips ${PHASES.map((p) => s.phases![p]).join('/')})`);
            }
          } catch (error) {
            // One failed start is reported and left out of the medians (the table says how many);
            // more than a few mean something is broken, and the run stops.
            results.failedStarts.push({ link: label, starter, error: (error as Error).message.slice(0, 4000) });
            log(`  ${label.padEnd(18)} round ${round + 1} ${starter.padEnd(11)} FAILED: ${(error as Error).message.slice(0, 2000)}`);
            if (results.failedStarts.length > MAX_FAILED_STARTS) throw new Error(`${results.failedStarts.length} starts failed; the last: ${(error as Error).message}`);
          }
        }
      }

      // The page is loaded from the browser's namespace, through tunnels running there.
      let browserRelay = browserRelays.get(link.rttMs);
      if (!browserRelay) {
        browserRelay = await startRelay(bed, link.rttMs, bed.browserNet.peerAddress);
        browserRelays.set(link.rttMs, browserRelay);
      }
      const target: TunnelTarget = browserRelay.target(bed);
      const netns = bed.browserNet.name;
      const tunnels = [await startReclaim(target, { netns }), await startOpenSsh(target, { logDir: bed.dir, netns })];
      running.push(...tunnels);
      const load = async (t: RunningTunnel) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await loadPage(browser!, t.localPort, bed.shape);
          } catch (error) {
            // Chromium aborts requests when the machine's network changes, and other people's
            // tests add and remove namespaces and veths all the time: that load says nothing
            // about the tunnel, so it is done again (counted). Any other failure ends the run.
            const message = (error as Error).message;
            if (/ERR_NETWORK_CHANGED/.test(message) && !/net::ERR_(?!NETWORK_CHANGED)/.test(message) && attempt < 5) {
              results.retriedLoads++;
              log(`  ${label.padEnd(18)} page load through ${t.name} redone: Chromium saw the machine's network change (${message.slice(0, 120)})`);
              continue;
            }
            throw new Error(`page load through ${t.name} (${label}): ${message}\n${t.log().slice(-30).join('\n')}`);
          }
        }
      };
      for (const t of tunnels) await load(t); // unmeasured: JIT, first channels
      for (let round = 0; round < config.pageRounds; round++) {
        for (const t of round % 2 ? [...tunnels].reverse() : tunnels) {
          const p = await load(t);
          results.pages.push({ link: label, rttMs: link.rttMs, tunnel: t.name, round, ...p });
          log(`  ${label.padEnd(18)} page ${round + 1} ${t.name.padEnd(7)} load event ${fmt(p.loadMs, 0)} ms, last API reply ${fmt(p.lastApiMs, 0)} ms`);
        }
      }
      for (const t of running.splice(0)) await t.stop();
    }
    return results;
  } finally {
    for (const t of running) await t.stop().catch(() => {});
    await app?.stop().catch(() => {});
    await browser?.close().catch(() => {});
    for (const relay of [...relays.values(), ...browserRelays.values()]) relay.stop();
    await bed.setRate(undefined).catch(() => {});
  }
}

// ---- report ----------------------------------------------------------------------------------

const ratio = (a: number, b: number) => a / b;

export interface PhaseRow { phase: string; trips: number; ms: number }

export interface LinkSummaryRow {
  link: string;
  rttMs: number;
  mbit?: number;
  openssh: number;
  reclaimCli: number;
  reclaimApp: number;
  cliRatio: number;
  appRatio: number;
  roundTrips: { openssh: number; reclaimCli: number };
  pageLoad: { openssh: number; reclaim: number; ratio: number };
  lastApi: { openssh: number; reclaim: number; ratio: number };
}

export function summarizeLinks(results: LinkResults): { rows: LinkSummaryRow[]; startup: { reclaimCli: number; openssh: number }; phases: { link: string; rttMs: number; openssh: PhaseRow[]; reclaimCli: PhaseRow[]; reclaimApp: PhaseRow[] } | undefined } {
  const rows = results.config.links.map((link) => {
    const label = linkLabel(link);
    const starts = (starter: Starter) => results.starts.filter((s) => s.link === label && s.starter === starter);
    const firstReply = (starter: Starter) => median(starts(starter).map((s) => s.firstReplyMs));
    const trips = (starter: Starter) => median(starts(starter).map((s) => PHASES.reduce((n, p) => n + (s.phases?.[p] ?? 0), 0)));
    const pages = (tunnel: 'reclaim' | 'openssh', pick: (p: PageSample) => number) => median(results.pages.filter((p) => p.link === label && p.tunnel === tunnel).map(pick));
    const o = firstReply('openssh');
    const pageLoad = { openssh: pages('openssh', (p) => p.loadMs), reclaim: pages('reclaim', (p) => p.loadMs), ratio: NaN };
    pageLoad.ratio = ratio(pageLoad.reclaim, pageLoad.openssh);
    const lastApi = { openssh: pages('openssh', (p) => p.lastApiMs), reclaim: pages('reclaim', (p) => p.lastApiMs), ratio: NaN };
    lastApi.ratio = ratio(lastApi.reclaim, lastApi.openssh);
    return {
      link: label, rttMs: link.rttMs, mbit: link.mbit,
      openssh: o, reclaimCli: firstReply('reclaim-cli'), reclaimApp: firstReply('reclaim-app'),
      cliRatio: ratio(firstReply('reclaim-cli'), o), appRatio: ratio(firstReply('reclaim-app'), o),
      roundTrips: { openssh: trips('openssh'), reclaimCli: trips('reclaim-cli') },
      pageLoad, lastApi,
    };
  });
  const startup = {
    reclaimCli: median(results.starts.filter((s) => s.starter === 'reclaim-cli').map((s) => s.startupMs ?? NaN)),
    openssh: median(results.starts.filter((s) => s.starter === 'openssh').map((s) => s.startupMs ?? NaN)),
  };
  // Phases are read where round trips stand out most clearly from CPU time: the slowest link without a cap.
  const reference = [...results.config.links].filter((l) => !l.mbit).sort((a, b) => b.rttMs - a.rttMs)[0] ?? results.config.links[0];
  let phases;
  if (reference) {
    const label = linkLabel(reference);
    const of = (starter: Starter) => results.starts.filter((s) => s.link === label && s.starter === starter);
    const perPhase = (starter: Starter): PhaseRow[] => [
      { phase: 'start-up (to the first packet)', trips: NaN, ms: median(of(starter).map((s) => s.startupMs ?? NaN)) },
      { phase: 'TCP connect + version', trips: median(of(starter).map((s) => (s.phases?.['TCP connect'] ?? NaN) + (s.phases?.version ?? NaN))), ms: median(of(starter).map((s) => s.phaseMs?.['TCP connect + version'] ?? NaN)) },
      ...(['key exchange', 'sign-in', 'forward check', 'Plex status', 'first channel'] as const).map((phase) => ({
        phase, trips: median(of(starter).map((s) => s.phases?.[phase] ?? NaN)), ms: median(of(starter).map((s) => s.phaseMs?.[phase] ?? NaN)),
      })),
    ];
    phases = { link: label, rttMs: reference.rttMs, openssh: perPhase('openssh'), reclaimCli: perPhase('reclaim-cli'), reclaimApp: perPhase('reclaim-app') };
  }
  return { rows, startup, phases };
}

const md = (header: string[], rows: string[][]) => [
  `| ${header.join(' | ')} |`,
  `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

export function linkTables(results: LinkResults): string {
  const { rows, startup, phases } = summarizeLinks(results);
  const n = results.config.rounds;
  const out: string[] = [];
  out.push(`**Start → first reply** (ms, medians of ${n}; ratio = Reclaim / OpenSSH, below 1 is faster)\n`);
  out.push(md(
    ['link (round trip, rate cap)', 'OpenSSH `ssh -N -L`', 'Reclaim CLI', 'ratio', 'Reclaim app `connect()`', 'ratio', 'round trips OpenSSH / Reclaim CLI'],
    rows.map((r) => [r.link, fmt(r.openssh, 0), fmt(r.reclaimCli, 0), fmt(r.cliRatio, 2), fmt(r.reclaimApp, 0), fmt(r.appRatio, 2), r.rttMs >= MIN_COUNTED_RTT_MS ? `${fmt(r.roundTrips.openssh, 0)} / ${fmt(r.roundTrips.reclaimCli, 0)}` : '–']),
  ));
  out.push('\nOpenSSH and the Reclaim CLI: from starting the process; a client retries GET /hello every 5 ms from that moment. '
    + 'Reclaim app: from `AppService.connect()` in a Node process that is already running and has connected once before '
    + '(OpenSSH has no "already started" mode: its column is the same process start as above); connect() also reads Plex\'s '
    + `status (GET /identity and /) before it resolves, then one GET /hello. Round trips are not counted below ${MIN_COUNTED_RTT_MS} ms (–).`
    + (results.failedStarts.length ? ` FAILED and left out: ${results.failedStarts.map((f) => `${f.starter} on ${f.link}`).join(', ')} (errors in the JSON).` : ''));
  out.push(`\n**Plex Web first load in Chromium** (ms from navigation, medians of ${results.config.pageRounds}; a fresh browser context per load)\n`);
  out.push(md(
    ['link', 'load event OpenSSH', 'Reclaim', 'ratio', 'last API reply OpenSSH', 'Reclaim', 'ratio'],
    rows.map((r) => [r.link, fmt(r.pageLoad.openssh, 0), fmt(r.pageLoad.reclaim, 0), fmt(r.pageLoad.ratio, 2), fmt(r.lastApi.openssh, 0), fmt(r.lastApi.reclaim, 0), fmt(r.lastApi.ratio, 2)]),
  ));
  out.push(`\nPage: HTML, then ${results.shape.scripts} scripts and ${results.shape.styles} styles in parallel, then ${results.shape.apiCalls} API calls in parallel; ${fmt(results.shape.pageBytes / 1e6, 2)} MB in all.${results.retriedLoads ? ` ${results.retriedLoads} loads were redone because Chromium saw the machine's network change (other tests' namespaces).` : ''}`);
  if (phases) {
    out.push(`\n**Where the time goes** (start → first reply on the ${phases.link} link, medians: round trips, and ms)\n`);
    const sum = (rows: PhaseRow[], pick: (r: PhaseRow) => number) => rows.reduce((n, r) => n + (Number.isFinite(pick(r)) ? pick(r) : 0), 0);
    const cells = (r: PhaseRow) => [Number.isFinite(r.trips) ? fmt(r.trips, 0) : '', Number.isFinite(r.ms) ? fmt(r.ms, 0) : ''];
    const columns = [phases.openssh, phases.reclaimCli, phases.reclaimApp];
    out.push(md(['phase', 'OpenSSH round trips', 'ms', 'Reclaim CLI round trips', 'ms', 'Reclaim app round trips', 'ms'], [
      ...phases.openssh.map((o, i) => [o.phase, ...columns.flatMap((rows) => cells(rows[i]!))]),
      ['total', ...columns.flatMap((rows) => [fmt(sum(rows, (r) => r.trips), 0), fmt(sum(rows, (r) => r.ms), 0)])],
    ]));
    out.push(`\nA round trip is ${phases.rttMs} ms here; ms beyond round trips × ${phases.rttMs} is computing (either end) and waiting on the processes. `
      + 'Round trips are counted by the relay (lib/flights.ts): exchanges that overlap another count once. Phase ends: the client\'s key-exchange '
      + 'message after the KEXINITs, its NEWKEYS, sshd\'s "Accepted publickey", the tunnel\'s ready line (the app: its "checking-plex" step), '
      + 'the app\'s connect() resolving, the first reply. The app\'s start-up is from connect() (it is running already); it reads Plex\'s status before the first reply.');
  }
  out.push(`\n**CLI start-up** (process start → its first byte at the relay, ms, medians of all starts): Reclaim ${fmt(startup.reclaimCli, 0)}, OpenSSH ${fmt(startup.openssh, 0)}, ratio ${fmt(startup.reclaimCli / startup.openssh, 2)}`);
  return out.join('\n');
}

const envList = (name: string, fallback: string): number[] => {
  const raw = process.env[name] ?? fallback;
  const values = raw.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  if (values.some((x) => !Number.isFinite(x) || x < 0 || x > 2000)) throw new Error(`${name} must be a comma-separated list of numbers in [0, 2000], got "${raw}"`);
  return values;
};

/**
 * BENCH_LINKS: round-trip times in ms ("2,40,100,250"; "off" skips the section);
 * BENCH_LINK_MBIT: rate cap(s), each link is also run with each ("50"; "" for none);
 * BENCH_LINK_ROUNDS: start → first reply rounds per link (3); BENCH_PAGE_ROUNDS: page loads per tunnel and link (3).
 */
export function linkConfigFromEnv(): LinkConfig {
  const count = (name: string, fallback: number) => {
    const n = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error(`${name} must be an integer in [1, 50]`);
    return n;
  };
  if (process.env.BENCH_LINKS === 'off') return { links: [], rounds: 0, pageRounds: 0 };
  const rtts = envList('BENCH_LINKS', '2,40,100,250');
  const caps = envList('BENCH_LINK_MBIT', '50').filter((x) => x > 0);
  return {
    links: rtts.flatMap((rttMs) => [{ rttMs }, ...caps.map((mbit) => ({ rttMs, mbit }))]),
    rounds: count('BENCH_LINK_ROUNDS', 3),
    pageRounds: count('BENCH_PAGE_ROUNDS', 3),
  };
}
