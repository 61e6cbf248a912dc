#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# stress_ng_test.sh: Debian's stress-ng filesystem stressors on a writable
# strata union while strata's own kinds of concurrency run on the same
# union; in the test guest as root under busybox sh; prints TAP.
#
# For each branch filesystem: two lower branches (base rr, app ro) hold a
# populated tree (files, directories, hard links, a symlink, whiteouts in
# both formats, an opaque directory), the union is mounted with a fresh
# rw top, and stress-ng runs its stressors with --temp-path in a directory
# of the union, several instances of each, bounded by --timeout.  At the
# same time, on the same union:
#
#   - two mutators change the lower tree (appends, truncates, chmod, file
#     and directory renames, unlinks and re-creates over whiteouts, hard
#     links, mkdir, removing an opaque directory), every operation applied
#     to a model copy of the tree too; no call may fail
#   - a reader walks the union (find, ls -lR, cat of every file); only
#     ENOENT (a name renamed or removed meanwhile) may come back
#   - a branch changer adds a read-only branch below the top, switches
#     its mode and that of the base branch, and removes it again; only
#     EBUSY (the branch is in use) may come back
#
# A stressor passes when stress-ng reports no failure for it ("fail:"
# lines, an error exit, a signal) and reports its metrics; one that says
# it is not supported or skipped here is a TAP skip with stress-ng's
# reason.  One that aborts early ("out of system resources", also how
# 0.15 reports a missing feature) is run alone on the raw branch
# filesystem: a skip if it aborts there too, else a failure.
# A stressor that completed no round (0 bogo ops: long rounds,
# a dozen stressors and the background tasks sharing two emulated CPUs)
# passes, as for stress-ng, and is named in a comment.
# stress-ng 0.15 has no "failed: N" summary, so its exit status counts
# too: 0, or 3/4 only when a stressor of the run was skipped.  Afterwards
# the union's tree equals the model, the union unmounts, the lower
# branches are byte-identical, and after mounting again the tree still
# equals the model (with its hard links) and the work directory is empty.
#
# Time: the stressors run in groups, each group one stress-ng run of
# STRATA_STRESS_NG_SECONDS (default 8) with STRATA_STRESS_NG_INSTANCES
# (default 2) instances per stressor, on the filesystems in
# STRATA_STRESS_NG_FULL (default ext4, none on the debug kernel); the
# other branch filesystems get one short run of a subset, half the time,
# one instance each.
# Excluded stressors are listed below with the reason.

S=${STRATA:-strata}
secs=${STRATA_STRESS_NG_SECONDS:-8}
inst=${STRATA_STRESS_NG_INSTANCES:-2}
# On the KASAN/lockdep kernel (make check-debug) the full run's first
# group did not end within ten minutes under TCG: short runs only there.
case $(uname -r) in
*-debug) full=${STRATA_STRESS_NG_FULL:-none} ;;
*) full=${STRATA_STRESS_NG_FULL:-ext4} ;;
esac
short_secs=$((secs / 2))
[ "$short_secs" -ge 2 ] || short_secs=2

# The full run, in groups run one after the other (all stressors of a
# group at once).  Not run, on purpose:
#   bind-mount, binderfs, procfs, verity: not about files in --temp-path
#   (mounts, other filesystems, fs-verity, which strata does not offer)
#   chattr, inode-flags, fiemap, file-ioctl: strata passes no ioctl to
#   the real file (Documentation/non-standard-behaviour.rst); fiemap
#   skips itself, the others accept ENOTTY and would test nothing
#   io-uring: stress-ng 0.15.06 fails on the raw branch filesystem too
#   (IORING_OP_STATX completes with ENOENT on 6.12)
#   eventfd, dup, ioprio: not filesystem operations
GROUPS_FULL="
names:dentry,dir,dirdeep,dirmany,rename,link,symlink,mknod,getdent
meta:access,chdir,chmod,chown,utime,touch,fstat,handle,inotify,dnotify,fanotify
files:xattr,filename,fallocate,fpunch,fcntl,lease,open,copy-file,flock,lockf,locka,lockofd
data:hdd,io,iomix,sync-file,fsize,seek,readahead,revio,mmap,msync,aio,aiol,sendfile,splice
"
# link and symlink are left out of the short run: one of their rounds
# (thousands of links) takes 15 to 30 s under TCG, whatever the timeout.
GROUPS_SHORT="
mix:dentry,dir,rename,chmod,xattr,getdent,hdd,copy-file,fallocate,lockf,mmap
"
# Bounded sizes: several instances on a 512 MiB disk, with the union's
# own files beside them (128M is the least copy-file accepts).
SIZES="--hdd-bytes 4M --fallocate-bytes 4M --seek-size 4M --readahead-bytes 4M
 --iomix-bytes 4M --sync-file-bytes 4M --copy-file-bytes 128M --mmap-bytes 4M
 --msync-bytes 4M --aio-requests 8 --aiol-requests 8
 --dirdeep-dirs 2 --dirdeep-inodes 4000 --dentries 1024 --dir-dirs 1024"

if ! command -v stress-ng >/dev/null 2>&1; then
	echo "1..0 # SKIP stress-ng is not in the guest"
	exit 4
fi
if ! command -v "$S" >/dev/null 2>&1 || [ ! -d /sys/module/strata ]; then
	echo "1..0 # SKIP the strata helper or module is missing"
	exit 4
fi
S=$(command -v "$S")

echo "TAP version 13"
# result, check, expect, same and the counters n and failed.
. "$(dirname "$0")/tap.sh"
skip() { # DESCRIPTION REASON
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}
now() { read -r t _ </proc/uptime; echo "${t%.*}"; }
# Names, types, modes, sizes, owners, link counts of non-directories,
# symlink targets and contents of a tree, one find per kind (forks are
# slow under TCG); "times" adds mtimes (for the lower branches, which
# nothing may touch).  Directories' sizes and link counts differ between
# filesystems and merged directories, so they are left out.
tree_sum() { # DIR [times]
	t=
	[ "${2:-}" != times ] || t=' %Y'
	(cd "$1" && {
		find . -type d -exec stat -c "%n %F %a %u %g$t" {} +
		find . ! -type d -exec stat -c "%N %F %a %s %u %g %h$t" {} +
		find . -type f -exec sha256sum {} +
	} | LC_ALL=C sort) 2>&1
}
# Hard-link groups of a tree: names sharing an inode, one line per group.
link_groups() { # DIR
	(cd "$1" && find . -type f -links +1 -exec stat -c '%i %n' {} + |
		LC_ALL=C sort | awk '
		$1 != i { if (l != "") print l; i = $1; l = $2; next }
		{ l = l " " $2 } END { if (l != "") print l }' | LC_ALL=C sort)
}

# The lower tree.  For each mutator k and directory i: base has f0..f6,
# a hard link hl of f0, a symlink, sub/ with files, opq/ with x and y;
# app overrides f1, whiteouts f5 (aufs .wh.) and f6 (0/0 device), makes
# opq/ opaque with z and adds a0.  common/ holds files for the reader.
populate() { # BASE APP
	for k in 0 1; do
		for i in 0 1 2 3; do
			d=$1/tree/m$k/d$i a=$2/tree/m$k/d$i
			mkdir -p "$d/sub" "$d/opq" "$a/opq"
			for j in 0 1 2 3 4 5 6; do
				echo "base m$k d$i f$j" >"$d/f$j"
			done
			dd if=/dev/urandom of="$d/f2" bs=4k count=8 2>/dev/null
			ln "$d/f0" "$d/hl"
			ln -s f3 "$d/sym"
			for j in 0 1 2; do echo "sub $j" >"$d/sub/s$j"; done
			echo x >"$d/opq/x"
			echo y >"$d/opq/y"
			echo "app m$k d$i f1" >"$a/f1"
			: >"$a/.wh.f5"
			mknod "$a/f6" c 0 0
			: >"$a/opq/.wh..wh..opq"
			echo z >"$a/opq/z"
			echo "app a0" >"$a/a0"
		done
	done
	mkdir -p "$1/tree/common"
	for j in $(seq 0 99); do echo "common $j" >"$1/tree/common/c$j"; done
	chmod 640 "$1/tree/common/c7"
	ln "$1/tree/common/c1" "$1/tree/common/c1.link"
}

# The mutators: OP ROOT ARGS applies one change below ROOT; it runs on the
# union first and, when that worked, on the model.  Every change is one
# that must work, so any failure is an error.
op_append() { echo "$3" >>"$1/$2"; }
op_trunc() { echo "$3" >"$1/$2"; }
op_chmod() { chmod "$3" "$1/$2"; }
op_mv() { mv "$1/$2" "$1/$3"; }
op_rm() { rm -r "${1:?}/$2"; }
op_ln() { ln "$1/$2" "$1/$3"; }
op_mkfile() { mkdir "$1/$2" && echo "$3" >"$1/$2/new"; }
mutate() { # K UNION MODEL STOPFILE LOG
	u=$2/tree/m$1 m=$3/tree/m$1 stopf=$4 mlog=$5 r=0
	while [ ! -e "$stopf" ]; do
		r=$((r + 1))
		for i in 0 1 2 3; do
			d=d$i f=d$i/f$((r % 7)) o=$(((r + i) % 9))
			set --
			case $o in
			0) [ -f "$m/$f" ] && set -- op_append "$f" "r$r" ;;
			1) [ -f "$m/$f" ] && set -- op_trunc "$f" "t$r" ;;
			2) [ -f "$m/$f" ] && set -- op_chmod "$f" $((600 + 44 * (r % 2))) ;;
			3) if [ -e "$m/$f" ]; then set -- op_mv "$f" "$f.mv"
			   elif [ -e "$m/$f.mv" ]; then set -- op_mv "$f.mv" "$f"; fi ;;
			4) if [ -e "$m/$f" ]; then set -- op_rm "$f"
			   else set -- op_trunc "$f" "new r$r"; fi ;;
			5) if [ -e "$m/$d/l$((r % 3))" ]; then set -- op_rm "$d/l$((r % 3))"
			   elif [ -f "$m/$d/f0" ]; then set -- op_ln "$d/f0" "$d/l$((r % 3))"; fi ;;
			6) if [ -d "$m/$d/sub" ]; then set -- op_mv "$d/sub" "$d/sub.mv"
			   else set -- op_mv "$d/sub.mv" "$d/sub"; fi ;;
			7) if [ -d "$m/$d/nd" ]; then set -- op_rm "$d/nd"
			   else set -- op_mkfile "$d/nd" "r$r"; fi ;;
			8) if [ -d "$m/$d/opq" ]; then set -- op_rm "$d/opq"
			   else set -- op_mkfile "$d/opq" "r$r"; fi ;;
			esac
			[ $# -gt 0 ] || continue
			op=$1
			shift
			if err=$("$op" "$u" "$@" 2>&1); then
				"$op" "$m" "$@" || echo "E model $op $*"
				echo "ok"
			else
				echo "E $op $*: $err"
			fi
		done
	done >"$mlog" 2>&1
}
# The reader: only ENOENT is an answer it can get (names move under it).
# Its messages name the stress-ng group that was running.
read_loop() { # UNION STOPFILE LOG
	while [ ! -e "$2" ]; do
		{
			find "$1/tree" >/dev/null
			ls -lR "$1/tree" >/dev/null
			ls -la "$1" "$1/sng" >/dev/null
			find "$1/tree" -type f -exec cat {} + >/dev/null
		} 2>&1 | sed "s/^/[$(cat "$dir/group" 2>/dev/null)] /"
		echo "pass"
	done >"$3" 2>&1
}
# The branch changer: a read-only branch is added just under the top,
# read, switched to rr and back, and removed; the base branch switches
# between rr and ro.  Only EBUSY (in use) may come back.
branch_loop() { # UNION EXTRA BASE STOPFILE LOG
	while [ ! -e "$4" ]; do
		if "$S" branch add --mode ro "$1" "$2" 2>&1; then
			echo "added"
			cat "$1/xtra/hello" >/dev/null
			"$S" branch mode "$1" "$2" rr 2>&1
			"$S" branch mode "$1" "$3" ro 2>&1
			"$S" branch mode "$1" "$2" ro 2>&1
			"$S" branch mode "$1" "$3" rr 2>&1
			tries=0
			while :; do
				if "$S" branch rm "$1" "$2" 2>&1; then
					echo "removed"
					break
				fi
				tries=$((tries + 1))
				[ $tries -lt 50 ] && [ ! -e "$4" ] || break
				sleep 0.1
			done
		fi
	done >"$5"
	# Leave the union as it was mounted.
	tries=0
	while "$S" status "$1" | grep -qF "$2"; do
		"$S" branch rm "$1" "$2" >>"$5" 2>&1 && break
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "E extra branch not removed" >>"$5"; break; }
		sleep 0.1
	done
	"$S" branch mode "$1" "$3" rr >>"$5" 2>&1 ||
		echo "E base branch not back to rr" >>"$5"
}

# Does STRESSOR abort early (out of resources, which is also how
# stress-ng 0.15 reports a missing feature) on the raw branch filesystem?
raw_aborts() { # FS STRESSOR
	rd=$(mktemp -d "/mnt/$1/sng-raw.XXXXXX") || return 1
	# shellcheck disable=SC2086
	(cd "$rd" && stress-ng --temp-path "$rd" --"$2" 1 --timeout 2s $SIZES) \
		>"$tmp/raw" 2>&1
	rm -rf "$rd"
	grep -qF "($2) aborted early" "$tmp/raw"
}

# Instances of STRESSOR in a run of N each: link and symlink get one, as
# one of their rounds (thousands of links) takes 15 to 30 s under TCG
# whatever the timeout, longer the more of them share the CPUs.
count() { # STRESSOR N
	case $1 in
	link|symlink) echo 1 ;;
	*) echo "$2" ;;
	esac
}

# One stress-ng run: GROUP FS SECONDS INSTANCES STRESSOR,...; TAP line
# per stressor and one for the run.
run_group() {
	g=$1 fs=$2 t=$3 ni=$4 list=$(echo "$5" | tr , ' ')
	args=
	for s in $list; do
		args="$args --$s $(count "$s" "$ni")"
		case $s in
		mmap) args="$args --mmap-file" ;;
		fstat) args="$args --fstat-dir $u/sng/$g" ;;
		esac
	done
	mkdir -p "$u/sng/$g"
	echo "$g" >"$dir/group"
	log=$dir/sng-$fs-$g.log
	t0=$(now)
	# shellcheck disable=SC2086
	(cd "$u/sng/$g" && exec stress-ng --temp-path "$u/sng/$g" \
		--timeout "${t}s" --metrics --verify $SIZES $args) >"$log" 2>&1
	rc=$?
	t1=$(now)
	skipped=0 bad=0 zero=
	for s in $list; do
		why=$(grep -E "\] $s: " "$log" |
		      grep -iE 'skipping|not supported|not implemented' | head -n 1 |
		      sed 's/^stress-ng: [a-z]*: *\[[0-9]*\] //')
		ops=$(awk -v s="$s" '$2 == "metrc:" && $4 == s { print $5; exit }' "$log")
		secs_run=$(awk -v s="$s" '$2 == "metrc:" && $4 == s { print $6; exit }' "$log")
		if grep -E "^stress-ng: fail: .*\] $s: |\($s\) terminated" "$log" >"$tmp/f"; then
			result 1 "$fs $s: $(count "$s" "$ni") instances, failed"
			sed 's/^/#   /' "$tmp/f" | head -n 10
			bad=1
		elif [ -n "$why" ] && { [ -z "$ops" ] || [ "$ops" = 0 ]; }; then
			# (Only if it did nothing: splice on 6.1 says "not
			# supported" of one variant and goes on with another.)
			skip "$fs $s" "$why"
			skipped=1
		elif grep -F "($s) aborted early" "$log" >"$tmp/f"; then
			if raw_aborts "$fs" "$s"; then
				skip "$fs $s" "aborts early (out of resources) on raw $fs too"
				skipped=1
			else
				result 1 "$fs $s: $(count "$s" "$ni") instances, aborted early, not so on raw $fs"
				sed 's/^/#   /' "$tmp/f" | head -n 10
				bad=1
			fi
		elif [ -z "$ops" ]; then
			result 1 "$fs $s: $(count "$s" "$ni") instances, no metrics reported"
			grep -F "$s" "$log" | sed 's/^/#   /' | head -n 10
			bad=1
		elif [ "$ops" = 0 ]; then
			# A bogo op is one complete round; stress-ng counts a
			# stressor stopped in its first round as a success.
			result 0 "$fs $s: $(count "$s" "$ni") instances, 0 bogo ops in ${secs_run}s (no complete round)"
			zero="$zero $s"
		else
			result 0 "$fs $s: $(count "$s" "$ni") instances, $ops bogo ops in ${secs_run}s"
			[ -z "$why" ] || echo "# $fs $s: $why"
		fi
	done
	# Failures no stressor was named in; the exit status.
	if grep "^stress-ng: fail:" "$log" >"$tmp/f"; then bad=1; fi
	case $rc in
	0) ;;
	3|4) [ "$skipped" = 1 ] || bad=1 ;;
	*) bad=1 ;;
	esac
	result $bad "$fs stress-ng group $g: exit status $rc, $((t1 - t0))s"
	[ -z "$zero" ] || echo "# $fs group $g: no complete round of:$zero"
	if [ $bad != 0 ]; then
		grep -E 'fail:|warn:|error' "$log" | sed 's/^/#   /' | head -n 20
	fi
	check "$fs group $g: stress-ng left nothing in its temp path" \
		same "$(ls -A "$u/sng/$g")" ""
	rm -rf "$u/sng/$g"
}

# Errors of the background tasks that are not allowed: LOG PATTERN.
bad_lines() {
	grep -v -E "$2" "$1" | head -n 20 | sed 's/^/#   /'
	! grep -qv -E "$2" "$1"
}
# The first of those lines, for the name of a failing result: a summary
# of the run shows result lines before (or without) the comments.
first_bad() { # FILE REGEX
	grep -v -E "$2" "$1" | head -n 1 | cut -c 1-160
}

run_fs() { # FS GROUPS SECONDS INSTANCES WHITEOUT
	fs=$1
	dir=$(mktemp -d "/mnt/$fs/sng.XXXXXX") || {
		result 1 "$fs: scratch directory"
		return
	}
	base=$dir/base app=$dir/app up=$dir/up u=$dir/u xb=$dir/extra
	M=$dir/model stop=$dir/stop
	mkdir -p "$base" "$app" "$up" "$u" "$xb/xtra" "$M"
	echo hello >"$xb/xtra/hello"
	populate "$base" "$app"
	lower_before=$(tree_sum "$base" times; tree_sum "$app" times)
	opts="br=$up=rw:$app=ro:$base=rr,whiteout=$5"
	if ! check "$fs: mount the union ($5 whiteouts)" \
		mount -t strata -o "$opts" none "$u"; then
		rm -rf "$dir"
		return
	fi
	cp -a "$u/tree" "$M/tree"
	check "$fs: the union shows the merged tree (model made)" \
		same "$(ls "$u/tree/m0/d0" | tr '\n' ' ')" "a0 f0 f1 f2 f3 f4 hl opq sub sym "
	mkdir "$u/sng"

	mutate 0 "$u" "$M" "$stop" "$dir/mut0.log" &
	p1=$!
	mutate 1 "$u" "$M" "$stop" "$dir/mut1.log" &
	p2=$!
	read_loop "$u" "$stop" "$dir/read.log" &
	p3=$!
	branch_loop "$u" "$xb" "$base" "$stop" "$dir/branch.log" &
	p4=$!

	for gl in $2; do
		run_group "${gl%%:*}" "$fs" "$3" "$4" "${gl#*:}"
	done

	: >"$stop"
	wait $p1 $p2 $p3 $p4
	muts=$(cat "$dir/mut0.log" "$dir/mut1.log" | grep -c '^ok$')
	why=$(first_bad "$dir/mut0.log" '^ok$')
	check "$fs: mutators: $muts changes, none failed${why:+ (first: $why)}" \
		bad_lines "$dir/mut0.log" '^ok$'
	why=$(first_bad "$dir/mut1.log" '^ok$')
	bad_lines "$dir/mut1.log" '^ok$'
	result $? "$fs: second mutator, none failed${why:+ (first: $why)}"
	passes=$(grep -c '^pass$' "$dir/read.log")
	ok_re='^pass$|No such file or directory'
	why=$(first_bad "$dir/read.log" "$ok_re")
	check "$fs: reader: $passes passes, only ENOENT${why:+ (first: $why)}" \
		bad_lines "$dir/read.log" "$ok_re"
	adds=$(grep -c '^added$' "$dir/branch.log")
	rms=$(grep -c '^removed$' "$dir/branch.log")
	ok_re='^(added|removed)$|Device or resource busy'
	why=$(first_bad "$dir/branch.log" "$ok_re")
	check "$fs: branch changes: $adds adds, $rms removals, only EBUSY${why:+ (first: $why)}" \
		bad_lines "$dir/branch.log" "$ok_re"
	check "$fs: at least one branch was added and removed" \
		[ "$adds" -gt 0 -a "$rms" -gt 0 ]
	check "$fs: the extra branch is gone" \
		same "$("$S" status "$u" | grep -cF "$xb")" 0

	model=$(tree_sum "$M/tree")
	check "$fs: the union's tree equals the model" \
		same "$(tree_sum "$u/tree")" "$model"
	check "$fs: the union unmounts" umount "$u"
	check "$fs: the lower branches are byte-identical" \
		same "$(tree_sum "$base" times; tree_sum "$app" times)" "$lower_before"
	check "$fs: the union mounts again" mount -t strata -o "$opts" none "$u"
	check "$fs: after the remount the tree equals the model" \
		same "$(tree_sum "$u/tree")" "$model"
	check "$fs: after the remount hard links are as in the model" \
		same "$(link_groups "$u/tree")" "$(link_groups "$M/tree")"
	check "$fs: the work directory is empty" \
		same "$(ls -A "$up/.wh..wh.work")" ""
	check "$fs: the union unmounts again" umount "$u"
	rm -rf "$dir"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sng.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "# stress-ng $(stress-ng --version | sed 's/^stress-ng, version //')"
echo "# full run on: $full ($secs s per group, $inst instances);" \
	"others: $short_secs s, 1 instance"
wo=aufs
for fs in ${STRATA_TEST_FS:-tmpfs}; do
	if echo " $full " | grep -qF " $fs "; then
		run_fs "$fs" "$GROUPS_FULL" "$secs" "$inst" "$wo"
	else
		run_fs "$fs" "$GROUPS_SHORT" "$short_secs" 1 "$wo"
	fi
	# Alternate the whiteout format strata writes.
	if [ $wo = aufs ]; then wo=overlay; else wo=aufs; fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
