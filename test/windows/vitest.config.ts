import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Reading PuTTY's data from, and running the repair's PowerShell scripts against, a real Windows
// registry (`npm run test:windows`). It needs Windows, its reg.exe and PowerShell, so it runs in the
// Windows CI job only; its files are *.win.ts so the normal `npm test` (test/**/*.test.ts) never
// picks them up.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/windows/**/*.win.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
