"""Bounces: delivery status notifications from postern-qmgr (RFC 3464).

A local sender (alice) writes with sendmail or through the injector's
protocol; what cannot be delivered comes back to her Maildir as one
multipart/report per message, parsed here with Python's email package:
an unknown user (5.1.1), several failed recipients in one DSN, a
Delivered-To: loop (5.4.6), queue_lifetime expiry (Action: failed, state X),
a delay warning sent once, the whole original within bounce_size_limit,
and no DSN at all for the null sender. Port bases 18000 to 18900."""
import email
import email.policy
import os
import re
import shutil
import stat
import subprocess
import time

from harness import (BIN, Instance, inject, log_has, run, test,
                     wait_for)

DOMAIN = "example.test"
HOST = "mail." + DOMAIN
SENDMAIL = os.path.join(BIN, "sendmail")
ORIGINAL = (b"From: Alice <alice@example.test>\n"
            b"To: somebody\n"
            b"Subject: bounce me\n"
            b"X-Test-Marker: kept-in-the-dsn\n"
            b"\n"
            b"the body, which is not returned by default\n")


def setup(port_base, conf=()):
    i = Instance(port_base)
    for u in ("alice", "bob"):
        i.add_user("%s@%s" % (u, DOMAIN), "secret-" + u)
    for kv in conf:
        i.ok("config", "set", kv)
    i.start()
    return i


def sendmail(inst, sender, rcpts, data=ORIGINAL):
    r = subprocess.run([SENDMAIL, "-C", inst.conf, "-f", sender] + rcpts,
                       input=data, capture_output=True, timeout=60,
                       env=inst.env)
    assert r.returncode == 0, r.stderr



def maildir_new(inst, user):
    return inst.path("mail", DOMAIN, user, "new")


def new_files(inst, user):
    try:
        return sorted(os.listdir(maildir_new(inst, user)))
    except FileNotFoundError:
        return []


def read_new(inst, user, name):
    with open(os.path.join(maildir_new(inst, user), name), "rb") as f:
        return f.read()


def queue_ids(inst):
    return set().union(*(os.listdir(inst.path("spool", d))
                         for d in ("new", "active", "deferred")))


def wait_dsn(inst, n=1, timeout=10.0):
    files = wait_for(lambda: len(new_files(inst, "alice")) >= n and
                     new_files(inst, "alice"), timeout=timeout,
                     what="%d DSN(s) in alice's Maildir" % n)
    return [read_new(inst, "alice", f) for f in files]


class Dsn:
    """The parts of one DSN, as the email package reads them."""

    def __init__(self, data):
        self.raw = data
        for line in data.split(b"\n"):
            assert len(line) <= 998, line[:80]
        assert b"\r" not in data and b"\0" not in data
        self.msg = email.message_from_bytes(data, policy=email.policy.compat32)
        m = self.msg
        assert m.get_content_type() == "multipart/report", m.get_content_type()
        assert m.get_param("report-type") == "delivery-status"
        parts = m.get_payload()
        assert parts[0].get_content_type() == "text/plain"
        assert parts[1].get_content_type() == "message/delivery-status"
        self.text = parts[0].get_payload(decode=True).decode()
        blocks = parts[1].get_payload()
        self.per_message = blocks[0]
        self.rcpts = blocks[1:]
        self.original = parts[2] if len(parts) > 2 else None
        boundary = m.get_boundary()
        assert boundary and data.count(boundary.encode()) == 1 + len(parts) + 1

    def rcpt(self, addr):
        for r in self.rcpts:
            if r["Final-Recipient"] == "rfc822; " + addr:
                return r
        raise AssertionError("no block for %s in %s" % (
            addr, [r["Final-Recipient"] for r in self.rcpts]))


def check_envelope(data, dsn):
    """Delivered from the null sender to alice, with the DSN headers."""
    assert data.startswith(b"Return-Path: <>\nDelivered-To: "
                           b"alice@example.test\n"), data[:120]
    m = dsn.msg
    assert m["From"] == "Mail Delivery System <MAILER-DAEMON@%s>" % HOST
    assert m["To"] == "<alice@example.test>"
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["MIME-Version"] == "1.0"
    assert re.match(r"<[^@>]+\.dsn@%s>$" % re.escape(HOST), m["Message-ID"])
    assert email.utils.parsedate_to_datetime(m["Date"]) is not None
    pm = dsn.per_message
    assert pm["Reporting-MTA"] == "dns; " + HOST
    assert pm["X-Postern-Sender"] == "rfc822; alice@example.test"
    assert email.utils.parsedate_to_datetime(pm["Arrival-Date"]) is not None


def check_original_headers(dsn):
    assert dsn.original.get_content_type() == "text/rfc822-headers"
    text = dsn.original.get_payload(decode=True)
    assert b"Subject: bounce me\n" in text, text
    assert b"X-Test-Marker: kept-in-the-dsn\n" in text
    assert b"the body" not in text


def notification(inst, kind="non-delivery"):
    """(original id, DSN id) from the log line of the DSN."""
    m = log_has(inst, r"(\w+): sender %s notification: (\w+)" % kind)
    return m.group(1), m.group(2)


@test
def unknown_local_user_bounces_to_local_sender():
    i = setup(18000)
    sendmail(i, "alice@example.test", ["nobody@example.test"])
    data = wait_dsn(i)[0]
    dsn = Dsn(data)
    check_envelope(data, dsn)
    assert dsn.msg["Subject"] == "Undelivered Mail Returned to Sender"
    qid, dsn_id = notification(i)
    assert dsn.per_message["X-Postern-Queue-ID"] == qid
    assert len(dsn.rcpts) == 1
    r = dsn.rcpt("nobody@example.test")
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.1"
    assert r["Diagnostic-Code"] == "X-Postern; 5.1.1 user unknown"
    assert email.utils.parsedate_to_datetime(r["Last-Attempt-Date"])
    assert r["Will-Retry-Until"] is None and r["Remote-MTA"] is None
    assert "<nobody@example.test>: 5.1.1 user unknown" in dsn.text
    check_original_headers(dsn)
    log_has(i, qid + r": to=<nobody@example.test> relay=none .*"
            r"status=bounced \(5\.1\.1 user unknown\)")
    log_has(i, dsn_id + r": to=<alice@example.test> relay=local .*"
            r"status=sent")
    log_has(i, dsn_id + r": from=<> ")
    wait_for(lambda: not queue_ids(i), what="the queue to empty")


@test
def one_dsn_covers_every_failed_recipient():
    i = setup(18100)
    sendmail(i, "alice@example.test",
             ["nobody@example.test", "bob@example.test",
              "ghost@example.test"])
    data = wait_dsn(i)[0]
    dsn = Dsn(data)
    assert sorted(r["Final-Recipient"] for r in dsn.rcpts) == [
        "rfc822; ghost@example.test", "rfc822; nobody@example.test"]
    assert all(r["Status"] == "5.1.1" for r in dsn.rcpts)
    wait_for(lambda: new_files(i, "bob"), what="bob's copy")
    wait_for(lambda: not queue_ids(i), what="the queue to empty")
    time.sleep(0.5)
    assert len(new_files(i, "alice")) == 1
    assert len(re.findall(r"sender non-delivery notification", i.log())) == 1


@test
def null_sender_gets_no_dsn():
    i = setup(18200)
    qid = inject(i, "", ["nobody@example.test"], ORIGINAL)
    log_has(i, qid + r": to=<nobody@example.test> .*status=bounced")
    log_has(i, qid + r": no DSN for the null sender")
    wait_for(lambda: not queue_ids(i), what="the queue to empty")
    assert "notification" not in i.log()
    assert not new_files(i, "alice")


@test
def delivered_to_loop_bounces_with_5_4_6():
    i = setup(18300)
    body = (b"Delivered-To: bob@example.test\nSubject: bounce me\n"
            b"X-Test-Marker: kept-in-the-dsn\n\nlooping\n")
    qid = inject(i, "alice@example.test", ["bob@example.test"], body)
    data = wait_dsn(i)[0]
    dsn = Dsn(data)
    check_envelope(data, dsn)
    assert dsn.per_message["X-Postern-Queue-ID"] == qid
    r = dsn.rcpt("bob@example.test")
    assert r["Action"] == "failed" and r["Status"] == "5.4.6", r.items()
    assert r["Diagnostic-Code"].startswith("X-Postern; 5.4.6 ")
    check_original_headers(dsn)
    assert not new_files(i, "bob")


@test
def queue_lifetime_expiry_bounces():
    i = setup(18400, conf=("queue_lifetime=5s", "retry_min=1s",
                           "retry_max=2s"))
    shutil.rmtree(i.path("mail", DOMAIN, "bob"))
    sendmail(i, "alice@example.test", ["bob@example.test"])
    log_has(i, r"to=<bob@example.test> relay=local .*status=deferred "
            r"\(4\.2\.0 mailbox does not exist\)")
    data = wait_dsn(i, timeout=30)[0]
    dsn = Dsn(data)
    check_envelope(data, dsn)
    assert dsn.msg["Subject"] == "Undelivered Mail Returned to Sender"
    r = dsn.rcpt("bob@example.test")
    assert r["Action"] == "failed"
    assert r["Status"] == "4.2.0", r["Status"]
    assert r["Diagnostic-Code"] == "X-Postern; 4.2.0 mailbox does not exist"
    assert "delivery time expired" in dsn.text
    check_original_headers(dsn)
    qid = dsn.per_message["X-Postern-Queue-ID"]
    log_has(i, qid + r": to=<bob@example.test> relay=none .*"
            r"status=expired \(4\.2\.0 mailbox does not exist\)")
    log_has(i, qid + r": sender non-delivery notification: ")
    wait_for(lambda: qid not in queue_ids(i), what="the message to go")
    assert "sender delay notification" not in i.log()


def rcpt_states(inst, qid):
    """{address: state} from the queue file's R records, wherever it is."""
    for d in ("deferred", "active", "new"):
        try:
            with open(inst.path("spool", d, qid), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        out, pos = {}, 0
        while pos + 5 <= len(data):
            kind, n = data[pos:pos + 1], int.from_bytes(data[pos + 1:pos + 5],
                                                        "big")
            if kind == b"R":
                rec = data[pos + 5:pos + 5 + n]
                out[rec[1:].decode()] = chr(rec[0])
            pos += 5 + n
        return out
    return None


@test
def each_round_has_its_own_dsn_and_states_follow_it():
    """carol fails at once: a first DSN, and F in the file while bob stays
    Q; bob expires later: a second DSN for him alone."""
    i = setup(18500, conf=("queue_lifetime=5s", "retry_min=1s",
                           "retry_max=1s"))
    shutil.rmtree(i.path("mail", DOMAIN, "bob"))
    qid = inject(i, "alice@example.test",
                 ["bob@example.test", "carol@example.test"], ORIGINAL)
    first = Dsn(wait_dsn(i)[0])
    assert first.per_message["X-Postern-Queue-ID"] == qid
    assert [r["Final-Recipient"] for r in first.rcpts] == [
        "rfc822; carol@example.test"]
    assert first.rcpts[0]["Status"] == "5.1.1"
    states = wait_for(lambda: rcpt_states(i, qid), what="the queue file")
    assert states == {"bob@example.test": "Q",
                      "carol@example.test": "F"}, states
    dsns = [Dsn(d) for d in wait_dsn(i, 2, timeout=30)]
    second = [d for d in dsns if d is not None and
              d.rcpts[0]["Final-Recipient"] == "rfc822; bob@example.test"]
    assert len(second) == 1 and len(second[0].rcpts) == 1
    assert second[0].rcpts[0]["Action"] == "failed"
    log_has(i, qid + r": to=<bob@example.test> relay=none .*status=expired")
    wait_for(lambda: qid not in queue_ids(i), what="the message to go")
    assert i.log().count(qid + ": sender non-delivery notification") == 2


@test
def delay_warning_is_sent_once():
    i = setup(18600, conf=("delay_warning_time=2s", "retry_min=1s",
                           "retry_max=1s", "queue_lifetime=1h"))
    shutil.rmtree(i.path("mail", DOMAIN, "bob"))
    sendmail(i, "alice@example.test", ["bob@example.test"])
    data = wait_dsn(i, timeout=20)[0]
    dsn = Dsn(data)
    check_envelope(data, dsn)
    assert dsn.msg["Subject"] == "Delayed Mail (still being retried)"
    r = dsn.rcpt("bob@example.test")
    assert r["Action"] == "delayed"
    assert r["Status"] == "4.2.0"
    assert email.utils.parsedate_to_datetime(r["Will-Retry-Until"])
    assert "WARNING ONLY" in dsn.text
    check_original_headers(dsn)
    qid, _ = notification(i, "delay")
    # more attempts follow, but no second warning
    n = i.log().count(qid + ": to=<bob@example.test>")
    wait_for(lambda: i.log().count(qid + ": to=<bob@example.test>") >= n + 3,
             timeout=20, what="three more attempts")
    assert len(new_files(i, "alice")) == 1
    assert i.log().count("sender delay notification") == 1
    st = os.stat(i.path("spool", "deferred", qid))
    assert st.st_mode & stat.S_IXUSR, oct(st.st_mode)


@test
def bounce_size_limit_returns_the_whole_message():
    i = setup(18700, conf=("bounce_size_limit=100000",))
    sendmail(i, "alice@example.test", ["nobody@example.test"])
    dsn = Dsn(wait_dsn(i)[0])
    assert dsn.original.get_content_type() == "message/rfc822"
    inner = dsn.original.get_payload()[0]
    assert inner["Subject"] == "bounce me"
    assert "the body, which is not returned by default" in \
        inner.get_payload()


@test
def long_and_hostile_headers_are_folded():
    i = setup(18800)
    long_value = b" ".join([b"word%d" % k for k in range(400)])
    body = (b"Subject: bounce me\nX-Long: " + long_value + b"\n"
            b"X-Unbroken: " + b"y" * 2500 + b"\n\nbody\n")
    inject(i, "alice@example.test", ["nobody@example.test"], body)
    dsn = Dsn(wait_dsn(i)[0])   # every line <= 998 is checked there
    hdrs = email.message_from_bytes(dsn.original.get_payload(decode=True))
    assert re.sub(r"\s+", " ", hdrs["X-Long"]) == long_value.decode()
    assert len(re.sub(r"\s+", "", hdrs["X-Unbroken"])) == 2500


if __name__ == "__main__":
    run()
