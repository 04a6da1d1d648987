"""The auth service, through its socket, as smtpd and pop3d will use it."""
import base64
import poplib
import socket
import time

from harness import Instance, run, test, wait_for


@test
def lookup_and_verify():
    i = Instance(24000)
    i.add_user("alice@example.test", "correct horse")
    i.start()
    a = i.auth()
    assert a.lookup("alice@example.test") == "OK\talice@example.test"
    assert a.lookup("ALICE@Example.TEST") == "OK\talice@example.test"
    assert a.lookup("mallory@example.test") == "NOUSER"
    assert a.verify("alice@example.test", "correct horse") == "OK\talice@example.test"


@test
def wrong_password_is_delayed_and_counted():
    i = Instance(24100)
    i.add_user("alice@example.test", "right")
    i.ok("config", "set", "auth_failure_delay=1s")
    i.start()
    a = i.auth()
    t = time.monotonic()
    assert a.verify("alice@example.test", "wrong", ip="192.0.2.1") == "FAIL"
    first = time.monotonic() - t
    assert first >= 0.9, "first failure answered after %.2fs" % first
    t = time.monotonic()
    assert a.verify("alice@example.test", "wrong2", ip="192.0.2.1") == "FAIL"
    second = time.monotonic() - t
    assert second >= 1.8, "second failure answered after %.2fs" % second
    # the same address with the right password is still slowed down
    t = time.monotonic()
    assert a.verify("alice@example.test", "right", ip="192.0.2.1").startswith("OK")
    assert time.monotonic() - t >= 0.9
    # an unknown user fails the same way
    assert a.verify("nobody@example.test", "x", ip="198.51.100.7") == "FAIL"
    assert "result=fail" in i.log()


@test
def malformed_requests_get_errors():
    i = Instance(24200)
    i.start()
    a = i.auth()
    assert a.request("FROB", "x").startswith("ERROR")
    b = i.auth()
    assert b.request("VERIFY", "smtp", "127.0.0.1", "a@example.test",
                     "***not base64***").startswith("ERROR")
    c = i.auth()
    c.s.sendall(b"LOOKUP\t" + b"a" * 2000 + b"\n")
    assert c.f.readline().startswith(b"ERROR")
    # the service survived all of it
    d = i.auth()
    assert d.lookup("a@example.test") == "NOUSER"


@test
def many_clients_at_once():
    i = Instance(24300)
    i.add_user("alice@example.test", "pw")
    i.start()
    clients = [i.auth() for _ in range(50)]
    for c in clients:
        c.s.sendall(b"LOOKUP\talice@example.test\n")
    for c in clients:
        assert c.f.readline() == b"OK\talice@example.test\n"


@test
def parallel_wrong_passwords_do_not_hold_up_an_honest_login():
    # 200 wrong passwords at once from one address (for another user:
    # failures against alice herself would delay her answers by design);
    # an honest user from another address (the auth socket's client
    # field, then a real POP3 login from 127.0.0.1) is answered within
    # 2 s all the same
    i = Instance(24400)
    i.add_user("alice@example.test", "right")
    i.add_user("bob@example.test", "bobs")
    i.ok("config", "set", "auth_failure_delay=1s")
    i.ok("config", "set", "auth_failure_delay_max=2s")
    i.start()
    wrong = base64.b64encode(b"wrong").decode()
    attackers = []
    for _ in range(200):
        a = i.auth()
        a.s.sendall(("VERIFY\tpop3\t192.0.2.66\tbob@example.test\t%s\n"
                     % wrong).encode())
        attackers.append(a)
    time.sleep(0.2)
    honest = i.auth()
    t = time.monotonic()
    assert honest.verify("alice@example.test", "right",
                         ip="198.51.100.5").startswith("OK")
    took = time.monotonic() - t
    assert took < 2, "the honest VERIFY took %.2f s" % took
    t = time.monotonic()
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    p.user("alice@example.test")
    assert p.pass_("right").startswith(b"+OK")
    took = time.monotonic() - t
    p.quit()
    assert took < 2, "the honest POP3 login took %.2f s" % took
    answers = [a.f.readline().decode() for a in attackers]
    assert all(a in ("FAIL\n",) or a.startswith("TEMPFAIL\t")
               for a in answers), set(answers)
    refused = sum(a.startswith("TEMPFAIL") for a in answers)
    wait_for(lambda: "result=refused" in i.log(), what="refusals logged")
    log = i.log()
    computed = log.count("client=192.0.2.66 user=bob@example.test "
                         "result=fail")
    # past auth_client_failure_limit (20) no hash is computed at all
    assert refused > 0 and computed < 40, (refused, computed)
    assert "result=refused" in log


@test
def config_check_refuses_a_delay_longer_than_client_timeouts():
    i = Instance(24500)
    r = i.run_postern("config", "check")
    assert r.returncode == 0, r.stderr
    i.ok("config", "set", "auth_failure_delay_max=90s")
    with open(i.conf) as f:
        n = [k for k, l in enumerate(f, 1)
             if l.startswith("auth_failure_delay_max")][-1]
    r = i.run_postern("config", "check")
    assert r.returncode == 1, r.stdout + r.stderr
    want = "%s:%d: auth_failure_delay_max (90s) is longer than " \
           "pop3_login_timeout (60s)" % (i.conf, n)
    assert want in r.stderr, r.stderr
    i.ok("config", "set", "pop3_login_timeout=120s")
    r = i.run_postern("config", "check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "auth_failure_delay_max (90s) is longer than " \
        "imap_login_timeout (60s)" in r.stderr, r.stderr
    i.ok("config", "set", "imap_login_timeout=120s")
    assert i.run_postern("config", "check").returncode == 0


run()
