"""postern-smtpd as clients see it: smtplib, swaks and raw sockets.

A message counts as accepted when the reply says "queued as ID" and the
bytes turn up in a file under spool/ (the queue) or mail/ (a Maildir, once
the queue manager has delivered it).
"""
import os
import re
import smtplib
import subprocess
import threading
import time

from harness import run, test, wait_for
from smtp_client import (DOMAIN, USER, PASSWORD, Raw, count_stored, envelope,
                         instance, queued_id, smtp_port, stored, tls_context)


@test
def ehlo_capabilities_and_simple_commands():
    i = instance(26000)
    s = smtplib.SMTP("127.0.0.1", smtp_port(i), timeout=30)
    code, _ = s.ehlo("client.example")
    assert code == 250
    f = s.esmtp_features
    for k in ("pipelining", "8bitmime", "enhancedstatuscodes", "starttls",
              "smtputf8", "chunking"):
        assert k in f, (k, f)
    assert f["size"] == "52428800", f
    assert f["auth"].split() == ["PLAIN", "LOGIN"], f   # loopback: offered
    assert s.verify("x")[0] == 252
    assert s.docmd("VRFY", "demo")[1].startswith(b"2.5.0")
    assert s.docmd("HELP")[0] == 214
    assert s.noop() == (250, b"2.0.0 Ok")
    assert s.docmd("XYZZY")[0] == 500
    s.starttls(context=tls_context())
    s.ehlo("client.example")
    assert "starttls" not in s.esmtp_features
    assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
    s.quit()
    r = Raw(smtp_port(i))
    assert r.greeting == "mail.%s ESMTP postern" % DOMAIN, r.greeting
    code, text = r.cmd("HELO old.example")
    assert code == 250 and text == "mail." + DOMAIN
    assert r.cmd("QUIT")[0] == 221
    log = i.log()
    assert re.search(r"postern-smtpd\[\d+\]: \w+: connect from 127\.0\.0\.1 "
                     r"service=smtp", log), log
    assert "disconnect from 127.0.0.1" in log


@test
def message_to_local_user_is_stored_byte_exact():
    i = instance(26100)
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    assert r.cmd("DATA")[0] == 354
    long_line = b"L" * 998
    longer = b"M" * 3000                     # data lines may exceed 1000
    body = (b"Subject: exact-1\r\n\r\nline one\r\n..starts with a dot\r\n"
            b"caf\xc3\xa9 \xff\xfe 8-bit\r\n" + long_line + b"\r\n" +
            longer + b"\r\n.\r\n")
    r.send(body)
    code, text = r.reply()
    assert code == 250 and text.startswith("2.0.0 Ok: queued as "), text
    qid = queued_id(text)
    want = (b"Subject: exact-1\n\nline one\n.starts with a dot\n"
            b"caf\xc3\xa9 \xff\xfe 8-bit\n" + long_line + b"\n" + longer +
            b"\n")
    data = stored(i, b"Subject: exact-1")
    assert want in data, data[:400]
    m = re.search(rb"Received: from client\.example \(\[127\.0\.0\.1\]\)\n"
                  rb"\tby mail\.example\.test \(postern\) with ESMTP\n"
                  rb"\tfor <demo@example\.test>; \w{3}, \d\d \w{3} \d{4} "
                  rb"\d\d:\d\d:\d\d [+-]\d{4}\nSubject: exact-1", data)
    assert m, data[:400]
    assert b"\r" not in data[data.index(b"Received:"):]
    # several recipients (an extension too): one message, no "for" clause
    envelope(r, [USER, "OTHER@" + DOMAIN, "demo+tag@" + DOMAIN])
    assert r.cmd("DATA")[0] == 354
    r.send("Subject: multi-2\r\n\r\nhi\r\n.\r\n")
    code, text = r.reply()
    assert code == 250, text
    data = stored(i, b"Subject: multi-2")
    assert b"with ESMTP; " in data, data[:300]
    code, text = r.cmd("MAIL FROM:<>")
    assert code == 250
    code, text = r.cmd("RCPT TO:<nobody@%s>" % DOMAIN)
    assert code == 550 and text == "5.1.1 <nobody@%s>: user unknown" % DOMAIN
    code, text = r.cmd("RCPT TO:<a%%b@%s>" % DOMAIN)
    assert code == 553, (code, text)
    code, text = r.cmd("RCPT TO:<@relay.example:demo@%s>" % DOMAIN)
    assert code in (501, 553), (code, text)
    assert r.cmd("QUIT")[0] == 221
    log = wait_for(lambda: "disconnect from" in i.log() and i.log(),
                   what="the session's last log line")
    assert re.search(r"%s: client=127\.0\.0\.1 helo=client\.example sasl= "
                     r"from=<sender@remote\.example> nrcpt=1 size=\d+"
                     % qid, log), log
    assert "reject: RCPT from 127.0.0.1: 550 5.1.1 user unknown" in log


@test
def relay_denied_then_allowed_after_auth_over_starttls():
    i = instance(26200)
    s = smtplib.SMTP("127.0.0.1", smtp_port(i), timeout=30)
    s.ehlo("client.example")
    s.mail("sender@" + DOMAIN)
    code, text = s.rcpt("someone@elsewhere.example")
    assert code == 554, (code, text)
    assert text == b"5.7.1 <someone@elsewhere.example>: relay access denied"
    s.rset()
    s.starttls(context=tls_context())
    s.ehlo("client.example")
    try:
        s.login(USER, "wrong password")
        raise AssertionError("a wrong password was accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535 and e.smtp_error.startswith(b"5.7.8"), e
    s.login(USER, PASSWORD)                 # PLAIN first in smtplib
    s.mail("sender@" + DOMAIN)
    code, text = s.rcpt("someone@elsewhere.example")
    assert code == 250, (code, text)
    s.rset()
    s.quit()
    # AUTH cancelled with "*"
    r = Raw(smtp_port(i))
    r.cmd("EHLO client.example")
    assert r.cmd("AUTH PLAIN")[0] == 334
    code, text = r.cmd("*")
    assert code == 501 and text.startswith("5.0.0"), text
    assert r.cmd("NOOP")[0] == 250
    r.close()


@test
def submission_requires_auth_and_adds_message_id_and_date():
    i = instance(26300)
    port = i.port_base + 87
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.example")
    code, text = s.docmd("MAIL", "FROM:<%s>" % USER)
    assert code == 530 and text == b"5.7.0 Authentication required", text
    s.quit()
    # swaks: STARTTLS, AUTH LOGIN, a message without Message-ID and Date
    p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--tls",
                        "--auth", "LOGIN", "--auth-user", USER,
                        "--auth-password", PASSWORD, "--from", USER,
                        "--to", "other@" + DOMAIN, "--helo", "client.example",
                        "--data", "Subject: submitted-3\n\nbody\n"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "250 2.0.0 Ok: queued as" in p.stdout, p.stdout
    data = stored(i, b"Subject: submitted-3")
    assert b"with ESMTPSA" in data, data[:400]
    hdr = data[data.index(b"Received:"):].split(b"\n\n", 1)[0]
    assert re.search(rb"\nMessage-ID: <[^>]+@mail\.example\.test>\n", hdr), hdr
    assert re.search(rb"\nDate: \w{3}, \d\d \w{3} \d{4} ", hdr), hdr
    # a message that has both keeps them, no second copy
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.example")
    s.login(USER, PASSWORD)
    s.sendmail(USER, ["other@" + DOMAIN],
               b"Message-ID: <mine@x>\r\nDate: Mon, 1 Jan 2024 00:00:00 "
               b"+0000\r\nSubject: submitted-4\r\n\r\nb\r\n")
    s.quit()
    data = stored(i, b"Subject: submitted-4")
    hdr = data[data.index(b"Received:"):].split(b"\n\n", 1)[0]
    assert hdr.count(b"Message-ID:") == 1 and hdr.count(b"Date:") == 1, hdr
    assert b"with ESMTPA" in data


@test
def smtps_implicit_tls():
    i = instance(26400)
    s = smtplib.SMTP_SSL("127.0.0.1", i.port_base + 65, timeout=30,
                         context=tls_context())
    s.ehlo("client.example")
    assert "starttls" not in s.esmtp_features
    code, _ = s.docmd("MAIL", "FROM:<%s>" % USER)
    assert code == 530
    s.login(USER, PASSWORD)
    s.sendmail(USER, [USER], b"Subject: smtps-5\r\n\r\nsecret\r\n")
    s.quit()
    data = stored(i, b"Subject: smtps-5")
    assert b"with ESMTPSA" in data


@test
def size_limit_and_idle_timeout():
    i = instance(26500, message_size_limit="10000", smtpd_timeout="3s")
    s = smtplib.SMTP("127.0.0.1", smtp_port(i), timeout=30)
    s.ehlo("client.example")
    assert s.esmtp_features["size"] == "10000"
    code, text = s.docmd("MAIL", "FROM:<a@remote.example> SIZE=20000")
    assert code == 552 and text.startswith(b"5.3.4"), text
    s.quit()
    r = Raw(smtp_port(i))
    envelope(r, [USER])
    assert r.cmd("DATA")[0] == 354
    r.send(b"Subject: big-6\r\n\r\n" + (b"x" * 99 + b"\r\n") * 200 +
           b".\r\n")
    code, text = r.reply()
    assert code == 552 and text == "5.3.4 message too big", text
    assert r.cmd("NOOP")[0] == 250           # still in step
    assert count_stored(i, b"Subject: big-6") == 0
    t0 = time.monotonic()
    code, text = r.reply()                   # say nothing: timeout
    assert code == 421 and text == "4.4.2 timeout", text
    assert 2 <= time.monotonic() - t0 < 10
    r.close()


@test
def pipelining_and_shutdown_reply():
    i = instance(26600)
    r = Raw(smtp_port(i))
    assert r.cmd("EHLO client.example")[0] == 250
    r.send("MAIL FROM:<a@remote.example>\r\nRCPT TO:<%s>\r\n"
           "RCPT TO:<nobody@%s>\r\nDATA\r\n" % (USER, DOMAIN))
    codes = [r.reply()[0] for _ in range(4)]
    assert codes == [250, 250, 550, 354], codes
    # the end of data and the next commands in one write
    r.send("Subject: piped-7\r\n\r\nx\r\n.\r\nMAIL FROM:<b@remote.example>\r\n"
           "RCPT TO:<%s>\r\nDATA\r\n" % USER)
    codes = [r.reply()[0] for _ in range(4)]
    assert codes == [250, 250, 250, 354], codes
    r.send("Subject: piped-8\r\n\r\ny\r\n.\r\n")
    assert r.reply()[0] == 250
    stored(i, b"Subject: piped-7")
    stored(i, b"Subject: piped-8")
    # postern stop: an idle session is told 421 4.3.2
    t = threading.Thread(target=i.stop)
    t.start()
    code, text = r.reply()
    t.join(60)
    assert code == 421 and text == "4.3.2 shutting down", text


@test
def starttls_discards_pipelined_plaintext_and_process_limit():
    i = instance(26700, smtpd_process_limit="2")
    r = Raw(smtp_port(i))
    assert r.cmd("EHLO client.example")[0] == 250
    r.send("STARTTLS\r\nMAIL FROM:<evil@remote.example>\r\n")
    code, text = r.reply()
    assert code == 220 and text == "2.0.0 Ready to start TLS", text
    assert r.buf == b"", r.buf               # no reply to the injected MAIL
    r.s = tls_context().wrap_socket(r.s)
    code, text = r.cmd("EHLO client.example")
    assert code == 250 and "STARTTLS" not in text
    code, text = r.cmd("RCPT TO:<%s>" % USER)
    assert code == 503, (code, text)          # no MAIL was executed
    assert r.cmd("MAIL FROM:<good@remote.example>")[0] == 250
    assert r.cmd("QUIT")[0] == 221
    assert re.search(r"STARTTLS: discarded \d+ byte", i.log()), i.log()
    # commands before STARTTLS are forgotten: AUTH state and EHLO too
    r = Raw(smtp_port(i))
    r.cmd("EHLO client.example")
    r.starttls()
    code, text = r.cmd("MAIL FROM:<a@remote.example>")
    assert code == 503, (code, text)          # EHLO needed again
    r.close()
    # two sessions at most: the third connection is turned away
    wait_for(lambda: i.log().count("disconnect from") >= 2,
             what="both sessions to end")
    time.sleep(0.5)
    a, b = Raw(smtp_port(i)), Raw(smtp_port(i))
    c = Raw(smtp_port(i), greet=False)
    assert c.reply() == (421, "4.3.2 too busy")
    for x in (a, b, c):
        x.close()


SMUGGLE = ("MAIL FROM:<smuggler@remote.example>\r\nRCPT TO:<%s>\r\n"
           "DATA\r\nSubject: SMUGGLED-%%d\r\n\r\nsecond\r\n" % USER)


@test
def smuggling_variants_never_make_a_second_message():
    i = instance(26800)
    variants = ["\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r"]
    for n, v in enumerate(variants):
        r = Raw(smtp_port(i))
        envelope(r, [USER])
        assert r.cmd("DATA")[0] == 354
        r.send("Subject: carrier-%d\r\n\r\nfirst%s%s\r\n.\r\n"
               % (n, v, SMUGGLE % n))
        code, text = r.reply()
        r.send("QUIT\r\n")
        rest = r.rest()
        assert rest.startswith("221 "), (v, rest)
        assert "queued" not in rest and "354" not in rest, (v, rest)
        if "\r." in v and not v.startswith("\r\n"):
            assert code == 550 and text == "5.6.11 bare CR not allowed", \
                (v, code, text)
            assert count_stored(i, b"carrier-%d" % n) == 0
        elif code == 250:
            data = stored(i, b"Subject: carrier-%d" % n)
            # the would-be second message is inside the first one
            assert b"SMUGGLED-%d" % n in data, (v, data)
        else:
            assert code == 550, (v, code, text)
    log = i.log()
    assert not re.search(r"from=<smuggler@remote\.example>", log), log


@test
def long_lines_errors_bdat_and_client_limit():
    # 127.0.0.1 is trusted by default, and exempt from the limit
    i = instance(26900, smtpd_error_limit="5",
                 smtpd_client_connection_limit="3", trusted_networks="")
    r = Raw(smtp_port(i))
    code, text = r.cmd("NOOP " + "x" * 995)  # 1001 bytes with CRLF
    assert code == 500 and text == "5.5.2 line too long", text
    assert r.cmd("NOOP " + "x" * 993)[0] == 250   # 1000 bytes: fine
    # BDAT: two chunks, CRLF across them, dots untouched
    envelope(r, [USER])
    c1 = b"Subject: bdat-9\r\n\r\n.not stuffed\r"
    c2 = b"\nend\r\n"
    r.send(b"BDAT %d\r\n" % len(c1) + c1)
    code, text = r.reply()
    assert code == 250 and text == "2.0.0 %d octets received" % len(c1)
    r.send(b"BDAT %d LAST\r\n" % len(c2) + c2)
    code, text = r.reply()
    assert code == 250 and "queued as" in text, text
    data = stored(i, b"Subject: bdat-9")
    assert b"Subject: bdat-9\n\n.not stuffed\nend\n" in data, data
    # BDAT without a transaction: the chunk is read, then 503
    r.send(b"BDAT 12 LAST\r\nNOOP\r\nNOOP\r\n")
    code, text = r.reply()
    assert code == 503 and text.startswith("5.5.1"), text
    assert r.cmd("NOOP")[0] == 250
    # DATA after BDAT
    envelope(r, [USER])
    r.send(b"BDAT 3\r\nabc")
    assert r.reply()[0] == 250
    assert r.cmd("DATA")[0] == 503
    assert r.cmd("RSET")[0] == 250
    # three connections are fine, the fourth is refused
    extra = [Raw(smtp_port(i)), Raw(smtp_port(i))]
    late = Raw(smtp_port(i), greet=False)
    code, text = late.reply()
    assert code == 421 and text.startswith("4.7.0 too many connections"), text
    for x in extra + [late]:
        x.close()
    # too many errors: three so far, the fifth ends the session
    codes = [r.cmd("BOGUS")[0] for _ in range(2)]
    assert codes == [500, 500], codes
    code, text = r.reply()
    assert code == 421 and text == "4.7.0 too many errors", (code, text)



SESSION_LINE = re.compile(r"postern-smtpd\[(\d+)\]: ([0-9A-F]{18}): "
                          r"connect from")


def session_pids(i):
    """[(pid, session id)] of every smtpd session in the log, in order."""
    return [(int(m.group(1)), m.group(2))
            for m in SESSION_LINE.finditer(i.log())]


def quit_session(i):
    r = Raw(smtp_port(i))
    assert r.cmd("QUIT")[0] == 221
    assert r.rest() == ""
    r.close()


@test
def a_process_serves_sessions_one_after_another_up_to_max_use():
    i = instance(27000, smtpd_max_use="3")
    for n in range(7):
        s = smtplib.SMTP("127.0.0.1", smtp_port(i), timeout=30)
        s.sendmail("a@remote.example", [USER],
                   "Subject: reuse\r\n\r\nREUSE-%d-END\r\n" % n)
        s.quit()
    for n in range(7):
        stored(i, b"REUSE-%d-END" % n)
    wait_for(lambda: len(session_pids(i)) == 7, what="7 sessions logged")
    seen = session_pids(i)
    ids = [sid for _, sid in seen]
    assert len(set(ids)) == 7, ids            # every session its own id
    pids = [p for p, _ in seen]
    # sequential sessions reuse one process, which leaves after 3
    assert pids[0] == pids[1] == pids[2], pids
    assert pids[3] not in pids[:3], pids
    assert max(pids.count(p) for p in pids) == 3, pids
    wait_for(lambda: not os.path.exists("/proc/%d" % pids[0]),
             what="the used-up process to exit")
    i.stop()


@test
def max_use_1_forks_a_process_per_connection():
    i = instance(27100, smtpd_max_use="1")
    for n in range(3):
        quit_session(i)
    wait_for(lambda: len(session_pids(i)) == 3, what="3 sessions logged")
    pids = [p for p, _ in session_pids(i)]
    assert len(set(pids)) == 3, pids
    i.stop()


@test
def a_reused_process_forgets_the_previous_sessions_auth():
    i = instance(27200)
    s = smtplib.SMTP("127.0.0.1", smtp_port(i), timeout=30)
    s.starttls(context=tls_context())
    s.ehlo("client.example")
    s.login(USER, PASSWORD)
    s.mail("sender@" + DOMAIN)
    assert s.rcpt("someone@elsewhere.example")[0] == 250
    s.quit()
    r = Raw(smtp_port(i))
    code, text = r.cmd("EHLO client.example")
    assert code == 250 and "STARTTLS" in text, text    # no TLS carried over
    assert r.cmd("MAIL FROM:<sender@%s>" % DOMAIN)[0] == 250
    code, text = r.cmd("RCPT TO:<someone@elsewhere.example>")
    assert code == 554, (code, text)          # not authenticated any more
    assert r.cmd("QUIT")[0] == 221
    r.close()
    wait_for(lambda: len(session_pids(i)) == 2, what="2 sessions logged")
    pids = [p for p, _ in session_pids(i)]
    assert pids[0] == pids[1], pids           # the same process served both
    i.stop()


@test
def idle_and_busy_processes_end_on_reload_and_stop():
    i = instance(27300)
    busy = Raw(smtp_port(i))
    assert busy.cmd("EHLO client.example")[0] == 250
    quit_session(i)
    wait_for(lambda: len(session_pids(i)) == 2, what="2 sessions logged")
    idle = session_pids(i)[1][0]
    assert idle != session_pids(i)[0][0]
    time.sleep(0.2)
    assert os.path.exists("/proc/%d" % idle)  # waiting for the next client
    i.ok("reload")
    # the idle process is told to leave at once; the busy session goes on
    wait_for(lambda: not os.path.exists("/proc/%d" % idle),
             what="the idle process to leave on reload")
    assert busy.cmd("NOOP")[0] == 250
    assert busy.cmd("QUIT")[0] == 221
    busy.close()
    quit_session(i)                           # the new smtpd serves
    wait_for(lambda: len(session_pids(i)) == 3, what="3 sessions logged")
    last = session_pids(i)[2][0]
    r = i.stop()
    assert r.returncode == 0, r.stdout + r.stderr
    wait_for(lambda: not os.path.exists("/proc/%d" % last),
             what="the idle process to end on stop")
    assert "killed by signal" not in i.log(), i.log()


if __name__ == "__main__":
    run()
