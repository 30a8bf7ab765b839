#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# panic.sh - guest program for runner_test.sh: panics the kernel mid-test.
echo "1..2"
echo "ok 1 runner-selftest: before the panic"
echo c > /proc/sysrq-trigger
echo "ok 2 runner-selftest: not reached"
