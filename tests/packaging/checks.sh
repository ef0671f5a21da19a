# Sourced by the packaging tests (test_*.sh): `check <description>
# <command...>` runs the command and prints ok or FAIL with the description,
# counting the failures; `checks_done <what>` ends the script, exit 1 when a
# check failed.
fails=0
check() { # check <description> <command...>
	local what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
checks_done() { # checks_done <what the checks are about>
	[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
	echo "all $1 checks passed"
	exit 0
}
