import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Integration tests start real sshd processes and network namespaces; they are bounded by
// their own timeouts, never by sleeps.
export default defineConfig({
  resolve: {
    // Importing the real `electron` package tries to download Electron; main-process and preload
    // code runs here against a recording fake instead, even in a test that forgets to mock it.
    alias: [{ find: /^electron$/, replacement: path.resolve(import.meta.dirname, 'test/fakes/electron.ts') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Fails the test that was running when an error went unhandled, naming it and the error.
    setupFiles: ['test/support/unhandled-errors.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
