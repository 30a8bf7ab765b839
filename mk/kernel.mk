# SPDX-License-Identifier: GPL-2.0
#
# mk/kernel.mk - the arm64 nested-virtualisation patch series in kernel/
# (Documentation/nested.rst). kernel/series-tool does the work; its cache
# (Debian source package, imported git trees, arm64 build directories) lives
# in $(BUILD)/kernel.
#
#   make kernel-patches-check      fetch + import the base (cached), git am the
#                                  series, checkpatch every patch, compile the
#                                  touched objects for arm64, try the series
#                                  on the older tree (COMPAT_* in base.conf)
#   make kernel-boot-check         build a tiny arm64 kernel from the patched
#                                  tree and boot it under QEMU (TCG) with and
#                                  without arm64.nv2 (after kernel-patches-check)
#   make kernel-patches-lint       series consistency only (no download)
#   make kernel-patch-new NAME=guest-foo FILES="path..." [MSG=file]
#                                  commit FILES, edited in the scratch tree,
#                                  as a new last patch and refresh
#   make kernel-patch-refresh      regenerate kernel/patches/ from the scratch
#                                  tree's commits (after amending or rebasing)
#   make kernel-tree               print the scratch tree's path

SERIES_TOOL := kernel/series-tool -b $(BUILD)/kernel

kernel-patches-check:
	$(Q)$(SERIES_TOOL) check

kernel-boot-check:
	$(Q)$(SERIES_TOOL) apply
	$(Q)$(SERIES_TOOL) boot

kernel-patches-lint:
	$(Q)$(SERIES_TOOL) lint

kernel-patch-new:
	$(if $(NAME),,$(error NAME= is required, e.g. NAME=guest-foo-bar))
	$(if $(FILES),,$(error FILES= is required: the files edited in the scratch tree))
	$(Q)$(SERIES_TOOL) new $(NAME) $(if $(MSG),$(abspath $(MSG)),-) $(FILES)

kernel-patch-refresh:
	$(Q)$(SERIES_TOOL) refresh

kernel-tree:
	$(Q)$(SERIES_TOOL) tree

.PHONY: kernel-patches-check kernel-boot-check kernel-patches-lint kernel-patch-new \
	kernel-patch-refresh kernel-tree
