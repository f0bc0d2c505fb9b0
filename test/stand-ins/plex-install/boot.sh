#!/bin/sh
# First process of the test server's own mount and pid namespaces (unshare), inside its network
# namespace: gives the server a disk of its own, then becomes its sshd (pid 1, which reaps orphans).
# The host's directories below stay as they are: each gets an overlay whose changes live in
# <state dir>/overlay, so they survive an sshd restart (a reboot) and vanish with the state dir.
# Usage: boot.sh <state dir> <node> <sshd command…>
set -eu
state=$1
node=$2
shift 2
for dir in /etc /home /opt /srv /usr/bin /usr/lib /var/lib; do
  layer="$state/overlay/$(printf %s "$dir" | tr / _)"
  mkdir -p "$layer/upper" "$layer/work"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
done
# A fresh /run, as after a boot: sshd's privilege separation directory, and systemd's marker that
# it is the init system (sd_booted), which tools check before calling systemctl.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -m 0755 /run/sshd /run/systemd /run/systemd/system
mkdir -m 1777 /run/lock
# The Plex Media Server binary is Node under PMS's path (see service-run.mjs); install.sh makes the
# file, this mount is redone at each boot.
pms="/usr/lib/plexmediaserver/Plex Media Server"
if [ -f "$pms" ]; then mount --bind "$node" "$pms"; fi
exec "$@"
