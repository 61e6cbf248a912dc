# SPDX-License-Identifier: GPL-2.0
#
# tap.sh: TAP result helpers for shell selftests (sourced, busybox sh).
# Sets n (results so far) and failed.

n=0 failed=0
result() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}
check() { # DESCRIPTION COMMAND...
	desc=$1
	shift
	"$@"
	result $? "$desc"
}
# expect DESCRIPTION RC TEXT COMMAND...: COMMAND exits RC, and its output
# (stdout and stderr) contains the fixed string TEXT (unless empty).
expect() {
	desc=$1 want=$2 text=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && { [ -z "$text" ] || printf '%s\n' "$out" | grep -qF -- "$text"; }; then
		result 0 "$desc"
	else
		result 1 "$desc"
		echo "# rc=$rc (want $want), wanted text: $text"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
# same GOT WANT: equal strings, else false and the lines that differ as
# comments.
same() {
	[ "$1" = "$2" ] && return 0
	printf '%s\n' "$1" >"${TMPDIR:-/tmp}/.same-got.$$"
	printf '%s\n' "$2" >"${TMPDIR:-/tmp}/.same-want.$$"
	diff "${TMPDIR:-/tmp}/.same-want.$$" "${TMPDIR:-/tmp}/.same-got.$$" |
		sed 's/^/# /' | head -n 30
	rm -f "${TMPDIR:-/tmp}/.same-got.$$" "${TMPDIR:-/tmp}/.same-want.$$"
	return 1
}
