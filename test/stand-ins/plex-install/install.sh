#!/bin/sh
# Installs Plex Media Server's deb layout on the test server, as root inside its namespaces (after
# boot.sh): the plex system user, the package files, the unit, the data directory. Then the test
# user's sudo rights and the stand-ins. Everything lands in the server's overlays only.
# Environment: STAGE (files from the test: plexmediaserver.service, drop-ins/, Preferences.xml?,
# pms.json, stand-ins/), NODE, TEST_USER, SUDO (password|nopasswd|none), SUPPORT_DIR,
# PREFERENCES_MODE, CERTIFICATE (1: a Cache/cert-v2.p12 as a signed-in server has).
set -eu

# As the deb's maintainer scripts do: a system user and group plex, home /var/lib/plexmediaserver.
groupadd --system plex
useradd --system --gid plex --home-dir /var/lib/plexmediaserver --no-create-home --shell /usr/sbin/nologin plex

case "$SUDO" in
  password) usermod -aG sudo "$TEST_USER" ;; # Debian's sudoers: %sudo ALL=(ALL:ALL) ALL
  nopasswd)
    # What cloud images write for their default user.
    printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$TEST_USER" > /etc/sudoers.d/90-cloud-init-users
    chmod 0440 /etc/sudoers.d/90-cloud-init-users ;;
  none) ;;
  *) echo "install.sh: SUDO must be password, nopasswd or none, not '$SUDO'" >&2; exit 2 ;;
esac

# The stand-ins, and the test's choices for the PMS stand-in.
stand_ins=/usr/lib/reclaim-stand-in
mkdir -p "$stand_ins"
cp -R "$STAGE/stand-ins/." "$stand_ins/"
cp "$STAGE/pms.json" "$stand_ins/pms.json"
chmod -R a+rX "$stand_ins"
printf '#!/bin/sh\nexec %s %s/plex-install/systemctl.mjs "$@"\n' "$NODE" "$stand_ins" > /usr/bin/systemctl
chmod 0755 /usr/bin/systemctl

# Package files.
install -d -m 0755 /usr/lib/plexmediaserver /usr/lib/plexmediaserver/lib /usr/lib/plexmediaserver/Resources
pms="/usr/lib/plexmediaserver/Plex Media Server"
: > "$pms"
chmod 0755 "$pms"
mount --bind "$NODE" "$pms"
install -m 0644 "$STAGE/plexmediaserver.service" /lib/systemd/system/plexmediaserver.service
if [ -d "$STAGE/drop-ins" ]; then
  install -d -m 0755 /etc/systemd/system/plexmediaserver.service.d
  for f in "$STAGE/drop-ins"/*; do install -m 0644 "$f" /etc/systemd/system/plexmediaserver.service.d/; done
fi

# Data: the plex home always exists; the application support directory wherever the unit says.
install -d -o plex -g plex -m 0755 /var/lib/plexmediaserver
data="$SUPPORT_DIR/Plex Media Server"
mkdir -p "$SUPPORT_DIR"
install -d -o plex -g plex -m 0755 "$SUPPORT_DIR" "$data" "$data/Logs" "$data/Cache" "$data/Plug-in Support"
if [ "${SUPPORT_DIR#/var/lib/plexmediaserver/}" != "$SUPPORT_DIR" ]; then chown -R plex:plex /var/lib/plexmediaserver; fi
if [ -f "$STAGE/Preferences.xml" ]; then
  install -o plex -g plex -m "$PREFERENCES_MODE" "$STAGE/Preferences.xml" "$data/Preferences.xml"
fi
if [ "$CERTIFICATE" = 1 ]; then
  head -c 2048 /dev/urandom > "$data/Cache/cert-v2.p12"
  chown plex:plex "$data/Cache/cert-v2.p12"
  chmod 0644 "$data/Cache/cert-v2.p12"
fi
