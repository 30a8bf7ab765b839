#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# accel_status.sh - guest test: `fcvm accel status --json` sees the module.
#
# Runs inside the test guest (selftests/vm/kmod_suite.sh puts it there) with
# /bin/fcvm, fcvm_accel.ko next to this script and accel_abi holding the ABI
# "MAJOR MINOR" of include/uapi/linux/fcvm_accel.h.
cd "$(dirname "$0")" || exit 1
read -r major minor < accel_abi
n=0 rc=0

# status_has STRING: fcvm's JSON, whitespace removed, contains STRING.
status_has() {
	fcvm accel status --json | tr -d ' \t\n' | grep -qF "$1"
}

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n accel-status: $2"
	else
		echo "not ok $n accel-status: $2"
		fcvm accel status --json | sed 's/^/# /'
		rc=1
	fi
}

echo "1..3"
rmmod fcvm_accel 2>/dev/null
status_has '"kmod":{"device":"/dev/fcvm_accel","present":false,"usable":false'
result $? "without the module: present false, usable false"

insmod ./fcvm_accel.ko
status_has "\"present\":true,\"usable\":true,\"abi_major\":$major,\"abi_minor\":$minor,"
result $? "after insmod: present, usable, ABI $major.$minor"

rmmod fcvm_accel
status_has '"present":false'
result $? "after rmmod: absent again"
exit $rc
