import { defineConfig } from 'vitest/config';

// Integration tests start real sshd processes and network namespaces; they are bounded by
// their own timeouts, never by sleeps.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
