"""Local users cannot stop inbound mail (issue 13, section 4).

postern-inject has a private socket (smtpd, root, the queue manager) and a
public one for sendmail, where one uid may hold inject_local_connection_limit
connections, and a local submission at most inject_local_recipient_limit
recipients. The tests act as an unprivileged user (uid 65534) in a forked
child; on an injector with only one socket they use that one, so that they
fail there for the reason they test, not for a missing file."""
import os
import pwd
import resource
import smtplib
import socket
import stat
import grp
import subprocess
import time

from harness import (BIN, IS_ROOT, Instance, pid_alive, run, skip, test,
                     wait_for)

NOBODY = 65534
USER = "alice@example.test"
MESSAGE = (b"From: a@example.org\nTo: alice@example.test\nSubject: t\n\n"
           b"body\n")


def instance(base):
    i = Instance(base)
    i.add_user(USER, "pw")
    i.start()
    wait_for(lambda: i.service_pids("inject", "ready"), what="injector")
    return i


def public_socket(i):
    p = i.path("spool", "private", "inject-local")
    return p if os.path.exists(p) else i.path("spool", "private", "inject")


def maildir_count(i, user="alice"):
    n = 0
    for sub in ("new", "cur"):
        d = i.path("mail", "example.test", user, sub)
        if os.path.isdir(d):
            n += len(os.listdir(d))
    return n


def as_nobody(fn):
    """Run fn() in a child as uid/gid 65534; its pid and a pipe to read
    what it writes."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(
                hard, 4096)), hard))
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            fn(w)
            code = 0
        except BaseException as e:
            try:
                os.write(w, ("error %r\n" % e).encode())
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def read_line(fd, timeout=60):
    """One line from a pipe, within timeout."""
    import select
    data = b""
    end = time.monotonic() + timeout
    while not data.endswith(b"\n") and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            b = os.read(fd, 1)
            if not b:
                break
            data += b
    return data.decode(errors="replace").strip()


def stop_child(pid):
    if pid_alive(pid):
        os.kill(pid, 9)
    os.waitpid(pid, 0)


def answer(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    try:
        while not data.endswith(b"\n"):
            b = s.recv(4096)
            if not b:
                break
            data += b
    except (ConnectionResetError, socket.timeout):
        pass
    return data.decode(errors="replace").rstrip("\n")


@test
def thousand_local_drippers_do_not_stop_smtp():
    if not IS_ROOT:
        skip("needs root to act as another user")
    i = instance(32000)
    path = public_socket(i)

    def drip(w):
        conns = []
        for _ in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.setblocking(False)
            conns.append(s)
        os.write(w, b"connected\n")
        head = b"SENDER\tx@example.test\nRCPT\talice@example.test\nDATA\n"
        msg = head + b"100000\n" + b"x" * 100000
        for k in range(600):        # a byte each second, for 10 minutes
            for s in conns:
                try:
                    s.send(msg[k:k + 1])
                except OSError:
                    pass
            time.sleep(1)

    pid, r = as_nobody(drip)
    try:
        assert read_line(r) == "connected"
        time.sleep(2)               # let the injector accept what it will
        port = i.port_base + 25
        for k in range(5):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                c.ehlo("client.example")
                code, reply = c.mail("bob@example.org")
                assert code == 250, reply
                code, reply = c.rcpt(USER)
                assert code == 250, reply
                code, reply = c.data(MESSAGE + b"message %d\n" % k)
                assert code == 250, (code, reply)
        wait_for(lambda: maildir_count(i) == 5, timeout=60,
                 what="the five messages in the Maildir")
        assert pid_alive(pid), "the drippers gave up early"
        log = i.log()
        assert "uid 65534 has 10 connection(s) (its limit)" in log, \
            "no refusal of the local user logged"
    finally:
        stop_child(pid)
        os.close(r)


@test
def local_user_over_the_cap_gets_temp():
    if not IS_ROOT:
        skip("needs root to act as another user")
    i = instance(32100)
    path = public_socket(i)

    def hold(w):
        held = []
        for _ in range(10):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            held.append(s)
        time.sleep(1)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        os.write(w, (answer(s, timeout=5) + "\n").encode())
        s.close()
        # sendmail as this user: a clear temporary failure
        p = subprocess.run([os.path.join(BIN, "sendmail"), "-C", i.conf,
                            USER], input=MESSAGE, capture_output=True,
                           timeout=60)
        os.write(w, ("%d %s\n" % (p.returncode,
                                  p.stderr.decode().strip())).encode())
        for s in held:
            s.close()
        time.sleep(1)
        p = subprocess.run([os.path.join(BIN, "sendmail"), "-C", i.conf,
                            USER], input=MESSAGE, capture_output=True,
                           timeout=60)
        os.write(w, ("%d %s\n" % (p.returncode,
                                  p.stderr.decode().strip())).encode())

    pid, r = as_nobody(hold)
    try:
        a = read_line(r)
        assert a == "TEMP\ttoo many connections from uid 65534 (limit 10)", a
        line = read_line(r)
        assert line.startswith("75 ") and \
            "too many connections from uid 65534" in line, line
        line = read_line(r)
        assert line.split(" ")[0] == "0", "after the others closed: " + line
    finally:
        stop_child(pid)
        os.close(r)
    wait_for(lambda: maildir_count(i) == 1, timeout=30, what="delivery")


@test
def local_submission_over_the_recipient_limit_is_refused():
    if not IS_ROOT:
        skip("needs root to act as another user")
    i = instance(32200)
    rcpts = ["r%d@remote.test" % k for k in range(1001)]

    def submit(w):
        for n in (1001, 1000):
            p = subprocess.run([os.path.join(BIN, "sendmail"), "-C",
                                i.conf] + rcpts[:n], input=MESSAGE,
                               capture_output=True, timeout=120)
            os.write(w, ("%d %s\n" % (p.returncode,
                                      p.stderr.decode().strip())).encode())

    pid, r = as_nobody(submit)
    try:
        line = read_line(r, timeout=120)
        assert line.startswith("65 ") and \
            "too many recipients (limit 1000)" in line, line
        line = read_line(r, timeout=120)
        assert line.split(" ")[0] == "0", line
    finally:
        stop_child(pid)
        os.close(r)
    assert "refused: PERM uid=65534 reason=too many recipients" in i.log()


@test
def private_socket_only_for_smtpd_and_root():
    if not IS_ROOT:
        skip("needs root to act as another user")
    i = instance(32300)
    st = os.stat(i.path("spool", "private", "inject"))
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert st.st_uid == 0
    assert st.st_gid == grp.getgrnam("postern-injectc").gr_gid
    members = grp.getgrnam("postern-injectc").gr_mem
    assert "postern-smtpd" in members and "postern-queue" in members
    st = os.stat(i.path("spool", "private", "inject-local"))
    assert stat.S_IMODE(st.st_mode) == 0o666, oct(st.st_mode)
    pw = pwd.getpwnam("postern-smtpd")

    def try_both(w):
        for name in ("inject", "inject-local"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(i.path("spool", "private", name))
                os.write(w, b"%s ok\n" % name.encode())
            except PermissionError:
                os.write(w, b"%s refused\n" % name.encode())
            s.close()

    pid, r = as_nobody(try_both)
    try:
        assert read_line(r) == "inject refused"
        assert read_line(r) == "inject-local ok"
    finally:
        stop_child(pid)
        os.close(r)
    # smtpd's account reaches the private socket (through its group)
    out = subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid,
                          "--regid=%d" % pw.pw_gid, "--init-groups",
                          "/usr/bin/python3", "-c",
                          "import socket,sys; s=socket.socket(socket.AF_UNIX);"
                          "s.connect(sys.argv[1]); print('ok')",
                          i.path("spool", "private", "inject")],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "ok", out.stderr


if __name__ == "__main__":
    run()
