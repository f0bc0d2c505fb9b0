// Only the side-by-side runs of lib/compare.ts: `npx tsx bench/variants.ts [controls|variants|all]`.
// BENCH_ONLY (regex on the labels), BENCH_ROUNDS (default 5), BENCH_REQUESTS (2000), BENCH_BULK_BYTES (268435456), BENCH_CONCURRENCY (12).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compare, compareTable } from './lib/compare.js';
import { contenders } from './lib/investigate.js';
import { createTestbed, runScript } from './lib/testbed.js';
import { REPO_ROOT } from './lib/tunnels.js';

const which = (process.argv[2] ?? 'variants') as 'controls' | 'variants' | 'all';
if (!['controls', 'variants', 'all'].includes(which)) {
  console.error('usage: npx tsx bench/variants.ts [controls|variants|all]');
  process.exit(2);
}
const num = (name: string, fallback: number, max: number) => Math.min(Math.max(1, Number(process.env[name] ?? fallback) || fallback), max);

await runScript('variants run', 30, async (dir) => {
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
});
