#!/usr/bin/env python3
"""test_imap_login - postern-imap-login, the IMAP dialogue before login,
and the hand-over to postern-imap.

Raw sockets for exact bytes, imaplib where a real client is enough: the
greeting and capabilities with and without TLS, LOGINDISABLED for a client
that is not on loopback (an address of its own, in a network namespace of
the test's own), STARTTLS with pipelined plaintext thrown away, LOGIN with
quoted strings and literals (synchronizing and LITERAL+), AUTHENTICATE
PLAIN and LOGIN with and without an initial response, cancelled, failed,
the bad-command limit, over-long lines and literals, ID, implicit TLS on
imaps, the per-client connection limit, and forged hand-overs to
private/imap that name a user. After a login only the tagged OK of the
login command and NOOP/LOGOUT are looked at (postern-imap's session is
tested elsewhere). Port bases 12000-13100.
"""
import base64
import imaplib
import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IS_ROOT, Instance, run, skip, test, wait_for  # noqa

USER = "alice@example.test"
PW = 'imap "pass" \\ word'        # a quote and a backslash
SIMPLE_PW = "imapsecret"
CAPS = ["IMAP4rev1", "IMAP4rev2", "SASL-IR", "LITERAL+", "ID", "ENABLE",
        "IDLE"]
NONLOOPBACK = "192.0.2.1"


def setup(base, settings=(), start=True):
    i = Instance(base)
    i.add_user(USER, PW)
    i.add_user("bob@example.test", SIMPLE_PW)
    for kv in ("auth_failure_delay=1s",) + tuple(settings):
        i.ok("config", "set", kv)
    if start:
        i.start()
    return i


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


class Raw:
    """A raw IMAP connection: send bytes, read lines."""

    def __init__(self, port, host="127.0.0.1", tls=False, source=None):
        self.s = socket.create_connection((host, port), 30,
                                          source_address=source)
        if tls:
            self.s = ctx().wrap_socket(self.s)
        self.f = self.s.makefile("rb")

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        return logged_in(self.f.readline())

    def lines_until(self, tag):
        """Lines up to and including the one tagged tag."""
        out = []
        while True:
            ln = self.line()
            assert ln, "closed while waiting for %r: %r" % (tag, out)
            out.append(ln)
            if ln.startswith(tag + b" "):
                return out

    def cmd(self, tag, text):
        self.send(tag + b" " + text + b"\r\n")
        return self.lines_until(tag)

    def starttls(self):
        self.f.close()
        self.s = ctx().wrap_socket(self.s)
        self.f = self.s.makefile("rb")

    def closed(self):
        self.s.settimeout(10)
        try:
            return self.s.recv(100) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def close(self):
        self.f.close()
        self.s.close()


def caps_of(line):
    """The capability names of a greeting or a CAPABILITY line."""
    text = line.decode().rstrip("\r\n")
    if "[CAPABILITY " in text:
        text = text.split("[CAPABILITY ", 1)[1].split("]", 1)[0]
    else:
        text = text.split("CAPABILITY ", 1)[1]
    return text.split()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s)


def quoted(s):
    return b'"' + s.replace("\\", "\\\\").replace('"', '\\"').encode() + \
        b'"'


@test
def greeting_capabilities_and_the_simple_commands():
    i = setup(12000)
    c = Raw(i.port_base + 43)
    greeting = c.line()
    assert greeting.startswith(b"* OK [CAPABILITY ") and \
        greeting.endswith(b"] postern ready.\r\n"), greeting
    caps = caps_of(greeting)
    assert caps[:len(CAPS)] == CAPS, caps
    # loopback: logins allowed, STARTTLS offered (postern init made a pair)
    assert "STARTTLS" in caps and "AUTH=PLAIN" in caps and \
        "AUTH=LOGIN" in caps and "LOGINDISABLED" not in caps, caps
    r = c.cmd(b"a1", b"CAPABILITY")
    assert len(r) == 2 and caps_of(r[0]) == caps, r
    assert r[1] == b"a1 OK Capability completed.\r\n"
    assert c.cmd(b"a2", b"noop") == [b"a2 OK NOOP completed.\r\n"]
    r = c.cmd(b"a3", b'ID ("name" "Test Client" "version" NIL "os" '
              b'"a\\"b")')
    assert r == [b'* ID ("name" "postern")\r\n', b"a3 OK ID completed.\r\n"]
    assert c.cmd(b"a4", b"ID NIL")[-1] == b"a4 OK ID completed.\r\n"
    assert c.cmd(b"a5", b"ENABLE IMAP4rev2")[0].startswith(b"a5 BAD ")
    assert c.cmd(b"a6", b"SELECT INBOX")[0].startswith(b"a6 BAD ")
    assert c.cmd(b"a7", b"XYZZY")[0] == b"a7 BAD Unknown command.\r\n"
    assert c.cmd(b"a8", b"NOOP extra")[0].startswith(b"a8 BAD ")
    c.send(b"\r\n")
    assert c.line() == b"* BAD Empty command line.\r\n"
    c.send(b"a+9 NOOP\r\n")              # "+" is no tag character
    assert c.line() == b"* BAD Invalid tag.\r\n"
    assert c.cmd(b"x]", b"NOOP") == [b"x] OK NOOP completed.\r\n"]
    r = c.cmd(b"z", b"LOGOUT")
    assert r == [b"* BYE Logging out.\r\n", b"z OK Logout completed.\r\n"]
    assert c.closed()
    c.close()
    wait_for(lambda: "no login, bad=" in i.log(), what="the end logged")
    log = i.log()
    # (the quote escaped; the collector escapes the escape once more)
    assert "id: name=Test Client, version=NIL, os=a\\x5cx22b" in log, \
        [ln for ln in log.splitlines() if " id: " in ln]
    assert "no login, bad=6" in log, log[-1500:]


@test
def without_tls_no_starttls_and_loopback_still_logs_in():
    i = setup(12100, ["listen_smtps=", "listen_pop3s=", "listen_imaps="],
              start=False)
    os.unlink(i.path("etc", "tls.crt"))
    os.unlink(i.path("etc", "tls.key"))
    i.start()
    c = Raw(i.port_base + 43)
    caps = caps_of(c.line())
    assert "STARTTLS" not in caps and "AUTH=PLAIN" in caps, caps
    assert c.cmd(b"t", b"STARTTLS") == \
        [b"t BAD TLS support is not enabled.\r\n"]
    assert c.cmd(b"l", b"LOGIN bob@example.test " + SIMPLE_PW.encode()) == \
        [b"l OK Logged in.\r\n"]
    c.close()


def starttls_checks(i):
    c = Raw(i.port_base + 43)
    c.line()
    # a command pipelined behind STARTTLS must never be run
    c.send(b"s STARTTLS\r\nevil LOGIN bob@example.test " +
           SIMPLE_PW.encode() + b"\r\n")
    assert c.line() == b"s OK Begin TLS negotiation now.\r\n"
    c.starttls()
    r = c.cmd(b"c", b"CAPABILITY")
    caps = caps_of(r[0])
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps and \
        "AUTH=PLAIN" in caps, caps
    assert r[1] == b"c OK Capability completed.\r\n"
    assert c.cmd(b"s2", b"STARTTLS") == [b"s2 BAD TLS is already active.\r\n"]
    r = c.cmd(b"l", b"LOGIN " + USER.encode() + b" " + quoted(PW))
    assert r == [b"l OK Logged in.\r\n"], r
    c.send(b"n NOOP\r\n")
    assert c.line() == b"n OK NOOP completed.\r\n"
    c.close()
    log = i.log()
    wait_for(lambda: "pipelined plaintext bytes from" in i.log(),
             what="the discarded bytes logged")
    assert "tls=1" in i.log()
    return log


@test
def starttls_discards_pipelined_input():
    i = setup(12200)
    starttls_checks(i)
    # the pipelined LOGIN never reached postern-auth
    assert "user=bob@example.test" not in i.log()


@test
def login_with_quoted_strings_and_literals():
    i = setup(12300)
    c = Raw(i.port_base + 43)
    c.line()
    # synchronizing literals: "+ " before each
    u, p = USER.encode(), PW.encode()
    c.send(b"a LOGIN {%d}\r\n" % len(u))
    assert c.line().startswith(b"+ ")
    c.send(u + b" {%d}\r\n" % len(p))
    assert c.line().startswith(b"+ ")
    # a command pipelined behind the login goes to the session
    c.send(p + b"\r\nb NOOP\r\n")
    assert c.line() == b"a OK Logged in.\r\n"
    assert c.line() == b"b OK NOOP completed.\r\n"
    c.close()
    # LITERAL+: no continuation, all in one go
    c = Raw(i.port_base + 43)
    c.line()
    c.send(b"x LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(u), u, len(p), p))
    assert c.line() == b"x OK Logged in.\r\n"
    c.close()
    # quoted, any case of the command
    c = Raw(i.port_base + 43)
    c.line()
    assert c.cmd(b"q", b"login " + quoted(USER) + b" " + quoted(PW)) == \
        [b"q OK Logged in.\r\n"]
    c.close()
    # a tag too long for the hand-over: refused before the password check
    c = Raw(i.port_base + 43)
    c.line()
    tag = b"t" * 101
    r = c.cmd(tag, b"LOGIN bob@example.test " + SIMPLE_PW.encode())
    assert r == [tag + b" BAD Tag too long to log in with.\r\n"], r
    assert c.cmd(b"t" * 100, b"LOGIN bob@example.test " +
                 SIMPLE_PW.encode()) == [b"t" * 100 + b" OK Logged in.\r\n"]
    c.close()
    wait_for(lambda: i.log().count("method=LOGIN ip=127.0.0.1 tls=0") == 4,
             what="four logins logged")


@test
def authenticate_plain_and_login():
    i = setup(12400)
    plain = b64("\0%s\0%s" % (USER, PW))

    def fresh():
        c = Raw(i.port_base + 43)
        c.line()
        return c
    # SASL-IR
    c = fresh()
    assert c.cmd(b"a", b"AUTHENTICATE PLAIN " + plain) == \
        [b"a OK Logged in.\r\n"]
    c.close()
    # no initial response: an empty challenge
    c = fresh()
    c.send(b"b authenticate plain\r\n")
    assert c.line() == b"+ \r\n"
    c.send(plain + b"\r\n")
    assert c.line() == b"b OK Logged in.\r\n"
    c.close()
    # LOGIN: user and password asked for
    c = fresh()
    c.send(b"c AUTHENTICATE LOGIN\r\n")
    assert c.line() == b"+ " + b64("Username:") + b"\r\n"
    c.send(b64(USER) + b"\r\n")
    assert c.line() == b"+ " + b64("Password:") + b"\r\n"
    c.send(b64(PW) + b"\r\n")
    assert c.line() == b"c OK Logged in.\r\n"
    c.close()
    # LOGIN with the user as initial response
    c = fresh()
    c.send(b"d AUTHENTICATE LOGIN " + b64(USER) + b"\r\n")
    assert c.line() == b"+ " + b64("Password:") + b"\r\n"
    c.send(b64(PW) + b"\r\n")
    assert c.line() == b"d OK Logged in.\r\n"
    c.close()
    # cancelled, bad base64, "=" (empty: not a PLAIN message), unknown
    c = fresh()
    c.send(b"e AUTHENTICATE PLAIN\r\n")
    assert c.line() == b"+ \r\n"
    c.send(b"*\r\n")
    assert c.line() == b"e BAD Authentication cancelled.\r\n"
    assert c.cmd(b"f", b"AUTHENTICATE PLAIN not-base64!") == \
        [b"f BAD Invalid base64 data.\r\n"]
    assert c.cmd(b"g", b"AUTHENTICATE PLAIN =") == \
        [b"g NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"]
    assert c.cmd(b"h", b"AUTHENTICATE CRAM-MD5") == \
        [b"h NO Unsupported authentication mechanism.\r\n"]
    assert c.cmd(b"k", b"AUTHENTICATE PLAIN " +
                 b64("\0%s\0wrong" % USER)) == \
        [b"k NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"]
    assert c.cmd(b"m", b"NOOP") == [b"m OK NOOP completed.\r\n"]
    c.close()
    wait_for(lambda: "auth failed: user=alice@example.test method=PLAIN"
             in i.log(), what="the failure logged")
    log = i.log()
    assert log.count("login: user=alice@example.test method=PLAIN ip=") == 2
    assert log.count("login: user=alice@example.test method=LOGIN ip=") == 2


@test
def failed_logins_and_bad_commands_end_the_session():
    i = setup(12500, ["imap_max_bad_commands=3"])
    c = Raw(i.port_base + 43)
    c.line()
    start = time.monotonic()
    assert c.cmd(b"a", b"LOGIN " + USER.encode() + b" wrong") == \
        [b"a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"]
    assert time.monotonic() - start >= 0.9      # postern-auth delayed it
    assert c.cmd(b"b", b"FOO")[0].startswith(b"b BAD ")
    c.send(b"c BAR\r\n")
    assert c.line().startswith(b"c BAD ")
    assert c.line() == b"* BYE Too many invalid commands.\r\n"
    assert c.closed()
    c.close()
    log_has = i.log()
    assert "auth failed: user=alice@example.test method=LOGIN" in log_has


@test
def over_long_lines_and_literals():
    i = setup(12600)
    c = Raw(i.port_base + 43)
    c.line()
    c.send(b"a NOOP " + b"x" * 50000 + b"\r\n")
    assert c.line() == b"* BAD Command line too long.\r\n"
    assert c.cmd(b"b", b"NOOP") == [b"b OK NOOP completed.\r\n"]
    # a synchronizing literal over the limit: refused, no "+ "
    c.send(b"c LOGIN {100000}\r\n")
    assert c.line() == b"c BAD Literal too large.\r\n"
    assert c.cmd(b"d", b"NOOP") == [b"d OK NOOP completed.\r\n"]
    # the literal is read whole within the limit, whatever it holds
    c.send(b"e LOGIN {5}\r\n")
    assert c.line().startswith(b"+ ")
    c.send(b"a\r\n)(\r\n")
    assert c.line().startswith(b"e BAD ")
    # a non-synchronizing one over the limit is coming anyway: the end
    c.send(b"f LOGIN {100000+}\r\n" + b"y" * 1000)
    assert c.line() == b"f BAD Literal too large.\r\n"
    assert c.line() == b"* BYE Command line too long.\r\n"
    assert c.closed()
    c.close()


@test
def implicit_tls_on_imaps_with_imaplib():
    i = setup(12700)
    c = Raw(i.port_base + 93, tls=True)
    caps = caps_of(c.line())
    assert "STARTTLS" not in caps and "AUTH=PLAIN" in caps, caps
    c.close()
    m = imaplib.IMAP4_SSL("127.0.0.1", i.port_base + 93,
                          ssl_context=ctx(), timeout=30)
    assert "IMAP4REV2" in m.capabilities and "AUTH=PLAIN" in \
        m.capabilities, m.capabilities
    typ, _ = m.login(USER, PW)
    assert typ == "OK"
    assert m.noop()[0] == "OK"
    m.logout()
    wait_for(lambda: "method=LOGIN ip=127.0.0.1 tls=1" in i.log(),
             what="the login logged")


@test
def per_client_connection_limit():
    i = setup(12800, ["imap_client_connection_limit=2",
                      "trusted_networks=192.0.2.0/24"])
    held = []
    for _ in range(2):
        c = Raw(i.port_base + 43)
        assert c.line().startswith(b"* OK ")
        held.append(c)
    c = Raw(i.port_base + 43)
    assert c.line() == b"* BYE [UNAVAILABLE] Too many connections from " \
        b"your address, try again later.\r\n"
    assert c.closed()
    c.close()
    wait_for(lambda: "imap_client_connection_limit reached" in i.log(),
             what="the refusal logged")
    for c in held:
        c.close()


# ---- the hand-over ------------------------------------------------------

LOGGED_IN = re.compile(rb" OK \[CAPABILITY IMAP4rev1 IMAP4rev2 [^\]]*\] "
                       rb"Logged in\r\n$")


def logged_in(line):
    """postern-imap's answer to a login, "TAG OK [CAPABILITY IMAP4rev1
    IMAP4rev2 ...] Logged in", as "TAG OK Logged in." (these tests are
    about the login side; test_imap checks the session's capabilities)."""
    return LOGGED_IN.sub(b" OK Logged in.\r\n", line)


def hand_over(i, data):
    """A hand-over to postern-imap with a socketpair end as the client
    descriptor (as a TLS login would send); what the client end hears."""
    client, ours = socket.socketpair()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(i.path("spool", "private", "imap"))
    socket.send_fds(s, [data], [ours.fileno()])
    s.shutdown(socket.SHUT_WR)
    s.close()
    ours.close()
    client.settimeout(15)
    got = b""
    try:
        while not got.endswith(b"\n"):
            chunk = client.recv(512)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    client.close()
    return logged_in(got)


def auth_token(i, service="imap", user=USER, pw=PW):
    a = i.auth()
    r = a.request("LOGIN", service, "127.0.0.1", user,
                  base64.b64encode(pw.encode()).decode())
    a.close()
    assert r.startswith("OK\t"), r
    return r.split("\t")[2]


@test
def forged_handovers_open_nothing():
    i = setup(12900)
    bye = b"* BYE [UNAVAILABLE] Login failed, try again.\r\n"
    # the old way: a user named by the login side, no token
    assert hand_over(i, b"LOGIN\t%s\t127.0.0.1\t1\ta1\n" % USER.encode()) \
        == bye
    wait_for(lambda: "not a HANDOVER line" in i.log(), what="refusal")
    # a token postern-auth never issued
    fake = "0123456789abcdef" * 2 + "01234567"
    assert hand_over(i, b"HANDOVER\t%s\t127.0.0.1\t1\ta1\n" %
                     fake.encode()) == bye
    wait_for(lambda: "reason=unknown" in i.log(), what="unknown token")
    # a token issued for POP3
    tok = auth_token(i, service="pop3")
    assert hand_over(i, b"HANDOVER\t%s\t127.0.0.1\t1\ta1\n" %
                     tok.encode()) == bye
    wait_for(lambda: "reason=service" in i.log(), what="wrong service")
    assert fake[:20] not in i.log() and tok not in i.log()
    # the real thing: the session answers the tag of the hand-over
    tok = auth_token(i)
    assert hand_over(i, b"HANDOVER\t%s\t127.0.0.1\t1\tT.7+I\n" %
                     tok.encode()) == b"T.7 OK Logged in.\r\n"


# ---- a client that is not on loopback -----------------------------------

def nonloopback_inner():
    """Run inside a network namespace of its own, where lo also holds
    NONLOOPBACK: a client from there may not log in in clear text."""
    i = setup(13000, ["listen_imap=127.0.0.1:13043, %s:13043" % NONLOOPBACK])
    c = Raw(13043, host=NONLOOPBACK, source=(NONLOOPBACK, 0))
    caps = caps_of(c.line())
    assert "LOGINDISABLED" in caps and "STARTTLS" in caps and \
        not [x for x in caps if x.startswith("AUTH=")], caps
    refusal = b" NO [PRIVACYREQUIRED] Plaintext authentication " \
        b"disallowed on non-secure connections.\r\n"
    assert c.cmd(b"a", b"LOGIN bob@example.test " + SIMPLE_PW.encode()) == \
        [b"a" + refusal]
    assert c.cmd(b"b", b"AUTHENTICATE PLAIN " +
                 b64("\0bob@example.test\0" + SIMPLE_PW)) == [b"b" + refusal]
    assert c.cmd(b"s", b"STARTTLS") == [b"s OK Begin TLS negotiation now.\r\n"]
    c.starttls()
    caps = caps_of(c.cmd(b"c", b"CAPABILITY")[0])
    assert "LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps, caps
    assert c.cmd(b"l", b"LOGIN bob@example.test " + SIMPLE_PW.encode()) == \
        [b"l OK Logged in.\r\n"]
    c.close()
    assert "auth: login service=imap client=%s" % NONLOOPBACK in i.log()
    # the loopback address of the same listener still takes logins
    c = Raw(13043)
    assert "AUTH=PLAIN" in caps_of(c.line())
    c.close()


@test
def logindisabled_for_a_client_not_on_loopback():
    if not IS_ROOT:
        skip("a network namespace of its own needs root")
    cmd = ["unshare", "-n", "sh", "-c",
           "ip link set lo up && ip addr add %s/32 dev lo && exec %s %s "
           "--nonloopback" % (NONLOOPBACK, sys.executable,
                              os.path.abspath(__file__))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "NONLOOPBACK OK" in r.stdout, \
        r.stdout + r.stderr


if __name__ == "__main__":
    if sys.argv[1:] == ["--nonloopback"]:
        try:
            nonloopback_inner()
        finally:
            Instance.cleanup_all()
        print("NONLOOPBACK OK")
        sys.exit(0)
    run()
