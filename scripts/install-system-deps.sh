#!/usr/bin/env bash
# Installs, from Debian's packages, the tools the bench builds and tests with, when they are
# missing: the ARM toolchain and newlib, gdb-multiarch, curl, a TFTP client and server (the
# TAP tests put tftpd-hpa on the far side of the bridge), iproute2 and python3-venv. Idempotent: installs nothing when everything is there. Uses sudo only when
# not root. Runs `apt-get update` once before the first install.
set -euo pipefail

# command-or-file  package
needs=(
  "arm-none-eabi-gcc gcc-arm-none-eabi"
  "/usr/lib/arm-none-eabi/newlib libnewlib-arm-none-eabi"
  "gdb-multiarch gdb-multiarch"
  "curl curl"
  "tftp tftp-hpa"
  "/usr/sbin/in.tftpd tftpd-hpa"
  "ip iproute2"
)

missing=()
for pair in "${needs[@]}"; do
  what=${pair%% *}
  pkg=${pair##* }
  if [[ $what == /* ]]; then
    [[ -e $what ]] || missing+=("$pkg")
  else
    command -v "$what" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing ${missing[*]} and no apt-get here: install them by hand" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
