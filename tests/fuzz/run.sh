#!/bin/bash
# Run libFuzzer harnesses built by `make fuzz` (PACER_FUZZ=ON), each for
# SECONDS, one after the other:
#   tests/fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]     (default: all)
# New inputs go to BUILD_DIR/fuzz/corpus/<harness>/, which is then merged
# (libFuzzer -merge=1, unless FUZZ_MERGE=0) into a minimal corpus; crashes to
# BUILD_DIR/fuzz/crashes/<harness>/; the whole output to
# BUILD_DIR/logs/<harness>-<time>.log. Prints each run's final stats (runs,
# coverage, corpus, CPU seconds). Exits 1 when a harness crashed.
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS [HARNESS...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [HARNESS...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
out=$build/fuzz
harnesses=${*:-$(cd "$out" && ls fuzz_* | grep -v '\.' | sed 's/^fuzz_//')}
mkdir -p "$build/logs"
failed=0
for h in $harnesses; do
	exe=$out/fuzz_$h
	[ -x "$exe" ] || { echo "run.sh: no harness $exe (make fuzz builds them)" >&2; exit 2; }
	mkdir -p "$out/corpus/$h" "$out/crashes/$h"
	dirs="$out/corpus/$h $out/seeds/$h"
	[ -d "$here/regressions/$h" ] && dirs="$dirs $here/regressions/$h"
	log=$build/logs/$h-$(date -u +%Y%m%dT%H%M%SZ).log
	TIMEFORMAT='cpu_seconds: user %U system %S wall %R'
	# shellcheck disable=SC2086
	{ time "$exe" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-dict="$out/fuzz_$h.dict" -artifact_prefix="$out/crashes/$h/" $dirs >"$log" 2>&1; } 2>>"$log"
	rc=$?
	[ $rc -eq 0 ] || failed=1
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cpu=$(sed -n 's/^cpu_seconds: //p' "$log")
	echo "$h: rc=$rc runs=${runs:-?} last: ${last:-none} ($cpu) log: $log"
	# Keep the corpus minimal: what adds coverage, from what it holds now
	# (FUZZ_MERGE=0 skips it, for many short runs of the same harness).
	if [ $rc -eq 0 ] && [ "${FUZZ_MERGE:-1}" != 0 ]; then
		rm -rf "$out/corpus/$h.min" && mkdir -p "$out/corpus/$h.min" &&
			"$exe" -merge=1 -timeout=10 -rss_limit_mb=2048 "$out/corpus/$h.min" \
				"$out/corpus/$h" >>"$log" 2>&1 &&
			rm -rf "$out/corpus/$h" && mv "$out/corpus/$h.min" "$out/corpus/$h"
	fi
done
exit $failed
