#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--reps N] [--workloads "W..."] [--no-icount] KVER...
#
# `make bench`: for each kernel, boot the QEMU guest (scripts/qemu-run.sh
# --cmd) and run selftests/guest/bench.sh, which times every workload on
# strata, on overlayfs over the same layer directories and on the raw
# branch filesystem.  Then scripts/bench/report.py prints the table
# (workload, parameter, strata, overlay, raw, strata/overlay, strata/raw)
# and writes, in build/bench/KVER/:
#
#   results.csv        one row per workload, parameter and kind: median,
#                      min, max and spread over the repetitions
#   table.txt/.md      the table as printed / in Markdown (BENCHMARKS.md)
#   FAMILY.svg         one plot per workload family
#   boot-CLOCK/        the guest logs (results.log has the raw samples)
#
# Two clocks.  When qemu-run.sh passes extra QEMU arguments from
# STRATA_QEMU_ARGS, the metadata workloads (lookups, warm readdir,
# create/unlink, unpacking a tree, memory) run in a boot with one vCPU and
# -icount shift=0,sleep=off: the guest's monotonic clock then counts
# instructions (deterministic), and the I/O workloads (reads, copy-up,
# cold readdir) in a second, normal boot (wall time).  Otherwise, or with --no-icount, everything runs in
# one boot in wall time.  Either way only ratios mean something: the guest
# is emulated.
#
# Room for the 1 GiB copy-up: the branch images are BENCH_DISK (sparse)
# and, where qemu-run.sh takes extra QEMU arguments, the wall-clock boot
# gets BENCH_RAM of RAM (tmpfs keeps the file and its copy in RAM).  The
# icount boot keeps qemu-run.sh's RAM.  Without the room bench.sh reports
# those rows as n/a, with the reason.
#
# Under -icount the guest's clock counts instructions, so run.sh prints
# each workload's host wall time as it ends ("took N s on the host") and
# each boot's: the budget of `make bench` (20 minutes, both kernels).
#
# The guest gets a private snapshot of strata.ko and the bench programs
# (STRATA_BUILD=build/bench/stage/KVER), so a `make check` running at the
# same time neither disturbs nor is disturbed by it.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
# STRATA_QEMU_RUN: another runner with qemu-run.sh's interface (for
# trying a changed runner without touching the real one).
runner=${STRATA_QEMU_RUN:-$top/scripts/qemu-run.sh}
reps=5 workloads='' icount=auto
BENCH_DISK=4G BENCH_RAM=4G
META="stat readdir-warm churn untar mem"
IO="readdir-cold read copyup"

usage() { sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=${2:?}; shift ;;
	--workloads) workloads=${2:?}; shift ;;
	--no-icount) icount=no ;;
	-h|--help) usage ;;
	-*) echo "bench: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || usage

# The guest's bench program: static, like the selftests.
tool=$build/bench/benchtool
mkdir -p "$build/bench"
if [ ! -x "$tool" ] || [ "$top/bench/benchtool.c" -nt "$tool" ]; then
	gcc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static \
		-o "$tool" "$top/bench/benchtool.c"
fi

qemu_args=no
grep -q STRATA_QEMU_ARGS "$runner" && qemu_args=yes
if [ "$icount" = auto ]; then
	if [ "$qemu_args" = yes ]; then
		icount=yes
	else
		icount=no
		echo "bench: qemu-run.sh takes no extra QEMU arguments (STRATA_QEMU_ARGS):" \
			"everything in wall time" >&2
	fi
fi

# host_times KVER: read the guest's results channel; on stderr, the host
# wall time of each workload (from its @BEGIN to its @END line).
host_times() {
	local kver=$1 line w t0=$SECONDS
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		@BEGIN\ *) t0=$SECONDS ;;
		@END\ *)
			read -r _ w _ <<<"$line"
			echo "bench: $kver: $w took $((SECONDS - t0)) s on the host" >&2 ;;
		esac
	done
}

# boot KVER STAGE CLOCK WORKLOADS: one guest run, logs in build/bench/KVER/boot-CLOCK.
boot() {
	local kver=$1 stage=$2 clock=$3 wl=$4 out=$build/bench/$1/boot-$3 rc=0 t0=$SECONDS rpid
	local -a env=(STRATA_BUILD="$stage" STRATA_DISK_SIZE="$BENCH_DISK")
	if [ "$clock" = icount ]; then
		# -icount works with TCG only.  One vCPU: the 6.1 guest hangs
		# bringing up the second one under -icount, and instructions run
		# by another vCPU would be counted too.  (QEMU takes the last
		# -smp given.)
		env+=(STRATA_ACCEL=tcg STRATA_QEMU_ARGS="-icount shift=0,sleep=off -smp 1")
	elif [ "$qemu_args" = yes ]; then
		# QEMU takes the last -m given.
		env+=(STRATA_QEMU_ARGS="-m $BENCH_RAM")
	fi
	echo "bench: $kver: booting ($clock clock): $wl" >&2
	# The guest prints a workload's results when it ends (writing to the
	# serial port while measuring would be measured too), and copyup, with
	# its 1 GiB files, stays silent for minutes on a loaded host.
	# --keep-disks: the second boot of a kernel finds the layers the first
	# built (the 102400-entry readdir sets take a minute to make); the
	# first makes fresh images, $stage being new.
	rm -f "$out/results.log"
	env "${env[@]}" "$runner" --timeout 2400 --idle 900 --keep-disks \
		--cmd "sh /strata/selftests/bench.sh -r $reps -c $clock $wl" \
		"$kver" "$out" >"$out.stdout" 2>&1 &
	rpid=$!
	# The results file as the guest writes it (the runner's copy on
	# stdout comes in bursts).
	tail -n +1 -F --pid="$rpid" "$out/results.log" 2>/dev/null | host_times "$kver" || true
	wait "$rpid" || rc=$?
	grep -E '^@(I|NA|BEGIN|END)' "$out.stdout" | sed "s/^/bench: $kver: /" >&2 || true
	[ "$rc" -eq 0 ] || echo "bench: $kver: guest run ($clock) exited $rc; see $out/" >&2
	echo "bench: $kver: the $clock boot took $((SECONDS - t0)) s on the host" >&2
	logs+=("$out/results.log")
	return 0
}

status=0
for kver in "$@"; do
	ko=$build/$kver/strata.ko
	[ -f "$ko" ] || { echo "bench: $ko missing (make module)" >&2; status=1; continue; }
	mkdir -p "$build/bench/$kver"
	# A private build tree for qemu-run.sh: this kernel's strata.ko and the
	# bench programs only (mkinitramfs ships everything in selftests/).
	stage=$build/bench/stage/$kver
	rm -rf "$stage"
	mkdir -p "$stage/$kver" "$stage/selftests"
	cp "$ko" "$stage/$kver/strata.ko"
	install -m 755 "$top/selftests/guest/bench.sh" "$stage/selftests/bench.sh"
	install -m 755 "$tool" "$stage/selftests/bench-benchtool"
	cp "$build"/.accel-* "$stage/" 2>/dev/null || true

	# What was measured: the module and the tree it was built from.
	{
		echo "kernel: $kver"
		echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "tree: $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
		echo "strata.ko: $(stat -c '%y' "$ko" | cut -c1-19), sha256 $(sha256sum "$ko" | cut -c1-16)"
		echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
		echo "clocks: $([ "$icount" = yes ] && echo "icount (metadata) + wall (I/O)" || echo wall)"
		echo "repetitions: $reps (fewer for the big sizes: the table's notes)"
		ram=$BENCH_RAM
		[ "$qemu_args" = yes ] || ram="qemu-run.sh's"
		echo "wall-clock guest: $BENCH_DISK branch images, $ram RAM"
	} >"$build/bench/$kver/meta.txt"

	logs=()
	meta=$META io=$IO
	if [ -n "$workloads" ]; then
		meta='' io=''
		for w in $workloads; do
			case " $META " in
			*" $w "*) meta+=" $w" ;;
			*) io+=" $w" ;;
			esac
		done
	fi
	if [ "$icount" = yes ]; then
		[ -z "$meta" ] || boot "$kver" "$stage" icount "$meta"
		[ -z "$io" ] || boot "$kver" "$stage" wall "$io"
	else
		boot "$kver" "$stage" wall "$meta $io"
	fi
	sed 's/^/# /' "$build/bench/$kver/meta.txt"
	python3 "$top/scripts/bench/report.py" --kver "$kver" \
		--out "$build/bench/$kver" "${logs[@]}" || status=1
	# The branch images are large and useless after the run.
	rm -rf "$stage/disks"
done
echo "bench: $* took $SECONDS s on the host" >&2
exit $status
