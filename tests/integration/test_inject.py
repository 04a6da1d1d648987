"""postern-inject: the injection protocol (inject.h) over the real socket,
group commit under concurrency, limits, refusals, crashes of a client,
the O_TMPFILE fallback, retire, and the privilege separation.

The instances run only the master, auth and the injector (POSTERN_LIBEXEC
points at a directory holding just those), so that no queue manager moves,
delivers or bounces what a test has just queued."""
import atexit
import os
import pwd
import shutil
import signal
import socket
import tempfile
import threading
import time

from harness import (BIN, IS_ROOT, Instance, pid_alive, proc_uid, run,
                     skip, test, wait_for)

MESSAGE = (b"From: a@example.org\nTo: b@example.test\nSubject: test\n\n"
           b"Hello, this is the body.\n")


def envelope(sender, rcpts, extra=()):
    lines = [b"SENDER\t" + sender.encode()]
    lines += list(extra)
    lines += [b"RCPT\t" + r.encode() for r in rcpts]
    lines.append(b"DATA")
    return b"\n".join(lines) + b"\n"


def chunks(body, size=1000):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%d\n" % len(part) + part
    return out + b"0\n"


def connect(inst, timeout=30, sock="inject"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(inst.path("spool", "private", sock))
    return s


def answer(s):
    """Read the one answer line (also after the injector refused early and
    our sending failed)."""
    data = b""
    while not data.endswith(b"\n"):
        try:
            b = s.recv(4096)
        except ConnectionResetError:
            break
        if not b:
            break
        data += b
    s.close()
    return data.decode(errors="replace").rstrip("\n")


def inject(inst, sender, rcpts, body, extra=(), sock="inject"):
    s = connect(inst, sock=sock)
    try:
        s.sendall(envelope(sender, rcpts, extra) + chunks(body))
    except (BrokenPipeError, ConnectionResetError):
        pass
    return answer(s)


def queued_file(inst, qid):
    """The path of a queued message wherever a queue manager put it."""
    for d, _, files in os.walk(inst.path("spool")):
        if qid in files:
            return os.path.join(d, qid)
    return None


def injector_only_libexec():
    d = tempfile.mkdtemp(prefix="postern-inject-libexec.")
    os.chmod(d, 0o755)
    atexit.register(shutil.rmtree, d, True)
    for p in ("postern-master", "postern-auth", "postern-inject"):
        os.symlink(os.path.join(BIN, p), os.path.join(d, p))
    return d


LIBEXEC = injector_only_libexec()


def started(port_base, env=None, size_limit=None):
    env = dict(env or {}, POSTERN_LIBEXEC=LIBEXEC)
    i = Instance(port_base, env=env)
    if size_limit is not None:
        i.ok("config", "set", "message_size_limit=%s" % size_limit)
    i.start()
    wait_for(lambda: i.service_pids("inject", "ready"), what="injector")
    return i


def names(inst, sub):
    return sorted(os.listdir(inst.path("spool", sub)))


@test
def one_message_several_recipients_null_sender():
    i = started(25000)
    rcpts = ["a@example.test", "b@example.test", "c@example.org"]
    a = inject(i, "", rcpts, MESSAGE)
    assert a.startswith("OK\t"), a
    qid = a.split("\t")[1]
    assert 12 <= len(qid) <= 24 and qid.isalnum(), qid
    path = queued_file(i, qid)
    assert path is not None, "queue file %s not found" % qid
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"V\0\0\0\x08POSTERN1"), data[:16]
    assert MESSAGE in data
    for r in rcpts:
        assert b"Q" + r.encode() in data, r
    assert b"S\0\0\0\0" in data   # the null sender
    assert names(i, "tmp") == []
    log = wait_for(lambda: qid + ": from=<> size=%d nrcpt=3" % len(MESSAGE)
                   in i.log() and i.log(), what="the log line")
    assert "uid=%d" % os.getuid() in log


@test
def fifty_concurrent_injections():
    i = started(25100)
    results = [None] * 50

    def one(k):
        body = MESSAGE + (b"message %d\n" % k) * (k * 50 + 1)
        results[k] = (inject(i, "s%d@example.org" % k,
                             ["r%d@example.test" % k], body), body)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = set()
    for k, (a, body) in enumerate(results):
        assert a.startswith("OK\t"), (k, a)
        qid = a.split("\t")[1]
        ids.add(qid)
        path = queued_file(i, qid)
        with open(path, "rb") as f:
            data = f.read()
        assert body in data and b"r%d@example.test" % k in data, k
    assert len(ids) == 50, "ids are not distinct"
    assert names(i, "tmp") == []


@test
def too_big_is_refused_permanently():
    i = started(25200, size_limit="10k")
    a = inject(i, "a@example.org", ["b@example.test"], b"x" * 20000)
    assert a == "PERM\tmessage too big (limit 10240 bytes)", a
    assert names(i, "new") == [] and names(i, "tmp") == []
    a = inject(i, "a@example.org", ["b@example.test"], b"y" * 10240)
    assert a.startswith("OK\t"), a


@test
def client_gone_mid_data_leaves_nothing():
    i = started(25300)
    s = connect(i)
    s.sendall(envelope("a@example.org", ["b@example.test"]) +
              b"60000\n" + b"z" * 5000)
    time.sleep(0.3)
    s.close()
    wait_for(lambda: "went away before the end" in i.log(),
             what="the injector to see the hang-up")
    assert names(i, "new") == [] and names(i, "tmp") == []
    # and a half-sent request line is no better
    s = connect(i)
    s.sendall(b"SENDER\ta@example.org\nRCPT\tb@exa")
    s.close()
    a = inject(i, "a@example.org", ["b@example.test"], MESSAGE)
    assert a.startswith("OK\t"), a
    assert names(i, "new") == [a.split("\t")[1]] or queued_file(
        i, a.split("\t")[1])
    assert names(i, "tmp") == []


@test
def malformed_requests_are_refused_and_the_injector_goes_on():
    i = started(25400)
    pid = i.service_pids("inject")[0]
    bad = [
        b"RCPT\tb@example.test\nSENDER\ta@example.org\nDATA\n0\n",
        b"SENDER\ta@exa\rmple.org\nRCPT\tb@example.test\nDATA\n0\n",
        b"SENDER\ta@example.org\nRCPT\tb@exa\x00mple.test\nDATA\n0\n",
        b"SENDER\ta@example.org\nRCPT\t\nDATA\n0\n",
        b"SENDER\ta@example.org\nDATA\n0\n",
        b"SENDER\ta@example.org\nRCPT\tb@x\nDATA\n99999999\n",
        b"SENDER\t" + b"a" * 5000 + b"\n",
        b"HELLO\n",
    ]
    for req in bad:
        s = connect(i)
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
        a = answer(s)
        assert a.startswith("PERM\t"), (req[:40], a)
    assert i.service_pids("inject") == [pid], "the injector restarted"
    assert names(i, "new") == [] and names(i, "tmp") == []
    a = inject(i, "a@example.org", ["b@example.test"], MESSAGE)
    assert a.startswith("OK\t"), a


@test
def local_submission_cannot_claim_a_client():
    if not IS_ROOT:
        skip("needs root to connect as another user")
    i = started(25500)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            a = inject(i, "me@example.test", ["you@example.test"], MESSAGE,
                       extra=[b"CLIENT\t192.0.2.66", b"HELO\tforged",
                              b"AUTH\tboss", b"PROTO\tESMTPSA"],
                       sock="inject-local")
            os.write(w, a.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    a = os.read(r, 200).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert a.startswith("OK\t"), a
    with open(queued_file(i, a.split("\t")[1]), "rb") as f:
        data = f.read()
    assert b"192.0.2.66" not in data and b"forged" not in data
    assert b"boss" not in data and b"P\0\0\0\x05local" in data
    wait_for(lambda: "proto=local client=local uid=65534" in i.log(),
             what="the log line")


@test
def fallback_without_o_tmpfile():
    i = started(25600, env={"POSTERN_INJECT_NO_TMPFILE": "1"})
    wait_for(lambda: "O_TMPFILE unavailable" in i.log(), what="fallback")
    a = inject(i, "", ["a@example.test", "b@example.test"], MESSAGE)
    assert a.startswith("OK\t"), a
    assert queued_file(i, a.split("\t")[1])
    assert names(i, "tmp") == []
    s = connect(i)
    s.sendall(envelope("a@example.org", ["b@example.test"]) + b"500\nabc")
    wait_for(lambda: len(names(i, "tmp")) == 1, what="a named tmp file")
    s.close()
    wait_for(lambda: names(i, "tmp") == [], what="the tmp file removed")


@test
def retire_finishes_the_message_in_progress():
    i = started(25700)
    pid = i.service_pids("inject")[0]
    s = connect(i)
    s.sendall(envelope("a@example.org", ["b@example.test"]) +
              b"%d\n" % len(MESSAGE) + MESSAGE[:10])
    time.sleep(0.2)
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: "retiring: 1 connection" in i.log(), what="retire")
    assert pid_alive(pid)
    s.sendall(MESSAGE[10:] + b"0\n")
    a = answer(s)
    assert a.startswith("OK\t"), a
    wait_for(lambda: not pid_alive(pid), what="the old injector to exit")
    wait_for(lambda: [p for p in i.service_pids("inject", "ready")
                      if p != pid], what="a new injector")
    i.remember_pids()
    a = inject(i, "a@example.org", ["b@example.test"], MESSAGE)
    assert a.startswith("OK\t"), a


@test
def runs_as_postern_queue():
    if not IS_ROOT:
        skip("privilege separation needs root")
    i = started(25800)
    pid = i.service_pids("inject")[0]
    q = pwd.getpwnam("postern-queue")
    assert proc_uid(pid) == [q.pw_uid] * 4, proc_uid(pid)
    for sub in ("tmp", "new", "active", "deferred", "hold", "corrupt"):
        st = os.stat(i.path("spool", sub))
        assert st.st_uid == q.pw_uid and st.st_mode & 0o777 == 0o700, sub
    a = inject(i, "a@example.org", ["b@example.test"], MESSAGE)
    assert a.startswith("OK\t"), a
    st = os.stat(queued_file(i, a.split("\t")[1]))
    assert st.st_uid == q.pw_uid and st.st_mode & 0o777 == 0o600


@test
def stop_drops_unfinished_messages():
    i = started(25900)
    pid = i.service_pids("inject")[0]
    s = connect(i)
    s.sendall(envelope("a@example.org", ["b@example.test"]) + b"500\nabc")
    time.sleep(0.2)
    os.kill(pid, signal.SIGTERM)
    a = answer(s)
    assert a == "TEMP\tqueue service stopping", a
    wait_for(lambda: not pid_alive(pid), timeout=6, what="the exit")
    assert names(i, "new") == [] and names(i, "tmp") == []
    assert "postern-inject[%d]: exiting" % pid in i.log()


if __name__ == "__main__":
    run()
