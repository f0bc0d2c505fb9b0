import { ReclaimError } from '../common/errors.js';
import type { PlexInstall } from './install.js';
import { summarise, type PreferencesSummary } from './preferences.js';
import { readRecords, type ProbeRecord } from './records.js';

// Plex Media Server on Windows (plex-repair.md §2.2): its settings live in the registry of the
// user who runs it, its data and logs under that user's Local AppData. Windows OpenSSH's default
// shell may be cmd.exe or PowerShell, so every script goes as `powershell -EncodedCommand` (UTF-16LE,
// base64), which both take as it is: no quoting of the script through either shell.

export const WINDOWS_PROBE = 'reclaim-windows';
const WINDOWS_LOG = 'reclaim-windows-log';
export const PLEX_KEY = 'Software\\Plex, Inc.\\Plex Media Server';
/** cmd.exe cuts command lines at 8191 characters. */
export const MAX_COMMAND_LINE = 8191;

/** A string as a PowerShell single-quoted literal. */
export function psQuote(text: string): string {
  return `'${text.replace(/['\u2018\u2019\u201a\u201b]/g, (quote) => quote + quote)}'`;
}

/** A PowerShell script as one command line that cmd.exe and PowerShell both run unchanged. */
export function powershellCommand(script: string): string {
  const command = `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from(script, 'utf16le').toString('base64')}`;
  if (command.length > MAX_COMMAND_LINE) throw new Error(`PowerShell script too long for cmd.exe (${command.length} characters)`);
  return command;
}

// Records as the POSIX scripts print them: fields joined by \001, each record ended by NUL,
// written as UTF-8 bytes straight to stdout so the console's code page cannot garble them.
export const POWERSHELL_RECORDS = String.raw`$ErrorActionPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'
$stdout = [Console]::OpenStandardOutput()
function Rec([string[]]$f) {
  $text = (($f | ForEach-Object { [string]$_ -replace '[\x00\x01]', '' }) -join [char]1) + [char]0
  $bytes = [Text.Encoding]::UTF8.GetBytes($text); $stdout.Write($bytes, 0, $bytes.Length)
}`;

export function windowsProbeScript(): string {
  return `${POWERSHELL_RECORDS}
Rec 'begin','${WINDOWS_PROBE}','1'
$me = [Security.Principal.WindowsIdentity]::GetCurrent()
Rec 'account',$me.Name,$me.User.Value,$env:LOCALAPPDATA
Rec 'now',(Get-Date).ToString('MMM dd, yyyy HH:mm:ss', [Globalization.CultureInfo]::InvariantCulture)
$sids = @()
foreach ($p in @(Get-CimInstance Win32_Process -Filter "Name='Plex Media Server.exe'")) {
  $o = Invoke-CimMethod -InputObject $p -MethodName GetOwner
  $s = (Invoke-CimMethod -InputObject $p -MethodName GetOwnerSid).Sid
  Rec 'process',$p.ProcessId,"$($o.Domain)\\$($o.User)",$s,$p.ExecutablePath
  if ($s) { $sids += $s }
}
$hives = @('HKCU') + @($sids | Select-Object -Unique | Where-Object { $_ -ne $me.User.Value } | ForEach-Object { if ($_ -eq 'S-1-5-18') { 'HKU\\.DEFAULT' } else { "HKU\\$_" } })
foreach ($h in $hives) {
  $text = & reg.exe query "$h\\${PLEX_KEY}" 2>&1 | Out-String
  Rec 'reg',$h,$LASTEXITCODE,$text
}
foreach ($s in ($sids | Select-Object -Unique)) {
  Rec 'profile',$s,(Get-ItemProperty "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\$s").ProfileImagePath
}
Rec 'end'`;
}

/** The last 256 KiB of each log file, read without locking out Plex, which keeps it open. */
export function windowsLogScript(logDir: string): string {
  const quoted = `'${logDir.replace(/'/g, "''")}'`;
  return `${POWERSHELL_RECORDS}
Rec 'begin','${WINDOWS_LOG}','1'
Rec 'now',(Get-Date).ToString('MMM dd, yyyy HH:mm:ss', [Globalization.CultureInfo]::InvariantCulture)
foreach ($name in @('Plex Media Server.1.log', 'Plex Media Server.log')) {
  $path = Join-Path ${quoted} $name
  if (Test-Path -LiteralPath $path) {
    try {
      $f = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite, Delete')
      $n = [Math]::Min($f.Length, 262144); [void]$f.Seek(-$n, 'End')
      $b = New-Object byte[] $n; $got = $f.Read($b, 0, $n); $f.Close()
      Rec 'log',$name,[Text.Encoding]::UTF8.GetString($b, 0, $got)
    } catch { Rec 'denied',$path }
  }
}
Rec 'end'`;
}

export interface WindowsInstall {
  install: PlexInstall;
  preferences: PreferencesSummary | ReclaimError;
}

/** `reg query` output: "    Name    REG_SZ    value" under the key's line. */
export function parseRegQuery(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(line);
    if (!match) continue;
    const [, name, type, raw = ''] = match as unknown as [string, string, string, string?];
    values.set(name, type === 'REG_DWORD' || type === 'REG_QWORD' ? String(parseInt(raw, 16)) : raw);
  }
  return values;
}

export function detectWindows(stdout: string): WindowsInstall[] {
  const records = readRecords(stdout, WINDOWS_PROBE, 'look for Plex on Windows');
  const account = records.find((record) => record.kind === 'account')?.fields ?? [];
  const [me = '', mySid = '', localAppData = ''] = account;
  const processes = records.filter((record) => record.kind === 'process').map(({ fields }) => ({ pid: Number(fields[0]), user: fields[1] ?? '', sid: fields[2] ?? '', exe: fields[3] ?? '' }));
  const profiles = new Map(records.filter((record) => record.kind === 'profile').map(({ fields }) => [fields[0] ?? '', fields[1] ?? '']));
  const installs: WindowsInstall[] = [];
  for (const { fields } of records.filter((record) => record.kind === 'reg')) {
    const [hive = '', exit = '', text = ''] = fields;
    if (exit !== '0') continue;
    const values = parseRegQuery(text);
    const sid = hive === 'HKCU' ? mySid : hive === 'HKU\\.DEFAULT' ? 'S-1-5-18' : hive.replace(/^HKU\\/, '');
    const process = processes.find((candidate) => candidate.sid === sid);
    const user = process?.user || (hive === 'HKCU' ? me : sid);
    const localRoot = hive === 'HKCU' ? localAppData : profiles.get(sid) ? `${profiles.get(sid)}\\AppData\\Local` : '';
    const dataRoot = values.get('LocalAppDataPath') || localRoot;
    const dataDir = `${dataRoot.replace(/\\+$/, '')}\\Plex Media Server`;
    const exe = process?.exe || `${values.get('InstallFolder') ?? 'C:\\Program Files\\Plex\\Plex Media Server'}\\Plex Media Server.exe`;
    const key = `${hive === 'HKCU' ? 'HKEY_CURRENT_USER' : hive.replace(/^HKU/, 'HKEY_USERS')}\\${PLEX_KEY}`;
    let preferences: PreferencesSummary | ReclaimError;
    try {
      preferences = summarise(values, key);
    } catch (error) {
      if (!(error instanceof ReclaimError)) throw error;
      preferences = error;
    }
    installs.push({
      preferences,
      install: {
        platform: 'windows',
        description: `Windows, Plex Media Server of ${user}`,
        dataDir,
        dataDirSource: values.has('LocalAppDataPath') ? 'LocalAppDataPath in the registry' : 'the user\'s Local AppData',
        preferences: { kind: 'registry', key },
        logDir: `${dataDir}\\Logs`,
        runsAs: user,
        running: process !== undefined,
        pid: process?.pid,
        service: { manager: 'the Plex Media Server program (not a service)', stop: ['taskkill', '/im', 'Plex Media Server.exe'], start: [exe] },
        files: { via: 'host' },
        notes: [
          ...(processes.length && !process ? ['Plex runs as another user than this registry\'s: its settings may be elsewhere.'] : []),
          'Started from an SSH session, Plex would be stopped when the session ends: start it from the desktop, WMI or a scheduled task.',
        ],
      },
    });
  }
  return installs;
}

export function logsFrom(stdout: string): { log?: string; now: string; problem?: string } {
  const records: ProbeRecord[] = readRecords(stdout, WINDOWS_LOG, 'read Plex\'s log on Windows');
  const logs = records.filter((record) => record.kind === 'log');
  const denied = records.find((record) => record.kind === 'denied');
  return {
    now: records.find((record) => record.kind === 'now')?.fields[0] ?? '',
    log: logs.length ? logs.map((record) => record.fields[1] ?? '').join('\n') : undefined,
    problem: logs.length ? undefined : denied ? `The log could not be read (${denied.fields[0]}).` : 'There is no Plex Media Server.log.',
  };
}
