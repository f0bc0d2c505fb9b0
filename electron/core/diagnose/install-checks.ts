import type ssh2 from 'ssh2';
import { asReclaimError } from '../common/errors.js';
import type { HostPort } from '../common/target.js';
import { PlexTvClient } from '../plex/plex-tv.js';
import { currentProblems, type InspectReport, type InstallReport } from '../server/inspect-report.js';
import { inspectServer } from '../server/inspect.js';
import { describeAge } from '../server/log-findings.js';
import type { Check } from './diagnose.js';

// The checks diagnose makes of the server's Plex install (core/server, the engine of `reclaim
// inspect`): does plex.tv still accept the server's own sign-in, what does its log say, is Plex
// still starting. Diagnose never asks for a sudo password: root comes from a root login or from
// `sudo -n`, else from a password given up front; without either, a check that needs root says to
// run `reclaim inspect`, which asks.

export type InstallCheckId = 'server-sign-in' | 'server-log' | 'pms-starting';

export const INSTALL_CHECK_TITLES: Record<InstallCheckId, string> = {
  'server-sign-in': 'Server\'s own sign-in accepted by plex.tv',
  'server-log': 'Server\'s Plex log',
  'pms-starting': 'Plex Media Server done starting',
};

export interface InstallCheckOptions {
  plexTvUrl: string;
  plexHeaders: Record<string, string>;
  remote: HostPort;
  /** A sudo password given up front (never asked for here). */
  sudoPassword?: string;
}

const SUDO_CODES: ReadonlySet<string> = new Set(['SUDO_REQUIRED', 'SUDO_REFUSED']);

export async function checkInstall(client: ssh2.Client, options: InstallCheckOptions): Promise<Check[]> {
  const plexTv = new PlexTvClient(options.plexTvUrl, options.plexHeaders);
  let report: InspectReport;
  try {
    report = await inspectServer(client, { plexTv, headers: options.plexHeaders, remote: options.remote, sudoPassword: options.sudoPassword });
  } catch (error) {
    const failure = asReclaimError(error);
    return (['server-sign-in', 'server-log', 'pms-starting'] as const).map((id) => ({
      id,
      ok: null,
      detail: `Not checked: ${failure.message}`,
      fix: failure.fix,
    }));
  }
  return installChecks(report);
}

/** The three checks, from what inspect found. */
export function installChecks(report: InspectReport): Check[] {
  const entry = report.chosen === null ? undefined : report.installs[report.chosen];
  if (!entry) {
    const detail = `Not checked: ${report.choice}`;
    const fix = 'Run reclaim inspect <server> to see every Plex install Reclaim found.';
    return [{ id: 'server-sign-in', ok: null, detail, fix }, { id: 'server-log', ok: null, detail, fix }, startingCheck(report, undefined)];
  }
  return [signInCheck(entry), logCheck(entry), startingCheck(report, entry)];
}

function needsRoot(entry: InstallReport): Check['fix'] | undefined {
  const problem = entry.preferencesProblem;
  if (!problem || !SUDO_CODES.has(problem.code)) return undefined;
  return `Run reclaim inspect <server>: it asks for your sudo password (diagnose never does). ${problem.fix}`;
}

function signInCheck(entry: InstallReport): Check {
  const rootFix = needsRoot(entry);
  if (rootFix) return { id: 'server-sign-in', ok: null, detail: `Not checked: ${entry.preferencesProblem!.message}`, fix: rootFix };
  if (entry.preferencesProblem) {
    return { id: 'server-sign-in', ok: false, detail: entry.preferencesProblem.message, fix: entry.preferencesProblem.fix };
  }
  const { signIn } = entry;
  const account = signIn.username ? ` (account ${signIn.username})` : '';
  if (signIn.accepted === true) return { id: 'server-sign-in', ok: true, detail: `${signIn.detail.replace(/\.$/, '')}${account}.` };
  if (signIn.accepted === false) {
    return {
      id: 'server-sign-in',
      ok: false,
      detail: `${signIn.detail.replace(/\.$/, '')}${account}.`,
      fix: `${signIn.fix ?? ''} Reclaim can do this for you: run reclaim repair <server>${signIn.fix ? '' : '.'}`.trim(),
    };
  }
  // No token (unclaimed: the claimed check says so) or plex.tv gave no clear answer: no verdict.
  return { id: 'server-sign-in', ok: null, detail: signIn.detail, fix: signIn.fix };
}

function logCheck(entry: InstallReport): Check {
  const rootFix = entry.log.problem && needsRoot(entry);
  if (entry.log.problem) {
    return { id: 'server-log', ok: null, detail: `Not checked: ${entry.log.problem}`, fix: rootFix || 'Run reclaim inspect <server> for the details.' };
  }
  const problems = currentProblems(entry);
  if (problems.length === 0) {
    const older = entry.log.findings.filter((finding) => finding.beforeLastStart).length;
    return {
      id: 'server-log',
      ok: true,
      detail: `Plex's log shows no trouble reaching plex.tv since it last started${older ? ` (${older} older finding${older > 1 ? 's' : ''} from before that: reclaim inspect shows them)` : ''}.`,
    };
  }
  const [first, ...rest] = problems;
  return {
    id: 'server-log',
    ok: false,
    detail: `${first!.title} (${describeAge(first!.ageSeconds)}): ${first!.detail} The log says: "${first!.line}"${rest.length ? ` Also: ${rest.map((finding) => finding.title.toLowerCase()).join('; ')}.` : ''}`,
    fix: `${first!.fix} (reclaim inspect <server> lists every finding.)`,
  };
}

function startingCheck(report: InspectReport, entry: InstallReport | undefined): Check {
  if (report.starting) return { id: 'pms-starting', ok: false, detail: report.starting.detail, fix: report.starting.fix };
  const lastStart = entry?.log.lastStart;
  if (entry?.install.running === false) return { id: 'pms-starting', ok: null, detail: 'Not checked: Plex Media Server is not running.' };
  return {
    id: 'pms-starting',
    ok: true,
    detail: lastStart ? `Plex Media Server ${lastStart.version} started ${describeAge(lastStart.ageSeconds)} and is not busy starting.` : 'Plex Media Server is not busy starting.',
  };
}
