#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh [--seed N] [--iters N] [--secs N] [--tasks N] [--tests "a b"] KVER [OUTDIR]
#
# Longer or differently seeded runs of the fuzz and stress selftests than
# make check does, in one guest: fuzz_mount_test, fuzz_netlink_test,
# hostile_branch_test and stress_test by default.  --seed sets
# STRATA_FUZZ_SEED (default: a new random one, printed), --iters
# STRATA_FUZZ_ITERS, --secs STRATA_STRESS_SECS, --tasks STRATA_STRESS_TASKS.
# Run make all first.  The guest's kernel log is checked like make check
# does; the exit status is non-zero when a test failed or the log is dirty.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seed=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ') iters='' secs='' tasks=''
tests="fuzz_mount_test fuzz_netlink_test hostile_branch_test stress_test"
while [ $# -gt 0 ]; do
	case $1 in
	--seed) seed=${2:?}; shift ;;
	--iters) iters=${2:?}; shift ;;
	--secs) secs=${2:?}; shift ;;
	--tasks) tasks=${2:?}; shift ;;
	--tests) tests=${2:?}; shift ;;
	-h|--help) sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
	shift
done
kver=${1:?usage: fuzz.sh [--seed N] [--iters N] [--secs N] KVER [OUTDIR]}
outdir=${2:-$top/build/logs/$kver/fuzz}

env="STRATA_FUZZ_SEED=$seed"
[ -z "$iters" ] || env+=" STRATA_FUZZ_ITERS=$iters"
[ -z "$secs" ] || env+=" STRATA_STRESS_SECS=$secs"
[ -z "$tasks" ] || env+=" STRATA_STRESS_TASKS=$tasks"
cmd="rc=0; for t in $tests; do echo \"## \$t\"; $env /strata/selftests/\$t || rc=1; done; exit \$rc"
echo "fuzz.sh: $kver seed=$seed${iters:+ iters=$iters}${secs:+ secs=$secs}"
rc=0
"$top/scripts/qemu-run.sh" --timeout 3600 --cmd "$cmd" "$kver" "$outdir" || rc=$?
"$top/scripts/check-log.sh" "$outdir/console.log" "$outdir/results.log" || rc=1
echo "fuzz.sh: seed $seed, exit $rc (logs in $outdir)"
exit "$rc"
