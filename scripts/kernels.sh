#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh [PREFIX]: print the installed target kernels (Debian 6.1 and
# 6.12 with both image and headers), oldest first, optionally only those
# whose release starts with PREFIX (e.g. "6.1" matches 6.1.x but not 6.12).
set -euo pipefail
want=${1:-}
for b in /lib/modules/*/build; do
	[ -e "$b/Makefile" ] || continue
	k=$(basename "$(dirname "$b")")
	[ -e "/boot/vmlinuz-$k" ] || continue
	case $k in 6.1.*|6.12.*) ;; *) continue ;; esac
	if [ -n "$want" ]; then
		case $k in "$want".*|"$want"-*|"$want") ;; *) continue ;; esac
	fi
	echo "$k"
done | sort -V
