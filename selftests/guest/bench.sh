#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# Guest side of `make bench` (busybox sh; scripts/bench/run.sh ships it and
# bench/benchtool.c's static binary in the initramfs and runs it with
# qemu-run.sh --cmd).
#
#   bench.sh [-r REPS] [-c CLOCK] [WORKLOAD...]
#
# Workloads (default: all, in this order):
#   stat         stat() of an existing bottom-layer name and of a missing
#                name, 1..1024 read-only (rr) layers on tmpfs
#   readdir-warm merged readdir of 10240 entries spread over 1..256 layers
#                and of 102400 ("100k") over 1, 16 and 64 layers (ext4),
#                directory already cached
#   readdir-cold the same after drop_caches before every pass
#   read         sequential (64 MiB) and random 4 KiB reads of a lower file
#   copyup       first write to a 4 KiB, a 64 MiB and a 1 GiB lower file,
#                overwriting the copied-up 64 MiB file ("write"), and chmod
#                of a 64 MiB and a 1 GiB lower file with the bytes the chmod
#                allocated ("FS-alloc"), on tmpfs, ext4, xfs and btrfs
#   churn        create+unlink of 1000 new names in the top branch, and
#                unlink of 1000 lower names (whiteouts), tmpfs and ext4
#   untar        unpacking a 2000-file tree into a writable union (ext4)
#   mem          slab growth after 10k lookups at 64 layers (ext4), slab
#                per mount, page cache when one lower file is read through
#                a union and directly, and through two unions
#
# For every measurement three kinds are run: strata, overlay (overlayfs
# over the same layer directories; whiteout=overlay for strata wherever a
# whiteout is written, so both write the same format) and raw (the branch
# filesystem itself).  Output, one line each, for scripts/bench/report.py:
#
#   @R FAMILY WORKLOAD PARAM KIND REP VALUE UNIT   one timed repetition
#   @NA FAMILY WORKLOAD PARAM KIND REASON          not measurable (e.g.
#                                                   overlay's 500-layer cap)
#   @I text                                         information
#
# Every measurement first runs once as a warm-up (not reported), then
# REPS times (default 5), strata, overlay and raw taking turns (mem: once).
# The big sizes take longest and run fewer times (an @I line says so): the
# 100k readdir RD_BIG_REPS times, the 1 GiB copy-up and chmod CU_BIG_REPS
# times after a warm-up of raw only.  Where the guest lacks the RAM or
# disk space for 1 GiB (run.sh gives it both), those rows are @NA with the
# reason.
# CLOCK only labels the output: "icount"
# when the host booted QEMU with -icount shift=0 (the monotonic clock
# then counts guest instructions, 1 ns = 1 instruction), else "wall".

set -u
export PATH=/strata/bin:/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "$0")" && pwd)
BT=${BENCHTOOL:-$here/bench-benchtool}
REPS=5 CLOCK=wall WARMUP=
while [ $# -gt 0 ]; do
	case $1 in
	-r) REPS=$2; shift ;;
	-c) CLOCK=$2; shift ;;
	-*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
WORKLOADS=${*:-stat readdir-warm churn untar mem readdir-cold read copyup}
# One mount point per union kind, so that both can be mounted at once and
# the repetitions of strata, overlay and raw interleave: a slow phase of the
# host then hurts all three alike.
M_strata=/mnt/bench-strata
M_overlay=/mnt/bench-overlay
# A second union of each kind over the same layers (mem: page cache).
M_strata2=/mnt/bench-strata2
M_overlay2=/mnt/bench-overlay2
mkdir -p "$M_strata" "$M_overlay" "$M_strata2" "$M_overlay2"
failures=0

info() { echo "@I $*"; }
na() { echo "@NA $*"; }
fail() {
	echo "@I FAIL: $*"
	failures=$((failures + 1))
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
umount_all() {
	local m
	for m in "$M_strata" "$M_overlay" "$M_strata2" "$M_overlay2"; do
		while grep -q " $m " /proc/mounts; do
			umount "$m" 2>/dev/null || umount -l "$m" || { fail "umount $m"; break; }
		done
	done
}
# where KIND RAWDIR: the directory a measurement of KIND works in.
where() {
	case $1 in
	strata) echo "$M_strata" ;;
	overlay) echo "$M_overlay" ;;
	*) echo "$2" ;;
	esac
}
# where2 KIND: the second mount point of KIND.
where2() {
	case $1 in
	strata) echo "$M_strata2" ;;
	overlay) echo "$M_overlay2" ;;
	esac
}

# rounds "KINDS" FUNC ARG...: "FUNC KIND ARG... REP" for REP = 0 (warm-up,
# its @R lines dropped; only the kinds in WARMUP if set) .. REPS, the kinds
# taking turns within a round.
rounds() {
	local kinds=$1 fn=$2 r=0 k ks
	shift 2
	while [ $r -le "$REPS" ]; do
		ks=$kinds
		[ $r -gt 0 ] || ks=${WARMUP:-$kinds}
		for k in $ks; do
			if [ $r -eq 0 ]; then
				"$fn" "$k" "$@" 0 >/tmp/bench.warmup
				grep -v '^@R' /tmp/bench.warmup
			else
				"$fn" "$k" "$@" "$r"
			fi
		done
		r=$((r + 1))
	done
}

# Layer lists.  layers_strata DIR FIRST LAST: rr:DIR/FIRST ... rr:DIR/LAST
# (top first); layers_ovl FIRST LAST: FIRST:...:LAST, relative to DIR.
layers_strata() {
	for i in $(seq "$2" "$3"); do printf 'rr:%s/%s ' "$1" "$i"; done
}
layers_ovl() {
	seq -s: "$1" "$2"
}

# mount_ro KIND DIR FIRST LAST: a read-only union of DIR/FIRST..DIR/LAST
# (FIRST on top) on KIND's mount point.  Status 3: more layers than
# overlayfs takes.
mount_ro() {
	local m
	m=$(where "$1")
	case $1 in
	strata)
		# shellcheck disable=SC2046
		"$BT" mount-strata "$m" $(layers_strata "$2" "$3" "$4") ;;
	overlay)
		[ $(($4 - $3 + 1)) -le 500 ] || return 3
		# One lower layer alone: refused by older overlayfs; then an
		# empty layer goes on top.
		"$BT" mount-overlay "$m" "$2" "lowerdir=$(layers_ovl "$3" "$4")" 2>/dev/null ||
			{ [ "$3" -eq "$4" ] && mkdir -p "$2/empty" &&
			  "$BT" mount-overlay "$m" "$2" "lowerdir=empty:$3"; } ;;
	*) return 1 ;;
	esac
}

# mount_rw KIND BASE: BASE/upper-KIND (rw) over BASE/lower, work directory
# BASE/work-KIND, both made empty first.  strata writes overlay-format
# whiteouts, as overlayfs does.
mount_rw() {
	local k=$1 base=$2
	rm -rf "$base/upper-$k" "$base/work-$k"
	mkdir -p "$base/upper-$k" "$base/work-$k"
	case $k in
	strata)
		"$BT" mount-strata "$M_strata" -o workdir="$base/work-$k" \
			-o whiteout=overlay rw:"$base/upper-$k" rr:"$base/lower" ;;
	overlay)
		"$BT" mount-overlay "$M_overlay" "$base" \
			"lowerdir=lower,upperdir=upper-$k,workdir=work-$k" ;;
	esac
}
# unmount_rw KIND BASE: undo mount_rw, free the space.
unmount_rw() {
	local m
	m=$(where "$1")
	umount "$m" || fail "umount $m"
	rm -rf "$2/upper-$1" "$2/work-$1"
}

# ---------------------------------------------------------------- stat
# 1024 layers on tmpfs, 0 the top, 1023 the bottom; a union of N layers is
# 1024-N .. 1023.  Every layer has 4 files; the bottom one has the names
# looked up (b<i>, K per repetition, fresh ones each repetition so that no
# lookup is a dcache hit).  Missing names m<N><kind>_<i> are unique too.
STAT_K=200
STAT_LAYERS="1 16 64 256 500 1024"
measure_stat() { # KIND N LAYERDIR REP
	local k=$1 n=$2 r=$4 d first v
	d=$(where "$k" "$3/1023")
	first=$((r * STAT_K))
	v=$("$BT" stat "$d" b "$first" "$STAT_K" 1) || { fail "stat $k $n"; return; }
	echo "@R stat exist $n $k $r $v ns/op"
	v=$("$BT" stat "$d" "m$n${k}_" "$first" "$STAT_K" 0) || { fail "stat-missing $k $n"; return; }
	echo "@R stat missing $n $k $r $v ns/op"
}
wl_stat() {
	local L=/mnt/tmpfs/bench/stat n k kinds rc
	rm -rf "$L"
	mkdir -p "$L"
	info "stat: building 1024 layers in $L"
	for i in $(seq 0 1023); do
		{ mkdir "$L/$i" && "$BT" mkfiles "$L/$i" "f${i}_" 0 4; } ||
			{ fail "building $L/$i"; return; }
	done
	"$BT" mkfiles "$L/1023" b 0 $(((REPS + 1) * STAT_K)) ||
		{ fail "building $L/1023"; return; }
	for n in $STAT_LAYERS; do
		kinds=
		for k in strata overlay; do
			rc=0
			mount_ro $k "$L" $((1024 - n)) 1023 || rc=$?
			case $rc in
			0) kinds="$kinds $k" ;;
			3) na stat exist "$n" $k "overlayfs takes at most 500 lower layers"
			   na stat missing "$n" $k "overlayfs takes at most 500 lower layers" ;;
			*) fail "mount $k with $n layers" ;;
			esac
		done
		rounds "$kinds raw" measure_stat "$n" "$L"
		umount_all
	done
	rm -rf "$L"
}

# ---------------------------------------------------------------- readdir
# Two sets: TOTAL=10240 entries at 1..256 layers (workloads "warm", "cold")
# and TOTAL=102400 at 1, 16 and 64 layers ("warm-100k", "cold-100k"; fewer
# repetitions: RD_BIG_REPS).  For N layers: DIR/N/<i>/d holds TOTAL/N
# distinct names, so the merged d always has TOTAL entries; raw is
# DIR/1/0/d (the same TOTAL names in one directory).  The names of a layer
# are hard links of one empty file (a new one every 65000, ext4's limit):
# a 512 MiB ext4 image has only 32768 inodes.
RD_SETS="10240:1,4,16,64,256 102400:1,16,64"
RD_BIG_REPS=2
rd_dir() { echo "/mnt/ext4/bench/readdir-$1"; } # TOTAL
rd_label() { # MODE TOTAL
	[ "$2" = 10240 ] && echo "$1" || echo "$1-$(($2 / 1024))k"
}
rd_setup() { # TOTAL LAYERS
	local d n i per
	d=$(rd_dir "$1")
	[ -f "$d/.done" ] && return 0
	rm -rf "$d"
	info "readdir: building $1 entries at $2 layers in $d"
	for n in $2; do
		per=$(($1 / n))
		for i in $(seq 0 $((n - 1))); do
			{ mkdir -p "$d/$n/$i/d" &&
				"$BT" mkfiles "$d/$n/$i/d" "e${i}_" 0 "$per" link; } ||
				{ fail "building $d/$n/$i"; return 1; }
		done
	done
	sync
	touch "$d/.done"
}
measure_readdir() { # KIND MODE TOTAL N REP
	local out d
	d=$(where "$1" "$(rd_dir "$3")/1/0")
	[ "$2" = cold ] && drop_caches
	out=$("$BT" readdir "$d/d" "$3") || { fail "readdir $1 $3 $4"; return; }
	echo "@R readdir $(rd_label "$2" "$3") $4 $1 $5 ${out% *} ns"
}
wl_readdir() { # MODE
	local set total layers dir n k kinds reps=$REPS
	for set in $RD_SETS; do
		total=${set%:*} layers=$(echo "${set#*:}" | tr , ' ')
		dir=$(rd_dir "$total")
		rd_setup "$total" "$layers" || return
		if [ "$total" != 10240 ] && [ "$RD_BIG_REPS" -lt "$REPS" ]; then
			REPS=$RD_BIG_REPS
			info "readdir $(rd_label "$1" "$total"): $REPS repetitions"
		fi
		for n in $layers; do
			kinds=
			for k in strata overlay; do
				if mount_ro $k "$dir/$n" 0 $((n - 1)); then
					kinds="$kinds $k"
				else
					fail "mount $k with $n layers"
				fi
			done
			rounds "$kinds raw" measure_readdir "$1" "$total" "$n"
			umount_all
		done
		REPS=$reps
	done
}

# ---------------------------------------------------------------- read
# BASE/lower/{small,big,big2 (a file of its own: chmod'ed, never written)}
# and an empty BASE/top.  (A hard link of big would share big's copy-up:
# strata's hard-link index links it instead of copying.)
BIG=$((64 * 1024 * 1024))
cu_setup() { # FS
	local base=/mnt/$1/bench/cu
	[ -f "$base/.done2" ] && return 0
	rm -rf "$base"
	mkdir -p "$base/lower" "$base/top"
	if ! "$BT" mkdata "$base/lower/small" 4096 ||
	   ! "$BT" mkdata "$base/lower/big" "$BIG" ||
	   ! "$BT" mkdata "$base/lower/big2" "$BIG"; then
		fail "building $base"
		return 1
	fi
	sync
	touch "$base/.done2"
}
# mount_cu KIND BASE TARGET: read-only union of the copy-up set's empty
# BASE/top over BASE/lower.
mount_cu() {
	case $1 in
	strata) "$BT" mount-strata "$3" rr:"$2/top" rr:"$2/lower" ;;
	overlay) "$BT" mount-overlay "$3" "$2" lowerdir=top:lower ;;
	esac
}
# The 64 MiB file of the ext4 copy-up set, below an empty layer.
measure_read() { # KIND REP
	local out v f
	f=$(where "$1" /mnt/ext4/bench/cu/lower)/big
	out=$("$BT" readseq "$f") || { fail "readseq $1"; return; }
	[ "${out#* }" = "$BIG" ] || fail "readseq $1: read ${out#* } bytes"
	echo "@R read seq-warm 64MiB $1 $2 ${out% *} ns"
	v=$("$BT" readrand "$f" 4096) || { fail "readrand $1"; return; }
	echo "@R read rand4k-warm 64MiB $1 $2 $v ns/op"
	drop_caches
	out=$("$BT" readseq "$f") || { fail "readseq $1"; return; }
	echo "@R read seq-cold 64MiB $1 $2 ${out% *} ns"
}
wl_read() {
	local base=/mnt/ext4/bench/cu reps=$REPS
	cu_setup ext4 || return
	mount_cu strata "$base" "$M_strata" || { fail "mount strata for read"; return; }
	mount_cu overlay "$base" "$M_overlay" || { fail "mount overlay for read"; return; }
	# Cheap and noisy in wall time: three times the repetitions.
	REPS=$((REPS * 3))
	rounds "strata overlay raw" measure_read
	REPS=$reps
	umount_all
}

# ---------------------------------------------------------------- copy-up
# alloc FILE: bytes allocated to FILE (st_blocks), 0 if there is none.
alloc() { echo $(($(stat -c %b "$1" 2>/dev/null || echo 0) * 512)); }
# chmod_rows KIND FS SIZE REP FILE RESULT: time chmod(FILE), then print
# what it allocated: the growth of RESULT, the file holding the new mode
# (KIND's upper copy, which did not exist before; raw: FILE itself).
# st_blocks: on xfs and btrfs it counts the blocks a reflinked copy shares.
chmod_rows() {
	local a0 v
	a0=$(alloc "$6")
	v=$("$BT" chmod "$5") || { fail "chmod $1 $2 $3"; return; }
	echo "@R chmod $2 $3 $1 $4 $v ns"
	echo "@R chmod $2-alloc $3 $1 $4 $(($(alloc "$6") - a0)) bytes"
}
# raw_dir BASE: an empty BASE/raw for the raw copies.
raw_dir() {
	rm -rf "$1/raw"
	mkdir "$1/raw"
	sync
}
# timed FAMILY FS PARAM KIND REP BENCHTOOL-ARG...: one @R line with the
# time benchtool prints, then sync.
timed() {
	local row="$1 $2 $3 $4 $5" v
	shift 5
	v=$("$BT" "$@") || { fail "$* ($row)"; return; }
	echo "@R $row $v ns"
	sync
}
measure_copyup() { # KIND FS REP
	local k=$1 fs=$2 r=$3 base=/mnt/$2/bench/cu d
	if [ "$k" = raw ]; then
		d=$base/raw
		raw_dir "$base"
		timed copyup "$fs" 4KiB "$k" "$r" copyraw "$base/lower/small" "$d/small"
		timed copyup "$fs" 64MiB "$k" "$r" copyraw "$base/lower/big" "$d/big"
		timed write "$fs" 64MiB "$k" "$r" writeseq "$d/big"
		chmod_rows "$k" "$fs" 64MiB "$r" "$d/big" "$d/big"
		rm -rf "$d"
		return
	fi
	mount_rw "$k" "$base" || { fail "mount $k rw on $fs"; return; }
	d=$(where "$k")
	sync
	timed copyup "$fs" 4KiB "$k" "$r" firstwrite "$d/small"
	timed copyup "$fs" 64MiB "$k" "$r" firstwrite "$d/big"
	# Writing to the file now copied up: the data path of the rw branch.
	timed write "$fs" 64MiB "$k" "$r" writeseq "$d/big"
	chmod_rows "$k" "$fs" 64MiB "$r" "$d/big2" "$base/upper-$k/big2"
	unmount_rw "$k" "$base"
}

# 1 GiB: /mnt/FS/bench/cu1g/lower/huge.  The first write (a copy-up) and
# the chmod (strata: metadata only; overlayfs: all the data) each get a
# fresh union over the same file, so that only one copy exists at a time:
# tmpfs and ext4 need twice the file's size free (xfs and btrfs reflink),
# and tmpfs holds it in the guest's RAM.  Each repetition copies 1 GiB per
# kind, so CU_BIG_REPS repetitions, and the warm-up is one raw copy: the
# first copy of the new file costs more (up to 2.6x on tmpfs, 45x on xfs),
# which would fall on strata, the first kind of a round.
HUGE=$((1024 * 1024 * 1024))
CU_BIG_REPS=1
measure_copyup_big() { # KIND FS REP
	local k=$1 fs=$2 r=$3 base=/mnt/$2/bench/cu1g d
	if [ "$k" = raw ]; then
		d=$base/raw
		raw_dir "$base"
		timed copyup "$fs" 1GiB "$k" "$r" copyraw "$base/lower/huge" "$d/huge"
		chmod_rows "$k" "$fs" 1GiB "$r" "$d/huge" "$d/huge"
		rm -rf "$d"
		return
	fi
	mount_rw "$k" "$base" || { fail "mount $k rw on $fs"; return; }
	sync
	timed copyup "$fs" 1GiB "$k" "$r" firstwrite "$(where "$k")/huge"
	unmount_rw "$k" "$base"
	mount_rw "$k" "$base" || { fail "mount $k rw on $fs"; return; }
	sync
	chmod_rows "$k" "$fs" 1GiB "$r" "$(where "$k")/huge" "$base/upper-$k/huge"
	unmount_rw "$k" "$base"
}
# big_room FS: is there room for the 1 GiB set?  If not, say why.
big_room() {
	local fs=$1 need=$((HUGE / 1024 + 262144)) free avail
	case $fs in
	tmpfs|ext4) need=$((need + HUGE / 1024)) ;;
	esac
	if [ "$fs" = tmpfs ]; then
		# Grow the tmpfs, if the RAM allows it (512 MiB left over).
		avail=$(meminfo MemAvailable)
		[ "$avail" -ge $((need + 524288)) ] || {
			echo "the guest has $((avail / 1024)) MiB of RAM available," \
				"needs $(((need + 524288) / 1024)) MiB (tmpfs keeps" \
				"the file and its copy in RAM)"
			return 1
		}
		mount -o remount,size=$(($(df -Pk /mnt/tmpfs | awk 'NR == 2 { print $2 }') + need))k \
			/mnt/tmpfs || { echo "cannot grow /mnt/tmpfs"; return 1; }
	fi
	free=$(df -Pk "/mnt/$fs" | awk 'NR == 2 { print $4 }')
	[ "$free" -ge "$need" ] ||
		{ echo "/mnt/$fs has $((free / 1024)) MiB free, needs $((need / 1024)) MiB"; return 1; }
}
copyup_big() { # FS
	local fs=$1 base=/mnt/$1/bench/cu1g size0 why k w reps=$REPS
	size0=$(df -Pk /mnt/tmpfs | awk 'NR == 2 { print $2 }')
	rm -rf "$base"
	if ! why=$(big_room "$fs"); then
		for k in strata overlay raw; do
			for w in "copyup:$fs" "chmod:$fs" "chmod:$fs-alloc"; do
				na "${w%%:*}" "${w#*:}" 1GiB $k "$why"
			done
		done
	elif mkdir -p "$base/lower" && "$BT" mkdata "$base/lower/huge" "$HUGE"; then
		sync
		[ "$CU_BIG_REPS" -ge "$REPS" ] || REPS=$CU_BIG_REPS
		info "copyup/chmod $fs 1GiB: $REPS repetitions, warm-up raw only"
		WARMUP=raw
		rounds "strata overlay raw" measure_copyup_big "$fs"
		REPS=$reps WARMUP=
	else
		fail "building $base"
	fi
	rm -rf "$base"
	[ "$fs" != tmpfs ] || mount -o remount,size="${size0}k" /mnt/tmpfs
}
wl_copyup() {
	local fs
	for fs in tmpfs ext4 xfs btrfs; do
		grep -q " /mnt/$fs " /proc/mounts || { fail "/mnt/$fs is not mounted"; continue; }
		cu_setup "$fs" || continue
		rounds "strata overlay raw" measure_copyup "$fs"
		# Keep the ext4 set for the read workload, free the others.
		[ "$fs" = ext4 ] || rm -rf "/mnt/$fs/bench/cu"
		copyup_big "$fs"
	done
}

# ---------------------------------------------------------------- churn
# In the top branch: create and unlink CHURN_N new names; then unlink
# CHURN_N names of the lower branch (whiteouts).
CHURN_N=1000
measure_churn() { # KIND FS REP
	local k=$1 fs=$2 r=$3 base=/mnt/$2/bench/churn d out v
	if [ "$k" = raw ]; then
		d=$base/raw
		rm -rf "$d"
		mkdir -p "$d"
		"$BT" mkfiles "$d" w 0 "$CHURN_N"
	else
		mount_rw "$k" "$base" || { fail "mount $k rw on $fs"; return; }
		d=$(where "$k")
	fi
	sync
	out=$("$BT" churn "$d" c "$CHURN_N") || { fail "churn $k $fs"; return; }
	echo "@R churn $fs-create 1000 $k $r ${out% *} ns/op"
	echo "@R churn $fs-unlink 1000 $k $r ${out#* } ns/op"
	sync
	v=$("$BT" unlink "$d" w 0 "$CHURN_N") || { fail "unlink lower $k $fs"; return; }
	echo "@R churn $fs-whiteout 1000 $k $r $v ns/op"
	if [ "$k" = raw ]; then
		rm -rf "$d"
	else
		unmount_rw "$k" "$base"
	fi
}
wl_churn() {
	local fs base
	for fs in tmpfs ext4; do
		base=/mnt/$fs/bench/churn
		rm -rf "$base"
		mkdir -p "$base/lower"
		"$BT" mkfiles "$base/lower" w 0 "$CHURN_N"
		rounds "strata overlay raw" measure_churn "$fs"
		rm -rf "$base"
	done
}

# ---------------------------------------------------------------- untar
# Unpacking a tree (40 directories of 50 files of 1-8 KiB, as a container
# layer or a source tree would bring) into a union on ext4 whose lower
# branch already has the same directories, each with one file: tar's
# mkdir finds them, its files land in merged directories.  raw unpacks
# into a copy of the lower branch.
measure_untar() { # KIND REP
	local k=$1 base=/mnt/ext4/bench/untar d v
	if [ "$k" = raw ]; then
		d=$base/raw
		rm -rf "$d"
		cp -a "$base/lower" "$d"
	else
		mount_rw "$k" "$base" || { fail "mount $k rw for untar"; return; }
		d=$(where "$k")
	fi
	sync
	v=$("$BT" run tar -xf /tmp/bench-tree.tar -C "$d") || fail "untar $k"
	echo "@R untar ext4 2000files $k $2 $v ns"
	if [ "$k" = raw ]; then
		rm -rf "$d"
	else
		unmount_rw "$k" "$base"
	fi
	sync
}
wl_untar() {
	local base=/mnt/ext4/bench/untar i j
	rm -rf "$base" /tmp/bench-tree /tmp/bench-tree.tar
	mkdir -p "$base/lower"
	for i in $(seq 0 39); do
		mkdir -p "/tmp/bench-tree/d$i" "$base/lower/d$i"
		"$BT" mkdata "$base/lower/d$i/lower-file" 1024
		for j in $(seq 0 49); do
			"$BT" mkdata "/tmp/bench-tree/d$i/f$j" $((1024 * (1 + (i + j) % 8))) ||
				{ fail "building the tree"; return; }
		done
	done
	(cd /tmp/bench-tree && tar -cf /tmp/bench-tree.tar .) || { fail "tar -c"; return; }
	rm -rf /tmp/bench-tree
	rounds "strata overlay raw" measure_untar
	rm -rf "$base" /tmp/bench-tree.tar
}

# ---------------------------------------------------------------- memory
# 64 layers on ext4 (tmpfs frees negative dentries at once, ext4 keeps
# them, as most filesystems do); the bottom one holds e0..e9999.
MEM_N=10000
# slab NAME: active objects and object size of a slab cache ("0 0" if none).
slab() {
	awk -v n="$1" '$1 == n { print $2, $4; f = 1 } END { if (!f) print 0, 0 }' /proc/slabinfo
}
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# "INODES DENTRIES SLAB_KB": objects of the union's inode cache (the branch
# fs's for raw), of the dentry cache, and the Slab line of /proc/meminfo,
# after RCU has freed what was released.
mem_snapshot() { # KIND
	local icache
	case $1 in
	strata) icache=strata_inode ;;
	overlay) icache=ovl_inode ;;
	*) icache=ext4_inode_cache ;;
	esac
	sleep 1
	echo "$(slab "$icache" | cut -d' ' -f1) $(slab dentry | cut -d' ' -f1) $(meminfo Slab)"
}
mem_lookups() { # KIND DIR PREFIX WANT LABEL
	local a b
	sync
	echo 2 >/proc/sys/vm/drop_caches
	a=$(mem_snapshot "$1")
	"$BT" stat "$2" "$3" 0 "$MEM_N" "$4" >/dev/null || { fail "mem stat $1"; return; }
	b=$(mem_snapshot "$1")
	# shellcheck disable=SC2086
	set -- "$@" $a $b
	echo "@R mem $5-inodes 10k $1 1 $(($9 - $6)) objects"
	echo "@R mem $5-dentries 10k $1 1 $((${10} - $7)) objects"
	echo "@R mem $5-slab 10k $1 1 $(((${11} - $8) * 1024 / MEM_N)) bytes/name"
}
wl_mem() {
	local L=/mnt/ext4/bench/mem k what s0 s1 base
	rm -rf "$L"
	mkdir -p "$L"
	for i in $(seq 0 63); do
		{ mkdir "$L/$i" && "$BT" mkfiles "$L/$i" "f${i}_" 0 4; } ||
			{ fail "building $L/$i"; return; }
	done
	"$BT" mkfiles "$L/63" e 0 "$MEM_N" || { fail "building $L/63"; return; }
	sync
	# The size of one cached inode: the union's inode object (the branch
	# inode and the dentry come on top, for every kind alike).
	echo "@R mem inode-object 1 strata 1 $(slab strata_inode | cut -d' ' -f2) bytes"
	echo "@R mem inode-object 1 overlay 1 $(slab ovl_inode | cut -d' ' -f2) bytes"
	echo "@R mem inode-object 1 raw 1 0 bytes"
	for k in strata overlay; do
		for what in exist missing; do
			mount_ro $k "$L" 0 63 || { fail "mount $k for mem"; continue; }
			if [ $what = exist ]; then
				mem_lookups $k "$(where $k)" e 1 exist
			else
				mem_lookups $k "$(where $k)" "x$k" 0 missing
			fi
			umount_all
		done
	done
	mem_lookups raw "$L/63" e 1 exist
	mem_lookups raw "$L/63" xraw 0 missing

	# Memory per mount: 8 unions of the 64 layers, stacked on one mount
	# point, each used once (its root looked up).
	for k in strata overlay; do
		sync
		echo 2 >/proc/sys/vm/drop_caches
		sleep 1
		s0=$(meminfo Slab)
		for j in 1 2 3 4 5 6 7 8; do
			mount_ro $k "$L" 0 63 || fail "mount $k #$j"
			ls -d "$(where $k)/." >/dev/null
		done
		sleep 1
		s1=$(meminfo Slab)
		echo "@R mem per-mount-slab 64layers $k 1 $(((s1 - s0) * 1024 / 8)) bytes"
		umount_all
	done
	rm -rf "$L"

	# Page cache: one lower file read through the union, then directly
	# ("2reads"); and read through two unions of the same layers
	# ("2mounts"; raw: read twice).  One copy each time if the unions
	# share the lower file's pages.
	cu_setup ext4 || return
	base=/mnt/ext4/bench/cu
	for k in strata overlay raw; do
		pagecache_rows "$k" "$base"
	done
}
# cached_growth FILE...: MiB of page cache added by reading FILEs from cold.
cached_growth() {
	local c0 f
	drop_caches
	c0=$(meminfo Cached)
	for f in "$@"; do
		"$BT" readseq "$f" >/dev/null || return
	done
	echo $((($(meminfo Cached) - c0) / 1024))
}
pagecache_rows() { # KIND BASE
	local k=$1 f=$2/lower/big a b v
	if [ "$k" = raw ]; then
		a=$f b=$f
	else
		{ mount_cu "$k" "$2" "$(where "$k")" && mount_cu "$k" "$2" "$(where2 "$k")"; } ||
			{ fail "mount $k twice for page cache"; umount_all; return; }
		a=$(where "$k")/big b=$(where2 "$k")/big
	fi
	v=$(cached_growth "$a" "$f") || fail "page cache: reading $a, $f"
	echo "@R mem pagecache-2reads 64MiB $k 1 $v MiB"
	v=$(cached_growth "$a" "$b") || fail "page cache: reading $a, $b"
	echo "@R mem pagecache-2mounts 64MiB $k 1 $v MiB"
	umount_all
}

# ---------------------------------------------------------------- main
[ -x "$BT" ] || { echo "bench.sh: $BT missing" >&2; exit 1; }
grep -qw strata /proc/filesystems || { echo "bench.sh: strata is not loaded" >&2; exit 1; }
read -r t_start _ </proc/uptime
info "kernel $(uname -r), clock $CLOCK, $REPS repetitions, workloads: $WORKLOADS"
info "guest: $(($(meminfo MemTotal) / 1024)) MiB RAM; MiB free on$(for fs in tmpfs ext4 xfs btrfs; do
	printf ' %s %s' "$fs" "$(df -Pm "/mnt/$fs" 2>/dev/null | awk 'NR == 2 { print $4 }')"; done)"
# A workload's output is kept in a file and shown when it ends: writing to
# the serial ports while a measurement runs would be measured too.
BUF=/tmp/bench.out
for w in $WORKLOADS; do
	read -r t0 _ </proc/uptime
	echo "@BEGIN $w"
	: >"$BUF"
	case $w in
	stat) wl_stat ;;
	readdir-warm) wl_readdir warm ;;
	readdir-cold) wl_readdir cold ;;
	read) wl_read ;;
	copyup) wl_copyup ;;
	churn) wl_churn ;;
	untar) wl_untar ;;
	mem) wl_mem ;;
	*) fail "unknown workload $w" ;;
	esac >>"$BUF"
	umount_all
	cat "$BUF"
	read -r t1 _ </proc/uptime
	echo "@END $w $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
done
read -r t_end _ </proc/uptime
info "done in $(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", b - a }')s, $failures failure(s)"
[ "$failures" -eq 0 ]
