// Only the link section of `npm run bench` (see lib/link.ts): start → first reply, Plex Web's
// first load and round trips by phase, over WAN-like links.
//
//   npm run build && npm run bench:links
//
// Environment: BENCH_LINKS, BENCH_LINK_MBIT, BENCH_LINK_ROUNDS, BENCH_PAGE_ROUNDS (see
// linkConfigFromEnv), BENCH_MAX_MINUTES (15), BENCH_OUT (bench/results/links.json).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { linkConfigFromEnv, linkTables, runLinks, summarizeLinks } from './lib/link.js';
import { runScript } from './lib/testbed.js';
import { buildInfo, REPO_ROOT } from './lib/tunnels.js';

const out = path.resolve(REPO_ROOT, process.env.BENCH_OUT ?? 'bench/results/links.json');
const minutes = Number(process.env.BENCH_MAX_MINUTES ?? '15');

await runScript('link bench', minutes > 0 ? minutes : 15, async (dir) => {
  const config = linkConfigFromEnv();
  const build = buildInfo();
  console.log(`Reclaim build: commit ${build.commit}, dist built ${build.distBuiltAt}${build.dirtyElectronFiles.length ? `, uncommitted electron/ changes: ${build.dirtyElectronFiles.join('; ')}` : ''}`);
  console.log(`links: ${JSON.stringify(config)}`);
  const results = await runLinks(dir, config, (line) => console.log(line));
  console.log(`\n${linkTables(results)}\n`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), build, summary: summarizeLinks(results), results }, null, 2)}\n`);
  console.log(`raw numbers: ${path.relative(process.cwd(), out)}`);
});
