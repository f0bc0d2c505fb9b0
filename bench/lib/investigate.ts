// Where does Reclaim's time go? Run with `npm run bench -- --investigate` (after the main
// measurement) or on its own with `npx tsx bench/investigate.ts`. Everything here is evidence
// gathering on the same test bed; nothing in electron/ is changed:
//   1. negotiated kex/cipher/MAC and channel window/packet sizes, from an sshd at LogLevel DEBUG1;
//   2. V8 CPU profiles (node --cpu-prof) of the Reclaim CLI during a bulk and a connection-rate run,
//      restricted to the measured window: top self-time functions and a per-area breakdown;
//   3. perf (cpu-clock sampling) of both tunnel processes: time per shared object (kernel, libcrypto,
//      node, JIT code) and the hottest native symbols;
//   4. syscall counts of both tunnel processes (strace -c) per MB and per request;
//   5. sequential-request latency (concurrency 1), client-closes vs server-closes;
//   6. control runs that isolate one factor each: OpenSSH forced to ssh2's cipher (aes128-gcm),
//      OpenSSH without -v logging.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bulkDownload, connectionRate } from './clients.js';
import { compare, compareTable, type Contender } from './compare.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import { cpuSec, run, spawnTracked, waitExit } from './proc.js';
import { fmt, median, table } from './stats.js';
import { createTestbed, type Testbed } from './testbed.js';
import { startNodeRelay, startOpenSsh, startReclaim, type RunningTunnel } from './tunnels.js';

const BULK = 268_435_456;
const RATE_REQUESTS = 2000;
const CONCURRENCY = 12;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Workload {
  kind: 'bulk' | 'rate';
  value: number;
  tunnelCpuSec: number;
  fromUs: number;
  toUs: number;
}

/** Warm up, then one measured run; returns the CLOCK_MONOTONIC window of the measured part. */
async function workload(t: RunningTunnel, kind: 'bulk' | 'rate', repeat = 1): Promise<Workload> {
  if (kind === 'bulk') await bulkDownload(t.localPort, 33_554_432);
  else await connectionRate(t.localPort, 200, CONCURRENCY);
  const cpu0 = cpuSec(t.pid);
  const fromUs = nowUs();
  const values: number[] = [];
  for (let i = 0; i < repeat; i++) {
    if (kind === 'bulk') {
      const r = await bulkDownload(t.localPort, BULK);
      if (!r.ok) throw new Error(`${t.name} bulk failed: ${r.error}`);
      values.push(r.mbPerSec);
    } else {
      const r = await connectionRate(t.localPort, RATE_REQUESTS, CONCURRENCY);
      if (r.failed) throw new Error(`${t.name} rate run had ${r.failed} failures: ${JSON.stringify(r.errors)}`);
      values.push(r.reqPerSec);
    }
  }
  const toUs = nowUs();
  return { kind, value: median(values), tunnelCpuSec: (cpuSec(t.pid) - cpu0) / repeat, fromUs, toUs };
}

// ---------------------------------------------------------------------------------------------
// 1. Negotiation and channel parameters, from a separate server whose sshd logs at DEBUG1.

async function negotiation(dir: string, logDir: string) {
  const bed = await createTestbed(dir, { sshdConfig: ['LogLevel DEBUG1'], name: 'debug-server' });
  const result: Record<string, Record<string, string>> = {};
  for (const name of ['reclaim', 'openssh'] as const) {
    const from = bed.sshd.log().length;
    const t = name === 'reclaim' ? await startReclaim(bed.tunnelTarget) : await startOpenSsh(bed.tunnelTarget, { logDir: dir });
    try {
      await connectionRate(t.localPort, 3, 1);
      await bed.sshd.waitForLog(/channel \d+: free: direct-tcpip/, 10_000, from);
    } finally {
      await t.stop();
    }
    const log = bed.sshd.log().slice(from);
    await writeFile(path.join(logDir, `sshd-debug-${name}.log`), log);
    const grab = (re: RegExp) => re.exec(log)?.[1]?.trim() ?? 'not logged';
    result[name] = {
      kex: grab(/kex: algorithm: (\S+)/),
      hostKey: grab(/kex: host key algorithm: (\S+)/),
      'cipher client->server': grab(/kex: client->server cipher: ([^\n[]+)/),
      'cipher server->client': grab(/kex: server->client cipher: ([^\n[]+)/),
      // The window/packet size the client offers for each direct-tcpip channel (sshd -> client direction).
      'direct-tcpip channel (client window, max packet)': grab(/server_input_channel_open: ctype direct-tcpip rchan \d+ (win \d+ max \d+)/),
    };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// 2. V8 CPU profiles of the Reclaim CLI.

async function profiles(bed: Testbed, outDir: string): Promise<Record<string, ProfileSummary & { value: number }>> {
  const profDir = path.join(outDir, 'profiles');
  await rm(profDir, { recursive: true, force: true });
  await mkdir(profDir, { recursive: true });
  const out: Record<string, ProfileSummary & { value: number }> = {};
  for (const kind of ['bulk', 'rate'] as const) {
    const name = `reclaim-${kind}.cpuprofile`;
    // One process per workload so each profile holds one kind of traffic only.
    const t = await startReclaim(bed.tunnelTarget, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}`] });
    let w: Workload;
    try {
      w = await workload(t, kind, 3);
    } finally {
      const stop = await t.stop(); // the profile is written at a clean exit
      if (!stop.clean) console.error(`profiled Reclaim did not exit cleanly: ${JSON.stringify(stop)}`);
    }
    out[kind] = { ...summarizeProfile(path.join(profDir, name), 25, { fromUs: w.fromUs, toUs: w.toUs }), value: w.value };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2b. Garbage collections during one bulk download (node --trace-gc): the full CLI against the
//     same code with only the tunnel command loaded.

async function gcDuringBulk(bed: Testbed) {
  const out: Record<string, { markCompacts: number; scavenges: number; mbPerSec: number; heapAfterMB: string }> = {};
  for (const [label, variant] of [['CLI (main.js, all commands)', undefined], ['tunnel command only', 'tunnel-only']] as const) {
    const t = await startReclaim(bed.tunnelTarget, { nodeArgs: ['--trace-gc'], variant });
    try {
      await bulkDownload(t.localPort, 33_554_432);
      const from = t.log().length;
      const r = await bulkDownload(t.localPort, BULK);
      await new Promise((res) => setTimeout(res, 200)); // let the last trace lines arrive
      const lines = t.log().slice(from);
      const last = [...lines].reverse().find((l) => /Mark-Compact|Scavenge/.test(l)) ?? '';
      out[label] = {
        markCompacts: lines.filter((l) => l.includes('Mark-Compact')).length,
        scavenges: lines.filter((l) => l.includes('Scavenge')).length,
        mbPerSec: r.mbPerSec,
        heapAfterMB: /-> ([\d.]+) \(/.exec(last)?.[1] ?? '?',
      };
    } finally {
      await t.stop();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. perf: where both tunnel processes spend CPU, by shared object and by native symbol.

interface PerfSummary { dso: Array<{ name: string; pct: number }>; symbols: Array<{ name: string; dso: string; pct: number }> }

async function perfProfile(t: RunningTunnel, kind: 'bulk' | 'rate', outDir: string): Promise<PerfSummary | { error: string }> {
  const file = path.join(outDir, `perf-${t.name}-${kind}.data`);
  const perf = spawnTracked('perf', ['record', '-F', '1999', '-p', String(t.pid), '-o', file, '--', 'sleep', '120'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let perfErr = '';
  perf.stderr!.on('data', (d: Buffer) => (perfErr += d.toString()));
  await new Promise((r) => setTimeout(r, 500)); // let perf attach
  try {
    await workload(t, kind, 1);
  } finally {
    perf.kill('SIGINT');
    await waitExit(perf, 30_000);
  }
  const report = async (sort: string) => run('perf', ['report', '-i', file, '--no-children', '--sort', sort, '--stdio', '--percent-limit', '0.5'], 60_000);
  const dsoOut = await report('dso');
  const symOut = await report('dso,sym');
  await rm(file, { force: true });
  if (dsoOut.code !== 0) return { error: `perf report failed: ${dsoOut.stderr.slice(0, 500)} ${perfErr.slice(0, 500)}` };
  const dso = [...dsoOut.stdout.matchAll(/^\s+([\d.]+)%\s+(.+?)\s*$/gm)].map((m) => ({ name: m[2]!, pct: Number(m[1]) })).slice(0, 12);
  const symbols = [...symOut.stdout.matchAll(/^\s+([\d.]+)%\s+(\S+)\s+\[[.kH]\]\s+(.+?)\s*$/gm)]
    .map((m) => ({ pct: Number(m[1]), dso: m[2]!, name: m[3]! })).slice(0, 15);
  return { dso, symbols };
}

// ---------------------------------------------------------------------------------------------
// 4. Syscall counts (strace -c): how many reads/writes/epoll calls per MB and per request.

interface SyscallSummary { perUnit: string; unitCount: number; calls: Array<{ syscall: string; calls: number; perUnit: number }> }

async function syscalls(t: RunningTunnel, kind: 'bulk' | 'rate', outDir: string): Promise<SyscallSummary | { error: string }> {
  const file = path.join(outDir, `strace-${t.name}-${kind}.txt`);
  const bytes = 67_108_864;
  const requests = 500;
  // Warm up before attaching; strace slows the process down, so only the counts are meaningful.
  if (kind === 'bulk') await bulkDownload(t.localPort, 16_777_216);
  else await connectionRate(t.localPort, 100, CONCURRENCY);
  const strace = spawnTracked('strace', ['-c', '-f', '-qq', '-o', file, '-p', String(t.pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  try {
    if (kind === 'bulk') await bulkDownload(t.localPort, bytes, 300);
    else await connectionRate(t.localPort, requests, CONCURRENCY, { timeoutSec: 300 });
  } finally {
    strace.kill('SIGINT');
    await waitExit(strace, 30_000);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { error: `no strace output: ${(e as Error).message}` };
  }
  const unitCount = kind === 'bulk' ? bytes / 1e6 : requests;
  const calls = [...text.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/gm)]
    .map((m) => ({ syscall: m[2]!, calls: Number(m[1]), perUnit: Number(m[1]) / unitCount }))
    .filter((c) => c.syscall !== 'total')
    .sort((a, b) => b.calls - a.calls)
    .slice(0, 10);
  return { perUnit: kind === 'bulk' ? 'MB' : 'request', unitCount, calls };
}

// ---------------------------------------------------------------------------------------------
// 5 + 6. Latency at concurrency 1, and control runs.

async function sequentialLatency(t: RunningTunnel) {
  const clientCloses = await connectionRate(t.localPort, 200, 1);
  const serverCloses = await connectionRate(t.localPort, 50, 1, { waitServerClose: true });
  return {
    clientClosesP50Ms: clientCloses.latencyMs.p50, clientClosesP99Ms: clientCloses.latencyMs.p99,
    serverClosesP50Ms: serverCloses.latencyMs.p50, serverClosesP99Ms: serverCloses.latencyMs.p99,
  };
}

/** Control runs (one factor at a time) and Reclaim variants, baseline first. */
export function contenders(bed: Testbed, logDir: string, which: 'controls' | 'variants' | 'all'): Contender[] {
  const t = bed.tunnelTarget;
  const controls: Contender[] = [
    { label: 'OpenSSH default (chacha20-poly1305), -v', start: () => startOpenSsh(t, { logDir }) },
    { label: 'OpenSSH -c aes128-gcm@openssh.com, -v', start: () => startOpenSsh(t, { logDir, extra: ['-c', 'aes128-gcm@openssh.com'] }) },
    { label: 'OpenSSH default, without -v', start: () => startOpenSsh(t, { logDir, verbose: false }) },
    // CPU column = the relay alone: Node's per-connection floor (accept + connect + pipe x2), no SSH.
    { label: 'calibration: plain Node TCP relay in front of OpenSSH', start: async () => startNodeRelay(await startOpenSsh(t, { logDir, verbose: false })) },
  ];
  const variants: Contender[] = [
    { label: 'Reclaim via variant wrapper, no change', start: () => startReclaim(t, { variant: 'none' }) },
    { label: 'Reclaim + tunnel-only (no undici/Plex modules loaded)', start: () => startReclaim(t, { variant: 'tunnel-only' }) },
    { label: 'Reclaim + end-once', start: () => startReclaim(t, { variant: 'end-once' }) },
    { label: 'Reclaim + random-pool', start: () => startReclaim(t, { variant: 'random-pool' }) },
    { label: 'Reclaim + cork-transport', start: () => startReclaim(t, { variant: 'cork-transport' }) },
    { label: 'Reclaim + cork-local', start: () => startReclaim(t, { variant: 'cork-local' }) },
    { label: 'Reclaim + end-once,random-pool', start: () => startReclaim(t, { variant: 'end-once,random-pool' }) },
    { label: 'Reclaim + tunnel-only,end-once,random-pool', start: () => startReclaim(t, { variant: 'tunnel-only,end-once,random-pool' }) },
    { label: 'Reclaim + chacha20 (OpenSSH\'s cipher)', start: () => startReclaim(t, { variant: 'chacha20' }) },
  ];
  // Tried and found within noise (7 rounds), so not run by default (BENCH_EXTRA_VARIANTS=1 adds them):
  // glibc not trimming the heap (Node's fresh 64 KiB read buffers page-fault: ~3–10% of bulk CPU
  // in perf), and a bigger V8 young generation (fewer scavenges).
  if (process.env.BENCH_EXTRA_VARIANTS === '1') {
    variants.push(
      { label: 'Reclaim CLI + MALLOC_TRIM_THRESHOLD_=128MiB', start: () => startReclaim(t, { env: { MALLOC_TRIM_THRESHOLD_: String(128 * 2 ** 20) } }) },
      { label: 'Reclaim CLI + node --max-semi-space-size=32', start: () => startReclaim(t, { nodeArgs: ['--max-semi-space-size=32'] }) },
    );
  }
  const baseline: Contender = { label: 'Reclaim CLI as is (aes128-gcm)', start: () => startReclaim(t) };
  if (which === 'controls') return [baseline, ...controls];
  if (which === 'variants') return [baseline, ...variants];
  return [baseline, ...controls, ...variants];
}

// ---------------------------------------------------------------------------------------------

export async function investigate(bed: Testbed, dir: string, outDir: string): Promise<void> {
  const invDir = path.join(outDir, 'investigate');
  await mkdir(invDir, { recursive: true });
  const report: Record<string, unknown> = { date: new Date().toISOString() };
  const save = () => writeFile(path.join(invDir, 'investigate.json'), `${JSON.stringify(report, null, 2)}\n`);

  console.log('\n=== Investigation: where does the time go? ===');

  console.log('\n[1] negotiated algorithms and channel sizes (sshd LogLevel DEBUG1, separate server)');
  const neg = await negotiation(dir, invDir);
  report.negotiation = neg;
  console.log(table(['', 'Reclaim (ssh2)', 'OpenSSH'], Object.keys(neg.reclaim!).map((k) => [k, neg.reclaim![k]!, neg.openssh![k]!])));
  await save();

  console.log('\n[2] V8 CPU profile of the Reclaim CLI (node --cpu-prof), measured window only');
  const prof = await profiles(bed, outDir);
  report.profiles = prof;
  for (const kind of ['bulk', 'rate'] as const) {
    const p = prof[kind]!;
    const unit = kind === 'bulk' ? `${fmt(p.value)} MB/s` : `${fmt(p.value, 0)} req/s`;
    console.log(`\n  ${kind}: ${unit} under the profiler; main thread busy ${fmt(p.busyMs, 0)} ms of ${fmt(p.wallMs, 0)} ms (${fmt((p.busyMs / p.wallMs) * 100, 0)}%)`);
    console.log(indent(table(['area', 'self ms', '% of busy'], p.areas.slice(0, 12).map((a) => [a.area, fmt(a.selfMs, 0), fmt(a.pct)]))));
    console.log('');
    console.log(indent(table(['function', 'where', 'self ms', '%'], p.top.slice(0, 15).map((f) => [f.name, f.where, fmt(f.selfMs, 0), fmt(f.pct)]))));
  }
  await save();

  console.log('\n[2b] garbage collections during one 256 MiB download (node --trace-gc)');
  const gc = await gcDuringBulk(bed);
  report.gc = gc;
  console.log(table(['', 'mark-compact', 'scavenge', 'heap after last GC, MB', 'MB/s'],
    Object.entries(gc).map(([k, v]) => [k, String(v.markCompacts), String(v.scavenges), v.heapAfterMB, fmt(v.mbPerSec)])));
  await save();

  console.log('\n[3] perf (cpu-clock) of both tunnel processes: share of samples per shared object / symbol');
  const perfOut: Record<string, unknown> = {};
  const reclaim = await startReclaim(bed.tunnelTarget);
  const openssh = await startOpenSsh(bed.tunnelTarget, { logDir: dir });
  try {
    for (const kind of ['bulk', 'rate'] as const) {
      for (const t of [reclaim, openssh]) {
        const p = await perfProfile(t, kind, invDir);
        perfOut[`${t.name}-${kind}`] = p;
        if ('error' in p) {
          console.log(`  ${t.name} ${kind}: ${p.error}`);
          continue;
        }
        console.log(`\n  ${t.name} ${kind}: ${p.dso.map((d) => `${d.name} ${fmt(d.pct)}%`).join(', ')}`);
        console.log(indent(table(['%', 'dso', 'symbol'], p.symbols.slice(0, 10).map((s) => [fmt(s.pct), s.dso, s.name.slice(0, 70)]))));
      }
    }
    report.perf = perfOut;
    await save();

    console.log('\n[4] syscalls (strace -c -f; counts only, strace slows the process)');
    const sys: Record<string, unknown> = {};
    for (const kind of ['bulk', 'rate'] as const) {
      for (const t of [reclaim, openssh]) {
        const s = await syscalls(t, kind, invDir);
        sys[`${t.name}-${kind}`] = s;
        if ('error' in s) console.log(`  ${t.name} ${kind}: ${s.error}`);
        else console.log(`  ${t.name.padEnd(7)} ${kind}: per ${s.perUnit}: ${s.calls.map((c) => `${c.syscall} ${fmt(c.perUnit, 1)}`).join(', ')}`);
      }
    }
    report.syscalls = sys;
    await save();

    console.log('\n[5] sequential requests (concurrency 1), new connection each');
    const seq: Record<string, unknown> = {};
    for (const t of [reclaim, openssh]) seq[t.name] = await sequentialLatency(t);
    report.sequential = seq;
    console.log(table(['', 'client closes: p50 / p99 ms', 'server closes first: p50 / p99 ms'], Object.entries(seq).map(([k, v]) => {
      const s = v as Record<string, number>;
      return [k, `${fmt(s.clientClosesP50Ms!, 2)} / ${fmt(s.clientClosesP99Ms!, 2)}`, `${fmt(s.serverClosesP50Ms!, 2)} / ${fmt(s.serverClosesP99Ms!, 2)}`];
    })));
    await save();
  } finally {
    await reclaim.stop();
    await openssh.stop();
  }

  const rounds = Math.min(Number(process.env.BENCH_CONTROL_ROUNDS ?? 5) || 5, 20);
  console.log(`\n[6] control runs and Reclaim variants (bench/reclaim-variant.mjs), ${rounds} rounds, order rotated; medians, Δ vs the first row`);
  const opts = { rounds, bulkBytes: BULK, requests: RATE_REQUESTS, concurrency: CONCURRENCY };
  const ctl = await compare(contenders(bed, dir, 'controls'), opts);
  console.log(compareTable(ctl));
  report.controls = ctl;
  await save();
  const vars = await compare(contenders(bed, dir, 'variants'), opts);
  console.log('');
  console.log(compareTable(vars));
  report.variants = vars;
  await save();
  console.log(`\ninvestigation data: ${path.relative(process.cwd(), path.join(invDir, 'investigate.json'))}, profiles in ${path.relative(process.cwd(), path.join(outDir, 'profiles'))}`);
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}
