#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of `make demo` (busybox sh, run by the guest init in demo mode;
# its output reaches the host terminal through the results channel).
#
# Builds three small image layers on ext4, mounts them as a read-only
# strata union and shows what a user sees: merged directories, the upper
# layer winning, both whiteout formats and an opaque directory.  Then a
# container-style rw branch on top: copy-up, whiteouts and opaque
# directories written, changes kept across a remount.  Then the layer
# store: a three-layer sample image built from the guest's busybox as an
# OCI layout, imported, mounted as a container, used with chroot, changed,
# committed to a new image and shown as an OCI layer tarball.  Every claim
# is checked; the exit status is non-zero if one does not hold.

failed=0
say() { printf '\n==> %s\n' "$*"; }
run() { # show the command as typed, then run it
	line='$'
	for a; do
		case $a in *[\ %]*) line="$line '$a'" ;; *) line="$line $a" ;; esac
	done
	echo "$line"
	"$@"
}
check() { # DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@"; then
		echo "    [ok] $desc"
	else
		echo "    [FAILED] $desc"
		failed=$((failed + 1))
	fi
}
same() { [ "$1" = "$2" ]; }

base=/mnt/ext4/demo
[ -d /mnt/ext4 ] && grep -q ' /mnt/ext4 ' /proc/mounts || base=/tmp/demo
union=/mnt/union

if [ -x /strata/bin/strata ]; then
	say "The strata helper"
	run strata version
fi

say "strata.ko is loaded"
run grep -w strata /proc/filesystems
check "filesystem type strata is registered" grep -qw strata /proc/filesystems

say "Building three layers in $base (L1 is the bottom, L3 the top)"
rm -rf "$base"
mkdir -p "$base/L1/etc" "$base/L1/data" "$base/L2/etc" "$base/L3/etc" \
	"$base/L3/data" "$union"

echo "hello from L1" >"$base/L1/hello.txt"
echo "L1 version" >"$base/L1/shared.txt"
echo "NAME=strata-demo" >"$base/L1/etc/os-release"
echo "to be removed by L2" >"$base/L1/etc/gone-aufs"
echo "to be removed by L3" >"$base/L1/etc/gone-overlay"
echo "old" >"$base/L1/data/old-1"
echo "old" >"$base/L1/data/old-2"

echo "L2 version" >"$base/L2/shared.txt"
echo "added by L2" >"$base/L2/etc/hostname"
: >"$base/L2/etc/.wh.gone-aufs"              # aufs/OCI whiteout

echo "added by L3" >"$base/L3/top.txt"
mknod "$base/L3/etc/gone-overlay" c 0 0      # overlayfs whiteout
: >"$base/L3/data/.wh..wh..opq"              # opaque: hides L1's data/
echo "new" >"$base/L3/data/new"

for l in L1 L2 L3; do
	echo "--- $l"
	(cd "$base/$l" && find . -mindepth 1 | sort | sed 's|^\./|    |')
done

say "Mounting them read-only (rr: the layers never change while mounted)"
opts="br=$base/L3=rr:$base/L2=rr:$base/L1=rr"
if ! run mount -t strata -o "$opts" none "$union"; then
	echo "    [FAILED] mount -t strata; kernel log:"
	dmesg | tail -n 5
	exit 1
fi

say "The union as a user sees it"
run ls -la "$union" "$union/etc" "$union/data"

say "Lookup goes top to bottom"
run cat "$union/hello.txt" "$union/shared.txt" "$union/top.txt"
check "hello.txt comes from L1" same "$(cat "$union/hello.txt")" "hello from L1"
check "shared.txt: L2 hides L1" same "$(cat "$union/shared.txt")" "L2 version"
check "etc/ merges L1 and L2" same "$(cat "$union/etc/hostname")" "added by L2"
check "etc/os-release still visible" test -f "$union/etc/os-release"

say "Whiteouts hide lower names, in both formats"
check "etc/gone-aufs hidden by .wh.gone-aufs" test ! -e "$union/etc/gone-aufs"
check "etc/gone-overlay hidden by a 0/0 char device" \
	test ! -e "$union/etc/gone-overlay"
# ls on purpose: this checks what readdir returns.
# shellcheck disable=SC2010
check "no .wh. names in readdir" \
	same "$(ls -a "$union" "$union/etc" "$union/data" | grep -c '^\.wh\.')" 0

say "An opaque directory hides everything below it"
run ls -a "$union/data"
check "data/ shows only L3's entry" same "$(ls "$union/data")" "new"

say "Mount information"
run grep strata /proc/self/mountinfo

say "Inode and device numbers (st_dev is the union's for every entry)"
run stat -c '%i %d %n' "$union" "$union/hello.txt" "$union/shared.txt" \
	"$union/etc" "$union/etc/hostname" "$union/data/new"
ndev=$(stat -c '%d' "$union" "$union/hello.txt" "$union/etc/hostname" \
	"$union/data/new" | sort -u | wc -l)
check "one st_dev for the whole union" same "$ndev" 1

say "No rw branch: the union is read-only"
if touch "$union/new-file" 2>/dev/null; then
	check "creating a file fails" false
else
	check "creating a file fails" true
fi

run umount "$union"

say "A container: a fresh rw branch on top of the same layers"
mkdir -p "$base/U"
opts="br=$base/U=rw:$base/L3=rr:$base/L2=rr:$base/L1=rr"
if ! run mount -t strata -o "$opts" none "$union"; then
	echo "    [FAILED] mount -t strata (writable); kernel log:"
	dmesg | tail -n 5
	exit 1
fi
run sh -c "echo 'changed in the container' >> '$union/shared.txt'"
check "writing a lower file copies it up" \
	same "$(tail -n 1 "$base/U/shared.txt")" "changed in the container"
check "the copy keeps the lower data" \
	same "$(head -n 1 "$base/U/shared.txt")" "L2 version"
check "the layer itself is untouched" \
	same "$(cat "$base/L2/shared.txt")" "L2 version"
run rm "$union/hello.txt"
check "removing a lower file leaves a .wh. whiteout in the rw branch" \
	test -f "$base/U/.wh.hello.txt"
check "... and hides it" test ! -e "$union/hello.txt"
run mkdir "$union/hello.txt"
check "mkdir over a whiteout makes an opaque directory" \
	test -f "$base/U/hello.txt/.wh..wh..opq"
run sh -c "echo new > '$union/etc/container.conf'"
check "new files land in the rw branch (parents copied up first)" \
	test -f "$base/U/etc/container.conf"
say "The rw branch now holds exactly the container's changes"
(cd "$base/U" && find . -mindepth 1 ! -path './.wh..wh.work*' | sort |
	sed 's|^\./|    |')
if [ -x /strata/bin/strata ] && strata status "$union" >/dev/null 2>&1; then
	say "The control channel: strata status"
	run strata status "$union"
fi

say "Unmount, mount again: the changes persist"
run umount "$union"
run mount -t strata -o "$opts" none "$union"
check "copied-up data persists" \
	same "$(tail -n 1 "$union/shared.txt")" "changed in the container"
check "the whiteout persists" test -d "$union/hello.txt"

say "Part 2: the layer store"
store_demo() {
	export STRATA_ROOT=$base/store
	img=$base/img
	mkdir -p "$img/base/bin" "$img/base/etc" "$img/base/usr/share/doc" \
		"$img/app/etc" "$img/app/app" "$img/cfg/usr/share/doc" "$img/cfg/app"
	cp /bin/busybox "$img/base/bin/busybox"
	for a in sh ls cat echo rm mkdir; do ln -s busybox "$img/base/bin/$a"; done
	echo "NAME=base" >"$img/base/etc/os-release"
	echo "welcome to the sample image" >"$img/base/etc/motd"
	echo "docs from the base layer" >"$img/base/usr/share/doc/README"
	echo "NAME=strata-sample" >"$img/app/etc/os-release"     # overrides
	printf '#!/bin/sh\necho "hello from $(cat /etc/os-release)"\n' \
		>"$img/app/app/hello.sh"
	chmod 755 "$img/app/app/hello.sh"
	: >"$img/cfg/usr/share/doc/.wh.README"                   # deletes
	echo "port=8080" >"$img/cfg/app/config"
	echo "--- the three layers (bottom first)"
	for l in base app cfg; do
		echo "    $l:"
		(cd "$img/$l" && find . -mindepth 1 ! -path './bin/*' | sort |
			sed 's|^\./|        |')
	done
	run /strata/mkoci.sh "$img/oci" sample:1 "$img/base" "$img/app" "$img/cfg"
	check "an OCI layout was written" test -f "$img/oci/index.json"

	say "Import it into the store ($STRATA_ROOT)"
	run strata image import "$img/oci" || return 1
	run strata image ls
	run strata layer ls
	check "three layers in the store" \
		same "$(ls "$STRATA_ROOT/layers" | wc -l)" 3

	say "Mount it as container 'web' and run commands inside with chroot"
	mkdir -p /mnt/web /mnt/web2
	run strata mount --name web sample:1 /mnt/web || return 1
	run chroot /mnt/web /app/hello.sh
	check "the app layer overrides os-release" \
		same "$(chroot /mnt/web cat /etc/os-release)" "NAME=strata-sample"
	run chroot /mnt/web ls /usr/share/doc
	check "the cfg layer deleted README" \
		test ! -e /mnt/web/usr/share/doc/README

	say "Write inside the container (copy-up into its rw top)"
	run chroot /mnt/web sh -c 'echo "visitors=1" >/app/state; echo "edited" >>/etc/motd; rm /app/config'
	run find "$STRATA_ROOT/containers/web/rw" -mindepth 1
	check "the changed motd was copied up" \
		test -f "$STRATA_ROOT/containers/web/rw/etc/motd"
	run strata status /mnt/web
	run strata container ls

	say "Commit the running container to image sample:2 and mount that"
	run strata commit --tag sample:2 web || return 1
	# Live: the old top is an rr layer now, a fresh rw top is over it.
	run strata status /mnt/web
	run chroot /mnt/web sh -c 'echo "visitors=2" >/app/state'
	check "the container keeps running: writes go to its fresh top" \
		same "$(cat "$STRATA_ROOT/containers/web/rw.1/app/state")" "visitors=2"
	run strata image ls
	run strata mount --name web2 sample:2 /mnt/web2 || return 1
	check "the new image has the state file" \
		same "$(cat /mnt/web2/app/state)" "visitors=1"
	check "... the edited motd" same "$(tail -n 1 /mnt/web2/etc/motd)" "edited"
	check "... and not the deleted config" test ! -e /mnt/web2/app/config

	say "The committed layer as an OCI layer tarball"
	# The image's last layer: its id from tags.json, its layers from
	# images/ID.json (one JSON value per line, as the helper writes them).
	id2=$(sed -n 's/.*"sample:2": "sha256:\([0-9a-f]*\)".*/\1/p' \
		"$STRATA_ROOT/tags.json")
	top=$(tr -d ' \n' <"$STRATA_ROOT/images/$id2.json" |
		sed 's/.*"layers":\[\([^]]*\)\].*/\1/' | tr -d '"' | tr , '\n' |
		tail -n 1)
	echo "$ strata layer diff $top | tar -tvf -"
	strata layer diff "$top" >"$img/top.tar"
	tar -tvf "$img/top.tar" | sed 's/^/    /'
	check "deletions are .wh. entries" sh -c "tar -tf '$img/top.tar' | grep -qx 'app/.wh.config'"
	check "the tarball's sha256 is the layer's digest" \
		same "sha256:$(sha256sum "$img/top.tar" | cut -d' ' -f1)" "$top"

	say "Unmount; the store keeps images and layers until gc"
	run strata umount --rm /mnt/web2
	run strata umount /mnt/web
	run strata container ls
	run strata container rm web
	run strata gc
	check "no container left mounted" sh -c "! grep -q ' /mnt/web' /proc/mounts"
	return 0
}
if [ -x /strata/bin/strata ] && [ -x /strata/mkoci.sh ]; then
	# Not through check(): its checks would overwrite the description.
	if ! store_demo; then
		echo "    [FAILED] the layer store story stopped early"
		failed=$((failed + 1))
	fi
fi

say "Unmount and unload"
run umount "$union"
check "umount" sh -c "! grep -q ' $union ' /proc/mounts"
run rmmod strata
check "rmmod strata" test ! -d /sys/module/strata

echo
if [ "$failed" -eq 0 ]; then
	echo "demo: all checks passed"
else
	echo "demo: $failed check(s) FAILED"
fi
[ "$failed" -eq 0 ]
