import vm from 'node:vm';
import fc from 'fast-check';
import { expect } from 'vitest';
import { isReclaimError, type ReclaimError } from '../../electron/core/common/errors.js';

// What every parser property shares: each run is bounded, so a parser that hangs on some input
// fails its test instead of stalling the suite, and every failure must be a ReclaimError a person
// can act on. These are bounds, not timing assertions: they are far above what any run needs.

/** A synchronous call that runs longer than this is a hang (V8 interrupts even a regex). */
const SYNC_CALL_LIMIT_MS = 5_000;
/** The same for one asynchronous run (file reads included). */
const ASYNC_RUN_LIMIT_MS = 10_000;
/** Past this, a property stops starting new runs (it still passes on what it ran). */
const PROPERTY_TIME_LIMIT_MS = 2_000;

const context = vm.createContext({});
const callRun = new vm.Script('run()');

/** Runs `fn` synchronously, throwing if it does not return within the bound. */
export function bounded<T>(fn: () => T): T {
  context['run'] = fn;
  try {
    return callRun.runInContext(context, { timeout: SYNC_CALL_LIMIT_MS }) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new Error(`did not return within ${SYNC_CALL_LIMIT_MS} ms: the parser hangs on this input`);
    }
    throw error;
  } finally {
    delete context['run'];
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ReclaimError };

/** The value, or the ReclaimError thrown; anything else thrown fails the property. */
export function outcomeOf<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: bounded(fn) };
  } catch (error) {
    return { ok: false, error: asReclaimErrorOrFail(error) };
  }
}

export async function asyncOutcomeOf<T>(run: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run };
  } catch (error) {
    return { ok: false, error: asReclaimErrorOrFail(error) };
  }
}

function asReclaimErrorOrFail(error: unknown): ReclaimError {
  if (!isReclaimError(error)) throw error;
  expect(error.message.trim(), 'an error says what is wrong').not.toBe('');
  expect(error.fix.trim(), 'an error says what to do').not.toBe('');
  return error;
}

/** Run settings for a property: a bounded number of runs, and no run may hang. */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns,
    plugins: [fc.interruptAfterTimeLimit(PROPERTY_TIME_LIMIT_MS), fc.timeout(ASYNC_RUN_LIMIT_MS)],
  };
}

/** Strings that stress parsers: short fragments that mean something to them, mixed with anything. */
export function textFrom(fragments: string[], maxPieces = 12): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(fc.constantFrom(...fragments), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: maxPieces })
    .map((pieces) => pieces.join(''));
}

/** A message shows a person's input capped, and never raw control characters (they could fake terminal output). */
export function expectTidyMessage(error: ReclaimError, maxLength = 400): void {
  expect(error.message.length, error.message.slice(0, 200)).toBeLessThanOrEqual(maxLength);
  expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
}
