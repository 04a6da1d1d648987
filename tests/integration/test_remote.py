"""Mail out: postern-qmgr's remote scheduling and postern-remote's SMTP
client against capture servers on loopback (aiosmtpd) and a DNS server
on loopback (dnsmasq) with MX records.

Checked: relay_host delivery byte for byte (CRLF, dot-stuffing); MX
delivery in preference order and fallback to the second MX when the
first is down; a 451 then delivery on retry, and a destination that is
down backed off as a whole; several recipients in one session and one
transaction, and a second message on the same session (RSET); STARTTLS
when offered; 8-bit body to a server without 8BITMIME bounced (5.6.3);
550 per recipient; null MX (5.1.10); a forward alias (local -> remote);
FLUSH retrying at once."""
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading

from aiosmtpd.controller import Controller

from harness import (Instance, inject, log_has, qmgr_command, queue_empty,
                     run, test, wait_for)

DOMAIN = "example.test"
DNSMASQ = "/usr/sbin/dnsmasq"
BODY = (b"From: a@example.test\nTo: x@remote.test\nSubject: out\n\n"
        b"line 1\n.leading dot\n..two dots\n" + b"y" * 900 + b"\n" + b"z" * 900 + b"\nend\n")
BODY8 = BODY.replace(b"line 1", b"ligne \xc3\xa9t\xc3\xa9")


class Capture:
    """An SMTP server that records what it receives. replies maps a
    recipient to the list of replies its next RCPTs get (then 250)."""

    def __init__(self, host, port, tls_pair=None, no8bit=False):
        self.envelopes = []
        self.ehlos = []
        self.replies = {}
        self.no8bit = no8bit
        self.lock = threading.Lock()
        kw = {}
        if tls_pair:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls_pair)
            kw["tls_context"] = ctx
        self.controller = Controller(self, hostname=host, port=port, **kw)
        self.controller.start()

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        with self.lock:
            self.ehlos.append((session.peer, session.ssl is not None))
        if self.no8bit:
            responses = [r for r in responses if "8BITMIME" not in r]
        return responses

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        with self.lock:
            queue = self.replies.get(address)
            code = queue.pop(0) if queue else None
        if code:
            return code
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append({
                "peer": session.peer, "sender": envelope.mail_from,
                "rcpts": list(envelope.rcpt_tos),
                "data": envelope.original_content,
                "options": list(envelope.mail_options),
                "tls": session.ssl is not None})
        return "250 2.0.0 captured"

    def stop(self):
        self.controller.stop()


class Dns:
    """dnsmasq on 127.0.0.1:port answering only the records given."""

    def __init__(self, port, mx=(), hosts=()):
        self.tmp = tempfile.mkdtemp(prefix="postern-dns.")
        args = [DNSMASQ, "-k", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--port=%d" % port,
                "--listen-address=127.0.0.1", "--bind-interfaces",
                "--pid-file=" + os.path.join(self.tmp, "pid")]
        if os.geteuid() == 0:
            args.append("--user=root")
        args += ["--mx-host=%s,%s,%d" % m for m in mx]
        args += ["--host-record=%s,%s" % h for h in hosts]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_for(lambda: self.answers(port), what="dnsmasq")

    def answers(self, port):
        if self.proc.poll() is not None:
            raise AssertionError("dnsmasq: " + self.proc.stderr.read().decode())
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" \
            b"\x04test\x00\x00\x01\x00\x01"
        try:
            s.sendto(q, ("127.0.0.1", port))
            return s.recv(512)
        except OSError:
            return None
        finally:
            s.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


_servers = []


def capture(*a, **kw):
    c = Capture(*a, **kw)
    _servers.append(c)
    return c


def dns(*a, **kw):
    d = Dns(*a, **kw)
    _servers.append(d)
    return d


def stop_servers():
    while _servers:
        try:
            _servers.pop().stop()
        except Exception:
            pass




def setup(port_base, conf=(), users=("user",)):
    i = Instance(port_base)
    for u in users:
        i.add_user("%s@%s" % (u, DOMAIN), "secret-" + u)
    i.ok("config", "set", "retry_min=2s")
    i.ok("config", "set", "retry_max=4s")
    for kv in conf:
        i.ok("config", "set", kv)
    i.start()
    return i


def wire(body):
    """What the capture server must see: CRLF lines (aiosmtpd undoes the
    dot-stuffing)."""
    return body.replace(b"\n", b"\r\n")


@test
def relay_host_delivery_is_exact():
    try:
        cap = capture("127.0.0.1", 17097)
        i = setup(17000, ["relay_host=[127.0.0.1]:17097"])
        qid = inject(i, "a@example.test", ["x@remote.test"], BODY)
        wait_for(lambda: cap.envelopes, what="the capture server")
        env = cap.envelopes[0]
        assert env["sender"] == "a@example.test", env
        assert env["rcpts"] == ["x@remote.test"], env
        assert env["data"] == wire(BODY), env["data"][:300]
        assert "SIZE=%d" % (len(BODY) + BODY.count(b"\n")) in env["options"]
        log_has(i, qid + r": to=<x@remote\.test> relay=127\.0\.0\.1\["
                r"127\.0\.0\.1\]:17097 delay=[0-9.]+ status=sent "
                r"\(2\.0\.0 .*250 2\.0\.0 captured\)")
        wait_for(lambda: queue_empty(i), what="the queue to empty")
    finally:
        stop_servers()


@test
def mx_preference_order_and_fallback():
    try:
        first = capture("127.0.0.1", 17197)
        second = capture("127.0.0.3", 17197)
        dns(17198, mx=[("pref.example", "mx1.pref.example", 10),
                       ("pref.example", "mx2.pref.example", 20),
                       ("down.example", "mx1.down.example", 10),
                       ("down.example", "mx2.down.example", 20)],
            hosts=[("mx1.pref.example", "127.0.0.1"),
                   ("mx2.pref.example", "127.0.0.3"),
                   ("mx1.down.example", "127.0.0.2"),
                   ("mx2.down.example", "127.0.0.3")])
        i = setup(17100, ["dns_servers=127.0.0.1:17198", "remote_port=17197"])
        qid = inject(i, "a@example.test", ["x@pref.example"], BODY)
        wait_for(lambda: first.envelopes, what="the preferred MX")
        log_has(i, qid + r": to=<x@pref\.example> relay=mx1\.pref\.example"
                r"\[127\.0\.0\.1\]:17197 delay=[0-9.]+ status=sent")
        assert not second.envelopes
        # the first MX of down.example (127.0.0.2) refuses connections
        qid = inject(i, "a@example.test", ["y@down.example"], BODY)
        wait_for(lambda: second.envelopes, what="the second MX")
        assert second.envelopes[0]["rcpts"] == ["y@down.example"]
        log_has(i, qid + r": 4\.4\.1 connect to mx1\.down\.example"
                r"\[127\.0\.0\.2\]:17197: Connection refused")
        log_has(i, qid + r": to=<y@down\.example> relay=mx2\.down\.example"
                r"\[127\.0\.0\.3\]:17197 delay=[0-9.]+ status=sent")
        wait_for(lambda: queue_empty(i), what="the queue to empty")
    finally:
        stop_servers()


@test
def null_mx_bounces():
    try:
        dns(17298, mx=[("nomail.example", ".", 0)],
            hosts=[("other.example", "127.0.0.1")])
        i = setup(17200, ["dns_servers=127.0.0.1:17298", "remote_port=17297"])
        qid = inject(i, "a@example.test", ["x@nomail.example"], BODY)
        log_has(i, qid + r": to=<x@nomail\.example> relay=none delay=[0-9.]+ "
                r"status=bounced \(5\.1\.10 domain nomail\.example accepts no "
                r"mail \(null MX")
        wait_for(lambda: queue_empty(i), what="the queue to empty")
    finally:
        stop_servers()


@test
def temporary_failure_then_delivery_on_retry():
    try:
        cap = capture("127.0.0.1", 17397)
        cap.replies["x@remote.test"] = ["451 4.3.0 try later"]
        i = setup(17300, ["relay_host=[127.0.0.1]:17397"])
        qid = inject(i, "a@example.test", ["x@remote.test"], BODY)
        log_has(i, qid + r": to=<x@remote\.test> relay=127\.0\.0\.1"
                r"\[127\.0\.0\.1\]:17397 delay=[0-9.]+ status=deferred "
                r"\(4\.3\.0 .*451 4\.3\.0 try later\)")
        wait_for(lambda: qid in os.listdir(i.path("spool", "deferred")),
                 what="the message in deferred/")
        wait_for(lambda: cap.envelopes, timeout=20, what="the retry")
        log_has(i, qid + r": to=<x@remote\.test> .* status=sent")
        wait_for(lambda: queue_empty(i), what="the queue to empty")
    finally:
        stop_servers()


@test
def recipients_share_one_session_and_transaction():
    try:
        cap = capture("127.0.0.1", 17497)
        cap.replies["bad@remote.test"] = ["550 5.1.1 no such user"]
        i = setup(17400, ["relay_host=[127.0.0.1]:17497"])
        rcpts = ["r%d@remote.test" % k for k in range(5)]
        qid = inject(i, "a@example.test", rcpts + ["bad@remote.test"], BODY)
        wait_for(lambda: cap.envelopes, what="the capture server")
        log_has(i, qid + r": to=<bad@remote\.test> .* status=bounced "
                r"\(5\.1\.1 .*550 5\.1\.1 no such user\)")
        assert len(cap.envelopes) == 1, cap.envelopes
        assert sorted(cap.envelopes[0]["rcpts"]) == rcpts
        for r in rcpts:
            log_has(i, qid + r": to=<%s> .* status=sent" % re.escape(r))
        # a second message to the same destination: the same session
        qid2 = inject(i, "a@example.test", ["z@remote.test"], BODY)
        wait_for(lambda: len(cap.envelopes) == 2, what="the second message")
        assert cap.envelopes[1]["peer"] == cap.envelopes[0]["peer"]
        assert len(cap.ehlos) == 1, cap.ehlos
        log_has(i, qid2 + r": to=<z@remote\.test> .* status=sent")
    finally:
        stop_servers()


@test
def starttls_is_used_when_offered():
    try:
        i = setup(17500, ["relay_host=[127.0.0.1]:17597"])
        cap = capture("127.0.0.1", 17597, tls_pair=(
            i.path("etc", "tls.crt"), i.path("etc", "tls.key")))
        qid = inject(i, "a@example.test", ["x@remote.test"], BODY)
        wait_for(lambda: cap.envelopes, what="the capture server")
        assert cap.envelopes[0]["tls"], cap.envelopes[0]
        assert cap.envelopes[0]["data"] == wire(BODY)
        log_has(i, qid + r": relay=127\.0\.0\.1\[127\.0\.0\.1\]:17597 TLS "
                r"established: TLSv1\.[23] ")
        log_has(i, qid + r": to=<x@remote\.test> .* status=sent")
    finally:
        stop_servers()


@test
def eight_bit_to_server_without_8bitmime_bounces():
    try:
        plain = capture("127.0.0.1", 17697, no8bit=True)
        i = setup(17600, ["relay_host=[127.0.0.1]:17697"])
        qid = inject(i, "a@example.test", ["x@remote.test"], BODY8)
        log_has(i, qid + r": to=<x@remote\.test> relay=127\.0\.0\.1"
                r"\[127\.0\.0\.1\]:17697 delay=[0-9.]+ status=bounced "
                r"\(5\.6\.3 .*8BITMIME")
        assert not plain.envelopes
        # a 7-bit message still goes out there, without BODY=
        inject(i, "a@example.test", ["x@remote.test"], BODY)
        wait_for(lambda: plain.envelopes, what="the 7-bit message")
        assert "BODY=8BITMIME" not in plain.envelopes[0]["options"]
    finally:
        stop_servers()


@test
def eight_bit_declared_to_server_with_8bitmime():
    try:
        cap = capture("127.0.0.1", 17797)
        i = setup(17700, ["relay_host=[127.0.0.1]:17797"])
        inject(i, "a@example.test", ["x@remote.test"], BODY8)
        wait_for(lambda: cap.envelopes, what="the capture server")
        assert "BODY=8BITMIME" in cap.envelopes[0]["options"]
        assert cap.envelopes[0]["data"] == wire(BODY8)
    finally:
        stop_servers()


@test
def forward_alias_goes_out_and_down_destination_backs_off():
    try:
        cap = capture("127.0.0.1", 17897)
        i = setup(17800, ["relay_host=[127.0.0.1]:17897"])
        i.ok("alias", "add", "fwd@example.test", "user@example.test,"
             "far@remote.test")
        qid = inject(i, "a@example.test", ["fwd@example.test"], BODY)
        wait_for(lambda: cap.envelopes, what="the forwarded copy")
        assert cap.envelopes[0]["rcpts"] == ["far@remote.test"]
        log_has(i, qid + r": to=<far@remote\.test> orig_to=<fwd@example\."
                r"test> relay=127\.0\.0\.1\[127\.0\.0\.1\]:17897 "
                r"delay=[0-9.]+ status=sent")
        wait_for(lambda: queue_empty(i), what="the queue to empty")
        # the relay goes away: one attempt, then the destination waits
        cap.stop()
        _servers.remove(cap)
        qid = inject(i, "a@example.test", ["x@remote.test"], BODY)
        log_has(i, r"destination \[127\.0\.0\.1\]:17897 is down; no "
                r"attempt for 2 s")
        qid2 = inject(i, "a@example.test", ["y@remote.test"], BODY)
        log_has(i, qid2 + r": to=<y@remote\.test> relay=none .*status="
                r"deferred \(4\.4\.1 .*\(destination backed off\)")
        # it comes back; FLUSH sends both at once
        cap = capture("127.0.0.1", 17897)
        assert qmgr_command(i, "FLUSH") == "OK"
        wait_for(lambda: len(cap.envelopes) == 2, timeout=15,
                 what="both messages after FLUSH")
        log_has(i, qid + r": to=<x@remote\.test> .* status=sent")
    finally:
        stop_servers()


def dsn_in_maildir(inst, user):
    """The one DSN in user's Maildir, parsed with the email package."""
    import email
    from email import policy
    d = inst.path("mail", DOMAIN, user, "new")
    files = wait_for(lambda: os.listdir(d), timeout=30, what="a DSN")
    assert len(files) == 1, files
    with open(os.path.join(d, files[0]), "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=policy.default)
    assert msg.get_content_type() == "multipart/report", msg
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    return msg, status.as_string(), parts


@test
def remote_550_gives_a_dsn_in_the_local_senders_maildir():
    try:
        cap = capture("127.0.0.1", 16097)
        cap.replies["gone@remote.test"] = ["550 5.1.1 gone: no such mailbox"]
        i = setup(16000, ["relay_host=[127.0.0.1]:16097"])
        qid = inject(i, "user@example.test", ["gone@remote.test"], BODY)
        msg, status, parts = dsn_in_maildir(i, "user")
        assert msg["From"].addresses[0].username == "MAILER-DAEMON"
        assert msg["To"].addresses[0].addr_spec == "user@example.test"
        assert "Reporting-MTA: dns; mail.example.test" in status, status
        assert "Final-Recipient: rfc822; gone@remote.test" in status
        assert "Action: failed" in status
        assert "Status: 5.1.1" in status
        assert re.search(r"Remote-MTA: dns; \[?127\.0\.0\.1", status), status
        assert "Diagnostic-Code: smtp; 550 5.1.1 gone: no such mailbox" in \
            status, status
        assert "Subject: out" in parts[2].as_string()
        wait_for(lambda: queue_empty(i), what="the queue to empty")
        log_has(i, qid + r": sender non-delivery notification: ")
    finally:
        stop_servers()


@test
def remote_expiry_gives_a_dsn():
    # nothing listens on the relay: deferred until queue_lifetime passes
    i = setup(16100, ["relay_host=[127.0.0.1]:9", "queue_lifetime=4s",
                      "retry_min=1s", "retry_max=1s"])
    qid = inject(i, "user@example.test", ["late@remote.test"], BODY)
    msg, status, parts = dsn_in_maildir(i, "user")
    assert "Final-Recipient: rfc822; late@remote.test" in status, status
    assert "Action: failed" in status
    assert re.search(r"Status: 4\.\d+\.\d+", status), status
    log_has(i, qid + r": to=<late@remote\.test> .*status=expired")
    wait_for(lambda: queue_empty(i), what="the queue to empty")


@test
def one_flush_retries_more_than_the_active_limit():
    # more deferred messages than the queue manager keeps active at once
    # (QMGR_ACTIVE_MAX, 1000): one FLUSH must still retry every one of them
    n = 1100
    try:
        cap = capture("127.0.0.1", 16297)
        i = setup(16200, ["relay_host=[127.0.0.1]:9", "retry_max=2h",
                          "retry_min=1h"])
        small = b"Subject: flush\n\nbody\n"
        for k in range(n):
            inject(i, "", ["f%d@remote.test" % k], small)
        wait_for(lambda: len(os.listdir(i.path("spool", "deferred"))) == n
                 and queue_empty_but_deferred(i), timeout=180,
                 what="every message deferred")
        old = i.service_pids("qmgr")
        i.ok("config", "set", "relay_host=[127.0.0.1]:16297")
        i.ok("reload")
        wait_for(lambda: [p for p in i.service_pids("qmgr", "ready")
                          if p not in old], what="the new queue manager")
        i.remember_pids()
        assert qmgr_command(i, "FLUSH") == "OK"
        wait_for(lambda: len(cap.envelopes) >= n, timeout=240,
                 what="all %d messages at the capture server" % n)
        wait_for(lambda: queue_empty(i), timeout=60, what="an empty queue")
        assert len(cap.envelopes) == n, len(cap.envelopes)
    finally:
        stop_servers()


@test
def special_use_names_are_asked_of_dns_servers():
    # RFC 6761 section 6.2: .test names go to the configured servers.
    # libunbound answers test. (NXDOMAIN) and home.arpa. itself unless
    # told not to; here the MX is in .test and its host in home.arpa.
    try:
        cap = capture("127.0.0.1", 20597)
        dns(20598, mx=[("dest.test", "mx.site.home.arpa", 10)],
            hosts=[("mx.site.home.arpa", "127.0.0.1")])
        i = setup(20500, ["dns_servers=127.0.0.1:20598",
                          "remote_port=20597"])
        qid = inject(i, "a@example.test", ["x@dest.test"], BODY)
        log_has(i, qid + r": to=<x@dest\.test> relay=mx\.site\.home\.arpa"
                r"\[127\.0\.0\.1\]:20597 delay=[0-9.]+ status=sent")
        assert cap.envelopes[0]["rcpts"] == ["x@dest.test"], cap.envelopes
        wait_for(lambda: queue_empty(i), what="the queue to empty")
    finally:
        stop_servers()


def queue_empty_but_deferred(inst):
    return all(not os.listdir(inst.path("spool", d))
               for d in ("new", "active"))


if __name__ == "__main__":
    run()
