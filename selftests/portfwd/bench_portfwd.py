#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench_portfwd - `make bench-portfwd` (a benchmark, not a test).

Rootless, one relay hop each: client --TCP--> RELAY --Unix--> server, where
RELAY is nothing (direct_tcp: TCP server; direct_unix: Unix client), socat,
a read/write relay (rw) or fcvm's splice relay (splice: the server answers
the hybrid-vsock handshake like a VMM). Bridged: a local client in the host
netns (in the NAT's cgroup) to a server in a guest netns through the eBPF NAT
(bpf) or nftables DNAT (nft). CPU is all involved processes' CPU time
(client, server, relay) per GB moved. The machine is shared: every path is
measured BENCH_REPS times, interleaved, and the best of each metric is kept
(highest rate, lowest latency and CPU). Writes JSON to argv[1]."""
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing generated next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pftest  # noqa: E402
from pftest import FCVM, Proc  # noqa: E402

HELPER = os.path.join(pftest.BUILD, "selftests/portfwd/bench_helper")
BYTES = int(os.environ.get("BENCH_BYTES", 2 << 30))
RTTS = int(os.environ.get("BENCH_RTTS", 20000))
CONNS = int(os.environ.get("BENCH_CONNS", 3000))
REPS = int(os.environ.get("BENCH_REPS", 5))
TMP = tempfile.mkdtemp(prefix="fcvm-bench-")
ENV = dict(os.environ, FCVM_DATA_DIR=os.path.join(TMP, "data"), FCVM_LOG="warn")
TICK = os.sysconf("SC_CLK_TCK")
procs = []


def start(argv, **kw):
    p = Proc(argv, env=ENV, preexec=pftest.die_with_parent, **kw)
    procs.append(p)
    return p


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def cpu(pids):
    t = 0
    for pid in pids:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        t += sum(int(x) for x in f[11:15])
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t / TICK + ru.ru_utime + ru.ru_stime


def client(prefix, addr, mode, n, hv=False):
    argv = prefix + [HELPER, "client", addr, mode, str(n)]
    if hv:
        argv += ["--hvsock", "80"]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr))
    return json.loads(r.stdout)


def measure(name, addr, pids, prefix=(), hv=False):
    prefix = list(prefix)
    res = {}
    c0 = cpu(pids)
    res[name + "_gbit_up"] = client(prefix, addr, "up", BYTES, hv)["gbit"]
    res[name + "_gbit_down"] = client(prefix, addr, "down", BYTES, hv)["gbit"]
    res[name + "_cpu_s_per_gb"] = round((cpu(pids) - c0) / (2 * BYTES / 1e9), 3)
    r = client(prefix, addr, "rtt", RTTS, hv)
    res[name + "_p50_us"], res[name + "_p99_us"] = r["p50_us"], r["p99_us"]
    res[name + "_conn_s"] = client(prefix, addr, "conn", CONNS, hv)["conn_s"]
    return res


def best(runs):
    """The best of each metric over the repetitions."""
    out = {}
    for k in runs[0]:
        vals = [r[k] for r in runs]
        out[k] = max(vals) if k.endswith(("_gbit_up", "_gbit_down", "_conn_s")) else min(vals)
    return out


def show(res, names):
    for name in names:
        print("  %-12s up %6.2f  down %6.2f Gbit/s  %.3f CPU-s/GB  p50 %6.1f  p99 %7.1f us"
              "  %7.0f conn/s" % (name, res[name + "_gbit_up"], res[name + "_gbit_down"],
                                  res[name + "_cpu_s_per_gb"], res[name + "_p50_us"],
                                  res[name + "_p99_us"], res[name + "_conn_s"]), flush=True)


def rootless():
    unix = os.path.join(TMP, "srv.sock")
    hv = os.path.join(TMP, "hv.sock")
    tcp_port, p_socat, p_rw, p_splice = free_ports(4)
    s_unix = start([HELPER, "server", "unix:" + unix])
    s_hv = start([HELPER, "server", "unix:" + hv, "--hvsock"])
    s_tcp = start([HELPER, "server", "tcp:127.0.0.1:%d" % tcp_port])
    socat = start(["socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,backlog=1024" % p_socat,
                   "UNIX-CONNECT:" + unix], wait_for=None)
    wait_listen(p_socat)
    rw = start([HELPER, "rwrelay", "tcp:127.0.0.1:%d" % p_rw, "unix:" + unix])
    fw = start([FCVM, "portfwd", "run", "--vsock", hv, "-p", "127.0.0.1:%d:80" % p_splice])
    paths = [("direct_tcp", "tcp:127.0.0.1:%d" % tcp_port, [s_tcp.pid]),
             ("direct_unix", "unix:" + unix, [s_unix.pid]),
             ("socat", "tcp:127.0.0.1:%d" % p_socat, [s_unix.pid, socat.pid]),
             ("rw", "tcp:127.0.0.1:%d" % p_rw, [s_unix.pid, rw.pid]),
             ("splice", "tcp:127.0.0.1:%d" % p_splice, [s_hv.pid, fw.pid])]
    runs = []
    for rep in range(REPS):
        r = {}
        for name, addr, pids in paths:
            r.update(measure(name, addr, pids))
        runs.append(r)
        print("  (round %d of %d done)" % (rep + 1, REPS), flush=True)
    out = best(runs)
    show(out, [x[0] for x in paths])
    return out


def wait_listen(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("nothing listens on %d" % port)


def bridged():
    import bridged_test as bt
    out = {}
    bt.ENV.update(ENV)
    bt.setup()
    try:
        srv = start(["nsenter", "--net=/run/netns/" + bt.NS_G, HELPER, "server",
                     "tcp:%s:80" % bt.GUEST])
        local = ["sh", "-c", 'echo $$ > %s/cgroup.procs && exec "$@"' % bt.CG, "sh",
                 "nsenter", "--net=/run/netns/" + bt.NS_H]
        bt.SPECS = ["%s:8080:80" % bt.PUB]
        runs = []
        for rep in range(REPS):
            r = {}
            for backend in ("nft", "bpf"):
                nat = bt.start_nat(backend)
                r.update(measure(backend, "tcp:%s:8080" % bt.PUB, [srv.pid, nat.pid], local))
                nat.stop()
            runs.append(r)
            print("  (round %d of %d done)" % (rep + 1, REPS), flush=True)
        out = best(runs)
        show(out, ["nft", "bpf"])
    finally:
        bt.teardown()
    return out


def ratio(a, b):
    return round(a / b, 2) if b else 0.0


def main():
    dest = sys.argv[1]
    print("portfwd benchmark: %d bytes each way, %d round trips, %d connections, best of %d"
          % (BYTES, RTTS, CONNS, REPS))
    res = {}
    try:
        print("rootless (client -TCP-> relay -Unix-> server):")
        res.update(rootless())
        print("bridged (host-local client -> guest netns server):")
        res.update(bridged())
    finally:
        for p in reversed(procs):
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait()
        shutil.rmtree(TMP, ignore_errors=True)
    res["ratio_splice_vs_socat_up"] = ratio(res["splice_gbit_up"], res["socat_gbit_up"])
    res["ratio_splice_vs_direct_tcp_up"] = ratio(res["splice_gbit_up"], res["direct_tcp_gbit_up"])
    res["ratio_splice_vs_direct_tcp_p50"] = ratio(res["splice_p50_us"], res["direct_tcp_p50_us"])
    res["ratio_bpf_vs_nft_conn_s"] = ratio(res["bpf_conn_s"], res["nft_conn_s"])
    res["ratio_bpf_vs_nft_p50"] = ratio(res["bpf_p50_us"], res["nft_p50_us"])
    print("ratios (targets):")
    print("  splice/socat up       %5.2fx (>= 5)" % res["ratio_splice_vs_socat_up"])
    print("  splice/direct_tcp up  %5.2fx (>= 0.8)" % res["ratio_splice_vs_direct_tcp_up"])
    print("  splice/direct_tcp p50 %5.2fx (<= 2.5)" % res["ratio_splice_vs_direct_tcp_p50"])
    print("  bpf/nft conn/s        %5.2fx (>= 1.15)" % res["ratio_bpf_vs_nft_conn_s"])
    print("  bpf/nft p50           %5.2fx (<= 1.0)" % res["ratio_bpf_vs_nft_p50"])
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print("wrote " + dest)


if __name__ == "__main__":
    main()
