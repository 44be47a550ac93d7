#!/usr/bin/env bash
# Installs the Debian packages a command needs, only when they are missing.
# Usage: scripts/system-packages.sh test|bench
set -euo pipefail
want=()
have_font() { command -v fc-list >/dev/null && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; }
case "${1:-test}" in
  test)
    [ -x /usr/bin/chromium ] || want+=(chromium)
    have_font || want+=(fonts-noto-cjk)
    command -v ogrinfo >/dev/null || want+=(gdal-bin)
    # PostGIS: the same query tests run against it (scripts/pg-local.ts starts a private cluster).
    [ -x /usr/lib/postgresql/15/bin/initdb ] || want+=(postgresql-15)
    [ -f /usr/share/postgresql/15/extension/postgis.control ] || want+=(postgresql-15-postgis-3)
    # mosquitto: the telemetry tests run against it as well as the embedded broker.
    [ -x /usr/sbin/mosquitto ] || want+=(mosquitto)
    ;;
  bench)
    [ -x /usr/bin/chromium ] || want+=(chromium)
    command -v ogr2ogr >/dev/null || want+=(gdal-bin)
    [ -x /usr/sbin/nginx ] || want+=(nginx-light)
    command -v wrk >/dev/null || want+=(wrk)
    [ -x /usr/lib/postgresql/15/bin/initdb ] || want+=(postgresql-15)
    [ -f /usr/share/postgresql/15/extension/postgis.control ] || want+=(postgresql-15-postgis-3)
    [ -x /usr/sbin/mosquitto ] || want+=(mosquitto)
    ;;
  *) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac
[ ${#want[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${want[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Need root to install ${want[*]}: run 'apt-get install -y ${want[*]}' as root, then try again." >&2
    exit 1
  fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
