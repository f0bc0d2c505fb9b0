import type { RepairGoAhead, RepairOutcome, RepairPlanInfo, RepairRequest, ReclaimEvent, ServerProfile, ServerStatus } from '../../shared/ipc-contract.js';
import { badInput } from '../common/errors.js';
import { log } from '../common/log.js';
import { parseHostPort } from '../common/target.js';
import { validateClaimToken, type ClaimSource } from '../plex/claim.js';
import { PlexTvClient } from '../plex/plex-tv.js';
import { signInWithPlex } from '../plex/sign-in.js';
import { openRepair, type OpenedRepair } from '../server/repair/open-repair.js';
import { planEvent, planRepair, planUndo, type RepairPlan, type UndoPlan } from '../server/repair/plan.js';
import { repairSignIn } from '../server/repair/repair.js';
import type { RepairNotice } from '../server/repair/session.js';
import { undoRepair } from '../server/repair/undo.js';
import { connectRoute, type SshConnection } from '../ssh/connect.js';
import type { PromptBroker } from './prompt-broker.js';
import type { ServerPrompters } from './server-prompters.js';
import { freshStatus, type Sessions } from './sessions.js';
import type { SshSettings } from './ssh-settings.js';

// Repairing a server's Plex sign-in from the window (core/server/repair does the work): Repair
// looks at the server over an SSH connection of its own (so it works while Plex is down and the
// tunnel cannot open), takes the server's repair lock and shows the plan; the person then signs
// in with Plex (or pastes a claim token) and the steps run, each sent as an event. The sudo
// password is asked in a dialog each time it is needed and never saved.

export interface RepairFlowOptions {
  sessions: Sessions;
  loadProfile(id: string): Promise<ServerProfile>;
  ssh: SshSettings;
  prompters: ServerPrompters;
  broker: PromptBroker;
  emit(event: ReclaimEvent): void;
  openSignInWindow(url: string, onClosedByPerson: () => void): () => void;
  openExternal(url: string): Promise<void>;
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
}

interface Pending {
  connection: SshConnection;
  opened: OpenedRepair;
  plexTv: PlexTvClient;
  plan: RepairPlan | UndoPlan;
  recovered?: string;
  stop: AbortController;
  running: boolean;
}


export class RepairFlow {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly options: RepairFlowOptions) {}

  async plan(id: string, request: RepairRequest): Promise<RepairPlanInfo> {
    const earlier = this.pending.get(id);
    if (earlier?.running) throw badInput('A repair of this server is under way.', 'Wait for it to finish.');
    // Another way, or the certificate kept: the same look at the server, planned again.
    if (earlier && earlier.plan.action === (request.undo ? 'undo' : 'repair')) {
      earlier.plan = planFor(earlier.opened, request);
      return { ...planInfo(earlier.plan), recovered: earlier.recovered };
    }
    if (earlier) await this.close(id);
    const session = this.options.sessions.get(id);
    const profile = session?.profile ?? (await this.options.loadProfile(id));
    const route = session?.route ?? (await this.options.ssh.route(profile));
    const stop = new AbortController();
    const connection = await connectRoute(route, this.options.ssh.connect(profile, this.options.prompters.for(id), stop.signal));
    let lost = false;
    void connection.closed.then(() => {
      lost = true;
    });
    const plexTv = new PlexTvClient(this.options.plexTvUrl, this.options.plexHeaders);
    let recovered: string | undefined;
    try {
      const opened = await openRepair(connection.client, {
        headers: this.options.plexHeaders,
        plexTv,
        remote: parseHostPort(profile.remote, 'Plex address on the server'),
        sudoPassword: (request) => this.options.broker.askSudoPassword(id, request),
        connectionLost: () => lost,
        onStep: (step, state) => this.options.emit({ type: 'repair-step', profileId: id, step, state }),
        onNotice: (notice) => {
          if (notice.event === 'recovered') recovered = notice.detail;
          this.options.emit({ type: 'repair-notice', profileId: id, ...noticeText(notice) });
        },
      });
      const plan = planFor(opened, request);
      this.pending.set(id, { connection, opened, plexTv, plan, recovered, stop, running: false });
      return { ...planInfo(plan), recovered };
    } catch (error) {
      await plexTv.close();
      await connection.close();
      throw error;
    }
  }

  async goAhead(id: string, how: RepairGoAhead): Promise<RepairOutcome> {
    const pending = this.pending.get(id);
    if (!pending) throw badInput('There is no repair plan for this server to go ahead with.', 'Press Repair (or Undo) again to see the plan first.');
    if (pending.running) throw badInput('This repair is already under way.', 'Wait for it to finish.');
    const { plan, opened } = pending;
    if ((plan.action === 'undo') !== ('undo' in how)) throw badInput('That is not how this plan goes ahead.', 'Press Repair (or Undo) again.');
    pending.running = true;
    try {
      if (plan.action === 'undo') {
        const result = await undoRepair(opened.session, plan);
        return { outcome: 'restored', restored: result.restored, backup: result.backup, status: await this.status(id) };
      }
      const { source, account } = await this.claimSource(id, pending, how);
      if (account) this.options.emit({ type: 'repair-notice', profileId: id, text: `Signed in to Plex as ${account}: the server will belong to this account.` });
      const result = await repairSignIn(opened.session, { ...plan, account: plan.account ?? account }, source);
      return {
        outcome: 'repaired',
        account: result.username,
        backup: result.backup,
        warnings: result.warnings.map((warning) => `${warning.title}: ${warning.detail} ${warning.fix}`),
        status: await this.status(id),
      };
    } finally {
      await this.close(id);
    }
  }

  /** Stops a sign-in still waiting; a plan not gone ahead with is dropped (its lock given back). */
  async cancel(id: string): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending) return;
    pending.stop.abort();
    if (!pending.running) await this.close(id);
  }

  /** The server is deleted. */
  forget(id: string): void {
    void this.cancel(id).catch((error: unknown) => log.error('repair: dropping a plan', error));
  }

  /** Reclaim is closing: plans are dropped; a repair under way is left to its journal. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((id) => this.cancel(id).catch((error: unknown) => log.error('repair: dropping a plan', error))));
  }

  private async claimSource(id: string, pending: Pending, how: RepairGoAhead): Promise<{ source: ClaimSource; account?: string }> {
    if ('claimToken' in how) return { source: { kind: 'token', claimToken: validateClaimToken(how.claimToken) } };
    if (!('signIn' in how)) throw badInput('A repair needs a Plex sign-in or a claim token.', 'Sign in with Plex, or paste a claim token.');
    let closeWindow: (() => void) | undefined;
    try {
      const signedIn = await signInWithPlex(pending.plexTv, {
        signal: pending.stop.signal,
        onUrl: (url) => {
          this.options.emit({ type: 'signin-url', profileId: id, url });
          if (how.signIn === 'window') closeWindow = this.options.openSignInWindow(url, () => pending.stop.abort());
          else this.options.openExternal(url).catch(() => {});
        },
      });
      return { source: { kind: 'account', userToken: signedIn.token, plexTv: pending.plexTv }, account: signedIn.username };
    } finally {
      closeWindow?.();
    }
  }

  /** The connected server's status after the change, for its card (undefined when not connected). */
  private async status(id: string): Promise<ServerStatus | undefined> {
    const session = this.options.sessions.get(id);
    if (!session?.pms || !session.connection) return undefined;
    try {
      const status = await freshStatus(session);
      session.connection = { ...session.connection, status, statusError: undefined };
      return status;
    } catch {
      return undefined;
    }
  }

  private async close(id: string): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    await pending.opened.close().catch((error: unknown) => log.error('repair: giving the lock back', error));
    await pending.plexTv.close();
    await pending.connection.close();
  }
}

function planFor(opened: OpenedRepair, request: RepairRequest): RepairPlan | UndoPlan {
  if (request.undo) return planUndo(opened.entry, opened.session.opened.backups);
  return planRepair(opened.entry, { mode: request.mode === 'auto' ? undefined : request.mode, renewCertificate: request.keepCertificate ? false : undefined });
}

function planInfo(plan: RepairPlan | UndoPlan): RepairPlanInfo {
  const event = planEvent(plan);
  const common = { action: plan.action, install: plan.install.description, preferences: plan.preferences, backup: plan.backup, steps: plan.steps, notes: plan.notes };
  if (plan.action === 'undo') return { ...common, restore: plan.restore };
  return {
    ...common,
    mode: plan.mode,
    why: plan.why,
    accountText: plan.account ? plan.accountText : 'the Plex account you sign in with next (or the one your claim token belongs to)',
    current: { username: plan.current.username, accepted: plan.current.accepted },
    keeps: event.keeps as string[],
    certificate: plan.certificate?.why,
  };
}

function noticeText(notice: RepairNotice): { text: string; backup?: string } {
  switch (notice.event) {
    case 'backup':
      return { text: `Backed up the Preferences to ${notice.path}`, backup: notice.path };
    case 'certificate':
      return { text: `Set the cached certificate aside (${notice.paths.join(', ')}); Plex fetches a new one.` };
    case 'leftover-processes':
      return { text: `Plex helpers still running after Plex stopped: ${notice.processes.join(', ')}.` };
    case 'forced-stop':
      return { text: `Plex would not stop when asked, so Reclaim ${notice.detail}.` };
    case 'reopen-plex':
      return { text: notice.detail };
    case 'rolled-back':
    case 'recovered':
      return { text: notice.detail };
  }
}
