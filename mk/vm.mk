# SPDX-License-Identifier: GPL-2.0
#
# mk/vm.mk - the kernel test vehicle (selftests/vm): module builds against the
# Debian kernels of the test matrix, and the matrix run.
#
#   make kmod KVER=6.1|6.12|latest   fcvm_accel.ko for that kernel, built in
#                                    $(BUILD)/kmod/<KVER>/kmod/ (a symlink farm of
#                                    kmod/, so several kernels never share objects)
#   make check-kernels               the in-VM kmod suite on every kernel, then
#                                    a table kernel x result
# Without KVER, `make kmod` builds in kmod/ against the host's headers (KDIR).

VM_KERNELS := $(shell awk '!/^\#/ && NF { print $$1 }' selftests/vm/kernels)

ifneq ($(KVER),)
KDIR := $(shell selftests/vm/kernel-path --kdir $(KVER))
ifeq ($(KDIR),)
$(error selftests/vm/kernel-path could not provide kernel $(KVER))
endif
ifneq ($(origin KMOD_M),command line)
KMOD_M := $(BUILD)/kmod/$(KVER)
endif
# The compiler the kernel was built with (fetched if the host lacks it).
KMOD_ARGS += CC=$(shell selftests/vm/kernel-path --cc $(KVER)) \
	PAHOLE=$(shell selftests/vm/kernel-path --pahole $(KVER))
# The 6.1 headers ask for pahole for module BTF, which also needs vmlinux;
# Debian's headers have no vmlinux, so kbuild skips BTF (and says so).
kmod: kmod-tree
endif

# Mirror kmod/ (and what its Kbuild includes) as symlinks under KMOD_M.
kmod-tree:
	$(if $(filter $(CURDIR),$(abspath $(KMOD_M))),$(error KMOD_M must not be the source tree))
	$(Q)mkdir -p $(KMOD_M)/kmod
	$(Q)ln -sfn $(CURDIR)/include $(KMOD_M)/include
	$(Q)ln -sf $(CURDIR)/Kbuild $(KMOD_M)/Kbuild
	$(Q)for f in $(CURDIR)/kmod/*; do \
		case $$f in *.o|*.ko|*.mod|*.mod.c|*.cmd|*.order|*.symvers) continue ;; esac; \
		ln -sf $$f $(KMOD_M)/kmod/; done

check-kernels: check-deps
	$(Q)BUILD=$(BUILD) selftests/vm/check-kernels $(VM_KERNELS)

.PHONY: kmod-tree check-kernels
