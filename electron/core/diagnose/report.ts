import type { DiagnoseCheck } from '../../shared/ipc-contract.js';
import { redactSecrets } from '../common/redact.js';
import { CHECK_TITLES, type Check } from './diagnose.js';

// Diagnose results for people: a title per check, and a plain-text report to paste into a forum
// post or a support ticket, with the last lines of the log. Redacted, even though neither should
// ever carry a secret.

export function describeCheck(check: Check): DiagnoseCheck {
  return { id: check.id, title: CHECK_TITLES[check.id], ok: check.ok, detail: check.detail, fix: check.fix };
}

/**
 * `recentLog`: the last lines of Reclaim's log, which show what led up to the problem.
 * `serverSection`: what Reclaim found of the server's Plex install (the Server section), as text.
 */
export function diagnoseReport(serverLabel: string, checks: DiagnoseCheck[], when: Date, recentLog: string[] = [], serverSection?: string): string {
  const mark = (ok: boolean | null) => (ok === true ? 'OK  ' : ok === false ? 'FAIL' : 'SKIP');
  const lines = [
    `Reclaim diagnose report for ${serverLabel}, ${when.toISOString()}`,
    '',
    ...checks.flatMap((check) => [
      `[${mark(check.ok)}] ${check.title}: ${check.detail}`,
      ...(check.fix && check.ok !== true ? [`       Fix: ${check.fix}`] : []),
    ]),
    ...(checks.length === 0 ? ['(Diagnose was not run.)'] : []),
    ...(serverSection ? ['', 'The server\'s Plex install:', serverSection.trimEnd()] : []),
    ...(recentLog.length ? ['', `Reclaim's log, last ${recentLog.length} lines:`, ...recentLog] : []),
  ];
  return `${redactSecrets(lines.join('\n'))}\n`;
}
