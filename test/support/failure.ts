import { isReclaimError, type ReclaimError } from '../../electron/core/common/errors.js';

/** The ReclaimError a promise rejects with; anything else (or success) fails the test. */
export async function reclaimErrorOf(run: Promise<unknown>): Promise<ReclaimError> {
  try {
    await run;
  } catch (error) {
    if (isReclaimError(error)) return error;
    throw error;
  }
  throw new Error('expected a ReclaimError, but it succeeded');
}
