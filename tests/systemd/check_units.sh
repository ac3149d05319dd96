#!/usr/bin/env bash
# check_units.sh UNIT_DIR KEYD_BIN AUTHD_BIN: the unit files verify clean
# and their exposure (systemd-analyze security --offline) stays within
# bounds: keyd.service <= 1.0, authd.service <= 2.0. Then weakens a copy
# of keyd.service to show that the check notices.
set -u
src="$1" keyd="$2" authd="$3"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

stage() {  # copy units, pointing ExecStart at the built binaries
  local dir="$1"
  mkdir -p "$dir"
  cp "$src/keyd.socket" "$src/keyd.service" "$src/authd.service" "$dir/"
  sed -i "s|/usr/libexec/orbitnest/keyd|$keyd|; s|/usr/libexec/orbitnest/authd|$authd|" "$dir"/*.service
}

exposure() {  # exposure UNIT_FILE -> number like 0.4
  systemd-analyze security --offline=true --no-pager "$1" 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}

# verify also looks up each Documentation= man page: ours from the source
# tree, as the package installs them (keyd.8 and keydctl.8 beside keyd,
# authd.8 beside authd), the system's from its own MANPATH.
mkdir -p "$work/man/man8"
cp "$src/../keyd/keyd.8" "$src/../keyd/keydctl.8" "$src/../authd/authd.8" "$work/man/man8/"
export MANPATH="$work/man:$(manpath 2>/dev/null)"

stage "$work/units"
out=$(cd "$work/units" && systemd-analyze verify ./keyd.socket ./keyd.service ./authd.service 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
  echo "systemd-analyze verify is not clean (rc=$rc):"; echo "$out"; fail=1
else
  echo "systemd-analyze verify: clean"
fi

check() {  # check UNIT MAX
  local e
  e=$(exposure "$work/units/$1")
  if [ -z "$e" ]; then echo "$1: no exposure reported"; fail=1; return; fi
  if awk -v e="$e" -v m="$2" 'BEGIN { exit !(e <= m) }'; then
    echo "$1: exposure $e (limit $2)"
  else
    echo "$1: exposure $e is above the limit $2"; fail=1
  fi
}
check keyd.service 1.0
check authd.service 2.0

# Self-check: without its network isolation keyd must fail the bound.
stage "$work/weak"
sed -i '/^PrivateNetwork=/d; /^IPAddressDeny=/d; /^RestrictAddressFamilies=/d; /^PrivateDevices=/d' "$work/weak/keyd.service"
weak=$(exposure "$work/weak/keyd.service")
if awk -v e="$weak" 'BEGIN { exit !(e > 1.0) }'; then
  echo "self-check: a weakened keyd.service scores $weak and would fail"
else
  echo "self-check failed: weakened keyd.service still scores $weak"; fail=1
fi
exit $fail
