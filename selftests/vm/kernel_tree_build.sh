#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel_tree_build.sh - selftests/kmod builds inside a kernel tree, as kernel
# CI would build it: copied to tools/testing/selftests/fcvm of Debian's
# linux-source-6.1 and built with `make -C tools/testing/selftests TARGETS=fcvm`,
# i.e. with the kernel's own selftests Makefile and lib.mk, not fcvm's.
#
# Only what that build reads is extracted from the tarball (once, into
# $BUILD/vm/linux-source-6.1). <linux/fcvm_accel.h> is copied to the tree's
# usr/include/linux/, where `make headers_install` would put it if the header
# were part of the kernel; other uapi headers come from the system's.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
TARBALL=/usr/src/linux-source-6.1.tar.xz
tree=$BUILD/vm/linux-source-6.1
n=0 rc=0

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; rc=1; fi
}

echo "1..3"
if [ ! -f "$tree/.extracted" ]; then
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -xJf "$TARBALL" -C "$tree" --strip-components=1 \
		linux-source-6.1/scripts/subarch.include \
		linux-source-6.1/tools/testing/selftests/Makefile \
		linux-source-6.1/tools/testing/selftests/lib.mk \
		linux-source-6.1/tools/testing/selftests/kselftest.h \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest \
		linux-source-6.1/tools/testing/selftests/run_kselftest.sh \
		linux-source-6.1/tools/testing/selftests/gen_kselftest_tar.sh &&
		touch "$tree/.extracted"
fi
[ -f "$tree/.extracted" ]
result $? "extract the kselftest framework from $TARBALL"

dst=$tree/tools/testing/selftests/fcvm
rm -rf "$dst" "$tree/usr/include"
cp -r "$TOP/selftests/kmod" "$dst"
mkdir -p "$tree/usr/include/linux"
cp "$TOP/include/uapi/linux/fcvm_accel.h" "$tree/usr/include/linux/"
# A clean environment: nothing of fcvm's build may leak into the kernel's.
env -i PATH="$PATH" HOME="${HOME:-/root}" make -C "$tree/tools/testing/selftests" \
	TARGETS=fcvm > "$BUILD/vm/kernel-tree-build.log" 2>&1
st=$?
sed 's/^/# /' "$BUILD/vm/kernel-tree-build.log" | tail -n 20
# Kernel CI reports warnings: the kernel's flags (-Wall) must give none.
warnings=$(grep -c 'warning:' "$BUILD/vm/kernel-tree-build.log")
[ $st -eq 0 ] && [ "$warnings" -eq 0 ]
result $? "make -C tools/testing/selftests TARGETS=fcvm (status $st, $warnings warnings)"

mapfile -t progs < <(sed -n 's/^TEST_GEN_PROGS *:\?= *//p' "$TOP/selftests/kmod/Makefile" | tr ' ' '\n' | sed '/^$/d')
missing=""
for p in "${progs[@]}"; do
	file "$dst/$p" 2>/dev/null | grep -q 'ELF 64-bit' || missing="$missing $p"
done
[ ${#progs[@]} -gt 0 ] && [ -z "$missing" ]
result $? "every TEST_GEN_PROGS (${progs[*]}) built in the kernel tree${missing:+, missing:$missing}"
exit $rc
