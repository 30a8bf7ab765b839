#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - kernel-style and static checks, one TAP result per checked unit:
#  - scripts/checkpatch.pl --no-tree -f (from Debian's linux-source-6.1) on
#    every file in kmod/ and include/uapi/;
#  - cppcheck on userspace/ and agent/ (one result per directory);
#  - `make docs` (docutils, warnings are errors) and every page linked from
#    Documentation/index.rst exists.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CHECKPATCH=$TOP/build/kselftest/scripts/checkpatch.pl

cd "$TOP"
# Sources only: git's view (tracked plus new, minus ignored kbuild output).
mapfile -t kfiles < <(git ls-files --cached --others --exclude-standard -- \
	'kmod/*.c' 'kmod/*.h' 'include/uapi/*.h' | sort -u)
dirs=(userspace agent)
echo "TAP version 13"
echo "1..$(( ${#kfiles[@]} + ${#dirs[@]} + 2 ))"
n=0 fails=0
for f in "${kfiles[@]}"; do
	n=$((n + 1))
	out=$(perl "$CHECKPATCH" --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "$f" 2>&1)
	if echo "$out" | grep -qE '^(ERROR|WARNING):'; then
		echo "$out" | sed 's/^/# /'
		echo "not ok $n checkpatch $f"
		fails=$((fails + 1))
	else
		echo "ok $n checkpatch $f"
	fi
done
for d in "${dirs[@]}"; do
	n=$((n + 1))
	out=$(cppcheck -q --std=c11 --enable=warning,portability,performance \
		--error-exitcode=1 --inline-suppr -D_GNU_SOURCE -D__linux__ \
		--suppress=missingIncludeSystem -j2 "$d" 2>&1)
	if [ $? -ne 0 ]; then
		echo "$out" | sed 's/^/# /'
		echo "not ok $n cppcheck $d"
		fails=$((fails + 1))
	else
		echo "ok $n cppcheck $d"
	fi
done
n=$((n + 1))
if out=$(make -s -C "$TOP" BUILD="$BUILD" docs 2>&1); then
	echo "ok $n make docs builds without warnings"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok $n make docs"
	fails=$((fails + 1))
fi
n=$((n + 1))
missing=""
for page in $(grep -o '<[a-z0-9_./-]*\.html>' Documentation/index.rst | tr -d '<>'); do
	[ -f "Documentation/${page%.html}.rst" ] || missing="$missing $page"
done
if [ -z "$missing" ]; then
	echo "ok $n every page linked from index.rst exists"
else
	echo "not ok $n index.rst links to missing pages:$missing"
	fails=$((fails + 1))
fi
[ $fails -eq 0 ]
