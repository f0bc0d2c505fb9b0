import { describe, expect, it } from 'vitest';
import { invokedAs } from '../../electron/cli/invocation.js';

// A suggested command must be one the person can paste: the installed name, or npm's script.
describe('how the command line was started', () => {
  it('is `reclaim` when installed, and `npm run reclaim --` through the checkout\'s script', () => {
    expect(invokedAs({})).toBe('reclaim');
    expect(invokedAs({ npm_lifecycle_event: 'reclaim' })).toBe('npm run reclaim --');
    // npm test runs the installed or built command from another script: not the reclaim script.
    expect(invokedAs({ npm_lifecycle_event: 'test' })).toBe('reclaim');
  });
});
