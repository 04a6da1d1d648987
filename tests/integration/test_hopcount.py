"""Mail loops (issue 13, section 8): a message whose header section holds
more Received: fields than hopcount_limit (50, the one postern adds
included) is refused by the injector with 5.4.6 and never delivered: over
SMTP "554 5.4.6 too many hops" at the end of DATA (the sender's MTA
bounces it, postern makes no backscatter), through sendmail exit 65."""
import os
import smtplib
import subprocess

from harness import BIN, Instance, run, test, wait_for

USER = "alice@example.test"


def instance(base):
    i = Instance(base)
    i.add_user(USER, "pw")
    i.start()
    return i


def hops(n):
    return b"".join(b"Received: from h%d.example ([192.0.2.%d])\r\n"
                    b"\tby h%d.example with ESMTP; Sat, 1 Jan 2000 "
                    b"00:00:00 +0000\r\n" % (k, k % 250 + 1, k + 1)
                    for k in range(n))


def message(n, subject):
    return (hops(n) + b"From: bob@example.org\r\nTo: " + USER.encode() +
            b"\r\nSubject: " + subject + b"\r\n\r\n"
            b"Received: a quoted one in the body is no hop\r\n")


def smtp_send(i, data):
    with smtplib.SMTP("127.0.0.1", i.port_base + 25, timeout=60) as c:
        c.ehlo("client.example")
        assert c.mail("bob@example.org")[0] == 250
        assert c.rcpt(USER)[0] == 250
        c.putcmd("data")
        code, _ = c.getreply()
        assert code == 354
        c.send(data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        return c.getreply()


def delivered(i):
    out = []
    for sub in ("new", "cur"):
        d = i.path("mail", "example.test", "alice", sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                out.append(f.read())
    return out


@test
def smtp_loop_is_refused_with_554_5_4_6():
    i = instance(13600)
    # 49 on arrival + smtpd's own = 50: the limit exactly, accepted
    code, reply = smtp_send(i, message(49, b"fifty"))
    assert code == 250, (code, reply)
    # 50 on arrival + smtpd's own = 51: one past, refused
    code, reply = smtp_send(i, message(50, b"fifty-one"))
    assert code == 554, (code, reply)
    assert reply.startswith(b"5.4.6 too many hops"), reply
    wait_for(lambda: len(delivered(i)) == 1, timeout=30, what="delivery")
    got = delivered(i)
    assert len(got) == 1 and b"Subject: fifty\n" in got[0], got
    wait_for(lambda: "reason=5.4.6 too many hops" in i.log(),
             what="the refusal logged")
    # nothing of the refused one is left in the queue: once the delivered
    # message's file is gone (the queue manager removes it just after the
    # Maildir write this test saw), the spool is empty
    def spool_empty():
        return all(os.listdir(i.path("spool", sub)) == []
                   for sub in ("new", "active", "deferred", "tmp"))
    wait_for(spool_empty, timeout=30, what="an empty spool")
    assert len(delivered(i)) == 1, delivered(i)


@test
def sendmail_loop_exits_65():
    i = instance(13700)
    sm = os.path.join(BIN, "sendmail")
    # sendmail adds one Received: field too
    p = subprocess.run([sm, "-C", i.conf, USER],
                       input=message(50, b"loop").replace(b"\r\n", b"\n"),
                       capture_output=True, timeout=60, env=i.env)
    assert p.returncode == 65, (p.returncode, p.stderr)
    assert b"5.4.6 too many hops" in p.stderr, p.stderr
    p = subprocess.run([sm, "-C", i.conf, USER],
                       input=message(49, b"ok").replace(b"\r\n", b"\n"),
                       capture_output=True, timeout=60, env=i.env)
    assert p.returncode == 0, p.stderr
    wait_for(lambda: len(delivered(i)) == 1, timeout=30, what="delivery")


@test
def hopcount_limit_is_a_key():
    i = Instance(13800)
    i.add_user(USER, "pw")
    i.ok("config", "set", "hopcount_limit=3")
    i.start()
    code, reply = smtp_send(i, message(3, b"four"))
    assert code == 554 and reply.startswith(b"5.4.6"), (code, reply)
    code, reply = smtp_send(i, message(2, b"three"))
    assert code == 250, (code, reply)


if __name__ == "__main__":
    run()
