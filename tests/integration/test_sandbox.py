#!/usr/bin/env python3
"""test_sandbox - every daemon's PRIVILEGE line enforced (Landlock and
seccomp, common/daemon/service_sandbox.h).

Checked: every process of a running instance but the master, sessions
included, is in seccomp filter mode (every thread of it) with no_new_privs
and logs its profile; each confined daemon and session, made to attempt a
call its profile forbids (socket creation, exec, ptrace), is killed by
SIGSYS, logged, and replaced, and the service works again; an open outside
a profile's paths is refused; a kernel with Landlock ABI 1 runs the daemons
that move files between directories without Landlock and mail still flows;
the injector, which cannot create sockets once confined, is replaced when
the queue manager restarts and wakes the new one.

The forbidden calls need the test build of the programs (make hooks:
bin-hooks/, POSTERN_HOOKS_BIN), armed through etc_dir/postern-test-hooks,
which a daemon reads when it starts. Port bases 25000-25400 (below the
ephemeral ports, 32768 and up, which a client connection may hold).
"""
import os
import poplib
import signal
import smtplib
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TOP, Instance, inject, qmgr_command, run, skip,  # noqa
                     test, wait_for)

HOOKS_BIN = os.environ.get("POSTERN_HOOKS_BIN", os.path.join(TOP, "bin-hooks"))
PW = "sandbox secret"
SIGSYS = 31

# profile -> the master's service names of the processes that enter it
PROFILES = {
    "auth": ["auth"],
    "inject": ["inject"],
    "qmgr": ["qmgr"],
    "local": ["local"],
    "remote": ["remote"],
    "smtpd": ["smtp", "submission", "smtps"],
    "pop3-login": ["pop3", "pop3s"],
    "pop3": ["pop3-mail"],
    "imap-login": ["imap", "imaps"],
    "imap": ["imap-mail"],
}
SESSION_PROFILES = {"smtpd": "smtpd-session",
                    "pop3-login": "pop3-login-session",
                    "imap-login": "imap-login-session"}
# the session after a POP3 login enters its own (common/mail/maildir_open.c)
POP3_SESSION = "pop3-session"


class HooksInstance(Instance):
    """An instance run by the test build of the programs."""

    def run_postern(self, *args, input=None, conf=True, timeout=90):
        import subprocess
        cmd = ([os.path.join(HOOKS_BIN, "postern")] +
               (["-c", self.conf] if conf else []) + list(args))
        return subprocess.run(cmd, input=input, capture_output=True,
                              text=True, timeout=timeout, env=self.env)

    def arm(self, text):
        path = self.path("etc", "postern-test-hooks")
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        os.chmod(path + ".tmp", 0o644)
        os.rename(path + ".tmp", path)


def need_hooks():
    if not os.access(os.path.join(HOOKS_BIN, "postern-master"), os.X_OK):
        skip("no test build in %s (make hooks)" % HOOKS_BIN)


def setup(cls, base, conf=()):
    i = cls(base)
    i.add_user("alice@example.test", PW)
    for kv in ("local_delivery_limit=1", "remote_connection_limit=1",
               "retry_min=1s", "retry_max=2s",
               "relay_host=[127.0.0.1]:%d" % (base + 99)) + tuple(conf):
        i.ok("config", "set", kv)
    return i


def status_field(pid, name, task=None):
    path = ("/proc/%d/task/%d/status" % (pid, task) if task
            else "/proc/%d/status" % pid)
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split()[1]
    except OSError:
        return None
    return None


def descendants(root):
    """Every process below root: {pid: ppid}."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    out, unvisited = {}, [root]
    while unvisited:
        p = unvisited.pop()
        for c, pp in parent.items():
            if pp == p and c not in out:
                out[c] = p
                unvisited.append(c)
    return out


def comm(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0]).decode()
    except OSError:
        return ""


def maildir_count(i, user="alice"):
    md = i.path("mail", "example.test", user)
    return sum(len(os.listdir(os.path.join(md, d))) for d in ("new", "cur"))


def smtp_to_alice(i, subject):
    s = smtplib.SMTP("127.0.0.1", i.port_base + 25, timeout=30)
    s.sendmail("s@remote.test", ["alice@example.test"],
               b"Subject: %s\n\nbody\n" % subject.encode())
    s.quit()


def imap_login(i):
    """A plaintext IMAP login from loopback: the tagged OK."""
    s = socket.create_connection(("127.0.0.1", i.port_base + 43), 30)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK ")
    s.sendall(b"a LOGIN alice@example.test \"" + PW.encode() + b"\"\r\n")
    ans = f.readline()
    f.close()
    s.close()
    return ans


def pop3_login(i):
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    p.user("alice@example.test")
    assert p.pass_(PW).startswith(b"+OK")
    return p


@test
def every_process_but_the_master_is_confined():
    i = setup(Instance, 25000)
    i.start()
    # a session of each kind open while the processes are looked at
    smtp = smtplib.SMTP("127.0.0.1", i.port_base + 25, timeout=30)
    smtp.ehlo("client.test")
    login = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
    assert login.recv(100).startswith(b"+OK")
    ilogin = socket.create_connection(("127.0.0.1", i.port_base + 43), 30)
    assert ilogin.recv(100).startswith(b"* OK")
    pop = pop3_login(i)
    pop.stat()
    master = i.master_pid()
    procs = descendants(master)
    names = {}
    for pid, ppid in procs.items():
        seccomp = status_field(pid, "Seccomp")
        if seccomp is None:
            continue            # gone meanwhile (a login after hand-over)
        names.setdefault(comm(pid), []).append((pid, ppid))
        assert seccomp == "2", (pid, comm(pid))
        assert status_field(pid, "NoNewPrivs") == "1", (pid, comm(pid))
        for t in os.listdir("/proc/%d/task" % pid):
            s = status_field(pid, "Seccomp", int(t))
            assert s in ("2", None), (pid, t, comm(pid), s)
    assert status_field(master, "Seccomp") == "0"
    # the sessions are there: a child of a daemon each, with its own
    # filter on top of the daemon's
    for prog in ("postern-smtpd", "postern-pop3-login", "postern-pop3",
                 "postern-imap-login"):
        kids = [p for p, pp in names.get(prog, []) if pp != master]
        assert kids, (prog, names)
        assert all(int(status_field(p, "Seccomp_filters") or 2) >= 2
                   for p in kids), prog
    smtp.quit()
    login.close()
    ilogin.close()
    pop.quit()
    log = i.log()
    for name in PROFILES:
        line = "sandbox=%s landlock=on abi=" % name
        assert line in log, (name, log[-3000:])
    for name, sess in SESSION_PROFILES.items():
        assert "sandbox=%s " % name in log and "sessions=%s" % sess in log


def wait_ready(i, services, old):
    """Each service has a process that is not in old, and it is up."""
    def up():
        return all([p for s2, p, st in i.status_lines()
                    if s2 == s and p not in old and st in ("ready", "busy")]
                   for s in services)
    wait_for(up, timeout=30, what="new processes of %s" % services)
    return {p for s2, p, _ in i.status_lines() if s2 in services} - old


def restart_armed(i, services, spec):
    """Restart the processes of services with spec armed; disarm at once
    (the new processes keep it); their pids."""
    i.arm("forbidden=" + spec)
    old = {p for s, p, _ in i.status_lines() if s in services}
    for p in old:
        os.kill(p, signal.SIGTERM)
    new = wait_ready(i, services, old)
    i.arm("")
    i.remember_pids()
    return new


def try_connect(path_or_port, data=b""):
    """Connect, send data, read until EOF or a timeout; what was read."""
    if isinstance(path_or_port, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path_or_port)
    else:
        s = socket.create_connection(("127.0.0.1", path_or_port), 10)
    got = b""
    try:
        if data:
            s.sendall(data)
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    return got


def killed(i, pids):
    """The pids of pids the master logged as killed by SIGSYS."""
    log = i.log()
    return {p for p in pids
            if "pid %d exited with signal %d" % (p, SIGSYS) in log}


def expect_killed_and_replaced(i, services, new, profile, call):
    wait_for(lambda: killed(i, new), timeout=30,
             what="%s killed by SIGSYS" % profile)
    log = i.log()
    assert ("test hook: sandbox=%s attempting forbidden %s" %
            (profile, call)) in log, log[-2000:]
    assert "was not stopped" not in log
    wait_ready(i, services, new)


@test
def forbidden_calls_are_stopped_and_the_daemon_restarted():
    need_hooks()
    i = setup(HooksInstance, 25100)
    i.start()
    q = i.path("spool", "private")

    # daemons: stopped at their first client, restarted by the master
    new = restart_armed(i, ["auth"], "auth:socket-unix")
    try_connect(os.path.join(q, "auth"), b"LOOKUP\talice@example.test\n")
    expect_killed_and_replaced(i, ["auth"], new, "auth", "socket-unix")
    assert i.auth().lookup("alice@example.test").startswith("OK")

    new = restart_armed(i, ["inject"], "inject:socket-unix")
    try_connect(os.path.join(q, "inject"), b"SENDER\t\n")
    expect_killed_and_replaced(i, ["inject"], new, "inject", "socket-unix")
    inject(i, "", ["alice@example.test"], b"Subject: 1\n\nafter inject\n")
    wait_for(lambda: maildir_count(i) == 1, timeout=30, what="delivery 1")

    new = restart_armed(i, ["qmgr"], "qmgr:socket")
    try_connect(os.path.join(q, "qmgr"), b"WAKE\n")
    expect_killed_and_replaced(i, ["qmgr"], new, "qmgr", "socket")
    inject(i, "", ["alice@example.test"], b"Subject: 2\n\nafter qmgr\n")
    wait_for(lambda: maildir_count(i) == 2, timeout=30, what="delivery 2")

    new = restart_armed(i, ["local"], "local:socket-unix")
    inject(i, "", ["alice@example.test"], b"Subject: 3\n\nlocal\n")
    expect_killed_and_replaced(i, ["local"], new, "local", "socket-unix")
    # the message the killed agent had stays queued and comes through
    wait_for(lambda: maildir_count(i) == 3, timeout=60, what="delivery 3")

    new = restart_armed(i, ["remote"], "remote:exec")
    inject(i, "", ["bob@far.test"], b"Subject: 4\n\nremote\n")
    expect_killed_and_replaced(i, ["remote"], new, "remote", "exec")

    new = restart_armed(i, ["smtp"], "smtpd:exec")
    try_connect(i.port_base + 25)
    expect_killed_and_replaced(i, ["smtp"], new, "smtpd", "exec")
    smtp_to_alice(i, "5")
    wait_for(lambda: maildir_count(i) == 4, timeout=30, what="delivery 5")

    new = restart_armed(i, ["pop3"], "pop3-login:ptrace")
    try_connect(i.port_base + 10)
    expect_killed_and_replaced(i, ["pop3"], new, "pop3-login", "ptrace")

    new = restart_armed(i, ["pop3-mail"], "pop3:socket-unix")
    try_connect(i.port_base + 10, b"USER alice@example.test\r\n"
                b"PASS " + PW.encode() + b"\r\nSTAT\r\nQUIT\r\n")
    expect_killed_and_replaced(i, ["pop3-mail"], new, "pop3", "socket-unix")
    p = pop3_login(i)
    assert p.stat()[0] == 4
    p.quit()

    new = restart_armed(i, ["imap"], "imap-login:ptrace")
    try_connect(i.port_base + 43)
    expect_killed_and_replaced(i, ["imap"], new, "imap-login", "ptrace")

    new = restart_armed(i, ["imap-mail"], "imap:socket-unix")
    try_connect(i.port_base + 43, b"a LOGIN alice@example.test \"" +
                PW.encode() + b"\"\r\n")
    expect_killed_and_replaced(i, ["imap-mail"], new, "imap", "socket-unix")
    assert imap_login(i).startswith(b"a OK")

    # sessions: killed as they start; their daemon logs it and goes on
    for service, port, profile in (("smtp", 25, "smtpd-session"),
                                   ("pop3", 10, "pop3-login-session"),
                                   ("imap", 43, "imap-login-session")):
        new = restart_armed(i, [service], profile + ":socket")
        got = try_connect(i.port_base + port)
        assert got == b"", got          # not a byte from the session
        wait_for(lambda: "test hook: sandbox=%s attempting forbidden "
                 "socket" % profile in i.log(), what=profile)
        wait_for(lambda: any("[%d]: " % p in line and
                             "session pid" in line and
                             "killed by signal %d" % SIGSYS in line
                             for line in i.log().splitlines() for p in new),
                 what="%s logged by its daemon" % profile)
        assert not killed(i, new), "the daemon itself died"
        assert set(i.service_pids(service)) == new
        # restarted disarmed, the service works again
        for p in new:
            os.kill(p, signal.SIGTERM)
        wait_ready(i, [service], new)
    # the session after a POP3 login, under its own Maildir profile
    new = restart_armed(i, ["pop3-mail"], POP3_SESSION + ":socket")
    got = try_connect(i.port_base + 10, b"USER alice@example.test\r\n"
                      b"PASS " + PW.encode() + b"\r\nSTAT\r\n")
    assert b"Logged in" not in got, got
    wait_for(lambda: "test hook: sandbox=%s attempting forbidden socket"
             % POP3_SESSION in i.log(), what=POP3_SESSION)
    wait_for(lambda: any("[%d]: " % p in line and "session pid" in line and
                         "killed by signal %d" % SIGSYS in line
                         for line in i.log().splitlines() for p in new),
             what="%s logged by postern-pop3" % POP3_SESSION)
    assert set(i.service_pids("pop3-mail")) == new
    for p in new:
        os.kill(p, signal.SIGTERM)
    wait_ready(i, ["pop3-mail"], new)
    smtp_to_alice(i, "6")
    wait_for(lambda: maildir_count(i) == 5, timeout=30, what="delivery 6")
    p = pop3_login(i)
    assert p.stat()[0] == 5
    p.quit()


@test
def opening_outside_the_profile_is_refused():
    need_hooks()
    i = setup(HooksInstance, 25200)
    names = (list(PROFILES) + list(SESSION_PROFILES.values()) +
             [POP3_SESSION])
    i.arm("forbidden=" + ",".join("%s:open-outside" % n for n in names))
    i.start()
    i.auth().lookup("alice@example.test")
    qmgr_command(i, "WAKE")
    inject(i, "", ["alice@example.test"], b"Subject: 1\n\nlocal\n")
    inject(i, "", ["bob@far.test"], b"Subject: 2\n\nremote\n")
    smtp_to_alice(i, "3")
    wait_for(lambda: maildir_count(i) == 2, timeout=30, what="deliveries")
    p = pop3_login(i)
    p.stat()
    p.quit()
    assert imap_login(i).startswith(b"a OK")

    def refused():
        log = i.log()
        return all("test hook: sandbox=%s open /etc/passwd: Permission "
                   "denied" % n in log for n in names)
    wait_for(refused, timeout=30, what="every profile's open refused")
    assert "was readable" not in i.log()


@test
def landlock_abi_1_leaves_renaming_daemons_to_the_file_modes():
    need_hooks()
    i = setup(HooksInstance, 25300)
    i.arm("landlock_abi=1")
    i.start()
    log = i.log()
    for name in ("inject", "qmgr", "local", "pop3", "imap"):
        assert ("sandbox=%s landlock=off (ABI 1 cannot allow moving files "
                "between directories) seccomp=on" % name) in log, name
    for name in ("auth", "remote", "smtpd", "pop3-login", "imap-login"):
        assert "sandbox=%s landlock=on abi=1 seccomp=on" % name in log, name
    smtp_to_alice(i, "abi1")
    wait_for(lambda: maildir_count(i) == 1, timeout=30, what="delivery")
    p = pop3_login(i)
    assert p.stat()[0] == 1
    p.retr(1)
    p.quit()
    md = i.path("mail", "example.test", "alice")
    assert len(os.listdir(os.path.join(md, "cur"))) == 1


@test
def injector_is_replaced_when_the_queue_manager_restarts():
    # the injector cannot create sockets once confined: its one wake-up
    # connection ends with the queue manager, and it retires so that the
    # master starts one connected to the new queue manager
    i = setup(Instance, 25400, conf=("queue_scan_interval=1h",))
    i.start()
    inject(i, "", ["alice@example.test"], b"Subject: 1\n\nbefore\n")
    wait_for(lambda: maildir_count(i) == 1, timeout=30, what="delivery 1")
    old_inject = set(i.service_pids("inject"))
    old_qmgr = set(i.service_pids("qmgr"))
    for p in old_qmgr:
        os.kill(p, signal.SIGKILL)
    wait_ready(i, ["qmgr"], old_qmgr)
    wait_ready(i, ["inject"], old_inject)
    # (it says "retiring" to the master, which may see it exit first)
    assert "the queue manager closed the wake-up connection" in i.log()
    i.remember_pids()
    # woken, not found by a scan an hour from now
    inject(i, "", ["alice@example.test"], b"Subject: 2\n\nafter\n")
    wait_for(lambda: maildir_count(i) == 2, timeout=30, what="delivery 2")


if __name__ == "__main__":
    run()
