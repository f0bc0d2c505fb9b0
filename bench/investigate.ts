// Stand-alone entry for the investigation (see lib/investigate.ts): `npx tsx bench/investigate.ts`.
import path from 'node:path';
import { investigate } from './lib/investigate.js';
import { createTestbed, runScript } from './lib/testbed.js';
import { REPO_ROOT } from './lib/tunnels.js';

await runScript('investigation', 30, async (dir) => {
  await investigate(await createTestbed(dir), dir, path.join(REPO_ROOT, 'bench/results'));
});
