# SPDX-License-Identifier: GPL-2.0
#
# mk/vsock.mk - `make bench-vsock` (a benchmark, not a test): throughput both
# ways and 64-byte round trips host<->guest through fcvm's vhost-user-vsock
# device, and the device thread's CPU seconds per GB; baseline: a host
# AF_UNIX socket pair in the same run. The guest is the vsock test guest
# (selftests/vsock peer.cpio, kernel from selftests/vm/kernel-path 6.1); under
# TCG the result is labelled emulated. JSON in $(BUILD)/bench/vsock.json.

VSOCK_BENCH := $(BUILD)/bench/vsock_bench

$(VSOCK_BENCH): selftests/vsock/vsock_bench.c selftests/vsock/pattern.h $(FCVM_LIB)
	@mkdir -p $(@D)
	$(quiet) CC $@
	$(Q)$(CC) $(USER_CFLAGS) $(USER_INCLUDES) $(PKG_CFLAGS) $(USER_LDFLAGS) \
		-o $@ $< $(FCVM_LIB) $(PKG_LIBS)

bench-vsock: $(VSOCK_BENCH)
	$(Q)$(MAKE) -s -C selftests/vsock BUILD=$(BUILD) $(BUILD)/selftests/vsock/peer.cpio
	$(Q)$(VSOCK_BENCH) $(BUILD)/bench/vsock.json \
		"$$(selftests/vm/kernel-path --vmlinuz 6.1)" \
		$(BUILD)/selftests/vsock/peer.cpio

.PHONY: bench-vsock
