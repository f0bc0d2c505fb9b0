// Load generators, each a separate process: curl for bulk downloads, load-client.mjs for the
// new-connection request rate. Both are bounded in time.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './proc.js';

const LOAD_CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'load-client.mjs');

export interface BulkResult {
  ok: boolean;
  error?: string;
  bytes: number;
  seconds: number;
  mbPerSec: number;
  clientCpuSec: number;
}

/** curl downloads /bytes?n=<bytes> to /dev/null; bash's `times` reports curl's CPU time. */
export async function bulkDownload(port: number, bytes: number, timeoutSec = 120): Promise<BulkResult> {
  const url = `http://127.0.0.1:${port}/bytes?n=${bytes}`;
  const script = 'curl -s -S -o /dev/null --max-time "$1" -w "%{http_code} %{size_download} %{time_total}\\n" "$0"; rc=$?; times; exit $rc';
  const res = await run('bash', ['-c', script, url, String(timeoutSec)], (timeoutSec + 15) * 1000);
  const lines = res.stdout.trim().split('\n');
  const [status, size, time] = (lines[0] ?? '').split(' ');
  const clientCpuSec = parseTimes(lines.at(-1) ?? '');
  const seconds = Number(time);
  const got = Number(size);
  const ok = res.code === 0 && status === '200' && got === bytes;
  return {
    ok,
    error: ok ? undefined : `curl exit ${res.code}${res.killed ? ' (killed)' : ''}, status ${status}, ${got}/${bytes} bytes: ${res.stderr.trim().slice(0, 300)}`,
    bytes: got,
    seconds,
    mbPerSec: got / seconds / 1e6,
    clientCpuSec,
  };
}

/** "0m1.234s 0m0.567s" (children user, sys) → seconds. */
function parseTimes(line: string): number {
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return parts.length >= 2 ? parts[0]! + parts[1]! : NaN;
}

export interface RateResult {
  requests: number;
  concurrency: number;
  waitServerClose: boolean;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  elapsedMs: number;
  reqPerSec: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  clientCpuSec: number;
}

export async function connectionRate(port: number, requests: number, concurrency: number, options: { waitServerClose?: boolean; timeoutSec?: number } = {}): Promise<RateResult> {
  const timeoutSec = options.timeoutSec ?? 120;
  const args = [LOAD_CLIENT, '--port', String(port), '--requests', String(requests), '--concurrency', String(concurrency),
    '--path', '/hello', '--expect', 'hello from the server', '--timeout-ms', String(timeoutSec * 1000)];
  if (options.waitServerClose) args.push('--wait-server-close');
  const res = await run(process.execPath, args, (timeoutSec + 15) * 1000);
  const line = res.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as RateResult;
  } catch {
    throw new Error(`load client failed (exit ${res.code}${res.killed ? ', killed' : ''}): ${res.stderr.slice(-1000)}${res.stdout.slice(-500)}`);
  }
}
