#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-run.sh [MODE] [--timeout SECS] [--idle SECS] [--keep-disks] [--shard I/N]
#             [--kernel IMAGE --modroot DIR] [--test-timeout SECS] KVER [OUTDIR]
#
# Boot /boot/vmlinuz-KVER with a strata initramfs and three branch disks.
#   (default)      run every selftest (guest strata_mode=check)
#   --demo         run the guest's /strata/demo.sh, output live on stdout
#   --vmroot       switch the guest's root to a strata union (busybox base
#                  layer + tmpfs top) and show it, output live on stdout
#   --cmd "CMD"    run CMD in the guest (busybox sh), output live on stdout
#   --shell        interactive: the console on this terminal, a shell in the
#                  guest with everything loaded and mounted (Ctrl-A x quits)
#
# OUTDIR (default build/logs/KVER, or build/logs/KVER/MODE) receives console.log (ttyS0: kernel
# messages), results.log (ttyS1: what the guest init reports, see
# selftests/guest/init) and qemu.log.  A host watchdog kills the guest after
# --timeout seconds (default 1500) or when results.log has not grown for
# --idle seconds (default 300), and names the test that was running.
# --test-timeout: the guest's limit per test program (default 600).
# --shard I/N: run only the I-th of N shares of the test programs (check
# mode; I counts from 0), on disks of its own, so that N guests of one
# kernel can run side by side.
#
# A kernel not installed under /boot (make check-debug's): --kernel gives
# its image, --modroot the INSTALL_MOD_PATH holding lib/modules/KVER.
#
# When a test crashes or hangs the guest, check mode boots it again to run
# the tests after that one (marking the stop with "### WATCHDOG ..." or
# "### GUEST-DIED ..." in results.log).
#
# Exit status: check mode 0 when the guest finished (test verdicts are in
# results.log), demo/cmd mode the command's status; 124 when the watchdog
# fired, 1 when the guest died early (e.g. a panic).
#
# KVM is used when /dev/kvm works (probed once per host boot), else TCG;
# STRATA_ACCEL=kvm|tcg overrides the probe.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build} # STRATA_BUILD: for testing the harness

usage() {
	sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

mode=check cmd='' timeout=1500 idle=300 keep_disks='' kernel='' test_timeout='' shard=''
while [ $# -gt 0 ]; do
	case $1 in
	--shell) mode=shell ;;
	--demo) mode=demo ;;
	--vmroot) mode=vmroot ;;
	--cmd) mode=cmd cmd=${2:?--cmd needs a command}; shift ;;
	--timeout) timeout=${2:?}; shift ;;
	--idle) idle=${2:?}; shift ;;
	--keep-disks) keep_disks=1 ;;
	--kernel) kernel=${2:?}; shift ;;
	--modroot) export STRATA_MODROOT=${2:?}; shift ;;
	--test-timeout) test_timeout=${2:?}; shift ;;
	--shard) shard=${2:?}; shift ;;
	-h|--help) usage ;;
	-*) echo "qemu-run: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
case $# in 1|2) ;; *) usage ;; esac
kver=$1
if [ -n "$shard" ] && ! [[ $shard =~ ^([0-9]+)/([0-9]+)$ && ${BASH_REMATCH[1]} -lt ${BASH_REMATCH[2]} ]]; then
	echo "qemu-run: --shard wants I/N with 0 <= I < N, not $shard" >&2
	exit 2
fi
# Interactive and demo runs must not overwrite the logs of the last check.
outdir=$build/logs/$kver
[ "$mode" = check ] || outdir+=/$mode
outdir=${2:-$outdir}
kernel=${kernel:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || { echo "qemu-run: $kernel not found" >&2; exit 1; }

mkdir -p "$outdir"
disks=$build/disks/$kver${shard:+-${shard%/*}}
initrd=$build/initramfs/$kver.cpio.gz
if [ -z "$keep_disks" ] || [ ! -f "$disks/btrfs.img" ]; then
	"$top/scripts/mkdisks.sh" "$disks"
fi
"$top/scripts/mkinitramfs.sh" "$kver" "$initrd"

# A /dev/kvm that exists may still not run guests (nested virtualisation
# without the needed MSRs hangs or aborts), so boot the kernel once and
# look for its banner.  The answer is cached until the host reboots.
choose_accel() {
	if [ -n "${STRATA_ACCEL:-}" ]; then
		echo "$STRATA_ACCEL"
		return
	fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo tcg
		return
	fi
	local cache probe pid tries=40 ans=tcg
	cache=$build/.accel-$(cat /proc/sys/kernel/random/boot_id)
	if [ -f "$cache" ]; then
		cat "$cache"
		return
	fi
	probe=$(mktemp)
	qemu-system-x86_64 -accel kvm -cpu host -m 256M -nodefaults -display none \
		-no-reboot -serial "file:$probe" -kernel "$kernel" \
		-append "console=ttyS0 panic=-1" </dev/null >/dev/null 2>&1 &
	pid=$!
	while [ $((tries -= 1)) -ge 0 ]; do
		if grep -q 'Linux version' "$probe" 2>/dev/null; then
			ans=kvm
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$probe"
	mkdir -p "$build"
	echo "$ans" >"$cache"
	echo "$ans"
}
accel=$(choose_accel)
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
# "max" gives the emulated CPU SSE4.2, AVX2 etc., so the distro's
# accelerated crc32c and friends load as they would on real hardware.
# thread=single: with multi-threaded TCG the 6.12 guest now and then dies
# at boot with "Oops: int3" in code being live-patched (text_poke_bp) by
# the other vCPU (QEMU 7.2; about 1 boot in 20 here).  Round-robin vCPUs
# boot just as fast.
tcg) accel_args=(-accel "tcg,thread=single" -cpu max) ;;
*) echo "qemu-run: bad STRATA_ACCEL=$accel" >&2; exit 2 ;;
esac

# No oops=panic and no panic_on_warn: a warning or an oops must not stop the
# run before its log is collected; check-log.sh turns it into a failure.
# A real panic reboots at once (panic=-1), and -no-reboot ends QEMU.
append="console=ttyS0,115200 panic=-1 panic_on_warn=0 loglevel=7 strata_mode=$mode"
[ "$mode" != cmd ] || append+=" strata_cmd=$(printf '%s' "$cmd" | base64 -w0)"
[ -z "$test_timeout" ] || append+=" strata_test_timeout=$test_timeout"
[ -z "$shard" ] || append+=" strata_shard=$shard"

console=$outdir/console.log
results=$outdir/results.log
rm -f "$console" "$results" "$outdir/qemu.log" "$outdir/qemu.cmdline"
: >"$results"

qemu=(qemu-system-x86_64 "${accel_args[@]}" -m 2G -smp 2
	-nodefaults -nographic -no-reboot -kernel "$kernel" -initrd "$initrd")
# Fixed order: vda=ext4, vdb=xfs, vdc=btrfs.  cache=unsafe: the images are
# thrown away after the run, so host-side flushes are wasted time.
for fs in ext4 xfs btrfs; do
	qemu+=(-drive "file=$disks/$fs.img,format=raw,if=virtio,cache=unsafe")
done
# STRATA_QEMU_ARGS: more QEMU arguments, split at white space (make bench
# uses "-icount shift=0,sleep=off" to count instructions instead of time).
read -r -a extra_args <<<"${STRATA_QEMU_ARGS:-}"
qemu+=("${extra_args[@]}")

if [ "$mode" = shell ]; then
	echo "qemu-run: $kver ($accel); Ctrl-A x quits, Ctrl-A c is the QEMU monitor"
	exec "${qemu[@]}" -append "$append" -serial mon:stdio -serial "file:$results"
fi

# The logs are appended to, so that a resumed boot (below) adds to them.
qemu+=(-chardev "file,id=con,path=$console,append=on" -serial chardev:con
	-chardev "file,id=res,path=$results,append=on" -serial chardev:res)

# Live view of the results channel while the guest runs: full output in
# demo/cmd mode, one line per test otherwise (on stderr, for `make check`).
follow() {
	if [ "$mode" = check ]; then
		awk -v k="$kver" '
			/^### BOOT/ { printf "[%s] guest up after %ss\n", k, substr($3, 8) }
			/^### (BEGIN|END|SETUP-FAIL)/ { print "[" k "] " substr($0, 5) }
			{ fflush() }' >&2
	else
		awk '/^### DMESG/ { quiet = 1 } !quiet && !/^### / { print; fflush() }'
	fi
}

# The test running when the guest stopped: the last BEGIN without an END
# since the last boot, and the last kselftest "#  RUN" line inside it.
running_test() {
	tr -d '\r' <"$results" | awk -v want="$1" '
		/^### (BOOT|WATCHDOG|GUEST-DIED)/ { name = "" }
		/^### BEGIN / { name = $3; run = "" }
		/^### END / { name = "" }
		/^#  RUN / { run = $0 }
		END {
			if (name == "") exit
			print (want == "name" || run == "" ? name : name " (last: " run ")")
		}'
}

# One boot with kernel command line $1, under the watchdog.  Sets $reason
# when the watchdog killed it.
boot_once() {
	local qpid fpid size last_size last_change
	printf '%q ' "${qemu[@]}" -append "$1" >"$outdir/qemu.cmdline"
	echo >>"$outdir/qemu.cmdline"
	last_size=$(stat -c %s "$results")
	"${qemu[@]}" -append "$1" </dev/null >>"$outdir/qemu.log" 2>&1 &
	qpid=$!
	tail -c "+$((last_size + 1))" -F --pid="$qpid" "$results" 2>/dev/null |
		tr -d '\r' | follow &
	fpid=$!
	reason='' last_change=$SECONDS
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		size=$(stat -c %s "$results")
		if [ "$size" != "$last_size" ]; then
			last_size=$size last_change=$SECONDS
		fi
		if [ $((SECONDS - started)) -ge "$timeout" ]; then
			reason="overall timeout (${timeout}s)"
		elif [ $((SECONDS - last_change)) -ge "$idle" ]; then
			reason="no output on the results channel for ${idle}s"
		fi
		if [ -n "$reason" ]; then
			kill "$qpid" 2>/dev/null || true
			sleep 2
			kill -9 "$qpid" 2>/dev/null || true
			break
		fi
	done
	qrc=0
	wait "$qpid" || qrc=$?
	wait "$fpid" 2>/dev/null || true
}

# A test that crashes or hangs the guest should not hide the results of the
# tests after it: in check mode the guest is booted again (with fresh disks)
# and resumes after that test, up to max_boots times within --timeout.
started=$SECONDS
max_boots=8 boots=0 resume='' status=0
while :; do
	boots=$((boots + 1))
	boot_once "$append${resume:+ strata_resume=$resume}"
	elapsed=$((SECONDS - started))
	if grep -q '^### DONE' "$results"; then
		status=0
		break
	fi
	crashed=$(running_test name)
	if [ -n "$reason" ]; then
		msg="guest killed after ${elapsed}s: $reason; running: $(running_test long)"
		status=124
		marker="### WATCHDOG $msg"
	else
		msg="guest stopped after ${elapsed}s (qemu status $qrc; a panic? see console.log)"
		status=1
		marker="### GUEST-DIED $msg"
	fi
	echo "qemu-run: $kver: $msg" >&2
	if [ -z "$reason" ]; then
		echo "qemu-run: end of $console:" >&2
		tail -n 40 "$console" | tr -d '\r' | sed 's/^/    /' >&2
		[ ! -s "$outdir/qemu.log" ] || sed 's/^/    qemu: /' "$outdir/qemu.log" >&2
	fi
	# On a line of its own even if the guest was cut off mid-line.
	[ -z "$(tail -c 1 "$results")" ] || echo >>"$results"
	echo "$marker" >>"$results"

	if [ "$mode" != check ] || [ -z "$crashed" ] || [ "$boots" -ge "$max_boots" ] ||
	   [ $((SECONDS - started)) -ge "$timeout" ]; then
		break
	fi
	echo "qemu-run: $kver: booting again to run the tests after $crashed" >&2
	resume=$crashed
	"$top/scripts/mkdisks.sh" "$disks"
done

[ "$status" -eq 0 ] || exit "$status"
echo "qemu-run: $kver: guest finished in ${elapsed}s ($accel, $boots boot(s))" >&2
if [ "$mode" = check ]; then
	exit 0
fi
rc=$(sed -n 's/^### EXIT rc=\([0-9]*\).*/\1/p' "$results" | tail -n 1)
exit "${rc:-1}"
