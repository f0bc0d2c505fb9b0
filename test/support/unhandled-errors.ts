import { afterAll, afterEach, beforeEach, expect } from 'vitest';

// A vitest setup file (vitest.config.ts `setupFiles`). An error nobody handled (an 'error' event
// without a listener, a rejection nobody awaited) fails the run, but vitest names only the file
// when it happens outside a test body, and never fails a test for it. Here the test that was
// running (or the last one to finish) fails instead, with the error: the output says which and
// what. Vitest stays silent about an error once another listener exists, so ours are removed
// after the file's last hook, and anything later is reported by vitest as before.

interface Stray {
  kind: string;
  error: unknown;
  when: string;
}

const strays: Stray[] = [];
let running: string | undefined;
let lastFinished: string | undefined;

function when(): string {
  if (running !== undefined) return `while test "${running}" was running`;
  if (lastFinished !== undefined) return `after test "${lastFinished}" had finished`;
  return 'before the first test (in beforeAll or at import)';
}

const onUncaughtException = (error: unknown) => strays.push({ kind: 'Uncaught exception', error, when: when() });
const onUnhandledRejection = (error: unknown) => strays.push({ kind: 'Unhandled rejection', error, when: when() });
process.on('uncaughtException', onUncaughtException);
process.on('unhandledRejection', onUnhandledRejection);

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

/** Throws (failing the current test or hook) if anything went unhandled since the last check. */
function failOnStrays(): void {
  const found = strays.splice(0);
  if (found.length === 0) return;
  const lines = found.map((s) => `${s.kind} ${s.when}:\n${describeError(s.error)}`);
  throw new Error(lines.join('\n\n'));
}

// Setup-file hooks wrap the test file's own: this beforeEach runs first and this afterEach last
// (vitest runs after-hooks in reverse order), so errors from the file's hooks count too.
beforeEach(() => {
  running = expect.getState().currentTestName;
});

afterEach(() => {
  lastFinished = running;
  running = undefined;
  failOnStrays();
});

afterAll(() => {
  process.off('uncaughtException', onUncaughtException);
  process.off('unhandledRejection', onUnhandledRejection);
  failOnStrays();
});
