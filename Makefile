# SPDX-License-Identifier: GPL-2.0
#
# strata: a union filesystem module and its helper.
#
#   make                 module for every installed target kernel, helper, selftests
#   make KVER=6.12       only kernels whose release starts with 6.12
#   make check [KVER=]   build, boot each kernel in QEMU, run every selftest
#   make check-debug     the same on a KASAN/lockdep/kmemleak kernel built
#                        from linux-source-6.12 (cached, scripts/debug-kernel.sh)
#   make demo  [KVER=]   a guest that mounts a union and shows it
#   make demo-vmroot [KVER=]  a guest whose root filesystem is a strata union
#   make shell KVER=...  an interactive guest with everything loaded
#   make crash-test [CYCLES=100]  power cuts during copy-up, then checks
#   make sparse          the module through sparse (C=1)
#   make checkpatch      checkpatch.pl on kmod/
#   make install [DESTDIR= PREFIX=/usr/local]  the helper and strata(8)

KVER ?=
O := $(CURDIR)/build
KERNELS := $(shell scripts/kernels.sh $(KVER))

.PHONY: all module userspace selftests check check-debug demo demo-vmroot shell bench sparse \
	checkpatch deps clean install crash-test

all: module userspace selftests

PREFIX ?= /usr/local
install: userspace
	install -D -m 755 $(O)/userspace/strata $(DESTDIR)$(PREFIX)/sbin/strata
	install -D -m 644 Documentation/strata.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/strata.8

# Each kernel gets a shadow tree of symlinks so that object files of one
# kernel never overwrite those of another.
module:
	@test -n "$(KERNELS)" || { echo "no target kernel headers found (run scripts/deps.sh)"; exit 1; }
	@set -e; for k in $(KERNELS); do \
		scripts/shadow-tree.sh $(CURDIR) $(O)/$$k; \
		$(MAKE) -C /lib/modules/$$k/build M=$(O)/$$k modules; \
	done

sparse:
	@set -e; for k in $(KERNELS); do \
		scripts/shadow-tree.sh $(CURDIR) $(O)/$$k; \
		$(MAKE) -C /lib/modules/$$k/build M=$(O)/$$k C=2 modules; \
	done

checkpatch:
	scripts/checkpatch.sh

userspace:
	$(MAKE) -C userspace O=$(O)/userspace

selftests:
	$(MAKE) -C selftests O=$(O)/selftests

deps:
	scripts/deps.sh

check: deps
	$(MAKE) all
	scripts/check.sh $(KERNELS)

# The module is built by check-debug.sh, against the debug kernel's tree.
check-debug: deps
	$(MAKE) userspace selftests
	scripts/check-debug.sh

bench: deps
	$(MAKE) all
	scripts/bench/run.sh $(KERNELS)

CYCLES ?= 100
crash-test: deps
	$(MAKE) all
	scripts/crash-test.sh --cycles $(CYCLES) $(KERNELS)

demo: deps
	$(MAKE) all
	scripts/demo.sh $(firstword $(KERNELS))

demo-vmroot: deps
	$(MAKE) all
	scripts/demo.sh --vmroot $(firstword $(KERNELS))

shell: deps
	$(MAKE) all
	scripts/qemu-run.sh --shell $(firstword $(KERNELS))

clean:
	rm -rf $(O)
	$(MAKE) -C userspace clean O=$(O)/userspace
	$(MAKE) -C selftests clean O=$(O)/selftests
