#!/usr/bin/env bash
# valgrind.sh BUILD_DIR: every unit test program (tests/reconcile/**, and the web
# console's: tests/serve/test_console_*) of a build
# without sanitizers under valgrind memcheck, children traced (Criterion runs
# each test in a child process). Fails when any program fails or valgrind
# reports an error or a definite/indirect leak. `make valgrind` runs it.
# Criterion re-executes itself for each test (traced); a test's own fork
# without exec (test_files drops to nobody in one) ends with _exit, whose
# never-freed memory is not a leak: those children are not reported.
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 64
fi
build=$1
if grep -q 'PACER_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "valgrind.sh: $build is a sanitizer build; valgrind needs one without (make valgrind)" >&2
	exit 64
fi
export PACER_SOURCE_DIR=${PACER_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
export PACER_SHARED_DIR=${PACER_SHARED_DIR:-$PACER_SOURCE_DIR/../shared}
failed=()
# The web console's unit tests too: they parse what browsers send and render what Marathon says.
for t in "$build"/tests/reconcile_test_* "$build"/tests/reconcile_*_test_* \
	"$build"/tests/serve_test_console_*; do
	[ -x "$t" ] || continue
	log=$(mktemp)
	valgrind -q --trace-children=yes --child-silent-after-fork=yes --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$t" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || grep -q '^==[0-9]*== ' "$log"; then
		echo "FAIL $(basename "$t") (exit $rc)"
		cat "$log"
		failed+=("$(basename "$t")")
	else
		echo "ok   $(basename "$t")"
	fi
	rm -f "$log"
done
if [ ${#failed[@]} -ne 0 ]; then
	echo "valgrind: ${#failed[@]} program(s) failed: ${failed[*]}"
	exit 1
fi
echo "valgrind: every unit test program is clean"
