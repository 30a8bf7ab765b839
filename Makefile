# SPDX-License-Identifier: GPL-2.0
#
# fcvm - the one build entry point. `make help` lists the targets.
# Objects go to build/ (build/san/ with SANITIZE=1); the module is the one
# thing kbuild builds in kmod/.

include mk/common.mk

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

# Kernel to build the module against: the newest Debian headers installed.
KDIR ?= $(lastword $(sort $(wildcard /lib/modules/*/build)))
# Where kbuild builds the module (mk/vm.mk points it into build/ for KVER=).
KMOD_M ?= $(CURDIR)

USER_SRCS := $(sort $(shell find userspace -name '*.c'))
USER_MAIN := userspace/cli/main.c
USER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(USER_MAIN),$(USER_SRCS)))
AGENT_SRCS := $(sort $(shell find agent -name '*.c'))
AGENT_MAIN := agent/main.c
AGENT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(AGENT_MAIN),$(AGENT_SRCS)))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/gen/bpf/%.skel.h,$(BPF_SRCS))
KMOD_SRCS := $(wildcard kmod/*.c)

FCVM_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

.PHONY: all userspace agent bpf kmod check lint fuzz docs deps clean help \
	install run version-file

all: userspace agent bpf $(if $(KMOD_SRCS),kmod)

userspace: $(BUILD)/fcvm
agent: $(BUILD)/fc-agent
bpf: $(BPF_SKELS)

# --- version stamp: rewritten only when `git describe` changes --------------
$(BUILD)/gen/version.h: version-file
	@:
version-file:
	@mkdir -p $(BUILD)/gen
	@printf '#define FCVM_VERSION "%s"\n#define FCVM_BUILD_CC "%s"\n#define FCVM_BUILD_FLAGS "%s"\n' \
		'$(FCVM_VERSION)' '$(shell $(CC) --version | head -n1)' \
		'$(if $(filter 1,$(SANITIZE)),asan+ubsan,hardened)' > $(BUILD)/gen/version.h.tmp
	@cmp -s $(BUILD)/gen/version.h.tmp $(BUILD)/gen/version.h || \
		mv $(BUILD)/gen/version.h.tmp $(BUILD)/gen/version.h
	@rm -f $(BUILD)/gen/version.h.tmp

# --- manager -----------------------------------------------------------------
$(BUILD)/obj/userspace/%.o: userspace/%.c | $(BPF_SKELS) $(BUILD)/gen/version.h
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(USER_CFLAGS) $(USER_INCLUDES) $(PKG_CFLAGS) -c -o $@ $<

$(FCVM_LIB): $(USER_OBJS)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fcvm: $(BUILD)/obj/$(USER_MAIN:.c=.o) $(FCVM_LIB)
	$(quiet) LD $@
	$(Q)$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# --- guest agent (static) ----------------------------------------------------
$(BUILD)/obj/agent/%.o: agent/%.c
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(if $(filter 1,$(SANITIZE)),$(USER_CFLAGS),$(AGENT_CFLAGS)) $(AGENT_INCLUDES) -c -o $@ $<

$(AGENT_LIB): $(AGENT_OBJS)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

# The shipped agent is never sanitized: ASan cannot be linked statically.
$(BUILD)/fc-agent: $(AGENT_SRCS)
	@mkdir -p $(BUILD)/obj/agent-static
	$(quiet) LD $@
	$(Q)$(CC) $(AGENT_CFLAGS) $(AGENT_INCLUDES) $(AGENT_LDFLAGS) -o $@ $(AGENT_SRCS)

# --- BPF: vmlinux.h from the running kernel's BTF, objects, skeletons --------
$(BUILD)/gen/bpf/vmlinux.h:
	@mkdir -p $(@D)
	$(quiet) BTF $@
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/gen/bpf/vmlinux.h $(wildcard bpf/*.h)
	$(quiet) BPF $<
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-I$(BUILD)/gen/bpf -Ibpf -Iinclude -c -o $@ $<

# Keep the objects: make would delete them as intermediates after the build.
.SECONDARY: $(patsubst bpf/%.bpf.c,$(BUILD)/gen/bpf/%.bpf.o,$(BPF_SRCS))

$(BUILD)/gen/bpf/%.skel.h: $(BUILD)/gen/bpf/%.bpf.o
	$(quiet) SKEL $@
	$(Q)bpftool gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# --- kernel module (kbuild builds in kmod/) ----------------------------------
kmod:
	$(if $(KDIR),,$(error no kernel headers: install linux-headers-amd64 or set KDIR=))
	$(Q)$(MAKE) -C $(KDIR) M=$(KMOD_M) W=1 KCFLAGS=-Werror $(KMOD_ARGS) $(if $(filter 1,$(V)),V=1) modules

# --- tests, lint, fuzz --------------------------------------------------------
$(KSRC_EXTRACT)/.stamp:
	$(quiet) EXTRACT linux-source-6.1
	$(Q)mkdir -p $(KSRC_EXTRACT)
	$(Q)tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(KSRC_EXTRACT) \
		--strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/tools/testing/selftests/kselftest.h \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h
	$(Q)touch $@

ksft-files: $(KSRC_EXTRACT)/.stamp
.PHONY: ksft-files

# Everything a suite links against is built first.
check-deps: all $(FCVM_LIB) $(AGENT_LIB) ksft-files
.PHONY: check-deps

check: check-deps
	$(Q)BUILD=$(BUILD) selftests/run_tests $(if $(T),$(T))

lint: check-deps
	$(Q)BUILD=$(BUILD) selftests/run_tests lint

FUZZ_SECONDS ?= 30
FUZZ_SRCS := $(sort $(wildcard selftests/*/fuzz_*.c))
FUZZ_BINS := $(patsubst selftests/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
# F=name runs only the targets whose name ends in it.
ifneq ($(F),)
FUZZ_BINS := $(filter %$(F),$(FUZZ_BINS))
endif
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-omit-frame-pointer $(USER_INCLUDES) -I$(FCVM_TOP)/agent $(PKG_CFLAGS)
FUZZ_USER_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(filter-out $(USER_MAIN),$(USER_SRCS)))
FUZZ_AGENT_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(filter-out $(AGENT_MAIN),$(AGENT_SRCS)))

$(BUILD)/fuzz/obj/%.o: %.c | $(BPF_SKELS) $(BUILD)/gen/version.h
	@mkdir -p $(@D)
	$(quiet) FUZZCC $<
	$(Q)$(CLANG) $(subst fuzzer$(,),fuzzer-no-link$(,),$(FUZZ_CFLAGS)) -c -o $@ $<
, := ,

$(BUILD)/fuzz/libfcvm.a: $(FUZZ_USER_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/libagent.a: $(FUZZ_AGENT_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: selftests/%.c $(BUILD)/fuzz/libfcvm.a $(BUILD)/fuzz/libagent.a
	@mkdir -p $(@D)
	$(quiet) FUZZLD $@
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(BUILD)/fuzz/libfcvm.a $(BUILD)/fuzz/libagent.a $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZ_BINS); do \
		name=$${f#$(BUILD)/fuzz/}; corpus=$(BUILD)/fuzz/corpus/$$name; \
		mkdir -p $$corpus; seeds=selftests/$$(dirname $$name)/corpus/$$(basename $$name); \
		echo "  FUZZ     $$name ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$$corpus $$( [ -d $$seeds ] && echo $$seeds ) \
			> $(BUILD)/fuzz/$$(echo $$name | tr / _).log 2>&1 || \
			{ tail -n 40 $(BUILD)/fuzz/$$(echo $$name | tr / _).log; exit 1; }; \
		grep -E 'stat::number_of_executed_units' $(BUILD)/fuzz/$$(echo $$name | tr / _).log; \
	done

# --- documentation -------------------------------------------------------------
DOC_SRCS := $(sort $(shell find Documentation -name '*.rst'))
DOC_HTML := $(patsubst Documentation/%.rst,$(BUILD)/docs/%.html,$(DOC_SRCS))

$(BUILD)/docs/%.html: Documentation/%.rst
	@mkdir -p $(@D)
	$(quiet) RST2HTML $<
	$(Q)rst2html --halt=warning --report=warning $< $@

$(BUILD)/docs/fcvm.1: Documentation/fcvm.1.rst
	@mkdir -p $(@D)
	$(quiet) RST2MAN $<
	$(Q)rst2man --halt=warning --report=warning $< $@

docs: $(DOC_HTML) $(BUILD)/docs/fcvm.1

# --- setup, running, installing ------------------------------------------------
deps:
	$(Q)mk/deps

run: all
	$(Q)$(BUILD)/fcvm version
	$(Q)$(BUILD)/fcvm accel status

PREFIX ?= /usr/local
install: all docs
	install -D -m 0755 $(BUILD)/fcvm $(DESTDIR)$(PREFIX)/bin/fcvm
	install -D -m 0755 $(BUILD)/fc-agent $(DESTDIR)$(PREFIX)/lib/fcvm/fc-agent
	install -D -m 0644 rootfs-config.toml $(DESTDIR)/etc/fcvm/rootfs-config.toml
	install -D -m 0644 $(BUILD)/docs/fcvm.1 $(DESTDIR)$(PREFIX)/share/man/man1/fcvm.1

clean:
	rm -rf build
	$(if $(KDIR),-$(MAKE) -s -C $(KDIR) M=$(CURDIR) clean >/dev/null 2>&1)

help:
	@echo 'fcvm build targets:'
	@echo '  all (default)  build/fcvm, static build/fc-agent, BPF skeletons, kmod/fcvm_accel.ko'
	@echo '  deps           install the Debian packages for build, tests and benchmarks'
	@echo '  userspace agent bpf kmod   build one part (kmod: KDIR=, KVER=)'
	@echo '  check          build and run every test suite (T="area..." selects suites)'
	@echo '  lint           checkpatch on kmod/ and include/uapi/, cppcheck on userspace/ and agent/'
	@echo '  fuzz           run every libFuzzer target for FUZZ_SECONDS (default 30)'
	@echo '  docs           HTML and the fcvm.1 man page into build/docs/'
	@echo '  bench-volume bench-portfwd bench-vsock bench-kmod'
	@echo '                 benchmarks (not tests); results in build/bench/'
	@echo '  check-kernels  the kmod suite on every kernel of selftests/vm/kernels'
	@echo '  check-kmod-chan check-kmod-volume   channel / volume suites in a guest (KVER=)'
	@echo '  kernel-patches-check kernel-boot-check kernel-patch-new kernel-patch-refresh'
	@echo '                 the arm64 NV2 series in kernel/ (see Documentation/nested.rst)'
	@echo '  run            build and show what this host can accelerate'
	@echo '  install clean help'
	@echo 'variables: V=1 (show commands), SANITIZE=1 (ASan+UBSan into build/san/), KDIR='

# Per-area targets (kernel vehicle, benchmarks, kernel patches, ...).
include $(filter-out mk/common.mk,$(sort $(wildcard mk/*.mk)))

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
