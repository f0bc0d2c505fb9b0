// A Mac for the repair's scripts, on top of the recorded macOS tree (recorded-server.ts): small
// stand-ins for the commands the repair runs there, written from plex-repair.md §2.1 and the
// manual pages of macOS's defaults(1), osascript(1), open(1), launchctl(1), pkill(1), sudo(8):
// - `defaults` keeps the domain com.plexapp.plexmediaserver in a file of its own, as cfprefsd
//   does (never the plist under ~/Library/Preferences): read/read-type/delete/write by key,
//   export (XML, to a file or "-") and import (a plist file or "-", which replaces the whole
//   domain, as the real one does). `defaults read <domain>` without a key is refused loudly,
//   because it would print the token;
// - Plex "runs" while a state file lists its processes: `ps` and `pkill` see them; osascript's
//   quit ends them, `open -a "Plex Media Server"` starts them again (and Plex writes a new
//   start-up line to its log, as the real one does);
// - `launchctl asuser UID cmd…` and `sudo [-n] [-H] [-S] [-u user] [--] cmd…` run the command
//   (the test machine has one user; which user it would be is recorded).
// Every stand-in records its argv (mac/argv.log), so a test can check that no secret was on a
// command line. Faults: files in the state directory (quit-fails, term-ignored, open-fails).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedServer } from './recorded-server.js';

export const MAC_DOMAIN = 'com.plexapp.plexmediaserver';
export const MAC_PROCESSES = [
  '412 alice /Applications/Plex Media Server.app/Contents/MacOS/Plex Media Server',
  '455 alice /Applications/Plex Media Server.app/Contents/MacOS/Plex Tuner Service',
].join('\n');

const STATE = 'S="${0%/*}/../mac"; printf \'%s\\n\' "${0##*/} $*" >> "$S/argv.log"';

export const MAC_STAND_INS: Record<string, string> = {
  defaults: String.raw`${STATE}
F="$S/domain.plist"
empty() { printf '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict/>\n</plist>\n'; }
line() { [ -f "$F" ] && sed -n "/^[[:space:]]*<key>$1<\/key>\$/{n;p;q;}" "$F"; }
nokey() { echo "The domain/default pair of ($2, $1) does not exist" >&2; exit 1; }
[ "$2" = ${MAC_DOMAIN} ] || { echo "Domain $2 does not exist" >&2; exit 1; }
case "$1" in
  read)
    if [ $# -lt 3 ]; then echo "$*" >> "$S/whole-domain-reads"; echo 'the test refuses: defaults read without a key prints the token' >&2; exit 99; fi
    v=$(line "$3"); [ -n "$v" ] || nokey "$3" "$2"
    case "$v" in *'<true/>'*) echo 1 ;; *'<false/>'*) echo 0 ;; *) printf '%s\n' "$v" | sed -e 's/^[[:space:]]*<[a-z]*>//' -e 's/<\/[a-z]*>$//' -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&amp;/\&/g' ;; esac ;;
  read-type)
    v=$(line "$3"); [ -n "$v" ] || nokey "$3" "$2"
    case "$v" in *'<true/>'*|*'<false/>'*) echo 'Type is boolean' ;; *'<integer>'*) echo 'Type is integer' ;; *) echo 'Type is string' ;; esac ;;
  export)
    if [ "$3" = - ]; then if [ -f "$F" ]; then cat "$F"; else empty; fi
    elif [ -f "$F" ]; then cat "$F" > "$3"; else empty > "$3"; fi ;;
  import)
    if [ "$3" = - ]; then t="$S/import.tmp"; cat > "$t"; else t=$3; fi
    grep -q '<plist' "$t" || { echo "Could not parse: $3.  Try single-quoting it." >&2; exit 1; }
    cat "$t" > "$F.new" && mv -f "$F.new" "$F" ;;
  delete)
    [ -n "$(line "$3")" ] || nokey "$3" "$2"
    sed "/^[[:space:]]*<key>$3<\/key>\$/{N;d;}" "$F" > "$F.new" && mv -f "$F.new" "$F" ;;
  *) echo "defaults stand-in: $1 is not played here" >&2; exit 2 ;;
esac`,
  ps: String.raw`${STATE}
R="$S/running"
case "$*" in
  '-axo pid=,user=,comm=') [ -s "$R" ] && while read -r pid user comm; do printf '%5s %-16s %s\n' "$pid" "$user" "$comm"; done < "$R"; exit 0 ;;
  '-axo pid=,comm=') [ -s "$R" ] && while read -r pid user comm; do printf '%5s %s\n' "$pid" "$comm"; done < "$R"; exit 0 ;;
  *) exit 1 ;;
esac`,
  pkill: String.raw`${STATE}
R="$S/running"
[ "$*" = '-TERM ^Plex Media Serve(r)?$' ] || { echo "pkill stand-in: $* is not played here" >&2; exit 2; }
[ -s "$R" ] || exit 1
[ -f "$S/term-ignored" ] || : > "$R"`,
  osascript: String.raw`${STATE}
[ "$*" = '-e tell app "Plex Media Server" to quit' ] || { echo "osascript stand-in: $* is not played here" >&2; exit 2; }
if [ -f "$S/quit-fails" ]; then echo '0:44: execution error: Not authorized to send Apple events to Plex Media Server. (-1743)' >&2; exit 1; fi
[ -f "$S/term-ignored" ] || : > "$S/running"`,
  open: String.raw`${STATE}
[ "$*" = "-a Plex Media Server" ] || { echo "open stand-in: $* is not played here" >&2; exit 2; }
if [ -f "$S/open-fails" ]; then echo 'LSOpenURLsWithRole() failed with error -600 for the file /Applications/Plex Media Server.app.' >&2; exit 1; fi
cat "$S/processes" > "$S/running"
n=$(cat "$S/starts" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$S/starts"
printf 'Jun 17, 2025 11:%02d:00.000 [0x70000] INFO - Plex Media Server v1.41.6.9685-d301f511a - MacOSX x86_64 - build: darwin-x86_64 - GMT 00:00\n' "$n" >> "$S/../root/Users/alice/Library/Logs/Plex Media Server/Plex Media Server.log"`,
  launchctl: String.raw`${STATE}
[ "$1" = asuser ] && [ -n "$2" ] || { echo "launchctl stand-in: $* is not played here" >&2; exit 2; }
shift 2; exec "$@"`,
  sudo: String.raw`${STATE}
while [ $# -gt 0 ]; do case "$1" in -n|-H|-i) shift ;; -S) IFS= read -r pw; shift ;; -p|-u) shift 2 ;; --) shift; break ;; -*) echo "sudo stand-in: $1 is not played here" >&2; exit 2 ;; *) break ;; esac; done
exec "$@"`,
};

/** The state directory of a server made with MAC_STAND_INS: the domain, the processes, the faults. */
export class MacState {
  readonly dir: string;

  constructor(readonly server: RecordedServer, domain: string, options: { running?: boolean } = {}) {
    this.dir = path.join(path.dirname(server.root), 'mac');
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(path.join(this.dir, 'domain.plist'), domain);
    writeFileSync(path.join(this.dir, 'processes'), `${MAC_PROCESSES}\n`);
    writeFileSync(path.join(this.dir, 'running'), options.running === false ? '' : `${MAC_PROCESSES}\n`);
    writeFileSync(path.join(this.dir, 'argv.log'), '');
  }

  get domain(): string {
    return readFileSync(path.join(this.dir, 'domain.plist'), 'utf8');
  }

  set domain(text: string) {
    writeFileSync(path.join(this.dir, 'domain.plist'), text);
  }

  get running(): boolean {
    return readFileSync(path.join(this.dir, 'running'), 'utf8').trim() !== '';
  }

  fault(name: 'quit-fails' | 'term-ignored' | 'open-fails', on: boolean): void {
    const file = path.join(this.dir, name);
    if (on) writeFileSync(file, '');
    else rmSync(file, { force: true });
  }

  /** Every command line the stand-ins were given. */
  get argv(): string {
    return readFileSync(path.join(this.dir, 'argv.log'), 'utf8');
  }

  get wholeDomainReads(): boolean {
    return existsSync(path.join(this.dir, 'whole-domain-reads'));
  }
}
