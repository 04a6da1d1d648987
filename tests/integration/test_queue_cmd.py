"""postern queue list|flush|hold|release|delete, against a running instance.

Messages go to @remote.test: remote delivery is not there yet, so they stay
in deferred/ where the commands can act on them.
"""
import os
import re
import stat
import subprocess

from harness import BIN, Instance, run, test, wait_for

SENDMAIL = os.path.join(BIN, "sendmail")
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def send(inst, rcpts, sender=None, body="Subject: q\n\nbody\n"):
    args = [SENDMAIL, "-C", inst.conf] + (["-f", sender] if sender else [])
    r = subprocess.run(args + list(rcpts), input=body.encode(),
                       capture_output=True, timeout=60, env=inst.env)
    assert r.returncode == 0, r.stderr


def files(inst, sub):
    return sorted(os.listdir(inst.path("spool", sub)))


def one_deferred(inst):
    return wait_for(lambda: files(inst, "deferred"), timeout=20,
                    what="a message in deferred/")[0]


def queue_list(inst):
    r = inst.ok("queue", "list")
    return r.stdout.strip().splitlines()


@test
def list_shows_a_deferred_message():
    i = Instance(28800)
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    assert queue_list(i) == ["queue is empty"]
    send(i, ["user@remote.test", "two@remote.test"], sender="s@src.test")
    qid = one_deferred(i)
    lines = queue_list(i)
    assert lines[-1] == "1 message", lines
    f = lines[0].split(" ")
    assert f[0] == qid, lines
    size = os.path.getsize(i.path("spool", "deferred", qid))
    assert 0 < int(f[1]) < size, (f, size)
    assert re.fullmatch(ISO, f[2]), f
    assert f[3] == "<s@src.test>", f
    assert f[4] == "<user@remote.test>,<two@remote.test>", f
    assert f[5] == "deferred" and re.fullmatch("next=" + ISO, f[6]), f
    send(i, ["x@remote.test"], sender="<>")
    wait_for(lambda: len(files(i, "deferred")) == 2, timeout=20,
             what="two deferred messages")
    lines = queue_list(i)
    assert lines[-1] == "2 messages", lines
    assert lines[0].split(" ")[0] == qid, "not oldest first: %s" % lines
    assert lines[1].split(" ")[3] == "<>", lines


@test
def list_marks_delivered_recipients():
    i = Instance(28820)
    i.add_user("user@example.test", "pw")
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    send(i, ["user@example.test", "r@remote.test"])
    qid = one_deferred(i)
    line = queue_list(i)[0].split(" ")
    assert line[0] == qid, line
    assert line[4] == "<user@example.test>(delivered),<r@remote.test>", line


@test
def hold_release_delete_and_flush():
    i = Instance(28850)
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    send(i, ["user@remote.test"])
    qid = one_deferred(i)
    r = i.ok("queue", "hold", qid)
    assert "OK" in r.stdout, r.stdout
    wait_for(lambda: files(i, "hold") == [qid], what="the message in hold/")
    line = queue_list(i)[0].split(" ")
    assert line[0] == qid and line[-1] == "hold", line
    r = i.ok("queue", "release", qid)
    assert "OK" in r.stdout
    assert files(i, "hold") == []
    wait_for(lambda: qid in files(i, "deferred") + files(i, "active"),
             what="the released message back in the queue")
    r = i.ok("queue", "flush")
    assert "OK" in r.stdout, r.stdout
    one_deferred(i)
    r = i.ok("queue", "delete", qid)
    assert "OK" in r.stdout
    wait_for(lambda: all(qid not in files(i, d)
                         for d in ("new", "active", "deferred", "hold")),
             what="the deleted message to leave the queue")
    assert queue_list(i) == ["queue is empty"]


@test
def bad_and_unknown_ids_are_refused():
    i = Instance(28870)
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    for bad in ("../new/x", "abc", "1NG4HXQSFXYAEHW4/..", ""):
        r = i.run_postern("queue", "hold", bad)
        assert r.returncode == 64, (bad, r)
        assert "not a queue id" in r.stderr, r.stderr
    r = i.run_postern("queue", "delete", "1NG4HXQSFXYAEHW4")
    assert r.returncode == 1 and r.stderr.startswith("postern: queue delete"), r
    r = i.run_postern("queue", "frobnicate")
    assert r.returncode == 64, r
    r = i.run_postern("queue", "hold")
    assert r.returncode == 64, r


@test
def stopped_instance_list_works_commands_fail():
    i = Instance(28890)
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    send(i, ["user@remote.test"])
    qid = one_deferred(i)
    i.ok("stop")
    with open(i.path("spool", "corrupt", "1NG4HXQSFXYAEHW9"), "wb") as f:
        f.write(b"junk")
    lines = queue_list(i)
    assert lines[0].startswith(qid + " "), lines
    assert any(l.startswith("1NG4HXQSFXYAEHW9 corrupt") for l in lines), lines
    assert lines[-1] == "1 message", lines
    for args in (["flush"], ["hold", qid], ["release", qid], ["delete", qid]):
        r = i.run_postern("queue", *args)
        assert r.returncode == 1, (args, r)
        assert "cannot reach the queue manager" in r.stderr, r.stderr
        assert "is the instance running?" in r.stderr, r.stderr
    assert files(i, "deferred") == [qid]


@test
def list_skips_fifos_symlinks_and_devices():
    # a FIFO in a queue directory must not hang "queue list" (it was
    # opened for reading, which blocks until a writer comes), a symlink
    # must not be followed, a device not opened
    i = Instance(20600)
    i.ok("config", "set", "relay_host=[127.0.0.1]:9")
    i.start()
    send(i, ["user@remote.test"])
    qid = one_deferred(i)
    i.ok("stop")
    outside = os.path.join(i.tmp, "outside")
    with open(i.path("spool", "deferred", qid), "rb") as f:
        data = f.read()
    with open(outside, "wb") as f:
        f.write(data)
    fifo, link, dev = "1NG4HXQSFXYAEHW7", "1NG4HXQSFXYAEHW8", "1NG4HXQSFXYAEHW6"
    os.mkfifo(i.path("spool", "deferred", fifo))
    os.symlink(outside, i.path("spool", "hold", link))
    if os.geteuid() == 0:
        os.mknod(i.path("spool", "new", dev), 0o600 | stat.S_IFCHR,
                 os.makedev(1, 3))      # /dev/null's numbers
    r = i.run_postern("queue", "list", timeout=30)
    assert r.returncode == 0, r
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith(qid + " ") and lines[-1] == "1 message", lines
    for name in (fifo, link, dev):
        assert name not in r.stdout, r.stdout
    assert "deferred/%s: fifo, not a queue file; skipped" % fifo in r.stderr, \
        r.stderr
    assert "hold/%s: symbolic link, not a queue file; skipped" % link in \
        r.stderr, r.stderr
    if os.geteuid() == 0:
        assert "new/%s: character device, not a queue file; skipped" % dev \
            in r.stderr, r.stderr


if __name__ == "__main__":
    run()
