import { ReclaimError } from '../../common/errors.js';
import type { Journal } from './journal.js';
import type { UndoPlan } from './plan.js';
import type { RepairSession } from './session.js';

// Undo: the newest backup a repair made goes back over the Preferences, with Plex stopped (the
// Preferences as they are now are kept in a backup of their own first), then Plex is started and
// must answer as the same server.

export interface UndoResult {
  restored: string;
  backup: string;
  machineIdentifier: string;
}

export async function undoRepair(session: RepairSession, plan: UndoPlan): Promise<UndoResult> {
  const { files } = session;
  const wasRunning = (await session.running()).length > 0;
  let journal: Journal = { ...session.journal('undo', 'undo', wasRunning), state: 'stopping' };
  await files.writeJournal(journal);
  try {
    await session.step('stop', () => session.stopPlex());
    journal = { ...journal, state: 'stopped' };
    await files.writeJournal(journal);
    const snapshot = await session.step('backup', () => files.snapshot({ backup: plan.backup, journal }));
    journal = { ...journal, state: 'backed-up', backup: snapshot.backup, original: snapshot.fingerprint };
    session.notice({ event: 'backup', path: snapshot.backup! });
    const written = await session.step('write', () => files.restore(plan.restore, journal));
    journal = { ...journal, state: 'written', written };
    const identity = await session.step('start', () => session.startPlex());
    journal = { ...journal, state: 'started' };
    await session.step('verify', async () => {
      const answer = await session.context.pms.identity();
      if (answer.machineIdentifier !== identity.machineIdentifier) {
        throw new ReclaimError(
          'REPAIR_NOT_VERIFIED',
          `After the undo a different Plex answers through the tunnel (machine ${answer.machineIdentifier}).`,
          'Run "reclaim inspect" to see which Plex installs the server has.',
          { machineIdentifier: answer.machineIdentifier, reason: 'other-server' },
        );
      }
    });
    await files.close();
    return { restored: plan.restore, backup: snapshot.backup!, machineIdentifier: identity.machineIdentifier };
  } catch (error) {
    return session.failAfterStop(error, journal);
  }
}
