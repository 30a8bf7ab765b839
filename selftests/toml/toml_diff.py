#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""toml_diff.py - differential test of util/toml against Python's tomllib.

For every document in corpus/valid/ and corpus/invalid/ (one TAP line each):
  - tomllib decides what the document is; the directory states what it must
    be, and a disagreement is a corpus error (a failure);
  - a document tomllib accepts and that uses no feature fcvm rejects must
    give byte-identical canonical JSON from toml2json (which also checks a
    round trip through toml_to_toml);
  - a document using floats or date-times must be rejected with an
    "unsupported" error; one with an integer outside 64 bits (TOML requires
    an error, tomllib accepts it) with an "out of 64-bit range" error;
  - a document tomllib rejects must be rejected with "FILE:line:col: msg".
"""
import datetime
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("BUILD", os.path.join(HERE, "..", "..", "build"))
TOML2JSON = os.path.join(BUILD, "selftests", "toml", "toml2json")
CORPUS = os.path.join(HERE, "corpus")


def classify(data):
    """('valid', json) | ('invalid', why) | ('reject', {'unsupported', 'range'})"""
    import tomllib

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return "invalid", str(e)
    kinds = set()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, bool) or isinstance(v, str):
            pass
        elif isinstance(v, int):
            if not -(2 ** 63) <= v < 2 ** 63:
                kinds.add("range")
        elif isinstance(v, (float, datetime.date, datetime.time)):
            kinds.add("unsupported")
        else:
            raise TypeError(type(v))

    walk(doc)
    if kinds:
        return "reject", kinds
    return "valid", json.dumps(doc, ensure_ascii=True, separators=(",", ":"))


def run_ours(path):
    p = subprocess.run([TOML2JSON, path], capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace").rstrip("\n"), \
        p.stderr.decode("utf-8", "replace").strip()


def check(sub, path):
    """Returns (ok, detail)."""
    with open(path, "rb") as f:
        data = f.read()
    kind, info = classify(data)
    rc, out, err = run_ours(path)
    pos_re = re.compile(re.escape(path) + r":[1-9][0-9]*:[1-9][0-9]*: \S")
    if sub == "valid" and kind == "invalid":
        return False, "corpus error: tomllib rejects it: " + info
    if sub == "valid" and kind == "reject" and "range" in info:
        return False, "corpus error: out-of-range integers belong in invalid/"
    if sub == "invalid" and kind == "valid":
        return False, "corpus error: tomllib accepts it"
    if sub == "invalid" and kind == "reject" and "unsupported" in info:
        return False, "corpus error: valid TOML with unsupported features belongs in valid/"
    if rc == 3:
        return False, "toml_to_toml round trip failed: " + err
    if kind == "valid":
        if rc != 0:
            return False, "rejected a valid document: " + err
        if out != info:
            return False, "JSON differs:\n#   ours:    %s\n#   tomllib: %s" % (out, info)
        return True, ""
    if rc != 1 or not pos_re.match(err):
        return False, "not rejected with FILE:line:col: (exit %d) %s" % (rc, err or out)
    if kind == "reject":
        words = {"unsupported": "unsupported", "range": "out of 64-bit range"}
        if not any(words[k] in err for k in info):
            return False, "wrong error for %s: %s" % ("/".join(sorted(info)), err)
        return True, "rejected as designed (%s): %s" % ("/".join(sorted(info)),
                                                        err.split(": ", 1)[1])
    return True, ""


def main():
    files = []
    for sub in ("valid", "invalid"):
        d = os.path.join(CORPUS, sub)
        files += [(sub, os.path.join(d, n)) for n in sorted(os.listdir(d))]
    print("TAP version 13")
    print("1..%d" % len(files))
    try:
        import tomllib  # noqa: F401  (Python >= 3.11)
    except ImportError:
        for i, (sub, path) in enumerate(files, 1):
            print("ok %d %s/%s # SKIP python3 has no tomllib (needs 3.11)"
                  % (i, sub, os.path.basename(path)))
        return 0
    fails = 0
    for i, (sub, path) in enumerate(files, 1):
        name = "%s/%s" % (sub, os.path.basename(path))
        ok, detail = check(sub, os.path.relpath(path))
        if ok:
            print("ok %d %s%s" % (i, name, " (%s)" % detail if detail else ""))
        else:
            fails += 1
            print("not ok %d %s" % (i, name))
            print("# " + detail.replace("\n", "\n# "))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
