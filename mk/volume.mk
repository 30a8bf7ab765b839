# SPDX-License-Identifier: GPL-2.0
#
# mk/volume.mk - volumes: `make bench-volume` (a benchmark, not a test).
# Host directory vs the same directory through the forwarded FUSE mount
# (relay + server over a Unix socket); JSON in $(BUILD)/bench/volume.json.
# VOLUME_BENCH_CACHE=auto|always|never picks the cache mode (default auto).

VOLUME_BENCH := $(BUILD)/bench/volume_bench
VOLUME_BENCH_DIR ?= $(BUILD)/bench/volume-work
VOLUME_BENCH_CACHE ?= auto

$(VOLUME_BENCH): selftests/volume/volume_bench.c selftests/volume/vol_harness.h \
		$(FCVM_LIB) $(AGENT_LIB)
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(USER_CFLAGS) $(USER_INCLUDES) $(PKG_CFLAGS) -I$(FCVM_TOP)/agent \
		$(USER_LDFLAGS) -o $@ $< $(AGENT_LIB) $(FCVM_LIB) $(PKG_LIBS) -lm

bench-volume: $(VOLUME_BENCH)
	$(Q)rm -rf $(VOLUME_BENCH_DIR)
	$(Q)$(VOLUME_BENCH) $(VOLUME_BENCH_DIR) $(BUILD)/bench/volume.json $(VOLUME_BENCH_CACHE)
	$(Q)rm -rf $(VOLUME_BENCH_DIR)

.PHONY: bench-volume
