// Several tunnel set-ups measured side by side on one server, order rotated every round; used
// for the control runs (OpenSSH with ssh2's cipher, without -v) and the Reclaim variants.
import { bulkDownload, connectionRate } from './clients.js';
import { cpuSec } from './proc.js';
import { fmt, median, table } from './stats.js';
import type { RunningTunnel } from './tunnels.js';

export interface Contender { label: string; start: () => Promise<RunningTunnel> }

export interface CompareRow {
  label: string;
  bulkMBps: number;
  bulkTunnelCpuSecPerGB: number;
  rateReqPerSec: number;
  rateTunnelCpuUsPerRequest: number;
  samples: { bulk: number[]; bulkCpuPerGB: number[]; rate: number[]; rateCpuUs: number[] };
}

export interface CompareOptions { rounds: number; bulkBytes: number; requests: number; concurrency: number }

/**
 * A fresh Node process runs its per-connection code unoptimised for the first few thousand
 * connections (measured: ~2x CPU per request in the first 2000). Steady state is what we compare,
 * so every tunnel first gets this much traffic, unmeasured.
 */
export const INITIAL_WARMUP = { bytes: 268_435_456, requests: 4000 };

/** Starts all contenders (kept running side by side), measures them round-robin, stops them. */
export async function compare(contenders: Contender[], o: CompareOptions, onSample?: (line: string) => void): Promise<CompareRow[]> {
  const running: RunningTunnel[] = [];
  try {
    for (const c of contenders) running.push(await c.start());
    for (const t of running) {
      await bulkDownload(t.localPort, INITIAL_WARMUP.bytes);
      await connectionRate(t.localPort, INITIAL_WARMUP.requests, o.concurrency);
    }
    const rows: CompareRow[] = contenders.map((c) => ({
      label: c.label, bulkMBps: NaN, bulkTunnelCpuSecPerGB: NaN, rateReqPerSec: NaN, rateTunnelCpuUsPerRequest: NaN,
      samples: { bulk: [], bulkCpuPerGB: [], rate: [], rateCpuUs: [] },
    }));
    for (let round = 0; round < o.rounds; round++) {
      for (let k = 0; k < running.length; k++) {
        const i = (k + round) % running.length;
        const t = running[i]!;
        const row = rows[i]!;
        await bulkDownload(t.localPort, Math.min(o.bulkBytes, 33_554_432)); // warm-up
        let cpu0 = cpuSec(t.pid);
        const b = await bulkDownload(t.localPort, o.bulkBytes);
        if (!b.ok) throw new Error(`${row.label}: bulk failed: ${b.error}`);
        row.samples.bulk.push(b.mbPerSec);
        row.samples.bulkCpuPerGB.push((cpuSec(t.pid) - cpu0) / (o.bulkBytes / 1e9));
        await connectionRate(t.localPort, Math.max(50, Math.round(o.requests / 10)), o.concurrency); // warm-up
        cpu0 = cpuSec(t.pid);
        const r = await connectionRate(t.localPort, o.requests, o.concurrency);
        if (r.failed) throw new Error(`${row.label}: ${r.failed} failed requests ${JSON.stringify(r.errors)}`);
        row.samples.rate.push(r.reqPerSec);
        row.samples.rateCpuUs.push(((cpuSec(t.pid) - cpu0) / r.ok) * 1e6);
        onSample?.(`  round ${round + 1} ${row.label}: ${fmt(b.mbPerSec)} MB/s, ${fmt(r.reqPerSec, 0)} req/s`);
      }
    }
    for (const row of rows) {
      row.bulkMBps = median(row.samples.bulk);
      row.bulkTunnelCpuSecPerGB = median(row.samples.bulkCpuPerGB);
      row.rateReqPerSec = median(row.samples.rate);
      row.rateTunnelCpuUsPerRequest = median(row.samples.rateCpuUs);
    }
    return rows;
  } finally {
    for (const t of running) await t.stop().catch(() => {});
  }
}

/** Table with each row's change against the first row (the baseline); CPU columns are the tunnel process's. */
export function compareTable(rows: CompareRow[]): string {
  const base = rows[0]!;
  const rel = (x: number, b: number) => (Number.isFinite(x / b) ? `${x >= b ? '+' : ''}${fmt((x / b - 1) * 100, 0)}%` : '');
  // Interference from other processes only ever adds CPU time, so the minimum is the steadiest
  // estimate of what a set-up costs; medians are shown too.
  const minOf = (xs: number[]) => Math.min(...xs);
  return table(
    ['variant', 'bulk MB/s', 'Δ', 'CPU-s/GB', 'Δ', 'min CPU-s/GB', 'req/s', 'Δ', 'CPU µs/req', 'Δ', 'min CPU µs/req', 'Δ'],
    rows.map((r) => [
      r.label,
      fmt(r.bulkMBps), rel(r.bulkMBps, base.bulkMBps),
      fmt(r.bulkTunnelCpuSecPerGB, 2), rel(r.bulkTunnelCpuSecPerGB, base.bulkTunnelCpuSecPerGB),
      fmt(minOf(r.samples.bulkCpuPerGB), 2),
      fmt(r.rateReqPerSec, 0), rel(r.rateReqPerSec, base.rateReqPerSec),
      fmt(r.rateTunnelCpuUsPerRequest, 0), rel(r.rateTunnelCpuUsPerRequest, base.rateTunnelCpuUsPerRequest),
      fmt(minOf(r.samples.rateCpuUs), 0), rel(minOf(r.samples.rateCpuUs), minOf(base.samples.rateCpuUs)),
    ]),
  );
}
