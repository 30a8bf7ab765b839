#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tap_ok.sh - guest program for runner_test.sh: one passing result.
echo "1..1"
echo "ok 1 runner-selftest: a passing test"
