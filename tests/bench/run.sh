#!/usr/bin/env bash
# Benchmarks (a README command): builds, makes a throw-away SoftHSM2 token,
# starts keyd on it, and prints keyd's throughput beside raw C_Sign.
#   ORBITNEST_BENCH_SECONDS  seconds per measurement (default 5)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../config/local/lib.sh"
require_root
install_packages "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}"
BUILD_TARGETS="keyd keydctl authd keyd_bench" build "$ORBITNEST_SRC/build" -DORBITNEST_TESTS=ON

dir=$(mktemp -d /tmp/orbitnest-bench-XXXXXX)
keyd_pid=""
cleanup() { [ -n "$keyd_pid" ] && kill "$keyd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
make_softhsm_token "$dir/hsm" bench root
cat >"$dir/keyd.yaml" <<YAML
socket:
  path: $dir/keyd.sock
hsm:
  module: /usr/lib/softhsm/libsofthsm2.so
  token_label: bench
  pin_file: $dir/hsm/pin
  sessions: 8
state:
  directory: $dir/state
audit:
  file: $dir/audit.log
keyrings:
  admin:
    issuer: https://localhost/admin
  project:
    issuer_prefix: https://localhost/projects/
clients:
  authd_user: root
log:
  level: warning
YAML
SOFTHSM2_CONF="$dir/hsm/softhsm2.conf" "$ORBITNEST_SRC/build/keyd/keyd" --config "$dir/keyd.yaml" &
keyd_pid=$!
for _ in $(seq 1 100); do
  "$ORBITNEST_SRC/build/keyd/keydctl" --socket "$dir/keyd.sock" status >/dev/null 2>&1 && break
  sleep 0.1
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
SOFTHSM2_CONF="$dir/hsm/softhsm2.conf" "$ORBITNEST_SRC/build/tests/bench/keyd_bench" "$dir/keyd.sock" \
  /usr/lib/softhsm/libsofthsm2.so bench "$dir/hsm/pin" "${ORBITNEST_BENCH_SECONDS:-5}"
