# SPDX-License-Identifier: GPL-2.0
#
# selftests/lib.mk - build rules for one test area, kselftest style.
#
# An area's Makefile sets the kernel's variable names and includes this file:
#   TEST_GEN_PROGS  C tests built from <name>.c (plus extra sources by rule)
#   TEST_PROGS      scripts run as they are
#   TEST_GEN_FILES  helpers built but not run
#   LDLIBS          e.g. $(FCVM_LIBS) to link the manager's code
# Inside a kernel tree (tools/testing/selftests/<dir>) the kernel's lib.mk is
# used instead; only selftests/kmod is meant to work there.

include $(dir $(lastword $(MAKEFILE_LIST)))../mk/common.mk

AREA := $(notdir $(CURDIR))
OUTPUT ?= $(BUILD)/selftests/$(AREA)
KSFT_INCLUDES := -I$(KSRC_EXTRACT)/tools/testing/selftests

CFLAGS += $(USER_CFLAGS) $(USER_INCLUDES) $(KSFT_INCLUDES) $(PKG_CFLAGS) \
	-Wno-missing-prototypes -Wno-shadow -Wno-write-strings -Wno-sign-compare -I$(CURDIR)
LDFLAGS += $(USER_LDFLAGS)
FCVM_LIBS := $(FCVM_LIB) $(PKG_LIBS)
AGENT_LIBS := $(AGENT_LIB)

TEST_GEN_PROGS := $(patsubst %,$(OUTPUT)/%,$(TEST_GEN_PROGS))
TEST_GEN_FILES := $(patsubst %,$(OUTPUT)/%,$(TEST_GEN_FILES))
TEST_PROGS := $(patsubst %,$(CURDIR)/%,$(TEST_PROGS))

all: $(TEST_GEN_PROGS) $(TEST_GEN_FILES)

$(OUTPUT)/%: %.c $(wildcard $(FCVM_LIB) $(AGENT_LIB))
	@mkdir -p $(@D)
	$(quiet) CC $(AREA)/$<
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

# The runner asks each area what to run.
list-tests:
	@for t in $(TEST_GEN_PROGS) $(TEST_PROGS); do echo $$t; done

clean:
	rm -rf $(OUTPUT)

.PHONY: all list-tests clean
-include $(wildcard $(OUTPUT)/*.d)
