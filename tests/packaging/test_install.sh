#!/usr/bin/env bash
# `make install PREFIX=...` installs exactly the programs, their man pages,
# the bash and zsh completions, the systemd units (ExecStart under PREFIX)
# and the examples; DESTDIR stages the same below another root. Builds in a
# directory of its own (the developer's build/ is left alone).
set -u
SRC=${PACER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

start=$(date +%s)
if ! make -C "$SRC" install PREFIX="$prefix" BUILD="$tmp/build" JOBS=2 >"$tmp/install.log" 2>&1; then
	tail -40 "$tmp/install.log"
	echo "FAIL make install PREFIX=$prefix"
	exit 1
fi
echo "make install took $(($(date +%s) - start)) s"

expected="bin/marathon-sim
bin/pacer
lib/systemd/system/pacer-serve.service
lib/systemd/system/pacer-sync.service
lib/systemd/system/pacer-sync.timer
lib/systemd/system/pacer-watch.service
share/bash-completion/completions/pacer
share/doc/pacer/examples/pacer-serve.json
share/doc/pacer/examples/pacer.env.example
share/man/man1/marathon-sim.1
share/man/man1/pacer.1
share/zsh/site-functions/_pacer"
got=$(cd "$prefix" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
check "make install PREFIX installs exactly the expected files" test "$got" = "$expected"
[ "$got" = "$expected" ] || diff <(echo "$expected") <(echo "$got")
check "the programs are executable" test -x "$prefix/bin/pacer" -a -x "$prefix/bin/marathon-sim"
check "the installed pacer runs: $("$prefix/bin/pacer" --version)" bash -c "\"\$1\" --version >/dev/null" _ "$prefix/bin/pacer"
for unit in pacer-sync.service pacer-watch.service pacer-serve.service; do
	check "$unit runs $prefix/bin/pacer" grep -q "^ExecStart=$prefix/bin/pacer " \
		"$prefix/lib/systemd/system/$unit"
done
version=$(sed -n 's/^project(pacer VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
example=$prefix/share/doc/pacer/examples/pacer-serve.json
check "the Marathon app example runs the .deb of this version (pacer_${version}_)" \
	grep -q "pacer_${version}_amd64.deb" "$example"
check "the Marathon app example is valid for Marathon (persistent volume rules)" \
	"$prefix/bin/pacer" validate --enable-features secrets "$example"
check "man finds the installed pages" test "$(MANPATH=$prefix/share/man man -w pacer 2>/dev/null)" = \
	"$prefix/share/man/man1/pacer.1"
if command -v systemd-analyze >/dev/null; then
	# The man page is not where man looks outside MANPATH: --man=no.
	out=$(systemd-analyze verify --man=no "$prefix"/lib/systemd/system/pacer-* 2>&1)
	check "systemd-analyze verify on the installed units ${out:+($out)}" test -z "$out"
else
	echo "skip systemd-analyze: systemd is not installed (make deps installs it as root)"
fi

# A staged install: the units name the final prefix, the files go below DESTDIR.
if make -C "$SRC" install PREFIX=/opt/pacer DESTDIR="$tmp/stage" BUILD="$tmp/build" JOBS=2 \
	>"$tmp/stage.log" 2>&1; then
	got=$(cd "$tmp/stage/opt/pacer" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
	check "make install DESTDIR stages the same files below DESTDIR" test "$got" = "$expected"
	check "the staged units run /opt/pacer/bin/pacer" \
		grep -q '^ExecStart=/opt/pacer/bin/pacer ' "$tmp/stage/opt/pacer/lib/systemd/system/pacer-sync.service"
else
	tail -20 "$tmp/stage.log"
	check "make install PREFIX=/opt/pacer DESTDIR=..." false
fi

checks_done install
