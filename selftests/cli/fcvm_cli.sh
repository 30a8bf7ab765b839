#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fcvm_cli.sh - the built fcvm binary: exit codes, help, version, accel status.
set -u
FCVM=${BUILD:-$(dirname "$0")/../../build}/fcvm
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
expect_rc() {	# NAME RC CMD...
	local name=$1 want=$2; shift 2
	"$@" >/dev/null 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else nok "$name (exit $rc, want $want)"; fi
}

echo "TAP version 13"
echo "1..12"
expect_rc "no arguments is a usage error" 2 "$FCVM"
expect_rc "--help exits 0" 0 "$FCVM" --help
expect_rc "unknown command exits 2" 2 "$FCVM" frobnicate
expect_rc "unknown option exits 2" 2 "$FCVM" accel status --bogus
expect_rc "stray argument exits 2" 2 "$FCVM" version extra
expect_rc "object without command exits 2" 2 "$FCVM" accel
expect_rc "object help exits 0" 0 "$FCVM" accel --help
expect_rc "prefix abbreviation works" 0 "$FCVM" acc st

err=$("$FCVM" accel frob 2>&1 >/dev/null)
case "$err" in *"unknown command 'frob'"*) ok "error names the bad word";; *) nok "error names the bad word: $err";; esac

v=$("$FCVM" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
want=$(git -C "$(dirname "$0")" describe --tags --always --dirty 2>/dev/null || echo unknown)
# the binary is stamped at build time; a tree edited since then may differ only by -dirty
if [ "${v%-dirty}" = "${want%-dirty}" ]; then ok "version is git describe ($v)"; else nok "version $v != $want"; fi

json=$("$FCVM" accel status --json)
if echo "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d["kmod"]["present"], bool)
assert len(d["bpf"]) == 7 and all(isinstance(v["loads"], bool) for v in d["bpf"].values())
assert set(d["paths"]) == {"volume", "portfwd-bridged", "portfwd-rootless"}
'; then ok "accel status --json is valid and complete"; else nok "accel status --json"; fi

forced=$(FCVM_PORTFWD_NAT=nft "$FCVM" accel status --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["paths"]["portfwd-bridged"]["path"])')
case "$forced" in nftables*) ok "FCVM_PORTFWD_NAT=nft forces the fallback";; *) nok "forced path: $forced";; esac
[ $fails -eq 0 ]
