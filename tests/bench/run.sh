#!/usr/bin/env bash
# Benchmarks (a README command): builds, makes a throw-away SoftHSM2 token,
# Postgres cluster and project, starts keyd and authd, and prints keyd's
# throughput beside raw C_Sign, then authd's under wrk (64 connections,
# keep-alive) beside raw Argon2id.
#   ORBITNEST_BENCH_SECONDS  seconds per measurement (default 5)
#   BENCH_POOL               authd worker threads and Postgres connections (32)
#   BENCH_HASHES             passwords.max_concurrent_hashes (0 = the cores)
#   ORBITNEST_BENCH_PGSS     set: print pg_stat_statements' top statements
#   ORBITNEST_BENCH_KEEP_PGLOG  set: keep the cluster log as /tmp/bench-postgres.log
#   ORBITNEST_BENCH_ONLY     a regex: run only the lines whose name matches
#                            (e.g. 'refresh|fixed-rate'; 'keyd' for keyd's table)
#   ORBITNEST_BENCH_HOLD     set: once the sessions are made, print how to
#                            reach the appliance and keep it up until Ctrl-C
#                            (for profiling by hand)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../config/local/lib.sh"
require_root
install_packages "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}"
install_packages wrk libsodium-dev
BUILD_TARGETS="keyd keydctl authd keyd_bench argon2_bench http_load" build "$ORBITNEST_SRC/build" -DORBITNEST_TESTS=ON

dir=$(mktemp -d /tmp/orbitnest-bench-XXXXXX)
keyd_pid=""
authd_pid=""
cleanup() {  # every step, even when a daemon is already gone (set -e would stop at the first failure)
  set +e
  [ -n "$authd_pid" ] && kill "$authd_pid" 2>/dev/null
  [ -n "$keyd_pid" ] && kill "$keyd_pid" 2>/dev/null
  wait 2>/dev/null
  stop_postgres "$dir/pg"
  [ -n "${ORBITNEST_BENCH_KEEP_PGLOG:-}" ] && cp "$dir/pg/postgres.log" /tmp/bench-postgres.log
  rm -rf "$dir"
}
trap cleanup EXIT
trap "exit 130" INT TERM HUP  # so that Ctrl-C (or a closed terminal) still cleans up
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
if [[ "keyd" =~ ${ORBITNEST_BENCH_ONLY:-.} ]]; then
  SOFTHSM2_CONF="$dir/hsm/softhsm2.conf" "$ORBITNEST_SRC/build/tests/bench/keyd_bench" "$dir/keyd.sock" \
    /usr/lib/softhsm/libsofthsm2.so bench "$dir/hsm/pin" "${ORBITNEST_BENCH_SECONDS:-5}"
fi

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
admin:
  listen:
    port: 18444
  issuer: https://localhost/admin
tls:
  cert_file: $dir/tls.crt
  key_file: $dir/tls.key
keyd:
  socket_path: $dir/keyd.sock
database:
  conninfo: host=$dir/pg/run dbname=bench
  pool_size: ${BENCH_POOL:-32}
workers:
  # The shipped defaults (config/authd.yaml); BENCH_POOL tries others.
  threads: ${BENCH_POOL:-32}
  queue_limit: 256
  max_queue_wait_ms: 200
passwords:
  max_concurrent_hashes: ${BENCH_HASHES:-0}
http:
  # Every load generator connects from localhost (up to 512 connections).
  max_connections_per_ip: 4096
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
if [ -n "${ORBITNEST_BENCH_HOLD:-}" ]; then
  echo "holding: base=$base apikey=$key tokens=$dir/tokens authd=$authd_pid keyd=$keyd_pid pg=$dir/pg (Ctrl-C ends)"
  while kill -0 "$authd_pid" 2>/dev/null; do sleep 1; done
  exit 0
fi

# CPU ticks used so far by authd, keyd and this cluster's Postgres
# processes (three numbers): CPU time per request is steadier than
# requests/s on a shared machine, and says where an optimisation went.
server_cpu_ticks() {
  local postmaster a k g p
  postmaster=$(head -1 "$dir/pg/data/postmaster.pid")
  proc_ticks() {
    local t=0 q f
    for q in "$@"; do
      [ -r "/proc/$q/stat" ] || continue
      read -r -a f < <(sed 's/^.*) //' "/proc/$q/stat")
      t=$((t + f[11] + f[12]))
    done
    echo "$t"
  }
  echo "$(proc_ticks "$authd_pid") $(proc_ticks "$keyd_pid") $(proc_ticks "$postmaster" $(pgrep -P "$postmaster"))"
}

run_wrk() {  # run_wrk NAME SCRIPT URL [env...]; sets wrk_rate
  local name="$1" script="$2" url="$3"; shift 3
  local out before after requests
  wrk_rate=0
  [[ "$name" =~ ${ORBITNEST_BENCH_ONLY:-.} ]] || return 0
  before=$(server_cpu_ticks)
  out=$(env "$@" WRK_THREADS=2 APIKEY="$key" BENCH_WRK_DIR="$bench/wrk" wrk -t2 -c64 -d"${secs}s" --timeout 10s -s "$bench/wrk/$script" "$url" 2>&1) ||
    { echo "| $name | wrk failed: $(tr '\n' ' ' <<<"$out") | | |"; return 0; }
  after=$(server_cpu_ticks)
  wrk_rate=$(sed -n 's/^Requests\/sec: *\([0-9]*\).*/\1/p' <<<"$out")
  requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  # Requests/s as wrk counts them, and the 2xx ones when some were refused.
  local rate non2xx
  rate=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
  non2xx=$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$out")
  if [ "${non2xx:-0}" -gt 0 ]; then
    rate="$rate ($(awk -v r="$requests" -v n="$non2xx" -v s="$secs" 'BEGIN { printf "%.1f", (r - n) / s }') 2xx)"
  fi
  # Server CPU per request: the total, then authd / keyd / Postgres.
  local -a b a
  read -r -a b <<<"$before"
  read -r -a a <<<"$after"
  local per=$((1000000 / $(getconf CLK_TCK))) n=$((requests > 0 ? requests : 1))
  printf '| %s | %s | %s (%s / %s / %s) | %s |\n' "$name" "$rate" \
    "$(( (a[0] + a[1] + a[2] - b[0] - b[1] - b[2]) * per / n ))" "$(( (a[0] - b[0]) * per / n ))" \
    "$(( (a[1] - b[1]) * per / n ))" "$(( (a[2] - b[2]) * per / n ))" "$(grep '^p50=' <<<"$out")"
}
echo
echo "| authd, wrk -t2 -c64, keep-alive | requests/s | server CPU µs/request (authd / keyd / Postgres) | latency |"
echo "|---|---:|---:|---|"
run_wrk "refresh (rotation + keyd ES256 signature)" refresh.lua "$base/token?grant_type=refresh_token" TOKENS_FILE="$dir/tokens"
refresh_capacity=$wrk_rate
run_wrk "GET /user (local JWKS check + session lookup)" get.lua "$base/user" BEARER="$access"
run_wrk "GET /.well-known/jwks.json" get.lua "$base/.well-known/jwks.json"
run_wrk "GET /settings (TLS + HTTP + routing only)" get.lua "$base/settings"
if [[ "fixed-rate" =~ ${ORBITNEST_BENCH_ONLY:-.} ]]; then
  # Open-loop load (tests/bench/http_load.cpp): latency counts from each
  # request's scheduled time. Fresh sessions come from OTP sign-ins made
  # here; every run hands the live end of its refresh chains to the next.
  load() { "$ORBITNEST_SRC/build/tests/bench/http_load" "$base" "$key" "$@"; }
  n=$((secs * 1500))
  for i in $(seq 1 "$n"); do echo "otp$i@bench.test"; done >"$dir/addresses"
  "${authd[@]}" project settings bench otp_resend_seconds=0 >/dev/null
  echo
  echo "| authd at a fixed offered rate (latency from the scheduled time) | result |"
  echo "|---|---|"
  echo "| POST /otp: code as keyd MAC, pending sign-up, $n addresses | $(load 2000 "$secs" 64 otp "$dir/addresses") |"
  : >"$dir/chain0"
  echo "| POST /verify type=email: code check, user + session + ES256 token | $(HTTP_LOAD_SAVE="$dir/chain0" load 2000 "$secs" 64 verify "$dir/addresses") |"
  # Measure the refreshes in a steady state, not behind the autovacuum and
  # checkpoint that 7,500 fresh sign-ups set off.
  psql_admin "$dir/pg" -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT"
  step=0
  fixed_refresh() {  # fixed_refresh LABEL RATE CONNECTIONS
    : >"$dir/chain$((step + 1))"
    echo "| $1 | $(HTTP_LOAD_SAVE="$dir/chain$((step + 1))" load "$2" "$secs" "$3" refresh "$dir/chain$step") |"
    step=$((step + 1))
  }
  echo "| control: GET /settings at 1,000/s, 64 connections (TLS + HTTP only) | $(load 1000 "$secs" 64 get /settings) |"
  echo "| GET /.well-known/jwks.json at 20,000/s, 64 connections | $(load 20000 "$secs" 64 get /.well-known/jwks.json) |"
  fixed_refresh "refresh at 1,000/s, 64 connections" 1000 64
  fixed_refresh "refresh at 2,000/s, 64 connections" 2000 64
  # A sign-in flood beside refreshes: hashing is admission-controlled, so
  # the refreshes should keep their latency.
  env WRK_THREADS=2 APIKEY="$key" BENCH_WRK_DIR="$bench/wrk" EMAIL=pw@bench.test PASSWORD="$pw" \
    wrk -t2 -c64 -d"$((secs + 1))s" -s "$bench/wrk/password.lua" "$base/token?grant_type=password" >/dev/null 2>&1 &
  flood=$!
  sleep 0.5
  fixed_refresh "refresh at 1,000/s during a 64-connection password sign-in flood" 1000 64
  wait "$flood" || true
  if [ "${refresh_capacity:-0}" -gt 0 ]; then
    fixed_refresh "overload: refresh at 2 x $refresh_capacity/s (wrk's rate), 512 connections" \
      $((refresh_capacity * 2)) 512
  fi
fi

run_wrk "password sign-in (Argon2id m=19 MiB t=2 p=1)" password.lua "$base/token?grant_type=password" EMAIL=pw@bench.test PASSWORD="$pw"
if [ -n "${ORBITNEST_BENCH_PGSS:-}" ]; then  # where Postgres spent its time
  psql_admin "$dir/pg" -d bench -c "SELECT calls, round(total_exec_time::numeric / calls, 3) AS ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12"
fi
[[ "password sign-in" =~ ${ORBITNEST_BENCH_ONLY:-.} ]] || exit 0
raw=$("$ORBITNEST_SRC/build/tests/bench/argon2_bench" 19456 2 1 "$(nproc)" "$secs")
echo "| raw Argon2id hashes (Botan, as authd), $(nproc) threads, same parameters | $raw | | |"
sodium=$("$ORBITNEST_SRC/build/tests/bench/argon2_bench" 19456 2 1 "$(nproc)" "$secs" sodium)
echo "| raw Argon2id hashes (libsodium, for comparison), $(nproc) threads | $sodium | | |"
