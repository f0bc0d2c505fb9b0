import { ReclaimError } from '../../common/errors.js';
import { shellQuote } from '../../ssh/remote-exec.js';
import type { PlexInstall } from '../install.js';
import type { Privilege } from '../privilege.js';
import type { Journal } from './journal.js';
import { editPlist, plistValues, readPlistDocument } from './plist-edit.js';
import type { PreferencesChanges } from './preferences-edit.js';
import { factsFrom, fingerprintLike, journalWords, RemoteFiles, type Snapshot } from './remote-file.js';

// Plex's settings on macOS: the defaults domain com.plexapp.plexmediaserver of the user who runs
// Plex, served by cfprefsd. The plist file itself is never touched (cfprefsd may hold the domain in
// memory and write it back over an edited file, plex-repair.md §2.1): every read and write goes
// through `defaults`, run as that user (sudo -u from root).
//
// How the new token stays out of every command line: `defaults write <domain> PlexOnlineToken
// -string <token>` would show it in `ps`, so the domain is exported whole (`defaults export
// <domain> -`, XML), edited here as XML with only the sign-in keys changed (plist-edit.ts, types
// kept), sent back on the script's standard input into a file only the user can read, and
// imported with `defaults import <domain> <file>`. `defaults import` replaces the whole domain
// with the file's contents, which is why the file is the full export and not just the sign-in
// keys; keys the repair removed are then checked to be gone (and deleted by name if an import
// merged instead), so the result is the same under either behaviour.
//
// The lock, the journal and the backups live beside the plist in ~/Library/Preferences, named
// after it (com.plexapp.plexmediaserver.plist.reclaim-backup-<time>, an XML plist as `defaults
// export` writes it, which `defaults import` takes back). Fingerprints are of the exported XML;
// `defaults export` writes a domain's keys in sorted order, so the same settings give the same
// bytes (this is how a Mac's defaults behaves as far as Reclaim knows; verified only against the
// test stand-in, test/support/mac-stand-ins.ts).

/** The keys a repair may add or remove: a restore makes sure none is left that the backup lacks. */
const REPAIR_KEYS = ['PlexOnlineToken', 'PlexOnlineUsername', 'PlexOnlineMail', 'PlexOnlineHome', 'AcceptedEULA', 'PublishServerOnPlexOnlineKey'];

/** The user's home, from the data directory inspect found (~/Library/Application Support/Plex Media Server). */
export function macHome(install: PlexInstall): string {
  return install.dataDir.replace(/\/Library\/Application Support\/Plex Media Server\/?$/, '');
}

/** The plist cfprefsd keeps the domain in: what the backups and the journal are named after. */
export function macPlistPath(install: PlexInstall): string {
  const domain = install.preferences.kind === 'defaults' ? install.preferences.domain : 'com.plexapp.plexmediaserver';
  return `${macHome(install)}/Library/Preferences/${domain}.plist`;
}

export class DefaultsStore extends RemoteFiles {
  constructor(
    private readonly install: PlexInstall & { preferences: { kind: 'defaults' } },
    privilege: Privilege,
    run: string,
    reason: string,
    root: string,
  ) {
    super({ preferences: macPlistPath(install), dataDir: install.dataDir, access: { via: 'host' }, root }, privilege, run, reason);
  }

  protected override extraPrelude(): string {
    const { user, domain } = this.install.preferences;
    return String.raw`U=${shellQuote(user)}; D=${shellQuote(domain)}
if [ "$(id -un)" = "$U" ]; then AS() { "$@"; }; else AS() { sudo -n -H -u "$U" "$@"; }; fi
# ex FILE: the domain as XML, written by its user into FILE, readable by no one else
ex() { AS sh -c 'umask 077 && defaults export "$1" - > "$2"' sh "$D" "$R$1"; }
# dfp: the fingerprint of the domain as it is now
dfp() { X rm -f "$R$T"; if ex "$T" 2>/dev/null; then fp "$T"; else echo unknown; fi; X rm -f "$R$T"; }
# gone KEY...: each key not in FILE ($1) that the domain holds is deleted by name
gone() { g_file=$1; shift; for g_key in "$@"; do if ! X grep -q "<key>$g_key</key>" "$R$g_file" && AS defaults read "$D" "$g_key" >/dev/null 2>&1; then AS defaults delete "$D" "$g_key" >/dev/null 2>&1 || return 1; fi; done; }`;
  }

  protected override fileCheck(): string[] {
    return [
      'if ! AS defaults read "$D" ProcessedMachineIdentifier >/dev/null 2>&1; then rec missing',
      'else rec file \'\' "$(dfp)"; fi',
    ];
  }

  /** Signed in as the account that runs Plex: its own domain, caches and Preferences folder, no sudo. */
  protected override async asUser(): Promise<boolean> {
    return (await this.privilege.whoAmI()).user === this.install.preferences.user;
  }

  protected override certificateDir(): string {
    return `${macHome(this.install)}/Library/Caches/PlexMediaServer`;
  }

  override values(snapshot: Snapshot): Map<string, string> {
    return plistValues(readPlistDocument(snapshot.content, this.where));
  }

  override async snapshot(options: { backup?: string; journal?: Journal } = {}): Promise<Snapshot> {
    const lines = [
      'ours',
      'orig_fp=$(dfp); [ "$orig_fp" != unknown ] || fail snapshot "defaults export failed"',
    ];
    if (options.backup !== undefined) {
      lines.push(
        `bk_base=${shellQuote(options.backup)}; bk=$bk_base; bk_n=0`,
        'while X test -e "$R$bk"; do bk_n=$((bk_n + 1)); bk="$bk_base-$bk_n"; [ "$bk_n" -lt 100 ] || fail backup "too many backups with this name"; done',
        'if ! err=$(ex "$bk" 2>&1); then X rm -f "$R$bk"; fail backup "$err"; fi',
        'if [ "$(fp "$bk")" != "$orig_fp" ]; then X rm -f "$R$bk"; fail backup "the export differs from the settings as they were a moment ago"; fi',
        'X sync 2>/dev/null',
        'rec backup "$bk"; src=$bk',
      );
      if (options.journal) lines.push(`jw ${journalWords({ ...options.journal, state: 'backed-up' })} "backup=$bk" "original=$orig_fp"`);
    } else {
      lines.push('X rm -f "$R$T"; if ! err=$(ex "$T" 2>&1); then X rm -f "$R$T"; fail snapshot "$err"; fi; src=$T');
    }
    lines.push(
      'rec file \'\' "$orig_fp"',
      'printf \'content\\001\'; X cat "$R$src" | clean; printf \'\\000\'',
      'if [ "$src" = "$T" ]; then X rm -f "$R$T"; fi',
    );
    const records = await this.runScript(lines, options.backup ? 'back up Plex\'s settings (defaults export)' : 'read Plex\'s settings (defaults export)');
    this.throwIfFailed(records);
    const facts = factsFrom(records.find((record) => record.kind === 'file')!);
    const content = records.find((record) => record.kind === 'content')?.fields[0] ?? '';
    if (fingerprintLike(facts.fingerprint, content) !== facts.fingerprint) {
      throw new ReclaimError(
        'PLEX_PREFERENCES_UNREADABLE',
        `Plex's settings (defaults domain ${this.install.preferences.domain}) changed while Reclaim read them, or are not text, so Reclaim will not edit them.`,
        'Nothing was changed. Check that Plex is quit, then run the repair again.',
        { where: this.where },
      );
    }
    return { ...facts, content, backup: records.find((record) => record.kind === 'backup')?.fields[0] };
  }

  override async writeChanges(changes: PreferencesChanges, snapshot: Snapshot, journal: Journal): Promise<string> {
    let next: string;
    try {
      next = editPlist(readPlistDocument(snapshot.content, this.where), changes);
    } catch (error) {
      if (error instanceof ReclaimError) throw error;
      throw new ReclaimError('REPAIR_WRITE_FAILED', `Reclaim could not change Plex's settings: ${(error as Error).message}.`, 'Look at the setting with "defaults read-type com.plexapp.plexmediaserver <key>" on the Mac; nothing was changed.', { step: 'write', reason: 'other' });
    }
    const sent = fingerprintLike(snapshot.fingerprint, next);
    const removed = [...changes].filter(([, value]) => value === null).map(([key]) => shellQuote(key));
    const records = await this.runScript([
      'ours',
      `if [ "$(dfp)" != ${shellQuote(snapshot.fingerprint)} ]; then fail changed "the settings changed since Reclaim read them"; fi`,
      'X rm -f "$R$T"',
      // The new settings (the token among them) arrive on standard input, into a file only the user can read.
      'if ! err=$(AS sh -c \'umask 077 && cat > "$1"\' sh "$R$T" 2>&1); then X rm -f "$R$T"; fail write "$err"; fi',
      `if [ "$(fp "$T")" != ${shellQuote(sent)} ]; then X rm -f "$R$T"; fail write "what arrived on the Mac differs from what Reclaim sent"; fi`,
      `jw ${journalWords({ ...journal, state: 'writing' })}`,
      'if ! err=$(AS defaults import "$D" "$R$T" 2>&1); then X rm -f "$R$T"; fail write "defaults import: $err"; fi',
      `if ! gone "$T" ${removed.join(' ')}; then X rm -f "$R$T"; fail write "a removed key could not be deleted"; fi`,
      'X rm -f "$R$T"',
      'now_fp=$(dfp)',
      `jw ${journalWords({ ...journal, state: 'written' })} "written=$now_fp"`,
      'rec written "$now_fp"',
    ], 'write Plex\'s new settings (defaults import)', next);
    this.throwIfFailed(records);
    return records.find((record) => record.kind === 'written')?.fields[0] ?? '';
  }

  override async restore(backup: string, journal: Journal): Promise<string> {
    const records = await this.runScript([
      'ours',
      `bk=${shellQuote(backup)}`,
      'if ! X test -f "$R$bk"; then fail restore "the backup is gone"; fi',
      'bk_fp=$(fp "$bk")',
      `jw ${journalWords({ ...journal, state: 'writing' })} "written=$bk_fp"`,
      'if ! err=$(AS defaults import "$D" "$R$bk" 2>&1); then fail restore "defaults import: $err"; fi',
      `if ! gone "$bk" ${REPAIR_KEYS.join(' ')}; then fail restore "a key the backup does not hold could not be deleted"; fi`,
      'now_fp=$(dfp)',
      `jw ${journalWords({ ...journal, state: 'written' })} "written=$now_fp"`,
      'rec restored "$now_fp"',
    ], 'put Plex\'s settings back from the backup (defaults import)');
    this.throwIfFailed(records);
    return records.find((record) => record.kind === 'restored')?.fields[0] ?? '';
  }

  override async write(): Promise<string> {
    throw new Error('the macOS settings are written key by key (writeChanges), never as a file');
  }

  private get where(): string {
    return `defaults domain ${this.install.preferences.domain} of ${this.install.preferences.user}`;
  }
}
