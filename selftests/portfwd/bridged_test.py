#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bridged_test - bridged port publishing through the eBPF NAT and through
the nftables fallback, in namespaces this test creates:

  netns C (forwarded client 10.231.2.2) --veth-- netns H (host: fcvm, local
  clients in a test cgroup; 10.231.2.1 = published address, 10.231.1.1)
  --veth-- netns G (the guest: servers on 10.231.1.2)

Only private addresses inside these namespaces are used."""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

sys.dont_write_bytecode = True  # nothing generated next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pftest import (FCVM, Proc, Server, Tap, check, die_with_parent, echo,  # noqa: E402
                    echo_roundtrip)

TAG = "pf%d" % os.getpid()
NS_H, NS_G, NS_C = TAG + "h", TAG + "g", TAG + "c"
PUB, GUEST, CLIENT = "10.231.2.1", "10.231.1.2", "10.231.2.2"


def cgroup2_root():
    """Where cgroup v2 is mounted (/sys/fs/cgroup, or .../unified on hybrid hosts)."""
    for line in open("/proc/self/mounts"):
        f = line.split()
        if f[2] == "cgroup2":
            return f[1]
    return None


CG_ROOT = cgroup2_root() or "/sys/fs/cgroup"
CG = os.path.join(CG_ROOT, "fcvm-" + TAG)
TMP = tempfile.mkdtemp(prefix="fcvm-bridged-")
ENV = dict(os.environ, FCVM_DATA_DIR=os.path.join(TMP, "data"), FCVM_LOG="warn")
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
SOCK_LOCK = threading.RLock()  # cgroup moves are per process: one at a time


def sh(*argv, ok=True):
    r = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    if ok and r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


@contextmanager
def netns(name):
    """Sockets created inside belong to netns NAME (this thread only)."""
    me = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        libc.setns(me, CLONE_NEWNET)
        os.close(me)
        os.close(target)


@contextmanager
def in_cgroup(path):
    """Sockets created inside are charged to cgroup PATH (local clients)."""
    orig = CG_ROOT + open("/proc/self/cgroup").read().split("0::", 1)[1].split("\n")[0]
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    try:
        yield
    finally:
        with open(os.path.join(orig, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


def setup():
    for ns in (NS_H, NS_G, NS_C):
        sh("ip", "netns", "add", ns)
    sh("ip", "-n", NS_H, "link", "add", "vg", "type", "veth", "peer", "name", "eth0",
       "netns", NS_G)
    sh("ip", "-n", NS_H, "link", "add", "vc", "type", "veth", "peer", "name", "eth0",
       "netns", NS_C)
    for ns, dev, addr in ((NS_H, "vg", "10.231.1.1/24"), (NS_H, "vc", PUB + "/24"),
                          (NS_G, "eth0", GUEST + "/24"), (NS_C, "eth0", CLIENT + "/24")):
        sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", NS_G, "route", "add", "default", "via", "10.231.1.1")
    sh("ip", "netns", "exec", NS_H, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    os.mkdir(CG)


def teardown():
    for ns in (NS_H, NS_G, NS_C):
        sh("ip", "netns", "del", ns, ok=False)
    if os.path.isdir(CG):
        os.rmdir(CG)
    shutil.rmtree(TMP, ignore_errors=True)


class UdpEcho:
    def __init__(self, port):
        with netns(NS_G):
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((GUEST, port))
        self.peers = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                b, a = self.s.recvfrom(65536)
            except OSError:
                return
            self.peers.append(a)
            self.s.sendto(b, a)


def guest_server(handler, port):
    with netns(NS_G):
        srv = Server(handler, addr=GUEST)
    # Server() bound an ephemeral port; rebind the fixed guest port.
    srv.close()
    with netns(NS_G):
        s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((GUEST, port))
    s.listen(1024)
    srv.sock, srv.port, srv.stopped = s, port, False
    srv.t = threading.Thread(target=srv._loop, daemon=True)
    srv.t.start()
    return srv


PEERS = []


def record_peer(c):
    PEERS.append(c.getpeername()[0])
    echo(c)


ECHO = None
SPECS = ["%s:8080:80" % PUB, "%s:8081:81" % PUB, "%s:5353:53/udp" % PUB]


def start_nat(backend):
    argv = ["nsenter", "--net=/run/netns/" + NS_H, FCVM, "portfwd", "nat", "--id", "vm-" + backend,
            "--guest", GUEST, "--ifname", "vc", "--cgroup", CG, "--nat", backend]
    for s in SPECS:
        argv += ["-p", s]
    p = Proc(argv, env=ENV, preexec=die_with_parent)
    check(p.lines[-3] == "nat " + backend, "backend: %r" % p.lines)
    p.ids = [int(x) for x in p.lines[-2].split()[1:]]
    check((backend == "bpf") == bool(p.ids), "BPF ids %r" % p.ids)
    return p


def local_sock(kind=socket.SOCK_STREAM):
    with SOCK_LOCK, netns(NS_H), in_cgroup(CG):
        return socket.socket(socket.AF_INET, kind)


def fwd_sock(kind=socket.SOCK_STREAM):
    with SOCK_LOCK, netns(NS_C):
        return socket.socket(socket.AF_INET, kind)


def connect(mk, port=8080):
    s = mk()
    s.settimeout(10)
    s.connect((PUB, port))
    return s


def tc_filters():
    out = ""
    for d in ("ingress", "egress"):
        out += sh("ip", "netns", "exec", NS_H, "tc", "filter", "show", "dev", "vc", d).stdout
    return out.strip()


def nft_tables():
    return sh("ip", "netns", "exec", NS_H, "nft", "list", "tables").stdout


def gone(p):
    """Nothing of NAT p is left: programs, maps, tc filters, nft table, record."""
    deadline = time.monotonic() + 5
    while True:
        live = [i for i in p.ids if
                sh("bpftool", "prog", "show", "id", str(i), ok=False).returncode == 0 or
                sh("bpftool", "map", "show", "id", str(i), ok=False).returncode == 0]
        left = (live, tc_filters(), "fcvm_vm" in nft_tables(),
                os.listdir(os.path.join(TMP, "data", "nat")))
        if left == ([], "", False, []) or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def suite(backend):
    def tcp_echo_local_and_forwarded():
        for i, n in enumerate([0, 1, 65537, 8 << 20]):
            for mk in (local_sock, fwd_sock):
                echo_via(mk, n, i)
        check(CLIENT in PEERS, "forwarded client's address not preserved: %r" % PEERS[-4:])

    def getpeername_shows_published():
        for mk in (local_sock, fwd_sock):
            s = connect(mk)
            check(s.getpeername() == (PUB, 8080), "getpeername %r" % (s.getpeername(),))
            s.close()

    def guest_speaks_first_and_half_close():
        for mk in (local_sock, fwd_sock):
            s = connect(mk, 8082)
            check(s.recv(5) == b"hello", "no banner")
            s.sendall(b"abc")
            s.shutdown(socket.SHUT_WR)
            check(s.recv(10) == b"3", "no reply after half-close")
            s.close()

    def rst_both_ways():
        for mk in (local_sock, fwd_sock):
            s = connect(mk, 8083)
            s.sendall(b"reset me")
            try:
                r = s.recv(10)
            except ConnectionResetError:
                r = "rst"
            check(r == "rst", "client saw %r, want a reset" % r)
            s.close()

    def udp_local_and_forwarded():
        for mk in (local_sock, fwd_sock):
            u = mk(socket.SOCK_DGRAM)
            u.settimeout(5)
            u.sendto(b"ping", (PUB, 5353))
            b, a = u.recvfrom(100)
            check(b == b"ping" and a == (PUB, 5353), "unconnected reply %r from %r" % (b, a))
            u.connect((PUB, 5353))
            u.send(b"pong")
            check(u.recv(100) == b"pong", "connected UDP")
            check(u.getpeername() == (PUB, 5353), "UDP getpeername %r" % (u.getpeername(),))
            u.close()

    def concurrent_200():
        errs = []

        def one(i):
            try:
                echo_via(local_sock if i % 2 else fwd_sock, 65536 + i, 500 + i)
            except Exception as e:  # noqa: BLE001
                errs.append(repr(e))

        # sockets are made in this thread (netns/cgroup are per thread/process)
        ts = [threading.Thread(target=one, args=(i,)) for i in range(200)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(not errs, "%d failed: %s" % (len(errs), errs[:3]))

    def guest_port_not_listening():
        for mk in (local_sock, fwd_sock):
            try:
                connect(mk, 8081).close()
                check(False, "connect to a port nobody listens on succeeded")
            except ConnectionRefusedError:
                pass

    def exit_removes_everything():
        check(NAT[0].stop() == 0, "exit status")
        left = gone(NAT[0])
        check(left == ([], "", False, []), "left after exit: %r" % (left,))
        try:
            connect(local_sock).close()
            check(False, "published port still translated after exit")
        except (ConnectionRefusedError, socket.timeout, OSError):
            pass

    def sigkill_then_cleanup():
        p = start_nat(backend)
        p.stop(signal.SIGKILL)
        if backend == "bpf":
            check(tc_filters() != "", "tc filters should outlive a SIGKILLed fcvm")
        else:
            check("fcvm_vm" in nft_tables(), "nft table should outlive a SIGKILLed fcvm")
        r = sh("nsenter", "--net=/run/netns/" + NS_H, FCVM, "portfwd", "cleanup")
        check(r.stdout.strip() == "reaped 1", "cleanup said %r" % r.stdout)
        left = gone(p)
        check(left == ([], "", False, []), "left after SIGKILL + cleanup: %r" % (left,))

    NAT = []

    def start():
        NAT.append(start_nat(backend))

    tests = [start, tcp_echo_local_and_forwarded, getpeername_shows_published,
             guest_speaks_first_and_half_close, rst_both_ways, udp_local_and_forwarded,
             concurrent_200, guest_port_not_listening, exit_removes_everything,
             sigkill_then_cleanup]
    for t in tests:
        t.__name__ = backend + "_" + t.__name__
    return tests




def echo_via(mk, n, seed):
    s = mk()
    echo_roundtrip((PUB, 8080), n, seed, sock=s)


def banner(c):
    c.sendall(b"hello")
    data = b""
    while True:
        b = c.recv(100)
        if not b:
            break
        data += b
    c.sendall(b"%d" % len(data))


def resetter(c):
    import struct
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root for namespaces, cgroups, BPF and nftables")
        return 4
    if not cgroup2_root():
        print("1..0 # SKIP no cgroup v2 mounted for the local-client hooks")
        return 4
    try:
        setup()
        guest_server(record_peer, 80)
        guest_server(banner, 82)
        guest_server(resetter, 83)
        UdpEcho(53)
        global SPECS
        SPECS = SPECS + ["%s:8082:82" % PUB, "%s:8083:83" % PUB]
        tap = Tap(suite("bpf") + suite("nft"))
        return tap.run()
    finally:
        teardown()


if __name__ == "__main__":
    sys.exit(main())
