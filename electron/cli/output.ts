import { isCancelled, printable, type ReclaimError } from '../core/common/errors.js';

// Two audiences: people read plain sentences on stderr; programs read one JSON object per line
// on stdout (--json). Both get the same facts, and never a stack trace.

export interface Output {
  json: boolean;
  /** A JSON event (with --json) or nothing. */
  event(event: Record<string, unknown>): void;
  /** A line for people (without --json); stdout for results, stderr for progress. */
  say(text: string, stream?: 'stdout' | 'stderr'): void;
  error(error: ReclaimError): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    event(event) {
      if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
    },
    say(text, stream = 'stderr') {
      if (!json) process[stream].write(`${printable(text)}\n`);
    },
    error(error) {
      if (json) process.stdout.write(`${JSON.stringify({ event: 'error', ...error.toJSON() })}\n`);
      else process.stderr.write(`Error: ${printable(error.message)}\nFix: ${printable(error.fix)}\n(code ${error.code})\n`);
    },
  };
}

/** Exit status: 130 when the person stopped it (as a shell does for Ctrl+C), 2 for input to correct, 1 for any other failure. */
export function exitCodeFor(error: ReclaimError): number {
  if (isCancelled(error)) return 130;
  return error.code === 'BAD_INPUT' ? 2 : 1;
}
