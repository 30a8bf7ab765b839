#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hang.sh - guest program for runner_test.sh: announces a result, never ends.
echo "1..1"
while :; do sleep 3600; done
