import { createHash } from 'node:crypto';
import { printable, ReclaimError } from '../../common/errors.js';
import type { PlexInstall } from '../install.js';
import { readRecords, type ProbeRecord } from '../records.js';
import type { ServerShell } from '../server-shell.js';
import { commandFailed } from '../server-shell.js';
import { POWERSHELL_RECORDS, powershellCommand, psQuote } from '../windows.js';
import { formatJournal, parseJournal, type Journal } from './journal.js';
import type { PreferencesChanges } from './preferences-edit.js';
import { lockTakenOver, throwIfLockBusy, type OpenedFiles, type PreferencesStore, type Snapshot } from './remote-file.js';

// Plex's settings on Windows: the values of HKCU\Software\Plex, Inc.\Plex Media Server of the user
// who runs Plex (plex-repair.md §2.2), worked on by fixed PowerShell scripts sent as
// -EncodedCommand (windows.ts), each short enough for cmd.exe. The same steps as for a file:
// - a lock (a directory beside the backups, naming the run and the sshd process of its session),
//   and the journal next to it, in Plex's data folder (its "Plex Media Server" folder);
// - a backup with `reg export` (Preferences.reclaim-backup-<time>.reg in that folder);
// - the change made value by value through the registry API, each value keeping its kind (a
//   REG_DWORD stays one); new values get the kinds Plex uses (strings; AcceptedEULA and
//   PublishServerOnPlexOnlineKey as DWORDs, as test/fixtures/servers/windows shows them);
// - the restore with `reg import`, after which values the backup does not hold are deleted
//   (reg import only adds and overwrites).
// Only a small loader goes as -EncodedCommand (windows.ts): the script itself follows on standard
// input, base64 on its first line (so no code page can garble a path, and no script is too long
// for cmd.exe's 8191 characters), and any data after it. So the new values (the token among them)
// travel on standard input too, as base64, never in a command line; their SHA-256 is checked on
// arrival. Fingerprints are a SHA-256 of every
// value's name, kind and data in ordinal order, computed by the server.

const SCRIPT = 'reclaim-registry';
const TIMEOUT_MS = 60_000;
const OUTPUT_BYTES = 2 * 1024 * 1024;

/** Reads the script from standard input and runs it here, with the rest of the input in $in. */
export const STDIN_LOADER = "$all=[Console]::In.ReadToEnd();$at=$all.IndexOf([char]10);$in=$all.Substring($at+1)\n. ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($all.Substring(0,$at).Trim()))))";

/** New values' kinds, when the key does not hold them yet. */
const NEW_KINDS: Record<string, string> = { AcceptedEULA: 'DWord', PublishServerOnPlexOnlineKey: 'DWord' };
const KINDS = ['String', 'ExpandString', 'DWord', 'QWord'];

/** The registry key below HKEY_CURRENT_USER, or undefined when the install's key is another user's hive. */
export function currentUserSubkey(install: PlexInstall): string | undefined {
  if (install.preferences.kind !== 'registry') return undefined;
  const match = /^(?:HKEY_CURRENT_USER|HKCU)\\(.+)$/i.exec(install.preferences.key);
  return match?.[1];
}

/** What the backups and the journal are named after: Preferences.reg in Plex's data folder. */
export function registryBase(install: PlexInstall): string {
  return `${install.dataDir.replace(/\\+$/, '')}\\Preferences.reg`;
}

/** Backups keep the .reg ending reg import expects: Preferences.reclaim-backup-<time>.reg. */
export function registryBackupPath(install: PlexInstall, stamp: string): string {
  return `${install.dataDir.replace(/\\+$/, '')}\\Preferences.reclaim-backup-${stamp}.reg`;
}

// The helpers every script starts with. Values are shown as reg query shows them, numbers in decimal.
function prelude(subkey: string, base: string, run: string): string {
  return `${POWERSHELL_RECORDS}
Rec 'begin','${SCRIPT}','1'
$S=${psQuote(subkey)};$B=${psQuote(base)};$J="$B.reclaim-journal";$L="$B.reclaim-lock";$ME=${psQuote(run)}
function Fail($w,$m){$m="$m";Rec 'failed',$w,$m.Substring(0,[Math]::Min(2000,$m.Length));Rec 'end';exit 0}
function Key([bool]$w){[Microsoft.Win32.Registry]::CurrentUser.OpenSubKey($S,$w)}
function Show($k,$n){$v=$k.GetValue($n,$null,'DoNotExpandEnvironmentNames');switch($k.GetValueKind($n)){'DWord'{[BitConverter]::ToUInt32([BitConverter]::GetBytes([int]$v),0)}'Binary'{($v|%{$_.ToString('x2')})-join''}'MultiString'{$v-join"\`n"}default{"$v"}}}
function Fp{$k=Key $false;if(!$k){return 'missing'};$ns=[string[]]$k.GetValueNames();[Array]::Sort($ns,[StringComparer]::Ordinal);$t=New-Object Text.StringBuilder
foreach($n in $ns){[void]$t.Append("$n\`t$($k.GetValueKind($n))\`t$(Show $k $n)\`n")};$k.Close()
$h=[Security.Cryptography.SHA256]::Create().ComputeHash([Text.Encoding]::UTF8.GetBytes($t.ToString()));'regsha256:'+(($h|%{$_.ToString('x2')})-join'')+':'+$ns.Count}
function Owner($f){if(Test-Path -LiteralPath "$L\\owner"){foreach($l in Get-Content -LiteralPath "$L\\owner"){if($l.StartsWith("$f=")){return $l.Substring($f.Length+1)}}};''}
`;
}

// The lock must still be this run's; the journal is replaced whole.
const OURS = `function Ours{if((Owner 'run') -ne $ME){Fail 'lock' 'another run holds the lock'}}
function Jw([string[]]$ls){try{[IO.File]::WriteAllText("$J.tmp",($ls-join"\`n")+"\`n");if([IO.File]::Exists($J)){[IO.File]::Replace("$J.tmp",$J,$null)}else{[IO.File]::Move("$J.tmp",$J)}}catch{Fail 'journal' $_}}`;

// The lock, taken by open(): held while the sshd process that served its run lives (its creation
// time goes with its pid), or for half an hour when that process could not be found.
const LOCK = String.raw`function Sess{$p=$PID;for($i=0;$i -lt 30 -and $p;$i++){$w=Get-CimInstance Win32_Process -Filter "ProcessId=$p";if(!$w){break};if($w.Name -like 'sshd*'){return "$p $($w.CreationDate.ToUniversalTime().Ticks)"};$p=$w.ParentProcessId};'0 0'}
function Alive($p,$t){if(!$p -or $p -eq '0'){return $false};$w=Get-CimInstance Win32_Process -Filter "ProcessId=$p";$w -and "$($w.CreationDate.ToUniversalTime().Ticks)" -eq $t}
$now=[DateTimeOffset]::UtcNow.ToUnixTimeSeconds();$stale=$false
if((Test-Path -LiteralPath $L) -and (Owner 'run') -ne $ME){$s=(Owner 'session')-split' ';[long]$since=0;[void][long]::TryParse((Owner 'since'),[ref]$since)
if((Alive $s[0] $s[1]) -or ((!$s[0] -or $s[0] -eq '0') -and $now-$since -lt 1800)){Rec 'busy',(Owner 'began');Rec 'end';exit 0}
Remove-Item -LiteralPath $L -Recurse -Force;$stale=$true}
if(!(Test-Path -LiteralPath $L)){try{New-Item -ItemType Directory -Path $L -ErrorAction Stop|Out-Null}catch{Rec 'busy','';Rec 'end';exit 0}
if($stale){Rec 'stale'};[IO.File]::WriteAllText("$L\owner",(@("run=$ME","session=$(Sess)","since=$now","began=$((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss')) UTC")-join[char]10)+[char]10)}`;

export class RegistryStore implements PreferencesStore {
  private readonly subkey: string;
  private readonly base: string;

  constructor(
    private readonly install: PlexInstall,
    private readonly shell: ServerShell,
    private readonly run: string,
  ) {
    const subkey = currentUserSubkey(install);
    if (!subkey) throw new Error('the registry store works on a key under HKEY_CURRENT_USER');
    this.subkey = subkey;
    this.base = registryBase(install);
  }

  get paths(): { preferences: string; journal: string } {
    return { preferences: this.where, journal: `${this.base}.reclaim-journal` };
  }

  async open(): Promise<OpenedFiles> {
    const records = await this.runScript([
      LOCK,
      'if(Test-Path -LiteralPath $J){Rec \'journal\',(Get-Content -LiteralPath $J -Raw)}',
      '$f=Fp;if($f -eq \'missing\'){Rec \'missing\'}else{Rec \'file\',\'\',$f}',
      'Get-ChildItem -LiteralPath (Split-Path $B) -Filter \'Preferences.reclaim-backup-*.reg\'|%{Rec \'backup\',$_.FullName}',
    ], 'look at Plex\'s registry settings and take the repair lock');
    throwIfLockBusy(records);
    const journalText = records.find((record) => record.kind === 'journal')?.fields[0]?.replace(/\r\n/g, '\n');
    const file = records.find((record) => record.kind === 'file');
    const prefix = `${this.install.dataDir.replace(/\\+$/, '')}\\Preferences.reclaim-backup-`.toLowerCase();
    return {
      journal: journalText === undefined ? undefined : parseJournal(journalText),
      tookOverLock: records.some((record) => record.kind === 'stale'),
      file: file ? { owner: '', mode: '', fingerprint: file.fields[1] ?? '' } : { problem: 'missing' },
      backups: records.filter((record) => record.kind === 'backup').map((record) => record.fields[0] ?? '')
        .filter((path) => path.toLowerCase().startsWith(prefix) && /^\d{8}T\d{6}Z(-\d+)?\.reg$/i.test(path.slice(prefix.length))).sort(),
    };
  }

  async snapshot(options: { backup?: string; journal?: Journal } = {}): Promise<Snapshot> {
    const lines = ['Ours', '$of=Fp;if($of -eq \'missing\'){Fail \'snapshot\' \'the registry key is gone\'}'];
    if (options.backup !== undefined) {
      lines.push(
        `$bb=${psQuote(options.backup.replace(/\.reg$/i, ''))};$bk="$bb.reg";$n=0`,
        'while(Test-Path -LiteralPath $bk){$n++;$bk="$bb-$n.reg";if($n -ge 100){Fail \'backup\' \'too many backups with this name\'}}',
        '$o=& reg.exe export "HKCU\\$S" $bk /y 2>&1|Out-String',
        'if($LASTEXITCODE -ne 0 -or !(Test-Path -LiteralPath $bk)){Remove-Item -LiteralPath $bk -Force -EA 0;Fail \'backup\' $o}',
        'if((Get-Content -LiteralPath $bk -Raw) -notmatch \'"ProcessedMachineIdentifier"=\'){Remove-Item -LiteralPath $bk -Force -EA 0;Fail \'backup\' \'the export holds no ProcessedMachineIdentifier\'}',
        'if((Fp) -ne $of){Fail \'backup\' \'the settings changed while they were backed up\'}',
        'Rec \'backup\',$bk',
      );
      if (options.journal) lines.push(`Jw @(${journalLines({ ...options.journal, state: 'backed-up' })},"backup=$bk","original=$of")`);
    }
    lines.push(
      'Rec \'file\',\'\',$of',
      '$k=Key $false;foreach($n in $k.GetValueNames()){Rec \'value\',$n,$k.GetValueKind($n),(Show $k $n)}',
    );
    const records = await this.runScript(lines, options.backup ? 'back up Plex\'s registry settings (reg export)' : 'read Plex\'s registry settings');
    throwIfFailed(records, this.where);
    const values = new Map<string, string>();
    const kinds = new Map<string, string>();
    for (const record of records.filter((candidate) => candidate.kind === 'value')) {
      const [name = '', kind = '', value = ''] = record.fields;
      values.set(name, value);
      kinds.set(name, kind);
    }
    const fingerprint = records.find((record) => record.kind === 'file')?.fields[1] ?? '';
    return { owner: '', mode: '', fingerprint, content: '', values, kinds, backup: records.find((record) => record.kind === 'backup')?.fields[0] };
  }

  values(snapshot: Snapshot): Map<string, string> {
    return new Map(snapshot.values);
  }

  async writeChanges(changes: PreferencesChanges, snapshot: Snapshot, journal: Journal): Promise<string> {
    const sent = registryOperations(changes, snapshot.kinds ?? new Map());
    const digest = createHash('sha256').update(sent, 'utf8').digest('hex');
    const records = await this.runScript([
      'Ours',
      `if((Fp) -ne ${psQuote(snapshot.fingerprint)}){Fail 'changed' 'the settings changed since Reclaim read them'}`,
      // The new values (the token among them) arrived on standard input after the script, as base64: $in.
      `$h=[Security.Cryptography.SHA256]::Create().ComputeHash([Text.Encoding]::UTF8.GetBytes($in));if((($h|%{$_.ToString('x2')})-join'') -ne '${digest}'){Fail 'write' 'what arrived on the server differs from what Reclaim sent'}`,
      `Jw @(${journalLines({ ...journal, state: 'writing' })})`,
      '$k=Key $true;if(!$k){Fail \'write\' \'the key cannot be opened for writing\'}',
      'try{foreach($l in ($in -split "`n")){$o=$l.TrimEnd("`r")-split"`t";if($o[0] -eq \'del\'){$k.DeleteValue($o[1],$false)}elseif($o[0] -eq \'set\'){$v=[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($o[3]))',
      'if($o[2] -eq \'DWord\'){$v=[BitConverter]::ToInt32([BitConverter]::GetBytes([uint32]$v),0)}elseif($o[2] -eq \'QWord\'){$v=[long]$v}',
      '$k.SetValue($o[1],$v,[Microsoft.Win32.RegistryValueKind]$o[2])}}}catch{Fail \'write\' $_};$k.Close()',
      `$nf=Fp;Jw @(${journalLines({ ...journal, state: 'written' })},"written=$nf");Rec 'written',$nf`,
    ], 'write Plex\'s new registry settings', sent);
    throwIfFailed(records, this.where);
    return records.find((record) => record.kind === 'written')?.fields[0] ?? '';
  }

  async restore(backup: string, journal: Journal): Promise<string> {
    const records = await this.runScript([
      'Ours',
      `$bk=${psQuote(backup)};if(!(Test-Path -LiteralPath $bk)){Fail 'restore' 'the backup is gone'}`,
      // The value names the backup holds ("Name"= lines; @= is the default value).
      '$ns=@{};foreach($l in Get-Content -LiteralPath $bk){if($l -match \'^"((?:[^"\\\\]|\\\\.)*)"=\'){$ns[($matches[1] -replace \'\\\\(.)\',\'$1\')]=1}elseif($l -match \'^@=\'){$ns[\'\']=1}}',
      'if(!$ns.Contains(\'ProcessedMachineIdentifier\')){Fail \'restore\' \'the backup holds no ProcessedMachineIdentifier\'}',
      `Jw @(${journalLines({ ...journal, state: 'writing' })})`,
      '$o=& reg.exe import $bk 2>&1|Out-String;if($LASTEXITCODE -ne 0){Fail \'restore\' $o}',
      '$k=Key $true;foreach($n in $k.GetValueNames()){if(!$ns.Contains($n)){$k.DeleteValue($n,$false)}};$k.Close()',
      `$nf=Fp;Jw @(${journalLines({ ...journal, state: 'written' })},"written=$nf");Rec 'restored',$nf`,
    ], 'put Plex\'s registry settings back (reg import)');
    throwIfFailed(records, this.where);
    return records.find((record) => record.kind === 'restored')?.fields[0] ?? '';
  }

  async setAsideCertificates(stamp: string): Promise<string[]> {
    const cache = `${this.install.dataDir.replace(/\\+$/, '')}\\Cache`;
    const records = await this.runScript([
      'Ours',
      `foreach($c in @('cert-v2.p12','certificate.p12')){$p=Join-Path ${psQuote(cache)} $c;if(Test-Path -LiteralPath $p -PathType Leaf){try{Move-Item -LiteralPath $p -Destination "$p.reclaim-backup-${stamp}" -ErrorAction Stop;Rec 'moved',$p}catch{Fail 'write' $_}}}`,
    ], 'set aside the server\'s cached certificate');
    throwIfFailed(records, this.where);
    return records.filter((record) => record.kind === 'moved').map((record) => record.fields[0] ?? '');
  }

  async clearJournal(): Promise<void> {
    throwIfFailed(await this.runScript(['Ours', 'Remove-Item -LiteralPath $J -Force -EA 0'], 'clear the repair journal'), this.where);
  }

  async writeJournal(journal: Journal): Promise<void> {
    throwIfFailed(await this.runScript(['Ours', `Jw @(${journalLines(journal)})`], 'write the repair journal'), this.where);
  }

  async close(options: { keepJournal?: boolean } = {}): Promise<void> {
    await this.runScript([
      `if((Owner 'run') -eq $ME){${options.keepJournal ? '' : 'Remove-Item -LiteralPath $J -Force -EA 0;'}Remove-Item -LiteralPath $L -Recurse -Force -EA 0}`,
    ], 'release the repair lock');
  }

  /** The script as sent (tests check its length and content). */
  script(lines: string[]): string {
    return [prelude(this.subkey, this.base, this.run), OURS, ...lines, 'Rec \'end\''].join('\n');
  }

  private async runScript(lines: string[], what: string, stdin?: string): Promise<ProbeRecord[]> {
    let stdout: string;
    try {
      const input = `${Buffer.from(this.script(lines), 'utf8').toString('base64')}\n${stdin ?? ''}`;
      stdout = (await this.shell(powershellCommand(STDIN_LOADER), { timeoutMs: TIMEOUT_MS, maxOutputBytes: OUTPUT_BYTES, stdin: input })).stdout;
    } catch (error) {
      throw commandFailed(what, error);
    }
    return readRecords(stdout, SCRIPT, what);
  }

  private get where(): string {
    return `HKEY_CURRENT_USER\\${this.subkey}`;
  }
}

/**
 * What a write sends on standard input: one line per change, "del<TAB>name" or
 * "set<TAB>name<TAB>kind<TAB>base64 of the UTF-8 value". A value keeps the kind the key holds it
 * in; one the kind cannot hold is refused before anything is sent.
 */
export function registryOperations(changes: PreferencesChanges, kinds: ReadonlyMap<string, string>): string {
  const lines: string[] = [];
  for (const [name, value] of changes) {
    if (/[\t\r\n]/.test(name)) throw new Error(`not a registry value name: ${JSON.stringify(name)}`);
    if (value === null) {
      lines.push(`del\t${name}`);
      continue;
    }
    const kind = kinds.get(name) ?? NEW_KINDS[name] ?? 'String';
    if (!KINDS.includes(kind) || ((kind === 'DWord' || kind === 'QWord') && !/^\d+$/.test(value))) {
      throw new ReclaimError(
        'REPAIR_WRITE_FAILED',
        `Plex's registry value ${name} is a ${kind}, which cannot hold the value the repair would write. Reclaim changed nothing in the registry.`,
        `Look at the value with reg query "HKCU\\Software\\Plex, Inc.\\Plex Media Server" /v ${name}; delete it if it is not Plex's, then run the repair again.`,
        { step: 'write', reason: 'other' },
      );
    }
    lines.push(`set\t${name}\t${kind}\t${Buffer.from(value, 'utf8').toString('base64')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The journal's lines as PowerShell string literals, comma-separated. */
function journalLines(journal: Journal): string {
  return formatJournal(journal).map(psQuote).join(',');
}

function throwIfFailed(records: ProbeRecord[], where: string): void {
  const failed = records.find((record) => record.kind === 'failed');
  if (!failed) return;
  const [step = '', said = ''] = failed.fields;
  const shown = printable(said).replace(/\s+/g, ' ').trim().slice(0, 300);
  if (step === 'lock') throw lockTakenOver();
  const kind = step === 'backup' ? 'backup' : step === 'restore' ? 'restore' : step === 'journal' ? 'journal' : 'write';
  const doing = { backup: 'back up (reg export)', restore: 'put back (reg import)', journal: 'write the repair journal for', write: 'write' }[kind];
  throw new ReclaimError(
    'REPAIR_WRITE_FAILED',
    step === 'changed'
      ? `Plex's registry settings (${where}) changed while Reclaim was working (something else wrote them), so Reclaim did not write over them.`
      : `Reclaim could not ${doing} Plex's registry settings at ${where}${shown ? ` (${shown})` : ''}.`,
    'Check that your SSH account can write its own registry and Plex\'s data folder (is the disk full?), then run the repair again.',
    { step: kind, reason: step === 'changed' ? 'changed' : /disk is full|not enough space/i.test(said) ? 'disk-full' : 'other' },
  );
}
