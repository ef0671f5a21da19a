#!/usr/bin/env bash
# `pacer completion bash|zsh`: the scripts are generated from the option
# tables, the build installs what the command prints, and they complete.
#   pacer sy<TAB>            -> sync
#   pacer sync --pr<TAB>     -> --prune
# Run by CTest (PACER_BIN set); also by hand: bash tests/packaging/test_completion.sh
set -u
PACER_BIN=${PACER_BIN:-$(dirname "$0")/../../build-test/pacer}
GEN_DIR=$(dirname "$PACER_BIN")/contrib/completions
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PACER_BIN" completion bash >"$tmp/pacer.bash" || { echo "FAIL pacer completion bash"; exit 1; }
"$PACER_BIN" completion zsh >"$tmp/_pacer" || { echo "FAIL pacer completion zsh"; exit 1; }
check "the build's bash completion is what pacer prints" cmp -s "$GEN_DIR/pacer" "$tmp/pacer.bash"
check "the build's zsh completion is what pacer prints" cmp -s "$GEN_DIR/_pacer" "$tmp/_pacer"
"$PACER_BIN" completion fish >/dev/null 2>&1
check "an unknown shell is a usage error (64)" test $? = 64

# Complete as bash does for a command line: the words, the cursor on the last.
complete_line() {
	bash -c '
		source "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_pacer
		printf "%s\n" "${COMPREPLY[@]}"' _ "$tmp/pacer.bash" "$@"
}
expect() { # expect <expected replies, space-separated> <words...>
	local want=$1 got
	shift
	got=$(complete_line "$@" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		echo "ok   [$*<TAB>] -> $got"
	else
		echo "FAIL [$*<TAB>] -> '$got', want '$want'"
		fails=$((fails + 1))
	fi
}
check "complete -F _pacer pacer is registered" \
	bash -c 'source "$1" && complete -p pacer | grep -q "_pacer"' _ "$tmp/pacer.bash"
expect "sync" pacer sy
expect "--prune" pacer sync --pr
expect "serve" pacer se
expect "--source" pacer diff --marathon http://m:8080 --so
expect "json" pacer sync --output j
expect "json" pacer sync --output = j
expect "restart rollback" pacer sync --on-failure r
expect "--self-heal" pacer watch --self
expect "zsh" pacer completion z
mkdir -p "$tmp/apps.d" && touch "$tmp/apps.json"
expect "$tmp/apps.d $tmp/apps.json" pacer validate "$tmp/apps"
expect "$tmp/apps.d" pacer sync --source "$tmp/app"
# Every long option of every command's table is offered after --.
commands=$("$PACER_BIN" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
check "pacer --help lists commands" test -n "$commands"
for cmd in $commands; do
	want=$("$PACER_BIN" "$cmd" --help | sed -n 's/^ *\(-., \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' |
		sort -u | tr '\n' ' ')
	got=$(complete_line pacer "$cmd" -- | grep -- '^--' | sort -u | tr '\n' ' ')
	check "pacer $cmd --<TAB> offers every option of pacer $cmd --help" test "$want" = "$got"
done

if command -v zsh >/dev/null; then
	check "the zsh completion parses" zsh -n "$tmp/_pacer"
	# An interactive zsh under a pseudo-terminal: type, press TAB, read the line.
	zexpect() { # zexpect <line after TAB> <typed>
		local got
		got=$(timeout 30 zsh -f "$(dirname "$0")/zsh_complete.zsh" "$tmp" "$2")
		if [ "$got" = "LINE:$1" ]; then
			echo "ok   zsh [$2<TAB>] -> $1"
		else
			echo "FAIL zsh [$2<TAB>] -> '${got#LINE:}', want '$1'"
			fails=$((fails + 1))
		fi
	}
	zexpect "pacer sync" "pacer sy"
	zexpect "pacer sync --prune" "pacer sync --pr"
	zexpect "pacer sync --output json" "pacer sync --output j"
else
	echo "skip zsh checks: zsh is not installed (make deps installs it as root)"
fi

checks_done completion
