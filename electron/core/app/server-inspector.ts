import type { ServerInspection } from '../../shared/ipc-contract.js';
import { ReclaimError } from '../common/errors.js';
import { PlexTvClient } from '../plex/plex-tv.js';
import { findingForPeople, inspectReportText, type InspectReport } from '../server/inspect-report.js';
import { inspectServer } from '../server/inspect.js';
import { preferencesLabel, serviceLabel } from '../server/install.js';
import type { PromptBroker } from './prompt-broker.js';
import type { Sessions } from './sessions.js';

// The window's "Server" section: the connected server's Plex install, read over the session's own
// SSH link (core/server, the engine of `reclaim inspect`). sudo's password, when root is needed,
// is asked through the prompt broker and never kept. The last report per server, as plain text
// without any token, goes into Copy report.

export interface ServerInspectorOptions {
  sessions: Sessions;
  broker: PromptBroker;
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
}

export class ServerInspector {
  private readonly lastText = new Map<string, string>();

  constructor(private readonly options: ServerInspectorOptions) {}

  async run(id: string): Promise<ServerInspection> {
    const session = this.options.sessions.connected(id);
    const client = session.tunnel.sshClient;
    if (!client) {
      throw new ReclaimError('NOT_CONNECTED', 'The link to this server is being rebuilt right now.', 'Wait until it is back (the banner goes away), then try again.');
    }
    const plexTv = new PlexTvClient(this.options.plexTvUrl, this.options.plexHeaders);
    let report: InspectReport;
    try {
      report = await inspectServer(client, {
        plexTv,
        headers: this.options.plexHeaders,
        identity: () => session.pms.identity(),
        sudoPassword: (request) => this.options.broker.askSudoPassword(id, request),
      });
    } finally {
      await plexTv.close();
    }
    this.lastText.set(id, inspectReportText(report));
    return toInspection(report);
  }

  /** The last report for this server as plain text (redacted), if there is one. */
  reportText(id: string): string | undefined {
    return this.lastText.get(id);
  }

  forget(id: string): void {
    this.lastText.delete(id);
  }
}

/** The report as the window gets it: plain data, no token values. */
export function toInspection(report: InspectReport): ServerInspection {
  return {
    installs: report.installs.map((entry, index) => ({
      description: entry.install.description,
      platform: entry.install.platform,
      preferences: preferencesLabel(entry.install.preferences),
      logs: entry.install.logDir,
      service: serviceLabel(entry.install.service),
      runsAs: entry.install.runsAs ?? null,
      running: entry.install.running,
      dataDirSource: entry.install.dataDirSource,
      machineIdentifier: entry.preferences?.machineIdentifier ?? null,
      chosen: report.chosen === index,
      notes: entry.install.notes,
      problem: entry.preferencesProblem && { code: entry.preferencesProblem.code, message: entry.preferencesProblem.message, fix: entry.preferencesProblem.fix },
      signIn: {
        token: entry.signIn.token,
        username: entry.signIn.username ?? null,
        accepted: entry.signIn.accepted,
        detail: entry.signIn.detail,
        fix: entry.signIn.fix,
      },
      findings: entry.log.findings.map(findingForPeople),
      logProblem: entry.log.problem,
    })),
    choice: report.choice,
    starting: report.starting,
    notes: report.notes,
  };
}
