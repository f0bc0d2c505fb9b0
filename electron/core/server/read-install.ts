import { ReclaimError } from '../common/errors.js';
import { shellQuote } from '../ssh/remote-exec.js';
import { preferencesLabel, type PlexInstall } from './install.js';
import { MAX_PREFERENCES_BYTES, parsePreferencesXml, summarise, unreadablePreferences, SIGN_IN_KEYS, type PreferencesSummary } from './preferences.js';
import type { Privilege } from './privilege.js';
import { readRecords, RECORD_HELPERS, type ProbeRecord } from './records.js';

// Reading one install's Preferences and the tail of its log, as the SSH user when that is
// allowed and as root when it is not. One fixed POSIX script per install, its only values the
// install's paths, single-quoted; every read bounded (1 MiB of Preferences, 256 KiB per log).

const READ = 'reclaim-read';
const LOG_TAIL_BYTES = 256 * 1024;
const LOG_FILES = ['Plex Media Server.1.log', 'Plex Media Server.log'];
const READ_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = MAX_PREFERENCES_BYTES + LOG_FILES.length * LOG_TAIL_BYTES + 64 * 1024;

export interface InstallFiles {
  preferences: PreferencesSummary | ReclaimError;
  /** The log's last lines, older file first; undefined when there was no log to read. */
  log?: string;
  logProblem?: string;
  /** The server's clock, in the log's format. */
  now: string;
  asRoot: boolean;
}

export function readScript(install: PlexInstall, root = ''): string {
  const access = install.files.via === 'container'
    ? `X() { ${install.files.runtime} exec ${shellQuote(install.files.id)} "$@"; }`
    : 'X() { "$@"; }';
  const lines = [
    `R=${shellQuote(root)}`,
    'LC_ALL=C; export LC_ALL',
    RECORD_HELPERS,
    access,
    `rec begin ${READ} 1`,
    `rec now "$(date '+%b %d, %Y %H:%M:%S')"`,
  ];
  const location = install.preferences;
  if (location.kind === 'file') {
    lines.push(
      `P=${shellQuote(location.path)}`,
      'if X test -f "$R$P"; then',
      // The size comes first, so a huge file is refused without being sent.
      `  if X test -r "$R$P"; then n=$(X wc -c "$R$P" | { read -r a b; echo "$a"; })`,
      `    if [ "\${n:-0}" -gt ${MAX_PREFERENCES_BYTES} ] 2>/dev/null; then rec prefs "$n" ''; else rec prefs "$n" "$(X head -c ${MAX_PREFERENCES_BYTES} "$R$P" | clean)"; fi`,
      '  else rec denied "$P"; fi',
      'else rec missing "$P"; fi',
    );
  } else if (location.kind === 'defaults') {
    lines.push(
      `U=${shellQuote(location.user)}; D=${shellQuote(location.domain)}`,
      'if [ "$(id -un)" = "$U" ]; then Q() { defaults read "$D" "$1"; }',
      'elif [ "$(id -u)" = 0 ]; then Q() { sudo -n -u "$U" defaults read "$D" "$1"; }',
      'else Q() { return 2; }; rec denied "defaults of $U"; fi',
      `for k in ${SIGN_IN_KEYS.join(' ')}; do`,
      '  if v=$(Q "$k" 2>/dev/null); then rec pref "$k" "$(printf \'%s\' "$v" | clean)"; fi',
      'done',
    );
  }
  lines.push(
    `L=${shellQuote(install.logDir)}`,
    `for f in ${LOG_FILES.map(shellQuote).join(' ')}; do`,
    '  if X test -f "$R$L/$f"; then',
    `    if X test -r "$R$L/$f"; then rec log "$f" "$(X tail -c ${LOG_TAIL_BYTES} "$R$L/$f" | clean)"; else rec denied "$L/$f"; fi`,
    '  fi',
    'done',
    'rec end',
  );
  return lines.join('\n');
}

/** Reads what it can as the SSH user; anything refused is read again as root. */
export async function readInstall(install: PlexInstall, privilege: Privilege, options: { root?: string; asRoot?: boolean } = {}): Promise<InstallFiles> {
  const script = readScript(install, options.root);
  const what = 'read Plex\'s Preferences and log';
  const run = async (root: boolean) => {
    const limits = { timeoutMs: READ_TIMEOUT_MS, maxOutputBytes: MAX_OUTPUT_BYTES };
    const result = root
      ? await privilege.asRoot(script, what, `read Plex's Preferences and log (${install.description})`, limits)
      : await privilege.asUser(script, what, limits);
    return readRecords(result.stdout, READ, what);
  };
  let asRoot = options.asRoot ?? false;
  let records = await run(asRoot);
  if (!asRoot && records.some((record) => record.kind === 'denied')) {
    try {
      records = await run(true);
      asRoot = true;
    } catch (error) {
      if (!(error instanceof ReclaimError)) throw error;
      return { ...interpret(install, records), preferences: error, asRoot: false };
    }
  }
  return { ...interpret(install, records), asRoot };
}

function interpret(install: PlexInstall, records: ProbeRecord[]): Omit<InstallFiles, 'asRoot'> {
  const where = preferencesLabel(install.preferences);
  const now = records.find((record) => record.kind === 'now')?.fields[0] ?? '';
  let preferences: PreferencesSummary | ReclaimError;
  try {
    preferences = preferencesFrom(records, where);
  } catch (error) {
    if (!(error instanceof ReclaimError)) throw error;
    preferences = error;
  }
  const logs = records.filter((record) => record.kind === 'log');
  const deniedLog = records.find((record) => record.kind === 'denied' && record.fields[0]?.startsWith(install.logDir));
  return {
    preferences,
    now,
    log: logs.length ? logs.map((record) => record.fields[1] ?? '').join('\n') : undefined,
    logProblem: logs.length ? undefined : deniedLog ? `The log could not be read (${deniedLog.fields[0]}).` : `There is no Plex Media Server.log in ${install.logDir}.`,
  };
}

function preferencesFrom(records: ProbeRecord[], where: string): PreferencesSummary {
  const file = records.find((record) => record.kind === 'prefs');
  if (file) {
    const size = Number(file.fields[0]?.trim());
    return parsePreferencesXml(file.fields[1] ?? '', where, Number.isFinite(size) ? size : undefined);
  }
  if (records.some((record) => record.kind === 'missing')) {
    throw unreadablePreferences(where, 'do not exist', 'Check that Plex has been started at least once with this data folder, and that the path is right. Never create the file by hand: Plex would get a new identity.');
  }
  if (records.some((record) => record.kind === 'denied')) {
    throw unreadablePreferences(where, 'cannot be read by your SSH account', 'Sign in as root or as the account Plex runs as, or give Reclaim your sudo password.');
  }
  const values = new Map(records.filter((record) => record.kind === 'pref').map((record) => [record.fields[0] ?? '', record.fields[1] ?? '']));
  return summarise(values, where);
}
