# SPDX-License-Identifier: GPL-2.0
"""pftest - helpers shared by the port-publishing tests: TAP output, child
processes that die with the test, echo/sink servers, checksummed transfers."""
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

BUILD = os.environ.get("BUILD") or os.path.join(os.path.dirname(__file__), "../../build")
FCVM = os.path.join(BUILD, "fcvm")
AGENT = os.path.join(BUILD, "fc-agent")
PEER = os.path.join(BUILD, "selftests/portfwd/hvsock_peer")


class Tap:
    """Runs test functions, prints TAP; a failing test prints its traceback."""

    def __init__(self, tests):
        self.tests = tests
        self.failed = 0

    def run(self):
        print("1..%d" % len(self.tests), flush=True)
        for i, fn in enumerate(self.tests, 1):
            name = fn.__name__
            t0 = time.monotonic()
            try:
                skip = fn()
                if skip:
                    print("ok %d %s # SKIP %s" % (i, name, skip), flush=True)
                else:
                    print("ok %d %s  # %.2fs" % (i, name, time.monotonic() - t0), flush=True)
            except Exception:  # noqa: BLE001 - every failure is reported
                self.failed += 1
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
                print("not ok %d %s" % (i, name), flush=True)
        return 1 if self.failed else 0


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Proc:
    """A child that prints 'ready' (or a given line prefix) when set up."""

    def __init__(self, argv, env=None, wait_for="ready", timeout=10, preexec=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=None, env=env,
                                  text=True, preexec_fn=preexec)
        self.lines = []
        if wait_for:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                line = self.p.stdout.readline()
                if not line:
                    raise RuntimeError("%s exited (%s) before '%s'" %
                                       (argv[0], self.p.wait(), wait_for))
                self.lines.append(line.rstrip("\n"))
                if line.startswith(wait_for):
                    return
            raise RuntimeError("%s: no '%s' in %ds" % (argv[0], wait_for, timeout))

    @property
    def pid(self):
        return self.p.pid

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise AssertionError("%s ignored signal %d" % (self.argv[0], sig))
        finally:
            if self.p.stdout:
                self.p.stdout.close()


def wait_path(path, timeout=5):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("%s did not appear" % path)
        time.sleep(0.01)


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_kinds(pid):
    """(sockets, pipes, others) open in process pid."""
    kinds = [0, 0, 0]
    d = "/proc/%d/fd" % pid
    for f in os.listdir(d):
        try:
            t = os.readlink(os.path.join(d, f))
        except OSError:
            continue
        kinds[0 if t.startswith("socket:") else 1 if t.startswith("pipe:") else 2] += 1
    return tuple(kinds)


# The relay keeps up to this many empty pipes (2 fds each) for reuse.
RELAY_PIPE_POOL = 64


class Server:
    """A TCP server on ADDR:0 running handler(conn) per connection in a thread."""

    def __init__(self, handler, addr="127.0.0.1", family=socket.AF_INET):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.errors = []
        self.conns = 0
        self.stopped = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            self.handler(c)
        except Exception as e:  # noqa: BLE001 - collected for the test
            self.errors.append(repr(e))
        finally:
            c.close()

    def close(self):
        self.stopped = True
        self.sock.close()


def echo(c):
    while True:
        b = c.recv(1 << 20)
        if not b:
            c.shutdown(socket.SHUT_WR)
            return
        c.sendall(b)


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def stream(n, seed, chunk=1 << 20):
    """Yields n pseudo-random bytes in chunks (large sizes without one buffer)."""
    r = random.Random(seed)
    left = n
    while left:
        k = min(chunk, left)
        yield r.randbytes(k)
        left -= k


def echo_roundtrip(addr, n, seed, timeout=60, sock=None):
    """Sends n bytes, half-closes, reads the echo: compares sha256 both ways.
    sock: an unconnected socket to use (made in a netns or cgroup)."""
    if sock is None:
        s = socket.create_connection(addr, timeout=timeout)
    else:
        s = sock
        s.settimeout(timeout)
        s.connect(addr)
    sent = hashlib.sha256()
    err = []

    def writer():
        try:
            for b in stream(n, seed):
                sent.update(b)
                s.sendall(b)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=writer)
    t.start()
    got = hashlib.sha256()
    total = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got.update(b)
        total += len(b)
    t.join()
    s.close()
    check(not err, "writer failed: %r" % err)
    check(total == n, "echo length %d != %d" % (total, n))
    check(got.digest() == sent.digest(), "echo checksum differs (%d bytes)" % n)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test dies."""
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def fail_exit(msg):
    print("Bail out! " + msg, flush=True)
    sys.exit(1)
