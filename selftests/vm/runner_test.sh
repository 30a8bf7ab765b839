#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# runner_test.sh - the runner (selftests/vm/run) must report what goes wrong in
# the guest: a module that oopses on load, a WARN plus a failing test, a test
# that panics the kernel, and a test that never ends. Each case boots the
# 6.1 guest ($FCVM_VM_KERNEL overrides) and checks the runner's exit status
# and its result lines. The inner runs' output is shown indented ("# ").
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
export BUILD=${BUILD:-$TOP/build}
kernel=${FCVM_VM_KERNEL:-6.1}
G=$HERE/guest
out=$BUILD/vmtest/$kernel
mkdir -p "$out"
n=0 rc=0

# result OK DESCRIPTION
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		rc=1
	fi
}

# build_broken FLAG: fcvm_accel.ko built with the test-only FLAG=1.
build_broken() {
	local dir=$BUILD/kmod/$kernel-$1
	make -s -C "$TOP" kmod KVER="$kernel" KMOD_M="$dir" "$1=1" BUILD="$BUILD" \
		> "$out/$1.build.log" 2>&1 || { sed 's/^/# /' "$out/$1.build.log" >&2; return 1; }
	echo "$dir/kmod/fcvm_accel.ko"
}

# inner NAME ARGS...: run the runner, keep its output in $out/NAME.out,
# show it indented, return its exit status.
inner() {
	local name=$1 st
	shift
	"$HERE/run" --kernel "$kernel" --name "selftest-$name" "$@" > "$out/$name.out" 2>&1
	st=$?
	sed 's/^/# /' "$out/$name.out"
	return $st
}

# has NAME REGEX: the inner run NAME printed a line matching REGEX.
has() { grep -qE "$2" "$out/$1.out"; }
# logged NAME REGEX: the saved serial log of run NAME matches REGEX.
logged() { grep -qE "$2" "$BUILD/vmtest/$kernel/selftest-$1/serial.log"; }

echo "1..4"

# 1. A module whose init hits BUG(): the oops must fail the run even though
#    the test program itself passes.
if ko=$(build_broken FCVM_ACCEL_TEST_OOPS); then
	inner oops --insmod "$ko" -- "$G/tap_ok.sh"
	st=$?
	[ $st -ne 0 ] && has oops '^ok 1 runner-selftest' &&
		has oops '^not ok 3 vm-kernel-log' && has oops '^not ok 2 vm-exit .*insmod' &&
		logged oops 'kernel BUG at|invalid opcode'
	result $? "runner reports a module that oopses on load (exit $st)"
else
	result 1 "runner reports a module that oopses on load: the test module does not build"
fi

# 2. A module that WARNs on load, and a test program that fails.
if ko=$(build_broken FCVM_ACCEL_TEST_WARN); then
	inner warn --insmod "$ko" -- "$G/tap_fail.sh"
	st=$?
	[ $st -ne 0 ] && has warn '^not ok 1 runner-selftest' &&
		has warn '^not ok 2 vm-exit .*tap_fail.sh=1' &&
		has warn '^not ok 3 vm-kernel-log' && has warn 'WARNING:' &&
		has warn '^ok 1 vm-boot'
	result $? "runner reports a WARN on load and a failing test (exit $st)"
else
	result 1 "runner reports a WARN on load and a failing test: the test module does not build"
fi

# 3. A test that panics the kernel: the guest stops before the end.
inner panic -- "$G/panic.sh"
st=$?
[ $st -ne 0 ] && has panic '^ok 1 runner-selftest' && ! has panic '^ok 2 runner-selftest' &&
	has panic '^not ok 1 vm-boot .*stopped before the tests finished' &&
	has panic '^not ok 3 vm-kernel-log' && logged panic 'Kernel panic'
result $? "runner reports a kernel panic in the middle of a test (exit $st)"

# 4. A test that never ends: the timeout must stop QEMU and fail the run.
start=$(date +%s)
inner hang --timeout 25 -- "$G/hang.sh"
st=$?
secs=$(( $(date +%s) - start ))
[ $st -ne 0 ] && has hang '^not ok 1 vm-boot .*timed out after 25s' && [ $secs -lt 60 ] &&
	! pgrep -f "vmtest/$kernel/selftest-hang/qemu.sh" >/dev/null
result $? "runner stops a hung guest at its timeout (${secs}s, exit $st)"
exit $rc
