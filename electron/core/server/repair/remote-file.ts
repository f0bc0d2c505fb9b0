import { createHash } from 'node:crypto';
import { printable, ReclaimError } from '../../common/errors.js';
import { shellQuote } from '../../ssh/remote-exec.js';
import type { FileAccess } from '../install.js';
import type { Privilege } from '../privilege.js';
import { MAX_PREFERENCES_BYTES } from '../preferences.js';
import { readRecords, RECORD_HELPERS, type ProbeRecord } from '../records.js';
import { formatJournal, parseJournal, type Journal } from './journal.js';
import { posixCksum } from './posix-cksum.js';
import { editPreferences, preferenceValues, readPreferencesDocument, type PreferencesChanges } from './preferences-edit.js';

// The repair's file work on the server, in fixed POSIX sh scripts that run as root under BusyBox
// ash, dash or bash: a lock, the journal, a backup beside the original (cp -p keeps owner, mode
// and times), and the new file written to a temporary file in the same directory, checked, given
// the original's owner and mode, flushed and renamed over the original. Content travels on the
// script's standard input, never in its command line. Every copy is checked by a fingerprint
// computed on the server (sha256sum, md5sum or cksum, whichever it has) against Reclaim's own.
// Never does a script create or delete the Preferences file itself.

export interface RepairFiles {
  /** Preferences.xml, as the server (or its container) names it. */
  preferences: string;
  /** The "Plex Media Server" directory (its Cache holds the certificate). */
  dataDir: string;
  access: FileAccess;
  /** Where the server's filesystem starts for the scripts: '' (a real server) or a test's tree. */
  root: string;
}

export interface FileFacts {
  owner: string;
  mode: string;
  fingerprint: string;
}

export interface OpenedFiles {
  /** An interrupted run's journal, when one was left. */
  journal?: Journal;
  /** The lock was left by a run whose connection is gone; this run took it over. */
  tookOverLock: boolean;
  /** The Preferences as they are, or why they cannot be used. */
  file: FileFacts | { problem: 'missing' | 'link' | 'not-a-file'; target?: string };
  /** Reclaim's backups beside the Preferences, oldest first. */
  backups: string[];
  /** KiB free where the Preferences are, when df could tell. */
  freeKib?: number;
}

export interface Snapshot extends FileFacts {
  content: string;
  /** Where it was backed up, when asked to. */
  backup?: string;
  /** The settings by name, when the store reads them one by one (the Windows registry). */
  values?: Map<string, string>;
  /** Each setting's value kind there (REG_SZ, REG_DWORD…). */
  kinds?: Map<string, string>;
}

/**
 * Where Plex keeps its settings, as the repair works on them: Preferences.xml (RemoteFiles), macOS
 * defaults (DefaultsStore) or the Windows registry (RegistryStore). Each takes the server's repair
 * lock, keeps the journal, backs up, writes only the sign-in keys and puts a backup back.
 */
export interface PreferencesStore {
  readonly paths: { preferences: string; journal: string };
  open(): Promise<OpenedFiles>;
  snapshot(options?: { backup?: string; journal?: Journal }): Promise<Snapshot>;
  /** The settings a snapshot holds, by name (throws PLEX_PREFERENCES_UNREADABLE when it cannot tell). */
  values(snapshot: Snapshot): Map<string, string>;
  /** Makes `changes` (null: remove) to the settings, only if they are still as in `snapshot`; returns the new fingerprint. */
  writeChanges(changes: PreferencesChanges, snapshot: Snapshot, journal: Journal): Promise<string>;
  restore(backup: string, journal: Journal): Promise<string>;
  setAsideCertificates(stamp: string): Promise<string[]>;
  clearJournal(): Promise<void>;
  writeJournal(journal: Journal): Promise<void>;
  close(options?: { keepJournal?: boolean }): Promise<void>;
}

const SCRIPT = 'reclaim-repair';
const TIMEOUT_MS = 25_000;
const OUTPUT_BYTES = 2 * MAX_PREFERENCES_BYTES + 64 * 1024;
const BACKUP_SUFFIX = '.reclaim-backup-';

/** Backup names carry the time they were made: Preferences.xml.reclaim-backup-20250617T110000Z. */
export function backupStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function backupPathFor(preferences: string, stamp: string): string {
  return `${preferences}${BACKUP_SUFFIX}${stamp}`;
}

export function journalPathFor(preferences: string): string {
  return `${preferences}.reclaim-journal`;
}

/** The algorithm a server fingerprint names, applied to `content` here. */
export function fingerprintLike(serverFingerprint: string, content: string): string {
  const [tool = ''] = serverFingerprint.split(':');
  const bytes = Buffer.from(content, 'utf8');
  let value: string;
  if (tool === 'cksum') value = posixCksum(bytes).split(' ')[0]!;
  else if (/sha256|shasum/.test(tool)) value = createHash('sha256').update(bytes).digest('hex');
  else if (/md5/.test(tool)) value = createHash('md5').update(bytes).digest('hex');
  else throw new Error(`unknown fingerprint tool ${tool}`);
  return `${tool}:${value}:${bytes.length}`;
}

// The helpers every script starts with. X runs a command where the files are (on the server, or
// in the container); XI does so with standard input.
function prelude(files: RepairFiles, run: string, extra = ''): string {
  const access = files.access.via === 'container'
    ? `X() { ${files.access.runtime} exec ${shellQuote(files.access.id)} "$@"; }\nXI() { ${files.access.runtime} exec -i ${shellQuote(files.access.id)} "$@"; }`
    : 'X() { "$@"; }\nXI() { "$@"; }';
  return [
    `R=${shellQuote(files.root)}`,
    'LC_ALL=C; export LC_ALL',
    RECORD_HELPERS,
    access,
    `P=${shellQuote(files.preferences)}; J="$P.reclaim-journal"; L="$P.reclaim-lock"; T="$P.reclaim-new"; ME=${shellQuote(run)}`,
    String.raw`fail() { rec failed "$1" "$(printf '%s' "$2" | head -c 2000 | clean)"; rec end; exit 0; }
# fp FILE: "tool:value:size", by the first checksum tool the server has.
fp() {
  fp_size=$(X wc -c "$R$1" 2>/dev/null | { read -r a b; echo "$a"; })
  for fp_tool in sha256sum md5sum 'shasum -a 256' 'sha256 -q' 'md5 -q' cksum; do
    fp_value=$(X $fp_tool "$R$1" 2>/dev/null | { read -r a b; echo "$a"; })
    if [ -n "$fp_value" ] && [ -n "$fp_size" ]; then echo "$(echo $fp_tool | tr ' ' '_'):$fp_value:$fp_size"; return 0; fi
  done
  echo unknown
}
# st FILE: "uid:gid mode"
st() { X stat -c '%u:%g %a' "$R$1" 2>/dev/null || X stat -f '%u:%g %Lp' "$R$1" 2>/dev/null; }
# jw LINE...: replaces the journal (temporary file, then rename)
jw() { if ! jw_err=$(printf '%s\n' "$@" | XI sh -c 'cat > "$1.tmp" && mv -f "$1.tmp" "$1"' sh "$R$J" 2>&1); then X rm -f "$R$J.tmp"; fail journal "$jw_err"; fi; }
owner() { X cat "$R$L/owner" 2>/dev/null | sed -n "s/^$1=//p"; }
ours() { [ "$(owner run)" = "$ME" ] || fail lock "another run holds the lock"; }
rec begin ${SCRIPT} 1`,
    extra,
  ].join('\n');
}

/** The lock: a directory beside the Preferences, naming the run and the SSH session that holds it. */
const LOCK = String.raw`# The sshd (or dropbear) process serving this connection: it ends when the connection does.
# Its start time goes with its pid, so a pid used again after a reboot is not taken for it.
pstart() {
  if [ -r "/proc/$1/stat" ]; then set -- $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null); shift 19; echo "$1"
  else ps -o lstart= -p "$1" 2>/dev/null | tr -d ' '; fi
}
session() {
  p=$$; i=0
  while [ "$p" -gt 1 ] 2>/dev/null && [ "$i" -lt 40 ]; do
    if [ -r "/proc/$p/stat" ]; then c=$(cat "/proc/$p/comm" 2>/dev/null); set -- $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null); pp=$2
    else c=$(ps -o comm= -p "$p" 2>/dev/null); pp=$(ps -o ppid= -p "$p" 2>/dev/null); fi
    case "$c" in sshd*|*/sshd*|dropbear*) echo "$p $(pstart "$p")"; return ;; esac
    p=$(echo $pp); i=$((i + 1))
  done
  echo "0 0"
}
alive() { [ "$1" != 0 ] && kill -0 "$1" 2>/dev/null && [ "$(pstart "$1")" = "$2" ]; }
number() { case "$1" in ''|*[!0-9]*) echo 0 ;; *) echo "$1" ;; esac; }
now=$(number "$(date +%s)")
if ! X mkdir "$R$L" 2>/dev/null; then
  if [ "$(owner run)" != "$ME" ]; then
    since=$(number "$(owner since)")
    set -- $(owner session) 0 0
    # Without a session to watch, a lock younger than half an hour counts as held.
    if alive "$1" "$2" || { [ "$1" = 0 ] && [ $((now - since)) -lt 1800 ] 2>/dev/null; }; then
      rec busy "$(owner began)"; rec end; exit 0
    fi
    X rm -rf "$R$L"
    X mkdir "$R$L" 2>/dev/null || { rec busy ''; rec end; exit 0; }
    rec stale
  fi
fi
printf 'run=%s
session=%s
since=%s
began=%s
' "$ME" "$(session)" "$now" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" | XI sh -c 'cat > "$1"' sh "$R$L/owner"`;

export class RemoteFiles implements PreferencesStore {
  constructor(
    protected readonly files: RepairFiles,
    protected readonly privilege: Privilege,
    protected readonly run: string,
    protected readonly reason: string,
  ) {}

  values(snapshot: Snapshot): Map<string, string> {
    return preferenceValues(readPreferencesDocument(snapshot.content, this.files.preferences));
  }

  /** The file with `changes` made as XML (every other byte kept), written as `write` does. */
  writeChanges(changes: PreferencesChanges, snapshot: Snapshot, journal: Journal): Promise<string> {
    return this.write(editPreferences(readPreferencesDocument(snapshot.content, this.files.preferences), changes), snapshot, journal);
  }

  /** How open() tells what the Preferences are: one record, file/missing/link/notfile. */
  protected fileCheck(): string[] {
    return [
      'if X test -L "$R$P"; then rec link "$(X readlink "$R$P" | clean)"',
      'elif ! X test -e "$R$P"; then rec missing',
      'elif ! X test -f "$R$P"; then rec notfile',
      'else rec file "$(st "$P")" "$(fp "$P")"; fi',
    ];
  }

  /** Lines for the prelude of every script, after the common helpers. */
  protected extraPrelude(): string {
    return '';
  }

  /** The scripts can run as the SSH user (no sudo): where that user owns everything they touch. */
  protected async asUser(): Promise<boolean> {
    return false;
  }

  protected certificateDir(): string {
    return `${this.files.dataDir}/Cache`;
  }

  get paths(): { preferences: string; journal: string } {
    return { preferences: this.files.preferences, journal: journalPathFor(this.files.preferences) };
  }

  /** Takes the lock, and reads what is there: an interrupted run's journal, the file, the backups. */
  async open(): Promise<OpenedFiles> {
    const records = await this.runScript([
      LOCK,
      'if X test -f "$R$J"; then printf \'journal\\001\'; X cat "$R$J" | head -c 65536 | clean; printf \'\\000\'; fi',
      ...this.fileCheck(),
      `X sh -c 'for f in "$1"${BACKUP_SUFFIX}*; do if [ -f "$f" ]; then printf "%s\\n" "$f"; fi; done' sh "$R$P" | while IFS= read -r bk; do rec backup "\${bk#"$R"}"; done`,
      'rec space "$(X df -Pk "$R$P" 2>/dev/null | tail -n 1 | { read -r a b c d e; echo "$d"; })"',
    ], 'look at Plex\'s Preferences and take the repair lock');
    throwIfLockBusy(records);
    const journalText = records.find((record) => record.kind === 'journal')?.fields[0];
    const fileRecord = records.find((record) => ['file', 'missing', 'link', 'notfile'].includes(record.kind))!;
    const prefix = `${this.files.preferences}${BACKUP_SUFFIX}`;
    const space = records.find((record) => record.kind === 'space')?.fields[0]?.trim() ?? '';
    return {
      journal: journalText === undefined ? undefined : parseJournal(journalText),
      tookOverLock: records.some((record) => record.kind === 'stale'),
      file: fileRecord.kind === 'file'
        ? factsFrom(fileRecord)
        : { problem: fileRecord.kind === 'link' ? 'link' : fileRecord.kind === 'missing' ? 'missing' : 'not-a-file', target: fileRecord.fields[0] },
      backups: records.filter((record) => record.kind === 'backup').map((record) => record.fields[0] ?? '')
        .filter((path) => path.startsWith(prefix) && /^\d{8}T\d{6}Z(-\d+)?$/.test(path.slice(prefix.length))).sort(),
      freeKib: /^\d+$/.test(space) ? Number(space) : undefined,
    };
  }

  /**
   * Reads the Preferences as they are now, every byte (checked against the server's fingerprint),
   * after backing them up to `backup` (a number is added to the name if it is taken) when given.
   */
  async snapshot(options: { backup?: string; journal?: Journal } = {}): Promise<Snapshot> {
    const lines = [
      'ours',
      'if ! X test -f "$R$P" || X test -L "$R$P"; then fail snapshot "not a regular file"; fi',
      'orig_fp=$(fp "$P"); orig_st=$(st "$P")',
    ];
    if (options.backup !== undefined) {
      lines.push(
        `bk_base=${shellQuote(options.backup)}; bk=$bk_base; bk_n=0`,
        'while X test -e "$R$bk"; do bk_n=$((bk_n + 1)); bk="$bk_base-$bk_n"; [ "$bk_n" -lt 100 ] || fail backup "too many backups with this name"; done',
        'if ! err=$(X cp -p "$R$P" "$R$bk" 2>&1); then X rm -f "$R$bk"; fail backup "$err"; fi',
        'if [ "$(fp "$bk")" != "$orig_fp" ]; then X rm -f "$R$bk"; fail backup "the copy differs from the original"; fi',
        'X sync 2>/dev/null',
        'rec backup "$bk"',
      );
      if (options.journal) lines.push(`jw ${journalWords({ ...options.journal, state: 'backed-up' })} "backup=$bk" "original=$orig_fp"`);
    }
    lines.push(
      'rec file "$orig_st" "$orig_fp"',
      'printf \'content\\001\'; X cat "$R$P" | clean; printf \'\\000\'',
    );
    const records = await this.runScript(lines, options.backup ? 'back up Plex\'s Preferences' : 'read Plex\'s Preferences');
    this.throwIfFailed(records);
    const facts = factsFrom(records.find((record) => record.kind === 'file')!);
    const content = records.find((record) => record.kind === 'content')?.fields[0] ?? '';
    if (fingerprintLike(facts.fingerprint, content) !== facts.fingerprint) {
      throw new ReclaimError(
        'PLEX_PREFERENCES_UNREADABLE',
        `Plex's Preferences at ${this.files.preferences} hold bytes that are not text (or changed while Reclaim read them), so Reclaim will not edit them.`,
        'Nothing was changed. Check the file on the server (it should be UTF-8 XML); a backup Reclaim made is beside it.',
        { where: this.files.preferences },
      );
    }
    return { ...facts, content, backup: records.find((record) => record.kind === 'backup')?.fields[0] };
  }

  /**
   * Writes `content` over the Preferences, only if they still have fingerprint `expected`: a
   * temporary file beside them gets the content (from stdin), is checked, given `owner` and
   * `mode`, flushed and renamed over them. Returns the new fingerprint.
   */
  async write(content: string, expected: FileFacts, journal: Journal): Promise<string> {
    const fingerprint = fingerprintLike(expected.fingerprint, content);
    const records = await this.runScript([
      'ours',
      `if [ "$(fp "$P")" != ${shellQuote(expected.fingerprint)} ]; then fail changed "the file changed since Reclaim read it"; fi`,
      'X rm -f "$R$T"',
      'if ! err=$(XI sh -c \'umask 077 && cat > "$1"\' sh "$R$T" 2>&1); then X rm -f "$R$T"; fail write "$err"; fi',
      `if [ "$(fp "$T")" != ${shellQuote(fingerprint)} ]; then X rm -f "$R$T"; fail write "the file on the server differs from what Reclaim sent"; fi`,
      `if ! err=$({ X chown ${shellQuote(expected.owner)} "$R$T" && X chmod ${shellQuote(expected.mode)} "$R$T"; } 2>&1); then X rm -f "$R$T"; fail write "$err"; fi`,
      'X sync 2>/dev/null',
      `jw ${journalWords({ ...journal, state: 'writing', written: fingerprint })}`,
      'if ! err=$(X mv -f "$R$T" "$R$P" 2>&1); then X rm -f "$R$T"; fail write "$err"; fi',
      'X sync 2>/dev/null',
      `jw ${journalWords({ ...journal, state: 'written', written: fingerprint })}`,
      'rec written "$(fp "$P")"',
    ], 'write Plex\'s new Preferences', content);
    this.throwIfFailed(records);
    return fingerprint;
  }

  /** Puts `backup` back over the Preferences, the same way as a write: checked, then renamed. */
  async restore(backup: string, journal: Journal): Promise<string> {
    const records = await this.runScript([
      'ours',
      `bk=${shellQuote(backup)}`,
      'if ! X test -f "$R$bk"; then fail restore "the backup is gone"; fi',
      'bk_fp=$(fp "$bk")',
      'X rm -f "$R$T"',
      'if ! err=$(X cp -p "$R$bk" "$R$T" 2>&1); then X rm -f "$R$T"; fail restore "$err"; fi',
      'if [ "$(fp "$T")" != "$bk_fp" ]; then X rm -f "$R$T"; fail restore "the copy differs from the backup"; fi',
      'X sync 2>/dev/null',
      `jw ${journalWords({ ...journal, state: 'writing' })} "written=$bk_fp"`,
      'if ! err=$(X mv -f "$R$T" "$R$P" 2>&1); then X rm -f "$R$T"; fail restore "$err"; fi',
      'X sync 2>/dev/null',
      `jw ${journalWords({ ...journal, state: 'written' })} "written=$bk_fp"`,
      'rec restored "$(fp "$P")"',
    ], 'put Plex\'s Preferences back from the backup');
    this.throwIfFailed(records);
    return records.find((record) => record.kind === 'restored')?.fields[0] ?? '';
  }

  /** Renames the server's cached certificates aside (plex-repair.md §6.7), so Plex fetches new ones. */
  async setAsideCertificates(stamp: string): Promise<string[]> {
    const cache = this.certificateDir();
    const records = await this.runScript([
      'ours',
      `for cert in cert-v2.p12 certificate.p12; do cert=${shellQuote(cache)}/$cert`,
      `  if X test -f "$R$cert"; then X mv -f "$R$cert" "$R$cert${BACKUP_SUFFIX}${stamp}" && rec moved "$cert"; fi`,
      'done',
    ], 'set aside the server\'s cached certificate');
    this.throwIfFailed(records);
    return records.filter((record) => record.kind === 'moved').map((record) => record.fields[0] ?? '');
  }

  /** The journal of a run that is over (finished or rolled back by this one). */
  async clearJournal(): Promise<void> {
    this.throwIfFailed(await this.runScript(['ours', 'X rm -f "$R$J"'], 'clear the repair journal'));
  }

  async writeJournal(journal: Journal): Promise<void> {
    this.throwIfFailed(await this.runScript(['ours', `jw ${journalWords(journal)}`], 'write the repair journal'));
  }

  /** Ends the run: the journal goes (unless kept for the next run), and so does the lock. */
  async close(options: { keepJournal?: boolean } = {}): Promise<void> {
    await this.runScript([
      ...(options.keepJournal ? [] : ['if [ "$(owner run)" = "$ME" ]; then X rm -f "$R$J"; fi']),
      'if [ "$(owner run)" = "$ME" ]; then X rm -rf "$R$L"; fi',
    ], 'release the repair lock');
  }

  protected async runScript(lines: string[], what: string, stdin?: string): Promise<ProbeRecord[]> {
    const script = [prelude(this.files, this.run, this.extraPrelude()), ...lines, 'rec end'].join('\n');
    const options = { timeoutMs: TIMEOUT_MS, maxOutputBytes: OUTPUT_BYTES, stdin };
    const result = await this.asUser()
      ? await this.privilege.asUser(script, what, options)
      : await this.privilege.asRoot(script, what, this.reason, options);
    return readRecords(result.stdout, SCRIPT, what);
  }

  protected throwIfFailed(records: ProbeRecord[]): void {
    const failed = records.find((record) => record.kind === 'failed');
    if (!failed) return;
    const [step = '', said = ''] = failed.fields;
    const shown = printable(said).replace(/\s+/g, ' ').trim().slice(0, 300);
    if (step === 'lock') throw lockTakenOver();
    const diskFull = /no space left|disk full|quota exceeded/i.test(said);
    const kind = step === 'backup' ? 'backup' : step === 'restore' ? 'restore' : step === 'journal' ? 'journal' : 'write';
    const doing = { backup: 'back up', restore: 'put back', journal: 'write the repair journal next to', write: 'write' }[kind];
    throw new ReclaimError(
      'REPAIR_WRITE_FAILED',
      step === 'changed'
        ? `Plex's Preferences at ${this.files.preferences} changed while Reclaim was working (something else wrote them), so Reclaim did not write over them.`
        : `Reclaim could not ${doing} Plex's Preferences at ${this.files.preferences}${diskFull ? ': the server\'s disk is full' : shown ? ` (${shown})` : ''}.`,
      diskFull
        ? 'Free some space on the disk that holds Plex\'s data (df -h shows how full it is), then run the repair again.'
        : 'Check the disk and the folder that holds Plex\'s data on the server (is it writable, mounted read-only, out of space?), then run the repair again.',
      { step: kind, reason: step === 'changed' ? 'changed' : diskFull ? 'disk-full' : 'other' },
    );
  }
}

export function factsFrom(record: ProbeRecord): FileFacts {
  const [ownerMode = '', fingerprint = ''] = record.fields;
  const [owner = '', mode = ''] = ownerMode.trim().split(' ');
  return { owner, mode, fingerprint: fingerprint.trim() };
}

/** The journal's lines as quoted shell words for `jw`. */
export function journalWords(journal: Journal): string {
  return formatJournal(journal).map(shellQuote).join(' ');
}

/** Every store's open() answer when another run holds the repair lock. */
export function throwIfLockBusy(records: ProbeRecord[]): void {
  const busy = records.find((record) => record.kind === 'busy');
  if (!busy) return;
  const since = busy.fields[0]?.trim() || undefined;
  throw new ReclaimError(
    'REPAIR_IN_PROGRESS',
    `Another repair of this server's Plex sign-in is under way${since ? ` (it began ${printable(since)})` : ''}. Reclaim changed nothing.`,
    'Let that one finish (or close it), then try again. If no repair is running any more, the lock goes away once its SSH connection has ended.',
    { since },
  );
}

/** A store's step found the lock no longer its own. */
export function lockTakenOver(): ReclaimError {
  return new ReclaimError(
    'REPAIR_IN_PROGRESS',
    'Another run took over this server\'s repair lock while Reclaim was working; Reclaim stopped here.',
    'Check what else is repairing this server, then run the repair again: it finishes or rolls back what was left.',
    {},
  );
}
