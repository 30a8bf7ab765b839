#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""rootless_test - fcvm's rootless port publishing end to end on the host:

  client --TCP--> fcvm portfwd run --UDS--> hvsock_peer (stands in for the
  VMM's hybrid vsock) --UDS--> fc-agent portfwd --TCP--> server on 127.0.0.1

Everything runs on loopback and Unix sockets in a temporary directory."""
import hashlib
import os
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # nothing generated next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pftest import (AGENT, FCVM, PEER, Proc, Server, Tap, check, die_with_parent,  # noqa: E402
                    echo, echo_roundtrip, fd_kinds, nfds, rand_bytes, stream, wait_path,
                    RELAY_PIPE_POOL)

TMP = tempfile.mkdtemp(prefix="fcvm-portfwd-")
ENV = dict(os.environ, FCVM_DATA_DIR=os.path.join(TMP, "data"), FCVM_LOG="warn")
VSOCK = os.path.join(TMP, "vsock.sock")
procs = []


def start(argv, **kw):
    p = Proc(argv, env=ENV, preexec=die_with_parent, **kw)
    procs.append(p)
    return p


def agent(port, target=None):
    path = os.path.join(TMP, "guest_%d.sock" % (65536 + port))
    argv = [AGENT, "portfwd", "--port", str(port), "--listen", "unix:" + path, "--hup-reset"]
    if target:
        argv += ["--target", target]
    p = start(argv, wait_for=None)
    wait_path(path)
    return p


def forwarder(specs, vm_id="vm1", vsock=VSOCK, extra=(), hup_reset=True):
    """hup_reset: the stand-in VMM keeps half-close, like fcvm's own device."""
    argv = [FCVM, "portfwd", "run", "--vsock", vsock, "--id", vm_id]
    if hup_reset:
        argv.append("--hup-reset")
    for s in specs:
        argv += ["-p", s]
    p = start(argv + list(extra))
    addrs = []
    for line in p.lines:
        if line.startswith("listening "):
            host, port = line.split()[1].rsplit(":", 1)
            addrs.append((host, int(port)))
    return p, addrs


def published(handler):
    """A server, its agent and a forwarder for it: returns (server, addr, fwd)."""
    srv = Server(handler)
    agent(srv.port)
    fwd, addrs = forwarder(["0:%d" % srv.port])
    return srv, addrs[0], fwd


PEER_P = start([PEER, "--listen", VSOCK, "--guest-dir", TMP])
ECHO, ECHO_ADDR, ECHO_FWD = published(echo)


def test_echo_sizes_to_256m():
    sizes = [0, 1, 4095, 65536, 65537, 1 << 20, 3_333_333, 9_876_543, 256 << 20]
    for i, n in enumerate(sizes):
        echo_roundtrip(ECHO_ADDR, n, seed=i)
    check(not ECHO.errors, "server errors: %r" % ECHO.errors)


def test_guest_speaks_first():
    banner = rand_bytes(100_000, 7)

    def speak(c):
        c.sendall(banner)
        check(c.recv(3) == b"bye", "no bye")

    srv, addr, _ = published(speak)
    s = socket.create_connection(addr, timeout=10)
    got = b""
    while len(got) < len(banner):
        b = s.recv(65536)
        check(b, "EOF before the banner ended")
        got += b
    check(got == banner, "banner differs")
    s.sendall(b"bye")
    check(s.recv(10) == b"", "no EOF after the server closed")
    s.close()
    srv.close()
    check(not srv.errors, "server errors: %r" % srv.errors)


def test_half_close():
    def digest(c):
        h = hashlib.sha256()
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h.update(b)
        c.sendall(h.digest())

    srv, addr, _ = published(digest)
    data = rand_bytes(1 << 20, 3)
    s = socket.create_connection(addr, timeout=10)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(64)
        if not b:
            break
        reply += b
    check(reply == hashlib.sha256(data).digest(),
          "reply after half-close: %r" % reply[:8])
    s.close()
    srv.close()


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_rst_client_to_guest():
    seen = []
    got = threading.Event()

    def reader(c):
        c.settimeout(10)
        try:
            while c.recv(65536):
                pass
            seen.append("eof")
        except ConnectionResetError:
            seen.append("rst")
        got.set()

    srv, addr, _ = published(reader)
    s = socket.create_connection(addr, timeout=10)
    s.sendall(b"x" * 1000)
    time.sleep(0.2)  # let the bytes reach the server before the reset
    linger0(s)
    s.close()
    check(got.wait(10), "the server saw nothing")
    check(seen == ["rst"], "server saw %r, want a reset" % seen)
    srv.close()


def test_rst_guest_to_client():
    def resetter(c):
        c.recv(5)
        linger0(c)

    srv, addr, _ = published(resetter)
    s = socket.create_connection(addr, timeout=10)
    s.sendall(b"hello")
    try:
        while s.recv(100):
            pass
        result = "eof"
    except ConnectionResetError:
        result = "rst"
    check(result == "rst", "client saw %s, want a reset" % result)
    s.close()
    srv.close()


def test_slow_reader_bounded():
    go = threading.Event()
    h_got = hashlib.sha256()

    def slow(c):
        go.wait(60)
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h_got.update(b)
        c.sendall(b"done")

    srv, addr, fwd = published(slow)
    s = socket.create_connection(addr, timeout=10)
    s.setblocking(False)
    h_sent = hashlib.sha256()
    sent, stalled = 0, None
    chunk = rand_bytes(1 << 16, 5)
    while True:
        try:
            n = s.send(chunk)
            h_sent.update(chunk[:n])
            sent += n
            stalled = None
            check(sent < (64 << 20), "sent %d bytes to a reader that reads nothing" % sent)
        except BlockingIOError:
            if stalled is None:
                stalled = time.monotonic()
            elif time.monotonic() - stalled > 1.0:
                break
            time.sleep(0.01)
    # Every queue on the way is bounded: client socket, relay pipes, sockets.
    check(sent < (48 << 20), "%d bytes queued for a stalled reader" % sent)
    rss_kb = int([line for line in open("/proc/%d/status" % fwd.pid)
                  if line.startswith("VmRSS")][0].split()[1])
    check(rss_kb < 200_000, "forwarder RSS %d KiB" % rss_kb)
    go.set()
    s.setblocking(True)
    s.shutdown(socket.SHUT_WR)
    check(s.recv(4) == b"done", "no reply after draining")
    check(h_got.digest() == h_sent.digest(), "data differs after the stall")
    s.close()
    srv.close()


def test_200_concurrent():
    errs = []

    def one(i):
        try:
            echo_roundtrip(ECHO_ADDR, 256 * 1024 + i, seed=1000 + i, timeout=60)
        except Exception as e:  # noqa: BLE001
            errs.append(repr(e))

    ts = [threading.Thread(target=one, args=(i,)) for i in range(200)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errs, "%d of 200 failed: %s" % (len(errs), errs[:3]))


def expect_clean_close(addr):
    s = socket.create_connection(addr, timeout=5)
    t0 = time.monotonic()
    b = s.recv(10)
    check(b == b"", "got %r, want EOF" % b)
    check(time.monotonic() - t0 < 3, "close took %.1fs" % (time.monotonic() - t0))
    s.close()


def test_guest_port_not_listening():
    # Nothing listens on vsock 65536+P: the VMM closes the handshake.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free = probe.getsockname()[1]
    _, addrs = forwarder(["0:%d" % free], vm_id="vm-nolisten")
    expect_clean_close(addrs[0])
    # The agent listens but nothing listens on 127.0.0.1:P in the guest.
    agent(free)
    expect_clean_close(addrs[0])
    probe.close()


def test_handshake_timeout_and_cap():
    mute = os.path.join(TMP, "mute.sock")
    start([PEER, "--listen", mute, "--guest-dir", TMP, "--mute"])
    fwd, addrs = forwarder(["0:80"], vm_id="vm-mute", vsock=mute,
                           extra=["--max-pending", "2", "--handshake-ms", "300"])
    t0 = time.monotonic()
    socks = [socket.create_connection(addrs[0], timeout=10) for _ in range(6)]
    for s in socks:
        check(s.recv(10) == b"", "a handshake that is never answered must close")
        s.close()
    took = time.monotonic() - t0
    # 6 clients, 2 at a time, 300 ms each: at least 3 rounds.
    check(0.8 < took < 8, "6 timed-out handshakes took %.2fs" % took)
    fwd.stop()


def test_no_fd_leak_10000():
    pids = (ECHO_FWD.pid, PEER_P.pid)
    base = [fd_kinds(p) for p in pids]
    errs = []

    def worker(k):
        try:
            for i in range(2500):
                s = socket.create_connection(ECHO_ADDR, timeout=10)
                s.sendall(b"%d" % i)
                s.shutdown(socket.SHUT_WR)
                check(s.recv(16) == b"%d" % i, "bad echo")
                s.close()
        except Exception as e:  # noqa: BLE001
            errs.append(repr(e))

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errs, "connections failed: %s" % errs[:3])

    def settled():
        now = [fd_kinds(p) for p in pids]
        # sockets and other fds exactly as before; pipes only within the pool
        return now, all(n[0] == b[0] and n[2] == b[2] and
                        b[1] <= n[1] <= b[1] + 2 * RELAY_PIPE_POOL
                        for n, b in zip(now, base))

    deadline = time.monotonic() + 5
    now, ok = settled()
    while not ok and time.monotonic() < deadline:
        time.sleep(0.05)
        now, ok = settled()
    check(ok, "fds (sockets, pipes, other) of forwarder and peer: %r before, %r after" %
          (base, now))


def test_loopback_per_vm():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    hp = probe.getsockname()[1]
    probe.close()
    a, aa = forwarder(["%d:%d" % (hp, ECHO.port)], vm_id="vmA")
    b, ba = forwarder(["%d:%d" % (hp, ECHO.port)], vm_id="vmB")
    check(aa[0][1] == ba[0][1] == hp, "host port not honoured: %r %r" % (aa, ba))
    check(aa[0][0] != ba[0][0], "two VMs got the same address %s" % aa[0][0])
    check(all(x[0].startswith("127.10.") for x in (aa[0], ba[0])), "%r %r" % (aa, ba))
    for addr in (aa[0], ba[0]):
        echo_roundtrip(addr, 1000, seed=1)
    c, ca = forwarder(["127.0.0.1:0:%d" % ECHO.port], vm_id="vmC")
    check(ca[0][0] == "127.0.0.1", "explicit IP not honoured: %r" % ca)
    echo_roundtrip(ca[0], 1000, seed=2)
    # A killed owner's address is reused; a stopped one's is released.
    a.stop(signal.SIGKILL)
    d, da = forwarder(["0:%d" % ECHO.port], vm_id="vmD")
    check(da[0][0] == aa[0][0], "stale address %s not reused (got %s)" % (aa[0][0], da[0][0]))
    for p in (b, c, d):
        check(p.stop() == 0, "forwarder exit status")
    check(not set(records()) & {"vmA", "vmB", "vmC", "vmD"}, "records left: %r" % records())


def records():
    d = os.path.join(TMP, "data", "loopback")
    return {open(os.path.join(d, f)).read().split()[0]: f
            for f in os.listdir(d) if not f.startswith(".")}


def test_vmm_full_close_is_eof():
    """A VMM that turns a guest close into a full close of the Unix socket
    (Firecracker): without --hup-reset every byte and then EOF arrive. The
    test plays that VMM itself: handshake, 8 MiB, close()."""
    vmm_path = os.path.join(TMP, "fc-like.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(vmm_path)
    lsock.listen(8)
    data = rand_bytes(8 << 20, 11)
    seen = []

    def vmm():
        c, _ = lsock.accept()
        line = b""
        while not line.endswith(b"\n"):
            line += c.recv(1)
        seen.append(line)
        c.sendall(b"OK 1073741824\n" + data)
        c.close()  # a full close right after the data

    t = threading.Thread(target=vmm)
    t.start()
    fwd, addrs = forwarder(["0:1999"], vm_id="vm-fc", vsock=vmm_path, hup_reset=False)
    s = socket.create_connection(addrs[0], timeout=10)
    got = bytearray()
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += b
    t.join()
    check(seen == [b"CONNECT %d\n" % (65536 + 1999)], "handshake %r" % seen)
    check(bytes(got) == data, "got %d of %d bytes" % (len(got), len(data)))
    s.close()
    lsock.close()
    check(fwd.stop() == 0, "forwarder exit status")


def test_exit_tears_down():
    fwd, addrs = forwarder(["0:%d" % ECHO.port], vm_id="vm-exit")
    peer_base = fd_kinds(PEER_P.pid)[0]
    socks = [socket.create_connection(addrs[0], timeout=10) for _ in range(20)]
    for s in socks:
        s.sendall(b"ping")
        check(s.recv(4) == b"ping", "no echo")
    check(fwd.stop() == 0, "forwarder exit status")
    for s in socks:
        try:
            b = s.recv(10)
        except ConnectionResetError:
            b = b""
        check(b == b"", "connection still alive after the forwarder exited")
        s.close()
    try:
        socket.create_connection(addrs[0], timeout=2).close()
        check(False, "listener still accepts after exit")
    except ConnectionRefusedError:
        pass
    deadline = time.monotonic() + 5
    while fd_kinds(PEER_P.pid)[0] != peer_base and time.monotonic() < deadline:
        time.sleep(0.05)
    check(fd_kinds(PEER_P.pid)[0] == peer_base, "the VM side kept %d sockets of the connections"
          % (fd_kinds(PEER_P.pid)[0] - peer_base))
    check("vm-exit" not in records(), "loopback address not released")


def main():
    tap = Tap([test_echo_sizes_to_256m, test_guest_speaks_first, test_half_close,
               test_rst_client_to_guest, test_rst_guest_to_client,
               test_slow_reader_bounded, test_200_concurrent,
               test_guest_port_not_listening, test_handshake_timeout_and_cap,
               test_no_fd_leak_10000, test_loopback_per_vm, test_vmm_full_close_is_eof,
               test_exit_tears_down])
    try:
        rc = tap.run()
    finally:
        for p in reversed(procs):
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait()
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
