#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# shadow-tree.sh SRC DST: mirror the module sources of SRC into DST as
# symlinks, so one kernel's objects never clobber another's.
set -euo pipefail
src=$1 dst=$2
mkdir -p "$dst"
ln -sfn "$src/Kbuild" "$dst/Kbuild"
ln -sfn "$src/uapi" "$dst/uapi"
mkdir -p "$dst/kmod"
# Drop links to files that no longer exist, then link the current ones.
find "$dst/kmod" -maxdepth 1 -type l ! -exec test -e {} \; -delete
for f in "$src"/kmod/*; do
	ln -sfn "$f" "$dst/kmod/$(basename "$f")"
done
