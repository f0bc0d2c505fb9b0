import { printable, ReclaimError } from '../../common/errors.js';
import { shellQuote } from '../../ssh/remote-exec.js';
import type { CommandWords, PlexInstall } from '../install.js';
import type { Privilege } from '../privilege.js';
import { readRecords, RECORD_HELPERS } from '../records.js';

// Stopping and starting Plex Media Server the way its platform does (the install's service, as
// inspect found it: systemd, synopkg, the image's s6 or supervisord, rc.d, a jail's service…),
// and telling for certain whether it stopped: its processes are looked for until none is left, a
// minute at most, because "stop" commands that report success while Plex runs on are known (R1 #10).

const SCRIPT = 'reclaim-service';
/** Stop and start commands are cut off here; a slow stop is then watched for, not waited on. */
const COMMAND_SECONDS = 20;
const SCRIPT_TIMEOUT_MS = 30_000;

export interface PlexProcess {
  pid: number;
  name: string;
}

export interface CommandOutcome {
  exit: number | null;
  output: string;
}

/** Stopping, starting and watching one install's Plex: ServiceControl (POSIX servers, macOS), WindowsControl. */
export interface PlexControl {
  /** The platform has commands to stop and start Plex (not QNAP's App Center or WD's dashboard). */
  readonly controllable: boolean;
  stop(): Promise<CommandOutcome>;
  /** A harder stop for a Plex that did not stop when asked (Windows: taskkill /f /t); `how` says what it did. */
  forceStop?(): Promise<CommandOutcome & { how: string }>;
  start(): Promise<CommandOutcome>;
  status(): Promise<string | undefined>;
  processes(): Promise<PlexProcess[]>;
}

/** Where to look for the install's processes, so another install's Plex is not mistaken for it. */
type Scope =
  | { kind: 'host'; cgroups: 'native' | 'snap' | 'any' }
  | { kind: 'container'; runtime: string; id: string; whole: boolean }
  | { kind: 'jail'; name: string };

export class ServiceControl implements PlexControl {
  constructor(
    private readonly install: PlexInstall,
    private readonly privilege: Privilege,
    private readonly reason: string,
    private readonly root = '',
  ) {}

  /** The platform has commands to stop and start Plex (not QNAP's App Center or WD's dashboard). */
  get controllable(): boolean {
    return this.install.service.stop.length > 0 && this.install.service.start.length > 0;
  }

  stop(): Promise<CommandOutcome> {
    if (this.install.platform === 'macos') return this.mac(MAC_QUIT, 'quit Plex Media Server');
    return this.command(this.install.service.stop, 'stop Plex Media Server');
  }

  start(): Promise<CommandOutcome> {
    if (this.install.platform === 'macos') return this.mac(MAC_OPEN, 'open Plex Media Server');
    return this.command(this.install.service.start, 'start Plex Media Server');
  }

  /** macOS only: the app that did not quit when asked gets SIGTERM (it saves its settings as on a quit). */
  get forceStop(): PlexControl['forceStop'] {
    if (this.install.platform !== 'macos') return undefined;
    return async () => ({ ...await this.mac(MAC_TERM, 'stop Plex Media Server'), how: 'sent SIGTERM to Plex Media Server (pkill), as it did not quit when asked' });
  }

  /**
   * A command in the macOS user's session: from root, \`launchctl asuser <uid>\` puts it in their
   * GUI (Aqua) bootstrap, where the app runs, and sudo -u makes it theirs (plex-repair.md §2.1).
   */
  private async mac(command: string, what: string): Promise<CommandOutcome> {
    const records = await this.run([
      `U=${shellQuote(this.install.runsAs ?? '')}; uid=$(id -u "$U" 2>/dev/null)`,
      'if [ "$(id -un)" = "$U" ]; then AS() { "$@"; }; GUI() { "$@"; }',
      'else AS() { sudo -n -H -u "$U" "$@"; }; GUI() { launchctl asuser "$uid" sudo -n -H -u "$U" "$@"; }; fi',
      'PMS=\'^Plex Media Serve(r)?$\'',
      command,
      'rec ran "$s" "$(printf \'%s\' "$o" | head -c 4000 | clean)"',
    ], what);
    const ran = records.find((record) => record.kind === 'ran');
    const exit = Number(ran?.fields[0]);
    return { exit: Number.isFinite(exit) ? exit : null, output: printable(ran?.fields[1] ?? '') };
  }

  /** What the service manager says, when it has a status command (systemd: active, failed…). */
  async status(): Promise<string | undefined> {
    const words = this.install.service.status;
    if (!words?.length) return undefined;
    const outcome = await this.command(words, 'ask whether Plex Media Server runs');
    return outcome.output.trim().split('\n')[0] || undefined;
  }

  /** The install's Plex processes running now (Plex Media Server itself and its helpers). */
  async processes(): Promise<PlexProcess[]> {
    const scope = scopeOf(this.install);
    const records = await this.run([
      `R=${shellQuote(this.root)}`,
      processListing(scope),
    ], 'look for Plex\'s processes');
    return records
      .filter((record) => record.kind === 'proc')
      .filter((record) => scope.kind !== 'host' || inScope(record.fields[2] ?? '', scope.cgroups))
      .map((record) => ({ pid: Number(record.fields[0]), name: (record.fields[1] ?? '').trim() }))
      .filter((process) => Number.isSafeInteger(process.pid) && process.pid >= 0 && /^Plex/.test(process.name));
  }

  private async command(words: CommandWords, what: string): Promise<CommandOutcome> {
    const records = await this.run([
      'if command -v timeout >/dev/null 2>&1 && timeout 5 true 2>/dev/null; then T="timeout ' + COMMAND_SECONDS + '"',
      'elif command -v timeout >/dev/null 2>&1 && timeout -t 5 true 2>/dev/null; then T="timeout -t ' + COMMAND_SECONDS + '"',
      'else T=""; fi',
      `o=$($T ${words.map(shellQuote).join(' ')} 2>&1 </dev/null); s=$?`,
      'rec ran "$s" "$(printf \'%s\' "$o" | head -c 4000 | clean)"',
    ], what);
    const ran = records.find((record) => record.kind === 'ran');
    const exit = Number(ran?.fields[0]);
    return { exit: Number.isFinite(exit) ? exit : null, output: printable(ran?.fields[1] ?? '') };
  }

  private async run(lines: string[], what: string) {
    const script = ['LC_ALL=C; export LC_ALL', RECORD_HELPERS, `rec begin ${SCRIPT} 1`, ...lines, 'rec end'].join('\n');
    const options = { timeoutMs: SCRIPT_TIMEOUT_MS, maxOutputBytes: 256 * 1024 };
    // On a Mac signed in as the account that runs Plex, everything is that account's: no sudo.
    const asUser = this.install.platform === 'macos' && (await this.privilege.whoAmI()).user === this.install.runsAs;
    const result = asUser ? await this.privilege.asUser(script, what, options) : await this.privilege.asRoot(script, what, this.reason, options);
    return readRecords(result.stdout, SCRIPT, what);
  }
}

/** How inspect's description of the install says to find its processes. */
function scopeOf(install: PlexInstall): Scope {
  if (install.container) {
    return { kind: 'container', runtime: install.container.runtime, id: install.container.id, whole: install.container.kind === 'other' };
  }
  if (install.jail) return { kind: 'jail', name: install.jail.name };
  if (install.platform === 'snap') return { kind: 'host', cgroups: 'snap' };
  if (install.platform === 'container' || install.platform === 'freebsd' || install.platform === 'macos') return { kind: 'host', cgroups: 'any' };
  return { kind: 'host', cgroups: 'native' };
}

function inScope(cgroup: string, cgroups: 'native' | 'snap' | 'any'): boolean {
  if (cgroups === 'any') return true;
  const snap = /snap\.plexmediaserver/.test(cgroup);
  if (cgroups === 'snap') return snap;
  return !snap && !/docker|libpod|kubepods/.test(cgroup);
}

// Quit asks the app (it saves and exits as from its menu); if osascript itself fails (no GUI
// session, an Automation prompt nobody can answer), SIGTERM is the fallback. pkill matches the
// process name, which the kernel may cut to 16 characters ("Plex Media Serve"), as an extended
// regular expression; never -f, whose pattern would match this very script's shell. Open starts the app in
// the user's session, so it outlives the SSH connection.
const MAC_QUIT = String.raw`o=$(GUI osascript -e 'tell app "Plex Media Server" to quit' 2>&1 </dev/null); s=$?
if [ "$s" != 0 ]; then t=$(AS pkill -TERM "$PMS" 2>&1); s=$?; o="osascript: $o; pkill -TERM: exit $s $t"; fi`;
const MAC_TERM = String.raw`o=$(AS pkill -TERM "$PMS" 2>&1); s=$?`;
const MAC_OPEN = String.raw`o=$(GUI open -a 'Plex Media Server' 2>&1 </dev/null); s=$?`;

// Linux: every process whose name starts with "Plex" ("Plex Media Serv", "Plex Tuner Serv"…,
// cut to 15 characters), with its cgroup; elsewhere `ps`.
const LISTING = String.raw`if [ -d "$R/proc/1" ]; then
  for d in "$R"/proc/[0-9]*; do
    c=''; { IFS= read -r c < "$d/comm"; } 2>/dev/null
    case "$c" in Plex*) rec proc "$(basename "$d")" "$c" "$(head -c 4096 "$d/cgroup" 2>/dev/null | tr '\n' ' ' | clean)" ;; esac
  done
else
  ps -axo pid=,comm= 2>/dev/null | while read -r pid comm; do
    case "$(basename "$comm")" in Plex*) rec proc "$pid" "$(basename "$comm")" '' ;; esac
  done
fi`;

function processListing(scope: Scope): string {
  switch (scope.kind) {
    case 'host':
      return LISTING;
    case 'jail':
      return `jexec ${shellQuote(scope.name)} ps -axo pid=,comm= 2>/dev/null | while read -r pid comm; do case "$(basename "$comm")" in Plex*) rec proc "$pid" "$(basename "$comm")" '' ;; esac; done`;
    case 'container': {
      const id = shellQuote(scope.id);
      // A container stopped whole (docker stop) is the process to wait for.
      const whole = scope.whole ? `if [ "$(${scope.runtime} inspect -f '{{.State.Running}}' ${id} 2>/dev/null)" = true ]; then rec proc 0 'Plex Media Server (its container is still running)' ''; fi` : '';
      const inside = `${scope.runtime} exec ${id} sh -c ${shellQuote(`R=''; ${RECORD_HELPERS}\n${LISTING}`)} 2>/dev/null`;
      return scope.whole ? whole : inside;
    }
  }
}

/** "PMS would not stop", naming what was left. */
export function wouldNotStop(processes: PlexProcess[], seconds: number, said?: string): ReclaimError {
  const names = processes.map((process) => `${process.name} (pid ${process.pid})`);
  return new ReclaimError(
    'PMS_WOULD_NOT_STOP',
    `Plex Media Server was still running ${seconds} s after Reclaim asked it to stop: ${names.join(', ')}${said ? ` (the stop command said: ${said})` : ''}. Reclaim changed nothing.`,
    'Stop Plex yourself on the server (its service, its app, or by ending those processes), check that no Plex process is left, then run the repair again.',
    { processes: processes.map((process) => `${process.pid} ${process.name}`) },
  );
}
