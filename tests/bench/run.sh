#!/usr/bin/env bash
# run.sh BUILD_DIR: pacer's performance benchmark, as `make bench` runs it.
#
# Needs BUILD_DIR/pacer, BUILD_DIR/marathon-sim and the bench-tools target
# (BUILD_DIR/tests/bench/bench-floor, bench-measure), built RelWithDebInfo.
# The work is done by bench.py (see its header for the BENCH_* variables:
# BENCH_N="1000 5000 10000", BENCH_RUNS=3, BENCH_K=100, BENCH_D=2,
# BENCH_PARALLEL="16 0", BENCH_GIT=1, BENCH_PROFILE=0, BENCH_STRICT=0). Prints
# the table and the targets; writes BUILD_DIR/bench/results.json. Exit 0 when
# the benchmark ran (with BENCH_STRICT=1: and every measured target is met),
# 1 otherwise, 64 on usage errors.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR   (e.g. BENCH_N=\"1000 5000\" $0 build)" >&2
	exit 64
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

for f in pacer marathon-sim tests/bench/bench-floor tests/bench/bench-measure; do
	if [ ! -x "$build/$f" ]; then
		echo "run.sh: $build/$f is missing: build it first with" >&2
		echo "  cmake --build $build --target pacer marathon-sim bench-tools" >&2
		exit 64
	fi
done
if ! command -v python3 >/dev/null; then
	echo "run.sh: python3 is needed to drive the benchmark (apt-get install python3)" >&2
	exit 64
fi
if grep -q 'CMAKE_BUILD_TYPE:STRING=Debug' "$build/CMakeCache.txt" 2>/dev/null ||
	grep -q 'PACER_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
	echo "run.sh: warning: $build is a Debug or sanitizer build; numbers will not be representative" >&2
fi

# bench.py, then the blue/green release against Marathon's rolling upgrade
# (bluegreen.py; BENCH_BLUEGREEN=0 skips it).
rc=0
python3 "$here/bench.py" "$build" || rc=$?
if [ "${BENCH_BLUEGREEN:-1}" != 0 ]; then
	python3 "$here/bluegreen.py" "$build" || rc=1
fi
exit $rc
