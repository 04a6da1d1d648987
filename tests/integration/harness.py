"""harness - integration tests drive postern as an administrator would.

Each test is a function decorated with @test; run() prints "PASS file:name"
or the traceback indented and "FAIL file:name", which tests/run.sh counts.
Instances live in fresh temporary directories on 127.0.0.1 port bases that
no other test uses, all below 32768 - 100: Linux gives client sockets
source ports from 32768 up, so a listener there can find its port taken by
some other test's connection; every process a test starts is stopped by PID.
"""
import base64
import os
import re
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("POSTERN_BIN", os.path.join(TOP, "bin"))
POSTERN = os.path.join(BIN, "postern")
IS_ROOT = os.geteuid() == 0

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


def skip(reason):
    raise SkipTest(reason)


class SkipTest(Exception):
    pass


def run():
    name = os.path.basename(sys.argv[0])
    failed = 0
    only = sys.argv[1:]
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
            print("PASS %s:%s" % (name, fn.__name__), flush=True)
        except SkipTest as e:
            print("SKIP %s:%s (%s)" % (name, fn.__name__, e), flush=True)
        except Exception:
            failed += 1
            for line in traceback.format_exc().splitlines():
                print("    " + line)
            print("FAIL %s:%s" % (name, fn.__name__), flush=True)
        finally:
            Instance.cleanup_all()
    sys.exit(1 if failed else 0)


def wait_for(cond, timeout=10.0, step=0.05, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


def log_has(inst, pattern, timeout=20.0):
    """The log is written by the master's collector a moment after the
    event: wait (bounded) for a line matching pattern."""
    return wait_for(lambda: re.search(pattern, inst.log()), timeout=timeout,
                    what="log line " + pattern)


def queue_empty(inst):
    """No message in the queue's new/, active/ or deferred/."""
    return all(not os.listdir(inst.path("spool", d))
               for d in ("new", "active", "deferred"))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid line for pid %d" % pid)


class Instance:
    """A postern instance in a temporary directory."""
    live = []

    def __init__(self, port_base, domain="example.test", init=True, env=None):
        self.tmp = tempfile.mkdtemp(prefix="postern-it.")
        os.chmod(self.tmp, 0o755)
        self.dir = os.path.join(self.tmp, "inst")
        self.conf = os.path.join(self.dir, "etc", "postern.conf")
        assert port_base + 100 <= 32768, "port base in the ephemeral range"
        self.port_base = port_base
        self.domain = domain
        self.env = dict(os.environ)
        self.env.pop("POSTERN_CONF", None)
        if env:
            self.env.update(env)
        self.pids = set()
        Instance.live.append(self)
        if init:
            r = self.run_postern("init", self.dir, "--domain", domain,
                                 "--hostname", "mail." + domain,
                                 "--port-base", str(port_base), conf=False)
            assert r.returncode == 0, r.stderr

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_postern(self, *args, input=None, conf=True, timeout=90):
        cmd = [POSTERN] + (["-c", self.conf] if conf else []) + list(args)
        return subprocess.run(cmd, input=input, capture_output=True,
                              text=True, timeout=timeout, env=self.env)

    def ok(self, *args, input=None):
        r = self.run_postern(*args, input=input)
        assert r.returncode == 0, "postern %s: exit %d\n%s%s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr)
        return r

    def add_user(self, addr, password):
        return self.ok("user", "add", addr, input=password + "\n")

    def start(self):
        r = self.ok("start")
        self.remember_pids()
        return r

    def stop(self):
        r = self.run_postern("stop")
        return r

    def master_pid(self):
        try:
            with open(self.path("spool", "pid", "master.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def status_lines(self):
        """[(service, pid, state)] from the master's status file."""
        try:
            with open(self.path("spool", "pid", "status")) as f:
                rows = [l.split() for l in f if l.strip()]
        except OSError:
            return []
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def service_pids(self, service, state=None):
        return [p for s, p, st in self.status_lines()
                if s == service and (state is None or st == state)]

    def remember_pids(self):
        mp = self.master_pid()
        if mp:
            self.pids.add(mp)
        for _, p, _ in self.status_lines():
            self.pids.add(p)

    def log(self):
        try:
            with open(self.path("log", "postern.log")) as f:
                return f.read()
        except OSError:
            return ""

    def auth(self):
        return AuthClient(self.path("spool", "private", "auth"))

    def cleanup(self):
        self.remember_pids()
        if self.master_pid() and pid_alive(self.master_pid()):
            try:
                self.run_postern("stop", timeout=60)
            except Exception:
                pass
        for p in self.pids:
            if pid_alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    @classmethod
    def cleanup_all(cls):
        while cls.live:
            cls.live.pop().cleanup()


class AuthClient:
    """A client of the auth service's line protocol (postern-auth(8))."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def request(self, *fields):
        self.s.sendall(("\t".join(fields) + "\n").encode())
        line = self.f.readline()
        return line.decode().rstrip("\n")

    def lookup(self, addr):
        return self.request("LOOKUP", addr)

    def verify(self, addr, password, service="smtp", ip="127.0.0.1"):
        b64 = base64.b64encode(password.encode()).decode()
        return self.request("VERIFY", service, ip, addr, b64)

    def close(self):
        self.f.close()
        self.s.close()


def inject(inst, sender, rcpts, body):
    """Queue body through the injector's protocol (postern-inject(8)), as
    smtpd does; the queue id. The injector must answer OK."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(inst.path("spool", "private", "inject"))
    data = ("SENDER\t%s\n" % sender).encode()
    data += "".join("RCPT\t%s\n" % r for r in rcpts).encode() + b"DATA\n"
    for k in range(0, len(body), 1000):
        part = body[k:k + 1000]
        data += b"%d\n" % len(part) + part
    s.sendall(data + b"0\n")
    ans = s.makefile("rb").readline().decode().rstrip("\n")
    s.close()
    assert ans.startswith("OK\t"), ans
    return ans.split("\t", 1)[1]


def qmgr_command(inst, line):
    """One command to the queue manager (postern-qmgr(8)); its answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(inst.path("spool", "private", "qmgr"))
    s.sendall(line.encode() + b"\n")
    ans = s.makefile("rb").readline().decode().rstrip("\n")
    s.close()
    return ans
