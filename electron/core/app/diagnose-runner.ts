import type { DiagnoseCheck, ReclaimEvent, ServerProfile } from '../../shared/ipc-contract.js';
import { badInput, ReclaimError } from '../common/errors.js';
import { log } from '../common/log.js';
import { formatHostPort, parseHostPort } from '../common/target.js';
import { diagnose } from '../diagnose/diagnose.js';
import { describeCheck, diagnoseReport } from '../diagnose/report.js';
import type { ServerPrompters } from './server-prompters.js';
import type { Sessions } from './sessions.js';
import type { SshSettings } from './ssh-settings.js';

/** Enough of the log to show what led up to a problem, short enough to paste into a post. */
const REPORT_LOG_LINES = 40;

// Diagnose from the window: every link checked, each result sent as it comes, and the last
// report per server kept for Copy report. It works whether or not the server is connected: it
// is most useful when connecting fails.

export interface DiagnoseRunnerOptions {
  sessions: Sessions;
  loadProfile(id: string): Promise<ServerProfile>;
  ssh: SshSettings;
  prompters: ServerPrompters;
  emit(event: ReclaimEvent): void;
  copyText(text: string): void;
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
}

interface Run {
  profileId: string;
  stop: AbortController;
}

export class DiagnoseRunner {
  private readonly lastChecks = new Map<string, DiagnoseCheck[]>();
  private readonly running = new Set<Run>();

  constructor(private readonly options: DiagnoseRunnerOptions) {}

  async run(id: string): Promise<DiagnoseCheck[]> {
    const session = this.options.sessions.get(id);
    const profile = session?.profile ?? (await this.options.loadProfile(id));
    const route = session?.route ?? (await this.options.ssh.route(profile));
    const run: Run = { profileId: id, stop: new AbortController() };
    const checks: DiagnoseCheck[] = [];
    this.lastChecks.delete(id);
    this.running.add(run);
    try {
      await diagnose({
        route,
        connect: this.options.ssh.connect(profile, this.options.prompters.for(id), run.stop.signal),
        remote: parseHostPort(profile.remote, 'Plex address on the server'),
        plexTvUrl: this.options.plexTvUrl,
        plexHeaders: this.options.plexHeaders,
        onCheck: (check) => {
          if (run.stop.signal.aborted) return;
          const described = describeCheck(check);
          checks.push(described);
          this.options.emit({ type: 'diagnose-check', profileId: id, check: described });
        },
      });
    } finally {
      this.running.delete(run);
    }
    if (run.stop.signal.aborted) {
      throw new ReclaimError('CANCELLED', 'Diagnose was stopped: the server was deleted, or Reclaim is closing.', 'Run Diagnose again if you still need it.');
    }
    this.lastChecks.set(id, checks);
    return checks;
  }

  /** `serverSection`: the Server section's last report, included when there is one. */
  async copyReport(id: string, serverSection?: string): Promise<string> {
    const checks = this.lastChecks.get(id);
    if (!checks && !serverSection) throw badInput('There is no diagnose report for this server yet.', 'Run Diagnose (or look at the server in its Server section) first.');
    const profile = await this.options.loadProfile(id);
    const label = `${profile.name} (${profile.user ? `${profile.user}@` : ''}${formatHostPort(profile.host, profile.sshPort)})`;
    const report = diagnoseReport(label, checks ?? [], new Date(), log.recentLines(REPORT_LOG_LINES), serverSection);
    this.options.copyText(report);
    return report;
  }

  /** The server is deleted: a run under way stops (its login too), and its last report goes. */
  forget(id: string): void {
    for (const run of this.running) if (run.profileId === id) run.stop.abort();
    this.lastChecks.delete(id);
  }

  /** Reclaim is quitting. */
  stopAll(): void {
    for (const run of this.running) run.stop.abort();
  }
}
