#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# crash-test.sh [--cycles N] [--seed S] [--min SECS] [--max SECS] [KVER...]
#
# Power-cut test (issues 3 and 8): boot a guest on persistent disk
# images, let selftests/guest/crash.sh copy large files up, rename files
# and directories, make whiteouts, change the branches of a live union
# and import, commit and remove images in the layer store, all at once;
# kill QEMU with SIGKILL a random time after the guest says READY, boot
# again on the same disks and check that every file is in its old or its
# new state, that nothing the guest reported durable was lost, that the
# work directories are empty after mount, that the lower branches did not
# change and that the store is consistent (selftests/guest/storecheck.sh)
# with every image whole or absent.  Then the next cycle's load runs in
# that same boot.
#
# N cycles (default 5) per kernel (default: every target kernel) take N+1
# boots: the first makes the lower branches, their manifests and the test
# images, the last only checks.  Prints TAP, "ok K crash cycle C (KVER)"
# per cycle, a summary per kernel (counts, and what the kills interrupted)
# and "crash: N cycles, N torn, N lost, N store inconsistencies, N failed";
# exit status 1 if any cycle failed.
#
# Everything lives in build/crash/ (its own build tree for qemu-run.sh:
# STRATA_BUILD), or in STRATA_CRASH_DIR, so it never shares disk images
# with `make check`.  STRATA_DISK_SIZE for the images defaults to 1536M.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build}
cycles=5 seed='' min=2 max=15
usage() {
	sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--cycles) cycles=${2:?}; shift ;;
	--seed) seed=${2:?}; shift ;;
	--min) min=${2:?}; shift ;;
	--max) max=${2:?}; shift ;;
	-h|--help) usage ;;
	-*) echo "crash-test: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ "$cycles" -ge 1 ] 2>/dev/null || usage
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || mapfile -t kernels < <("$top/scripts/kernels.sh")
[ ${#kernels[@]} -gt 0 ] || { echo "crash-test: no target kernels" >&2; exit 1; }
seed=${seed:-$(date +%s)}
RANDOM=$seed

# STRATA_CRASH_DIR: another work directory, e.g. for a long run of one
# kernel beside a short one of the other.
cb=${STRATA_CRASH_DIR:-$build/crash}
mkdir -p "$cb/selftests"
# The guest gets /strata/selftests/crash.sh from this build tree's
# selftests directory (mkinitramfs.sh ships it whole); not a *_test name,
# so a check-mode guest would never run it.
install -m 644 "$top/selftests/guest/crash.sh" "$cb/selftests/crash.sh"
install -m 644 "$top/selftests/guest/storecheck.sh" "$cb/selftests/storecheck.sh"
# A snapshot of the helper (the store load and the branch changes use
# it), so that rebuilding it does not change a running test.
[ -x "$build/userspace/strata" ] ||
	{ echo "crash-test: $build/userspace/strata missing (make userspace)" >&2; exit 1; }
mkdir -p "$cb/userspace"
install -m 755 "$build/userspace/strata" "$cb/userspace/strata"
export STRATA_DISK_SIZE=${STRATA_DISK_SIZE:-1536M}

# Kill QEMU (the child of our qemu-run.sh) with SIGKILL: a power cut.
kill_guest() { # qemu-run-pid
	local q
	q=$(pgrep -P "$1" qemu-system || true)
	[ -n "$q" ] && kill -9 $q 2>/dev/null || true
}

# What each union was doing when the guest died: its last event, if it
# is an operation that had begun ("e4:f1:L>Mf" is a copy-up in flight).
inflight_from() { # results.log
	tr -d '\r' <"$1" | awk '
		$1 == "EV" { last[$2] = ($3 == "BEGIN") ? $2 ":" $4 ":" $5 : "" }
		END { sep = ""; for (u in last) if (last[u] != "") { printf "%s%s", sep, last[u]; sep = " " } }'
}

# The kind of operation an in-flight event was (for the summary).
op_kind() { # union:slot:from>to
	local u=${1%%:*} rest=${1#*:} slot from_to
	slot=${rest%%:*} from_to=${rest#*:}
	case $u:$slot:$from_to in
	*:f?:L\>Mf) echo copy-up ;;
	bc:p?:*) echo copy-up ;;
	*:f?:*|*:s?:*) echo rename ;;
	*:w?:L\>W|*:x?:*) echo whiteout ;;
	*:w?:*) echo create-over-whiteout ;;
	*:d?:*) echo dir-rename ;;
	bc:c?:*) echo create ;;
	bc:top:*) echo branch-mode+add-top ;;
	bc:extra:*) echo branch-add+rm ;;
	st:i?:A\>P) echo image-import ;;
	st:cm:A\>P) echo commit ;;
	st:*:P\>A) echo image-rm ;;
	st:ctr:*) echo container-mount/umount ;;
	st:gc:*) echo gc ;;
	*) echo other ;;
	esac
}

# The claims for the next check, from the events of the killed boot.
claims_from() { # results.log
	tr -d '\r' <"$1" | awk '
		$1 == "EV" && $3 == "GEN" { gen[$2] = $4; ended[$2] = 0
			for (k in st) if (index(k, $2 SUBSEP) == 1) delete st[k] }
		$1 == "EV" && $3 == "END" { ended[$2] = 1 }
		$1 == "EV" && $3 == "BEGIN" { split($5, t, ">"); st[$2, $4] = t[1] "|" t[2] }
		$1 == "EV" && $3 == "DURABLE" { st[$2, $4] = $5 }
		END {
			sep = ""
			for (k in st) {
				split(k, p, SUBSEP)
				if (ended[p[1]] || gen[p[1]] == "") continue
				# Steps the guest has no check for.
				if (p[2] ~ /^(top|extra|ctr|gc)$/) continue
				printf "%s%s:%s:%s:%s", sep, p[1], gen[p[1]], p[2], st[k]
				sep = ","
			}
		}'
}

# One boot; with a kill delay, SIGKILL it that long after READY.
# Sets boot_rc (0 ok, 1 no READY / guest failure).
boot() { # kver outdir cmd [delay]
	local kver=$1 out=$2 cmd=$3 delay=${4:-} pid t=0
	rm -rf "$out"
	mkdir -p "$out"
	STRATA_BUILD=$cb "$top/scripts/qemu-run.sh" --keep-disks --timeout 900 --idle 300 \
		--cmd "$cmd" "$kver" "$out" >"$out/stdout.log" 2>"$out/stderr.log" &
	pid=$!
	boot_rc=0
	if [ -n "$delay" ]; then
		until grep -q '^READY' "$out/results.log" 2>/dev/null; do
			if ! kill -0 "$pid" 2>/dev/null || [ $t -ge 6000 ]; then
				boot_rc=1
				break
			fi
			sleep 0.1
			t=$((t + 1))
		done
		if [ $boot_rc -eq 0 ]; then
			sleep "$delay"
			kill_guest "$pid"
		fi
	fi
	wait "$pid" || true
	[ -n "$delay" ] || grep -q '^### EXIT' "$out/results.log" || boot_rc=1
}

echo "TAP version 13"
echo "# crash-test: seed $seed, $cycles cycle(s) per kernel, kill ${min}-${max}s after READY"
n=0 failed=0 total_torn=0 total_lost=0 total_store=0 total_cycles=0
summary=()
for kver in "${kernels[@]}"; do
	logs=$cb/logs/$kver
	rm -rf "$cb/disks/$kver" "$logs"
	mkdir -p "$logs"
	if [ ! -f "$build/$kver/strata.ko" ]; then
		n=$((n + 1)) failed=$((failed + 1))
		echo "not ok $n crash $kver: $build/$kver/strata.ko missing (make module)"
		continue
	fi
	mkdir -p "$cb/$kver"
	ln -sf "$build/$kver/strata.ko" "$cb/$kver/strata.ko"
	started=$SECONDS torn=0 lost=0 leftovers=0 kfail=0 storebad=0
	declare -A kills=()
	prev=$logs/boot-0
	d=$(awk -v r=$RANDOM -v a="$min" -v b="$max" 'BEGIN { printf "%.1f", a + (b - a) * r / 32767 }')
	echo "# $kver: boot 0 (make the lower branch), kill ${d}s after READY"
	boot "$kver" "$prev" "sh /strata/selftests/crash.sh run 0" "$d"
	kill_at=$d
	if [ $boot_rc -ne 0 ]; then
		n=$((n + 1)) failed=$((failed + 1))
		echo "not ok $n crash $kver: first boot never got READY (see $prev)"
		tail -n 5 "$prev/results.log" 2>/dev/null | sed 's/^/# /'
		continue
	fi
	for c in $(seq 1 "$cycles"); do
		t0=$SECONDS
		# gzip+base64: the claims travel on the kernel command line.
		claims=z$(claims_from "$prev/results.log" | gzip -9n | base64 -w0)
		inflight=$(inflight_from "$prev/results.log")
		for op in $inflight; do
			kind=$(op_kind "$op")
			kills[$kind]=$((${kills[$kind]:-0} + 1))
		done
		cur=$logs/boot-$c
		if [ "$c" -lt "$cycles" ]; then
			d=$(awk -v r=$RANDOM -v a="$min" -v b="$max" 'BEGIN { printf "%.1f", a + (b - a) * r / 32767 }')
			boot "$kver" "$cur" "sh /strata/selftests/crash.sh verify $c '$claims' run" "$d"
		else
			d=''
			boot "$kver" "$cur" "sh /strata/selftests/crash.sh verify $c '$claims' final"
		fi
		res=$(tr -d '\r' <"$cur/results.log" | grep -a '^RESULT ' | tail -n 1 || true)
		n=$((n + 1)) total_cycles=$((total_cycles + 1))
		ok=1 why=''
		if [ -z "$res" ]; then
			ok=0 why="no verdict from the guest"
		else
			read -r _ _ tt ll ww bb ff uu ss _ <<<"$res"
			tt=${tt#torn=} ll=${ll#lost=} ww=${ww#workdir=} bb=${bb#lower=}
			ff=${ff#leftovers=} uu=${uu#unions=} ss=${ss#store=}
			torn=$((torn + tt)) lost=$((lost + ll)) leftovers=$((leftovers + ff))
			storebad=$((storebad + ss))
			[ "$tt$ll$ww$bb$ss" = 00000 ] ||
				{ ok=0 why="torn=$tt lost=$ll workdir=$ww lower=$bb store=$ss"; }
		fi
		# An operation of the load that failed before the kill.
		lerr=$(tr -d '\r' <"$prev/results.log" | grep -a -E '^(EV [a-z0-9]+ ERROR|ERROR)' | head -n 3 | tr '\n' ';' || true)
		[ -z "$lerr" ] || { ok=0 why="$why load of boot $((c - 1)) failed: $lerr"; }
		if ! "$top/scripts/check-log.sh" "$prev/console.log" >"$prev/check-log.txt" 2>&1; then
			ok=0 why="$why kernel log of boot $((c - 1)): $(tail -n 1 "$prev/check-log.txt")"
		fi
		if [ "$c" -eq "$cycles" ] &&
		   ! "$top/scripts/check-log.sh" "$cur/console.log" "$cur/results.log" >"$cur/check-log.txt" 2>&1; then
			ok=0 why="$why kernel log of boot $c: $(tail -n 1 "$cur/check-log.txt")"
		fi
		if [ $ok -eq 1 ] && [ "$c" -lt "$cycles" ] && [ $boot_rc -ne 0 ]; then
			ok=0 why="the load did not get READY after the check"
		fi
		# Where the time of the boot went: up, the check, the load.
		vt=$(tr -d '\r' <"$cur/results.log" | awk '
			/^### BOOT uptime=/ { sub(/.*=/, ""); up = $0 }
			/^TIME verify / { split($3, t, /s\.\./); v = t[2] - t[1] }
			END { if (v != "") printf "up %.0fs, check %.0fs", up, v }')
		detail="${res#RESULT $c }; killed ${kill_at:-?}s after READY during: ${inflight:-nothing}; $((SECONDS - t0))s (${vt:-?})"
		if [ $ok -eq 1 ]; then
			echo "ok $n crash cycle $c ($kver): $detail"
		else
			echo "not ok $n crash cycle $c ($kver): $why"
			failed=$((failed + 1)) kfail=$((kfail + 1))
			tr -d '\r' <"$cur/results.log" | grep -aE '^(CHECK|WORKDIR|LOWER|LOST|ERROR|STORE)' |
				head -n 20 | sed 's/^/#   /'
		fi
		tr -d '\r' <"$cur/results.log" | grep -aE '^(CHECK|LEFTOVER|STORE-BAD)' | sed 's/^/#   /'
		kill_at=$d
		prev=$cur
		[ $boot_rc -eq 0 ] || [ "$c" -eq "$cycles" ] || break
	done
	total_torn=$((total_torn + torn)) total_lost=$((total_lost + lost))
	total_store=$((total_store + storebad))
	secs=$((SECONDS - started))
	during=''
	for kind in $(printf '%s\n' "${!kills[@]}" | sort); do
		during+="${during:+, }$kind ${kills[$kind]}"
	done
	summary+=("# $kver: $cycles cycle(s), $kfail failed, torn $torn, lost $lost, store inconsistencies $storebad; work-dir leftovers cleaned at mount $leftovers; ${secs}s ($((secs / (cycles + 1)))s per boot)")
	summary+=("# $kver: kills landed during: ${during:-nothing recorded}")
done
echo "1..$n"
printf '%s\n' "${summary[@]}"
echo "crash: $total_cycles cycles, $total_torn torn, $total_lost lost, $total_store store inconsistencies, $failed failed (seed $seed)"
[ "$failed" -eq 0 ]
