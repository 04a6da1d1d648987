"""The auth service, through its socket, as smtpd and pop3d will use it."""
import time

from harness import Instance, run, test


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


run()
