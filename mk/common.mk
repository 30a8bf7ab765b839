# SPDX-License-Identifier: GPL-2.0
#
# mk/common.mk - toolchain, flags and paths shared by the top-level Makefile
# and selftests/lib.mk. Included explicitly by both; the other mk/*.mk files
# are per-area target fragments included only by the top-level Makefile.

FCVM_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)

ifeq ($(SANITIZE),1)
BUILD ?= $(FCVM_TOP)/build/san
else
BUILD ?= $(FCVM_TOP)/build
endif
# Files extracted once from Debian's linux-source-6.1 (harness, checkpatch).
KSRC_EXTRACT := $(FCVM_TOP)/build/kselftest

CC ?= cc
CLANG ?= clang
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-8s %s\n'
endif

WARN_FLAGS := -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wshadow -Wpointer-arith -Wcast-qual \
	-Wwrite-strings -Wundef -Wvla -Wimplicit-fallthrough \
	-Wno-unused-parameter

HARDEN_CFLAGS := -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer

BASE_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -MMD -MP $(WARN_FLAGS)
ifeq ($(SANITIZE),1)
USER_CFLAGS := $(BASE_CFLAGS) -fPIE $(SAN_FLAGS)
USER_LDFLAGS := -pie $(SAN_FLAGS)
else
USER_CFLAGS := $(BASE_CFLAGS) $(HARDEN_CFLAGS)
USER_LDFLAGS := $(HARDEN_LDFLAGS)
endif

# The agent is static (it runs from the guest initrd with no libraries).
AGENT_CFLAGS := $(BASE_CFLAGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
AGENT_LDFLAGS := -static-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

USER_INCLUDES := -I$(FCVM_TOP)/include -I$(FCVM_TOP)/include/uapi \
	-I$(FCVM_TOP)/userspace -I$(BUILD)/gen
AGENT_INCLUDES := -I$(FCVM_TOP)/include -I$(FCVM_TOP)/include/uapi \
	-I$(FCVM_TOP)/agent

# Libraries the manager links; missing ones are reported by `make deps`.
PKGS := fuse3 libcurl libcjson libbpf liburing
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread

# What a test needs to link against the manager's or the agent's code.
FCVM_LIB := $(BUILD)/libfcvm.a
AGENT_LIB := $(BUILD)/libagent.a
