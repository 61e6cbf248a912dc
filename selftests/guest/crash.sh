#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of scripts/crash-test.sh (busybox sh): copy-ups of large files
# and renames in two writable unions until the host kills the guest hard,
# and, on the next boot over the same disks, the check that every file is
# in its old or its new state.
#
#   crash.sh run CYCLE                  first boot: make the lower branch
#                                       and its manifest, then run the load
#   crash.sh verify CYCLE CLAIMS [run|final]
#                                       check what the last crash left, then
#                                       run the load again (run) or also
#                                       check every lower byte (final)
#
# Unions (lower branch /mnt/ext4/crash/lower on ext4 for all):
#   e4  rw branch on ext4 (same filesystem: copy_file_range), aufs
#   xf  rw branch on xfs (another filesystem: splice), whiteout=overlay
#   r4  rw branch on ext4, whiteout=overlay: renames only
# Each generation of the load gets a fresh rw branch BASE/u.N.  e4 and xf
# copy up f0..f2 (64, 128, 256 MiB) by writing a 4 KiB marker at offset 0
# (fsync), rename fK -> gK, rename the small s0..s2 back and forth, rename
# gK back; r4 renames s0..s2 back and forth many times.  Then the branch is
# unmounted and retired (renamed to trash.N, removed).
#
# Slot states: fK "L" (lower content at fK), "Mf" (marked copy at fK),
# "Mg" (marked copy at gK); sK "s" or "t" (at sK or tK).  Events on the
# results channel, for the host:
#   EV U GEN N | EV U BEGIN SLOT FROM>TO | EV U DURABLE SLOT STATE | EV U END N
# DURABLE is printed after the change and a syncfs of the rw branch's real
# filesystem, so it must survive the crash.  CLAIMS (from the host) is a
# comma list of U:N:SLOT:STATE[|STATE], the states each slot may be in.
#
# Output: one "CHECK ..." line per union branch looked at, and
#   RESULT CYCLE torn=T lost=L workdir=W lower=B leftovers=F unions=U
set -u

L=/mnt/ext4/crash/lower
MAN=/mnt/ext4/crash/manifest
SIZES="64 128 256"
SLOTS="0 1 2"

mode=${1:?mode} cycle=${2:-0} claims=${3:-} next=${4:-}
[ "$mode" = run ] && next=run

torn=0 lost=0 wdirty=0 lowerbad=0 leftovers=0 unions=0

say() { echo "$*"; }

UNIONS="e4 xf r4"
base_of() {
	case $1 in
	e4) echo /mnt/ext4/crash/e4 ;; xf) echo /mnt/xfs/crash/xf ;; r4) echo /mnt/ext4/crash/r4 ;;
	esac
}
fmt_of() { case $1 in e4) echo aufs ;; *) echo overlay ;; esac; }

mark() { # slot -> /tmp/mark.K, 4096 bytes
	printf 'strata crash-test marker, slot %s\n' "$1" |
		dd of=/tmp/mark."$1" bs=4096 count=1 conv=sync 2>/dev/null
}

crc() { crc32 <"$1" 2>/dev/null || echo none; }
size() { stat -c %s "$1" 2>/dev/null || echo none; }
man() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$MAN"; }

prep() {
	mkdir -p "$L" /mnt/ext4/crash/e4 /mnt/xfs/crash/xf /mnt/ext4/crash/r4
	rm -f "$MAN.tmp"
	i=0
	for sz in $SIZES; do
		dd if=/dev/urandom of="$L/f$i" bs=1M count="$sz" 2>/dev/null
		mark "$i"
		lc=$(crc "$L/f$i")
		mc=$({ cat /tmp/mark.$i; tail -c +4097 "$L/f$i"; } | crc32)
		echo "f$i $(size "$L/f$i") $lc $mc $(stat -c '%i %Y %Z' "$L/f$i")" >>"$MAN.tmp"
		i=$((i + 1))
	done
	for s in $SLOTS; do
		dd if=/dev/urandom of="$L/s$s" bs=1k count=$((s + 1)) 2>/dev/null
		echo "s$s $(size "$L/s$s") $(crc "$L/s$s") - $(stat -c '%i %Y %Z' "$L/s$s")" >>"$MAN.tmp"
	done
	sync
	mv "$MAN.tmp" "$MAN"
	sync
	say "PREP lower branch made: $(tr '\n' ';' <"$MAN")"
}

# The lower branch: unchanged inode, size, mtime and ctime; every byte
# when $1 = full.
check_lower() {
	while read -r name sz lc _ ino mt ct; do
		now="$(size "$L/$name") $(stat -c '%i %Y %Z' "$L/$name" 2>/dev/null)"
		if [ "$now" != "$sz $ino $mt $ct" ]; then
			say "LOWER-CHANGED $name: was '$sz $ino $mt $ct' now '$now'"
			lowerbad=$((lowerbad + 1))
		elif [ "${1:-}" = full ] && [ "$(crc "$L/$name")" != "$lc" ]; then
			say "LOWER-CHANGED $name: content"
			lowerbad=$((lowerbad + 1))
		fi
	done <"$MAN"
}

# State of one slot in the union mounted at $1 over rw branch $3: L Mf Mg
# s t, or TORN:why.  A file the rw branch does not have is the lower one
# (checked by check_lower), so only copies are read in full.
slot_state() {
	m=$1 k=$2 up=$3
	case $k in
	f*)
		n=${k#f}
		a=$m/f$n b=$m/g$n
		want=$(man "f$n" 2)
		if [ -e "$a" ] && [ ! -e "$b" ]; then
			[ "$(size "$a")" = "$want" ] || { echo "TORN:f$n-size-$(size "$a")"; return; }
			if [ ! -e "$up/f$n" ] && [ ! -e "$up/.wh.f$n" ]; then echo L; return; fi
			c=$(crc "$a")
			if [ "$c" = "$(man "f$n" 3)" ]; then echo L
			elif [ "$c" = "$(man "f$n" 4)" ]; then echo Mf
			else echo "TORN:f$n-content"; fi
		elif [ -e "$b" ] && [ ! -e "$a" ]; then
			[ "$(size "$b")" = "$want" ] || { echo "TORN:g$n-size-$(size "$b")"; return; }
			if [ "$(crc "$b")" = "$(man "f$n" 4)" ]; then echo Mg
			else echo "TORN:g$n-content"; fi
		elif [ -e "$a" ]; then echo "TORN:f$n-and-g$n"
		else echo "TORN:no-f$n-no-g$n"; fi ;;
	s*)
		n=${k#s}
		a=$m/s$n b=$m/t$n
		if [ -e "$a" ] && [ ! -e "$b" ]; then st=s p=$a
		elif [ -e "$b" ] && [ ! -e "$a" ]; then st=t p=$b
		else echo "TORN:s$n-t$n"; return; fi
		if [ "$(crc "$p")" = "$(man "s$n" 3)" ]; then echo $st
		else echo "TORN:$st$n-content"; fi ;;
	esac
}

# Is the copied file fK in the rw branch?  (Only those need hashing.)
verify_branch() { # union gen-dir
	u=$1 up=$2 gen=${2##*/u.}
	m=/tmp/m.$u
	mkdir -p "$m"
	n=$(ls -A "$up/.wh..wh.work" 2>/dev/null | wc -l)
	leftovers=$((leftovers + n))
	[ "$n" -eq 0 ] ||
		say "LEFTOVER $u $gen: $(ls -lAn --full-time "$up/.wh..wh.work" 2>/dev/null | tail -n +2 | tr -s ' ' | tr '\n' ';')"
	if ! mount -t strata -o "br=$up=rw:$L=ro,whiteout=$(fmt_of "$u")" none "$m"; then
		say "CHECK $u $gen: MOUNT FAILED"
		torn=$((torn + 1))
		return
	fi
	unions=$((unions + 1))
	w=$(ls -A "$up/.wh..wh.work" 2>/dev/null | wc -l)
	[ "$w" -eq 0 ] || { wdirty=$((wdirty + 1)); say "WORKDIR $u $gen: $w entries after mount"; }
	line="CHECK $u $gen: left=$n"
	for k in f0 f1 f2 s0 s1 s2; do
		st=$(slot_state "$m" "$k" "$up")
		line="$line $k=$st"
		case $st in TORN:*) torn=$((torn + 1)) ;; esac
		allowed=$(echo "$claims" | tr ',' '\n' | awk -F: -v u="$u" -v g="$gen" -v k="$k" \
			'$1 == u && $2 == g && $3 == k { print $4 }')
		if [ -n "$allowed" ]; then
			case "|$allowed|" in
			*"|$st|"*) ;;
			*) lost=$((lost + 1)); line="$line(LOST:want:$allowed)" ;;
			esac
		fi
	done
	umount "$m"
	say "$line"
}

verify() {
	for u in $UNIONS; do
		b=$(base_of "$u")
		found=
		for up in $(ls -d "$b"/u.* 2>/dev/null); do
			found=1
			verify_branch "$u" "$up"
		done
		# A claimed generation must still be there.
		for g in $(echo "$claims" | tr ',' '\n' | awk -F: -v u="$u" '$1 == u { print $2 }' | sort -u); do
			if [ ! -d "$b/u.$g" ]; then
				lost=$((lost + 1))
				say "LOST $u: generation $g is gone"
			fi
		done
		[ -n "$found" ] || say "CHECK $u: no rw branch left (all lower)"
		# Retire everything: the next load starts from the lower state.
		for up in $(ls -d "$b"/u.* 2>/dev/null); do mv "$up" "$b/trash.${up##*/u.}"; done
		rm -rf "$b"/trash.*
	done
	sync
	check_lower "$([ "$next" = final ] && echo full)"
	say "RESULT $cycle torn=$torn lost=$lost workdir=$wdirty lower=$lowerbad leftovers=$leftovers unions=$unions"
}

ev() { echo "EV $*"; }

load() { # union
	u=$1 b=$(base_of "$1") fmt=$(fmt_of "$1")
	m=/tmp/m.$u
	mkdir -p "$m"
	n=$((cycle * 1000))
	while :; do
		n=$((n + 1))
		up=$b/u.$n
		mkdir "$up" && sync -f "$b" || { ev "$u" ERROR mkdir; return 1; }
		mount -t strata -o "br=$up=rw:$L=ro,whiteout=$fmt" none "$m" ||
			{ ev "$u" ERROR mount; return 1; }
		ev "$u" GEN "$n"
		touch /tmp/ready."$u"
		for k in $SLOTS; do
			ev "$u" BEGIN "f$k" "L>Mf"
			dd if=/tmp/mark."$k" of="$m/f$k" bs=4096 count=1 conv=notrunc,fsync 2>/dev/null ||
				ev "$u" ERROR "dd f$k"
			sync -f "$up"
			ev "$u" DURABLE "f$k" Mf
			ev "$u" BEGIN "f$k" "Mf>Mg"
			mv "$m/f$k" "$m/g$k" || ev "$u" ERROR "mv f$k"
			sync -f "$up"
			ev "$u" DURABLE "f$k" Mg
		done
		for i in 1; do
			for s in $SLOTS; do
				ev "$u" BEGIN "s$s" "s>t"
				mv "$m/s$s" "$m/t$s" || ev "$u" ERROR "mv s$s"
				sync -f "$up"
				ev "$u" DURABLE "s$s" t
				ev "$u" BEGIN "s$s" "t>s"
				mv "$m/t$s" "$m/s$s" || ev "$u" ERROR "mv t$s"
				sync -f "$up"
				ev "$u" DURABLE "s$s" s
			done
		done
		for k in $SLOTS; do
			ev "$u" BEGIN "f$k" "Mg>Mf"
			mv "$m/g$k" "$m/f$k" || ev "$u" ERROR "mv g$k"
			sync -f "$up"
			ev "$u" DURABLE "f$k" Mf
		done
		end_gen "$u" "$up" "$b" "$n" || return 1
	done
}

end_gen() { # union up base n
	umount "/tmp/m.$1" || { ev "$1" ERROR umount; return 1; }
	ev "$1" END "$4"
	mv "$2" "$3/trash.$4" && rm -rf "$3/trash.$4"
	sync -f "$3"
}

# r4: renames only, many of them, each made durable before the next.
load_renames() { # union
	u=$1 b=$(base_of "$1") fmt=$(fmt_of "$1")
	m=/tmp/m.$u
	mkdir -p "$m"
	n=$((cycle * 1000))
	while :; do
		n=$((n + 1))
		up=$b/u.$n
		mkdir "$up" && sync -f "$b" || { ev "$u" ERROR mkdir; return 1; }
		mount -t strata -o "br=$up=rw:$L=ro,whiteout=$fmt" none "$m" ||
			{ ev "$u" ERROR mount; return 1; }
		ev "$u" GEN "$n"
		touch /tmp/ready."$u"
		for i in $(seq 1 40); do
			for s in $SLOTS; do
				ev "$u" BEGIN "s$s" "s>t"
				mv "$m/s$s" "$m/t$s" || ev "$u" ERROR "mv s$s"
				sync -f "$up"
				ev "$u" DURABLE "s$s" t
				ev "$u" BEGIN "s$s" "t>s"
				mv "$m/t$s" "$m/s$s" || ev "$u" ERROR "mv t$s"
				sync -f "$up"
				ev "$u" DURABLE "s$s" s
			done
		done
		end_gen "$u" "$up" "$b" "$n" || return 1
	done
}

run() {
	for k in $SLOTS; do mark "$k"; done
	rm -f /tmp/ready.*
	load e4 &
	load xf &
	load_renames r4 &
	i=0
	while [ ! -e /tmp/ready.e4 ] || [ ! -e /tmp/ready.xf ] || [ ! -e /tmp/ready.r4 ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || { say "ERROR: the load did not start"; return 1; }
		sleep 0.1
	done
	say "READY cycle $cycle"
	wait
	say "ERROR: the load stopped by itself"
	return 1
}

case $mode in
run)
	[ -f "$MAN" ] || prep
	run ;;
verify)
	[ -f "$MAN" ] || { say "RESULT $cycle torn=0 lost=1 workdir=0 lower=1 leftovers=0 unions=0 (no manifest)"; exit 1; }
	verify
	[ "$next" != run ] || run ;;
*)
	echo "crash.sh: unknown mode $mode" >&2
	exit 2 ;;
esac
