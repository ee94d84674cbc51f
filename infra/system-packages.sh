#!/usr/bin/env bash
# Installs the Debian packages the product and its tests use, where they are missing.
# Usage: infra/system-packages.sh COMMAND=PACKAGE ...   (e.g. espeak-ng=espeak-ng redis-server=redis-server)
set -euo pipefail
missing=()
for pair in "$@"; do
  # nginx lives in /usr/sbin, which a user's PATH may not name
  command -v "${pair%%=*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%=*}" ] || missing+=("${pair#*=}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "system-packages: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2; exit 0
fi
echo "system-packages: installing ${missing[*]}" >&2
$sudo apt-get update -qq >/dev/null || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "system-packages: could not install ${missing[*]}; the tests that need them will skip" >&2
