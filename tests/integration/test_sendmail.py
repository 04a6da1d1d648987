"""sendmail(1) and mailq(1): messages from local programs into the queue.

Recipients are @remote.test: remote delivery is not there yet, so such a
message stays in deferred/ and its queue file can be read back and checked
(the envelope records and the message bytes).
"""
import os
import struct
import subprocess
import tempfile

from harness import BIN, Instance, run, test, wait_for

SENDMAIL = os.path.join(BIN, "sendmail")
HOST = "mail.example.test"


def sendmail(inst, args, data, env=None):
    if isinstance(data, str):
        data = data.encode()
    e = dict(inst.env)
    if env:
        e.update(env)
    return subprocess.run([SENDMAIL, "-C", inst.conf] + list(args),
                          input=data, capture_output=True, timeout=60,
                          env=e)


def parse_queue_file(data):
    """{'sender': str, 'rcpts': [(state, addr)], 'message': bytes, ...}"""
    pos, out = 0, {"rcpts": []}
    while pos < len(data):
        t = chr(data[pos])
        n = struct.unpack(">I", data[pos + 1:pos + 5])[0]
        body = data[pos + 5:pos + 5 + n]
        if t == "S":
            out["sender"] = body.decode()
        elif t == "R":
            out["rcpts"].append((chr(body[0]), body[1:].decode()))
        elif t == "P":
            out["proto"] = body.decode()
        elif t == "M":
            out["message"] = body
        pos += 5 + n
    return out


def deferred(inst, count=1):
    """Wait for count messages in deferred/; {id: parsed queue file}."""
    d = inst.path("spool", "deferred")

    def read_all():
        out = {}
        try:
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    out[name] = parse_queue_file(f.read())
        except FileNotFoundError:   # moved on by the queue manager
            return None
        return out if len(out) >= count else None
    return wait_for(read_all, timeout=20,
                    what="%d message(s) in deferred/" % count)


def only(inst):
    q = deferred(inst)
    assert len(q) == 1, q
    return list(q.items())[0]


def started(port_base):
    i = Instance(port_base)
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    return i


def headers(message):
    return message.split(b"\n\n", 1)[0].decode()


@test
def extract_recipients_removes_bcc():
    i = started(28000)
    msg = ("To: Ann <ann@remote.test>, \"Bob, Jr.\" <bob@remote.test>\r\n"
           "Cc: team: carl@remote.test,\r\n"
           "  (a comment) dora@remote.test;\r\n"
           "Bcc: eve@remote.test\r\n"
           "Subject: t\r\n"
           "\r\n"
           "hello\r\n")
    r = sendmail(i, ["-t", "zed@remote.test"], msg)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"" and r.stderr == b"", r
    qid, q = only(i)
    addrs = sorted(a for _, a in q["rcpts"])
    assert addrs == ["ann@remote.test", "bob@remote.test", "carl@remote.test",
                     "dora@remote.test", "eve@remote.test",
                     "zed@remote.test"], addrs
    h = headers(q["message"])
    assert "\nBcc:" not in "\n" + h and "eve@" not in h, h
    assert "\nCc: team: carl@remote.test,\n  (a comment)" in h, h
    for name in ("Date:", "Message-ID:", "From:", "Received:"):
        assert "\n" + name in "\n" + h, (name, h)
    assert b"\r" not in q["message"]
    assert q["message"].endswith(b"\n\nhello\n"), q["message"]
    assert q.get("proto") == "local", q


@test
def sender_option_and_default_sender():
    i = started(28100)
    r = sendmail(i, ["-f", "list-bounces@lists.test", "a@remote.test"],
                 "Subject: one\n\nx\n", env={"NAME": "Lists Robot"})
    assert r.returncode == 0, r.stderr
    _, q = only(i)
    assert q["sender"] == "list-bounces@lists.test", q
    assert "\nFrom: Lists Robot <list-bounces@lists.test>\n" in \
        headers(q["message"]), q["message"]
    r = sendmail(i, ["-F", "The Robot", "b@remote.test"],
                 "Subject: two\n\ny\n")
    assert r.returncode == 0, r.stderr
    q = deferred(i, 2)
    two = [v for v in q.values() if v["rcpts"][0][1] == "b@remote.test"][0]
    import pwd
    login = pwd.getpwuid(os.getuid()).pw_name
    assert two["sender"] == "%s@%s" % (login, HOST), two
    assert "From: The Robot <%s@%s>" % (login, HOST) in \
        headers(two["message"])


@test
def null_sender_and_existing_headers_kept():
    i = started(28150)
    msg = ("From: someone@else.test\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Message-ID: <keep@else.test>\n\nbody\n")
    r = sendmail(i, ["-f", "<>", "c@remote.test"], msg)
    assert r.returncode == 0, r.stderr
    _, q = only(i)
    assert q["sender"] == "", q
    h = headers(q["message"])
    assert h.count("From:") == 1 and h.count("Date:") == 1, h
    assert h.count("Message-ID:") == 1 and "<keep@else.test>" in h, h


@test
def lone_dot_ends_input_unless_i():
    i = started(28200)
    text = "Subject: dot\n\nline1\n.\nline2\n..\n"
    for n, opts in enumerate(([], ["-i"], ["-oi"])):
        r = sendmail(i, opts + ["d%d@remote.test" % n], text)
        assert r.returncode == 0, (opts, r.stderr)
    q = deferred(i, 3)
    body = {v["rcpts"][0][1]: v["message"] for v in q.values()}
    assert body["d0@remote.test"].endswith(b"\n\nline1\n"), body
    for n in (1, 2):
        assert body["d%d@remote.test" % n].endswith(
            b"\n\nline1\n.\nline2\n..\n"), body


@test
def recipient_without_domain_gets_hostname():
    i = started(28300)
    r = sendmail(i, ["root", "Post Master <postmaster>"], "Subject: q\n\nz\n")
    assert r.returncode == 0, r.stderr
    _, q = only(i)
    addrs = sorted(a for _, a in q["rcpts"])
    assert addrs == ["postmaster@" + HOST, "root@" + HOST], addrs


@test
def duplicate_recipients_are_queued_once():
    i = started(28350)
    r = sendmail(i, ["-t", "a@remote.test"],
                 "To: a@remote.test, A <a@REMOTE.test>\nCc: a@remote.test\n\n")
    assert r.returncode == 0, r.stderr
    _, q = only(i)
    assert q["rcpts"] == [("Q", "a@remote.test")], q


@test
def bad_addresses_exit_64():
    i = started(28400)
    for args in (["bad@@remote.test"], ["-f", "no@@good", "a@remote.test"],
                 [], ["a@remote.test", "<unclosed@remote.test"]):
        r = sendmail(i, args, "Subject: x\n\nx\n")
        assert r.returncode == 64, (args, r)
        assert r.stderr.startswith(b"sendmail: "), r.stderr
    r = sendmail(i, ["-t"], "To: \"open@remote.test\n\nx\n")
    assert r.returncode == 65 and b"malformed To: header" in r.stderr, r
    r = sendmail(i, ["-q1h"], "")
    assert r.returncode == 64, r
    assert os.listdir(i.path("spool", "new")) == []
    assert os.listdir(i.path("spool", "deferred")) == []


@test
def mailq_symlink_and_bp_list_the_queue():
    i = started(28500)
    r = sendmail(i, ["e@remote.test"], "Subject: m\n\nm\n")
    assert r.returncode == 0, r.stderr
    qid, _ = only(i)
    d = tempfile.mkdtemp(prefix="postern-mailq.")
    link = os.path.join(d, "mailq")
    os.symlink(SENDMAIL, link)
    try:
        r = subprocess.run([link, "-C", i.conf], capture_output=True,
                           text=True, timeout=60, env=i.env)
        assert r.returncode == 0, r.stderr
        assert qid in r.stdout and "<e@remote.test>" in r.stdout, r.stdout
        assert r.stdout.strip().splitlines()[-1] == "1 message", r.stdout
        r2 = sendmail(i, ["-bp"], b"")
        assert r2.returncode == 0 and qid.encode() in r2.stdout, r2
    finally:
        os.unlink(link)
        os.rmdir(d)


@test
def stopped_instance_exits_75_and_queues_nothing():
    i = Instance(28600)
    r = sendmail(i, ["f@remote.test"], "Subject: s\n\ns\n")
    assert r.returncode == 75, r
    assert b"sendmail: cannot queue the message: " in r.stderr, r.stderr
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    i.ok("stop")
    r = sendmail(i, ["f@remote.test"], "Subject: s\n\ns\n")
    assert r.returncode == 75, r
    for sub in ("new", "deferred", "active"):
        assert os.listdir(i.path("spool", sub)) == [], sub


@test
def large_message_streams_through():
    i = started(28700)
    body = b"".join(b"line %06d %s\r\n" % (n, b"x" * 60)
                    for n in range(40000))
    r = sendmail(i, ["g@remote.test"], b"Subject: big\r\n\r\n" + body)
    assert r.returncode == 0, r.stderr
    _, q = only(i)
    assert q["message"].endswith(b"\n\n" + body.replace(b"\r\n", b"\n"))


if __name__ == "__main__":
    run()
