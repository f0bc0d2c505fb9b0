import type { DiagnoseCheck } from '../../shared/ipc-contract.js';
import { CHECK_TITLES, type Check } from './diagnose.js';

// Diagnose results for people: a title per check, and a plain-text report to paste into a forum
// post or a support ticket. Reports are redacted even though checks should never carry secrets,
// because a pasted report is public and a mistake there cannot be taken back.

export function describeCheck(check: Check): DiagnoseCheck {
  return { id: check.id, title: CHECK_TITLES[check.id], ok: check.ok, detail: check.detail, fix: check.fix };
}

const SECRETS: Array<[RegExp, string]> = [
  [/claim-[A-Za-z0-9_-]{4,}/g, 'claim-[redacted]'],
  [/(X-Plex-Token["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi, '$1[redacted]'],
  [/([?&](?:X-Plex-)?token=)[^\s&"']+/gi, '$1[redacted]'],
  [/(authToken["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi, '$1[redacted]'],
];

export function redactSecrets(text: string): string {
  return SECRETS.reduce((redacted, [pattern, replacement]) => redacted.replace(pattern, replacement), text);
}

export function diagnoseReport(serverLabel: string, checks: DiagnoseCheck[], when: Date): string {
  const mark = (ok: boolean | null) => (ok === true ? 'OK  ' : ok === false ? 'FAIL' : 'SKIP');
  const lines = [
    `Reclaim diagnose report for ${serverLabel}, ${when.toISOString()}`,
    '',
    ...checks.flatMap((check) => [
      `[${mark(check.ok)}] ${check.title}: ${check.detail}`,
      ...(check.fix && check.ok !== true ? [`       Fix: ${check.fix}`] : []),
    ]),
  ];
  return `${redactSecrets(lines.join('\n'))}\n`;
}
