"""Mail in, end to end: SMTP client -> smtpd -> injector -> queue manager ->
Maildir, including the crash and full-disk promises of CONTRACT.md:
"A 250 at the end of DATA means the message is on stable storage: a power
cut or kill -9 of any process after it loses nothing."
"""
import os
import signal
import smtplib
import subprocess
import time

from harness import IS_ROOT, Instance, pid_alive, run, skip, test, wait_for

USER = "alice@example.test"


def instance(base):
    i = Instance(base)
    i.add_user(USER, "pw")
    return i


def maildir_new(i, user="alice"):
    d = i.path("mail", "example.test", user, "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def queue_files(i):
    n = 0
    for sub in ("new", "active", "deferred", "hold", "tmp"):
        d = i.path("spool", sub)
        if os.path.isdir(d):
            n += len(os.listdir(d))
    return n


def instance_pids(i):
    """Every process of this instance, found by its configuration path on
    the command line: master, services and forked session processes."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if i.conf.encode() in cmd and b"postern" in cmd:
            pids.append(int(p))
    return pids


def raw_smtp(port, sender, rcpt, wire_data):
    """Send wire_data (already dot-stuffed, CRLF) as DATA; the final reply."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                return line

    reply()
    for cmd in (b"EHLO client.example", b"MAIL FROM:<%s>" % sender.encode(),
                b"RCPT TO:<%s>" % rcpt.encode(), b"DATA"):
        s.sendall(cmd + b"\r\n")
        r = reply()
        assert r[:1] in (b"2", b"3"), (cmd, r)
    s.sendall(wire_data + b".\r\n")
    r = reply()
    s.sendall(b"QUIT\r\n")
    s.close()
    return r


@test
def byte_exact_through_smtp_to_maildir():
    i = instance(31000)
    i.start()
    body = (b"Subject: exact\r\nX-8bit: caf\xc3\xa9\r\n\r\n"
            b".leading dot\r\n..two dots\r\n.\r\n" + b"x" * 998 + b"\r\n"
            b"8-bit \xe2\x82\xac line\r\nlast line\r\n")
    stuffed = b"\r\n".join(b"." + l if l.startswith(b".") else l
                           for l in body.split(b"\r\n"))
    r = raw_smtp(31000 + 25, "sender@remote.example", USER, stuffed)
    assert r.startswith(b"250 2.0.0 Ok: queued as "), r
    files = wait_for(lambda: maildir_new(i), what="delivery")
    with open(os.path.join(i.path("mail", "example.test", "alice", "new"),
                           files[0]), "rb") as f:
        data = f.read()
    # the stored message is the sent one, dot-stuffing undone, with LF line
    # ends, after the headers local delivery and smtpd prepend
    assert data.endswith(b"\n\n" + body.split(b"\r\n\r\n", 1)[1]
                         .replace(b"\r\n", b"\n")), data[-300:]
    assert b"\nSubject: exact\nX-8bit: caf\xc3\xa9\n\n" in data
    assert data.startswith(b"Return-Path: <sender@remote.example>\n"
                           b"Delivered-To: alice@example.test\nReceived: ")
    size = int(files[0].split(",S=")[1].split(",")[0].split(":")[0])
    assert size == len(data)
    vsize = int(files[0].split(",W=")[1].split(":")[0])
    assert vsize == len(data) + data.count(b"\n")


def kill_everything_after_250(base, delay):
    i = instance(base)
    i.start()
    s = smtplib.SMTP("127.0.0.1", base + 25, timeout=30)
    s.ehlo("client.example")
    s.mail("sender@remote.example")
    s.rcpt(USER)
    code, msg = s.data(b"Subject: crash %d\r\n\r\nbody\r\n" % base)
    assert code == 250, msg
    if delay:
        time.sleep(delay)
    pids = instance_pids(i)
    assert len(pids) >= 5, pids    # master, services, the session
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    s.close()                       # no QUIT: its server is gone
    wait_for(lambda: not any(pid_alive(p) for p in pids), what="all dead")
    i.ok("start")
    i.remember_pids()
    wait_for(lambda: maildir_new(i), timeout=30, what="delivery after restart")
    wait_for(lambda: queue_files(i) == 0, timeout=30, what="an empty queue")
    time.sleep(0.5)
    assert len(maildir_new(i)) == 1, maildir_new(i)


@test
def kill_9_of_everything_right_after_250_loses_nothing():
    kill_everything_after_250(31100, 0)


@test
def kill_9_of_everything_10ms_after_250_loses_nothing():
    kill_everything_after_250(31200, 0.01)


@test
def kill_9_of_everything_100ms_after_250_loses_nothing():
    kill_everything_after_250(31300, 0.1)


@test
def full_queue_disk_gives_4xx_and_loses_nothing():
    if not IS_ROOT:
        skip("needs root to mount a small tmpfs")
    i = instance(31400)
    spool = i.path("spool")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755",
                    "tmpfs", spool], check=True)
    try:
        i.start()
        filler = os.path.join(spool, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        body = b"Subject: no room\r\n\r\n" + b"y" * 200000 + b"\r\n"
        with smtplib.SMTP("127.0.0.1", 31400 + 25, timeout=30) as s:
            s.ehlo("client.example")
            s.mail("sender@remote.example")
            s.rcpt(USER)
            code, msg = s.data(body)
            assert 400 <= code < 500, (code, msg)
            os.unlink(filler)
        assert queue_files(i) == 0, "a half message was left in the queue"
        assert maildir_new(i) == []
        # with room again the same message goes through
        with smtplib.SMTP("127.0.0.1", 31400 + 25, timeout=30) as s:
            s.sendmail("sender@remote.example", [USER], body)
        wait_for(lambda: maildir_new(i), timeout=30, what="delivery")
        assert len(maildir_new(i)) == 1
    finally:
        i.stop()
        subprocess.run(["umount", "-l", spool])


@test
def quick_reconnects_are_not_refused_by_the_address_limit():
    # a session that has ended must not count against
    # smtpd_client_connection_limit, even if the client is back the instant
    # it has the 221 (as smtp-source and busy relays are)
    import socket
    i = instance(31500)
    i.ok("config", "set", "smtpd_client_connection_limit=1")
    i.start()
    for n in range(300):
        s = socket.create_connection(("127.0.0.1", 31500 + 25), timeout=30)
        f = s.makefile("rb")
        greeting = f.readline()
        assert greeting.startswith(b"220 "), (n, greeting)
        s.sendall(b"QUIT\r\n")
        assert f.readline().startswith(b"221 ")
        f.close()
        s.close()

run()
