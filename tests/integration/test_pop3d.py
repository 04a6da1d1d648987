#!/usr/bin/env python3
"""test_pop3d - postern-pop3-login and postern-pop3 with real clients.

poplib and fetchmail against an instance: mail delivered through SMTP is
retrieved byte-exact, every command, UIDL stability, UPDATE semantics,
STLS and pop3s, refused passwords, separation of users, a Dovecot-written
Maildir, the accounts the processes run under, TOP on a header that ends
at a read boundary, and the session's sandbox. Port bases 30000-31000.
"""
import os
import re
import poplib
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (IS_ROOT, Instance, proc_uid, run, skip, test,  # noqa
                     wait_for)

PW = "pop3 secret"


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def setup(base, users=("alice",)):
    i = Instance(base)
    for u in users:
        i.add_user("%s@example.test" % u, PW)
    i.start()
    return i


def maildir(i, user):
    return i.path("mail", "example.test", user)


def deliver(i, user, body):
    """Send body through SMTP and wait until it is in the Maildir."""
    before = count_files(i, user)
    s = smtplib.SMTP("127.0.0.1", i.port_base + 25, timeout=30)
    s.sendmail("sender@remote.test", ["%s@example.test" % user], body)
    s.quit()
    wait_for(lambda: count_files(i, user) > before, what="delivery")


def count_files(i, user):
    md = maildir(i, user)
    return sum(len(os.listdir(os.path.join(md, d))) for d in ("new", "cur"))


def login(i, user="alice", port=None):
    p = poplib.POP3("127.0.0.1", port or i.port_base + 10, timeout=30)
    p.user("%s@example.test" % user)
    assert p.pass_(PW).startswith(b"+OK")
    return p


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def crlf(data):
    out = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return out


def raw_retr(i, n, user="alice"):
    """RETR over a raw socket: the exact bytes between +OK and '.'."""
    s = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
    f = s.makefile("rb")
    f.readline()
    s.sendall(("USER %s@example.test\r\nPASS %s\r\nRETR %d\r\nQUIT\r\n" %
               (user, PW, n)).encode())
    assert f.readline().startswith(b"+OK")
    assert f.readline().startswith(b"+OK")
    assert f.readline().startswith(b"+OK")
    data = b""
    while True:
        line = f.readline()
        assert line, "connection closed inside RETR"
        if line == b".\r\n":
            break
        data += line
    s.close()
    return data


BODY = (b"Subject: byte exact\r\n\r\nline one\r\n.leading dot\r\n"
        b"..two dots\r\n\ttab \xc3\xa9 8bit\r\n\r\nlast\r\n")


@test
def retr_byte_exact_after_smtp():
    i = setup(30000)
    deliver(i, "alice", BODY)
    wire = raw_retr(i, 1)
    cur = os.path.join(maildir(i, "alice"), "cur")
    name = os.listdir(cur)[0]
    stored = file_bytes(os.path.join(cur, name))
    assert stored.endswith(BODY.replace(b"\r\n", b"\n")), stored
    unstuffed = b"".join(l[1:] if l.startswith(b".") else l
                         for l in wire.splitlines(True))
    assert unstuffed == crlf(stored), (wire, stored)
    assert b"\r\n..leading dot\r\n...two dots\r\n" in wire
    p = login(i)
    assert p.stat() == (1, len(crlf(stored)))
    p.quit()


@test
def every_command():
    i = setup(30100)
    deliver(i, "alice", b"Subject: one\r\n\r\nbody 1\r\nmore\r\n")
    deliver(i, "alice", b"Subject: two\r\n\r\nbody 2\r\n")
    p = login(i)
    caps = p.capa()
    for c in ("TOP", "UIDL", "PIPELINING", "RESP-CODES", "USER"):
        assert c in caps, caps
    n, size = p.stat()
    assert n == 2
    resp, lst, _ = p.list()
    assert len(lst) == 2 and sum(int(l.split()[1]) for l in lst) == size
    assert p.list(2).split()[1] == b"2"
    resp, uids, _ = p.uidl()
    assert len(uids) == 2
    assert p.uidl(1).split()[2] == uids[0].split()[1]
    top = p.top(1, 0)[1]
    assert top[-1] == b"" and b"Subject: one" in top and b"body 1" not in top
    top = p.top(1, 1)[1]
    assert top[-1] == b"body 1", top
    assert p.retr(2)[1][-1] == b"body 2"
    assert p.noop().startswith(b"+OK")
    assert p.dele(1).startswith(b"+OK")
    assert p.stat()[0] == 1
    try:
        p.retr(1)
        raise AssertionError("RETR of a deleted message succeeded")
    except poplib.error_proto:
        pass
    try:
        p.list(3)
        raise AssertionError("LIST 3 succeeded")
    except poplib.error_proto:
        pass
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 2
    try:
        p._shortcmd("XYZZY")
        raise AssertionError("unknown command accepted")
    except poplib.error_proto:
        pass
    assert p.quit().startswith(b"+OK")
    cur = os.listdir(os.path.join(maildir(i, "alice"), "cur"))
    assert len(cur) == 2 and sum(n.endswith(":2,S") for n in cur) == 1, cur


@test
def uidl_stable_and_update_semantics():
    i = setup(30200)
    for k in range(3):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody\r\n" % k)
    p = login(i)
    u1 = p.uidl()[1]
    p.retr(1)
    p.quit()
    p = login(i)
    assert p.uidl()[1] == u1
    p.dele(1)
    p.dele(2)
    p.sock.close()              # dropped: nothing deleted
    time.sleep(0.5)
    p = login(i)
    assert p.stat()[0] == 3 and p.uidl()[1] == u1
    p.quit()
    i.stop()
    i.start()
    p = login(i)
    assert p.uidl()[1] == u1
    p.dele(1)
    p.quit()
    p = login(i)
    left = p.uidl()[1]
    assert [l.split()[1] for l in left] == [l.split()[1] for l in u1[1:]]
    p.quit()
    # all through the folder index IMAP keeps (postern-imap-index(5)):
    # created in the confined session, the deletion logged as an expunge
    md = maildir(i, "alice")
    log = open(os.path.join(md, "postern-uidlog"), "rb").read()
    assert re.search(rb"\nX 1 \d+ [0-9a-f]{8}\n", log), log
    assert os.path.exists(os.path.join(md, "postern-index.db"))
    assert "folder index" not in i.log(), i.log()


@test
def stls_and_pop3s():
    i = setup(30300)
    deliver(i, "alice", BODY)
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    assert "STLS" in p.capa()
    p.stls(ctx())
    assert "STLS" not in p.capa()
    p.user("alice@example.test")
    assert p.pass_(PW).startswith(b"+OK")
    assert b"..leading dot" not in b"\n".join(p.retr(1)[1])
    assert p.stat()[0] == 1
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", i.port_base + 95, timeout=30,
                        context=ctx())
    p.user("alice@example.test")
    assert p.pass_(PW).startswith(b"+OK")
    big = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"
    assert p.stat()[0] == 1
    p.quit()
    deliver(i, "alice", big * 1)
    p = poplib.POP3_SSL("127.0.0.1", i.port_base + 95, timeout=30,
                        context=ctx())
    p.user("alice@example.test")
    p.pass_(PW)
    assert p.retr(2)[1][-1] == b"x" * 998
    p.quit()


@test
def wrong_password_and_pipelining():
    i = setup(30400)
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    p.user("alice@example.test")
    try:
        p.pass_("wrong")
        raise AssertionError("wrong password accepted")
    except poplib.error_proto as e:
        assert b"[AUTH]" in e.args[0], e
    p.close()
    s = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"USER alice@example.test\r\nPASS " + PW.encode() +
              b"\r\nSTAT\r\nNOOP\r\nQUIT\r\n")
    lines = [f.readline() for _ in range(5)]
    assert all(l.startswith(b"+OK") for l in lines), lines
    assert lines[2] == b"+OK 0 0\r\n", lines
    s.close()
    s = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
    f = s.makefile("rb")
    f.readline()
    import base64
    ir = base64.b64encode(b"\0alice@example.test\0" + PW.encode())
    s.sendall(b"AUTH PLAIN " + ir + b"\r\nSTAT\r\nQUIT\r\n")
    assert f.readline() == b"+OK Logged in.\r\n"
    assert f.readline() == b"+OK 0 0\r\n"
    s.sendall(b"X" * 300 + b"\r\n")
    s.close()
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    try:
        p._shortcmd("USER " + "a" * 300)
        raise AssertionError("over-long line accepted")
    except poplib.error_proto as e:
        assert b"too long" in e.args[0]
    p.quit()


@test
def users_are_separate():
    i = setup(30500, users=("alice", "bob"))
    deliver(i, "alice", b"Subject: for alice\r\n\r\nA\r\n")
    deliver(i, "bob", b"Subject: for bob\r\n\r\nB\r\n")
    deliver(i, "bob", b"Subject: for bob 2\r\n\r\nB\r\n")
    pa = login(i, "alice")
    pb = login(i, "bob")
    assert pa.stat()[0] == 1 and pb.stat()[0] == 2
    assert b"Subject: for alice" in pa.retr(1)[1]
    assert all(b"Subject: for alice" not in pb.retr(k)[1] for k in (1, 2))
    pa.quit()
    pb.quit()


def dovecot_maildir(md):
    """Files as Dovecot leaves them: cur/ names with S= only and flags,
    some with CRLF line ends, one in new/ without sizes."""
    msgs = [
        ("1700000000.M1P2.host,S=%d:2,S", b"Subject: a\n\nbody a\n"),
        ("1700000001.M3P4.host,S=%d:2,", b"Subject: b\r\n\r\ncrlf\r\n.dot\r\n"),
        ("1700000002.M5P6.host,S=%d:2,FS", b"Subject: c\n\nno final lf"),
    ]
    names = []
    for fmt, body in msgs:
        name = fmt % len(body)
        with open(os.path.join(md, "cur", name), "wb") as f:
            f.write(body)
        names.append((name, body))
    with open(os.path.join(md, "new", "1700000003.M7P8.host"), "wb") as f:
        f.write(b"Subject: d\n\nnew\n")
    names.append(("1700000003.M7P8.host", b"Subject: d\n\nnew\n"))
    return names


@test
def dovecot_written_maildir():
    i = setup(30600)
    md = maildir(i, "alice")
    names = dovecot_maildir(md)
    if IS_ROOT:
        st = os.stat(md)
        for d in ("cur", "new"):
            for n in os.listdir(os.path.join(md, d)):
                os.chown(os.path.join(md, d, n), st.st_uid, st.st_gid)
    p = login(i)
    resp, uids, _ = p.uidl()
    assert [u.split()[1].decode() for u in uids] == \
        [n.split(":")[0] for n, _ in names], uids
    sizes = [int(l.split()[1]) for l in p.list()[1]]
    want = [len(crlf(b)) for _, b in names]
    want[2] += 0            # the missing final LF is not counted
    assert sizes == want, (sizes, want)
    assert p.retr(2)[1] == [b"Subject: b", b"", b"crlf", b".dot"]
    assert p.retr(3)[1][-1] == b"no final lf"
    p.quit()
    cur = sorted(os.listdir(os.path.join(md, "cur")))
    assert "1700000001.M3P4.host,S=%d:2,S" % len(names[1][1]) in cur, cur
    assert "1700000002.M5P6.host,S=%d:2,FS" % len(names[2][1]) in cur, cur
    assert "1700000003.M7P8.host:2," in cur, cur
    assert os.listdir(os.path.join(md, "new")) == []


LDA = "/usr/lib/dovecot/dovecot-lda"


def dovecot_lda_conf(tmp, md, uid, gid):
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""base_dir = %(t)s/run
state_dir = %(t)s/state
log_path = %(t)s/dovecot.log
ssl = no
protocols =
postmaster_address = postmaster@example.test
first_valid_uid = 1
mail_location = maildir:%(md)s
userdb {
  driver = static
  args = uid=%(uid)d gid=%(gid)d home=%(md)s
}
passdb {
  driver = static
  args = nopassword=y
}
""" % {"t": tmp, "md": md, "uid": uid, "gid": gid})
    return conf


@test
def maildir_written_by_dovecot_lda_is_read():
    # Dovecot's own delivery agent writes the Maildir (its file names,
    # its dovecot-uidlist and index files beside cur/ and new/); postern's
    # POP3 lists, numbers and retrieves those messages exactly
    if not os.path.exists(LDA):
        skip("dovecot-lda is not installed (dovecot-core)")
    i = setup(30700)
    md = maildir(i, "alice")
    st = os.stat(md)
    tmp = tempfile.mkdtemp(prefix="postern-lda.")
    os.chmod(tmp, 0o755)
    if os.geteuid() == 0:           # the LDA writes its log and state here
        os.chown(tmp, st.st_uid, st.st_gid)
    conf = dovecot_lda_conf(tmp, md, st.st_uid, st.st_gid)
    bodies = [b"Subject: lda %d\nFrom: s@remote.test\n\nline %d\n.dot\n" %
              (k, k) for k in range(3)]
    env = {"USER": "alice", "HOME": md, "PATH": "/usr/bin:/bin"}

    def as_owner():                 # the LDA runs as the Maildir's owner
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(st.st_gid)
            os.setuid(st.st_uid)

    for b in bodies:
        r = subprocess.run([LDA, "-c", conf, "-f", "sender@remote.test"],
                           input=b, capture_output=True, timeout=60,
                           env=env, preexec_fn=as_owner)
        assert r.returncode == 0, (r.returncode, r.stderr,
                                   file_bytes(os.path.join(tmp,
                                                           "dovecot.log")))
    # delivery order, as POP3 numbers them: seconds, then microseconds,
    # compared as numbers (as text, M99999 would sort after M100000)
    names = sorted(os.listdir(os.path.join(md, "new")),
                   key=lambda n: (int(n.split(".")[0]),
                                  int(re.match(r"M(\d+)", n.split(".")[1]).group(1))))
    assert len(names) == 3, names
    files = [file_bytes(os.path.join(md, "new", n)) for n in names]
    for b, data in zip(bodies, files):
        assert data.endswith(b), (b, data)     # Dovecot may add headers
    p = login(i)
    uids = [u.split()[1].decode() for u in p.uidl()[1]]
    assert uids == [n.split(":")[0] for n in names], (uids, names)
    sizes = [int(l.split()[1]) for l in p.list()[1]]
    assert sizes == [len(crlf(d)) for d in files], sizes
    for k, data in enumerate(files):
        lines = p.retr(k + 1)[1]
        assert b"\r\n".join(lines) + b"\r\n" == crlf(data), lines
    p.quit()
    shutil.rmtree(tmp, ignore_errors=True)


@test
def fetchmail_retrieves():
    if shutil.which("fetchmail") is None:
        skip("fetchmail not installed")
    i = setup(30700)
    deliver(i, "alice", BODY)
    deliver(i, "alice", b"Subject: second\r\n\r\nsecond body\r\n")
    out = tempfile.mkdtemp(prefix="fetchmail.")
    os.chmod(out, 0o777)
    rc = os.path.join(out, "rc")
    with open(rc, "w") as f:
        f.write("poll 127.0.0.1 service %d protocol pop3 auth password "
                "no uidl\n  user 'alice@example.test' password '%s' "
                "is root here\n  mda 'tee -a %s/mbox' sslproto '' "
                "no sslcertck fetchall\n" % (i.port_base + 10, PW, out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=out, FETCHMAILHOME=out)
    r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    got = file_bytes(os.path.join(out, "mbox"))
    assert b".leading dot\n..two dots\n" in got, got
    assert b"second body" in got
    p = login(i)
    assert p.stat()[0] == 0      # fetchmail deleted what it fetched
    p.quit()
    shutil.rmtree(out, ignore_errors=True)


@test
def processes_run_as_their_accounts():
    if not IS_ROOT:
        skip("not root")
    import pwd
    i = setup(30800)
    p = login(i)
    login_uid = pwd.getpwnam("postern-login").pw_uid
    mail_uid = pwd.getpwnam("postern-mail").pw_uid

    def pids(prog):
        r = subprocess.run(["pgrep", "-x", prog[:15]], capture_output=True,
                           text=True)
        return [int(x) for x in r.stdout.split()]
    sessions = [q for q in pids("postern-pop3")
                if proc_uid(q)[0] == mail_uid]
    assert sessions, "no postern-pop3 process as postern-mail"
    for q in pids("postern-pop3-login"):
        u = proc_uid(q)
        assert u[0] == u[1] == u[2] == login_uid or u[0] != 0, u
    assert any(proc_uid(q)[0] == login_uid
               for q in pids("postern-pop3-login"))
    assert "landlock=" in i.log()
    p.quit()


def raw_session(i, commands, user="alice"):
    """USER, PASS, then commands over a raw socket; the exact bytes of
    each multi-line answer (between its +OK line and '.'), in order."""
    s = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
    f = s.makefile("rb")
    f.readline()
    s.sendall(("USER %s@example.test\r\nPASS %s\r\n" % (user, PW) +
               "".join(c + "\r\n" for c in commands) + "QUIT\r\n").encode())
    assert f.readline().startswith(b"+OK")
    assert f.readline().startswith(b"+OK"), "login failed"
    out = []
    for _ in commands:
        assert f.readline().startswith(b"+OK")
        data = b""
        while True:
            line = f.readline()
            assert line, "connection closed inside an answer"
            if line == b".\r\n":
                break
            data += line
        out.append(data)
    s.close()
    return out


def put_message(i, sub, name, body, user="alice"):
    md = maildir(i, user)
    path = os.path.join(md, sub, name)
    with open(path, "wb") as f:
        f.write(body)
    if IS_ROOT:
        st = os.stat(md)
        os.chown(path, st.st_uid, st.st_gid)


@test
def top_header_ending_on_a_read_boundary():
    """A CRLF file whose header's empty line has its CR as the last byte
    of the first 64 KiB read: TOP n 0 sends the header only, TOP n 1 one
    body line (the old reader looked ahead within its buffer and sent the
    whole body)."""
    i = setup(30900)
    head = b""
    while len(head) < 65536 - 1 - 200:
        head += b"X-Pad-%05d: %s\r\n" % (len(head), b"0" * 100)
    head += b"X-Fill: " + b"f" * (65536 - 3 - len(head) - 8) + b"\r\n"
    msg = head + b"\r\nbody line 1\r\n.dot line\r\nbody line 3\r\n"
    assert msg.index(b"\r\n\r\n") + 2 == 65535
    put_message(i, "cur", "1700000000.M1P1Q1.boundary:2,", msg)
    top0, top2, retr = raw_session(i, ["TOP 1 0", "TOP 1 2", "RETR 1"])
    assert top0 == head + b"\r\n", (len(top0), len(head))
    assert top2 == head + b"\r\nbody line 1\r\n..dot line\r\n"
    assert retr == msg.replace(b"\r\n.", b"\r\n..")
    p = login(i)
    assert p.list(1).split()[2] == str(len(msg)).encode()
    p.quit()


@test
def session_is_confined():
    """The logged-in session runs under seccomp and Landlock with the
    pop3-session profile, and says so in its log line; new mail is still
    moved to cur/ and read."""
    i = setup(31000)
    put_message(i, "new", "1700000001.M1P1Q1.h", b"Subject: n\n\nnew\n")
    p = login(i)
    assert p.stat()[0] == 1
    assert p.retr(1)[1] == [b"Subject: n", b"", b"new"]
    wait_for(lambda: "sandbox=pop3-session" in i.log(), what="log line")
    line = [l for l in i.log().splitlines()
            if "sandbox=pop3-session" in l][-1]
    assert "seccomp=on" in line, line
    assert "moved=1" in line, line
    assert "landlock=on" in line or "not in this kernel" in line or \
        "disabled in this kernel" in line, line
    if IS_ROOT:
        mail_uid = __import__("pwd").getpwnam("postern-mail").pw_uid
        r = subprocess.run(["pgrep", "-x", "postern-pop3"],
                           capture_output=True, text=True)
        sessions = [int(x) for x in r.stdout.split()
                    if proc_uid(int(x))[0] == mail_uid]
        seccomp = []
        for pid in sessions:
            with open("/proc/%d/status" % pid) as f:
                seccomp += [l.split()[1] for l in f
                            if l.startswith("Seccomp:")]
        assert "2" in seccomp, seccomp
    p.quit()
    md = maildir(i, "alice")
    assert os.listdir(os.path.join(md, "new")) == []
    assert os.listdir(os.path.join(md, "cur")) == ["1700000001.M1P1Q1.h:2,S"]


if __name__ == "__main__":
    run()
