#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-debug.sh [--cached]: `make check-debug` once the helper and the
# selftests are built.  Builds the debug kernel, or takes it from its cache
# (scripts/debug-kernel.sh), builds strata.ko against it in
# build/<release>/, boots it with fresh disks and runs every selftest as
# `make check` does; the guest init ends with two kmemleak scans.  Prints
# TAP like check.sh; the last line is "N passed, N failed" and the exit
# status is non-zero when anything failed.
#
# Beyond the selftests' own cases: the module builds without warnings, the
# kernel log is clean (scripts/check-log.sh: KASAN, lockdep, kmemleak,
# list and refcount reports, hung tasks, warnings), and the kmemleak scan
# ran and found nothing, in each of the STRATA_DEBUG_SHARDS guests
# (default 2) that share the test programs.  Logs:
# build/logs/<release>/shardI/.
#
# --cached: only if the debug kernel is built already, else print a SKIP
# line and exit 0 (for .ci/run: a build from scratch does not fit CI).
# --budget SECS: likewise skip unless the last full run on this kernel
# (recorded in its cache directory) took less than SECS.
# Watchdogs, for a kernel several times slower than Debian's: whole run
# STRATA_DEBUG_TIMEOUT (10800 s), results channel silent
# STRATA_DEBUG_IDLE (1800 s), per test program STRATA_DEBUG_TEST_TIMEOUT
# (2400 s).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build}
scripts=$top/scripts

cached='' budget=''
while [ $# -gt 0 ]; do
	case $1 in
	--cached) cached=1 ;;
	--budget) budget=${2:?}; shift ;;
	*) echo "usage: $0 [--cached] [--budget SECS]" >&2; exit 2 ;;
	esac
	shift
done

echo "TAP version 13"
if [ -n "$cached" ]; then
	if ! kdir=$("$scripts/debug-kernel.sh" --cached); then
		echo "1..0 # SKIP the debug kernel is not built (make check-debug builds it)"
		exit 0
	fi
else
	kdir=$("$scripts/debug-kernel.sh")
fi
if [ -n "$budget" ]; then
	last=$(cat "$kdir/run-seconds" 2>/dev/null || echo)
	if [ -z "$last" ] || [ "$last" -ge "$budget" ]; then
		echo "1..0 # SKIP the last run took ${last:-an unknown time}s, ${budget}s are left"
		exit 0
	fi
fi
kver=$(cat "$kdir/kver")
n=0 pass=0 fail=0 skip=0
tap() { # OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n $kver $2"
	else
		fail=$((fail + 1))
		echo "not ok $n $kver $2"
	fi
}

# The module, against the debug tree, in its own shadow tree like make module.
modlog=$build/logs/$kver-module.log
mkdir -p "$build/logs"
"$scripts/shadow-tree.sh" "$top" "$build/$kver"
rc=0
make -C "$kdir/linux" M="$build/$kver" modules >"$modlog" 2>&1 || rc=$?
if [ $rc -ne 0 ] || [ ! -f "$build/$kver/strata.ko" ]; then
	tap 1 "strata.ko builds against the debug kernel"
	sed 's/^/# /' "$modlog" | tail -n 30
	echo "1..$n"
	echo "$pass passed, $fail failed"
	exit 1
fi
warn=$(grep -E ' error|warning:' "$modlog" || true)
tap "$([ -z "$warn" ]; echo $?)" "strata.ko builds against the debug kernel without warnings"
[ -z "$warn" ] || sed 's/^/# /' <<<"$warn"

logs=$build/logs/$kver
rm -rf "$logs"
mkdir -p "$logs"
# The debug kernel is several times slower than Debian's and a TCG guest
# keeps one host core busy: STRATA_DEBUG_SHARDS guests (default 2, one per
# core of this machine) each run every N-th test program on disks of their
# own.  The initramfs is made once, before they start.
shards=${STRATA_DEBUG_SHARDS:-2}
STRATA_MODROOT=$kdir/modroot "$scripts/mkinitramfs.sh" "$kver" \
	"$build/initramfs/$kver.cpio.gz"
started=$SECONDS
for ((i = 0; i < shards; i++)); do
	"$scripts/qemu-run.sh" --kernel "$kdir/bzImage" --modroot "$kdir/modroot" \
		--timeout "${STRATA_DEBUG_TIMEOUT:-10800}" --idle "${STRATA_DEBUG_IDLE:-1800}" \
		--test-timeout "${STRATA_DEBUG_TEST_TIMEOUT:-2400}" --shard "$i/$shards" \
		"$kver" "$logs/shard$i" || true &
done
wait

done_all=1 progs=0
for ((i = 0; i < shards; i++)); do
	sl=$logs/shard$i
	out=$("$scripts/tap-summary.sh" "$kver" $((n + 1)) "$sl/results.log")
	read -r _ _ p f s pr <<<"$(tail -n 1 <<<"$out")"
	n=$((n + p + f + s)) pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	progs=$((progs + pr))
	grep -v '^#' <<<"$out" || true
	grep '^# ' <<<"$out" | grep -v '^# counts ' || true

	if "$scripts/check-log.sh" "$sl/console.log" "$sl/results.log" \
		>"$sl/check-log.txt" 2>&1; then
		tap 0 "kernel-log (shard $i): no KASAN, lockdep, kmemleak, list/refcount, hung task or warning report"
	else
		tap 1 "kernel-log (shard $i): $(tail -n 1 "$sl/check-log.txt")"
		sed "s/^/# kernel-log: /" "$sl/check-log.txt"
	fi

	# The guest's last act is the kmemleak scan; its report follows
	# "### KMEMLEAK".  Each leak is listed with whether strata is in its
	# trace.
	leaks=$(tr -d '\r' <"$sl/results.log" |
		awk '/^### KMEMLEAK$/ { on = 1; next } /^### / { on = 0 } on')
	if ! grep -q '^### KMEMLEAK$' "$sl/results.log"; then
		tap 1 "kmemleak (shard $i): the scan did not run (guest died, or no /sys/kernel/debug/kmemleak)"
	else
		total=$(grep -c 'unreferenced object' <<<"$leaks" || true)
		ours=$(awk '/unreferenced object/ { if (obj && hit) c++; obj = 1; hit = 0 }
			/\[strata\]|strata_/ { hit = 1 }
			END { if (obj && hit) c++; print c + 0 }' <<<"$leaks")
		tap "$([ "$total" -eq 0 ]; echo $?)" \
			"kmemleak (shard $i): $total unreferenced object(s), $ours with strata in the trace"
		[ "$total" -eq 0 ] || sed 's/^/# kmemleak: /' <<<"$leaks" | head -n 200
	fi
	grep -q '^### DONE' "$sl/results.log" || done_all=''
done

# What the next --budget goes by: a run that reached the end.
if [ -n "$done_all" ]; then
	echo $((SECONDS - started)) >"$kdir/run-seconds"
fi

echo "1..$n"
boot=$(sed -n 's/^### BOOT uptime=//p' "$logs/shard0/results.log" | head -n 1)
echo "# $kver: $progs test programs in $shards guests; guest up after ${boot:-?}s, wall $((SECONDS - started))s; kernel from $kdir"
line="$pass passed, $fail failed"
[ "$skip" -eq 0 ] || line+=", $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
