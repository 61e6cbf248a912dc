# SPDX-License-Identifier: GPL-2.0
#
# Feature probes for kmod/compat.h; the work is in compat-probe.sh.
STRATA_COMPAT_FLAGS := $(shell sh $(src)/kmod/compat-probe.sh $(srctree)/include)
