import { ReclaimError } from '../common/errors.js';

// Reclaim's scripts on the server print what they find as records: fields separated by \001 and
// each record ended by a NUL, so a path or a file's text may hold spaces, quotes, tabs or newlines
// without breaking the framing (the scripts strip NUL and \001 from whatever they print). A script
// starts with a `begin` record and ends with `end`, so output cut short is told from a clean run.

export interface ProbeRecord {
  kind: string;
  fields: string[];
}

const RECORD_END = '\u0000';
const FIELD = '\u0001';

export function readRecords(stdout: string, script: string, what: string): ProbeRecord[] {
  const records = stdout
    .split(RECORD_END)
    .filter((raw) => raw.length > 0)
    .map((raw) => {
      const [kind = '', ...fields] = raw.split(FIELD);
      // A login script may print something before the first record; a kind never spans lines.
      return { kind: kind.slice(kind.lastIndexOf('\n') + 1), fields };
    });
  const begin = records.findIndex((record) => record.kind === 'begin' && record.fields[0] === script);
  const end = records.findIndex((record) => record.kind === 'end');
  if (begin < 0 || end < begin) {
    throw new ReclaimError(
      'SERVER_COMMAND_FAILED',
      `Reclaim's command to ${what} did not run to the end on the server${begin < 0 ? ' (it printed nothing Reclaim recognises)' : ' (its output stops part-way)'}.`,
      'Reclaim needs a POSIX shell (sh, bash, zsh, ash) for your SSH account, or PowerShell on Windows. Check the account\'s login shell, then try again.',
    );
  }
  return records.slice(begin + 1, end);
}

/** The shell helpers every script starts with: `rec KIND FIELD…` prints one record. */
export const RECORD_HELPERS = String.raw`rec() { printf '%s' "$1"; shift; for f in "$@"; do printf '\001%s' "$f"; done; printf '\000'; }
clean() { tr -d '\000\001'; }`;
