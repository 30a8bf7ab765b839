#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series_test.sh - checks of the nested-virtualisation patch series in
# kernel/ (TAP).
#
# The series is consistent (kernel/series-tool lint), the lint rejects each
# kind of damage done to a copy of kernel/, the config fragment is well
# formed, and the series applies to its real base: fully checked (arm64
# compile included) when `make kernel-patches-check` has warmed this build's
# cache, otherwise by the quick check, which needs one download but no
# kernel tree (see test 8).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOOL=$TOP/kernel/series-tool
CACHE=${BUILD:-$TOP/build}/kernel
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n $1"; }

echo "1..8"

# 1: the real series.
if out=$("$TOOL" lint 2>&1); then
	echo "# $out"
	ok "series is consistent"
else
	echo "$out" | sed 's/^/# /'
	not_ok "series is consistent"
fi

# damaged NAME HOW EXPECT: apply HOW (a shell snippet run in a fresh copy of
# kernel/) and require the lint to fail with a message matching EXPECT.
damaged() {
	local name=$1 how=$2 expect=$3 copy=$TMP/$1 out
	rm -rf "$copy" && mkdir -p "$copy" && cp -r "$TOP/kernel" "$copy/kernel"
	if ! (cd "$copy/kernel" && eval "$how"); then
		not_ok "lint rejects $name (could not damage the copy)"
		return
	fi
	if out=$(FCVM_KERNEL_DIR=$copy/kernel "$TOOL" lint 2>&1); then
		echo "# lint passed a series with $name"
		not_ok "lint rejects $name"
	elif echo "$out" | grep -E "$expect" >/dev/null; then
		ok "lint rejects $name"
	else
		echo "$out" | sed 's/^/# /'
		not_ok "lint rejects $name (wrong diagnostic, wanted /$expect/)"
	fi
}

mapfile -t listed < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/kernel/patches/series")
first=${listed[0]:-} second=${listed[1]:-}

# 2-6: each kind of damage is caught.
damaged "a patch without Signed-off-by" \
	"sed -i '/^Signed-off-by: /d' patches/$second" 'no Signed-off-by'
damaged "a patch on another base" \
	"sed -i 's/^base-commit: .*/base-commit: 0123456789abcdef0123456789abcdef01234567/' patches/$first" \
	"base-commit '0123456789abcdef"
damaged "a missing patch" "rm patches/$second" 'listed in series but missing'
damaged "out-of-order numbering" \
	"awk 'NR == FNR { if (\$0 == \"$first\") f = FNR; if (\$0 == \"$second\") s = FNR; next }
	     FNR == f { print \"$second\"; next } FNR == s { print \"$first\"; next } { print }' \
	     patches/series patches/series > s.new && mv s.new patches/series" 'listed as patch'
damaged "an unlisted patch file" "cp patches/$first patches/0099-guest-stray.patch" 'not in series'

# 7: the config fragment holds only option lines and comments.
bad=$(grep -vnE '^(#.*|CONFIG_[A-Z0-9_]+=([ymn]|[0-9]+|"[^"]*")|)$' "$TOP/kernel/nested.conf" || true)
if [ -z "$bad" ] && grep -q '^CONFIG_KVM=y$' "$TOP/kernel/nested.conf"; then
	ok "nested.conf is a well-formed fragment with CONFIG_KVM=y"
else
	echo "$bad" | sed 's/^/# bad line: /'
	not_ok "nested.conf is a well-formed fragment with CONFIG_KVM=y"
fi

# 8: the series on the real base. With a warm cache ($BUILD/kernel holds the
# imported trees and a prepared arm64 build directory, as left by
# `make kernel-patches-check`) that is the whole check, about half a minute.
# Cold, it is the quick check instead: the touched files are extracted from
# the base package (downloaded once into the cache, 170 MB), must be the
# patches' exact preimages, take the series with git am, and every patch
# passes checkpatch; only the arm64 compile is left out.
base_tree=$("$TOOL" -b "$CACHE" tree)
compat_tree=$("$TOOL" -b "$CACHE" tree compat)
out_dir=$CACHE/out/$(basename "$base_tree")-arm64
if [ -f "$base_tree/.git/fcvm-imported" ] && [ -f "$compat_tree/.git/fcvm-imported" ] &&
   [ -f "$out_dir/include/generated/autoconf.h" ]; then
	mode=check what="kernel-patches-check (warm cache"
else
	mode=quick what="series applies to the base and passes checkpatch (cold cache: quick check, no arm64 compile"
fi
# The early-boot check of the guest patches (make kernel-boot-check) joins
# in when its tiny arm64 kernel is already built: it then takes seconds.
tiny_dir=$CACHE/out/$(basename "$base_tree")-tiny-arm64
boot=
if [ "$mode" = check ] && [ -f "$tiny_dir/arch/arm64/boot/Image" ] &&
   command -v qemu-system-aarch64 >/dev/null; then
	boot=1 what="$what + QEMU boot check"
fi
t0=$SECONDS
if "$TOOL" -b "$CACHE" "$mode" > "$TMP/check.log" 2>&1 &&
   { [ -z "$boot" ] || "$TOOL" -b "$CACHE" boot >> "$TMP/check.log" 2>&1; }; then
	sed 's/^/# /' "$TMP/check.log"
	ok "$what, $((SECONDS - t0)) s)"
else
	sed 's/^/# /' "$TMP/check.log"
	not_ok "$what)"
fi
