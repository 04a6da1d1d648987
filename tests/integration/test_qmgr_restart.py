"""Restarts of the queue manager repeat no finished local delivery (issue
13, section 8): a message with a local and a remote recipient whose
destination is down stays deferred; its local copy is delivered once,
whatever restarts (SIGTERM, kill -9) come after, also once the reader has
moved that copy to cur/ with flags, so that the Maildir name (the same for
a repeat) cannot hide a second delivery. Covered both for two recipients
(each with its state byte) and for one alias expanding into a local
mailbox and a remote forward (one state byte for both: the local target
is recorded as a D record after END)."""
import os
import signal
import socket

from harness import Instance, pid_alive, run, test, wait_for

DOMAIN = "example.test"


def setup(base):
    i = Instance(base)
    for u in ("alice", "bob"):
        i.add_user("%s@%s" % (u, DOMAIN), "pw")
    # mix@ expands into a local mailbox and a remote forward
    i.ok("alias", "add", "mix@" + DOMAIN, "bob@%s,far@remote.test" % DOMAIN)
    # nothing listens there: the remote destination is down
    i.ok("config", "set", "relay_host=[127.0.0.1]:%d" % (base + 99))
    i.ok("config", "set", "retry_min=1h")
    i.start()
    wait_for(lambda: i.service_pids("qmgr", "ready"), what="qmgr")
    return i


def send(i, rcpts, subject):
    """Queue a message through the injector's private socket (as root),
    as smtpd would after an authenticated submission."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(i.path("spool", "private", "inject"))
    body = (b"From: carol@example.org\nSubject: " + subject +
            b"\n\nhello\n")
    req = [b"SENDER\tcarol@example.org"]
    req += [b"RCPT\t" + r.encode() for r in rcpts]
    req += [b"DATA", b"%d" % len(body)]
    s.sendall(b"\n".join(req) + b"\n" + body + b"0\n")
    a = b""
    while not a.endswith(b"\n"):
        b = s.recv(4096)
        if not b:
            break
        a += b
    s.close()
    a = a.decode().rstrip("\n")
    assert a.startswith("OK\t"), a
    return a.split("\t")[1]


def copies(i, user):
    out = []
    for sub in ("new", "cur"):
        d = i.path("mail", DOMAIN, user, sub)
        out += [(sub, n) for n in (os.listdir(d) if os.path.isdir(d)
                                   else [])]
    return out


def read_and_move(i, user):
    """What a mail reader does: new/NAME -> cur/NAME:2,FS (flagged and
    seen: a name local delivery does not look for, so a repeat shows)."""
    d = i.path("mail", DOMAIN, user)
    for n in os.listdir(os.path.join(d, "new")):
        os.rename(os.path.join(d, "new", n),
                  os.path.join(d, "cur", n + ":2,FS"))


def deferred_attempts(i, qid):
    return i.log().count("%s: to=<far@remote.test>" % qid)


def restart_qmgr(i, how, qids):
    """Stop the queue manager (SIGTERM or SIGKILL), wait for the next one,
    make it try the deferred messages again, and wait for that attempt."""
    old = i.service_pids("qmgr", "ready") + i.service_pids("qmgr", "busy")
    before = {q: deferred_attempts(i, q) for q in qids}
    for p in old:
        os.kill(p, how)
    wait_for(lambda: all(not pid_alive(p) for p in old), what="qmgr gone")
    wait_for(lambda: [p for p in i.service_pids("qmgr") if p not in old
                      and pid_alive(p)], timeout=30, what="a new qmgr")
    i.remember_pids()
    i.ok("queue", "flush")
    wait_for(lambda: all(deferred_attempts(i, q) > before[q] for q in qids),
             timeout=60, what="another attempt after the restart")
    wait_for(lambda: all(os.path.exists(i.path("spool", "deferred", q))
                         for q in qids), timeout=60, what="deferred again")


@test
def restarts_repeat_no_finished_local_delivery():
    i = setup(13900)
    plain = send(i, ["alice@" + DOMAIN, "far@remote.test"], b"plain")
    alias = send(i, ["mix@" + DOMAIN], b"alias")
    qids = [plain, alias]
    wait_for(lambda: all(os.path.exists(i.path("spool", "deferred", q))
                         for q in qids), timeout=60, what="both deferred")
    assert len(copies(i, "alice")) == 1 and len(copies(i, "bob")) == 1
    # the reader moves them: a repeat would now show as a second file
    read_and_move(i, "alice")
    read_and_move(i, "bob")
    for k, how in enumerate([signal.SIGKILL, signal.SIGTERM,
                             signal.SIGKILL, signal.SIGKILL]):
        restart_qmgr(i, how, qids)
        assert copies(i, "alice") == [("cur", copies(i, "alice")[0][1])], \
            (k, copies(i, "alice"))
        assert len(copies(i, "bob")) == 1, (k, copies(i, "bob"))
    log = i.log()
    assert log.count("%s: to=<alice@%s>" % (plain, DOMAIN)) == 1
    assert log.count("%s: to=<bob@%s>" % (alias, DOMAIN)) == 1
    # still queued for the remote recipient, never lost
    for q in qids:
        assert os.path.exists(i.path("spool", "deferred", q)), q


if __name__ == "__main__":
    run()
