import { randomBytes } from 'node:crypto';
import { asReclaimError, ReclaimError } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { PlexTvClient } from '../../plex/plex-tv.js';
import type { PmsClient, PmsIdentity } from '../../plex/pms.js';
import type { PlexInstall } from '../install.js';
import type { Privilege } from '../privilege.js';
import type { Journal, JournalAction } from './journal.js';
import { DefaultsStore } from './defaults-store.js';
import { currentUserSubkey, RegistryStore } from './registry-store.js';
import { RemoteFiles, type OpenedFiles, type PreferencesStore } from './remote-file.js';
import { ServiceControl, wouldNotStop, type PlexControl, type PlexProcess } from './service-control.js';
import { WindowsControl } from './windows-control.js';

// One repair (or undo) of one install, from taking the server's lock to giving it back: the steps
// as they happen, the journal before and after each, and the roll-back that puts the backup back
// and starts Plex again when a step fails after Plex was stopped. Repair, undo and the recovery of
// an interrupted run all work through it.

export type RepairStep = 'stop' | 'backup' | 'write' | 'start' | 'claim' | 'verify';

export type RepairNotice =
  | { event: 'backup'; path: string }
  | { event: 'certificate'; paths: string[] }
  | { event: 'leftover-processes'; processes: string[] }
  | { event: 'forced-stop'; detail: string }
  /** macOS did not let Reclaim open Plex: the person is asked to, and Reclaim waits for it. */
  | { event: 'reopen-plex'; detail: string }
  | { event: 'rolled-back'; restored: boolean; started: boolean; detail: string }
  | { event: 'recovered'; outcome: 'finished' | 'rolled-back' | 'cleared'; detail: string; backup?: string };

export interface RepairLimits {
  /** How long Plex may take to stop before the repair gives up (default a minute). */
  stopWaitMs?: number;
  /** How long Plex may take to answer after it was started (default two minutes). */
  startWaitMs?: number;
  /** Between two looks at the server while waiting. */
  pollMs?: number;
}

export interface RepairContext {
  privilege: Privilege;
  /** Plex Media Server, through the tunnel. */
  pms: PmsClient;
  plexTv: Pick<PlexTvClient, 'checkToken' | 'claimToken' | 'exchangeClaimToken'>;
  /** The SSH connection ended (nothing more can be done on the server from this run). */
  connectionLost?: () => boolean;
  onStep?: (step: RepairStep, state: 'started' | 'done') => void | Promise<void>;
  onNotice?: (notice: RepairNotice) => void;
  limits?: RepairLimits;
  now?: () => Date;
  /** Where the server's filesystem starts for the scripts: '' (a real server) or a test's tree. */
  root?: string;
}

const DEFAULT_STOP_WAIT_MS = 60_000;
const DEFAULT_START_WAIT_MS = 120_000;
const DEFAULT_POLL_MS = 1_000;
const MAX_POLLS = 600;

export class RepairSession {
  /** The last step that was done: how far the run got. */
  private lastStep: RepairStep | undefined;

  private constructor(
    readonly run: string,
    readonly install: PlexInstall,
    readonly context: RepairContext,
    readonly files: PreferencesStore,
    readonly service: PlexControl,
    readonly opened: OpenedFiles,
  ) {}

  /** Takes the server's repair lock for this install and reads what is there. */
  static async open(install: PlexInstall, context: RepairContext): Promise<RepairSession> {
    const reason = `repair Plex's sign-in (${install.description})`;
    const run = randomBytes(8).toString('hex');
    const { files, service } = await storeFor(install, context, run, reason);
    const opened = await files.open();
    const refusal = refuseToStart(opened, files.paths.preferences);
    if (refusal) {
      await files.close({ keepJournal: true });
      throw refusal;
    }
    const session = new RepairSession(run, install, context, files, service, opened);
    log.info(`repair ${run}: took the lock on ${files.paths.preferences}${opened.tookOverLock ? ' (left by a run whose connection is gone)' : ''}${opened.journal ? `; found the journal of run ${opened.journal.run} (${opened.journal.action}, ${opened.journal.state})` : ''}`);
    return session;
  }

  get now(): Date {
    return this.context.now?.() ?? new Date();
  }

  notice(notice: RepairNotice): void {
    this.context.onNotice?.(notice);
  }

  journal(action: JournalAction, mode: string, wasRunning: boolean): Journal {
    return { run: this.run, action, mode, state: 'begun', began: this.now.toISOString(), wasRunning };
  }

  /** Runs one step, telling the caller when it starts and when it is done. */
  async step<T>(step: RepairStep, work: () => Promise<T>): Promise<T> {
    // Without the connection nothing of a step can work (a request to Plex would only wait).
    if (this.context.connectionLost?.()) throw this.interrupted(new Error('the SSH connection is gone'));
    await this.context.onStep?.(step, 'started');
    const result = await work();
    this.lastStep = step;
    await this.context.onStep?.(step, 'done');
    log.info(`repair ${this.run}: ${step} done`);
    return result;
  }

  /** The Plex processes of this install now; PMS itself is the one named "Plex Media Serv…". */
  async running(): Promise<PlexProcess[]> {
    return (await this.service.processes()).filter(isPmsItself);
  }

  /**
   * Stops Plex and waits (a minute at most) until its processes are gone. Helpers that outlive
   * it are named; Plex itself still running is an error that changed nothing.
   */
  async stopPlex(): Promise<void> {
    const limit = this.context.limits?.stopWaitMs ?? DEFAULT_STOP_WAIT_MS;
    if ((await this.running()).length === 0) return;
    if (!this.service.controllable) {
      throw new ReclaimError(
        'REPAIR_NOT_POSSIBLE',
        `Reclaim knows no command to stop Plex on ${this.install.description} (${this.install.service.manager}).`,
        `Stop Plex yourself (${this.install.service.manager}), then run the repair again; Reclaim will then wait for you to start it.`,
        { reason: 'no-stop-command' },
      );
    }
    const outcome = await this.service.stop();
    const said = outcome.exit !== 0 && outcome.output ? outcome.output.replace(/\s+/g, ' ').trim().slice(0, 200) : undefined;
    let left: PlexProcess[] = [];
    const gone = async () => {
      left = await this.service.processes();
      return left.length === 0;
    };
    // Where the platform has a harder stop, it gets half the time to stop when asked, then that.
    const forceStop = this.service.forceStop?.bind(this.service);
    await this.poll(forceStop ? limit / 2 : limit, gone);
    if (forceStop && left.some(isPmsItself)) {
      const forced = await forceStop();
      log.info(`repair ${this.run}: ${forced.how} (exit ${forced.exit})`);
      this.notice({ event: 'forced-stop', detail: forced.how });
      await this.poll(limit / 2, gone);
    }
    if (left.some(isPmsItself)) throw wouldNotStop(left, Math.round(limit / 1000), said);
    if (left.length) this.notice({ event: 'leftover-processes', processes: left.map((process) => `${process.name} (pid ${process.pid})`) });
  }

  /** Starts Plex and waits until it answers through the tunnel (or its service says it failed). */
  async startPlex(): Promise<PmsIdentity> {
    const limit = this.context.limits?.startWaitMs ?? DEFAULT_START_WAIT_MS;
    let said: string | undefined;
    let waitForPerson = false;
    if (this.service.controllable) {
      const outcome = await this.service.start();
      if (outcome.exit !== 0) said = outcome.output.replace(/\s+/g, ' ').trim().slice(0, 200) || `exit status ${outcome.exit}`;
      // From a plain SSH session (no root for launchctl asuser) macOS may refuse to open an app.
      if (outcome.exit !== 0 && this.install.platform === 'macos') {
        waitForPerson = true;
        this.notice({ event: 'reopen-plex', detail: `macOS did not let Reclaim open Plex Media Server (${said}). Open it on the Mac now (Applications, as ${this.install.runsAs ?? 'the account that runs it'}); Reclaim waits ${Math.round(limit / 1000)} s for it.` });
      }
    }
    let identity: PmsIdentity | undefined;
    let state: string | undefined;
    let looks = 0;
    await this.poll(limit, async () => {
      try {
        identity = await this.context.pms.identity();
        return true;
      } catch (error) {
        if (this.context.connectionLost?.()) throw error;
      }
      // Now and then ask the server whether Plex is still trying; a failed start ends the wait.
      if (++looks % 3 === 0) {
        state = await this.service.status();
        if (state && /^(failed|inactive|dead)/.test(state)) return true;
        if (!state && this.service.controllable && !waitForPerson && looks >= 9 && (await this.running()).length === 0) return true;
      }
      return false;
    });
    if (identity) return identity;
    throw new ReclaimError(
      'PMS_WOULD_NOT_START',
      `Plex Media Server did not come back after Reclaim started it${state ? ` (${this.install.service.manager} says "${state}")` : ''}${said ? `; the start command said: ${said}` : ''}.`,
      startFix(this.install),
      { state },
    );
  }

  /**
   * After a failed step: Plex is stopped if it runs on changed Preferences, the backup is put back
   * if the file differs from it, and Plex is started again if it was running before. Says what it
   * did; what it could not do is in the returned detail (and the journal stays for the next run).
   */
  async rollBack(journal: Journal): Promise<{ restored: boolean; started: boolean; detail: string; ok: boolean }> {
    const done: string[] = [];
    let restored = false;
    let started = false;
    try {
      const now = (await this.files.open()).file;
      const current = 'fingerprint' in now ? now.fingerprint : undefined;
      const changed = journal.original !== undefined && current !== journal.original;
      if (changed && journal.backup) {
        await this.stopPlex();
        await this.files.restore(journal.backup, journal);
        restored = true;
        done.push(`put your Preferences back from ${journal.backup}`);
      } else {
        done.push('left your Preferences as they were (they had not been changed)');
      }
      if (journal.wasRunning && (await this.running()).length === 0) {
        await this.startPlex();
        started = true;
        done.push('started Plex again');
      }
      const detail = `Reclaim ${done.join(' and ')}.`;
      this.notice({ event: 'rolled-back', restored, started, detail });
      return { restored, started, detail, ok: true };
    } catch (error) {
      const failure = asReclaimError(error);
      log.error(`repair ${this.run}: roll-back`, failure);
      const detail = `Reclaim ${done.length ? `${done.join(' and ')}, but then ` : ''}could not finish putting things back: ${failure.message}${journal.backup ? ` Your original Preferences are saved in ${journal.backup}.` : ''} Run the repair again to finish this.`;
      this.notice({ event: 'rolled-back', restored, started, detail });
      return { restored, started, detail, ok: false };
    }
  }

  /**
   * The error to report for a failure after Plex was stopped: the original one, said together with
   * what the roll-back did; or, with the connection gone, REPAIR_INTERRUPTED.
   */
  async failAfterStop(error: unknown, journal: Journal): Promise<never> {
    if (this.context.connectionLost?.()) throw this.interrupted(error);
    const failure = asReclaimError(error);
    const rollBack = await this.rollBack(journal);
    if (this.context.connectionLost?.()) throw this.interrupted(error);
    // What could not be put back stays in the journal for the next run.
    await this.close({ keepJournal: !rollBack.ok });
    throw new ReclaimError(
      failure.code,
      `${failure.message} ${rollBack.detail}`,
      failure.fix,
      failure.details as never,
      { cause: failure },
    );
  }

  interrupted(error: unknown): ReclaimError {
    const step = this.lastStep;
    return new ReclaimError(
      'REPAIR_INTERRUPTED',
      `The SSH connection to the server was lost during the repair${step ? `, after its "${step}" step` : ''}. Plex may be stopped, and its Preferences may be new or as they were.`,
      'Connect again and run the same repair: Reclaim finds where this one stopped, finishes it or puts the backup back, and says which.',
      { step },
      { cause: error },
    );
  }

  async close(options: { keepJournal?: boolean } = {}): Promise<void> {
    if (this.context.connectionLost?.()) return;
    await this.files.close(options).catch((error: unknown) => log.error(`repair ${this.run}: releasing the lock`, error));
  }

  /** Asks `check` until it says done, the time is up, or a bounded number of looks were taken. */
  private async poll(limitMs: number, check: () => Promise<boolean>): Promise<void> {
    const pollMs = this.context.limits?.pollMs ?? DEFAULT_POLL_MS;
    const deadline = Date.now() + limitMs;
    for (let looks = 0; looks < MAX_POLLS; looks++) {
      if (await check()) return;
      if (Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}

/** The store of the install's settings and the control of its Plex, or why Reclaim will not repair it. */
async function storeFor(install: PlexInstall, context: RepairContext, run: string, reason: string): Promise<{ files: PreferencesStore; service: PlexControl }> {
  const location = install.preferences;
  if (location.kind === 'file') {
    if (/[\u0000-\u001f]/.test(location.path)) {
      throw new ReclaimError('REPAIR_NOT_POSSIBLE', 'The path of Plex\'s Preferences holds control characters; Reclaim will not work on it.', 'Move Plex\'s data to a folder with a plain name.', { reason: 'not-a-file' });
    }
    const files = new RemoteFiles({ preferences: location.path, dataDir: install.dataDir, access: install.files, root: context.root ?? '' }, context.privilege, run, reason);
    return { files, service: new ServiceControl(install, context.privilege, reason, context.root) };
  }
  if (location.kind === 'defaults') {
    if (/[\u0000-\u001f]/.test(`${install.dataDir}${location.user}${location.domain}`) || !location.user) {
      throw new ReclaimError('REPAIR_NOT_POSSIBLE', `Reclaim cannot tell which macOS account's settings to repair (${location.user || 'no account'}).`, 'Start Plex on the Mac, so Reclaim sees which account runs it, then try again.', { reason: 'not-a-file' });
    }
    const files = new DefaultsStore({ ...install, preferences: location }, context.privilege, run, reason, context.root ?? '');
    return { files, service: new ServiceControl(install, context.privilege, reason, context.root) };
  }
  // Windows: HKCU is the SSH account's hive, so it must be the account that runs Plex.
  const shell = context.privilege.shell;
  const service = new WindowsControl(install, shell);
  const owners = await service.owners();
  const other = owners.processes.find((process) => process.sid && process.sid !== owners.me);
  if (!currentUserSubkey(install) || other) {
    throw new ReclaimError(
      'REPAIR_NOT_POSSIBLE',
      `Plex Media Server on this PC runs as ${install.runsAs ?? 'another account'}${other ? ` (process ${other.pid}, account ${other.sid})` : ''}, not as the account you signed in with over SSH. Its settings are in that account's registry, and Reclaim stops, edits and starts Plex only as the account that runs it.`,
      `Connect over SSH as the Windows account that runs Plex (${install.runsAs ?? 'the one signed in on the PC'}), then run the repair again. Nothing was changed.`,
      { reason: 'other-user' },
    );
  }
  return { files: new RegistryStore(install, shell, run), service };
}

/** What to do when Plex did not come back, on its platform. */
function startFix(install: PlexInstall): string {
  if (install.platform === 'macos') {
    return `Open Plex Media Server on the Mac (from Applications, signed in as ${install.runsAs ?? 'the account that runs it'}); once it runs, run "reclaim status" (or "reclaim claim"). Plex's log is in ${install.logDir}.`;
  }
  if (install.platform === 'windows') {
    return `Start Plex Media Server on the Windows PC (Start menu, signed in as ${install.runsAs ?? 'the account that runs it'}); once it runs, run "reclaim status". Plex's log is in ${install.logDir}.`;
  }
  return `Look at Plex's log (${install.logDir}) and its service on the server (for example "systemctl status plexmediaserver"), then start it again.`;
}

/** Why the Preferences cannot be repaired as they are, before anything is stopped. */
function refuseToStart(opened: OpenedFiles, path: string): ReclaimError | undefined {
  const { file } = opened;
  if ('problem' in file) {
    if (file.problem === 'missing') {
      return new ReclaimError(
        'PLEX_PREFERENCES_UNREADABLE',
        `Plex's Preferences at ${path} do not exist (any more). Reclaim never creates them: a new file would give the server a new identity.`,
        'Check the data folder (a disk not mounted yet?), start Plex once so it finds its Preferences, then try again.',
        { where: path },
      );
    }
    return new ReclaimError(
      'REPAIR_NOT_POSSIBLE',
      `Plex's Preferences at ${path} are ${file.problem === 'link' ? `a symbolic link (to ${file.target ?? 'somewhere'})` : 'not a regular file'}; Reclaim edits only a plain file, so that the backup and the rename stay beside it.`,
      'Point Plex\'s data folder at the real directory (or replace the link with the file it points to), then try again.',
      { reason: 'not-a-file' },
    );
  }
  // Room for the backup and the new file beside the old, with some to spare.
  const size = Number(file.fingerprint.split(':').at(-1));
  if (opened.freeKib !== undefined && Number.isFinite(size) && opened.freeKib * 1024 < 2 * size + 64 * 1024) {
    return new ReclaimError(
      'REPAIR_WRITE_FAILED',
      `The disk that holds Plex's Preferences (${path}) has only ${opened.freeKib} KiB free: not enough for a backup and the new file. Reclaim changed nothing.`,
      'Free some space on that disk (df -h shows how full it is), then try again.',
      { step: 'backup', reason: 'disk-full' },
    );
  }
  return undefined;
}

function isPmsItself(process: PlexProcess): boolean {
  return /^Plex Media Serv/.test(process.name);
}
