"""The master's death and an instance's processes without their master;
the children's environment; root's setup refusing planted symlinks.

A kill -9 of the master used to leave its ~40 children running and holding
the listening sockets: "postern start" failed with "Address already in
use", "postern status" and "postern stop" said "not running", and the
failed start re-created the sockets in private/ under the orphans' feet.
"""
import os
import signal
import socket
import stat
import tempfile
import threading
import time

from harness import (BIN, IS_ROOT, Instance, pid_alive, run, skip, test,
                     wait_for)

USER = "alice@example.test"


def smtp_one(port, token):
    """One message in one session; the reply code to the end of DATA, or
    None when the session failed before it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise OSError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3])

    try:
        if reply() != 220:
            return None
        for cmd, want in ((b"EHLO client.example", 250),
                          (b"MAIL FROM:<s@example.test>", 250),
                          (b"RCPT TO:<%s>" % USER.encode(), 250),
                          (b"DATA", 354)):
            s.sendall(cmd + b"\r\n")
            if reply() != want:
                return None
        s.sendall(b"From: s@example.test\r\nTo: %s\r\nSubject: token %s"
                  b"\r\n\r\nbody %s\r\n.\r\n" % (USER.encode(),
                                                 token.encode(),
                                                 token.encode()))
        code = reply()
        s.sendall(b"QUIT\r\n")
        return code
    finally:
        s.close()


class Sender(threading.Thread):
    """Sends messages one session each, each with its own token, until
    told to stop; remembers the tokens that got a 250."""

    def __init__(self, port, name):
        super().__init__(daemon=True)
        self.port = port
        self.prefix = name
        self.accepted = []
        self.stop = threading.Event()

    def run(self):
        for k in range(100000):
            if self.stop.is_set():
                break
            token = "%s-%d" % (self.prefix, k)
            try:
                code = smtp_one(self.port, token)
            except OSError:
                code = None
            if code == 250:
                self.accepted.append(token)
            else:
                time.sleep(0.05)


def delivered_tokens(i):
    """token -> number of copies in alice's Maildir (new/ and cur/)."""
    counts = {}
    base = i.path("mail", "example.test", "alice")
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            try:
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for line in data.split(b"\n"):
                if line.startswith(b"Subject: token "):
                    t = line[15:].strip().decode()
                    counts[t] = counts.get(t, 0) + 1
                    break
    return counts


def child_pids(i):
    return [p for _, p, _ in i.status_lines()]


@test
def master_killed_under_load_children_go_and_start_succeeds():
    i = Instance(19000)
    i.add_user(USER, "pw")
    i.start()
    senders = [Sender(19025, "s%d" % k) for k in range(3)]
    for s in senders:
        s.start()
    try:
        wait_for(lambda: sum(len(s.accepted) for s in senders) >= 30,
                 timeout=120, what="30 messages accepted")
        old = child_pids(i)
        master = i.master_pid()
        os.kill(master, signal.SIGKILL)
        wait_for(lambda: not pid_alive(master), what="the master gone")
        # status sees the orphans, or finds them gone already
        r = i.run_postern("status")
        assert r.returncode in (1, 3), r
        print("status right after kill -9: exit %d, %d orphan line(s)" %
              (r.returncode, r.stdout.count(" orphaned -")))
        if r.returncode == 1:
            assert "the master is not running" in r.stdout, r.stdout
            assert " orphaned -" in r.stdout, r.stdout
        t0 = time.monotonic()
        r = i.run_postern("start")
        took = time.monotonic() - t0
        assert r.returncode == 0, (r.stdout, r.stderr)
        print("start after kill -9 took %.2f s" % took)
        i.remember_pids()
        for p in old:
            assert not pid_alive(p), "old child %d still runs" % p
        before = sum(len(s.accepted) for s in senders)
        wait_for(lambda: sum(len(s.accepted) for s in senders) >= before + 20,
                 timeout=120, what="mail accepted by the new instance")
    finally:
        for s in senders:
            s.stop.set()
        for s in senders:
            s.join(60)
    accepted = [t for s in senders for t in s.accepted]
    assert len(accepted) == len(set(accepted))
    wait_for(lambda: all(t in delivered_tokens(i) for t in accepted),
             timeout=180, what="every accepted message delivered")
    counts = delivered_tokens(i)
    twice = sorted(t for t, n in counts.items() if n > 1)
    assert not twice, "delivered more than once: %s" % twice[:10]
    r = i.ok("status")
    assert "master %d running" % i.master_pid() in r.stdout, r.stdout
    print("%d messages accepted, each delivered once" % len(accepted))


def fake_libexec(auth_script):
    """A libexec directory whose postern-auth is a shell script (which
    does not watch for its master's death), with the real master."""
    d = tempfile.mkdtemp(prefix="postern-fake.")
    os.chmod(d, 0o755)
    os.symlink(os.path.join(BIN, "postern-master"),
               os.path.join(d, "postern-master"))
    p = os.path.join(d, "postern-auth")
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + auth_script)
    os.chmod(p, 0o755)
    return d


# leaves on SIGTERM (after the sleep in hand)
AUTH_TERM_OK = "trap 'exit 0' TERM\necho ready >&3\n" \
               "while :; do sleep 0.2; done\n"
# ignores SIGTERM (so do the sleeps it starts)
AUTH_TERM_IGNORED = "trap '' TERM\necho ready >&3\n" \
                    "while :; do sleep 0.2; done\n"


@test
def stop_and_status_see_processes_without_their_master():
    d = fake_libexec(AUTH_TERM_OK)
    i = Instance(19100, env={"POSTERN_LIBEXEC": d})
    i.start()
    auth = i.service_pids("auth")[0]
    os.kill(i.master_pid(), signal.SIGKILL)
    wait_for(lambda: not pid_alive(i.master_pid()), what="the master gone")
    r = i.run_postern("status")
    assert r.returncode == 1, r
    assert "the master is not running" in r.stdout, r.stdout
    assert "auth %d orphaned -" % auth in r.stdout, r.stdout
    r = i.run_postern("stop")
    assert r.returncode == 0, r
    assert "the master is not running; stopping" in r.stdout, r.stdout
    assert "postern: stopped" in r.stdout, r.stdout
    assert not pid_alive(auth), "stop left auth %d" % auth
    r = i.run_postern("status")
    assert r.returncode == 3 and "not running" in r.stdout, r


@test
def failed_start_leaves_the_orphans_sockets_alone_stop_kills_them():
    d = fake_libexec(AUTH_TERM_IGNORED)
    i = Instance(19200, env={"POSTERN_LIBEXEC": d})
    i.start()
    auth = i.service_pids("auth")[0]
    sock = i.path("spool", "private", "auth")
    before = os.stat(sock)
    os.kill(i.master_pid(), signal.SIGKILL)
    wait_for(lambda: not pid_alive(i.master_pid()), what="the master gone")
    r = i.run_postern("start")
    assert r.returncode == 1, r
    assert "still run without a master" in r.stderr, r.stderr
    assert "auth %d" % auth in r.stderr, r.stderr
    after = os.stat(sock)
    assert stat.S_ISSOCK(after.st_mode), "the socket is gone"
    assert (after.st_ino, after.st_mtime_ns) == \
        (before.st_ino, before.st_mtime_ns), "the socket was re-created"
    assert pid_alive(auth)
    assert i.run_postern("status").returncode == 1
    # it ignores SIGTERM: killed after the master's 20 s
    r = i.run_postern("stop", timeout=120)
    assert r.returncode == 0, r
    assert "killed" in r.stderr, r.stderr
    assert not pid_alive(auth)
    assert i.run_postern("status").returncode == 3
    i.ok("start")
    i.ok("stop")


ENV_ALLOWED = {"POSTERN_LISTEN_FDS", "PATH", "TZ",
               "POSTERN_INJECT_NO_TMPFILE", "POSTERN_TEST_LANDLOCK_ABI",
               "POSTERN_TEST_FORBIDDEN", "ASAN_OPTIONS", "UBSAN_OPTIONS",
               "LSAN_OPTIONS"}


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        items = [x for x in f.read().split(b"\0") if x]
    return dict(x.decode().split("=", 1) for x in items)


@test
def children_get_a_clean_environment():
    i = Instance(19400, env={"POSTERN_TEST_SECRET": "leak",
                             "LD_PRELOAD": "", "TZ": "UTC0",
                             "HOME": "/root/nowhere",
                             "POSTERN_TEST_LANDLOCK_ABI": "1"})
    i.start()
    pids = child_pids(i)
    assert len(pids) > 10, pids
    for p in pids:
        env = environ(p)
        assert set(env) <= ENV_ALLOWED, (p, sorted(set(env) - ENV_ALLOWED))
        assert env.get("TZ") == "UTC0", (p, env)
        assert env.get("PATH") == "/usr/sbin:/usr/bin:/sbin:/bin", env
        # a test hook the sandbox's test builds read is kept
        assert env.get("POSTERN_TEST_LANDLOCK_ABI") == "1", env


# ---- root's setup and planted symlinks -----------------------------------

def elsewhere(i, name):
    d = os.path.join(i.tmp, name)
    os.mkdir(d)
    os.chmod(d, 0o755)
    return d


def plant(i, rel, target):
    p = i.path(*rel.split("/"))
    if os.path.isdir(p) and not os.path.islink(p):
        os.rmdir(p)
    elif os.path.lexists(p):
        os.unlink(p)
    os.symlink(target, p)
    return p


@test
def master_refuses_symlinked_pid_and_private_dirs():
    if not IS_ROOT:
        skip("not root")
    i = Instance(19700)
    out = elsewhere(i, "pid-target")
    plant(i, "spool/pid", out)
    r = i.run_postern("start")
    assert os.listdir(out) == [], os.listdir(out)   # no master.pid there
    assert os.stat(out).st_mode & 0o7777 == 0o755
    assert r.returncode == 1, r
    assert "symbolic link" in r.stderr, r.stderr
    os.unlink(i.path("spool", "pid"))
    os.mkdir(i.path("spool", "pid"), 0o700)
    out = elsewhere(i, "private-target")
    plant(i, "spool/private", out)
    r = i.run_postern("start")
    assert os.listdir(out) == [], os.listdir(out)   # no sockets there
    assert r.returncode == 1, r
    assert "symbolic link" in r.stderr, r.stderr
    assert i.run_postern("status").returncode == 3


@test
def setup_refuses_symlinks_where_sockets_queue_and_mail_dirs_go():
    if not IS_ROOT:
        skip("not root")
    i = Instance(19800)
    target = os.path.join(i.tmp, "precious")
    with open(target, "w") as f:
        f.write("keep\n")
    os.chmod(target, 0o600)
    # a socket's name
    plant(i, "spool/private/auth", target)
    r = i.run_postern("start")
    assert r.returncode == 1 and "not a socket" in r.stderr, r.stderr
    os.unlink(i.path("spool", "private", "auth"))
    # a queue directory (made by the injector and the queue manager)
    i.ok("start")
    i.ok("stop")
    out = elsewhere(i, "deferred-target")
    plant(i, "spool/deferred", out)
    r = i.run_postern("start")
    assert r.returncode == 1 and "symbolic link" in r.stderr, r.stderr
    st = os.stat(out)
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o755), st
    # a domain's directory in mail_root, for postern user add
    os.unlink(i.path("spool", "deferred"))
    out = elsewhere(i, "domain-target")
    plant(i, "mail/example.test", out)
    r = i.run_postern("user", "add", USER, input="pw\n")
    assert r.returncode == 1, r
    st = os.stat(out)
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o755), st
    assert os.listdir(out) == []
    st = os.stat(target)
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o600), st


@test
def init_refuses_a_symlink_below_the_instance_directory():
    if not IS_ROOT:
        skip("not root")
    i = Instance(19900, init=False)
    out = elsewhere(i, "spool-target")
    os.makedirs(i.dir)
    os.chmod(i.dir, 0o755)
    os.symlink(out, i.path("spool"))
    r = i.run_postern("init", i.dir, "--domain", "example.test",
                      "--port-base", "19900", conf=False)
    assert r.returncode == 1 and "symbolic link" in r.stderr, r.stderr
    assert os.listdir(out) == []
    assert os.stat(out).st_mode & 0o7777 == 0o755


if __name__ == "__main__":
    run()
