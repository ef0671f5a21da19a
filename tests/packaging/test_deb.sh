#!/usr/bin/env bash
# `make deb` builds pacer_<version>_<arch>.deb and marathon-sim_<version>_<arch>.deb;
# as root, `dpkg -i` installs them on this machine and the installed files
# work: pacer --version, man -w pacer, the bash completion, and
# systemd-analyze verify on the installed units (ExecStart, the man page of
# Documentation=). Not root: builds and inspects the packages, then says it
# skips the install. A package this test installed is purged at the end; one
# that was installed before is left upgraded to this build.
set -u
SRC=${PACER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN_DIR=$(cd "$(dirname "${PACER_BIN:-$SRC/build-test/pacer}")" && pwd)
OUT=$BIN_DIR/deb
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
cmake_version=$(sed -n 's/^project(pacer VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
check "debian/changelog's version $version is CMakeLists.txt's ($cmake_version)" \
	test "$version" = "$cmake_version"
arch=$(dpkg --print-architecture)
deb=$OUT/pacer_${version}_${arch}.deb
simdeb=$OUT/marathon-sim_${version}_${arch}.deb

head=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null)
start=$(date +%s)
if ! make -C "$SRC" deb DEB_BUILD="$OUT" JOBS=2 >"$BIN_DIR/deb.log" 2>&1; then
	tail -40 "$BIN_DIR/deb.log"
	echo "FAIL make deb (log: $BIN_DIR/deb.log)"
	exit 1
fi
echo "make deb took $(($(date +%s) - start)) s"
check "make deb made $(basename "$deb")" test -f "$deb"
check "make deb made $(basename "$simdeb")" test -f "$simdeb"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/pacer ./usr/share/man/man1/pacer.1.gz \
	./usr/share/bash-completion/completions/pacer ./usr/share/zsh/vendor-completions/_pacer \
	./lib/systemd/system/pacer-sync.service ./lib/systemd/system/pacer-sync.timer \
	./lib/systemd/system/pacer-watch.service ./lib/systemd/system/pacer-serve.service \
	./usr/share/doc/pacer/examples/pacer.env.example ./usr/share/doc/pacer/examples/pacer-serve.json \
	./usr/share/doc/pacer/copyright; do
	check "pacer.deb has $f" grep -qxF "$f" <<<"$contents"
done
simcontents=$(dpkg-deb -c "$simdeb" | awk '{print $6}')
for f in ./usr/bin/marathon-sim ./usr/share/man/man1/marathon-sim.1.gz; do
	check "marathon-sim.deb has $f" grep -qxF "$f" <<<"$simcontents"
done

if [ "$(id -u)" != 0 ]; then
	echo "SKIP installing: dpkg -i needs root (CI runs make test as root)"
	checks_done package
fi

installed_before=$(dpkg-query -W -f='${Status}' pacer 2>/dev/null | grep -c "ok installed")
# Container images often exclude man pages from packages (path-exclude in
# /etc/dpkg/dpkg.cfg.d): include ours again.
if ! dpkg -i --path-include='/usr/share/man/man1/pacer.1.gz' \
	--path-include='/usr/share/man/man1/marathon-sim.1.gz' "$deb" "$simdeb" >"$BIN_DIR/dpkg.log" 2>&1; then
	cat "$BIN_DIR/dpkg.log"
	echo "FAIL dpkg -i"
	exit 1
fi
echo "ok   dpkg -i $(basename "$deb") $(basename "$simdeb")"
cleanup() {
	[ "$installed_before" = 1 ] || dpkg --purge pacer marathon-sim >/dev/null 2>&1
}
trap cleanup EXIT

v=$(/usr/bin/pacer --version)
check "installed pacer --version: $v" grep -qE "^pacer $version \\(commit [0-9a-f]{7,}(-dirty)?\\)\$" <<<"$v"
if [ -n "$head" ]; then
	check "the commit is the checkout's when make deb ran ($head)" grep -q "commit $head" <<<"$v"
fi
v=$(/usr/bin/marathon-sim --version)
check "installed marathon-sim --version: $v" grep -qE "^marathon-sim $version \\(commit " <<<"$v"
check "man -w pacer: $(man -w pacer 2>&1)" test "$(man -w pacer 2>/dev/null)" = /usr/share/man/man1/pacer.1.gz
check "man -w marathon-sim" test "$(man -w marathon-sim 2>/dev/null)" = /usr/share/man/man1/marathon-sim.1.gz
warnings=$(MANWIDTH=80 man --warnings pacer 2>&1 >/dev/null)
check "man pacer renders without warnings ${warnings:+($warnings)}" test -z "$warnings"
warnings=$(MANWIDTH=80 man --warnings marathon-sim 2>&1 >/dev/null)
check "man marathon-sim renders without warnings ${warnings:+($warnings)}" test -z "$warnings"
check "man pacer has a section for pacer sync" \
	bash -c 'MANWIDTH=80 man pacer 2>/dev/null | grep -q "^   pacer sync"'
check "the installed bash completion completes pacer sy<TAB>" bash -c '
	source /usr/share/bash-completion/completions/pacer
	COMP_WORDS=(pacer sy); COMP_CWORD=1; _pacer; [ "${COMPREPLY[*]}" = sync ]'

units=(/lib/systemd/system/pacer-sync.service /lib/systemd/system/pacer-sync.timer
	/lib/systemd/system/pacer-watch.service /lib/systemd/system/pacer-serve.service)
out=$(systemd-analyze verify "${units[@]}" 2>&1)
check "systemd-analyze verify on the installed units ${out:+($out)}" test -z "$out"
check "the units run the installed pacer" grep -q '^ExecStart=/usr/bin/pacer ' "${units[0]}"
check "the units are installed disabled" bash -c '! systemctl is-enabled pacer-sync.timer >/dev/null 2>&1'
checks_done package
