#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KVER OUT.cpio.gz: the initramfs of a strata test guest.
#
# Contents: static busybox with applet links, /init (selftests/guest/init),
# the distro modules the guest needs plus their dependencies (resolved here,
# on the host, and decompressed so busybox insmod can load them), strata.ko,
# the helper with its shared libraries, the guest scripts of selftests/guest/
# (demo, mkoci, storecheck, vmroot) and everything in build/selftests/.
# /strata/modules.load tells the guest what to insmod, in order.
#
# The archive is rebuilt only when one of its inputs changed (OUT.stamp).
# STRATA_GUEST_TOOLS adds host programs (with their libraries) to the guest;
# default: xfs_io, handy for reflink/fiemap checks, dmsetup for the EIO
# test, mkfs.xfs and mkfs.ext4 for the quota images of quota_test,
# stress-ng for stress_ng_test.sh, and GNU tar, du, find, rsync and git
# for plain_tools_test.sh.  A program whose name is a busybox applet goes
# to /host/bin, off PATH, so that every other test still runs busybox's;
# the others go to /usr/bin.  STRATA_MODROOT: the modules of KVER
# are under STRATA_MODROOT/lib/modules/KVER (a kernel not installed, see
# scripts/debug-kernel.sh) instead of /lib/modules/KVER.
set -euo pipefail

usage() { echo "usage: $0 KVER OUT.cpio.gz" >&2; exit 2; }
[ $# -eq 2 ] || usage
kver=$1 out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build} # STRATA_BUILD: for testing the harness
modroot=${STRATA_MODROOT:-}
moddir=$modroot/lib/modules/$kver

# The distro modules every guest loads.  virtio_pci is built in on 6.12;
# modprobe reports such modules as "builtin" (from modules.builtin, which is
# generated from the kernel config), and those are not shipped.
WANT_MODULES=(virtio_pci virtio_blk loop overlay ext4 xfs btrfs)
# Loaded when the kernel has them; a test that needs one skips without it.
# quota_v2: the quota file format of ext4's quota feature (quota_test).
OPTIONAL_MODULES=(dm_mod dm_flakey quota_v2)

[ -f "$moddir/modules.dep" ] || { echo "mkinitramfs: no modules for $kver in $moddir" >&2; exit 1; }
busybox=$(command -v busybox) || { echo "mkinitramfs: busybox not found" >&2; exit 1; }
# An ELF with a program interpreter is dynamically linked (readelf comes
# with binutils, which build-essential pulls in; `file` may be missing).
is_dynamic() { [[ $(readelf -l "$1" 2>/dev/null) == *"program interpreter"* ]]; }
if is_dynamic "$(readlink -f "$busybox")"; then
	echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2
	exit 1
fi

ko=$build/$kver/strata.ko
helper=$build/userspace/strata
tests=$build/selftests
tools=()
for t in ${STRATA_GUEST_TOOLS-xfs_io dmsetup mkfs.xfs mkfs.ext4 stress-ng tar du find rsync git}; do
	p=$(command -v "$t" 2>/dev/null) && tools+=("$p")
done

# Module plan: "dep PATH" (failure tolerated, e.g. crc32c-intel without
# SSE4.2), "want NAME PATH" (failure is a setup failure), "missing NAME".
# modprobe prints dependencies first and the module itself last; the same
# dependency shows up for several modules, so keep only its first line.
plan=$(mktemp)
stage=$(mktemp -d)
trap 'rm -rf "$stage" "$plan"' EXIT

resolve() { # NAME -> plan lines
	local name=$1 line path last=
	local -a lines=()
	if ! mapfile -t lines < <(modprobe ${modroot:+-d "$modroot"} -S "$kver" \
		--show-depends "$name" 2>/dev/null) ||
	   [ ${#lines[@]} -eq 0 ]; then
		echo "missing $name"
		return
	fi
	for line in "${lines[@]}"; do
		case $line in
		builtin\ *) ;;
		insmod\ *)
			path=${line#insmod }
			path=${path%% *}
			[ -z "$last" ] || echo "dep $last"
			last=$path ;;
		esac
	done
	# The last insmod line is NAME itself (unless it is built in).
	[ -z "$last" ] || echo "want $name $last"
}

{
	for m in "${WANT_MODULES[@]}"; do resolve "$m"; done
	for m in "${OPTIONAL_MODULES[@]}"; do
		resolve "$m" | sed -n 's/^want [^ ]* /dep /p; /^dep /p'
	done
	if [ -f "$ko" ]; then
		# strata.ko's own dependencies, if it has any.
		for d in $(modinfo -F depends "$ko" | tr ',' ' '); do
			resolve "$d" | sed 's/^want [^ ]* /dep /'
		done
		echo "want strata $ko"
	else
		echo "missing strata"
	fi
} | awk '$1 == "missing" || !seen[$NF]++' >"$plan"

# Everything the archive is made of, for the cache stamp.
inputs() {
	echo "kver $kver"
	cat "$plan"
	local f
	for f in "$0" "$top/selftests/guest/init" "$top/selftests/guest/demo.sh" \
		 "$top/selftests/guest/mkoci.sh" "$top/selftests/guest/vmroot.sh" \
		 "$top/selftests/guest/vmroot-init.sh" \
		 "$top/selftests/guest/storecheck.sh" \
		 "$busybox" "$helper" "${tools[@]}"; do
		[ -e "$f" ] && stat -L -c '%n %s %Y' "$f"
	done
	awk '$1 != "missing" { print $NF }' "$plan" | xargs -r stat -L -c '%n %s %Y'
	[ -d "$tests" ] && find "$tests" -printf '%p %s %T@ %m\n' | sort
	return 0
}
stamp=$(inputs | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin host/bin dev proc sys tmp run root etc mnt \
	 strata/bin strata/selftests "lib/modules/$kver"
cp "$busybox" bin/busybox
"$busybox" --list-full | while read -r applet; do
	[ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
# The kernel opens /dev/console before init runs, so it must exist in the
# archive; init copes without it when we are not root.
mknod -m 600 dev/console c 5 1 2>/dev/null || true

install -m 755 "$top/selftests/guest/init" init
install -m 755 "$top/selftests/guest/demo.sh" strata/demo.sh
install -m 755 "$top/selftests/guest/mkoci.sh" strata/mkoci.sh
install -m 755 "$top/selftests/guest/storecheck.sh" strata/storecheck.sh
install -m 644 "$top/selftests/guest/vmroot.sh" strata/vmroot.sh
install -m 755 "$top/selftests/guest/vmroot-init.sh" strata/vmroot-init.sh

# Shared libraries of a dynamic ELF, at the paths ldd resolves them to
# (including the dynamic loader, whose path is baked into the binary).
copy_libs() {
	local lib
	{ ldd "$1" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }' |
	while read -r lib; do
		[ -e ".$lib" ] || install -D -m 755 "$(readlink -f "$lib")" ".$lib"
	done
}

# Modules keep their distro paths so the depmod run below can index them.
mods=lib/modules/$kver
: >strata/modules.load
while read -r kind a b; do
	case $kind in
	missing) echo "missing $a" >>strata/modules.load; continue ;;
	dep) name='' src=$a ;;
	want) name=$a src=$b ;;
	esac
	if [ "$name" = strata ]; then
		dst=$mods/extra/strata.ko
	else
		dst=$mods/${src#"$moddir"/}
		dst=${dst%.xz}
	fi
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.xz) xz -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
	echo "$kind${name:+ $name} /$dst" >>strata/modules.load
done <"$plan"
[ ! -f "$mods/extra/strata.ko" ] || ln -s "/$mods/extra/strata.ko" strata/strata.ko
# modules.dep for busybox modprobe and for libkmod (the helper loads
# strata.ko on demand).
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ ! -f "$moddir/$f" ] || cp "$moddir/$f" "$mods/"
done
depmod -b "$stage" "$kver"

if [ -x "$helper" ]; then
	cp "$helper" strata/bin/strata
	copy_libs "$helper"
fi
# The applet links are absolute symlinks to /bin/busybox: never copy onto
# one (cp would follow it out of the archive).
applets=$("$busybox" --list)
for t in "${tools[@]}"; do
	dst=usr/bin
	! grep -qxF "${t##*/}" <<<"$applets" || dst=host/bin
	cp "$t" "$dst/"
	! is_dynamic "$t" || copy_libs "$t"
done
if [ -d "$tests" ]; then
	cp -a "$tests/." strata/selftests/
	find strata/selftests -type f -perm -u+x | while read -r t; do
		! is_dynamic "$t" || copy_libs "$t"
	done
fi

# Tests that drop privileges use nobody (65534) or tester (1000).
cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
tester:x:1000:
nogroup:x:65534:
EOF
echo "$kver" >strata/kver

mkdir -p "$(dirname "$out")"
find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --quiet | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$stamp" >"$out.stamp"
