# SPDX-License-Identifier: GPL-2.0
#
# mk/kmod.mk - fcvm_accel.ko's FUSE channel: in-VM test and benchmark runs.
#
#   make check-kmod-chan [KVER=6.1]  the channel kselftests (and the module's
#                                    ABI tests) in a QEMU guest of that kernel
#   make check-kmod-volume [KVER=..] the volume suite in the guest with the
#                                    userspace and the module channel
#   make bench-kmod [KVER=6.1]       module vs userspace channel in one guest:
#                                    4 KiB READ latency, 1 MiB sequential read,
#                                    GETATTR latency; JSON in
#                                    $(BUILD)/bench/kmod.json, ratios printed
# KVER names a kernel of selftests/vm/kernels (default 6.1).

KMOD_VM_KVER := $(or $(KVER),6.1)
KMOD_VM_KO = $(BUILD)/kmod/$(KMOD_VM_KVER)/kmod/fcvm_accel.ko
KMOD_BENCH := $(BUILD)/bench/kmod_bench

kmod-vm-ko:
	$(Q)$(MAKE) --no-print-directory kmod KVER=$(KMOD_VM_KVER) BUILD=$(BUILD)

$(KMOD_BENCH): selftests/kmod-bench/kmod_bench.c selftests/volume/vol_harness.h $(FCVM_LIB) $(AGENT_LIB)
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(USER_CFLAGS) $(USER_INCLUDES) $(PKG_CFLAGS) -I$(FCVM_TOP)/agent \
		-I$(FCVM_TOP)/selftests/volume $(USER_LDFLAGS) -o $@ $< \
		$(AGENT_LIB) $(FCVM_LIB) $(PKG_LIBS)

check-kmod-chan: kmod-vm-ko
	$(Q)$(MAKE) --no-print-directory -C selftests/kmod BUILD=$(BUILD)
	$(Q)BUILD=$(BUILD) selftests/vm/run --kernel $(KMOD_VM_KVER) --timeout 300 --name kmod \
		--file $(KMOD_VM_KO):/fcvm/tests/fcvm_accel.ko -- \
		$(BUILD)/selftests/kmod/fcvm_chan_test $(BUILD)/selftests/kmod/fcvm_accel_test

check-kmod-volume: kmod-vm-ko $(FCVM_LIB) $(AGENT_LIB)
	$(Q)$(MAKE) --no-print-directory -C selftests/volume BUILD=$(BUILD)
	$(Q)BUILD=$(BUILD) selftests/vm/run --kernel $(KMOD_VM_KVER) --timeout 900 --name volume \
		--module fuse --insmod $(KMOD_VM_KO) --file /etc/passwd:/etc/passwd \
		--file $(BUILD)/selftests/volume/volume_test:/fcvm/tests/volume_test \
		--file $(BUILD)/selftests/volume/volume_raw_test:/fcvm/tests/volume_raw_test \
		-- selftests/kmod/vol_channels.sh

bench-kmod: kmod-vm-ko $(KMOD_BENCH)
	@mkdir -p $(BUILD)/bench
	$(Q)BUILD=$(BUILD) selftests/vm/run --kernel $(KMOD_VM_KVER) --timeout 600 --name bench \
		--module fuse --insmod $(KMOD_VM_KO) -- $(KMOD_BENCH) | tee $(BUILD)/bench/kmod.log
	$(Q)python3 selftests/kmod-bench/report.py $(BUILD)/bench/kmod.log $(BUILD)/bench/kmod.json \
		$(KMOD_VM_KVER)

.PHONY: kmod-vm-ko check-kmod-chan check-kmod-volume bench-kmod
