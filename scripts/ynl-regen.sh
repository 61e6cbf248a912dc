#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ynl-regen.sh [--check]: regenerate uapi/linux/strata.h and kmod/genl.[ch]
# from Documentation/netlink/specs/strata.yaml with the YNL generator of
# Debian's linux-source-6.12.  --check fails when the committed files
# differ from what the spec generates.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=$("$top/scripts/kernel-src.sh")
gen=$ksrc/tools/net/ynl/ynl-gen-c.py
spec=$top/Documentation/netlink/specs/strata.yaml
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The generator finds the tree's root by a MAINTAINERS file and the
# schema beside the specs directory: give it a small tree of its own.
tree=$out/tree
mkdir -p "$tree/Documentation/netlink/specs"
touch "$tree/MAINTAINERS"
cp "$ksrc"/Documentation/netlink/genetlink*.yaml "$tree/Documentation/netlink/"
cp "$spec" "$tree/Documentation/netlink/specs/"
cd "$tree"
s=Documentation/netlink/specs/strata.yaml
python3 "$gen" --mode uapi --header --spec "$s" -o "$out/strata.h"
python3 "$gen" --mode kernel --header --spec "$s" -o "$out/genl.h"
python3 "$gen" --mode kernel --source --spec "$s" -o "$out/genl.c"
cd "$top"

status=0
for f in uapi/linux/strata.h:strata.h kmod/genl.h:genl.h kmod/genl.c:genl.c; do
	dst=${f%%:*} src=$out/${f##*:}
	if [ "${1:-}" = --check ]; then
		cmp -s "$src" "$dst" || { echo "ynl-regen: $dst is stale" >&2; status=1; }
	else
		cp "$src" "$dst"
	fi
done
exit $status
