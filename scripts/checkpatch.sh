#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh: kernel style check of kmod/ with checkpatch.pl from
# Debian's linux-source-6.12 (extracted once into build/ksrc).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/kernel-src.sh >/dev/null
cp=build/ksrc/scripts/checkpatch.pl
# compat.h's typedefs name a type that differs between kernels on purpose.
"$cp" --no-tree --strict --terse --ignore NEW_TYPEDEFS,FILE_PATH_CHANGES,MACRO_ARG_REUSE \
	-f kmod/*.c kmod/*.h
