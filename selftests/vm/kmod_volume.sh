#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod_volume.sh - the volume suite inside a QEMU guest of the default kernel
# (FCVM_VM_KERNEL=, default 6.1), once with the userspace channel and once
# with fcvm_accel.ko's channel (FCVM_VOLUME_CHANNEL=user|kmod): the same
# tests must pass either way. TAP comes from selftests/vm/run.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
exec make -s --no-print-directory -C "$TOP" check-kmod-volume \
	BUILD="${BUILD:-$TOP/build}" KVER="${FCVM_VM_KERNEL:-6.1}"
