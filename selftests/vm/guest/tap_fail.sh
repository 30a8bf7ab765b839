#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tap_fail.sh - guest program for runner_test.sh: one failing result, exit 1.
echo "1..1"
echo "not ok 1 runner-selftest: a failing test"
exit 1
