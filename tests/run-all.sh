#!/usr/bin/env bash
# The README's test command: on a fresh Debian 12 machine, as root, installs
# what is missing, builds (normal, ASan+UBSan, and the libFuzzer targets),
# starts a throw-away Postgres cluster, then runs every test:
#   1. unit tests under ASan+UBSan
#   2. each fuzzer for a bounded time
#   3. all tests (unit, integration, hardening, systemd) on the normal build
#   4. the Debian package: a Release build with Debian's default flags,
#      cpack -G DEB, lintian, install/upgrade/remove/purge in a clean root
#   5. a scan of every log of the run for the secrets the tests used
# Exits non-zero on any failure.
#   ORBITNEST_FUZZ_SECONDS  time per fuzzer (default 20)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../config/local/lib.sh"

require_root
install_packages "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${PACKAGE_TEST_PACKAGES[@]}" "${METRICS_TEST_PACKAGES[@]}" binutils clang-14 libclang-rt-14-dev opensc
make_users

SRC="$ORBITNEST_SRC"
RUN_DIR=$(mktemp -d /tmp/orbitnest-test-run-XXXXXX)
chmod 0755 "$RUN_DIR"
export ORBITNEST_TEST_LOGDIR="$RUN_DIR/logs"
mkdir -p "$ORBITNEST_TEST_LOGDIR"
PG_DIR="$RUN_DIR/pg"
mkdir -p "$PG_DIR"
cleanup() {
  stop_postgres "$PG_DIR"
  if [ "${ORBITNEST_TEST_KEEP:-}" = "" ]; then rm -rf "$RUN_DIR"; else echo "kept $RUN_DIR" >&2; fi
}
trap cleanup EXIT

build "$SRC/build" -DORBITNEST_TESTS=ON
build "$SRC/build-asan" -DORBITNEST_TESTS=ON -DORBITNEST_SANITIZE=ON
say "building the fuzzers (clang, libFuzzer)"
cmake -S "$SRC" -B "$SRC/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORBITNEST_FUZZ=ON -DORBITNEST_SANITIZE=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$SRC/build-fuzz" -j "$(nproc)" --target orbitnest_fuzzers -- --no-print-directory >/dev/null ||
  die "fuzzer build failed (rerun: cmake --build $SRC/build-fuzz --target orbitnest_fuzzers)"

ORBITNEST_PG_FSYNC=off start_postgres "$PG_DIR"
psql_admin "$PG_DIR" -c "DO \$\$ BEGIN CREATE ROLE root SUPERUSER LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
# The client roles and the RPC endpoint's login role, as the start command
# makes them: the e2e appliances log in as it (the C++ fixtures make it too).
make_client_roles "$PG_DIR"
export ORBITNEST_TEST_PGHOST="$PG_DIR/run"

failed=0
results=()

say "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
if ! (cd "$SRC/build-asan" && ctest -L unit -j "$(nproc)" --output-on-failure) | tee "$RUN_DIR/ctest-asan.txt"; then
  failed=1
fi
results+=("$(grep -E 'tests passed' "$RUN_DIR/ctest-asan.txt" | tail -n 1)")

say "fuzzing, ${ORBITNEST_FUZZ_SECONDS:-20} s per target"
for fuzzer in "$SRC"/build-fuzz/tests/fuzz/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus="$RUN_DIR/corpus-$name"
  mkdir -p "$corpus"
  if "$fuzzer" -max_total_time="${ORBITNEST_FUZZ_SECONDS:-20}" -timeout=5 -rss_limit_mb=2048 "$corpus" \
    "$SRC/tests/fuzz/corpus/${name#fuzz_}" >"$RUN_DIR/$name.log" 2>&1; then
    echo "$name: $(grep -Eo 'Done [0-9]+ runs' "$RUN_DIR/$name.log" | tail -n 1), no crash"
  else
    echo "$name: FAILED"; tail -n 40 "$RUN_DIR/$name.log"; failed=1
  fi
done

say "end-to-end tests: @supabase/auth-js and jose against the real appliance"
(cd "$SRC/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in tests/e2e"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$RUN_DIR/e2e-tls.key" -out "$RUN_DIR/e2e-tls.crt" 2>/dev/null
if ! (cd "$SRC/tests/e2e" && ORBITNEST_BUILD="$SRC/build" ORBITNEST_E2E_TLS_CERT="$RUN_DIR/e2e-tls.crt" \
  ORBITNEST_E2E_TLS_KEY="$RUN_DIR/e2e-tls.key" NODE_EXTRA_CA_CERTS="$RUN_DIR/e2e-tls.crt" \
  node --test --test-concurrency=1 --test-reporter=spec .) 2>&1 | tee "$RUN_DIR/e2e.txt"; then
  failed=1
fi
e2e_pass=$(sed -n 's/^.* pass \([0-9]*\)$/\1/p' "$RUN_DIR/e2e.txt" | tail -n 1)
e2e_fail=$(sed -n 's/^.* fail \([0-9]*\)$/\1/p' "$RUN_DIR/e2e.txt" | tail -n 1)
if [ -z "$e2e_pass" ]; then failed=1; e2e_pass=0; e2e_fail=${e2e_fail:-1}; fi
[ "${e2e_fail:-0}" = 0 ] || failed=1

say "all tests on the normal build"
if ! (cd "$SRC/build" && ctest -j "$(nproc)" --output-on-failure) | tee "$RUN_DIR/ctest.txt"; then
  failed=1
fi
results+=("$(grep -E 'tests passed' "$RUN_DIR/ctest.txt" | tail -n 1)")

say "the Debian package: Release build with dpkg-buildflags, cpack -G DEB, lintian, a clean Debian root"
# The packager's build: Release, Debian's default flags (CPPFLAGS folded into
# the compiler flags, as debhelper does for CMake), no test binaries; its
# only test is the package test (tests/package, label package).
if (
  cd "$SRC"
  CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
  CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
  LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
  export CFLAGS CXXFLAGS LDFLAGS
  build "$SRC/build-pkg" -DCMAKE_BUILD_TYPE=Release -DORBITNEST_TESTS=OFF -DORBITNEST_PACKAGE_TEST=ON
); then
  if ! (cd "$SRC/build-pkg" && ctest -L package --output-on-failure) | tee "$RUN_DIR/ctest-package.txt"; then
    failed=1
  fi
  results+=("$(grep -E 'tests passed' "$RUN_DIR/ctest-package.txt" | tail -n 1)")
else
  echo "the Release build with Debian's flags failed"; failed=1
fi

say "scanning every log of this run for the secrets the tests used"
cp "$PG_DIR/postgres.log" "$ORBITNEST_TEST_LOGDIR/postgres.log" 2>/dev/null || true
secrets="$ORBITNEST_TEST_LOGDIR/secrets.list"
if [ ! -s "$secrets" ]; then
  echo "no secrets were recorded: the scan would prove nothing"; failed=1
else
  leaks=0
  while IFS= read -r s; do
    [ -n "$s" ] || continue
    if grep -rlF --exclude=secrets.list -- "$s" "$ORBITNEST_TEST_LOGDIR" >/dev/null; then
      echo "a secret used by the tests appears in: $(grep -rlF --exclude=secrets.list -- "$s" "$ORBITNEST_TEST_LOGDIR" | tr '\n' ' ')"
      leaks=1
    fi
  done <"$secrets"
  n_logs=$(find "$ORBITNEST_TEST_LOGDIR" -name '*.log' | wc -l)
  if [ $leaks = 0 ]; then
    echo "no secret found in $n_logs log files ($(sort -u "$secrets" | wc -l) secrets checked)"
  else
    failed=1
  fi
fi

passed_total=${e2e_pass:-0} failed_total=${e2e_fail:-0}
for r in "${results[@]}"; do
  # "100% tests passed, 0 tests failed out of 53"
  f=$(sed -n 's/.* \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' <<<"$r")
  t=$(sed -n 's/.* \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' <<<"$r")
  [ -n "$t" ] || { failed=1; continue; }
  passed_total=$((passed_total + t - f)); failed_total=$((failed_total + f))
done
if [ $failed != 0 ] && [ $failed_total = 0 ]; then failed_total=1; fi
echo "$passed_total passed, $failed_total failed"
exit $failed
