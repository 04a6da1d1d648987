"""The DSN extension (RFC 3461) on the way in and through the queue.

smtpd advertises DSN and refuses bad RET, ENVID, NOTIFY and ORCPT values
(501 5.5.4); sendmail takes -N, -R and -V. The queue manager honours them:
NOTIFY=NEVER sends nothing (but logs the failure), NOTIFY=SUCCESS gives a
"delivered" notice for a local mailbox and a "relayed" one for a next hop
without DSN, RET=HDRS returns the header section only, ENVID and ORCPT come
back as Original-Envelope-Id and Original-Recipient. A next hop that
offers DSN gets RET, ENVID, NOTIFY and ORCPT and reports success itself.

Port bases 14000 to 14600; fake next hops on 14950 to 14999."""
import email
import email.policy
import os
import re
import smtplib
import socket
import socketserver
import subprocess
import threading
import time

from harness import (BIN, Instance, log_has, queue_empty, run, test,
                     wait_for)

DOMAIN = "example.test"
SENDMAIL = os.path.join(BIN, "sendmail")
ORIGINAL = (b"From: Alice <alice@example.test>\n"
            b"To: somebody\n"
            b"Subject: dsn me\n"
            b"X-Test-Marker: kept-in-the-dsn\n"
            b"\n"
            b"the body, returned only with the full message\n")


def setup(port_base, conf=()):
    i = Instance(port_base)
    for u in ("alice", "bob"):
        i.add_user("%s@%s" % (u, DOMAIN), "secret-" + u)
    i.ok("config", "set", "retry_min=2s")
    i.ok("config", "set", "retry_max=4s")
    for kv in conf:
        i.ok("config", "set", kv)
    i.start()
    return i


def sendmail(inst, args, data=ORIGINAL, code=0):
    r = subprocess.run([SENDMAIL, "-C", inst.conf] + args, input=data,
                       capture_output=True, timeout=60, env=inst.env)
    assert r.returncode == code, (r.returncode, r.stderr)
    return r


def new_files(inst, user):
    try:
        return sorted(os.listdir(inst.path("mail", DOMAIN, user, "new")))
    except FileNotFoundError:
        return []


def read_new(inst, user, name):
    with open(inst.path("mail", DOMAIN, user, "new", name), "rb") as f:
        return f.read()


def wait_dsn(inst, n=1, timeout=20.0):
    files = wait_for(lambda: len(new_files(inst, "alice")) >= n and
                     new_files(inst, "alice"), timeout=timeout,
                     what="%d DSN(s) in alice's Maildir" % n)
    return [Dsn(read_new(inst, "alice", f)) for f in files]


class Dsn:
    """One multipart/report, as the email package reads it."""

    def __init__(self, data):
        self.raw = data
        self.msg = email.message_from_bytes(data, policy=email.policy.compat32)
        assert self.msg.get_content_type() == "multipart/report"
        parts = self.msg.get_payload()
        assert parts[1].get_content_type() == "message/delivery-status"
        self.text = parts[0].get_payload(decode=True).decode()
        blocks = parts[1].get_payload()
        self.per_message = blocks[0]
        self.rcpts = blocks[1:]
        self.original = parts[2] if len(parts) > 2 else None


def inject_raw(inst, lines, body):
    """Queue body with the injector's protocol, head and recipient lines
    as given (the DSN lines among them); the queue id."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(inst.path("spool", "private", "inject"))
    data = "".join(l + "\n" for l in lines).encode() + b"DATA\n"
    data += b"%d\n" % len(body) + body + b"0\n"
    s.sendall(data)
    ans = s.makefile("rb").readline().decode().rstrip("\n")
    s.close()
    assert ans.startswith("OK\t"), ans
    return ans.split("\t", 1)[1]


class NextHop(socketserver.ThreadingTCPServer):
    """A tiny SMTP server that records MAIL and RCPT lines as sent; it
    offers DSN when told to."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port, dsn):
        self.dsn = dsn
        self.lines = []
        self.messages = 0
        super().__init__(("127.0.0.1", port), NextHopSession)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class NextHopSession(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 nexthop.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode().rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                exts = ["nexthop.test", "PIPELINING", "8BITMIME"]
                if self.server.dsn:
                    exts.append("DSN")
                for k, e in enumerate(exts):
                    sep = " " if k == len(exts) - 1 else "-"
                    self.reply("250" + sep + e)
            elif verb in ("MAIL", "RCPT"):
                self.server.lines.append(cmd)
                self.reply("250 2.1.0 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.server.messages += 1
                self.reply("250 2.0.0 queued at the next hop")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@test
def ehlo_offers_dsn_and_bad_values_get_501():
    i = setup(14000)
    s = smtplib.SMTP("127.0.0.1", 14025, timeout=30)
    try:
        code, _ = s.ehlo("client.test")
        assert code == 250 and s.has_extn("dsn"), s.esmtp_features
        bad_mail = ["RET=FOO", "RET=", "ENVID=a+0Db", "ENVID=a=b",
                    "ENVID=" + "e" * 101]
        for p in bad_mail:
            code, msg = s.docmd("MAIL FROM:<alice@example.test> " + p)
            assert code == 501 and msg.startswith(b"5.5.4"), (p, code, msg)
        code, msg = s.docmd("MAIL FROM:<alice@example.test> RET=HDRS "
                            "ENVID=QQ+2B1")
        assert code == 250, msg
        bad_rcpt = ["NOTIFY=NEVER,SUCCESS", "NOTIFY=ALWAYS", "NOTIFY=",
                    "ORCPT=bob@example.test", "ORCPT=rfc822;",
                    "ORCPT=rfc822;bob+0A@example.test",
                    "ORCPT=rfc822;" + "o" * 494]
        for p in bad_rcpt:
            code, msg = s.docmd("RCPT TO:<bob@example.test> " + p)
            assert code == 501 and msg.startswith(b"5.5.4"), (p, code, msg)
        code, msg = s.docmd("RCPT TO:<bob@example.test> "
                            "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+2B@x.test")
        assert code == 250, msg
    finally:
        s.close()


@test
def notify_never_sends_no_bounce_but_logs():
    i = setup(14100)
    sendmail(i, ["-f", "alice@example.test", "-N", "never",
                 "nobody@example.test"])
    log_has(i, r"to=<nobody@example\.test> relay=none .*status=bounced")
    log_has(i, r"to=<nobody@example\.test>: no non-delivery notification: "
            r"the sender asked for NOTIFY=NEVER")
    wait_for(lambda: queue_empty(i), what="the queue to empty")
    # a recipient with FAILURE still bounces, in the same instance
    sendmail(i, ["-f", "alice@example.test", "-N", "failure",
                 "ghost@example.test"])
    dsn = wait_dsn(i)[0]
    assert [r["Final-Recipient"] for r in dsn.rcpts] == [
        "rfc822; ghost@example.test"]
    time.sleep(0.5)
    assert len(new_files(i, "alice")) == 1
    assert "nobody" not in dsn.raw.decode(errors="replace")


@test
def notify_success_local_gives_delivered_notice():
    i = setup(14200)
    s = smtplib.SMTP("127.0.0.1", 14225, timeout=30)
    try:
        s.ehlo("client.test")
        code, msg = s.docmd("MAIL FROM:<alice@example.test> RET=FULL "
                            "ENVID=QQ+2B314")
        assert code == 250, msg
        code, msg = s.docmd("RCPT TO:<bob@example.test> NOTIFY=SUCCESS "
                            "ORCPT=rfc822;Bob+2Bold@old.example")
        assert code == 250, msg
        code, msg = s.data(ORIGINAL.replace(b"\n", b"\r\n"))
        assert code == 250, msg
        s.quit()
    finally:
        s.close()
    wait_for(lambda: new_files(i, "bob"), what="bob's copy")
    dsn = wait_dsn(i)[0]
    assert dsn.msg["Subject"] == "Successful Mail Delivery Report"
    assert dsn.per_message["Original-Envelope-Id"] == "QQ+314"
    assert len(dsn.rcpts) == 1
    r = dsn.rcpts[0]
    assert r["Final-Recipient"] == "rfc822; bob@example.test"
    assert r["Original-Recipient"] == "rfc822; Bob+old@old.example"
    assert r["Action"] == "delivered", r["Action"]
    assert r["Status"].startswith("2."), r["Status"]
    # a notice of success returns the headers only, even with RET=FULL
    assert dsn.original.get_content_type() == "text/rfc822-headers"
    log_has(i, r"sender success notification: \w+")
    wait_for(lambda: queue_empty(i), what="the queue to empty")


@test
def ret_hdrs_bounce_returns_headers_only():
    i = setup(14300, ["bounce_size_limit=1m"])
    sendmail(i, ["-f", "alice@example.test", "nobody@example.test"])
    full = wait_dsn(i, 1)[0]
    assert full.original.get_content_type() == "message/rfc822"
    sendmail(i, ["-f", "alice@example.test", "-R", "hdrs", "-V",
                 "my id=1", "ghost@example.test"])
    dsns = wait_dsn(i, 2)
    hdrs = [d for d in dsns if "ghost" in d.rcpts[0]["Final-Recipient"]][0]
    assert hdrs.original.get_content_type() == "text/rfc822-headers"
    text = hdrs.original.get_payload(decode=True)
    assert b"X-Test-Marker: kept-in-the-dsn" in text, text
    assert b"the body" not in text
    assert hdrs.per_message["Original-Envelope-Id"] == "my id=1"
    assert hdrs.rcpts[0]["Action"] == "failed"
    # bad values are refused by sendmail itself
    sendmail(i, ["-R", "all", "bob@example.test"], code=64)
    sendmail(i, ["-N", "never,success", "bob@example.test"], code=64)
    sendmail(i, ["-V", "x" * 60, "bob@example.test"], code=0)
    sendmail(i, ["-V", "+" * 40, "bob@example.test"], code=64)


@test
def next_hop_without_dsn_gives_relayed_notice():
    hop = NextHop(14950, dsn=False)
    try:
        i = setup(14400, ["relay_host=[127.0.0.1]:14950"])
        sendmail(i, ["-f", "alice@example.test", "-N", "success,failure",
                     "-R", "hdrs", "-V", "env1", "x@remote.test"])
        wait_for(lambda: hop.messages == 1, what="the next hop's copy")
        assert hop.lines[0].startswith("MAIL FROM:<alice@example.test>")
        assert "RET=" not in hop.lines[0] and "ENVID=" not in hop.lines[0]
        assert hop.lines[1] == "RCPT TO:<x@remote.test>", hop.lines
        dsn = wait_dsn(i)[0]
        r = dsn.rcpts[0]
        assert r["Action"] == "relayed", r["Action"]
        assert r["Final-Recipient"] == "rfc822; x@remote.test"
        assert r["Remote-MTA"] == "dns; 127.0.0.1", r["Remote-MTA"]
        assert r["Status"].startswith("2."), r["Status"]
        assert dsn.per_message["Original-Envelope-Id"] == "env1"
        wait_for(lambda: queue_empty(i), what="the queue to empty")
    finally:
        hop.stop()


@test
def next_hop_with_dsn_gets_the_parameters_and_reports_itself():
    hop = NextHop(14951, dsn=True)
    try:
        i = setup(14500, ["relay_host=[127.0.0.1]:14951"])
        inject_raw(i, ["SENDER\talice@example.test", "FLAGS\t8",
                       "ENVID\tQQ+2B314", "NOTIFY\t6",
                       "ORCPT\trfc822;X+2Bo@old.example",
                       "RCPT\tx@remote.test", "NOTIFY\t1",
                       "RCPT\ty@remote.test"], ORIGINAL)
        wait_for(lambda: hop.messages == 1, what="the next hop's copy")
        mail, rcpts = hop.lines[0], hop.lines[1:]
        assert re.match(r"MAIL FROM:<alice@example\.test>.* RET=HDRS "
                        r"ENVID=QQ\+2B314$", mail), mail
        assert rcpts == [
            "RCPT TO:<x@remote.test> NOTIFY=SUCCESS,FAILURE "
            "ORCPT=rfc822;X+2Bo@old.example",
            "RCPT TO:<y@remote.test> NOTIFY=NEVER"], rcpts
        wait_for(lambda: queue_empty(i), what="the queue to empty")
        time.sleep(1.0)
        assert not new_files(i, "alice"), "a success notice was sent"
        assert "notification" not in i.log()
    finally:
        hop.stop()


@test
def alias_of_several_targets_gives_one_expanded_notice():
    i = setup(14600)
    i.ok("alias", "add", "team@example.test",
         "bob@example.test,alice@example.test")
    time.sleep(1.5)
    sendmail(i, ["-f", "alice@example.test", "-N", "success",
                 "team@example.test"])
    wait_for(lambda: new_files(i, "bob"), what="bob's copy")
    wait_for(lambda: len(new_files(i, "alice")) >= 2,
             what="alice's copy and the notice")
    msgs = [read_new(i, "alice", f) for f in new_files(i, "alice")]
    notices = [Dsn(m) for m in msgs if b"multipart/report" in m]
    assert len(notices) == 1 and len(msgs) == 2
    r = notices[0].rcpts[0]
    assert r["Action"] == "expanded", r["Action"]
    assert r["Final-Recipient"] == "rfc822; team@example.test"


run()
