// Stand-alone entry for the investigation (see lib/investigate.ts): `npx tsx bench/investigate.ts`.
import path from 'node:path';
import { investigate } from './lib/investigate.js';
import { killAllTrackedSync } from './lib/proc.js';
import { createTestbed, makeTempDir, teardownAll } from './lib/testbed.js';
import { REPO_ROOT } from './lib/tunnels.js';

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
  console.error('investigation exceeded 30 minutes: aborting');
  void cleanup().finally(() => process.exit(1));
}, 30 * 60_000);

try {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces and sshd need it)');
  dir = await makeTempDir();
  const bed = await createTestbed(dir);
  await investigate(bed, dir, path.join(REPO_ROOT, 'bench/results'));
  clearTimeout(deadline);
  await cleanup();
  process.exit(0);
} catch (error) {
  console.error(`investigation failed: ${(error as Error)?.stack ?? String(error)}`);
  clearTimeout(deadline);
  await cleanup();
  process.exit(1);
}
