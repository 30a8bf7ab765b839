# SPDX-License-Identifier: GPL-2.0
#
# mk/config.mk - util/config.c looks for rootfs-config.toml in the source
# tree last; its path is compiled in through $(BUILD)/gen/srcdir.h, which is
# rewritten only when the path changes.

$(BUILD)/gen/srcdir.h: srcdir-file
	@:
srcdir-file:
	@mkdir -p $(BUILD)/gen
	@printf '#define FCVM_SRCDIR "%s"\n' '$(FCVM_TOP)' > $(BUILD)/gen/srcdir.h.tmp
	@cmp -s $(BUILD)/gen/srcdir.h.tmp $(BUILD)/gen/srcdir.h || \
		mv $(BUILD)/gen/srcdir.h.tmp $(BUILD)/gen/srcdir.h
	@rm -f $(BUILD)/gen/srcdir.h.tmp
.PHONY: srcdir-file

$(BUILD)/obj/userspace/util/config.o $(BUILD)/fuzz/obj/userspace/util/config.o: \
	$(BUILD)/gen/srcdir.h
