#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkdisks.sh DIR: fresh sparse images for the guest's branch filesystems.
# Tests are destructive, so every run gets new ones.  qemu-run.sh attaches
# them in this order: vda=ext4.img, vdb=xfs.img, vdc=btrfs.img.
# 512 MiB each is above the xfs minimum (300 MiB) and big enough for btrfs
# to use separate data and metadata block groups.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
size=${STRATA_DISK_SIZE:-512M}
mkdir -p "$dir"

mk() { # IMAGE MKFS-COMMAND...
	local img=$dir/$1
	shift
	rm -f "$img"
	truncate -s "$size" "$img"
	"$@" "$img" >/dev/null || { echo "mkdisks: $* $img failed" >&2; exit 1; }
}

# No discard (pointless on a fresh sparse file) and, for ext4, no lazy
# inode-table init: the guest's ext4lazyinit thread would otherwise zero
# the tables under emulation while the tests run.
mk ext4.img mkfs.ext4 -F -q -L strata-ext4 \
	-E nodiscard,lazy_itable_init=0,lazy_journal_init=0
mk xfs.img mkfs.xfs -f -q -K -L strata-xfs -m reflink=1
mk btrfs.img mkfs.btrfs -f -q -K -L strata-btrfs
