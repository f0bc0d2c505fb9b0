import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The Electron smoke test (`npm run test:e2e`): Playwright's _electron against the app Forge
// packaged with RECLAIM_E2E=1. It needs the Electron binary, so it runs in CI only, and its files
// are *.e2e.ts so the normal `npm test` (test/**/*.test.ts) never picks them up.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/electron-e2e/**/*.e2e.ts'],
    // One app at a time: the tests share its window, in order.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
