// Only the side-by-side runs of lib/compare.ts: `npx tsx bench/variants.ts [controls|variants|all]`.
// BENCH_ONLY (regex on the labels), BENCH_ROUNDS (default 5), BENCH_REQUESTS (2000), BENCH_BULK_BYTES (268435456), BENCH_CONCURRENCY (12).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compare, compareTable } from './lib/compare.js';
import { contenders } from './lib/investigate.js';
import { killAllTrackedSync } from './lib/proc.js';
import { createTestbed, makeTempDir, teardownAll } from './lib/testbed.js';
import { REPO_ROOT } from './lib/tunnels.js';

const which = (process.argv[2] ?? 'variants') as 'controls' | 'variants' | 'all';
if (!['controls', 'variants', 'all'].includes(which)) {
  console.error('usage: npx tsx bench/variants.ts [controls|variants|all]');
  process.exit(2);
}
const num = (name: string, fallback: number, max: number) => Math.min(Math.max(1, Number(process.env[name] ?? fallback) || fallback), max);

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
  console.error('variants run exceeded 30 minutes: aborting');
  void cleanup().finally(() => process.exit(1));
}, 30 * 60_000);

try {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces and sshd need it)');
  dir = await makeTempDir();
  const bed = await createTestbed(dir);
  const opts = {
    rounds: num('BENCH_ROUNDS', 5, 50),
    bulkBytes: num('BENCH_BULK_BYTES', 268_435_456, 1024 ** 3),
    requests: num('BENCH_REQUESTS', 2000, 200_000),
    concurrency: num('BENCH_CONCURRENCY', 12, 256),
  };
  console.log(`${which}: ${JSON.stringify(opts)}`);
  // BENCH_ONLY=<regex>: only the contenders whose label matches (the first one, the baseline, always runs).
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, 'i') : undefined;
  const all = contenders(bed, dir, which);
  const chosen = only ? [all[0]!, ...all.slice(1).filter((c) => only.test(c.label))] : all;
  const rows = await compare(chosen, opts, (line) => console.log(line));
  console.log(`\nmedians over ${opts.rounds} rounds, Δ vs the first row:\n`);
  console.log(compareTable(rows));
  const out = path.join(REPO_ROOT, 'bench/results', `variants-${which}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), which, opts, rows }, null, 2)}\n`);
  console.log(`\nraw numbers: ${path.relative(process.cwd(), out)}`);
  clearTimeout(deadline);
  await cleanup();
  process.exit(0);
} catch (error) {
  console.error(`variants run failed: ${(error as Error)?.stack ?? String(error)}`);
  clearTimeout(deadline);
  await cleanup();
  process.exit(1);
}
