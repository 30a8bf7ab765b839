# SPDX-License-Identifier: GPL-2.0
#
# mk/portfwd.mk - port publishing: the agent's extra prerequisites and
# `make bench-portfwd`.

# fc-agent compiles the relay it shares with fcvm (agent/portfwd_relay.c
# includes userspace/portfwd/relay.c); relink it when that source changes.
$(BUILD)/fc-agent: userspace/portfwd/relay.c userspace/portfwd/relay.h

# A benchmark, not a test: one run, absolutes and ratios printed, JSON kept.
bench-portfwd: all $(FCVM_LIB)
	$(Q)$(MAKE) -s -C selftests/portfwd BUILD=$(BUILD)
	$(Q)BUILD=$(BUILD) python3 selftests/portfwd/bench_portfwd.py $(BUILD)/bench/portfwd.json
.PHONY: bench-portfwd
