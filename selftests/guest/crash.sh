#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of scripts/crash-test.sh (busybox sh): copy-ups, renames,
# whiteouts, directory renames, live branch changes and layer-store
# operations (image import, live commit, image rm, gc) all at once until
# the host kills the guest hard, and, on the next boot over the same
# disks, the check that every file is in its old or its new state and
# that the store is consistent.
#
#   crash.sh run CYCLE                  first boot: make the lower branches,
#                                       manifests and test images, then run
#                                       the load
#   crash.sh verify CYCLE CLAIMS [run|final]
#                                       check what the last crash left, then
#                                       run the load again (run) or also
#                                       check every lower byte (final)
#
# Unions (lower branch /mnt/ext4/crash/lower, or lower2 for wh wx bc):
#   e4  rw branch on ext4 (same filesystem: copy_file_range), aufs
#   xf  rw branch on xfs (another filesystem: splice), whiteout=overlay
#   r4  rw branch on ext4, whiteout=overlay: renames only
#   wh  rw branch on ext4, aufs: whiteouts (unlink, rmdir of lower names),
#       a create over a whiteout, directory renames (redirect records)
#   wx  the same with the rw branch on xfs, whiteout=overlay
#   bc  rw top on ext4, changed live through the control channel: files
#       written, the top made rr ("strata branch mode"), a fresh rw top
#       added ("strata branch add --top"), an rr layer added and removed
#       again ("strata branch add --index 1", "strata branch rm")
# and the layer store st (/mnt/ext4/crash/store), whose next step depends
# on what it holds: two OCI images imported (sharing layers); or a
# container of one mounted, changed (copy-up, a whiteout, a directory
# rename, a new file), committed live and unmounted with --rm; or all
# three images removed and a gc.  The check after a cut keeps the whole
# images, so the load goes on where the cut stopped it.
#
# Each generation of a union's load gets a fresh rw branch BASE/u.N.  e4
# and xf copy up f0..f2 (64, 128, 256 MiB) by writing a 4 KiB marker at
# offset 0 (fsync), rename fK -> gK, rename the small s0..s2 back and forth,
# rename gK back; r4 renames s0..s2 back and forth many times.  Then the
# branch is unmounted and retired (renamed to trash.N, removed).
#
# Slot states: fK "L" (lower content at fK), "Mf" (marked copy at fK),
# "Mg" (marked copy at gK); sK "s" or "t" (at sK or tK); wK "L" or "W"
# (whited out) or "N" (created again over the whiteout); dK "d" or "e"
# (the whole directory at dK or at eK); xK "x" (with its file f and
# subdirectory y), "xf" (y removed), "xe" (empty), "X" (removed); pK "L"
# or "M" (copy-up with a marker); cK "A" or "P" (absent, or present with
# all its data); store tags i0 i1 cm "A" or "P" (image absent, or present,
# complete and mountable with the expected content).  Events on the
# results channel, for the host:
#   EV U GEN N | EV U BEGIN SLOT FROM>TO | EV U DURABLE SLOT STATE | EV U END N
# DURABLE is printed after the change and a syncfs of the rw branch's real
# filesystem (or after the helper, which syncs the store, returned), so it
# must survive the crash.  CLAIMS (from the host) is a comma list of
# U:N:SLOT:STATE[|STATE], the states each slot may be in.
#
# Output: one "CHECK ..." line per union branch and store looked at, and
#   RESULT CYCLE torn=T lost=L workdir=W lower=B leftovers=F unions=U store=S
# where S counts store inconsistencies (selftests/guest/storecheck.sh and
# images that do not mount or have other content).
set -u

C=/mnt/ext4/crash
L=$C/lower
MAN=$C/manifest
L2=$C/lower2
MAN2=$C/manifest2
DATA=$C/data
STORE=$C/store
REF=$C/ref
SIZES="64 128 256"
SLOTS="0 1 2"
WSLOTS="0 1 2 3 4 5"
DSLOTS="0 1 2"
XSLOTS="0 1"
BSTEPS="0 1 2 3"
S=strata
export STRATA_ROOT=$STORE

mode=${1:?mode} cycle=${2:-0} claims=${3:-} next=${4:-}
# The host sends them gzipped and base64-encoded, marked by a "z".
case $claims in z*) claims=$(echo "${claims#z}" | base64 -d | gunzip) ;; esac
[ "$mode" = run ] && next=run

torn=0 lost=0 wdirty=0 lowerbad=0 leftovers=0 unions=0 storebad=0

say() { echo "$*"; }

UNIONS="e4 xf r4 wh wx bc"
base_of() {
	case $1 in
	e4) echo $C/e4 ;; xf) echo /mnt/xfs/crash/xf ;; r4) echo $C/r4 ;;
	wh) echo $C/wh ;; wx) echo /mnt/xfs/crash/wx ;; bc) echo $C/bc ;;
	esac
}
fmt_of() { case $1 in e4|wh|bc) echo aufs ;; *) echo overlay ;; esac; }
lower_of() { case $1 in wh|wx|bc) echo "$L2" ;; *) echo "$L" ;; esac; }

mark() { # slot -> /tmp/mark.K, 4096 bytes
	printf 'strata crash-test marker, slot %s\n' "$1" |
		dd of=/tmp/mark."$1" bs=4096 count=1 conv=sync 2>/dev/null
}

crc() { crc32 <"$1" 2>/dev/null || echo none; }
size() { stat -c %s "$1" 2>/dev/null || echo none; }
man() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$MAN"; }
man2() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$MAN2"; }
rnd() { dd if=/dev/urandom of="$1" bs=1k count="$2" 2>/dev/null; } # file KiB
pmark() {
	printf 'strata crash-test marker, copy-up under branch changes\n' |
		dd of=/tmp/pmark bs=4096 count=1 conv=sync 2>/dev/null
}

prep() {
	mkdir -p "$L" $C/e4 /mnt/xfs/crash/xf $C/r4
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

# lower2 (whiteouts, directory renames, branch changes) and the data the
# bc load writes.
prep2() {
	rm -rf "$L2" "$DATA" "$MAN2.tmp"
	mkdir -p "$L2" "$DATA" $C/wh /mnt/xfs/crash/wx $C/bc $C/extra
	for k in $WSLOTS; do rnd "$L2/w$k" $((k + 1)); done
	for k in $DSLOTS; do
		mkdir -p "$L2/d$k/sub"
		rnd "$L2/d$k/a" 2
		rnd "$L2/d$k/b" 3
		rnd "$L2/d$k/sub/c" 1
	done
	for k in $XSLOTS; do
		mkdir -p "$L2/x$k/y"
		rnd "$L2/x$k/f" 1
	done
	pmark
	for k in $BSTEPS; do
		rnd "$L2/p$k" 8
		rnd "$DATA/c$k" $((16 * (k + 1)))
	done
	echo extra >"$C/extra/xfile"
	(cd "$L2" && find . -type f | sort) | while read -r f; do
		f=${f#./}
		case $f in
		p*) pm=$({ cat /tmp/pmark; tail -c +4097 "$L2/$f"; } | crc32) ;;
		*) pm=- ;;
		esac
		echo "$f $(size "$L2/$f") $(crc "$L2/$f") $pm $(stat -c '%i %Y %Z' "$L2/$f")"
	done >"$MAN2.tmp"
	sync
	mv "$MAN2.tmp" "$MAN2"
	sync
	say "PREP lower2 made: $(wc -l <"$MAN2") files"
}

# A tree's names, types, modes, sizes, link targets and contents (not its
# times), as one checksum; a few processes, not a few per file.
fp() {
	(cd "$1" && {
		find . -type d -exec stat -c '%n d %a' {} +
		find . ! -type d -exec stat -c '%N %F %a %s' {} +
		find . -type f -exec crc32 {} +
	} | sort) | crc32
}

# What the store load does to its container before committing it: a
# copy-up, a whiteout, a directory rename (exported whole) and new files.
change_container() { # mountpoint
	cp "$DATA/c3" "$1/app/blob" &&
	echo changed >>"$1/etc/motd" &&
	rm "$1/etc/gone" &&
	mv "$1/app" "$1/app2" &&
	mkdir "$1/new" &&
	cp "$DATA/c1" "$1/new/file"
}

# Two OCI images (i1 = i0's two layers + one), and what they and a
# commit of a changed container of i1 look like, from a reference store:
# the normal-form digest of each imported layer (layer diff) and the
# fingerprint of each image's tree.
prep_store() {
	t=/tmp/img
	rm -rf "$t" "$C/oci" "$REF" "$C/store.tmp"
	mkdir -p "$t/A/etc" "$t/A/bin" "$t/A/app/lib" "$t/B/etc" "$t/C/opt" "$C/oci"
	echo base >"$t/A/etc/motd"
	echo gone >"$t/A/etc/gone"
	echo old >"$t/A/etc/old"
	i=0
	while [ $i -lt 60 ]; do rnd "$t/A/bin/b$i" 1; i=$((i + 1)); done
	rnd "$t/A/app/lib/big" 2048
	rnd "$t/A/app/run" 4
	ln -s ../etc/motd "$t/A/app/motd"
	echo two >"$t/B/etc/motd"
	: >"$t/B/etc/.wh.old"
	i=0
	while [ $i -lt 40 ]; do rnd "$t/C/opt/o$i" 2; i=$((i + 1)); done
	rnd "$t/C/opt/big" 1024
	/strata/mkoci.sh "$C/oci/i0" i0:1 "$t/A" "$t/B" >/dev/null &&
	/strata/mkoci.sh "$C/oci/i1" i1:1 "$t/A" "$t/B" "$t/C" >/dev/null || {
		say "ERROR: mkoci failed"; return 1; }
	rm -rf "$t"
	R="$S --root $REF"
	v=/tmp/v
	mkdir -p "$v"
	$R image import --tag i0:latest "$C/oci/i0" >/dev/null &&
	$R image import --tag i1:latest "$C/oci/i1" >/dev/null || {
		say "ERROR: reference import failed"; return 1; }
	for l in $(ls "$REF/layers"); do
		echo "$l $($R layer diff "sha256:$l" | sha256sum | cut -d' ' -f1)"
	done >"$C/layerref.tmp"
	for k in i0 i1 cm; do
		if [ $k = cm ]; then
			$R mount --name rc i1:latest "$v" >/dev/null &&
			change_container "$v" &&
			$R commit --tag cm:latest rc >/dev/null &&
			$R umount --rm "$v" || { say "ERROR: reference commit failed"; return 1; }
		fi
		$R mount --name r$k $k:latest "$v" >/dev/null || {
			say "ERROR: reference mount of $k failed"; return 1; }
		echo "$k $(fp "$v")" >>"$C/fp.tmp"
		$R umount --rm "$v"
	done
	sync
	mv "$C/fp.tmp" "$C/fp"
	mv "$C/layerref.tmp" "$C/layerref"
	sync
	say "PREP images made: $(tr '\n' ';' <"$C/fp")"
}

# A lower branch: unchanged inode, size, mtime and ctime; every byte
# when $3 = full.
check_lower() { # dir manifest [full]
	while read -r name sz lc _ ino mt ct; do
		now="$(size "$1/$name") $(stat -c '%i %Y %Z' "$1/$name" 2>/dev/null)"
		if [ "$now" != "$sz $ino $mt $ct" ]; then
			say "LOWER-CHANGED $1/$name: was '$sz $ino $mt $ct' now '$now'"
			lowerbad=$((lowerbad + 1))
		elif [ "${3:-}" = full ] && [ "$(crc "$1/$name")" != "$lc" ]; then
			say "LOWER-CHANGED $1/$name: content"
			lowerbad=$((lowerbad + 1))
		fi
	done <"$2"
}

slots_of() {
	case $1 in
	e4|xf|r4) echo "f0 f1 f2 s0 s1 s2" ;;
	wh|wx) echo "w0 w1 w2 w3 w4 w5 d0 d1 d2 x0 x1" ;;
	bc) echo "c0 c1 c2 c3 p0 p1 p2 p3" ;;
	esac
}

# A lower directory dK of lower2, whole, at $1: its names and contents.
dir_whole() { # path K
	[ "$(cd "$1" && find . | sort | tr '\n' ' ')" = ". ./a ./b ./sub ./sub/c " ] || return 1
	for f in a b sub/c; do
		[ "$(crc "$1/$f")" = "$(man2 "d$2/$f" 3)" ] || return 1
	done
}

# State of one slot in the union mounted at $1 over rw branch $3: L Mf Mg
# s t W N d e x xf xe X M A P, or TORN:why.  A file the rw branch does not
# have is the lower one (checked by check_lower), so only copies of the
# large files are read in full.
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
	w*)
		if [ ! -e "$m/$k" ] && [ ! -L "$m/$k" ]; then echo W
		elif [ ! -f "$m/$k" ]; then echo "TORN:$k-not-a-file"
		elif [ "$(crc "$m/$k")" = "$(man2 "$k" 3)" ]; then echo L
		elif [ "$(cat "$m/$k")" = "new $k" ]; then echo N
		else echo "TORN:$k-content"; fi ;;
	d*)
		n=${k#d}
		a=$m/d$n b=$m/e$n
		if [ -e "$a" ] && [ ! -e "$b" ]; then
			if dir_whole "$a" "$n"; then echo d; else echo "TORN:d$n-contents"; fi
		elif [ -e "$b" ] && [ ! -e "$a" ]; then
			if dir_whole "$b" "$n"; then echo e; else echo "TORN:e$n-contents"; fi
		elif [ -e "$a" ]; then echo "TORN:d$n-and-e$n"
		else echo "TORN:no-d$n-no-e$n"; fi ;;
	x*)
		if [ ! -e "$m/$k" ]; then echo X; return; fi
		case "$(ls -A "$m/$k" 2>&1 | tr '\n' ' ')" in
		"f y ")
			if [ -d "$m/$k/y" ] && [ "$(crc "$m/$k/f")" = "$(man2 "$k/f" 3)" ]; then echo x
			else echo "TORN:$k-f-or-y"; fi ;;
		"f ")
			if [ "$(crc "$m/$k/f")" = "$(man2 "$k/f" 3)" ]; then echo xf
			else echo "TORN:$k-f"; fi ;;
		"") echo xe ;;
		*) echo "TORN:$k-lists-$(ls -A "$m/$k" 2>&1 | tr '\n' '+')" ;;
		esac ;;
	c*)
		if [ ! -e "$m/$k" ]; then echo A
		elif [ "$(crc "$m/$k")" = "$(crc "$DATA/$k")" ]; then echo P
		else echo "TORN:$k-size-$(size "$m/$k")"; fi ;;
	p*)
		c=$(crc "$m/$k")
		if [ "$c" = "$(man2 "$k" 3)" ]; then echo L
		elif [ "$c" = "$(man2 "$k" 4)" ]; then echo M
		else echo "TORN:$k-content"; fi ;;
	esac
}

# The claimed states of slot $3 of union $1, generation $2 ("" = any).
allowed_of() {
	echo "$claims" | tr ',' '\n' | awk -F: -v u="$1" -v g="$2" -v k="$3" \
		'$1 == u && (g == "" || $2 == g) && $3 == k { print $4 }'
}

# Every name the union lists can be looked up, and no reserved name shows.
view_ok() { # mountpoint
	find "$1" 2>/dev/null | while IFS= read -r f; do
		case ${f##*/} in .wh.*) echo "reserved:$f" ;; esac
		[ -e "$f" ] || [ -L "$f" ] || echo "unstat-able:$f"
	done | head -n 5 | tr '\n' ' '
}

secs_since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1fs", b - a }'; }

verify_branch() { # union gen-dir
	u=$1 up=$2 gen=${2##*/u.}
	vb0=$(uptime_s)
	m=/tmp/m.$u
	mkdir -p "$m"
	lo=$(lower_of "$u")
	stale=0
	if [ "$u" = bc ]; then
		# The tops, newest first, as the load recorded them before
		# each branch-add: the newest is the rw one.
		tops=$(cat "$up/branches" 2>/dev/null)
		if [ -z "$tops" ]; then
			say "CHECK $u $gen: never mounted (no branch list)"
			return
		fi
		set -- $tops
		top=$up/$1
		set -- "$top"
		for t in $tops; do
			[ "$up/$t" = "$top" ] && continue
			set -- "$@" "$up/$t=ro"
			s=$(ls -A "$up/$t/.wh..wh.work" 2>/dev/null | wc -l)
			stale=$((stale + s))
		done
		set -- "$@" "$lo=ro"
	else
		top=$up
	fi
	n=$(ls -A "$top/.wh..wh.work" 2>/dev/null | wc -l)
	leftovers=$((leftovers + n))
	[ "$n" -eq 0 ] ||
		say "LEFTOVER $u $gen: $(ls -lAn --full-time "$top/.wh..wh.work" 2>/dev/null | tail -n +2 | tr -s ' ' | tr '\n' ';')"
	if [ "$u" = bc ]; then
		# Remounted by the helper, as a user would.
		if ! err=$($S mount "$m" "$@" 2>&1); then
			say "CHECK $u $gen: MOUNT FAILED: $err"
			torn=$((torn + 1))
			return
		fi
	elif ! mount -t strata -o "br=$top=rw:$lo=ro,whiteout=$(fmt_of "$u")" none "$m"; then
		say "CHECK $u $gen: MOUNT FAILED"
		torn=$((torn + 1))
		return
	fi
	unions=$((unions + 1))
	w=$(ls -A "$top/.wh..wh.work" 2>/dev/null | wc -l)
	[ "$w" -eq 0 ] || { wdirty=$((wdirty + 1)); say "WORKDIR $u $gen: $w entries after mount"; }
	line="CHECK $u $gen: left=$n"
	[ "$u" != bc ] || line="$line tops=$(echo $tops | wc -w) stale=$stale"
	bad=$(view_ok "$m")
	[ -z "$bad" ] || { torn=$((torn + 1)); line="$line VIEW:$bad"; }
	for k in $(slots_of "$u"); do
		st=$(slot_state "$m" "$k" "$top")
		line="$line $k=$st"
		case $st in TORN:*) torn=$((torn + 1)) ;; esac
		allowed=$(allowed_of "$u" "$gen" "$k")
		if [ -n "$allowed" ]; then
			case "|$allowed|" in
			*"|$st|"*) ;;
			*) lost=$((lost + 1)); line="$line(LOST:want:$allowed)" ;;
			esac
		fi
	done
	umount "$m"
	say "$line ($(secs_since "$vb0"))"
}

# The store as the crash left it: consistent (storecheck.sh) before any
# helper touched it; every claimed image present or absent as claimed,
# and a present one mounts with the expected tree; every container the
# crash left can be mounted (continued) and removed; after those store
# operations and a gc, tmp/ is empty and the store consistent again.
# Then everything is removed, so the next load starts empty.
store_bad() { storebad=$((storebad + 1)); say "STORE-BAD $*"; }
storecheck() { # when [--gc]
	out=$(sh /strata/selftests/storecheck.sh ${2:-} --ref "$C/layerref" "$STORE" 2>&1)
	rc=$?
	echo "$out" | grep '^BAD' | head -n 10 | sed "s/^/STORE-$1 /"
	nb=$(echo "$out" | grep -c '^BAD')
	[ "$rc" -eq 0 ] || [ "$nb" -gt 0 ] || nb=1
	storebad=$((storebad + nb))
	sc_summary=$(echo "$out" | grep '^STORE ' | tail -n 1)
}

verify_store() {
	[ -d "$STORE" ] || { say "CHECK st: no store yet"; return; }
	vs0=$(uptime_s)
	v=/tmp/v
	mkdir -p "$v"
	storecheck AS-LEFT
	line="CHECK st: ${sc_summary#STORE }"
	tags=$($S image ls 2>/dev/null | awk 'NR > 1 { print $3 }' | tr ',\n' '  ')
	broken=
	for k in i0 i1 cm; do
		if echo " $tags " | grep -q " $k:latest "; then
			st=P
			if ! err=$($S mount --name "v$k" "$k:latest" "$v" 2>&1); then
				store_bad "image $k does not mount: $err"
				st=TORN broken="$broken $k"
			else
				f=$(fp "$v")
				want=$(awk -v k=$k '$1 == k { print $2 }' "$C/fp")
				[ "$f" = "$want" ] ||
					{ store_bad "image $k: tree $f, want $want"; st=TORN broken="$broken $k"; }
				$S umount --rm "$v" || store_bad "umount --rm of image $k failed"
			fi
		else
			st=A
		fi
		line="$line $k=$st"
		allowed=$(allowed_of st "" "$k")
		if [ -n "$allowed" ]; then
			case "|$allowed|" in
			*"|$st|"*) ;;
			*) lost=$((lost + 1)); line="$line(LOST:want:$allowed)" ;;
			esac
		fi
	done
	nc=0
	for c in $(ls "$STORE/containers" 2>/dev/null); do
		nc=$((nc + 1))
		img=$(tr -d ' \n' <"$STORE/containers/$c/container.json" 2>/dev/null |
			sed -n 's/.*"image":"\([^"]*\)".*/\1/p')
		if ! err=$($S mount --name "$c" "$img" "$v" 2>&1); then
			store_bad "container $c (image $img) does not mount: $err"
			$S container rm "$c" >/dev/null 2>&1 || store_bad "container rm $c failed"
			continue
		fi
		bad=$(view_ok "$v")
		[ -z "$bad" ] || store_bad "container $c: $bad"
		$S umount --rm "$v" >/dev/null 2>&1 || store_bad "umount --rm of container $c failed"
	done
	line="$line containers=$nc"
	# A broken image goes (so the load can go on); whole ones stay, and
	# the next load continues from them.
	for k in $broken; do
		$S image rm "$k:latest" >/dev/null 2>&1 || store_bad "image rm $k failed"
	done
	$S gc >/dev/null 2>&1 || store_bad "gc failed"
	storecheck AFTER-GC "--gc --tagged"
	case $sc_summary in
	*" containers=0 tmp=0") ;;
	*) store_bad "containers or tmp/ left after container rm and gc: $sc_summary" ;;
	esac
	say "$line ($(secs_since "$vs0"))"
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

verify() {
	t0=$(uptime_s)
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
	verify_store
	sync
	full=$([ "$next" = final ] && echo full)
	check_lower "$L" "$MAN" $full
	check_lower "$L2" "$MAN2" $full
	say "TIME verify ${t0}s..$(uptime_s)s of uptime"
	say "RESULT $cycle torn=$torn lost=$lost workdir=$wdirty lower=$lowerbad leftovers=$leftovers unions=$unions store=$storebad"
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

# wh, wx: whiteouts of lower files and directories, a create over a
# whiteout, and renames of lower directories there and back.
load_wh() { # union
	u=$1 b=$(base_of "$1") fmt=$(fmt_of "$1")
	m=/tmp/m.$u
	mkdir -p "$m"
	n=$((cycle * 1000))
	while :; do
		n=$((n + 1))
		up=$b/u.$n
		mkdir "$up" && sync -f "$b" || { ev "$u" ERROR mkdir; return 1; }
		mount -t strata -o "br=$up=rw:$L2=ro,whiteout=$fmt" none "$m" ||
			{ ev "$u" ERROR mount; return 1; }
		ev "$u" GEN "$n"
		touch /tmp/ready."$u"
		for k in $WSLOTS; do
			ev "$u" BEGIN "w$k" "L>W"
			rm "$m/w$k" || ev "$u" ERROR "rm w$k"
			sync -f "$up"
			ev "$u" DURABLE "w$k" W
		done
		ev "$u" BEGIN w0 "W>N"
		echo "new w0" >"$m/w0" || ev "$u" ERROR "create w0"
		sync -f "$up"
		ev "$u" DURABLE w0 N
		for k in $DSLOTS; do
			ev "$u" BEGIN "d$k" "d>e"
			mv "$m/d$k" "$m/e$k" || ev "$u" ERROR "mv d$k"
			sync -f "$up"
			ev "$u" DURABLE "d$k" e
		done
		for k in $XSLOTS; do
			ev "$u" BEGIN "x$k" "x>xf"
			rmdir "$m/x$k/y" || ev "$u" ERROR "rmdir x$k/y"
			sync -f "$up"
			ev "$u" DURABLE "x$k" xf
			ev "$u" BEGIN "x$k" "xf>xe"
			rm "$m/x$k/f" || ev "$u" ERROR "rm x$k/f"
			sync -f "$up"
			ev "$u" DURABLE "x$k" xe
			ev "$u" BEGIN "x$k" "xe>X"
			rmdir "$m/x$k" || ev "$u" ERROR "rmdir x$k"
			sync -f "$up"
			ev "$u" DURABLE "x$k" X
		done
		for k in $DSLOTS; do
			ev "$u" BEGIN "d$k" "e>d"
			mv "$m/e$k" "$m/d$k" || ev "$u" ERROR "mv e$k"
			sync -f "$up"
			ev "$u" DURABLE "d$k" d
		done
		end_gen "$u" "$up" "$b" "$n" || return 1
	done
}

# bc: new files and copy-ups in the current top, then the top made rr
# and a fresh rw top added over it, an rr layer added below the top and
# removed again, all live through the control channel (strata branch).
# BASE/u.N/branches lists the tops newest first; a new top is listed
# (synced) before it is added, so a remount with that list shows all that
# was written.
load_bc() { # union
	u=$1 b=$(base_of "$1") fmt=$(fmt_of "$1")
	m=/tmp/m.$u
	mkdir -p "$m"
	n=$((cycle * 1000))
	while :; do
		n=$((n + 1))
		up=$b/u.$n
		mkdir -p "$up/t.0" && echo t.0 >"$up/branches" && sync -f "$b" ||
			{ ev "$u" ERROR mkdir; return 1; }
		mount -t strata -o "br=$up/t.0=rw:$L2=ro,whiteout=$fmt" none "$m" ||
			{ ev "$u" ERROR mount; return 1; }
		ev "$u" GEN "$n"
		touch /tmp/ready."$u"
		for i in $BSTEPS; do
			ev "$u" BEGIN "c$i" "A>P"
			dd if="$DATA/c$i" of="$m/c$i" bs=4k conv=fsync 2>/dev/null ||
				ev "$u" ERROR "write c$i"
			sync -f "$up/t.$i"
			ev "$u" DURABLE "c$i" P
			ev "$u" BEGIN "p$i" "L>M"
			dd if=/tmp/pmark of="$m/p$i" bs=4096 count=1 conv=notrunc,fsync 2>/dev/null ||
				ev "$u" ERROR "dd p$i"
			sync -f "$up/t.$i"
			ev "$u" DURABLE "p$i" M
			nt=t.$((i + 1))
			ev "$u" BEGIN top "t.$i>$nt"
			$S branch mode "$m" 0 rr || ev "$u" ERROR "branch mode 0 rr"
			mkdir "$up/$nt" && echo "$nt $(cat "$up/branches")" >"$up/branches.new" &&
				sync -f "$up" && mv "$up/branches.new" "$up/branches" && sync -f "$up" ||
				ev "$u" ERROR "branch list"
			$S branch add --top --mode rw "$m" "$up/$nt" || ev "$u" ERROR "branch add --top"
			ev "$u" DURABLE top "$nt"
			ev "$u" BEGIN extra "out>in"
			$S branch add --index 1 --mode rr "$m" "$C/extra" ||
				ev "$u" ERROR "branch add --index 1"
			[ "$(cat "$m/xfile" 2>/dev/null)" = extra ] || ev "$u" ERROR "added layer not visible"
			ev "$u" BEGIN extra "in>out"
			$S branch rm "$m" "$C/extra" || ev "$u" ERROR "branch rm"
			[ ! -e "$m/xfile" ] || ev "$u" ERROR "removed layer still visible"
			ev "$u" DURABLE extra out
		done
		end_gen "$u" "$up" "$b" "$n" || return 1
	done
}

# st: the layer store.  One generation per boot (the store is not
# retired); slots i0 i1 cm are the tags.  Every helper command syncs the
# store before it returns, so a finished one is DURABLE.
load_store() {
	u=st m=/tmp/m.st
	mkdir -p "$m"
	n=$((cycle * 1000 + 1)) j=0
	ev st GEN "$n"
	touch /tmp/ready.st
	# The next step depends on what the store holds, so the load goes on
	# where the last cut left it, and over many cycles the cuts land in
	# every step, not only in the first ones.
	while :; do
		j=$((j + 1))
		tags=" $($S image ls 2>/dev/null | awk 'NR > 1 { print $3 }' | tr ',\n' '  ') "
		has=
		case $tags in *" i0:latest "*)
			case $tags in *" i1:latest "*) has=i ;; esac ;;
		esac
		case $tags in *" cm:latest "*) has=${has}c ;; esac
		case $has in
		i)
			name=c$cycle-$j
			ev st BEGIN ctr "none>mounted"
			$S mount --name "$name" i1:latest "$m" >/dev/null || ev st ERROR "mount $name"
			change_container "$m" || ev st ERROR "change $name"
			ev st BEGIN cm "A>P"
			$S commit --tag cm:latest "$name" >/dev/null || ev st ERROR "commit $name"
			ev st DURABLE cm P
			echo after >"$m/after" || ev st ERROR "write after commit"
			ev st BEGIN ctr "mounted>none"
			$S umount --rm "$m" || ev st ERROR "umount --rm $name"
			;;
		ic)
			for k in cm i1 i0; do
				ev st BEGIN $k "P>A"
				$S image rm $k:latest || ev st ERROR "image rm $k"
				ev st DURABLE $k A
			done
			ev st BEGIN gc "run>done"
			$S gc >/dev/null || ev st ERROR gc
			ev st DURABLE gc done
			;;
		c)
			# A commit without its image (never left by the steps
			# above, which remove cm first).
			ev st ERROR "cm without i0 and i1"
			return 1
			;;
		*)
			for k in i0 i1; do
				case $tags in *" $k:latest "*) continue ;; esac
				ev st BEGIN $k "A>P"
				$S image import --tag $k:latest "$C/oci/$k" >/dev/null ||
					ev st ERROR "import $k"
				ev st DURABLE $k P
			done
			;;
		esac
	done
}

run() {
	for k in $SLOTS; do mark "$k"; done
	pmark
	rm -f /tmp/ready.*
	load e4 &
	load xf &
	load_renames r4 &
	load_wh wh &
	load_wh wx &
	load_bc bc &
	load_store &
	i=0
	for u in $UNIONS st; do
		while [ ! -e /tmp/ready.$u ]; do
			i=$((i + 1))
			[ $i -lt 600 ] || { say "ERROR: the load of $u did not start"; return 1; }
			sleep 0.1
		done
	done
	say "READY cycle $cycle at $(uptime_s)s of uptime"
	wait
	say "ERROR: the load stopped by itself"
	return 1
}

case $mode in
run)
	[ -f "$MAN" ] || prep
	[ -f "$MAN2" ] || prep2
	[ -f "$C/fp" ] || prep_store || exit 1
	run ;;
verify)
	[ -f "$MAN" ] && [ -f "$MAN2" ] && [ -f "$C/fp" ] ||
		{ say "RESULT $cycle torn=0 lost=1 workdir=0 lower=1 leftovers=0 unions=0 store=0 (no manifest)"; exit 1; }
	verify
	[ "$next" != run ] || run ;;
*)
	echo "crash.sh: unknown mode $mode" >&2
	exit 2 ;;
esac
