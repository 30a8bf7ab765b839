#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vol_channels.sh - the volume suite (selftests/volume: a real FUSE mount
# through the guest relay and the host server, plus the raw-protocol tests)
# with the userspace channel and then with the fcvm_accel module channel,
# inside a kernel test guest where fuse and fcvm_accel.ko are loaded:
#
#   selftests/vm/run --kernel K --module fuse --insmod fcvm_accel.ko \
#       --file volume_test:/fcvm/tests/volume_test \
#       --file volume_raw_test:/fcvm/tests/volume_raw_test \
#       --file /etc/passwd:/etc/passwd -- selftests/kmod/vol_channels.sh
#
# VOL_TESTS (default "volume_raw_test volume_test") picks the programs.
# Prints one TAP line per program and channel.
set -u
cd "$(dirname "$0")"
tests=${VOL_TESTS:-volume_raw_test volume_test}
n=0
for c in user kmod; do for t in $tests; do n=$((n + 1)); done; done
echo "1..$n"
if [ ! -e /dev/fcvm_accel ]; then
	i=0
	for c in user kmod; do for t in $tests; do
		i=$((i + 1)); echo "not ok $i $t $c: /dev/fcvm_accel absent (load fcvm_accel.ko)"
	done; done
	exit 1
fi
i=0 rc=0
for c in user kmod; do
	for t in $tests; do
		i=$((i + 1))
		FCVM_VOLUME_CHANNEL=$c ./$t > /tmp/vol-$c-$t.log 2>&1
		r=$?
		sed 's/^/# /' /tmp/vol-$c-$t.log | grep -E '^# (not ok|# Totals|#.*:[0-9]+:|#.*terminated)'
		if [ $r -eq 0 ]; then
			echo "ok $i $t $c channel"
		else
			echo "not ok $i $t $c channel (exit $r)"
			rc=1
		fi
	done
done
exit $rc
