import { log } from '../../common/log.js';
import { summarise } from '../preferences.js';
import { recoveryFor } from './journal.js';
import type { RepairSession } from './session.js';

// A run that was cut off (connection lost, laptop closed) left its journal beside the Preferences.
// The next run, holding the lock, finishes it or rolls it back, and says which:
// - nothing was changed yet: Plex is started again if the run had stopped it;
// - the Preferences were changed: a repair whose new sign-in plex.tv accepts (and any undo) is
//   finished by starting Plex; otherwise the backup goes back and Plex is started.

export interface Recovered {
  outcome: 'finished' | 'rolled-back' | 'cleared';
  detail: string;
  backup?: string;
}

export async function recoverInterrupted(session: RepairSession): Promise<Recovered | undefined> {
  const journal = session.opened.journal;
  if (!journal) return undefined;
  const file = session.opened.file;
  const recovery = recoveryFor(journal, 'fingerprint' in file ? file.fingerprint : undefined);
  const what = journal.action === 'undo' ? 'An undo' : 'A repair';
  log.info(`repair ${session.run}: recovering run ${journal.run} (${journal.action}, ${journal.state}): ${recovery.kind}`);
  let recovered: Recovered;
  const plexDown = async () => (await session.running()).length === 0;
  switch (recovery.kind) {
    case 'done':
    case 'clear':
      recovered = { outcome: 'cleared', detail: `${what} that began ${journal.began} had ${recovery.kind === 'done' ? 'finished' : 'not changed anything'}; only its journal was left.` };
      break;
    case 'start': {
      const start = journal.wasRunning && await plexDown();
      if (start) await session.startPlex();
      recovered = {
        outcome: 'rolled-back',
        detail: `${what} that began ${journal.began} was cut off before it changed Plex's Preferences (they are as they were)${start ? '; Reclaim started Plex again' : ''}.`,
      };
      break;
    }
    case 'decide': {
      if (journal.action === 'undo' || await holdsWorkingSignIn(session)) {
        if (await plexDown()) await session.startPlex();
        recovered = { outcome: 'finished', detail: `${what} that began ${journal.began} was cut off after it wrote Plex's Preferences; they hold ${journal.action === 'undo' ? 'the restored backup' : 'a sign-in plex.tv accepts'}, so Reclaim finished it and Plex runs.`, backup: recovery.backup };
      } else {
        const rolledBack = await session.rollBack({ ...journal, wasRunning: true });
        if (!rolledBack.ok) throw new Error(rolledBack.detail);
        recovered = { outcome: 'rolled-back', detail: `${what} that began ${journal.began} was cut off after it changed Plex's Preferences, before the server was claimed again: ${rolledBack.detail}`, backup: recovery.backup };
      }
      break;
    }
  }
  await session.files.clearJournal();
  session.notice({ event: 'recovered', ...recovered });
  return recovered;
}

/** The Preferences now hold a sign-in that plex.tv accepts (asked from this computer). */
async function holdsWorkingSignIn(session: RepairSession): Promise<boolean> {
  const snapshot = await session.files.snapshot();
  let token: string | undefined;
  try {
    token = summarise(session.files.values(snapshot), session.files.paths.preferences).token?.reveal();
  } catch {
    return false;
  }
  return token !== undefined && (await session.context.plexTv.checkToken(token)).check === 'valid';
}
