#!/bin/bash
# The layering rules (contrib/cmake/layering.cmake) hold on this tree, and
# refuse each kind of violation when one is planted in a copy of it.
set -u
src=${PACER_SOURCE_DIR:?PACER_SOURCE_DIR names the source tree}
check=$src/contrib/cmake/layering.cmake
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if ! out=$(cmake -DSOURCE_DIR="$src" -P "$check" 2>&1); then
	echo "FAIL: the tree breaks its own layering:"; echo "$out"; fail=1
fi

# file to plant | include line | what the message must name
cases=(
	"reconcile/zz.c|#include <curl/curl.h>|pure logic over json-c"
	"reconcile/zz.c|#include <git2.h>|pure logic over json-c"
	"reconcile/zz.c|#include <microhttpd.h>|pure logic over json-c"
	"reconcile/zz.c|#include <sys/socket.h>|opens no sockets"
	"reconcile/zz.h|#include \"backends/fs/state.h\"|bottom layer"
	"reconcile/model/zz.c|#include \"reconcile/sync.h\"|below the pipeline"
	"reconcile/base/zz.c|#include \"reconcile/model/appid.h\"|bottom of reconcile"
	"backends/fs/zz.c|#include \"cmd/pacer/cli.h\"|below cmd"
	"cmd/marathon-sim/zz.c|#include \"backends/marathon/client.h\"|Marathon, not pacer"
)
for c in "${cases[@]}"; do
	IFS='|' read -r file line want <<<"$c"
	rm -rf "$tmp/tree"; mkdir -p "$tmp/tree"
	cp -r "$src/reconcile" "$src/backends" "$src/cmd" "$tmp/tree/"
	printf '%s\n' "$line" >"$tmp/tree/$file"
	if out=$(cmake -DSOURCE_DIR="$tmp/tree" -P "$check" 2>&1); then
		echo "FAIL: $file with '$line' was accepted"; fail=1
	elif ! grep -q "$file" <<<"$out" || ! grep -q "$want" <<<"$out"; then
		echo "FAIL: $file with '$line': the message does not name the file and the rule:"
		echo "$out"; fail=1
	else
		echo "ok: $file: $line refused"
	fi
done
exit $fail
