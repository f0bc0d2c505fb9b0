// The small journal a repair keeps next to its backup on the server, so that a run cut off part-way
// (connection lost, laptop closed) is found by the next one, which finishes it or rolls it back.
// One `key=value` line each; the server's scripts replace it whole (temporary file, then rename),
// each time just before the step it announces and again once that step is done.

export type JournalAction = 'repair' | 'undo';

/**
 * How far a run got. The order matters: from `writing` on, the Preferences may differ from the
 * backup (the file's fingerprint says whether they do).
 */
export const JOURNAL_STATES = ['begun', 'stopping', 'stopped', 'backed-up', 'writing', 'written', 'started', 'verified'] as const;
export type JournalState = (typeof JOURNAL_STATES)[number];

export interface Journal {
  run: string;
  action: JournalAction;
  /** signout | offline for a repair, undo for an undo. */
  mode: string;
  state: JournalState;
  /** When the run began, by this computer's clock (ISO 8601). */
  began: string;
  /** Whether Plex was running when the run began (so a roll-back starts it again only then). */
  wasRunning: boolean;
  backup?: string;
  /** Fingerprint of the Preferences as they were when backed up. */
  original?: string;
  /** Fingerprint of what the run wrote (or restored). */
  written?: string;
}

const MAGIC = 'reclaim-journal 1';

export function formatJournal(journal: Journal): string[] {
  const lines = [
    MAGIC,
    `run=${journal.run}`,
    `action=${journal.action}`,
    `mode=${journal.mode}`,
    `state=${journal.state}`,
    `began=${journal.began}`,
    `was-running=${journal.wasRunning ? 1 : 0}`,
  ];
  if (journal.backup !== undefined) lines.push(`backup=${journal.backup}`);
  if (journal.original !== undefined) lines.push(`original=${journal.original}`);
  if (journal.written !== undefined) lines.push(`written=${journal.written}`);
  for (const line of lines) if (/[\n\r\u0000]/.test(line)) throw new Error('a journal value cannot hold a line break');
  return lines;
}

/** The journal as the server holds it, or undefined when it is not one Reclaim wrote. */
export function parseJournal(text: string): Journal | undefined {
  const lines = text.split('\n');
  if (lines[0] !== MAGIC) return undefined;
  const values = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1));
  }
  const state = values.get('state') as JournalState | undefined;
  const action = values.get('action');
  const run = values.get('run');
  if (!run || !state || !JOURNAL_STATES.includes(state) || (action !== 'repair' && action !== 'undo')) return undefined;
  return {
    run,
    action,
    mode: values.get('mode') ?? '',
    state,
    began: values.get('began') ?? '',
    wasRunning: values.get('was-running') !== '0',
    backup: values.get('backup') || undefined,
    original: values.get('original') || undefined,
    written: values.get('written') || undefined,
  };
}

/** What the next run must do about an interrupted one. */
export type Recovery =
  /** Nothing was stopped or changed: only the journal is left to clear. */
  | { kind: 'clear' }
  /** Plex was (or may have been) stopped, the Preferences are as they were: start Plex again. */
  | { kind: 'start' }
  /** The Preferences were changed: keep them if they hold a working sign-in, else put the backup back. */
  | { kind: 'decide'; backup: string }
  /** The run checked its result and only did not clear its journal. */
  | { kind: 'done' };

/**
 * `current`: the fingerprint of the Preferences now. A file that still matches the backup was
 * not changed whatever the journal says (the write is the last thing before the rename).
 */
export function recoveryFor(journal: Journal, current: string | undefined): Recovery {
  if (journal.state === 'verified') return { kind: 'done' };
  if (journal.state === 'begun') return { kind: 'clear' };
  const changed = journal.original !== undefined && current !== undefined && current !== journal.original;
  if (!changed || journal.backup === undefined) return { kind: 'start' };
  return { kind: 'decide', backup: journal.backup };
}
