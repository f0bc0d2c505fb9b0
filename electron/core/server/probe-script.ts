import { shellQuote } from '../ssh/remote-exec.js';
import { RECORD_HELPERS } from './records.js';

// The one fixed POSIX script that looks for Plex on a server (plex-repair.md §1, §6). It only
// reads: marker files and directories, small configuration files, the process table, and what
// `docker ps`, `systemctl show` and friends print. It decides nothing; the detectors do, in
// TypeScript, from these records. It runs on BusyBox ash, dash and bash, each outside command
// bounded by `timeout` where the server has one, every file read bounded by `head -c`.
//
// `root` is where the server's filesystem starts: '' on a real server; a test's recorded tree.

export const PROBE = 'reclaim-probe';

export function probeScript(root = ''): string {
  return [
    `R=${shellQuote(root)}`,
    'LC_ALL=C; export LC_ALL',
    RECORD_HELPERS,
    // The one parameter expansion: a path found under the root, as the server names it.
    'rel() { printf "%s" "${1#"$R"}"; }',
    String.raw`has() { command -v "$1" >/dev/null 2>&1; }
if has timeout && timeout 5 true 2>/dev/null; then T='timeout 20'
elif has timeout && timeout -t 5 true 2>/dev/null; then T='timeout -t 20'
else T=''; fi
# run NAME COMMAND...: its exit status and the first 64 KiB of what it printed
run() { n=$1; shift; o=$($T "$@" 2>&1); s=$?; rec cmd "$n" "$s" "$(printf '%s' "$o" | head -c 65536 | clean)"; }
file() { if [ -f "$R$1" ]; then if [ -r "$R$1" ]; then rec file "$1" "$(head -c 65536 "$R$1" | clean)"; else rec denied "$1"; fi; fi; }
dir() { if [ -d "$R$1" ]; then rec dir "$1"; fi; }
present() { if [ -e "$R$1" ]; then rec present "$1"; fi; }
rec begin ${PROBE} 1
rec uname "$(uname -s 2>/dev/null)"
rec account "$(id -u 2>/dev/null)" "$(id -un 2>/dev/null)" "$HOME"
rec now "$(date '+%b %d, %Y %H:%M:%S')"
file /etc/passwd

# Containers on this host (§1.4): every container whose image or name says plex, and its mounts.
for rt in docker podman; do
  if has "$rt"; then
    list=$($T "$rt" ps -a --no-trunc --format '{{.ID}}|{{.Image}}|{{.Names}}|{{.Status}}' 2>&1); s=$?
    rec cmd "$rt-ps" "$s" "$(printf '%s' "$list" | head -c 65536 | clean)"
    if [ "$s" = 0 ]; then
      printf '%s\n' "$list" | head -n 200 | while IFS='|' read -r id image names status; do
        case "$image $names" in
          *[Pp][Ll][Ee][Xx]*) run "$rt-inspect" "$rt" inspect --format '[{{json .Id}},{{json .Name}},{{json .Config.Image}},{{json .State.Status}},{{json .Mounts}},{{json .Config.Labels}}]' "$id" ;;
        esac
      done
    fi
  fi
done
# Inside a container (§1.1 #10): the image's own layout.
file /proc/1/cgroup
dir '/config/Library/Application Support/Plex Media Server'
dir '/config/Plex Media Server'
if [ -d "$R/etc/s6-overlay/s6-rc.d" ] && grep -rqs hotio "$R/etc/s6-overlay/s6-rc.d"; then rec marker hotio; fi
if grep -qs PLEX_MEDIA "$R/home/nobody/start.sh"; then rec marker binhex; fi

# NAS systems.
file /etc.defaults/VERSION
dir /var/packages/PlexMediaServer
dir '/var/packages/PlexMediaServer/shares/PlexMediaServer/AppData/Plex Media Server'
l=/var/packages/PlexMediaServer/shares/PlexMediaServer
if [ -L "$R$l" ]; then rec link "$l" "$(readlink "$R$l")"; fi
dir '/var/packages/Plex Media Server'
file '/var/packages/Plex Media Server/target/plex_library_path'
if [ -x "$R/usr/syno/sbin/synoshare" ]; then run synoshare "$R/usr/syno/sbin/synoshare" --get Plex; fi
file /etc/config/qpkg.conf
present /etc/init.d/plex.sh
file /etc/nas.conf
dir '/volume1/Plex/Library/Plex Media Server'
present /usr/local/AppCentral/plexmediaserver/CONTROL/start-stop.sh
file /etc/os-release
for p in "$R"/apps/plexmediaserver*; do if [ -d "$p/MediaLibrary/Plex Media Server" ]; then rec dir "$(rel "$p")/MediaLibrary/Plex Media Server"; fi; done
file /etc/system.conf
for p in "$R"/mnt/HD/HD*/Nas_Prog/plex_conf; do
  if [ -d "$p" ]; then rec dir "$(rel "$p")"; present "$(rel "$p")/Plex Media Server/Preferences.xml"; fi
done
file /etc/unraid-version

# Linux packages: snap (all three data paths seen in the wild), deb/rpm, Arch.
dir /snap/plexmediaserver/current
dir '/var/snap/plexmediaserver/Library/Application Support/Plex Media Server'
dir '/var/snap/plexmediaserver/common/Library/Application Support/Plex Media Server'
dir '/var/snap/plexmediaserver/common/Library/Application_Support/Plex Media Server'
dir /usr/lib/plexmediaserver
dir /var/lib/plexmediaserver
dir /var/lib/plex
file /etc/conf.d/plexmediaserver
file /etc/default/plexmediaserver
if has systemctl; then
  for unit in plexmediaserver fvapp-plexmediaserver; do
    run "systemctl-$unit" systemctl show "$unit" -p LoadState -p ActiveState -p MainPID -p User -p Group -p Environment -p FragmentPath -p DropInPaths
  done
fi
for d in /etc/systemd/system/plexmediaserver.service.d /run/systemd/system/plexmediaserver.service.d; do
  for f in "$R$d"/*.conf; do if [ -f "$f" ]; then file "$(rel "$f")"; fi; done
done

# Running Plex processes, from /proc where there is one (no command per process), else from ps.
if [ -d "$R/proc/1" ]; then
  for d in "$R"/proc/[0-9]*; do
    c=''; { IFS= read -r c < "$d/comm"; } 2>/dev/null
    case "$c" in
      'Plex Media Serv'|'Plex Media Server')
        pid=$(basename "$d"); uid=''
        while IFS= read -r line; do case "$line" in Uid:*) uid=$line ;; esac; done 2>/dev/null < "$d/status"
        rec process "$pid" "$uid" "$(head -c 4096 "$d/cgroup" 2>/dev/null | clean)"
        if [ -r "$d/environ" ]; then
          rec environ "$pid" "$(tr '\000' '\n' < "$d/environ" 2>/dev/null | grep '^PLEX_MEDIA_SERVER_' | clean)"
        else rec denied "/proc/$pid/environ"; fi ;;
    esac
  done
else
  run ps ps -axo pid=,user=,comm=
fi

# FreeBSD and TrueNAS CORE, the host and its jails.
file /etc/rc.conf
file /etc/rc.conf.local
dir /usr/local/share/plexmediaserver
dir /usr/local/share/plexmediaserver-plexpass
if has jls; then
  jails=$($T jls name path 2>/dev/null)
  rec cmd jls 0 "$(printf '%s' "$jails" | head -c 65536 | clean)"
  printf '%s\n' "$jails" | head -n 200 | while read -r name path; do
    if [ -n "$path" ]; then
      dir "$path/usr/local/share/plexmediaserver"; dir "$path/usr/local/share/plexmediaserver-plexpass"
      file "$path/etc/rc.conf"; file "$path/etc/rc.conf.local"
    fi
  done
fi

# macOS: the app, and the SSH user's own data directory.
dir '/Applications/Plex Media Server.app'
if [ -n "$HOME" ] && [ -d "$R$HOME/Library/Application Support/Plex Media Server" ]; then rec dir "$HOME/Library/Application Support/Plex Media Server"; fi
rec end`,
  ].join('\n');
}
