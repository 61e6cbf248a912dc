#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-log.sh CONSOLE.LOG [RESULTS.LOG]: fail if the guest kernel log holds a
# warning, oops, BUG, lockdep, KASAN, UBSAN, kmemleak, hung task or
# refcount/list corruption report, or kmemleak switching itself off.  It
# reads the console log and the "### DMESG" (and
# "### KMEMLEAK") sections of the results channel; the dmesg copy adds the
# messages below the console loglevel.  Each hit is printed with the lines
# that follow it (the trace) and the test that was running, taken from the
# "strata-harness: BEGIN name" markers the guest init writes to /dev/kmsg.
# Exit status 1 when something was found, 0 when the log is clean.
set -euo pipefail

case $# in
1|2) ;;
*) echo "usage: $0 CONSOLE.LOG [RESULTS.LOG]" >&2; exit 2 ;;
esac
console=$1 results=${2:-}

bad='WARNING:|BUG:|kernel BUG at|Oops|general protection|Kernel panic'
bad+='|possible circular locking|possible recursive locking'
bad+='|inconsistent lock state|KASAN|unreferenced object|refcount_t:'
bad+='|list_add corruption|list_del corruption|UBSAN|Call Trace'
bad+='|blocked for more than|Kernel memory leak detector disabled'
# Loading an unsigned out-of-tree module taints the kernel; that is expected.
ignore='module verification failed|loading out-of-tree module taints kernel'

dmesg=$(mktemp)
trap 'rm -f "$dmesg"' EXIT
if [ -n "$results" ] && [ -f "$results" ]; then
	tr -d '\r' <"$results" |
		awk '/^### (DMESG|KMEMLEAK)$/ { on = 1; next } /^### / { on = 0 } on' >"$dmesg"
fi
[ -f "$console" ] || { echo "check-log: $console missing" >&2; exit 1; }

# One pass over both files.  A hit already seen in the console (same text
# without the timestamp) is not reported again from the dmesg copy.
tr -d '\r' <"$console" | awk -v bad="$bad" -v ignore="$ignore" -v dm="$dmesg" \
	-v cname="$console" -v dname="${results:-}" '
function strip(s) { sub(/^\[ *[0-9.]+\] /, "", s); return s }
function scan(line, where, lineno,   msg) {
	if (line ~ /strata-harness: BEGIN /) { test = line; sub(/.*BEGIN /, "", test) }
	if (line ~ /strata-harness: END /) test = ""
	msg = strip(line)
	if (line ~ bad && line !~ ignore && !(where == "dmesg" && msg in seen)) {
		seen[msg] = 1
		hits++
		if (ctx == 0 && shown < 400)
			printf "%s:%d: [%s] %s\n", (where == "dmesg" ? dname " (dmesg)" : cname), \
				lineno, (test != "" ? test : "no test running"), line
		else if (shown < 400)
			print "    " line
		shown++
		ctx = 25
		return
	}
	if (ctx > 0 && shown < 400) { print "    " line; shown++; ctx-- }
}
{ scan($0, "console", NR) }
END {
	test = ""; ctx = 0; n = 0
	while ((getline l < dm) > 0) scan(l, "dmesg", ++n)
	if (hits) printf "check-log: %d suspicious kernel log line(s)\n", hits
	exit hits ? 1 : 0
}'
