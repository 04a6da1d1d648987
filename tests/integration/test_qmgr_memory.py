"""The queue manager's memory does not depend on what an envelope holds
(issue 13, section 4): recipients are read from the queue file in windows
(QMGR_WINDOW_RCPTS, QMGR_WINDOW_BYTES), and the injector writes them into
the file as they arrive. A message with more recipients than a window is
still delivered whole, and a huge envelope costs the queue manager no
more memory than a small one."""
import os
import socket

from harness import Instance, run, test, wait_for

USER = "alice@example.test"
BODY = b"From: a@example.org\nSubject: many\n\nhello\n"


def instance(base, relay_down=False):
    i = Instance(base)
    i.add_user(USER, "pw")
    if relay_down:
        # nothing listens there: every remote recipient is deferred
        i.ok("config", "set", "relay_host=[127.0.0.1]:%d" % (base + 99))
    i.start()
    wait_for(lambda: i.service_pids("qmgr", "ready"), what="qmgr")
    return i


def inject(i, rcpts, body=BODY):
    """Queue a message through the private socket (as root: trusted)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(120)
    s.connect(i.path("spool", "private", "inject"))
    req = [b"SENDER\tbob@example.org"]
    req += [b"RCPT\t" + r.encode() for r in rcpts]
    req.append(b"DATA")
    data = b"\n".join(req) + b"\n" + b"%d\n" % len(body) + body + b"0\n"
    s.sendall(data)
    answer = b""
    while not answer.endswith(b"\n"):
        b = s.recv(4096)
        if not b:
            break
        answer += b
    s.close()
    a = answer.decode().rstrip("\n")
    assert a.startswith("OK\t"), a
    return a.split("\t")[1]


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (field, pid))


def maildir_files(i, user="alice"):
    d = i.path("mail", "example.test", user, "new")
    return os.listdir(d) if os.path.isdir(d) else []


@test
def more_recipients_than_a_window_are_all_delivered():
    i = instance(32400)
    rcpts = ["alice+%d@example.test" % k for k in range(1500)]
    qid = inject(i, rcpts)
    wait_for(lambda: len(maildir_files(i)) == 1500, timeout=300, step=0.5,
             what="1500 deliveries")
    wait_for(lambda: "%s: removed" % qid in i.log(), timeout=60,
             what="the message removed")
    log = i.log()
    assert "%s: from=<bob@example.org> size=%d nrcpt=1500 (queue active)" \
        % (qid, len(BODY)) in log
    assert log.count("%s: to=<alice+" % qid) == 1500
    # each recipient exactly once, the last window included
    for k in (0, 999, 1000, 1499):
        assert "%s: to=<alice+%d@example.test> orig_to" % (qid, k) in log \
            or "%s: to=<alice+%d@example.test> " % (qid, k) in log, k


@test
def a_huge_envelope_costs_the_queue_manager_no_memory():
    i = instance(32500, relay_down=True)
    pid = i.service_pids("qmgr", "ready")[0]
    before = status_kb(pid, "VmRSS")
    # 20,000 recipients of 400 bytes: 8 MB of addresses
    rcpts = ["%s%05d@remote.test" % ("x" * 394, k) for k in range(20000)]
    qid = inject(i, rcpts)
    wait_for(lambda: os.path.exists(i.path("spool", "deferred", qid)),
             timeout=300, step=0.5, what="the message deferred")
    log = i.log()
    assert log.count("%s: to=<" % qid) == 20000, log.count(qid)
    grew = status_kb(pid, "VmHWM") - before
    # the whole envelope in memory would be 8 MB at least (twice that
    # with the remote requests' copies); windows keep it to a few hundred
    # kilobytes. Under AddressSanitizer freed memory is kept in quarantine
    # (256 MB), so there the peak says nothing.
    with open("/proc/%d/maps" % pid) as f:
        sanitized = "libasan" in f.read()
    print("grew %d kB%s" % (grew, " (AddressSanitizer)" if sanitized else ""))
    assert sanitized or grew < 4096, "the queue manager grew by %d kB" % grew


if __name__ == "__main__":
    run()
