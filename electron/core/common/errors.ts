import path from 'node:path';
import type { ErrorCode, ErrorDetails } from '../../shared/error-codes.js';

// Every failure Reclaim reports is a ReclaimError: a stable code that programs (the CLI's
// --json output, the desktop UI) can switch on, a plain-language message saying what went
// wrong, a fix saying what the person can do about it, and the facts of its code (`details`).
// Nothing else should reach a user. When it wraps another error, that one is its `cause`, stack
// and all, for the log.

/** Codes whose details may be left out, because they have no required facts. */
type DetailsArgs<C extends ErrorCode> = Record<string, never> extends ErrorDetails<C>
  ? [details?: ErrorDetails<C>, options?: ErrorOptions]
  : [details: ErrorDetails<C>, options?: ErrorOptions];

class CodedError<C extends ErrorCode> extends Error {
  override readonly name = 'ReclaimError';
  readonly details: ErrorDetails<C>;

  constructor(
    readonly code: C,
    message: string,
    readonly fix: string,
    ...[details, options]: DetailsArgs<C>
  ) {
    super(message, options);
    // Only codes whose facts are all optional may leave them out (DetailsArgs), so {} fits.
    this.details = details ?? ({} as ErrorDetails<C>);
  }

  /** What --json prints: the facts, then code, message and fix. Never the cause or a stack. */
  toJSON(): ErrorDetails<C> & { code: C; message: string; fix: string } {
    return { ...this.details, code: this.code, message: this.message, fix: this.fix };
  }
}

/**
 * A ReclaimError of one code, or (without a code) of any: then a check of `code` narrows
 * `details` to that code's facts.
 */
export type ReclaimError<C extends ErrorCode = ErrorCode> = { [K in C]: CodedError<K> }[C];
export const ReclaimError = CodedError;

export function isReclaimError(value: unknown): value is ReclaimError {
  return value instanceof CodedError;
}

/** The person stopped it (Cancel, a closed window, Ctrl+C, a question left unanswered): not a failure to report. */
export function isCancelled(value: unknown): value is ReclaimError<'CANCELLED'> {
  return isReclaimError(value) && value.code === 'CANCELLED';
}

/** Anything thrown, as a ReclaimError: ours as they are, anything else as UNEXPECTED, keeping it as the cause. */
export function asReclaimError(error: unknown): ReclaimError {
  return isReclaimError(error)
    ? error
    : new ReclaimError(
        'UNEXPECTED',
        `Something unexpected went wrong: ${(error as Error | undefined)?.message ?? String(error)}`,
        'Try again. If it happens again, please report it with what you did (without any passwords).',
        {},
        { cause: error },
      );
}

export function badInput(message: string, fix: string, details?: ErrorDetails<'BAD_INPUT'>): ReclaimError<'BAD_INPUT'> {
  return new ReclaimError('BAD_INPUT', message, fix, details);
}

/** One of Reclaim's own files could not be read or written (`doing`: "save", "read"). */
/** What a file error means, for the errors people meet when a file cannot be used. */
const FILE_ERRORS_IN_WORDS: Record<string, string> = {
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full',
  EROFS: 'the disk is read-only',
  ENOENT: 'it does not exist',
};

export function storageFailed(file: string, error: unknown, doing: 'save' | 'read' = 'save'): ReclaimError<'STORAGE_FAILED'> {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = (errno && FILE_ERRORS_IN_WORDS[errno]) ?? errno ?? (error as Error | undefined)?.message ?? String(error);
  return new ReclaimError(
    'STORAGE_FAILED',
    `Reclaim could not ${doing} its file ${file} (${why}).`,
    `Check that your user may ${doing === 'save' ? 'write to' : 'read'} ${path.dirname(file)}${doing === 'save' ? ' and that the disk is not full' : ''}, then try again.`,
    { file, errno },
    { cause: error },
  );
}

/**
 * Text a server sent (a disconnect reason, a login prompt, an error page) made safe to show: a
 * server that has not yet proved who it is could otherwise send terminal escape sequences that
 * clear the screen or fake a prompt.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}
