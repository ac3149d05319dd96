#!/usr/bin/env bash
# check_package.sh BUILD_DIR SOURCE_DIR: the Debian package, end to end.
#   1. cpack -G DEB in BUILD_DIR: the package under test (VERSION-REVISION),
#      and the same with revision 0~previous, standing in for the previous
#      version (only the version differs: the upgrade path is what is tested);
#   2. lintian on the package: no error and no warning (the tags it accepts
#      are overridden, each with its reason, in systemd/debian/lintian-overrides);
#   3. a clean Debian 12 root (mmdebstrap --variant=apt from this machine's
#      Debian mirror) with the package's Depends installed by apt, and in it:
#      install the previous version as in an image build (no systemd
#      running); upgrade to this one, as on a running system, over a changed
#      conffile and keyd state; dpkg -r (state and config kept); dpkg --purge
#      (state gone, users kept); install again on a "running" system. After
#      each install: files, owners, modes, conffiles, users, state folders,
#      enabled units, systemd-analyze verify inside the root, the programs
#      run there, and nothing started.
# Needs root, mmdebstrap, lintian, dpkg-dev. Exit 0 only if every check passed.
#   ORBITNEST_TEST_KEEP=1 keeps the work folder (root, packages, logs).
set -u
build="$(cd "$1" && pwd)" src="$(cd "$2" && pwd)"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
step() { printf '== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "check_package.sh: needs root (chroot, dpkg in the root)"; exit 1; }
for tool in cpack mmdebstrap lintian dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "check_package.sh: $tool is missing"; exit 1; }
done

work=$(mktemp -d /tmp/orbitnest-package-XXXXXX)
root="$work/root"
cleanup() {
  local m
  # Anything still mounted in the root (deepest first), then the folder.
  for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  if [ -n "${ORBITNEST_TEST_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- 1. the packages -------------------------------------------------------
step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/new" >"$work/cpack-new.log" 2>&1) || { cat "$work/cpack-new.log"; exit 1; }
(cd "$build" && cpack -G DEB -B "$work/old" -D CPACK_DEBIAN_PACKAGE_RELEASE=0~previous >"$work/cpack-old.log" 2>&1) ||
  { cat "$work/cpack-old.log"; exit 1; }
new_deb=$(ls "$work"/new/*.deb) old_deb=$(ls "$work"/old/*.deb)
new_version=$(dpkg-deb -f "$new_deb" Version) old_version=$(dpkg-deb -f "$old_deb" Version)
pkg=$(dpkg-deb -f "$new_deb" Package)
echo "$(basename "$new_deb") ($(du -k "$new_deb" | cut -f1) KiB), previous: $old_version"
dpkg --compare-versions "$old_version" lt "$new_version" || bad "the previous version $old_version is not older than $new_version"
dpkg-deb -I "$new_deb" | sed -n '/^ Package:/,$p'

# --- 2. lintian ------------------------------------------------------------
step "lintian"
# Everything, overridden tags with their reasons too (--show-overrides would
# make --fail-on count those: the verdict is read from the tags instead).
lintian --fail-on none --display-info --show-overrides "$new_deb" >"$work/lintian.txt" 2>&1
rc=$?
grep -v '^N: ' "$work/lintian.txt"
[ $rc = 0 ] || bad "lintian did not run (rc $rc)"
grep -Eq '^[EW]: ' "$work/lintian.txt" && bad "lintian reports errors or warnings"
# The overrides must still match something: a stale override hides nothing.
grep -q 'unused-override' "$work/lintian.txt" && bad "lintian: an override matches no tag any more"

# --- 3. a clean Debian 12 root ---------------------------------------------
# This machine's Debian sources (one-line or deb822), codename suites only:
# the root comes from the same mirror, whatever else (npm, vendors) is set up.
. /etc/os-release
codename="${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"
mapfile -t sources < <(
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && awk -v c="$codename" '
      $1 == "deb" { i = 2; opt = ""; if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opt = opt " " $i; i++ } opt = opt " " $i; i++ }
                    if ($(i + 1) ~ "^" c "(-updates|-security)?$") { line = "deb" opt; for (; i <= NF; i++) line = line " " $i; print line } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk -v c="$codename" '
      function flush(   n, u, s, i, j, us, ss, opt) {
        if (types ~ /(^| )deb( |$)/ && enabled != "no") {
          n = split(uris, us, " "); split(suites, ss, " "); opt = ""
          if (signed ~ /^\//) opt = " [signed-by=" signed "]"
          for (i = 1; i <= n; i++) for (j in ss) if (ss[j] ~ "^" c "(-updates|-security)?$") print "deb" opt " " us[i] " " ss[j] " " comps
        }
        types = uris = suites = comps = signed = enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^[A-Za-z-]+:/ { k = tolower($1); sub(/:$/, "", k); $1 = ""; v = substr($0, 2)
        if (k == "types") types = v; else if (k == "uris") uris = v; else if (k == "suites") suites = v
        else if (k == "components") comps = v; else if (k == "signed-by") signed = v; else if (k == "enabled") enabled = v }
      END { flush() }' "$f"
  done
)
[ ${#sources[@]} -gt 0 ] || { echo "check_package.sh: no Debian $codename source in /etc/apt"; exit 1; }
printf 'mirror: %s\n' "${sources[@]}"

# The package's Depends (first of each alternative, without versions: dpkg
# checks the versions when it installs), systemd-analyze's man page lookup
# (man-db) and the HSM module keyd.yaml names (softhsm2, a Recommends).
depends=$(dpkg-deb -f "$new_deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | grep -v '^$' | paste -sd,)
echo "Depends: $depends"
step "mmdebstrap --variant=apt $codename"
start=$(date +%s)
if ! mmdebstrap --variant=apt --include="$depends,man-db,softhsm2" "$codename" "$root" "${sources[@]}" \
  >"$work/mmdebstrap.log" 2>&1; then
  tail -n 40 "$work/mmdebstrap.log"; echo "FAIL: mmdebstrap"; exit 1
fi
echo "root made in $(( $(date +%s) - start )) s"
# As while an image is built: /proc in the root (systemd-tmpfiles and
# systemd-analyze use it).
mount -t proc proc "$root/proc" || { echo "FAIL: cannot mount /proc in the root"; exit 1; }

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

# systemctl as the maintainer scripts see it: every call is logged; what
# needs no running manager (preset, is-enabled, --root=) goes to the real
# one, offline, the rest (start, stop, daemon-reload, ...) only leaves its
# line and "succeeds" (is-active: every unit "runs").
mkdir -p "$root/usr/local/sbin"
cat >"$root/usr/local/sbin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>/var/log/systemctl-calls
case " $* " in
  *" --root="* | *" preset "* | *" is-enabled "*) SYSTEMD_OFFLINE=1 exec /usr/bin/systemctl "$@" ;;
esac
exit 0
EOF
chmod 0755 "$root/usr/local/sbin/systemctl"
: >"$root/var/log/systemctl-calls"
calls_since() { tail -n +"$(( $1 + 1 ))" "$root/var/log/systemctl-calls"; }
calls_now() { wc -l <"$root/var/log/systemctl-calls"; }

unitdir=$(dpkg-deb -c "$new_deb" | awk '{ print $6 }' | sed -n 's|^\.\(.*\)/keyd\.socket$|\1|p')
[ -n "$unitdir" ] || bad "no keyd.socket in the package"

# mode_is PATH MODE OWNER:GROUP
mode_is() {
  local got
  got=$(in_root stat -c '%a %U:%G' "$1" 2>/dev/null) || { bad "$1 is missing"; return; }
  [ "$got" = "$2 $3" ] || bad "$1 is $got, wanted $2 $3"
}

# check_installed VERSION: everything the installed package must give.
check_installed() {
  local version="$1" f u line
  local status
  status=$(in_root dpkg-query -W -f '${Status} ${Version}' "$pkg" 2>/dev/null)
  [ "$status" = "install ok installed $version" ] || bad "dpkg says '$status', wanted installed $version"

  for f in /usr/libexec/orbitnest/keyd /usr/libexec/orbitnest/authd /usr/bin/keydctl; do mode_is "$f" 755 root:root; done
  for f in "$unitdir/keyd.socket" "$unitdir/keyd.service" "$unitdir/authd.service" \
    /usr/lib/sysusers.d/orbitnest.conf /usr/lib/tmpfiles.d/orbitnest.conf \
    /etc/orbitnest/keyd.yaml /etc/orbitnest/authd.yaml /etc/orbitnest/softhsm2.conf \
    /usr/share/man/man8/keyd.8.gz /usr/share/man/man8/keydctl.8.gz /usr/share/man/man8/authd.8.gz \
    /usr/share/doc/orbitnest/copyright /usr/share/doc/orbitnest/changelog.Debian.gz /usr/share/doc/orbitnest/README.md.gz; do
    mode_is "$f" 644 root:root
  done
  for f in "$src"/policy/*.sql; do mode_is "/usr/share/orbitnest/policy/$(basename "$f")" 644 root:root; done
  cmp -s "$src/config/keyd.yaml" "$root/etc/orbitnest/keyd.yaml" || bad "/etc/orbitnest/keyd.yaml differs from config/keyd.yaml"

  # dpkg's own list of conffiles: exactly the three configs.
  f=$(in_root dpkg-query -W -f '${Conffiles}\n' "$pkg" | awk 'NF { print $1 }' | sort | paste -sd' ')
  [ "$f" = "/etc/orbitnest/authd.yaml /etc/orbitnest/keyd.yaml /etc/orbitnest/softhsm2.conf" ] ||
    bad "conffiles are '$f'"

  # The users and groups of sysusers.d: system ids, no login, no home.
  for u in orbitnest-keyd orbitnest-authd; do
    line=$(in_root getent passwd "$u") || { bad "user $u is missing"; continue; }
    IFS=: read -r _ _ uid gid _ home shell <<<"$line"
    [ "$uid" -lt 1000 ] || bad "$u has uid $uid, not a system uid"
    [ "$(in_root getent group "$gid" | cut -d: -f1)" = "$u" ] || bad "$u's primary group is not $u"
    [ "$home:$shell" = "/nonexistent:/usr/sbin/nologin" ] || bad "$u has home $home and shell $shell"
  done
  in_root getent group orbitnest-operators >/dev/null || bad "group orbitnest-operators is missing"

  # Folders made by postinst (tmpfiles.d).
  mode_is /etc/orbitnest 755 root:root
  mode_is /etc/orbitnest/tls 750 root:orbitnest-authd
  mode_is /var/lib/orbitnest-keyd 700 orbitnest-keyd:orbitnest-keyd
  mode_is /var/lib/orbitnest-keyd/tokens 700 orbitnest-keyd:orbitnest-keyd
  mode_is /var/log/orbitnest-keyd 700 orbitnest-keyd:orbitnest-keyd

  # Enabled: keyd.socket and authd.service; keyd.service only through its socket.
  [ "$(readlink "$root/etc/systemd/system/sockets.target.wants/keyd.socket")" = "$unitdir/keyd.socket" ] ||
    bad "keyd.socket is not enabled"
  [ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/authd.service")" = "$unitdir/authd.service" ] ||
    bad "authd.service is not enabled"
  [ ! -e "$root/etc/systemd/system/multi-user.target.wants/keyd.service" ] || bad "keyd.service is enabled on its own"

  # The units verify inside the root: ExecStart binaries, users, and the
  # Documentation= man pages as installed.
  f=$(in_root systemd-analyze verify "$unitdir/keyd.socket" "$unitdir/keyd.service" "$unitdir/authd.service" 2>&1)
  [ $? = 0 ] && [ -z "$f" ] || bad "systemd-analyze verify in the root: $f"

  # The programs run in the root (their libraries come from Depends), and
  # the shipped keyd.yaml is valid there (users, group, SoftHSM2's module).
  f=$(in_root /usr/libexec/orbitnest/keyd --version 2>&1); [ "$f" = "keyd ${version%%-*}" ] || bad "keyd --version: $f"
  f=$(in_root /usr/libexec/orbitnest/authd --version 2>&1); [ "$f" = "authd ${version%%-*}" ] || bad "authd --version: $f"
  in_root /usr/bin/keydctl --help >/dev/null 2>&1 || bad "keydctl --help fails in the root"
  f=$(in_root /usr/libexec/orbitnest/keyd --check-config 2>&1) || bad "keyd --check-config of the shipped keyd.yaml: $f"

  nothing_runs
}

# No process at all may live in the root: the maintainer scripts start nothing.
nothing_runs() {
  local p
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
      bad "a process runs in the root: $(tr '\0' ' ' <"$p/cmdline")"
    fi
  done
}

# Calls of systemctl that start (or restart) something, since line N.
starts_since() { calls_since "$1" | grep -E '(^| )(start|restart|reload-or-restart|try-restart|isolate)( |$)|--now'; }

step "install $old_version (no systemd running, as in an image build)"
cp "$old_deb" "$new_deb" "$root/tmp/"
n=$(calls_now)
in_root dpkg -i "/tmp/$(basename "$old_deb")" >"$work/dpkg-old.log" 2>&1 || { cat "$work/dpkg-old.log"; bad "dpkg -i $old_version"; }
check_installed "$old_version"
f=$(calls_since "$n" | grep -Ev -- '--root=|(^| )(preset|is-enabled)( |$)')
[ -z "$f" ] || bad "postinst asked a systemd that is not running: $f"

step "upgrade to $new_version (systemd running), over a changed conffile and keyd's state"
echo "# changed by the administrator" >>"$root/etc/orbitnest/authd.yaml"
echo '{"state":"kept"}' >"$root/var/lib/orbitnest-keyd/keyrings.json"
echo "audit record" >"$root/var/log/orbitnest-keyd/audit.log"
in_root chown orbitnest-keyd: /var/lib/orbitnest-keyd/keyrings.json /var/log/orbitnest-keyd/audit.log
chmod 0600 "$root/var/lib/orbitnest-keyd/keyrings.json" "$root/var/log/orbitnest-keyd/audit.log"
echo "not a real key" >"$root/etc/orbitnest/tls/tls.key"
mkdir -p "$root/run/systemd/system"  # what the scripts take as "systemd runs"
n=$(calls_now)
in_root dpkg -i "/tmp/$(basename "$new_deb")" >"$work/dpkg-new.log" 2>&1 || { cat "$work/dpkg-new.log"; bad "dpkg -i $new_version"; }
check_installed "$new_version"
tail -n 1 "$root/etc/orbitnest/authd.yaml" | grep -qx "# changed by the administrator" || bad "the changed conffile was not kept"
[ -z "$(find "$root/etc/orbitnest" -name '*.dpkg-*')" ] || bad "dpkg left $(find "$root/etc/orbitnest" -name '*.dpkg-*')"
[ "$(cat "$root/var/lib/orbitnest-keyd/keyrings.json" 2>/dev/null)" = '{"state":"kept"}' ] || bad "keyd's state file was not kept"
mode_is /var/lib/orbitnest-keyd/keyrings.json 600 orbitnest-keyd:orbitnest-keyd
mode_is /var/log/orbitnest-keyd/audit.log 600 orbitnest-keyd:orbitnest-keyd
calls_since "$n" | grep -qx 'try-restart keyd.service authd.service' || bad "the upgrade did not try-restart the daemons"
f=$(starts_since "$n" | grep -vx 'try-restart keyd.service authd.service')
[ -z "$f" ] || bad "the upgrade started something: $f"

step "dpkg -r: programs gone, configuration and state kept"
n=$(calls_now)
in_root dpkg -r "$pkg" >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log"; bad "dpkg -r"; }
status=$(in_root dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null)
[ "$status" = "deinstall ok config-files" ] || bad "after dpkg -r dpkg says '$status'"
for f in /usr/libexec/orbitnest/keyd /usr/bin/keydctl "$unitdir/keyd.socket"; do [ ! -e "$root$f" ] || bad "$f is still there"; done
for f in /etc/orbitnest/authd.yaml /etc/orbitnest/keyd.yaml /var/lib/orbitnest-keyd/keyrings.json \
  /var/log/orbitnest-keyd/audit.log /etc/orbitnest/tls/tls.key; do
  [ -e "$root$f" ] || bad "dpkg -r removed $f"
done
tail -n 1 "$root/etc/orbitnest/authd.yaml" | grep -qx "# changed by the administrator" || bad "dpkg -r lost the conffile change"
calls_since "$n" | grep -qx 'stop authd.service keyd.service keyd.socket' || bad "prerm did not stop the daemons"
in_root getent passwd orbitnest-keyd >/dev/null || bad "dpkg -r removed the user orbitnest-keyd"

step "dpkg --purge: state and configuration gone, the administrator's TLS key and the users kept"
in_root dpkg --purge "$pkg" >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log"; bad "dpkg --purge"; }
[ -z "$(in_root dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -v not-installed)" ] || bad "dpkg still knows $pkg"
for f in /var/lib/orbitnest-keyd /var/log/orbitnest-keyd /etc/orbitnest/authd.yaml /etc/orbitnest/keyd.yaml \
  /etc/orbitnest/softhsm2.conf; do
  [ ! -e "$root$f" ] || bad "$f is still there after purge"
done
[ -e "$root/etc/orbitnest/tls/tls.key" ] || bad "purge deleted a key the administrator put in /etc/orbitnest/tls"
f=$(find "$root/etc/systemd/system" \( -name 'keyd.*' -o -name 'authd.*' \) 2>/dev/null)
[ -z "$f" ] || bad "purge left unit links: $f"
in_root getent passwd orbitnest-authd >/dev/null || bad "purge removed the user orbitnest-authd"
rm -f "$root/etc/orbitnest/tls/tls.key"

step "install $new_version again (systemd running): enabled, nothing started"
n=$(calls_now)
in_root dpkg -i "/tmp/$(basename "$new_deb")" >"$work/dpkg-again.log" 2>&1 || { cat "$work/dpkg-again.log"; bad "dpkg -i again"; }
check_installed "$new_version"
f=$(starts_since "$n")
[ -z "$f" ] || bad "a fresh install started something: $f"
calls_since "$n" | grep -q 'daemon-reload' || bad "postinst did not reload systemd"

if [ $fail = 0 ]; then echo "package test: all checks passed"; else echo "package test: FAILED"; fi
exit $fail
