import type { ErrorCode } from '../../shared/error-codes.js';
import type { LogFindingInfo } from '../../shared/ipc-contract.js';
import { redactSecrets } from '../common/redact.js';
import { preferencesLabel, serviceLabel, type PlexInstall } from './install.js';
import { describeAge, type LogFinding } from './log-findings.js';
import type { PreferencesSummary } from './preferences.js';

// What `inspect` found, ready for people and programs: plain-words notices and findings (title,
// detail, fix, the log line and its age), the `--json` event lines of `reclaim inspect`, and a
// plain-text report for Copy report. Nothing here holds a token: sign-ins are "set" or "missing".

export interface Notice {
  title: string;
  detail: string;
  fix?: string;
}

export interface ProblemFacts {
  code: ErrorCode;
  message: string;
  fix: string;
  /** The error's facts (its `details`), e.g. which account sudo refused. */
  details?: Record<string, unknown>;
}

export interface SignInReport {
  token: 'set' | 'missing';
  username?: string;
  /** true plex.tv accepts it, false plex.tv refused it (401), null not checked or could not tell. */
  accepted: boolean | null;
  detail: string;
  fix?: string;
}

export interface InstallReport {
  install: PlexInstall;
  /** What its Preferences say, without the token itself. */
  preferences?: Omit<PreferencesSummary, 'token'>;
  preferencesProblem?: ProblemFacts;
  /** Its ProcessedMachineIdentifier equals what Plex answering through the tunnel reports. */
  answersTunnel: boolean | null;
  signIn: SignInReport;
  log: { findings: LogFinding[]; lastStart?: { at: string; ageSeconds: number | null; version: string }; problem?: string };
  readAsRoot: boolean;
}

export interface TunnelIdentity {
  machineIdentifier: string;
  version: string;
  claimed: boolean;
}

export interface InspectReport {
  installs: InstallReport[];
  /** Index into installs of the one Plex answering through the tunnel, or null when unknown. */
  chosen: number | null;
  /** Why that one (or why none), in words. */
  choice: string;
  tunnel: TunnelIdentity | { problem: ProblemFacts };
  /** Plex is still starting (or slow to wake): wait, do not repair. */
  starting?: Notice;
  notes: Notice[];
}

/** A log finding as people and programs see it: its age in words, by the server's clock. */
export function findingForPeople(finding: LogFinding): LogFindingInfo {
  return {
    id: finding.id,
    title: finding.title,
    detail: finding.detail,
    fix: finding.fix,
    line: finding.line,
    age: describeAge(finding.ageSeconds),
    count: finding.count,
    beforeLastStart: finding.beforeLastStart,
  };
}

/** Log findings that mean something is wrong now (not only before Plex's latest start). */
export function currentProblems(report: InstallReport): LogFinding[] {
  return report.log.findings.filter((finding) => !finding.beforeLastStart && finding.id !== 'log-startup-maintenance');
}

/** The `--json` lines of `reclaim inspect`: one "install" event per install, then a "summary". */
export function inspectEvents(report: InspectReport): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = report.installs.map((entry, index) => ({
    event: 'install',
    platform: entry.install.platform,
    description: entry.install.description,
    preferences: preferencesLabel(entry.install.preferences),
    logs: entry.install.logDir,
    service: serviceLabel(entry.install.service),
    user: entry.install.runsAs ?? null,
    running: entry.install.running,
    machineIdentifier: entry.preferences?.machineIdentifier ?? null,
    chosen: report.chosen === index,
    signIn: { token: entry.signIn.token, username: entry.signIn.username ?? null, accepted: entry.signIn.accepted },
    findings: entry.log.findings.map((finding) => ({ ...findingForPeople(finding), at: finding.at })),
    ...(entry.preferencesProblem ? { problem: entry.preferencesProblem } : {}),
  }));
  const chosen = report.chosen === null ? undefined : report.installs[report.chosen];
  events.push({
    event: 'summary',
    installs: report.installs.length,
    chosen: chosen?.preferences?.machineIdentifier ?? null,
    choice: report.choice,
    signInAccepted: chosen ? chosen.signIn.accepted : null,
    starting: report.starting !== undefined,
    ok: chosen !== undefined && !chosen.preferencesProblem && chosen.signIn.accepted !== false && currentProblems(chosen).length === 0,
  });
  return events;
}

/** The report as plain text, redacted, for the terminal and Copy report. */
export function inspectReportText(report: InspectReport): string {
  const lines: string[] = [];
  if (report.starting) lines.push(`${report.starting.title}: ${report.starting.detail}`, ...(report.starting.fix ? [`  Fix: ${report.starting.fix}`] : []), '');
  lines.push(report.choice, '');
  report.installs.forEach((entry, index) => {
    const { install } = entry;
    lines.push(`${report.chosen === index ? '* ' : '  '}${install.description}`);
    lines.push(`    Preferences: ${preferencesLabel(install.preferences)}`);
    lines.push(`    Logs: ${install.logDir}`);
    lines.push(`    Runs as: ${install.runsAs ?? 'unknown'}; ${install.running === true ? 'running' : install.running === false ? 'not running' : 'running: unknown'}`);
    lines.push(`    Controlled by: ${serviceLabel(install.service)}`);
    if (install.dataDirSource) lines.push(`    Data folder from: ${install.dataDirSource}`);
    for (const note of install.notes) lines.push(`    Note: ${note}`);
    if (entry.preferencesProblem) {
      lines.push(`    Preferences: ${entry.preferencesProblem.message}`, `      Fix: ${entry.preferencesProblem.fix}`);
    } else if (entry.preferences) {
      lines.push(`    Machine: ${entry.preferences.machineIdentifier}`);
    }
    lines.push(`    Sign-in: token ${entry.signIn.token}${entry.signIn.username ? `, account ${entry.signIn.username}` : ''}. ${entry.signIn.detail}`);
    if (entry.signIn.fix) lines.push(`      Fix: ${entry.signIn.fix}`);
    if (entry.log.problem) lines.push(`    Log: ${entry.log.problem}`);
    for (const finding of entry.log.findings) {
      lines.push(`    [${finding.beforeLastStart ? 'old ' : 'log '}] ${finding.title} (last ${describeAge(finding.ageSeconds)}, ${finding.count}×): ${finding.detail}`);
      lines.push(`      Line: ${finding.line}`, `      Fix: ${finding.fix}`);
    }
    lines.push('');
  });
  for (const note of report.notes) lines.push(`Note: ${note.title}: ${note.detail}${note.fix ? ` Fix: ${note.fix}` : ''}`);
  return `${redactSecrets(lines.join('\n').trimEnd())}\n`;
}
