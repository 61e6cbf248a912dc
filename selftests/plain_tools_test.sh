#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# plain_tools_test.sh: GNU tar, du, find, rsync and git on a strata union
# give the same answers as on a plain filesystem holding the same tree;
# in the test guest as root under busybox sh; prints TAP.
#
# For each branch filesystem and whiteout format, two lower branches (the
# first with hard-link groups, the second on another filesystem with one
# of its own) make a union with a fresh rw branch.  The reference is the
# same tree made in one plain directory on /tmp (tmpfs).  A git repository
# is committed in a directory of both.  Then, on both, the same changes:
# an append to one name of a link group (a data copy-up), a chmod of one
# (a metadata-only copy), link() of a third group, a rename of a lower
# directory holding a group, removing a group's name and a single file,
# an append to the second branch's group, opening a tracked file for
# writing without writing and setting a tracked file's mtime.
#
# At three points (after the commit, after the changes, after a remount;
# the dentry and inode caches dropped first, so the union's numbers are
# made again from the branches), each of these must equal the reference's:
#
#   - the tree: types, modes, sizes, link counts, owners, contents
#   - the names grouped by st_ino (each group a hard-link group, every
#     other name alone: st_ino unique within the mount)
#   - st_dev: the union root's for every name
#   - find -samefile NAME, for every name of every link group
#   - tar -c --sort=name: which entries are hard links and to what;
#     the archive extracted has the reference's link groups
#   - du: the bytes and the inodes du -l counts on top of du (the extra
#     names of link groups; block counts depend on the filesystem)
#   - rsync -aH into a fresh directory: the reference's tree and groups
#   - git status --porcelain, and git diff-files (which does not look at
#     contents, only at the stat data git's index keeps: st_ino, mtime,
#     size, mode, owner) with core.trustctime=false after the changes;
#     after the remount with git's defaults (ctime too)
#
# plus, after the changes and after the remount, no name's st_ino changed
# (renamed names compared under their new names).  After the changes,
# names whose ctime the copy-up changed (git's default would re-read them)
# are listed as a comment: a copy gets a new ctime, see
# Documentation/non-standard-behaviour.rst.
#
# The same checks on overlayfs with default options (hard links split at
# copy-up there) are counted once, as a comment: they show the checks can
# fail, they are not results.
#
# GNU tar, du and find are in the guest's /host/bin (busybox keeps their
# names on PATH), rsync and git in /usr/bin (scripts/mkinitramfs.sh);
# without one of them the test skips.

TAR=${STRATA_GNU_TAR:-/host/bin/tar}
DU=${STRATA_GNU_DU:-/host/bin/du}
FIND=${STRATA_GNU_FIND:-/host/bin/find}
RSYNC=${STRATA_RSYNC:-/usr/bin/rsync}
GIT=${STRATA_GIT:-/usr/bin/git}

need() { # PROGRAM WORD: PROGRAM runs and its --version names WORD
	if ! "$1" --version 2>/dev/null | grep -q "$2"; then
		echo "1..0 # SKIP $1 ($2) is not in the guest"
		exit 4
	fi
}
need "$TAR" 'GNU tar'
need "$DU" 'GNU coreutils'
need "$FIND" 'GNU findutils'
need "$RSYNC" 'rsync'
need "$GIT" 'git version'
if [ ! -d /sys/module/strata ]; then
	echo "1..0 # SKIP the strata module is not loaded"
	exit 4
fi

echo "TAP version 13"
# result, check, expect, same and the counters n and failed.
. "$(dirname "$0")/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plain.XXXXXX")
trap 'umount "$tmp/o/u" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/templates"
# git: no system or user configuration, no templates (hooks), fixed
# dates so both repositories hold the same objects, no background work.
export HOME="$tmp/home" GIT_CONFIG_NOSYSTEM=1 GIT_TEMPLATE_DIR="$tmp/templates"
export GIT_AUTHOR_DATE='2020-01-02T03:04:05Z' GIT_COMMITTER_DATE='2020-01-02T03:04:05Z'
git() { # DIR ARGS...: git in DIR/repo
	(cd "$1/repo" && shift && "$GIT" -c user.name=strata \
		-c user.email=strata@localhost -c init.defaultBranch=main \
		-c gc.auto=0 -c maintenance.auto=false "$@")
}

# File contents of N bytes.
data() { # N WORD
	yes "$2" | head -c "$1"
}

# The tree, in branches L1 and L2 (the same directory for the reference).
populate() { # L1 L2
	mkdir -p "$1/a" "$1/b" "$1/mv/sub" "$1/del" "$1/repo" "$2/a" "$2/l2"
	data 5000 f1 >"$1/a/f1"
	ln "$1/a/f1" "$1/a/f1b"
	ln "$1/a/f1" "$1/b/f1c"
	data 300 g1 >"$1/a/g1"
	ln "$1/a/g1" "$1/a/g1b"
	data 9000 h1 >"$1/h1"
	ln "$1/h1" "$1/h2"
	ln "$1/h1" "$1/h3"
	data 100 p1 >"$1/a/plain1"
	data 200 p2 >"$1/a/plain2"
	data 700 x >"$1/mv/x"
	ln "$1/mv/x" "$1/mv/xl"
	data 50 y >"$1/mv/y"
	data 60 z >"$1/mv/sub/z"
	data 800 k >"$1/del/k1"
	ln "$1/del/k1" "$1/del/k2"
	ln -s a/f1 "$1/sym"
	for f in w t r c; do data 400 "$f" >"$1/repo/$f"; done
	ln "$1/repo/r" "$1/repo/rl"
	data 30 o >"$2/a/other"
	data 3000 p >"$2/l2/p"
	ln "$2/l2/p" "$2/l2/pl"
	data 40 q >"$2/l2/q"
	# Old times: git compares the content of an entry as new as its
	# index ("racily clean"), which would hide a changed st_ino.
	"$FIND" "$1" "$2" ! -type l -exec touch -d '2020-01-02 03:04:05' {} +
}

# A tree with its hard links and times (GNU tar; from plain directory to
# plain directory: this copy is not under test).
copy() { # FROM TO
	"$TAR" -C "$1" -cf - . | "$TAR" -C "$2" -xf -
}
now() { read -r t _ </proc/uptime; echo "${t%.*}"; }

# The same changes on the union and on the reference.
change() { # DIR
	echo more >>"$1/a/f1"
	chmod 600 "$1/a/g1"
	ln "$1/h1" "$1/h4"
	mv "$1/mv" "$1/mvd"
	rm "$1/del/k1" "$1/a/plain2"
	echo more >>"$1/l2/p"
	: >>"$1/repo/w"
	touch -d '2021-05-06 07:08:09' "$1/repo/t"
}

# What the checks compare; the git directory is left out (its index and
# logs differ in times).  One find per question: forks are slow under TCG.
walk() { # DIR FIND-ARGS...
	d=$1
	shift
	(cd "$d" && "$FIND" . -path ./repo/.git -prune -o "$@")
}
# Directories' sizes and link counts differ between filesystems and
# merged directories: not compared.
tree_sum() { # DIR
	walk "$1" \( -type d -printf '%p %y %m %u %g\n' \) -o \
		\( -printf '%p %y %m %u %g %s %n %l\n' , \
		   -type f -exec sha256sum {} + \) | LC_ALL=C sort
}
# The names grouped by st_ino, one group a line.  awk compares the
# numbers as strings: as numbers, 64-bit ones lose their low bits.
group() { # [key]: "KEY NAME" lines -> the NAMEs of each KEY on a line
	LC_ALL=C sort -k1,1 -k2 | awk -v key="${1:-}" '
		$1 "" != k { if (l != "") print l; k = $1 ""; l = (key ? k " " : "") $2; next }
		{ l = l " " $2 } END { if (l != "") print l }' | LC_ALL=C sort
}
ino_groups() { # DIR
	walk "$1" -printf '%i %p\n' | group
}
ino_list() { # DIR
	walk "$1" -printf '%p %i\n' | LC_ALL=C sort
}
# Names whose st_ino differs between two ino_lists (mv/ is mvd/ in the
# second when RENAMED is set).
ino_changed() { # BEFORE AFTER RENAMED
	printf '%s\n' "$1" | sed "${3:+s#^\./mv\([/ ]\)#./mvd\1#}" |
		awk -v after="$2" '
		BEGIN { n = split(after, a, "\n")
			for (i = 1; i <= n; i++) { split(a[i], f, " "); ino[f[1]] = f[2] "" } }
		($1 in ino) && ino[$1] != $2 "" { print $1 ": " $2 " -> " ino[$1] }'
}
devs() { # DIR: st_dev of every name that is not the root's
	walk "$1" -printf '%D %p\n' | awk -v root="$(stat -c %d "$1")" '$1 "" != root ""'
}
# For each name of each link group of the reference, "NAME: the names
# find -samefile NAME finds in DIR" (one find, the queries joined by ",").
samefile() { # DIR
	dir=$1
	set --
	for p in $(printf '%s\n' "$ref_groups" | awk 'NF > 1'); do
		[ $# -eq 0 ] || set -- "$@" ,
		set -- "$@" -samefile "$p" -printf "$p: %p\\n"
	done
	walk "$dir" \( "$@" \) | group key
}
# What samefile must find: every group, once for each of its names.
samefile_want() {
	printf '%s\n' "$ref_groups" |
		awk 'NF > 1 { for (i = 1; i <= NF; i++) print $i ": " $0 }' | LC_ALL=C sort
}
# tar's listing: type, mode, size, name and link target of each entry.
tar_list() { # DIR ARCHIVE
	"$TAR" -C "$1" --sort=name --exclude=.git -cf "$2" . &&
		"$TAR" -tvf "$2" | awk '{ $2 = $4 = $5 = ""; print }'
}
tar_extract() { # ARCHIVE: the link groups of the extracted tree
	rm -rf "$tmp/x" && mkdir "$tmp/x" && "$TAR" -C "$tmp/x" -xf "$1" &&
		ino_groups "$tmp/x"
}
du_extra() { # DIR: bytes and inodes du -l counts on top of du
	{
		"$DU" -sb --exclude=.git "$1"
		"$DU" -sbl --exclude=.git "$1"
		"$DU" -s --inodes --exclude=.git "$1"
		"$DU" -sl --inodes --exclude=.git "$1"
	} | awk '{ v[NR] = $1 } END { print "bytes", v[2] - v[1], "inodes", v[4] - v[3] }'
}
rsync_copy() { # DIR: rsync -aH into $tmp/rs
	rm -rf "$tmp/rs" && "$RSYNC" -aH --exclude=.git "$1/" "$tmp/rs/"
}
diff_files() { # DIR [GIT-OPTION]
	git "$1" ${2:+-c "$2"} diff-files --name-status | LC_ALL=C sort
}

# The reference's answers, once per change of the reference.
ref_state() {
	ref_tree=$(tree_sum "$R")
	ref_groups=$(ino_groups "$R")
	ref_tar=$(tar_list "$R" "$tmp/r.tar")
	ref_du=$(du_extra "$R")
}

# verify DESCRIPTION COMMAND...: a TAP result, or in the overlayfs round
# ($cmp set) only counted.
verify() {
	if [ -n "$cmp" ]; then
		desc=$1
		shift
		if "$@" >/dev/null 2>&1; then
			cmp_ok=$((cmp_ok + 1))
		else
			cmp_bad=$((cmp_bad + 1))
			echo "#   differs: $desc"
		fi
	else
		check "$@"
	fi
}
drop_caches() {
	sync
	echo 2 >/proc/sys/vm/drop_caches
}

# The checks at one point; $tag names the union, $U is its directory.
compare() { # STAGE
	st="$tag $1:"
	drop_caches
	verify "$st tree as the reference's" same "$(tree_sum "$U")" "$ref_tree"
	verify "$st names grouped by st_ino as the reference's" \
		same "$(ino_groups "$U")" "$ref_groups"
	verify "$st st_dev of every name is the union's" same "$(devs "$U")" ""
	verify "$st find -samefile finds the reference's link groups" \
		same "$(samefile "$U")" "$(samefile_want)"
	verify "$st tar lists hard links where the reference does" \
		same "$(tar_list "$U" "$tmp/u.tar")" "$ref_tar"
	verify "$st tar extracts the reference's link groups" \
		same "$(tar_extract "$tmp/u.tar")" "$ref_groups"
	verify "$st du -l counts the reference's extra names" \
		same "$(du_extra "$U")" "$ref_du"
	rsync_copy "$U"
	verify "$st rsync -aH copies the reference's tree" \
		same "$(tree_sum "$tmp/rs")" "$ref_tree"
	verify "$st rsync -aH copies the reference's link groups" \
		same "$(ino_groups "$tmp/rs")" "$ref_groups"
}
compare_git() { # OPTION: diff-files, then status (which refreshes the index)
	verify "$st git diff-files${1:+ with $1} as in the reference" \
		same "$(diff_files "$U" "$1")" "$(diff_files "$R" "$1")"
	verify "$st git status --porcelain as in the reference" \
		same "$(git "$U" status --porcelain)" "$(git "$R" status --porcelain)"
}

# One union: MOUNT and UMOUNT are commands (split into words where they
# are used), U its directory, L1 and L2 its lower branches.
round() {
	t0=$(now)
	rm -rf "$R" && mkdir -p "$R"
	copy "$tpl/ref" "$R"
	copy "$tpl/l1" "$L1"
	copy "$tpl/l2" "$L2"
	if ! verify "$tag: mount" $MOUNT; then return; fi
	for d in "$U" "$R"; do
		git "$d" init -q && git "$d" add -A && git "$d" commit -q -m base
	done
	ref_state
	compare "after the commit"
	compare_git ""
	before=$(ino_list "$U")

	change "$U"
	change "$R"
	ref_state
	compare "after the changes"
	after=$(ino_list "$U")
	verify "$st no name changed its st_ino" \
		same "$(ino_changed "$before" "$after" renamed)" ""
	if [ -z "$cmp" ]; then
		diff_files "$R" >"$tmp/df"
		ct=$(diff_files "$U" | grep -vxF -f "$tmp/df" | cut -f2 | tr '\n' ' ')
		echo "# $st names whose ctime the copy-up changed: ${ct:-none}"
	fi
	compare_git core.trustctime=false
	git "$U" update-index -q --refresh
	git "$R" update-index -q --refresh

	verify "$tag: unmount" $UMOUNT
	verify "$tag: mount again" $MOUNT
	compare "after the remount"
	verify "$st no name changed its st_ino" \
		same "$(ino_changed "$after" "$(ino_list "$U")")" ""
	compare_git ""
	verify "$tag: unmount again" $UMOUNT
	[ -n "$cmp" ] || echo "# $tag: $(($(now) - t0))s"
}

# The trees, made once: forks are slow under TCG.
tpl=$tmp/tpl
mkdir -p "$tpl/l1" "$tpl/l2" "$tpl/ref"
populate "$tpl/l1" "$tpl/l2"
populate "$tpl/ref" "$tpl/ref"
R=$tmp/ref
cmp=
for fs in ${STRATA_TEST_FS:-tmpfs}; do
	for wo in aufs overlay; do
		dir=$(mktemp -d "/mnt/$fs/plain.XXXXXX") || {
			result 1 "$fs/$wo: scratch directory"
			continue
		}
		# The link groups' branch on the rw branch's filesystem or on
		# another one, the second branch on the other.
		other=$(mktemp -d "$tmp/other.XXXXXX")
		if [ "$wo" = aufs ]; then
			L1=$dir/l1 L2=$other/l2
		else
			L1=$other/l1 L2=$dir/l2
		fi
		U=$dir/u tag="$fs/$wo"
		mkdir -p "$U" "$dir/up" "$L1" "$L2"
		MOUNT="mount -t strata -o br=$dir/up=rw:$L1=ro:$L2=ro,whiteout=$wo none $U"
		UMOUNT="umount $U"
		round
		umount "$U" 2>/dev/null
		rm -rf "$dir" "$other"
	done
done

# The same checks on overlayfs with default options, counted only; the
# repository's branch on another filesystem than the upper one, where
# overlayfs keeps no st_ino across copy-up without xino.
o=$tmp/o
ol=$(mktemp -d /mnt/tmpfs/plain-o.XXXXXX 2>/dev/null) || ol=$o
L1=$ol/l1 L2=$o/l2 U=$o/u tag=overlayfs
mkdir -p "$L1" "$L2" "$U" "$o/up" "$o/work"
MOUNT="mount -t overlay -o lowerdir=$L1:$L2,upperdir=$o/up,workdir=$o/work overlay $U"
UMOUNT="umount $U"
cmp=1 cmp_ok=0 cmp_bad=0
echo "# overlayfs (defaults) for comparison, not results:"
round
echo "# overlayfs: $cmp_bad of $((cmp_ok + cmp_bad)) checks differ from the plain reference"
umount "$U" 2>/dev/null
rm -rf "$ol"

echo "1..$n"
[ "$failed" -eq 0 ]
