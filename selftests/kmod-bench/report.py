#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py LOG JSON KVER - turn kmod_bench's output (from the QEMU guest)
into $(BUILD)/bench/kmod.json and print absolutes and ratios against the
targets of issue 5 (>= 30 % lower READ latency, >= 1.5x sequential read,
GETATTR not slower)."""
import json
import sys


def main():
    log, out, kver = sys.argv[1:4]
    data = None
    with open(log, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# kmod-bench-json: "):
                data = json.loads(line.split(": ", 1)[1])
    if data is None:
        sys.exit("bench-kmod: no result in %s (see the guest output above)" % log)
    data["kernel"] = kver
    data["guest"] = "QEMU TCG (emulated: compare ratios, not absolutes)"
    r4 = data["read4k_latency_us_module"] / data["read4k_latency_us_user"]
    sq = data["seqread_mibs_module"] / data["seqread_mibs_user"]
    ga = data["getattr_latency_us_module"] / data["getattr_latency_us_user"]
    data["ratio_read4k_latency_module_over_user"] = round(r4, 3)
    data["ratio_seqread_module_over_user"] = round(sq, 3)
    data["ratio_getattr_latency_module_over_user"] = round(ga, 3)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    print("bench-kmod (%s guest, QEMU TCG):" % kver)
    print("  4 KiB READ latency  module %8.1f us  user %8.1f us  module/user %.2f "
          "(%.0f %% lower; target >= 30 %%)" % (data["read4k_latency_us_module"],
          data["read4k_latency_us_user"], r4, (1 - r4) * 100))
    print("  1 MiB seq read      module %8.1f MiB/s user %8.1f MiB/s  %.2fx (target >= 1.5x)"
          % (data["seqread_mibs_module"], data["seqread_mibs_user"], sq))
    print("  GETATTR latency     module %8.1f us  user %8.1f us  module/user %.2f "
          "(target <= 1)" % (data["getattr_latency_us_module"],
          data["getattr_latency_us_user"], ga))
    print("  JSON: %s" % out)


if __name__ == "__main__":
    main()
