#!/usr/bin/env python3
"""test_login - the login boundary and the shared pre-auth layer.

The mailbox side (postern-pop3) must open a mailbox only for a login that
postern-auth has proven with a single-use token: hand-overs forged the way
code running in a login process could forge them are refused and logged.
Then the pre-auth layer's robustness: the TLS proxy survives a reader that
pauses, a wedged hand-over holds up nobody, and login processes have a
per-client connection limit. Port bases 11000-11900.
"""
import base64
import os
import poplib
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IS_ROOT, Instance, run, test, wait_for  # noqa

PW = "login secret"
USER = "alice@example.test"


def setup(base, settings=()):
    i = Instance(base)
    i.add_user(USER, PW)
    i.add_user("bob@example.test", PW)
    for kv in settings:
        i.ok("config", "set", kv)
    i.start()
    return i


def maildir(i, user="alice"):
    return i.path("mail", "example.test", user)


def put_message(i, name, body, user="alice"):
    """A message in new/, owned as postern-local would own it."""
    md = maildir(i, user)
    path = os.path.join(md, "new", name)
    with open(path, "wb") as f:
        f.write(body)
    if IS_ROOT:
        st = os.stat(md)
        os.chown(path, st.st_uid, st.st_gid)
    return path


def auth_login(i, user=USER, pw=PW, service="pop3", ip="127.0.0.1"):
    """LOGIN on the auth socket, as a login process does: the token."""
    a = i.auth()
    r = a.request("LOGIN", service, ip, user,
                  base64.b64encode(pw.encode()).decode())
    a.close()
    assert r.startswith("OK\t"), r
    f = r.split("\t")
    assert len(f) == 3 and len(f[2]) == 40, r
    return f[2]


def line(token, ip="127.0.0.1", tls=1):
    return ("HANDOVER\t%s\t%s\t%d\n" % (token, ip, tls)).encode()


def hand_over(i, data, fd):
    """Send a hand-over to postern-pop3 as a login process would."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(i.path("spool", "private", "pop3"))
    socket.send_fds(s, [data], [fd.fileno()])
    s.shutdown(socket.SHUT_WR)
    s.close()


def answer(sock):
    """The first line the 'client' end hears, b"" if closed silently."""
    sock.settimeout(15)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = sock.recv(512)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data


def over_socketpair(i, data, then=b""):
    """A TLS-style hand-over (the descriptor is a socketpair end, as the
    login process's proxy would keep); the client end's first line."""
    client, ours = socket.socketpair()
    hand_over(i, data, ours)
    ours.close()
    first = answer(client)
    if first.startswith(b"+OK") and then:
        client.sendall(then)
        answer(client)
    client.close()
    return first


def over_tcp(i, data):
    """A plaintext hand-over of a real TCP connection from 127.0.0.1."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    client = socket.create_connection(lst.getsockname(), 10)
    server, _ = lst.accept()
    lst.close()
    hand_over(i, data, server)
    server.close()
    first = answer(client)
    client.close()
    return first


def untouched(i):
    """The message put in new/ is still there: no session opened it."""
    return os.listdir(os.path.join(maildir(i), "new")) == ["1.M1P1.test"] \
        and os.listdir(os.path.join(maildir(i), "cur")) == []


def with_message(i):
    put_message(i, "1.M1P1.test", b"Subject: private\n\nsecret mail\n")


def refused(i, first, reason):
    assert not first.startswith(b"+OK"), first
    assert untouched(i), "a refused hand-over opened the mailbox"
    wait_for(lambda: "hand-over refused" in i.log(), what="refusal logged")
    if reason:
        wait_for(lambda: reason in i.log(), what="log: " + reason)


@test
def forged_handover_naming_a_user_opens_nothing():
    # the old hand-over line: a real user's name, no token
    i = setup(11000)
    with_message(i)
    first = over_socketpair(i, b"LOGIN\t%s\t127.0.0.1\t1\n" % USER.encode(),
                            b"RETR 1\r\nDELE 1\r\nQUIT\r\n")
    refused(i, first, "not a HANDOVER line")
    first = over_tcp(i, b"LOGIN\t%s\t127.0.0.1\t0\n" % USER.encode())
    refused(i, first, None)
    # a token that postern-auth never issued
    first = over_socketpair(i, line("0123456789abcdef" * 2 + "01234567"))
    refused(i, first, "reason=unknown")
    assert "0123456789abcdef0123" not in i.log()    # never logged whole


@test
def replayed_token_opens_nothing():
    i = setup(11100)
    with_message(i)
    tok = auth_login(i)
    client, ours = socket.socketpair()
    hand_over(i, line(tok) + b"STAT\r\n", ours)   # pipelined input too
    ours.close()
    client.settimeout(15)
    f = client.makefile("rb")
    assert f.readline() == b"+OK Logged in.\r\n"
    assert f.readline() == b"+OK 1 33\r\n"
    client.sendall(b"QUIT\r\n")
    assert f.readline().startswith(b"+OK")
    f.close()
    client.close()
    # the same token again: refused, whichever way it comes
    cur = os.listdir(os.path.join(maildir(i), "cur"))
    first = over_socketpair(i, line(tok), b"DELE 1\r\nQUIT\r\n")
    assert not first.startswith(b"+OK"), first
    first = over_tcp(i, line(tok, tls=0))
    assert not first.startswith(b"+OK"), first
    assert os.listdir(os.path.join(maildir(i), "cur")) == cur
    wait_for(lambda: "reason=used" in i.log(), what="the replay logged")
    assert tok not in i.log()


@test
def token_for_another_service_opens_nothing():
    i = setup(11200)
    with_message(i)
    tok = auth_login(i, service="imap")
    refused(i, over_socketpair(i, line(tok)), "reason=service")
    tok = auth_login(i, service="pop3")
    assert over_socketpair(i, line(tok), b"QUIT\r\n") == \
        b"+OK Logged in.\r\n"


@test
def token_for_another_client_address_opens_nothing():
    i = setup(11300)
    with_message(i)
    # issued for 192.0.2.9, handed over as if for 127.0.0.1
    tok = auth_login(i, ip="192.0.2.9")
    refused(i, over_socketpair(i, line(tok, ip="127.0.0.1")),
            "reason=client")
    # issued for 192.0.2.9 and named so, but the descriptor is a
    # connection from 127.0.0.1
    tok = auth_login(i, ip="192.0.2.9")
    refused(i, over_tcp(i, line(tok, ip="192.0.2.9", tls=0)),
            "the descriptor's peer is not the client address named")
    # the token's own address works
    tok = auth_login(i, ip="127.0.0.1")
    assert over_tcp(i, line(tok, tls=0)) == b"+OK Logged in.\r\n"


@test
def expired_token_opens_nothing():
    i = setup(11400, ["auth_token_lifetime=1s"])
    with_message(i)
    tok = auth_login(i)
    time.sleep(2.5)
    refused(i, over_socketpair(i, line(tok)), "reason=expired")
    tok = auth_login(i)
    assert over_socketpair(i, line(tok), b"QUIT\r\n") == \
        b"+OK Logged in.\r\n"


@test
def token_redeemed_over_the_wrong_socket_opens_nothing():
    i = setup(11500)
    with_message(i)
    tok = auth_login(i)
    a = i.auth()
    r = a.request("REDEEM", "pop3", "127.0.0.1", tok)
    assert r.startswith("ERROR"), r
    a.close()
    wait_for(lambda: "REDEEM refused on the login socket" in i.log(),
             what="the wrong socket logged")
    if IS_ROOT:
        # only postern-mail may connect there; root is refused and logged
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(i.path("spool", "private", "auth-redeem"))
        try:
            s.sendall(("REDEEM\tpop3\t127.0.0.1\t%s\n" % tok).encode())
            assert s.recv(100) == b""
        except (BrokenPipeError, ConnectionResetError):
            pass                # closed at once, without a word
        s.close()
        wait_for(lambda: "only postern-mail" in i.log(),
                 what="the wrong peer logged")
    assert untouched(i)
    # nothing of that used the token up: the real hand-over works
    assert over_socketpair(i, line(tok), b"QUIT\r\n") == \
        b"+OK Logged in.\r\n"
    assert tok not in i.log()


@test
def normal_logins_take_the_user_from_postern_auth():
    i = setup(11600)
    with_message(i)
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    p.user("ALICE@Example.TEST")
    assert p.pass_(PW).startswith(b"+OK")
    assert p.stat() == (1, 33)
    p.quit()
    wait_for(lambda: "token: redeemed" in i.log(), what="the redemption")
    log = i.log()
    assert "user=alice@example.test" in log
    assert "hand-over refused" not in log


def pop3_login_works(i):
    try:
        p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=10)
        p.user(USER)
        ok = p.pass_(PW).startswith(b"+OK")
        p.quit()
        return ok
    except (OSError, poplib.error_proto):
        return False


@test
def logins_go_on_after_postern_auth_restarts_and_a_reload():
    # postern-pop3 keeps one connection to postern-auth for redeeming; a
    # new postern-auth cannot be reached on it, so postern-pop3 hands over
    # to a new one of its own (status "retiring") and logins go on
    i = setup(11650)
    assert pop3_login_works(i)
    old_pop3 = i.service_pids("pop3-mail")
    old_auth = wait_for(lambda: i.service_pids("auth"), what="auth's pid")
    for pid in old_auth:
        os.kill(pid, 9)
    wait_for(lambda: "the connection to postern-auth" in i.log(),
             timeout=30, what="postern-pop3 noticing")
    wait_for(lambda: pop3_login_works(i), timeout=30,
             what="a login after postern-auth was killed")
    # a new postern-pop3 took over: the master read "retiring", or saw
    # the old one exit first (it had no session to finish)
    wait_for(lambda: i.service_pids("pop3-mail") not in ([], old_pop3),
             timeout=30, what="a new postern-pop3")
    assert i.service_pids("auth") != old_auth
    i.ok("reload")
    wait_for(lambda: pop3_login_works(i), timeout=30,
             what="a login after a reload")
    for _ in range(3):
        assert pop3_login_works(i)


# ---- the pre-auth layer -------------------------------------------------

def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


@test
def tls_proxy_survives_a_reader_that_pauses():
    # a 20 MB RETR over pop3s to a client that stops reading for 5 s
    i = setup(11700)
    row = b"x" * 76 + b"\n"
    body = b"Subject: big\n\n" + row * (20 * 1024 * 1024 // len(row))
    put_message(i, "2.M1P1.test", body)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    raw.settimeout(60)
    raw.connect(("127.0.0.1", i.port_base + 95))
    s = ctx().wrap_socket(raw)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    s.sendall(("USER %s\r\nPASS %s\r\nRETR 1\r\n" % (USER, PW)).encode())
    assert f.readline().startswith(b"+OK")
    assert f.readline() == b"+OK Logged in.\r\n"
    assert f.readline().startswith(b"+OK")
    got = len(f.read(65536))
    time.sleep(5)
    want = len(body) + body.count(b"\n")        # CRLF on the wire
    while got < want + 3:
        chunk = f.read(min(1 << 20, want + 3 - got))
        assert chunk, "connection closed after %d of %d bytes" % (got, want)
        got += len(chunk)
    s.sendall(b"QUIT\r\n")
    assert f.readline().startswith(b"+OK")
    s.close()
    assert "client took nothing" not in i.log()


@test
def a_wedged_handover_holds_up_no_login():
    # twenty connections to the hand-over socket that never say a word;
    # read one at a time for 5 s each they would hold every login for
    # 100 s
    i = setup(11800)
    wedged = []
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(i.path("spool", "private", "pop3"))
        wedged.append(s)
    time.sleep(0.5)
    start = time.monotonic()
    for _ in range(3):
        p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
        p.user(USER)
        assert p.pass_(PW).startswith(b"+OK")
        p.quit()
    took = time.monotonic() - start
    assert took < 30, "three logins took %.1f s" % took
    wait_for(lambda: i.log().count("sent no complete hand-over in time")
             >= 20, timeout=30, what="the wedged ones dropped and logged")
    for s in wedged:
        s.close()


@test
def login_processes_have_a_per_client_limit():
    settings = ["pop3_client_connection_limit=3"]
    i = Instance(11900)
    i.add_user(USER, PW)
    for kv in settings:
        i.ok("config", "set", kv)
    # loopback is a trusted network by default where that key exists
    i.run_postern("config", "set", "trusted_networks=192.0.2.0/24")
    i.start()
    held = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
        assert s.makefile("rb").readline().startswith(b"+OK")
        held.append(s)
    s = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
    first = s.makefile("rb").readline()
    assert first.startswith(b"-ERR [SYS/TEMP]"), first
    assert s.recv(100) == b""
    s.close()
    wait_for(lambda: "pop3_client_connection_limit reached" in i.log(),
             what="the refusal logged")
    held.pop().close()

    def fourth_ok():
        c = socket.create_connection(("127.0.0.1", i.port_base + 10), 30)
        ok = c.makefile("rb").readline().startswith(b"+OK")
        c.close()
        return ok
    wait_for(fourth_ok, what="a free slot once one closed")
    for s in held:
        s.close()


if __name__ == "__main__":
    run()
