#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tap-summary.sh KVER FIRST RESULTS.LOG: turn one guest's results channel
# (see selftests/guest/init) into TAP lines numbered from FIRST, e.g.
#   ok 17 6.12.117+deb12-amd64 readdir_test: merged_dedup
# then the output of every failed test program as "# " comments, and last a
# line "# counts PASSED FAILED SKIPPED PROGRAMS" for check.sh.
#
# Counting, per "### BEGIN name" .. "### END name rc=N" block: every
# column-0 "ok " line passes (skips if it says "# SKIP"), every "not ok "
# line fails.  A block that exits non-zero (other than 4, the kselftest
# skip status) without a failing case, reports fewer results than its
# "1..N" plans, or reports none at all counts as one failure; so does a
# BEGIN without END (hung and killed, or the guest died), each "### SETUP-FAIL", and a guest
# that never wrote "### DONE".
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 KVER FIRST RESULTS.LOG" >&2; exit 2; }
kver=$1 first=$2 results=$3
[ -f "$results" ] || { echo "tap-summary: $results missing" >&2; exit 1; }

tr -d '\r' <"$results" | awk -v k="$kver" -v n="$((first - 1))" '
function result(ok, what) {
	n++
	if (ok == "skip") { skip++; printf "ok %d %s %s\n", n, k, what }
	else if (ok) { pass++; printf "ok %d %s %s\n", n, k, what }
	else { fail++; printf "not ok %d %s %s\n", n, k, what }
}
function keep_output(why) {
	failed_out = failed_out sprintf("# ---- %s %s: %s; its output:\n", k, name, why)
	for (i = 1; i <= nbuf; i++) failed_out = failed_out "# " buf[i] "\n"
}
function close_block(rc,   why) {
	why = ""
	if (rc == "") {
		# The watchdog line already names the last "#  RUN" case.
		why = "no END: " (stop != "" ? stop : "the guest stopped while it ran") \
			(stop !~ /WATCHDOG/ && run != "" ? ", last: " run : "")
	} else if (nres == 0 && rc == 4) {
		result("skip", name ": # SKIP exit status 4, no results")
	} else if (nres == 0 && rc == 0) {
		why = "no TAP results"
	} else if (rc != 0 && rc != 4 && nfail == 0) {
		why = "exit status " rc
	} else if (plan > nres) {
		why = "only " nres " of " plan " planned results"
	}
	if (why != "") result(0, name ": " why)
	if (why != "" || nfail > 0) keep_output(why != "" ? why : nfail " case(s) failed")
	name = ""; programs++
}
# A stop marker from qemu-run.sh, or a new boot, ends an open block.
/^### (WATCHDOG|GUEST-DIED|BOOT)/ {
	stop = $0; sub(/^### /, "", stop)
	if (name != "") close_block("")
	else if (stop !~ /^BOOT/) outside = stop
	stop = ""
	next
}
/^### BEGIN / {
	if (name != "") close_block("")
	name = $3; nbuf = nres = nfail = plan = 0; run = ""
	next
}
/^### END / {
	if (name != "") { rc = $4; sub(/^rc=/, "", rc); close_block(rc + 0) }
	next
}
# A resumed boot repeats its setup failures: count each once.
/^### SETUP-FAIL / {
	r = $0; sub(/^### SETUP-FAIL /, "", r)
	if (!(r in setup_failed)) result(0, "setup: " r)
	setup_failed[r] = 1
	next
}
/^### DONE/ { done = 1; next }
name == "" { next }
name != "" {
	buf[++nbuf] = $0
	if (/^#  RUN /) run = $0
	if (/^1\.\.[0-9]+/) { p = $0; sub(/^1\.\./, "", p); plan += p + 0 }
	if (/^(not )?ok /) {
		what = $0
		sub(/^(not )?ok( +[0-9]+)?( +- +| +)?/, "", what)
		nres++
		if (/^not ok /) { nfail++; result(0, name ": " what) }
		else if (/# *[Ss][Kk][Ii][Pp]/) result("skip", name ": " what)
		else result(1, name ": " what)
	}
}
END {
	if (name != "") close_block("")
	else if (!done) result(0, "guest: did not finish (" \
		(outside != "" ? outside : "no ### DONE; see console.log") ")")
	printf "%s", failed_out
	printf "# counts %d %d %d %d\n", pass, fail, skip, programs
}'
