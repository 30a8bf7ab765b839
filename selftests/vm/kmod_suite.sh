#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod_suite.sh - run every program of selftests/kmod in a guest of one kernel.
#
# usage: kmod_suite.sh [KERNEL]   (default: $FCVM_VM_KERNEL, else 6.1)
#
# Builds fcvm_accel.ko for KERNEL (make kmod KVER=KERNEL) and the selftests/kmod
# programs, boots KERNEL with selftests/vm/run and streams the TAP: the kmod
# programs' results, guest/accel_status.sh (fcvm accel status --json sees the
# module), then the runner's vm-boot, vm-exit and vm-kernel-log results.
# The kernel modules listed in selftests/kmod/vm-modules are loaded at boot.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
export BUILD=${BUILD:-$TOP/build}
kernel=${1:-${FCVM_VM_KERNEL:-6.1}}
log=$BUILD/vmtest/$kernel
mkdir -p "$log"

fail_early() {
	echo "1..1"
	echo "not ok 1 kmod-suite $kernel: $1"
	sed 's/^/# /' "$2" | tail -n 30
	exit 1
}

make -s -C "$TOP" kmod KVER="$kernel" BUILD="$BUILD" > "$log/kmod-build.log" 2>&1 ||
	fail_early "fcvm_accel.ko does not build against $kernel's headers" "$log/kmod-build.log"
make -s -C "$TOP/selftests/kmod" BUILD="$BUILD" > "$log/selftests-build.log" 2>&1 ||
	fail_early "selftests/kmod does not build" "$log/selftests-build.log"
[ -x "$BUILD/fcvm" ] || { echo "no $BUILD/fcvm" > "$log/fcvm.log"; fail_early "no fcvm binary (run make first)" "$log/fcvm.log"; }
mapfile -t progs < <(make -s -C "$TOP/selftests/kmod" BUILD="$BUILD" list-tests)
[ ${#progs[@]} -gt 0 ] || { : > "$log/none"; fail_early "selftests/kmod lists no programs" "$log/none"; }

abi=$log/accel_abi
awk '/#define FCVM_ACCEL_ABI_MAJOR/ { ma = $3 } /#define FCVM_ACCEL_ABI_MINOR/ { mi = $3 }
     END { print ma, mi }' "$TOP/include/uapi/linux/fcvm_accel.h" > "$abi"

mods=()
while read -r m; do
	mods+=(--module "$m")
done < <(sed 's/#.*//' "$TOP/selftests/kmod/vm-modules" 2>/dev/null | awk NF)

exec "$HERE/run" --kernel "$kernel" --name kmod --timeout "${FCVM_VM_TIMEOUT:-150}" "${mods[@]}" \
	--file "$BUILD/kmod/$kernel/kmod/fcvm_accel.ko:/fcvm/tests/fcvm_accel.ko" \
	--file "$abi:/fcvm/tests/accel_abi" \
	--file "$BUILD/fcvm:/bin/fcvm" \
	-- "${progs[@]}" "$HERE/guest/accel_status.sh"
