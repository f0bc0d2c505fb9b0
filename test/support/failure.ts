import type { ErrorCode } from '../../electron/shared/error-codes.js';
import { isReclaimError, type ReclaimError } from '../../electron/core/common/errors.js';

/**
 * The ReclaimError a promise rejects with; anything else (or success) fails the test. Given a
 * code, an error of another code fails it too, and the details come typed for that code.
 */
export async function reclaimErrorOf<C extends ErrorCode = ErrorCode>(run: Promise<unknown>, code?: C): Promise<ReclaimError<C>> {
  try {
    await run;
  } catch (error) {
    if (!isReclaimError(error)) throw error;
    if (code !== undefined && error.code !== code) throw new Error(`expected ${code}, got ${error.code}: ${error.message}`, { cause: error });
    return error as ReclaimError<C>;
  }
  throw new Error('expected a ReclaimError, but it succeeded');
}
