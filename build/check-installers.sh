#!/usr/bin/env bash
# What each installer in a folder holds, checked the way a person would meet it: unpacked (or
# mounted) as it installs, the app's binary and resources/app.asar where they must be, and that
# binary started with --version, which prints "Reclaim <version>" and exits without a window.
# CI runs it on the release build's installers (.github/workflows/ci.yml); it needs the platform's
# own tools (Linux: dpkg-deb, rpm2cpio, cpio; macOS: hdiutil, ditto; Windows: 7z) and, on Linux, a
# display (xvfb-run) and a kernel that lets Chromium's sandbox start.
#
#   build/check-installers.sh out/installers
set -euo pipefail

dir=${1:?usage: build/check-installers.sh <installers folder>}
# Absolute: some checks run from inside the folders they unpack to.
dir=$(cd "$dir" && pwd)
version=$(cd "$(dirname "$0")/.." && node -p "require('./package.json').version")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "check-installers: $*" >&2
  exit 1
}

# The one file in $dir matching a pattern; none or several is a failure.
one() {
  local found=()
  shopt -s nullglob
  found=("$dir"/$1)
  shopt -u nullglob
  [ "${#found[@]}" -eq 1 ] || fail "expected one $1 in $dir, found ${#found[@]}: ${found[*]:-none}"
  printf '%s\n' "${found[0]}"
}

has() {
  [ -e "$1" ] || fail "missing: $1"
}

# The app inside an installer starts and says which version it is.
starts() {
  local out
  out=$("$1" --version 2>/dev/null | tr -d '\r') || fail "$1 --version failed"
  grep -qx "Reclaim $version" <<<"$out" || fail "$1 --version printed: $out"
  echo "ok: $1 --version: Reclaim $version"
}

# An Electron app folder as installed on Linux or Windows.
app_folder() {
  local root=$1 binary=$2
  has "$root/$binary"
  has "$root/resources/app.asar"
  starts "$root/$binary"
}

case "$(uname -s)" in
  Linux)
    deb=$(one '*.deb')
    dpkg-deb -x "$deb" "$work/deb"
    app_folder "$work/deb/opt/Reclaim" reclaim
    has "$work/deb/opt/Reclaim/chrome-sandbox"
    # The package keeps Chromium's sandbox: AppArmor profile or set-uid chrome-sandbox on install.
    dpkg-deb -e "$deb" "$work/deb-control"
    grep -q 'chrome-sandbox' "$work/deb-control/postinst" || fail "$deb: postinst does not set up chrome-sandbox"
    has "$work/deb/opt/Reclaim/resources/apparmor-profile"

    rpm=$(one '*.rpm')
    mkdir -p "$work/rpm"
    (cd "$work/rpm" && rpm2cpio "$rpm" | cpio -idm --quiet)
    app_folder "$work/rpm/opt/Reclaim" reclaim

    appimage=$(one '*.AppImage')
    chmod +x "$appimage"
    (cd "$work" && "$appimage" --appimage-extract >/dev/null)
    app_folder "$work/squashfs-root" reclaim
    # Its menu entry must not switch the sandbox off on every system (electron-builder's default).
    if grep -l -- '--no-sandbox' "$work"/squashfs-root/*.desktop; then fail "$appimage: desktop entry passes --no-sandbox"; fi
    ;;
  Darwin)
    dmg=$(one '*.dmg')
    hdiutil attach -nobrowse -readonly -mountpoint "$work/dmg" "$dmg" >/dev/null
    trap 'hdiutil detach "$work/dmg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
    # The dmg holds the app itself (not Forge's output folder), and the Applications link to drop it on.
    has "$work/dmg/Reclaim.app/Contents/Resources/app.asar"
    has "$work/dmg/Applications"
    starts "$work/dmg/Reclaim.app/Contents/MacOS/reclaim"

    zip=$(one '*-mac-*.zip')
    ditto -x -k "$zip" "$work/zip"
    has "$work/zip/Reclaim.app/Contents/Resources/app.asar"
    starts "$work/zip/Reclaim.app/Contents/MacOS/reclaim"
    ;;
  MINGW* | MSYS* | CYGWIN*)
    # Both are NSIS executables: the installer carries the app as a 7z archive, the portable exe
    # its files as they are. Unpack them as they unpack themselves, then find the app's folder.
    for kind in setup portable; do
      exe=$(one "*-$kind.exe")
      7z x -y -o"$work/$kind" "$exe" >/dev/null
      archive=$(find "$work/$kind" -name 'app-*.7z' | head -n 1)
      if [ -n "$archive" ]; then 7z x -y -o"$work/$kind/app" "$archive" >/dev/null; fi
      binary=$(find "$work/$kind" -name reclaim.exe | head -n 1)
      [ -n "$binary" ] || fail "$exe holds no reclaim.exe"
      app_folder "$(dirname "$binary")" reclaim.exe
    done
    ;;
  *)
    fail "unknown system $(uname -s)"
    ;;
esac
echo "check-installers: every installer in $dir holds a Reclaim $version that starts"
