"""postern-smtpd against slow and hostile clients, and trusted networks.

Client addresses: 127.0.0.1 is in the default trusted_networks; other
127.x.y.z addresses are on the loopback interface too (the kernel routes
all of 127.0.0.0/8 there), so a test binds its client sockets to them to
be someone untrusted. IPv6 clients need addresses that only a private
network namespace may add: that test runs its instance in one of its
own (unshare -n, as root).
"""
import base64
import os
import re
import select
import socket
import subprocess
import sys
import time

from harness import IS_ROOT, run, skip, test, wait_for
from smtp_client import (DOMAIN, USER, Raw, count_stored, envelope, instance,
                         smtp_port, stored)

HERE = os.path.dirname(os.path.abspath(__file__))


def connect_many(i, n, source=None):
    """n sessions at once; each greeted 220 or refused (its code)."""
    conns, codes = [], []
    for _ in range(n):
        r = Raw(smtp_port(i), greet=False, source=source)
        conns.append(r)
    for r in conns:
        codes.append(r.reply()[0])
    return conns, codes


def close_all(conns):
    for r in conns:
        r.close()


@test
def trusted_clients_open_more_than_the_client_limit():
    # a webmail or local application: 120 sessions from 127.0.0.1 while
    # smtpd_client_connection_limit is 3
    i = instance(29000, smtpd_client_connection_limit="3")
    conns, codes = connect_many(i, 120)
    try:
        assert codes == [220] * 120, codes
        # and every one of them is a working session
        for r in conns[::20]:
            assert r.cmd("NOOP")[0] == 250
        r = conns[-1]
        envelope(r, [USER])
        r.send("DATA\r\n")
        assert r.reply()[0] == 354
        r.send("Subject: trusted\r\n\r\nTRUSTED-120\r\n.\r\n")
        code, text = r.reply()
        assert code == 250 and "queued as" in text, (code, text)
    finally:
        close_all(conns)
    stored(i, b"TRUSTED-120")
    assert "too many connections" not in i.log()


@test
def untrusted_address_over_the_limit_is_refused():
    i = instance(29100, smtpd_client_connection_limit="3",
                 trusted_networks="127.0.0.1/32, ::1/128")
    conns, codes = connect_many(i, 3, source="127.0.0.2")
    try:
        assert codes == [220] * 3, codes
        late = Raw(smtp_port(i), greet=False, source="127.0.0.2")
        code, text = late.reply()
        assert code == 421 and text.startswith("4.7.0 too many "
                                               "connections"), text
        assert late.rest() == ""
        late.close()
        # another untrusted address is another client
        other = Raw(smtp_port(i), source="127.0.0.3")
        assert other.cmd("NOOP")[0] == 250
        other.close()
        # the trusted one is not held to the limit
        more, codes = connect_many(i, 10, source="127.0.0.1")
        close_all(more)
        assert codes == [220] * 10, codes
    finally:
        close_all(conns)
    wait_for(lambda: "refused connection from 127.0.0.2: "
             "smtpd_client_connection_limit reached" in i.log(),
             what="the refusal logged")


V6_NET = "fd00:1:2:3::"
V6_OTHER_NET = "fd00:1:2:4::"


def v6_inner(base):
    """Inside a private network namespace: several addresses of one /64
    count as one client; another /64 is another client."""
    i = instance(base, smtpd_client_connection_limit="3",
                 trusted_networks="127.0.0.0/8",
                 listen_smtp="127.0.0.1:%d,[::]:%d" % (base + 25,
                                                        base + 25))
    conns = []
    try:
        for n in range(3):
            r = Raw(smtp_port(i), host="::1", source=V6_NET + "%x" % (n + 1))
            conns.append(r)
        late = Raw(smtp_port(i), greet=False, host="::1",
                   source=V6_NET + "99")
        code, text = late.reply()
        assert code == 421 and text.startswith("4.7.0 too many "
                                               "connections"), text
        late.close()
        other = Raw(smtp_port(i), host="::1", source=V6_OTHER_NET + "1")
        assert other.cmd("NOOP")[0] == 250
        other.close()
    finally:
        close_all(conns)
    wait_for(lambda: "refused connection from %s99: smtpd_client_"
             "connection_limit reached (for the network %s/64)"
             % (V6_NET, V6_NET) in i.log(), what="the /64 in the log")
    print("V6-INNER-OK", flush=True)


@test
def ipv6_addresses_of_one_64_count_as_one_client():
    if not IS_ROOT:
        skip("adding IPv6 addresses needs a private network namespace "
             "(root)")
    addrs = [V6_NET + "%x" % n for n in (1, 2, 3, 0x99)] + [V6_OTHER_NET + "1"]
    setup = "ip link set lo up && " + " && ".join(
        "ip -6 addr add %s/64 dev lo nodad" % a for a in addrs)
    # the instance lives in the namespace: stopped there, also on failure
    code = ("import sys\nsys.path.insert(0, %r)\n"
            "import test_smtpd_limits as t, harness\n"
            "try:\n    t.v6_inner(29200)\n"
            "finally:\n    harness.Instance.cleanup_all()\n" % HERE)
    p = subprocess.run(["unshare", "-n", "sh", "-c",
                        setup + ' && exec "$0" -c "$1"', sys.executable,
                        code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "V6-INNER-OK" in p.stdout, (
        p.returncode, p.stdout, p.stderr)


@test
def slow_loris_data_is_cut():
    # smtpd_timeout 4 s; one byte a second never lets it expire, but at
    # 500 bytes/s the data deadline does
    i = instance(29300, smtpd_timeout="4s", smtpd_min_data_rate="500")
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    r.send("DATA\r\n")
    assert r.reply()[0] == 354
    r.send("Subject: loris\r\n\r\n")
    reply = None
    for _ in range(25):
        ready, _, _ = select.select([r.s], [], [], 1.0)
        if ready:
            reply = r.reply()
            break
        try:
            r.send(b"x")
        except OSError:
            break
    assert reply is not None, "still reading after 25 s of dribbling"
    code, text = reply
    assert code == 421 and text == "4.4.2 data rate too low", reply
    assert r.rest() == ""
    r.close()
    wait_for(lambda: re.search(r"slow data from 127\.0\.0\.1: \d+ bytes in "
                               r"\d+ s \(smtpd_min_data_rate 500\)",
                               i.log()), what="the slow client logged")
    wait_for(lambda: "reason=data rate too low" in i.log(),
             what="the disconnect logged")
    assert count_stored(i, b"Subject: loris") == 0


@test
def data_longer_than_smtpd_timeout_at_a_fair_rate_is_accepted():
    # the whole DATA takes twice smtpd_timeout; the rate keeps it alive
    i = instance(29400, smtpd_timeout="3s", smtpd_min_data_rate="500")
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    r.send("DATA\r\n")
    assert r.reply()[0] == 354
    r.send("Subject: fair\r\n\r\n")
    line = b"y" * 78 + b"\r\n"
    end = time.monotonic() + 7
    while time.monotonic() < end:
        r.send(line * 20)           # 1600 bytes every half second
        time.sleep(0.5)
    r.send("FAIR-END\r\n.\r\n")
    code, text = r.reply()
    assert code == 250 and "queued as" in text, (code, text)
    stored(i, b"FAIR-END")


@test
def session_time_limit_ends_a_busy_session():
    i = instance(29500, smtpd_session_time_limit="3s",
                 smtpd_junk_command_limit="100000")
    r = Raw(smtp_port(i))
    start = time.monotonic()
    reply = None
    while time.monotonic() - start < 20:
        reply = r.cmd("NOOP")
        if reply[0] != 250:
            break
        time.sleep(0.2)
    assert reply == (421, "4.4.2 session time limit reached"), reply
    assert r.rest() == ""
    r.close()
    wait_for(lambda: "reason=session time limit reached" in i.log(),
             what="the disconnect logged")


@test
def junk_commands_are_cut():
    i = instance(29600, smtpd_junk_command_limit="5")
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    # NOOP, RSET, VRFY, HELP and a second EHLO are junk: 4 so far
    assert r.cmd("NOOP")[0] == 250
    assert r.cmd("VRFY demo")[0] == 252
    assert r.cmd("HELP")[0] == 214
    assert r.cmd("EHLO again.example")[0] == 250
    # an accepted message starts the count afresh
    envelope(r, [USER])
    r.send("DATA\r\nSubject: junk\r\n\r\nJUNK-OK\r\n.\r\n")
    assert r.reply()[0] == 354
    assert r.reply()[0] == 250
    codes = [r.cmd(c)[0] for c in ("NOOP", "RSET", "NOOP", "VRFY x",
                                   "HELP")]
    assert codes == [250, 250, 250, 252, 214], codes
    code, text = r.cmd("NOOP")
    assert code == 421 and text == ("4.7.0 too many commands that move "
                                    "no mail"), (code, text)
    assert r.rest() == ""
    r.close()
    wait_for(lambda: "reason=too many junk commands" in i.log(),
             what="the disconnect logged")
    stored(i, b"JUNK-OK")


@test
def oversized_bdat_chunks_are_refused():
    i = instance(29700, message_size_limit="10000")
    # a chunk larger than the limit: 552 at once, unread, and closed
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    r.send(b"BDAT 99999999999 LAST\r\nSubject: huge\r\n\r\n")
    code, text = r.reply()
    assert code == 552 and text.startswith("5.3.4 BDAT chunk of "
                                           "99999999999 bytes"), text
    assert r.rest() == ""
    r.close()
    # also outside a transaction
    r = Raw(smtp_port(i))
    r.send(b"BDAT 18446744073709551615\r\n")
    assert r.reply()[0] == 552
    assert r.rest() == ""
    r.close()
    # chunks that would take the message past the limit: the chunk is
    # read and thrown away, the session stays in step
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    c1 = b"Subject: big\r\n\r\n" + b"a" * 5984
    r.send(b"BDAT %d\r\n" % len(c1) + c1)
    assert r.reply() == (250, "2.0.0 %d octets received" % len(c1))
    c2 = b"b" * 6000
    r.send(b"BDAT 6000\r\n" + c2 + b"BDAT 5 LAST\r\nhello")
    code, text = r.reply()
    assert code == 552 and text == "5.3.4 message too big", (code, text)
    code, text = r.reply()          # the pipelined last chunk
    assert code == 503, (code, text)
    assert r.cmd("NOOP")[0] == 250
    # the next message goes through
    envelope(r, [USER])
    c3 = b"Subject: small\r\n\r\nBDAT-SMALL\r\n"
    r.send(b"BDAT %d LAST\r\n" % len(c3) + c3)
    code, text = r.reply()
    assert code == 250 and "queued as" in text, (code, text)
    r.close()
    stored(i, b"BDAT-SMALL")
    assert count_stored(i, b"Subject: big") == 0
    assert count_stored(i, b"Subject: huge") == 0


def delivered(i, needle):
    """Files in the user's Maildir holding needle."""
    n = 0
    top = i.path("mail", DOMAIN, "demo")
    for d, _, files in os.walk(top):
        for f in files:
            try:
                with open(os.path.join(d, f), "rb") as fh:
                    n += needle in fh.read()
            except OSError:
                pass
    return n


@test
def duplicate_recipients_are_merged():
    i = instance(29800, smtpd_recipient_limit="2")
    r = Raw(smtp_port(i))
    assert r.cmd("EHLO client.example")[0] == 250
    assert r.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    replies = [r.cmd("RCPT TO:<%s>" % a) for a in
               (USER, USER, "Demo@Example.TEST", "other@" + DOMAIN)]
    # the same recipient thrice counts once: "other" is the second
    assert [c for c, _ in replies] == [250, 250, 250, 250], replies
    r.send("DATA\r\nSubject: dup\r\n\r\nDUP-ONCE\r\n.\r\n")
    assert r.reply()[0] == 354
    code, text = r.reply()
    assert code == 250 and "queued as" in text, (code, text)
    r.close()
    wait_for(lambda: delivered(i, b"DUP-ONCE") >= 1, timeout=20,
             what="delivery")
    wait_for(lambda: i.ok("queue", "list").stdout.strip() ==
             "queue is empty", timeout=20, what="an empty queue")
    assert delivered(i, b"DUP-ONCE") == 1
    log = i.log()
    assert re.search(r"nrcpt=2 ", log), log


@test
def trusted_networks_relay_is_off_by_default_and_on_when_set():
    i = instance(29900)
    r = Raw(smtp_port(i))
    assert r.cmd("EHLO client.example")[0] == 250
    assert r.cmd("MAIL FROM:<a@remote.example>")[0] == 250
    code, text = r.cmd("RCPT TO:<someone@elsewhere.example>")
    assert code == 554 and "relay access denied" in text, (code, text)
    r.close()
    assert i.ok("config", "get", "trusted_networks_relay").stdout.strip() \
        == "no"
    i.ok("config", "set", "trusted_networks_relay=yes")
    i.ok("reload")

    def relays():
        r = Raw(smtp_port(i))
        try:
            assert r.cmd("EHLO client.example")[0] == 250
            assert r.cmd("MAIL FROM:<a@remote.example>")[0] == 250
            return r.cmd("RCPT TO:<someone@elsewhere.example>")[0] == 250
        finally:
            r.close()
    wait_for(relays, timeout=20, what="relay allowed after reload")
    # an untrusted address still may not
    i.ok("config", "set", "trusted_networks=127.0.0.1/32")
    i.ok("reload")

    def refused_from_other():
        r = Raw(smtp_port(i), source="127.0.0.2")
        try:
            assert r.cmd("EHLO client.example")[0] == 250
            assert r.cmd("MAIL FROM:<a@remote.example>")[0] == 250
            return r.cmd("RCPT TO:<someone@elsewhere.example>")[0] == 554
        finally:
            r.close()
    wait_for(refused_from_other, timeout=20, what="relay refused to "
             "127.0.0.2")


@test
def config_check_reports_a_bad_network_with_its_line():
    i = instance(20100)
    with open(i.conf, "a") as f:
        f.write("trusted_networks = 127.0.0.0/8, 10.1.2.3/8\n")
    lines = open(i.conf).read().count("\n")
    r = i.run_postern("config", "check")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    out = r.stdout + r.stderr
    assert "%s:%d: trusted_networks" % (i.conf, lines) in out, out
    assert "10.1.2.3/8" in out and "bits set past the prefix" in out, out


def memory_holds(pid, secrets):
    """The secrets found in pid's readable, writable mappings (read in
    pieces; mappings over 1 GiB, such as ASan's shadow, are passed by)."""
    found = set()
    keep = max(len(x) for x in secrets)
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if not f[1].startswith("rw"):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if hi - lo > 1 << 30:
                continue
            tail = b""
            for at in range(lo, hi, 1 << 20):
                try:
                    mem.seek(at)
                    block = tail + mem.read(min(1 << 20, hi - at))
                except (OSError, ValueError, OverflowError):
                    break
                found.update(x for x in secrets if x in block)
                tail = block[-keep:]
    return found


@test
def auth_data_is_wiped_when_a_reused_process_ends_a_session():
    if not IS_ROOT:
        skip("reading another process's memory needs root")
    password = "wipe-%s-me" % os.urandom(6).hex()
    i = instance(20200, smtpd_max_use="5")
    i.ok("user", "passwd", USER, input=password + "\n")
    blob = base64.b64encode(("\0%s\0%s" % (USER, password)).encode())
    r = Raw(smtp_port(i))
    assert r.cmd("EHLO client.example")[0] == 250
    code, text = r.cmd("AUTH PLAIN " + blob.decode())
    assert code == 235, (code, text)
    assert r.cmd("QUIT")[0] == 221
    assert r.rest() == ""
    r.close()
    wait_for(lambda: "reason=quit" in i.log(), what="the session's end")
    m = re.search(r"postern-smtpd\[(\d+)\]: [0-9A-F]+: auth: PLAIN", i.log())
    assert m, i.log()
    pid = int(m.group(1))
    # the scan sees the process's data: the configuration is kept
    assert memory_holds(pid, [i.path("spool").encode()])
    b64pass = base64.b64encode(password.encode())
    secrets = [password.encode(), blob, blob[8:40], b64pass, b64pass[:16],
               USER.encode()]
    # the worker wipes right after its disconnect line; give it time
    found = secrets
    end = time.monotonic() + 10
    while found and time.monotonic() < end:
        time.sleep(0.2)
        found = memory_holds(pid, secrets)
    assert not found, "found %r in the memory of %d" % (found, pid)


if __name__ == "__main__":
    run()
