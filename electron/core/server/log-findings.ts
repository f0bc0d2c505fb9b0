import { printable } from '../common/errors.js';
import { redactSecrets } from '../common/redact.js';

// Plex Media Server's own log, read for the lines plex-repair.md §3.3 quotes from real reports:
// the server cannot look up or reach plex.tv, does not trust its certificate, is refused by it
// (its sign-in was revoked), cannot publish itself, or is still running its startup tasks. Each
// finding says what it means and what to do, with the latest such line, every token in it
// redacted, and how long ago it was written by the server's own clock.

export type LogFindingId =
  | 'log-sign-in-rejected'
  | 'log-dns'
  | 'log-connect'
  | 'log-timeout'
  | 'log-certificate'
  | 'log-device-connections'
  | 'log-publish'
  | 'log-startup-maintenance';

export interface LogFinding {
  id: LogFindingId;
  title: string;
  detail: string;
  fix: string;
  /** The latest matching line, redacted. */
  line: string;
  /** When that line was written, as the server's log says it ("Jun 17, 2023 22:42:27"). */
  at: string;
  /** Seconds between that line and the server's clock when Reclaim read the log; null if unknown. */
  ageSeconds: number | null;
  count: number;
  /** The line is older than Plex's latest start, so it may be fixed already. */
  beforeLastStart: boolean;
}

export interface LogReading {
  findings: LogFinding[];
  /** Plex's latest start banner in the log. */
  lastStart?: { at: string; ageSeconds: number | null; version: string };
}

interface Pattern {
  id: LogFindingId;
  test: RegExp;
  title: string;
  detail: string;
  fix: string;
}

const PATTERNS: Pattern[] = [
  {
    id: 'log-sign-in-rejected',
    test: /\b401 response from \w+ https?:\/\/[\w.-]*plex\.tv|MyPlex: Error 401 requesting/,
    title: 'plex.tv refuses the server\'s sign-in',
    detail: 'plex.tv answers the server\'s own requests with 401: it no longer accepts the sign-in saved in the server\'s Preferences. This happens after a password reset that signed out all devices, or when the server was removed from its Plex account.',
    fix: 'Repair the server\'s sign-in: press Repair in the app, or run reclaim repair <server>. It backs up the Preferences, removes the dead sign-in and claims the server for your account (undo puts the backup back).',
  },
  {
    id: 'log-dns',
    test: /Couldn't resolve host name|Could not resolve host|MyPlex: Error -6 |curl_easy_perform\(handle\): 6\b/,
    title: 'The server cannot look up plex.tv',
    detail: 'Plex Media Server could not resolve plex.tv\'s name, so it cannot sign in, be claimed or publish itself.',
    fix: 'Fix the server\'s DNS (in a container, the container\'s): check /etc/resolv.conf and the router or DNS filter (Pi-hole, AdGuard) for plex.tv, then restart Plex.',
  },
  {
    id: 'log-connect',
    test: /MyPlex: Error -7 |\(7, Couldn't connect|Failed to connect to [\w.-]*plex\.tv/,
    title: 'The server cannot connect to plex.tv',
    detail: 'Plex Media Server looked plex.tv up but could not open a connection to it.',
    fix: 'Check the server\'s gateway, firewall and any proxy or VPN: it must reach plex.tv on port 443.',
  },
  {
    id: 'log-timeout',
    test: /MyPlex: Error -28 |\(28, /,
    title: 'The server\'s requests to plex.tv time out',
    detail: 'Plex Media Server\'s requests to plex.tv got no answer in time.',
    fix: 'Check the server\'s internet connection, firewall and any proxy or VPN, then restart Plex.',
  },
  {
    id: 'log-certificate',
    test: /SSL certificate problem|\(60, SSL peer certificate|MyPlex: Error -60 |certificate verify failed/,
    title: 'The server does not trust plex.tv\'s certificate',
    detail: 'Plex Media Server\'s secure connections to plex.tv fail certificate checks: something on the way intercepts HTTPS (a proxy, antivirus or firewall with HTTPS inspection), or the server\'s clock or CA certificates are wrong.',
    fix: 'Exempt plex.tv from HTTPS inspection (or remove the intercepting proxy), and check the server\'s clock and CA certificates (e.g. update ca-certificates).',
  },
  {
    id: 'log-device-connections',
    test: /Updating device connections failed/,
    title: 'The server cannot tell plex.tv how to reach it',
    detail: 'Plex Media Server failed to update its connection addresses on plex.tv and keeps retrying; apps may not find it meanwhile.',
    fix: 'See the other findings for why (name lookup, certificate); once plex.tv is reachable it recovers by itself.',
  },
  {
    id: 'log-publish',
    test: /Published Mapping State response was (?!20\d\b)\d{3}|Not Published \(Not Reachable\)|servers\.xml[^\n]*\b422\b/,
    title: 'The server could not publish itself to plex.tv',
    detail: 'plex.tv refused or could not check the server\'s public address, so Remote Access does not work (local access is not affected).',
    fix: 'Check Remote Access in Plex\'s settings: forward the port on the router, or turn Remote Access off if you do not use it.',
  },
  {
    id: 'log-startup-maintenance',
    test: /startup maintenance/i,
    title: 'Plex was running its startup tasks',
    detail: 'After a start (or waking from sleep) Plex runs maintenance before it answers normally; until then apps may say "Not authorized".',
    fix: 'Wait a few minutes for it to settle, then reload Plex.',
  },
];

const LINE = /^(\w{3} \d{1,2}, \d{4} \d{2}:\d{2}:\d{2})(?:\.\d+)? (?:\[[^\]]*\] )?(\w+) - (.*)$/;
const START_BANNER = /^Plex Media Server v(\S+)/;
const MAX_TEXT = 1024 * 1024;
const MAX_LINE = 8 * 1024;
const SHOWN_LINE = 400;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Reads log text (the older file first, then the current one). `serverNow` is the server's clock in
 * the log's format; `secrets` are values to blank wherever they appear (the server's own token).
 */
export function readLog(text: string, serverNow: string, secrets: string[] = []): LogReading {
  const now = logTime(serverNow);
  const age = (at: string) => {
    const time = logTime(at);
    return now === null || time === null ? null : Math.max(0, Math.round((now - time) / 1000));
  };
  const found = new Map<LogFindingId, { pattern: Pattern; line: string; at: string; count: number }>();
  let lastStart: { at: string; version: string } | undefined;
  const lines = text.slice(-MAX_TEXT).split(/\r?\n/);
  for (const raw of lines) {
    if (raw.length > MAX_LINE) continue;
    const match = LINE.exec(raw);
    if (!match) continue;
    const [, at, , body] = match as unknown as [string, string, string, string];
    const banner = START_BANNER.exec(body);
    if (banner) {
      lastStart = { at, version: banner[1]! };
      continue;
    }
    if (/libusb_init failed/.test(body)) continue; // harmless in containers (LinuxServer and hotio say so)
    const pattern = PATTERNS.find((candidate) => candidate.test.test(body));
    if (!pattern) continue;
    const previous = found.get(pattern.id);
    found.set(pattern.id, { pattern, line: raw, at, count: (previous?.count ?? 0) + 1 });
  }
  const startTime = lastStart ? logTime(lastStart.at) : null;
  const findings = [...found.values()].map(({ pattern, line, at, count }): LogFinding => {
    const time = logTime(at);
    return {
      id: pattern.id,
      title: pattern.title,
      detail: pattern.detail,
      fix: pattern.fix,
      line: redactLogLine(line, secrets),
      at,
      ageSeconds: age(at),
      count,
      beforeLastStart: startTime !== null && time !== null && time < startTime,
    };
  });
  findings.sort((a, b) => PATTERNS.findIndex((p) => p.id === a.id) - PATTERNS.findIndex((p) => p.id === b.id));
  return { findings, lastStart: lastStart && { ...lastStart, ageSeconds: age(lastStart.at) } };
}

/** A log line made safe to show: known secrets, tokens and claim tokens blanked, control characters gone. */
function redactLogLine(line: string, secrets: string[] = []): string {
  let text = line;
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join('[redacted]');
  text = redactSecrets(text).replace(/(PlexOnlineToken\s*=\s*["']?)[^\s"'&]+/gi, '$1[redacted]');
  text = printable(text);
  return text.length > SHOWN_LINE ? `${text.slice(0, SHOWN_LINE)}…` : text;
}

/** Milliseconds for a log timestamp, read as if UTC (both sides come from the server's clock). */
function logTime(text: string): number | null {
  const match = /^(\w{3}) (\d{1,2}), (\d{4}) (\d{2}):(\d{2}):(\d{2})/.exec(text.trim());
  if (!match) return null;
  const month = MONTHS.indexOf(match[1]!);
  if (month < 0) return null;
  const time = Date.UTC(Number(match[3]), month, Number(match[2]), Number(match[4]), Number(match[5]), Number(match[6]));
  return Number.isNaN(time) ? null : time;
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago". */
export function describeAge(seconds: number | null): string {
  if (seconds === null) return 'at an unknown time';
  if (seconds < 90) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} minutes ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} hours ago`;
  return `${Math.round(hours / 24)} days ago`;
}
