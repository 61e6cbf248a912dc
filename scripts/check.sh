#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh KVER...: `make check` after the build.  For each kernel, one
# after the other: boot a guest with fresh disks (qemu-run.sh), turn its
# results channel into TAP (tap-summary.sh) and scan its kernel log
# (check-log.sh; a clean log is one more passing case per kernel).
# Logs stay in build/logs/KVER/.  The last line of output is always
# "N passed, N failed" (", N skipped" when there are skips); the exit status
# is non-zero when anything failed or no test program ran at all.
#
# STRATA_TIMEOUT and STRATA_IDLE (seconds) tune qemu-run.sh's watchdog.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build} # STRATA_BUILD: for testing the harness
scripts=$top/scripts
if [ $# -eq 0 ]; then
	echo "check.sh: no target kernels (run scripts/deps.sh)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

pass=0 fail=0 skip=0 programs=0 n=0
summary=()
echo "TAP version 13"

# Host-only unit tests of the helper: no VM needed.
started=$SECONDS
hp=0 hf=0
while IFS= read -r line; do
	case $line in
	"ok "*) n=$((n + 1)) hp=$((hp + 1)); echo "ok $n host ${line#ok * }" ;;
	"not ok "*) n=$((n + 1)) hf=$((hf + 1)); echo "not ok $n host ${line#not ok * }" ;;
	"# "*) echo "$line" ;;
	esac
done < <(make -s --no-print-directory -C "$top/userspace" test \
	O="$build/userspace" 2>&1 || echo "not ok 0 userspace unit tests did not build or run")
# Static checks: kernel style and the generated netlink code.
static_check() { # NAME COMMAND...
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		hp=$((hp + 1))
		echo "ok $n host $name"
	else
		hf=$((hf + 1))
		echo "not ok $n host $name"
		sed 's/^/# /' <<<"$out" | tail -n 40
	fi
}
static_check "checkpatch: kmod/ is kernel style" "$scripts/checkpatch.sh"
static_check "ynl: uapi and kmod/genl.[ch] match the netlink spec" \
	"$scripts/ynl-regen.sh" --check
static_check "fuzz: libFuzzer on layer tar reading and entry checks (${STRATA_FUZZ_SECS:-30}s)" \
	make -s --no-print-directory -C "$top/userspace" fuzz-run \
	O="$build/userspace" FUZZ_SECS="${STRATA_FUZZ_SECS:-30}"
pass=$((pass + hp)) fail=$((fail + hf))
summary+=("# host: $hp passed, $hf failed (helper unit tests), wall $((SECONDS - started))s")
for k in "$@"; do
	started=$SECONDS
	logs=$build/logs/$k
	rm -rf "$logs"
	mkdir -p "$logs"
	: >"$logs/results.log"
	"$scripts/qemu-run.sh" --timeout "${STRATA_TIMEOUT:-1500}" \
		--idle "${STRATA_IDLE:-300}" "$k" "$logs" || true

	out=$("$scripts/tap-summary.sh" "$k" $((n + 1)) "$logs/results.log")
	read -r _ _ p f s progs <<<"$(tail -n 1 <<<"$out")"
	n=$((n + p + f + s))
	grep -v '^#' <<<"$out" || true
	if "$scripts/check-log.sh" "$logs/console.log" "$logs/results.log" \
		>"$logs/check-log.txt" 2>&1; then
		klog=clean n=$((n + 1)) p=$((p + 1))
		echo "ok $n $k kernel-log: no warning, oops, BUG, lockdep, KASAN or kmemleak report"
	else
		klog=dirty n=$((n + 1)) f=$((f + 1))
		echo "not ok $n $k kernel-log: $(tail -n 1 "$logs/check-log.txt")"
	fi
	grep '^# ' <<<"$out" | grep -v '^# counts ' || true
	[ "$klog" = clean ] || sed "s/^/# $k kernel-log: /" "$logs/check-log.txt"

	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	programs=$((programs + progs))
	boot=$(sed -n 's/^### BOOT uptime=//p' "$logs/results.log" | head -n 1)
	accel=tcg
	grep -q -- '-accel kvm' "$logs/qemu.cmdline" 2>/dev/null && accel=kvm
	summary+=("# $k: $p passed, $f failed, $s skipped ($progs test programs); guest up after ${boot:-?}s, wall $((SECONDS - started))s ($accel)")
done
# A root filesystem on strata, booted to its own init (make demo-vmroot).
for k in "$@"; do
	n=$((n + 1))
	if out=$("$scripts/demo.sh" --vmroot "$k" 2>&1); then
		pass=$((pass + 1))
		echo "ok $n $k vmroot: the guest ran from a strata root and left its base untouched"
	else
		fail=$((fail + 1))
		echo "not ok $n $k vmroot"
		sed 's/^/# /' <<<"$out" | tail -n 40
	fi
done
# Power cuts during copy-ups and renames (see scripts/crash-test.sh): a
# few cycles per kernel here, `make crash-test CYCLES=N` for long runs.
started=$SECONDS cp_=0 cf_=0
while IFS= read -r line; do
	case $line in
	"ok "*) n=$((n + 1)) cp_=$((cp_ + 1)); echo "ok $n ${line#ok * }" ;;
	"not ok "*) n=$((n + 1)) cf_=$((cf_ + 1)); echo "not ok $n ${line#not ok * }" ;;
	"# "*) echo "$line" ;;
	esac
done < <("$scripts/crash-test.sh" --cycles "${STRATA_CRASH_CYCLES:-3}" "$@" 2>&1 ||
	echo "not ok 0 crash test did not complete")
pass=$((pass + cp_)) fail=$((fail + cf_))
summary+=("# crash: $cp_ passed, $cf_ failed (${STRATA_CRASH_CYCLES:-3} power-cut cycles per kernel), wall $((SECONDS - started))s")
if [ "$programs" -eq 0 ]; then
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n no test program ran (is build/selftests/ empty?)"
fi
echo "1..$n"
printf '%s\n' "${summary[@]}"
line="$pass passed, $fail failed"
[ "$skip" -eq 0 ] || line+=", $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
