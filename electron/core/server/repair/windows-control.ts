import { printable } from '../../common/errors.js';
import type { PlexInstall } from '../install.js';
import { readRecords, type ProbeRecord } from '../records.js';
import { commandFailed, type ServerShell } from '../server-shell.js';
import { POWERSHELL_RECORDS, powershellCommand, psQuote } from '../windows.js';
import type { CommandOutcome, PlexControl, PlexProcess } from './service-control.js';

// Stopping and starting Plex Media Server on Windows (plex-repair.md §2.2, §6.3, §6.9):
// - a service that wraps Plex (PmsService's PlexService, an NSSM service: any running service
//   whose name or display name says Plex, but Plex's own PlexUpdateService) is stopped first, or
//   it would start Plex again; it is started again afterwards, and is then what starts Plex (so
//   is a stopped automatic one, which a run cut off after the stop may have left);
// - Plex itself is asked to close with `taskkill /im "Plex Media Server.exe"` (no /f: it has no
//   window, and taskkill's message makes it save and exit); only when it is still there after half
//   the wait does `taskkill /f /t` end it, and the repair says so;
// - Plex is started so that it outlives the SSH session (Windows OpenSSH ends every process of
//   the session's job): with a scheduled task in the user's desktop session (interactive token)
//   when they are logged on, so it gets its tray icon back, otherwise with WMI
//   (Win32_Process.Create), never with Start-Process. The task, "Reclaim - start Plex Media
//   Server", has no trigger and stays registered (deleting it could end what it started).

const SCRIPT = 'reclaim-windows-service';
const TIMEOUT_MS = 60_000;
const TASK = 'Reclaim - start Plex Media Server';

export class WindowsControl implements PlexControl {
  readonly controllable = true;
  /** The wrapper services this run stopped, started again by start(). */
  private stoppedServices: string[] = [];

  constructor(private readonly install: PlexInstall, private readonly shell: ServerShell) {}

  /** Plex's processes with the SID of the account each runs as, and the SSH account's own SID. */
  async owners(): Promise<{ me: string; processes: Array<PlexProcess & { sid: string }> }> {
    const records = await this.run(processScript(), 'look for Plex\'s processes');
    const me = records.find((record) => record.kind === 'me')?.fields[0] ?? '';
    return { me, processes: processesFrom(records) };
  }

  async processes(): Promise<PlexProcess[]> {
    return (await this.owners()).processes.map(({ pid, name }) => ({ pid, name }));
  }

  async stop(): Promise<CommandOutcome> {
    const records = await this.run(stopScript(), 'stop Plex Media Server');
    this.stoppedServices = records.filter((record) => record.kind === 'service').map((record) => record.fields[0] ?? '').filter(Boolean);
    return outcomeOf(records);
  }

  async forceStop(): Promise<CommandOutcome & { how: string }> {
    const records = await this.run(forceStopScript(), 'end Plex Media Server');
    return { ...outcomeOf(records), how: 'ended Plex Media Server with taskkill /f /t, as it did not close when asked; Plex may not have saved everything it was doing' };
  }

  async start(): Promise<CommandOutcome> {
    const exe = this.install.service.start[0] ?? 'C:\\Program Files\\Plex\\Plex Media Server\\Plex Media Server.exe';
    const records = await this.run(startScript(exe, this.stoppedServices), 'start Plex Media Server');
    return outcomeOf(records);
  }

  async status(): Promise<string | undefined> {
    return undefined;
  }

  private async run(script: string, what: string): Promise<ProbeRecord[]> {
    let stdout: string;
    try {
      stdout = (await this.shell(powershellCommand(`${POWERSHELL_RECORDS}\nRec 'begin','${SCRIPT}','1'\n${script}\nRec 'end'`), { timeoutMs: TIMEOUT_MS, maxOutputBytes: 256 * 1024 })).stdout;
    } catch (error) {
      throw commandFailed(what, error);
    }
    return readRecords(stdout, SCRIPT, what);
  }
}

export function processScript(): string {
  return String.raw`Rec 'me',([Security.Principal.WindowsIdentity]::GetCurrent().User.Value)
foreach($p in @(Get-CimInstance Win32_Process -Filter "Name like 'Plex%'")){Rec 'proc',$p.ProcessId,$p.Name,(Invoke-CimMethod -InputObject $p -MethodName GetOwnerSid).Sid}`;
}

export function stopScript(): string {
  return String.raw`$out=@()
foreach($s in @(Get-Service|?{($_.Name -match 'Plex' -or $_.DisplayName -match 'Plex') -and $_.Name -ne 'PlexUpdateService' -and $_.Status -eq 'Running'})){try{Stop-Service -InputObject $s -Force -ErrorAction Stop;Rec 'service',$s.Name}catch{$out+="service $($s.Name) would not stop: $_"}}
$o=& taskkill.exe /im 'Plex Media Server.exe' 2>&1|Out-String;$c=$LASTEXITCODE
Rec 'ran',$c,(($out+$o)-join' ')`;
}

export function forceStopScript(): string {
  return String.raw`$o=& taskkill.exe /f /t /im 'Plex Media Server.exe' 2>&1|Out-String;Rec 'ran',$LASTEXITCODE,$o`;
}

export function startScript(exe: string, services: string[]): string {
  const names = services.map(psQuote).join(',');
  return `$exe=${psQuote(exe)};$out=@();$how='';$c=0
$names=@(@(${names})+@(Get-Service|?{($_.Name -match 'Plex' -or $_.DisplayName -match 'Plex') -and $_.Name -ne 'PlexUpdateService' -and $_.Status -eq 'Stopped' -and $_.StartType -eq 'Automatic'}|%{$_.Name})|Select-Object -Unique)
foreach($n in $names){try{Start-Service -Name $n -ErrorAction Stop;$how="service $n"}catch{$out+="service $n would not start: $_"}}
function Up{[bool](Get-Process -Name 'Plex Media Server' -EA 0)}
if($how){for($i=0;$i -lt 20 -and !(Up);$i++){Start-Sleep 1}}
if(!(Up)){$how=''
$me=[Security.Principal.WindowsIdentity]::GetCurrent()
$desk=@(Get-CimInstance Win32_Process -Filter "Name='explorer.exe'"|?{(Invoke-CimMethod -InputObject $_ -MethodName GetOwnerSid).Sid -eq $me.User.Value})
if($desk.Count){try{Register-ScheduledTask -TaskName ${psQuote(TASK)} -Action (New-ScheduledTaskAction -Execute $exe) -Principal (New-ScheduledTaskPrincipal -UserId $me.Name -LogonType Interactive) -Force -ErrorAction Stop|Out-Null
Start-ScheduledTask -TaskName ${psQuote(TASK)} -ErrorAction Stop;$how='a scheduled task in your desktop session'}catch{$out+="scheduled task: $_"}}
if(!$how){$r=Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine="\`"$exe\`""};if($r.ReturnValue -eq 0){$how='WMI (Win32_Process.Create)'}else{$c=$r.ReturnValue;$out+="Win32_Process.Create returned $c"}}}
Rec 'ran',$c,(($out+@($how))-join' ')`;
}

function processesFrom(records: ProbeRecord[]): Array<PlexProcess & { sid: string }> {
  return records
    .filter((record) => record.kind === 'proc')
    .map((record) => ({ pid: Number(record.fields[0]), name: (record.fields[1] ?? '').replace(/\.exe$/i, ''), sid: record.fields[2] ?? '' }))
    .filter((process) => Number.isSafeInteger(process.pid) && process.pid > 0 && /^Plex/.test(process.name));
}

function outcomeOf(records: ProbeRecord[]): CommandOutcome {
  const ran = records.find((record) => record.kind === 'ran');
  const exit = Number(ran?.fields[0]);
  return { exit: Number.isFinite(exit) ? exit : null, output: printable(ran?.fields[1] ?? '').trim() };
}
