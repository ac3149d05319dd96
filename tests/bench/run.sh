#!/usr/bin/env bash
# Benchmarks (a README command): builds, makes a throw-away SoftHSM2 token,
# Postgres cluster and project, starts keyd and authd, and prints keyd's
# throughput beside raw C_Sign, then authd's under wrk (64 connections,
# keep-alive) beside raw Argon2id.
#   ORBITNEST_BENCH_SECONDS  seconds per measurement (default 5)
#   ORBITNEST_BENCH_ONLY     run only the authd lines whose name holds this
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../config/local/lib.sh"
require_root
install_packages "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}"
install_packages wrk
BUILD_TARGETS="keyd keydctl authd keyd_bench argon2_bench" build "$ORBITNEST_SRC/build" -DORBITNEST_TESTS=ON

dir=$(mktemp -d /tmp/orbitnest-bench-XXXXXX)
keyd_pid=""
authd_pid=""
cleanup() {
  [ -n "$authd_pid" ] && kill "$authd_pid" 2>/dev/null
  [ -n "$keyd_pid" ] && kill "$keyd_pid" 2>/dev/null
  wait 2>/dev/null
  stop_postgres "$dir/pg"
  rm -rf "$dir"
}
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

secs="${ORBITNEST_BENCH_SECONDS:-5}"
bench="$ORBITNEST_SRC/tests/bench"
mkdir -p "$dir/pg"
chmod 0755 "$dir"
[ -n "${ORBITNEST_BENCH_PGSS:-}" ] && export ORBITNEST_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements"
start_postgres "$dir/pg"
psql_admin "$dir/pg" -c "CREATE DATABASE bench"
[ -n "${ORBITNEST_BENCH_PGSS:-}" ] && psql_admin "$dir/pg" -d bench -c "CREATE EXTENSION pg_stat_statements"
psql_admin "$dir/pg" -c "DO \$\$ BEGIN CREATE ROLE root SUPERUSER LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost" -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
chmod 0600 "$dir/tls.key"
cat >"$dir/authd.yaml" <<YAML
listen:
  port: 18443
tls:
  cert_file: $dir/tls.crt
  key_file: $dir/tls.key
keyd:
  socket_path: $dir/keyd.sock
database:
  conninfo: host=$dir/pg/run dbname=bench
  pool_size: ${BENCH_POOL:-48}
workers:
  # Many workers, because most of a refresh's time is waiting for the WAL
  # flush: more commits in flight share each flush (group commit).
  threads: ${BENCH_POOL:-48}
  queue_limit: 512
log:
  level: warning
YAML
authd=("$ORBITNEST_SRC/build/authd/authd" --config "$dir/authd.yaml")
"${authd[@]}" project create bench --debug >"$dir/project.txt"
"${authd[@]}" project settings bench ip_requests_per_hour=10000000 sends_per_address_per_hour=1000 >/dev/null
key=$(sed -n 's/^  publishable key: *//p' "$dir/project.txt")
"${authd[@]}" 2>"$dir/authd.log" &
authd_pid=$!
base="https://localhost:18443/projects/bench/auth/v1"
for _ in $(seq 1 100); do curl -skf "https://localhost:18443/auth/v1/health" >/dev/null && break; sleep 0.1; done
api() { curl -sk -H "apikey: $key" -H "Content-Type: application/json" "$@"; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

say "making 128 sessions (debug project: code 1234)"
: >"$dir/tokens"
for i in $(seq 1 128); do
  api -X POST "$base/signup" -d "{\"email\":\"u$i@bench.test\"}" >/dev/null
  answer=$(api -X POST "$base/verify" -d "{\"type\":\"signup\",\"email\":\"u$i@bench.test\",\"token\":\"1234\"}")
  field refresh_token <<<"$answer" >>"$dir/tokens"
  grep -q refresh_token <<<"$answer" || { echo "verify failed: $answer" >&2; break; }
done
pw="bench-password-$(random_secret)"
api -X POST "$base/signup" -d "{\"email\":\"pw@bench.test\",\"password\":\"$pw\"}" >/dev/null
echo "sessions made: $(grep -c . "$dir/tokens") of 128"
access=$(api -X POST "$base/verify" -d "{\"type\":\"signup\",\"email\":\"pw@bench.test\",\"token\":\"1234\"}" | field access_token)

run_wrk() {  # run_wrk NAME SCRIPT URL [env...]
  local name="$1" script="$2" url="$3"; shift 3
  local out
  # ORBITNEST_BENCH_ONLY=word: run only the lines whose name holds it.
  [[ "$name" == *"${ORBITNEST_BENCH_ONLY:-}"* ]] || return 0
  out=$(env "$@" WRK_THREADS=2 APIKEY="$key" BENCH_WRK_DIR="$bench/wrk" wrk -t2 -c64 -d"${secs}s" -s "$bench/wrk/$script" "$url" 2>&1) ||
    { echo "| $name | wrk failed: $(tr '\n' ' ' <<<"$out") | |"; return 0; }
  printf '| %s | %s | %s |\n' "$name" "$(sed -n 's/^Requests\/sec: *//p' <<<"$out")" "$(grep '^p50=' <<<"$out")"
}
echo
echo "| authd, wrk -t2 -c64, keep-alive | requests/s | latency |"
echo "|---|---:|---|"
run_wrk "refresh (rotation + keyd ES256 signature)" refresh.lua "$base/token?grant_type=refresh_token" TOKENS_FILE="$dir/tokens"
run_wrk "GET /user (local JWKS check + session lookup)" get.lua "$base/user" BEARER="$access"
run_wrk "GET /.well-known/jwks.json" get.lua "$base/.well-known/jwks.json"
run_wrk "GET /settings (TLS + HTTP + routing only)" get.lua "$base/settings"
run_wrk "password sign-in (Argon2id m=19 MiB t=2 p=1)" password.lua "$base/token?grant_type=password" EMAIL=pw@bench.test PASSWORD="$pw"
if [ -n "${ORBITNEST_BENCH_PGSS:-}" ]; then  # where Postgres spent its time
  psql_admin "$dir/pg" -d bench -c "SELECT calls, round(total_exec_time::numeric / calls, 3) AS ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12"
fi
[[ "password sign-in" == *"${ORBITNEST_BENCH_ONLY:-}"* ]] || exit 0
raw=$("$ORBITNEST_SRC/build/tests/bench/argon2_bench" 19456 2 1 "$(nproc)" "$secs")
echo "| raw Argon2id hashes, $(nproc) threads, same parameters | $raw | |"
