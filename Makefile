# netsim — see README.md.  `make` builds build/netsim; `make test` runs every test
# through prove; `make up` installs what is missing, builds, and brings up 3node.

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := libnl-3.0 libnl-route-3.0 libcap libseccomp libarchive libpcap json-c libmicrohttpd \
            libsquashfs1 ext2fs com_err
# Debian packages needed to build and test (installed by `make deps` / .ci/run).
DEB_DEPS := build-essential pkg-config libnl-3-dev libnl-route-3-dev libcap-dev \
            libseccomp-dev libarchive-dev libpcap-dev libjson-c-dev libmicrohttpd-dev \
            libsquashfs-dev libext2fs-dev iproute2 perl ca-certificates

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# CFLAGS/LDFLAGS stay the user's (e.g. `make CFLAGS=-O0`); ours are added separately
# so a command-line CFLAGS cannot drop the include paths or warnings.
CFLAGS   ?= -O2 -g
NETSIM_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation \
            -Wmissing-prototypes -Wstrict-prototypes \
            -D_GNU_SOURCE -Iruntime -Inetsim $(PKG_CFLAGS) $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lm
NETSIM_LDFLAGS := $(SANFLAGS)

RUNTIME_SRC := $(wildcard runtime/*.c)
NETSIM_SRC  := $(filter-out netsim/cli/main.c,$(wildcard netsim/*/*.c))
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
NETSIM_OBJ  := $(NETSIM_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

ROOTFS_TAR  := $(BUILD)/rootfs/meshlite.tar.gz
FRR_TAR     := $(BUILD)/rootfs/frr.tar.gz


.PHONY: all rootfs rootfs-frr test unit-test asan asan-test memcheck up deps test-deps install uninstall clean check-deps
all: check-deps $(BUILD)/netsim $(BUILD)/mkrootfs $(UNIT_BIN) $(BUILD)/tests/qemu-node $(BUILD)/tests/medium-driver

check-deps:
	@pkg-config --exists $(PKGS) || { echo "netsim: missing build dependencies; run 'sudo make deps' (Debian packages: $(DEB_DEPS))" >&2; exit 1; }

# -MMD -MP: each object depends on the headers it includes (build/obj/*.d),
# not on every header of the tree.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NETSIM_CFLAGS) -MMD -MP -c -o $@ $<

# The web view's page is assembled into web.o (.incbin in netsim/tools/web.c, paths
# relative to this directory), so web.o is rebuilt when a page file changes.
$(BUILD)/obj/netsim/tools/web.o: $(wildcard netsim/tools/web/*)

$(BUILD)/libruntime.a: $(RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/libnetsim.a: $(NETSIM_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/netsim: $(BUILD)/obj/netsim/cli/main.o $(BUILD)/libnetsim.a $(BUILD)/libruntime.a
	$(CC) $(LDFLAGS) $(NETSIM_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mkrootfs: $(BUILD)/obj/rootfs/mkrootfs.o $(BUILD)/obj/rootfs/deb.o $(BUILD)/libruntime.a
	$(CC) $(LDFLAGS) $(NETSIM_LDFLAGS) -o $@ $^ $(LDLIBS)

# (their .d files go to obj/tests/: build/tests/ holds only programs.)
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnetsim.a $(BUILD)/libruntime.a
	@mkdir -p $(dir $@) $(BUILD)/obj/tests
	$(CC) $(CFLAGS) $(NETSIM_CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/$*.d $(LDFLAGS) $(NETSIM_LDFLAGS) -o $@ $< $(BUILD)/libnetsim.a $(BUILD)/libruntime.a $(LDLIBS)

# --- test_container's helper (runtime/container owner) --------------------------
# static_init is the whole rootfs of test_container's nodes, so it must be static
# (libc.a from libc6-dev).  Built without $(CFLAGS): no pkg-config flags, and no
# sanitizers (they do not link statically).
$(BUILD)/tests/static_init: tests/unit/static_init.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

$(BUILD)/tests/test_container: $(BUILD)/tests/static_init
# --- end of test_container's helper -------------------------------------------

# --- attack helpers of tests/integration/2x-security-*.t (tests/security/) ------
# Static like static_init, since most run inside nodes (any rootfs); ptydrive
# plays the operator's terminal on the host.  Built without $(CFLAGS).
SECURITY_HELPERS := $(patsubst tests/security/%.c,$(BUILD)/tests/%,$(wildcard tests/security/*.c))
all: $(SECURITY_HELPERS)
$(SECURITY_HELPERS): $(BUILD)/tests/%: tests/security/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

# The default rootfs, from Debian packages (apt-get download), unpacked with libarchive.
# `rootfs=frr` (Kathara's kathara/frr labs): Debian's frr the same way; about
# 10 s and 11 MB (24 packages, 9.5 MB downloaded once).
rootfs: $(ROOTFS_TAR) $(FRR_TAR)
rootfs-frr: $(FRR_TAR)
$(ROOTFS_TAR): $(BUILD)/mkrootfs rootfs/build-meshlite.sh rootfs/debs.sh $(wildcard rootfs/meshlite/*)
	BUILD=$(BUILD) sh rootfs/build-meshlite.sh
$(FRR_TAR): $(BUILD)/mkrootfs rootfs/build-frr.sh rootfs/debs.sh $(wildcard rootfs/frr/*) rootfs/meshlite/hosts rootfs/meshlite/profile
	BUILD=$(BUILD) sh rootfs/build-frr.sh

# --- QEMU nodes (vm owner; docs/vm.md) ----------------------------------------
# `make kernel`: Debian's kernel + our initramfs in $(BUILD)/kernel/.  Not part of
# `all` (it downloads a 70 MB package); tests/integration/95-qemu.t runs it.
KERNEL_DIR := $(BUILD)/kernel
.PHONY: kernel
kernel: $(KERNEL_DIR)/initramfs.cpio.gz
$(KERNEL_DIR)/initramfs.cpio.gz: $(BUILD)/mkinitramfs $(KERNEL_DIR)/agent rootfs/build-kernel.sh rootfs/vm/init
	BUILD=$(BUILD) sh rootfs/build-kernel.sh
$(BUILD)/mkinitramfs: $(BUILD)/obj/rootfs/mkinitramfs.o $(BUILD)/obj/rootfs/deb.o $(BUILD)/libruntime.a
	$(CC) $(LDFLAGS) $(NETSIM_LDFLAGS) -o $@ $^ $(LDLIBS)
# The guest agent must run in any rootfs: static (libc.a), no sanitizers.
$(KERNEL_DIR)/agent: rootfs/vm/agent.c rootfs/vm/agent.h rootfs/vm/mux.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -s -o $@ $<
# Drives netsim/vm/qemu.h for 95-qemu.t and tests/bench/vm.sh.
$(BUILD)/tests/qemu-node: tests/integration/qemu-node.c $(BUILD)/libnetsim.a $(BUILD)/libruntime.a
	@mkdir -p $(dir $@)
	@mkdir -p $(BUILD)/obj/tests
	$(CC) $(CFLAGS) $(NETSIM_CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/qemu-node.d $(LDFLAGS) $(NETSIM_LDFLAGS) -o $@ $< $(BUILD)/libnetsim.a $(BUILD)/libruntime.a $(LDLIBS)
# --- end of QEMU nodes ----------------------------------------------------------

# Drives netsim/medium's engine on hand-made namespaces for 58-medium.t and
# tests/bench/air.sh (medium owner; docs/wireless.md).
$(BUILD)/tests/medium-driver: tests/integration/medium-driver.c $(BUILD)/libnetsim.a $(BUILD)/libruntime.a
	@mkdir -p $(dir $@) $(BUILD)/obj/tests
	$(CC) $(CFLAGS) $(NETSIM_CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/medium-driver.d $(LDFLAGS) $(NETSIM_LDFLAGS) -o $@ $< $(BUILD)/libnetsim.a $(BUILD)/libruntime.a $(LDLIBS)

unit-test: all
	prove -e '' $(UNIT_BIN)

# Integration tests need root; they use $(BUILD)/netsim and the meshlite rootfs of
# the main build (an ASan build reuses it rather than downloading it again).
TEST_ROOTFS_DIR ?= $(BUILD)/rootfs
TEST_ENV = NETSIM=$(abspath $(BUILD)/netsim) NETSIM_BUILD=$(abspath $(BUILD)) \
	   NETSIM_ROOTFS_DIR=$(abspath $(TEST_ROOTFS_DIR))
# `make up` and `make test` need root.  From a user account they run themselves
# again through sudo; a root shell (a container, a CI image) often has no sudo
# and needs none, so the README's two commands are plain `make up`, `make test`.
ifeq ($(shell id -u),0)
test: all rootfs test-deps
	$(TEST_ENV) prove -e '' $(UNIT_BIN) $(sort $(wildcard tests/integration/*.t))
else
test up:
	@command -v sudo >/dev/null || { echo "make $@: needs root: run it in a root shell (there is no sudo here)" >&2; exit 1; }
	sudo $(MAKE) $@
endif

# The whole test suite built with AddressSanitizer + UBSan (separate build dir).
# GCC 12's -Wformat-overflow misfires on inlined null checks under the sanitizers
# ("'%s' directive argument is null" where the pointer cannot be null), so that one
# warning is not fatal there; the normal build keeps it.
asan: rootfs
	$(MAKE) BUILD=build-asan TEST_ROOTFS_DIR=$(BUILD)/rootfs CFLAGS="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -Wno-format-overflow" \
	  asan-test
asan-test: all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(TEST_ENV) prove -e '' $(UNIT_BIN) \
	  $(sort $(wildcard tests/integration/*.t))

# The unit tests under valgrind: any leak or memory error fails them.
memcheck: all
	prove -e 'valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect' $(UNIT_BIN)

deps:
	@if ! pkg-config --exists $(PKGS) || ! command -v prove >/dev/null; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_DEPS); \
	fi

# Tools the integration tests use (iperf3, tcpdump, graphviz, headless Chromium,
# QEMU, valgrind, curl, the image builders; pytest with setuptools, wheel, venv
# and yaml for the Python package's tests, 92-python.t; qemu-user-static and
# binfmt-support for router images of other architectures, 99-mips-userspace.t:
# they register binfmt_misc entries host-wide); `make test` installs the
# missing ones when run as root.
TEST_DEB_DEPS := iperf3 iputils-ping tcpdump graphviz chromium chromium-driver qemu-system-x86 valgrind curl \
                 squashfs-tools squashfs-tools-ng e2fsprogs fdisk gdisk \
                 python3-pytest python3-setuptools python3-wheel python3-venv python3-yaml \
                 qemu-user-static binfmt-support
TEST_TOOLS    := iperf3 ping tcpdump dot chromium chromedriver qemu-system-x86_64 valgrind curl \
                 mksquashfs sqfstar mke2fs sfdisk sgdisk pytest-3 qemu-mips-static update-binfmts
test-deps:
	@missing=; for t in $(TEST_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing test tools (missing:$$missing)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(TEST_DEB_DEPS); \
	  else echo "note: missing test tools:$$missing (tests that need them skip)"; fi; \
	fi

ifeq ($(shell id -u),0)
up: deps
	$(MAKE) all rootfs
	-$(BUILD)/netsim down topologies/3node.conf
	$(BUILD)/netsim up topologies/3node.conf
	$(BUILD)/netsim reach -s 3node --timeout 60
	$(BUILD)/netsim status 3node
endif

# The man page is generated from docs/cli.md (itself generated from --help).
$(BUILD)/netsim.1: docs/cli.md tests/gen-man.sh netsim/cli/main.c
	@mkdir -p $(dir $@)
	sh tests/gen-man.sh docs/cli.md >$@

install: all rootfs $(BUILD)/netsim.1
	install -D -m 0755 $(BUILD)/netsim $(DESTDIR)$(PREFIX)/bin/netsim
	install -D -m 0644 $(ROOTFS_TAR) $(DESTDIR)$(PREFIX)/share/netsim/rootfs/meshlite.tar.gz
	install -D -m 0644 $(FRR_TAR) $(DESTDIR)$(PREFIX)/share/netsim/rootfs/frr.tar.gz
	install -D -m 0644 $(BUILD)/netsim.1 $(DESTDIR)$(PREFIX)/share/man/man1/netsim.1
	install -D -m 0644 netsim/cli/completion.bash $(DESTDIR)/usr/share/bash-completion/completions/netsim

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/netsim $(DESTDIR)$(PREFIX)/share/netsim/rootfs/meshlite.tar.gz \
		$(DESTDIR)$(PREFIX)/share/netsim/rootfs/frr.tar.gz
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/netsim.1 $(DESTDIR)/usr/share/bash-completion/completions/netsim

clean:
	rm -rf build build-asan

# Header dependencies written by -MMD (last, so they never become the default goal).
-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d)
