"""Delivery: postern-qmgr and postern-local from injection to the Maildir.

Messages are injected through the injector's protocol (inject.h) on
spool/private/inject, and through SMTP when postern-smtpd is built. Checked:
the exact bytes and Dovecot names in new/, +extensions, aliases, remote
recipients kept queued, a missing Maildir (deferred, then FLUSH), the
Delivered-To: loop, kill -9 of the queue manager and the agents, stop and
start with deferred mail, and a full disk (root only)."""
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import time

from harness import (BIN, IS_ROOT, Instance, inject, qmgr_command, run,
                     skip, test, wait_for)

DOMAIN = "example.test"
BODY = (b"From: a@b.example\nTo: user@example.test\nSubject: delivery test\n"
        b"\nbody line 1\n\xc3\xa9 8-bit line\n" + b"x" * 3000 + b"\n"
        b"..leading dots stay\n\nlast line\n")




def maildir(inst, user, sub="new"):
    return inst.path("mail", DOMAIN, user, sub)


def new_files(inst, user):
    try:
        return sorted(os.listdir(maildir(inst, user)))
    except FileNotFoundError:
        return []


def read_new(inst, user, name):
    with open(os.path.join(maildir(inst, user), name), "rb") as f:
        return f.read()


def log_has(inst, pattern):
    """The log is written by the master's collector, a moment after the
    event: wait for the line."""
    return wait_for(lambda: re.search(pattern, inst.log()),
                    what="log line " + pattern)


def queue_files(inst, sub):
    return sorted(os.listdir(inst.path("spool", sub)))


def queue_empty(inst):
    return all(not queue_files(inst, d)
               for d in ("new", "active", "deferred"))


def setup(port_base, users=("user",), conf=()):
    i = Instance(port_base)
    for u in users:
        i.add_user("%s@%s" % (u, DOMAIN), "secret-" + u)
    for kv in conf:
        i.ok("config", "set", kv)
    i.start()
    return i


def check_file(inst, user, name, sender, rcpt, body):
    data = read_new(inst, user, name)
    head = b"Return-Path: <%s>\nDelivered-To: %s\n" % (sender.encode(),
                                                        rcpt.encode())
    assert data == head + body, data[:200]
    m = re.search(r",S=(\d+),W=(\d+)$", name)
    assert m, name
    assert int(m.group(1)) == len(data) == os.path.getsize(
        os.path.join(maildir(inst, user), name))
    assert int(m.group(2)) == len(data) + data.count(b"\n")
    assert re.match(r"^\d+\.M\d+P\d+Q\d+\.mail\.example\.test,S=", name), name


@test
def local_delivery_is_byte_exact_with_dovecot_name():
    i = setup(27000)
    qid = inject(i, "a@b.example", ["user@example.test"], BODY)
    files = wait_for(lambda: new_files(i, "user"), what="delivery")
    assert len(files) == 1
    check_file(i, "user", files[0], "a@b.example", "user@example.test", BODY)
    wait_for(lambda: queue_empty(i), what="the queue to empty")
    log_has(i, qid + r": to=<user@example.test> relay=local "
            r"delay=[0-9.]+ status=sent")
    log_has(i, qid + ": removed")
    assert not os.listdir(maildir(i, "user", "tmp"))


@test
def null_sender_and_extension():
    i = setup(27075)
    inject(i, "", ["User+Tag@Example.Test"], b"Subject: x\n\nbody\n")
    files = wait_for(lambda: new_files(i, "user"), what="delivery")
    assert len(files) == 1
    check_file(i, "user", files[0], "", "user+tag@example.test",
               b"Subject: x\n\nbody\n")


@test
def alias_with_two_local_targets_delivers_to_both():
    i = setup(27150, users=("user", "bob"))
    i.ok("alias", "add", "team@example.test",
         "user@example.test,bob@example.test")
    qid = inject(i, "a@b.example", ["team@example.test"], BODY)
    wait_for(lambda: new_files(i, "user") and new_files(i, "bob"),
             what="both deliveries")
    wait_for(lambda: queue_empty(i), what="the queue to empty")
    assert len(new_files(i, "user")) == 1 and len(new_files(i, "bob")) == 1
    check_file(i, "bob", new_files(i, "bob")[0], "a@b.example",
               "bob@example.test", BODY)
    log_has(i, qid + ": to=<bob@example.test> orig_to=<team@example.test>")


@test
def remote_recipient_stays_queued_local_one_delivered():
    # a relay host that refuses connections keeps remote mail deferred
    i = setup(27225, conf=("relay_host=[127.0.0.1]:9",))
    qid = inject(i, "a@b.example",
                 ["user@example.test", "someone@remote.example"], BODY)
    wait_for(lambda: new_files(i, "user"), what="the local delivery")
    wait_for(lambda: qid in queue_files(i, "deferred"),
             what="the message in deferred/")
    log_has(i, r"to=<someone@remote\.example> relay=none delay=[0-9.]+ "
               r"status=deferred \(4\.4\.1 connect to 127\.0\.0\.1")
    # a retry must not deliver the local recipient again
    assert qmgr_command(i, "FLUSH") == "OK"
    wait_for(lambda: i.log().count(
        "to=<someone@remote.example> relay=none") >= 2, what="a retry")
    wait_for(lambda: qid in queue_files(i, "deferred"), what="deferred again")
    assert len(new_files(i, "user")) == 1


@test
def unknown_user_bounces():
    i = setup(27300)
    # the null sender: no DSN to send anywhere (test_bounce.py has those)
    qid = inject(i, "", ["nobody@example.test"], BODY)
    wait_for(lambda: queue_empty(i), what="the queue to empty")
    log_has(i, qid + r": to=<nobody@example.test> relay=none "
            r"delay=[0-9.]+ status=bounced \(5\.1\.1 user unknown")


def make_maildir(inst, user):
    top = inst.path("mail", DOMAIN, user)
    for sub in ("", "cur", "new", "tmp"):
        os.makedirs(os.path.join(top, sub), mode=0o700, exist_ok=True)
        if IS_ROOT:
            pw = pwd.getpwnam("postern-mail")
            os.chown(os.path.join(top, sub), pw.pw_uid, pw.pw_gid)


@test
def missing_maildir_defers_then_flush_delivers():
    i = setup(27375)
    shutil.rmtree(i.path("mail", DOMAIN, "user"))
    qid = inject(i, "a@b.example", ["user@example.test"], BODY)
    wait_for(lambda: qid in queue_files(i, "deferred"),
             what="the message in deferred/")
    log_has(i, r"status=deferred \(4\.2\.0 mailbox does not exist\)")
    make_maildir(i, "user")
    assert qmgr_command(i, "FLUSH") == "OK"
    files = wait_for(lambda: new_files(i, "user"), what="delivery")
    check_file(i, "user", files[0], "a@b.example", "user@example.test", BODY)
    wait_for(lambda: queue_empty(i), what="the queue to empty")


@test
def delivered_to_loop_is_not_delivered():
    i = setup(27450)
    body = b"Delivered-To: someone@else\nDelivered-To: User@Example.Test\n" \
           b"Subject: loop\n\nbody\n"
    qid = inject(i, "", ["user@example.test"], body)
    wait_for(lambda: queue_empty(i), what="the queue to empty")
    assert not new_files(i, "user")
    log_has(i, qid + r": to=<user@example.test> relay=local .*"
            r"status=bounced \(5\.4\.6 mail forwarding loop")


@test
def commands_hold_release_delete():
    i = setup(27525, conf=("relay_host=[127.0.0.1]:9",))
    assert qmgr_command(i, "HOLD\tnot-an-id") == "ERR\tbad queue id"
    assert qmgr_command(i, "NOPE").startswith("ERR\t")
    qid = inject(i, "a@b.example", ["someone@remote.example"], BODY)
    wait_for(lambda: qid in queue_files(i, "deferred"), what="deferred")
    assert qmgr_command(i, "HOLD\t" + qid) == "OK"
    assert queue_files(i, "hold") == [qid]
    assert qmgr_command(i, "RELEASE\t" + qid) == "OK"
    wait_for(lambda: qid in queue_files(i, "deferred"), what="released")
    assert qmgr_command(i, "DELETE\t" + qid) == "OK"
    wait_for(lambda: queue_empty(i), what="deletion")
    assert qmgr_command(i, "DELETE\t" + qid).startswith("ERR\t")


def service_pid_ready(inst, name, old):
    return [p for p in inst.service_pids(name, "ready") if p not in old] + \
        [p for p in inst.service_pids(name, "busy") if p not in old]


@test
def kill_9_of_qmgr_and_agents_delivers_exactly_once():
    i = setup(27600, conf=("retry_min=1s",))
    qmgr = i.service_pids("qmgr")
    locals_ = i.service_pids("local")
    # the master starts local_delivery_limit postern-local processes
    want = int(i.ok("config", "get", "local_delivery_limit").stdout)
    assert qmgr and len(locals_) == want, (locals_, want)
    # the queue manager cannot move before it dies: the message is in new/
    os.kill(qmgr[0], signal.SIGSTOP)
    qid = inject(i, "a@b.example", ["user@example.test"], BODY)
    assert qid in queue_files(i, "new")
    for p in qmgr + locals_:
        os.kill(p, signal.SIGKILL)
    wait_for(lambda: service_pid_ready(i, "qmgr", qmgr), timeout=20,
             what="a new queue manager")
    i.remember_pids()
    wait_for(lambda: new_files(i, "user"), timeout=20, what="delivery")
    wait_for(lambda: queue_empty(i), what="the queue to empty")
    time.sleep(1.5)
    assert len(new_files(i, "user")) == 1
    # again, killed while a delivery may be in flight: never lost
    qid = inject(i, "a@b.example", ["user@example.test"], BODY)
    for p in i.service_pids("qmgr") + i.service_pids("local"):
        os.kill(p, signal.SIGKILL)
    wait_for(lambda: len(new_files(i, "user")) >= 2, timeout=30,
             what="the second delivery")
    wait_for(lambda: queue_empty(i), timeout=20, what="the queue to empty")
    i.remember_pids()


@test
def stop_start_keeps_deferred_messages():
    i = setup(27675, conf=("relay_host=[127.0.0.1]:9",))
    qid = inject(i, "a@b.example", ["someone@remote.example"], BODY)
    wait_for(lambda: qid in queue_files(i, "deferred"), what="deferred")
    i.ok("stop")
    assert queue_files(i, "deferred") == [qid]
    i.start()
    time.sleep(1)
    assert queue_files(i, "deferred") == [qid]
    assert qmgr_command(i, "FLUSH") == "OK"
    wait_for(lambda: i.log().count("to=<someone@remote.example>") >= 2,
             what="a retry after the restart")
    wait_for(lambda: qid in queue_files(i, "deferred"), what="deferred")


@test
def full_disk_keeps_the_message_queued():
    if not IS_ROOT:
        skip("needs root to mount a tmpfs")
    i = Instance(27750)
    dom = i.path("mail", DOMAIN)
    os.makedirs(dom, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs",
                        dom], capture_output=True, text=True)
    if r.returncode != 0:
        skip("cannot mount a tmpfs: " + r.stderr.strip())
    try:
        i.add_user("user@" + DOMAIN, "pw")
        i.start()
        filler = os.path.join(dom, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        os.close(fd)
        qid = inject(i, "a@b.example", ["user@example.test"], BODY)
        wait_for(lambda: qid in queue_files(i, "deferred"), what="deferred")
        log_has(i, qid + r": to=<user@example.test> relay=local .*"
                r"status=deferred \(4\.2\.2 mailbox full")
        assert not new_files(i, "user")
        assert not os.listdir(maildir(i, "user", "tmp"))
        os.unlink(filler)
        assert qmgr_command(i, "FLUSH") == "OK"
        files = wait_for(lambda: new_files(i, "user"), what="delivery")
        check_file(i, "user", files[0], "a@b.example", "user@example.test",
                   BODY)
        wait_for(lambda: queue_empty(i), what="the queue to empty")
        i.ok("stop")
    finally:
        i.cleanup()
        subprocess.run(["umount", dom], capture_output=True)


@test
def smtp_to_maildir():
    if not os.path.exists(os.path.join(BIN, "postern-smtpd")):
        skip("postern-smtpd is not built")
    i = setup(27825)
    body = b"Subject: via smtp\r\n\r\nhello\r\n"
    with smtplib.SMTP("127.0.0.1", 27825 + 25, timeout=30) as s:
        s.sendmail("a@b.example", ["user@example.test"], body)
    files = wait_for(lambda: new_files(i, "user"), what="delivery")
    data = read_new(i, "user", files[0])
    assert data.startswith(b"Return-Path: <a@b.example>\n"
                           b"Delivered-To: user@example.test\n"), data
    assert b"Subject: via smtp\nX" not in data
    assert data.endswith(b"\nhello\n"), data
    assert b"Received:" in data


run()
