# Shared set-up for the two README commands (config/local/run.sh and
# tests/run-all.sh): packages, build, users, and the local state (SoftHSM2
# token, Postgres cluster, TLS certificate, configs). Sourced, not run.
# Every step is idempotent: a second run reuses what the first one made.

ORBITNEST_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KEYD_USER=orbitnest-keyd
AUTHD_USER=orbitnest-authd
# The login role of authd's RPC endpoint: it owns nothing and may only
# switch to the client roles (README, "Roles an operator creates").
RPC_ROLE=orbitnest_rpc

BUILD_PACKAGES=(cmake make g++ pkg-config libbotan-2-dev libboost1.81-dev libboost-json1.81-dev
  libpqxx-dev libfido2-dev libyaml-cpp-dev libsystemd-dev libcurl4-openssl-dev libssl-dev
  libgtest-dev libp11-kit-dev libidn2-dev libqrencode-dev libcbor-dev prometheus-cpp-dev)
RUNTIME_PACKAGES=(softhsm2 postgresql openssl curl util-linux passwd systemd)
# The Debian package's test (tests/package): dpkg-buildflags and dpkg-shlibdeps, lintian, a clean root.
PACKAGE_TEST_PACKAGES=(dpkg-dev lintian mmdebstrap)
# The end-to-end tests' browser (tests/e2e/passkeys.test.mjs drives it with playwright-core).
E2E_PACKAGES=(chromium)
# promtool, which the metrics test checks authd's exposition with.
METRICS_TEST_PACKAGES=(prometheus)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || die "run this as root (sudo $0): it installs packages and creates service users"
}

# install_packages PKG...: apt-get install of whatever is missing.
install_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR [cmake args...]: configure and build everything, or only the
# targets named in $BUILD_TARGETS (space-separated).
build() {
  local dir="$1"; shift
  say "building in $dir"
  cmake -S "$ORBITNEST_SRC" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  local targets=()
  local t
  for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$(nproc)" "${targets[@]}" -- --no-print-directory >/dev/null || {
    cmake --build "$dir" -j 1 "${targets[@]}" -- --no-print-directory 2>&1 | tail -n 60 >&2 || true
    die "build failed"
  }
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  echo "$d"
}

# make_users: the fixed service users of systemd/sysusers.d, for local runs.
make_users() {
  getent group "$AUTHD_USER" >/dev/null || groupadd --system "$AUTHD_USER"
  getent group "$KEYD_USER" >/dev/null || groupadd --system "$KEYD_USER"
  id "$KEYD_USER" >/dev/null 2>&1 ||
    useradd --system --gid "$KEYD_USER" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$KEYD_USER"
  id "$AUTHD_USER" >/dev/null 2>&1 ||
    useradd --system --gid "$AUTHD_USER" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$AUTHD_USER"
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24; }

# make_softhsm_token DIR LABEL OWNER: a SoftHSM2 token in DIR/tokens with a
# random user PIN in DIR/pin (0600, OWNER) and DIR/softhsm2.conf. The SO PIN
# is random and not kept: nobody needs it for this local token.
make_softhsm_token() {
  local dir="$1" label="$2" owner="$3"
  mkdir -p "$dir/tokens"
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
    "$dir" >"$dir/softhsm2.conf"
  if [ ! -s "$dir/pin" ]; then
    (umask 077; random_secret >"$dir/pin")
    SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label "$label" \
      --pin "$(cat "$dir/pin")" --so-pin "$(random_secret)" >/dev/null
  fi
  chown -R "$owner:" "$dir"
  chmod 0700 "$dir" "$dir/tokens"
  chmod 0600 "$dir/pin"
}

# make_tls_cert DIR OWNER: self-signed P-256 certificate for localhost.
make_tls_cert() {
  local dir="$1" owner="$2"
  mkdir -p "$dir"
  if [ ! -s "$dir/tls.key" ]; then
    (umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
      -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
      -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null)
  fi
  chown "$owner:" "$dir/tls.key"
  chmod 0600 "$dir/tls.key"
  chmod 0644 "$dir/tls.crt"
}

# write_pg_auth DATA: peer authentication only, through one map: every OS
# user logs in as the role of its own name; authd's user, and root (who runs
# the tests), also as $RPC_ROLE, the RPC endpoint's restricted role.
write_pg_auth() {
  local data="$1"
  printf '# Written by config/local/lib.sh.\nlocal all all peer map=orbitnest\n' >"$data/pg_hba.conf"
  printf '# Written by config/local/lib.sh.\norbitnest /^(.*)$ \\1\norbitnest %s %s\norbitnest root %s\n' \
    "$AUTHD_USER" "$RPC_ROLE" "$RPC_ROLE" >"$data/pg_ident.conf"
  chown postgres: "$data/pg_hba.conf" "$data/pg_ident.conf"
  chmod 0600 "$data/pg_hba.conf" "$data/pg_ident.conf"
}

# make_client_roles DIR: the cluster-wide client roles anon, authenticated,
# service_role (BYPASSRLS), and $RPC_ROLE (LOGIN NOINHERIT, owning nothing)
# granted exactly those three. authd's own role needs none of them: it
# never switches role. Idempotent.
make_client_roles() {
  local dir="$1" role extra
  for role in anon authenticated service_role; do
    extra=""; [ "$role" = service_role ] && extra=" BYPASSRLS"
    psql_admin "$dir" -c "DO \$\$ BEGIN CREATE ROLE $role NOLOGIN NOINHERIT$extra; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
  done
  psql_admin "$dir" -c "DO \$\$ BEGIN CREATE ROLE $RPC_ROLE LOGIN NOINHERIT; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
  psql_admin "$dir" -c "SET client_min_messages = warning; GRANT anon, authenticated, service_role TO $RPC_ROLE"
}

# start_postgres DIR: a cluster in DIR/data owned by the postgres user,
# listening only on a Unix socket in DIR/run. Initialised on first call.
start_postgres() {
  local dir="$1" bin
  bin=$(pg_bindir)
  id postgres >/dev/null 2>&1 || die "the postgres user is missing (is the postgresql package installed?)"
  mkdir -p "$dir/run"
  chown postgres: "$dir" "$dir/run"
  chmod 0755 "$dir/run"
  if [ ! -s "$dir/data/PG_VERSION" ]; then
    say "initialising a Postgres cluster in $dir/data"
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A peer -U postgres --no-instructions >/dev/null
  fi
  write_pg_auth "$dir/data"
  if runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
  else
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir/run -c max_connections=300 -c fsync=${ORBITNEST_PG_FSYNC:-on} ${ORBITNEST_PG_OPTIONS:-}" start >/dev/null ||
      { tail -n 20 "$dir/postgres.log" >&2; die "Postgres did not start"; }
  fi
}

stop_postgres() {
  local dir="$1"
  runuser -u postgres -- "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# psql_admin DIR SQL...: run SQL as the cluster's superuser.
psql_admin() {
  local dir="$1"; shift
  runuser -u postgres -- psql -h "$dir/run" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}
