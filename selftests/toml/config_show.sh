#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# config_show.sh - `fcvm config show`: values and sources in text and JSON,
# the precedence flag > env > file > default, the file search, and the exit
# codes (2 for bad flags, 1 for a bad config file with FILE:LINE:COL).
set -u
FCVM=${BUILD:-$(dirname "$0")/../../build}/fcvm
SRC=$(cd "$(dirname "$0")/../.." && pwd)
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
check() {	# NAME WANT GOT
	if [ "$3" = "$2" ]; then ok "$1"; else nok "$1: got '$3', want '$2'"; fi
}
expect_rc() {	# NAME RC CMD...
	local name=$1 want=$2; shift 2
	"$@" >/dev/null 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else nok "$name (exit $rc, want $want)"; fi
}
# field JSON KEY -> settings.paths.KEY.value/source/origin, config_file.path/source
jget() { python3 -c 'import json,sys
d = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    d = d[k]
print(d)' "$1" "$2"; }

tmp=$(mktemp -d /tmp/fcvm-config-show.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# a private environment: no inherited FCVM_* settings, an empty XDG config
unset FCVM_CONFIG FCVM_DATA_DIR FCVM_ASSETS_DIR
export XDG_CONFIG_HOME=$tmp/xdg XDG_DATA_HOME=$tmp/data HOME=$tmp/home
if [ "$(id -u)" -eq 0 ]; then default_data=/var/lib/fcvm; else default_data=$tmp/data/fcvm; fi

echo "TAP version 13"
echo "1..22"

# 1-5: defaults, the source tree's file (unless /etc/fcvm has one)
json=$("$FCVM" config show --json)
check "default data_dir" "$default_data" "$(jget "$json" settings.paths.data_dir.value)"
check "default data_dir source" "default" "$(jget "$json" settings.paths.data_dir.source)"
check "default assets_dir is <data_dir>/assets" "$default_data/assets" \
	"$(jget "$json" settings.paths.assets_dir.value)"
if [ -f /etc/fcvm/rootfs-config.toml ]; then want=/etc/fcvm/rootfs-config.toml
else want=$SRC/rootfs-config.toml; fi
check "file found by search" "$want" "$(jget "$json" config_file.path)"
check "file source is search" "search" "$(jget "$json" config_file.source)"

# 6-10: file < env < flag
cat > "$tmp/c.toml" <<'EOF'
# test configuration
[paths]
data_dir = "/file/data"
EOF
json=$("$FCVM" config show --json --config "$tmp/c.toml")
check "file value" "/file/data" "$(jget "$json" settings.paths.data_dir.value)"
check "file origin names file and line" "$tmp/c.toml:3" "$(jget "$json" settings.paths.data_dir.origin)"
json=$(FCVM_CONFIG=$tmp/c.toml FCVM_DATA_DIR=/env/data "$FCVM" config show --json)
check "env beats file" "env /env/data FCVM_DATA_DIR" \
	"$(jget "$json" settings.paths.data_dir.source) $(jget "$json" settings.paths.data_dir.value) $(jget "$json" settings.paths.data_dir.origin)"
check "FCVM_CONFIG names the file" "env" "$(jget "$json" config_file.source)"
json=$(FCVM_CONFIG=$tmp/c.toml FCVM_DATA_DIR=/env/data "$FCVM" config show --json \
	--data-dir /flag/data --assets-dir /flag/assets)
check "flags beat env" "flag /flag/data flag /flag/assets" \
	"$(jget "$json" settings.paths.data_dir.source) $(jget "$json" settings.paths.data_dir.value) $(jget "$json" settings.paths.assets_dir.source) $(jget "$json" settings.paths.assets_dir.value)"

# 11-12: the XDG config file comes first in the search
mkdir -p "$tmp/xdg/fcvm"
printf '[paths]\nassets_dir = "/xdg/assets"\n' > "$tmp/xdg/fcvm/rootfs-config.toml"
json=$("$FCVM" config show --json)
check "XDG_CONFIG_HOME file is found first" "$tmp/xdg/fcvm/rootfs-config.toml" "$(jget "$json" config_file.path)"
check "its value is used" "/xdg/assets file" \
	"$(jget "$json" settings.paths.assets_dir.value) $(jget "$json" settings.paths.assets_dir.source)"

# 13-14: text output
out=$("$FCVM" config show --config "$tmp/c.toml")
case "$out" in *"paths.data_dir"*"/file/data (file: $tmp/c.toml:3)"*) ok "text shows value and origin";;
	*) nok "text output: $out";; esac
case "$out" in *"paths.assets_dir"*"/file/data/assets (default: built-in)"*) ok "text shows defaults";;
	*) nok "text output: $out";; esac

# 15-18: bad config files exit 1 with FILE:LINE:COL: message
printf '[paths]\ndata_dir = "/x"\nbogus_key = 1\n' > "$tmp/bad.toml"
err=$("$FCVM" config show --config "$tmp/bad.toml" 2>&1 >/dev/null); rc=$?
check "unknown key exits 1" 1 "$rc"
case "$err" in *"$tmp/bad.toml:3:1: unknown key 'bogus_key' in [paths]"*) ok "unknown key is named with its position";;
	*) nok "unknown key message: $err";; esac
printf '[paths]\ndata_dir = "/x\n' > "$tmp/syntax.toml"
err=$("$FCVM" config show --config "$tmp/syntax.toml" 2>&1 >/dev/null); rc=$?
case "$rc:$err" in "1:"*"$tmp/syntax.toml:2:15: newline in a single-line string"*) ok "parse error exits 1 with file:line:col";;
	*) nok "parse error: exit $rc: $err";; esac
expect_rc "missing --config file exits 1" 1 "$FCVM" config show --config "$tmp/none.toml"

# 19-22: bad flags exit 2
expect_rc "unknown flag exits 2" 2 "$FCVM" config show --bogus
expect_rc "missing flag value exits 2" 2 "$FCVM" config show --data-dir
expect_rc "relative --data-dir exits 2" 2 "$FCVM" config show --data-dir rel/dir
expect_rc "stray argument exits 2" 2 "$FCVM" config show extra
[ $fails -eq 0 ]
