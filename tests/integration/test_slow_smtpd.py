"""A slow but legal client: ten minutes of DATA (and of BDAT chunks), every
pause shorter than smtpd_timeout, is accepted.

postern-smtpd hands message bytes to postern-inject in 64 KiB chunks, and
the injector drops a connection that stays silent for its idle limit (300 s,
or smtpd_timeout). A client sending a line every 20 seconds fills no chunk
in ten minutes; smtpd must pass on what it holds while the client is slow.

This file takes ten minutes: tests/run.sh starts every test_slow_*.py in
the background at the beginning of the run and collects it at the end. The
two clients run side by side, each against its own instance.
"""
import threading
import time

from harness import run, test
from smtp_client import USER, Raw, instance, smtp_port, stored

DURATION = 600          # seconds of message data
PAUSE = 20              # between two pieces; smtpd_timeout is 60 s
SETTINGS = dict(smtpd_timeout="60s", smtpd_min_data_rate="1")


def slow_data(i, marker, result):
    r = Raw(smtp_port(i), timeout=120)
    assert r.cmd("EHLO slow.example")[0] == 250
    assert r.cmd("MAIL FROM:<slow@remote.example>")[0] == 250
    assert r.cmd("RCPT TO:<%s>" % USER)[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send("Subject: %s\r\n\r\n" % marker)
    end = time.monotonic() + DURATION
    n = 0
    while time.monotonic() < end:
        time.sleep(PAUSE)
        n += 1
        r.send("line %d of a slow message\r\n" % n)
    r.send("%s-END\r\n.\r\n" % marker)
    result.append(r.reply())
    r.close()


def slow_bdat(i, marker, result):
    r = Raw(smtp_port(i), timeout=120)
    assert r.cmd("EHLO slow.example")[0] == 250
    assert r.cmd("MAIL FROM:<slow@remote.example>")[0] == 250
    assert r.cmd("RCPT TO:<%s>" % USER)[0] == 250
    first = ("Subject: %s\r\n\r\n" % marker).encode()
    r.send(b"BDAT %d\r\n" % len(first) + first)
    assert r.reply()[0] == 250
    end = time.monotonic() + DURATION
    n = 0
    while time.monotonic() < end:
        time.sleep(PAUSE)
        n += 1
        chunk = b"chunk %d of a slow message\r\n" % n
        r.send(b"BDAT %d\r\n" % len(chunk) + chunk)
        code, text = r.reply()
        assert code == 250, (n, code, text)
    last = ("%s-END\r\n" % marker).encode()
    r.send(b"BDAT %d LAST\r\n" % len(last) + last)
    result.append(r.reply())
    r.close()


def in_thread(fn, *args):
    errors = []

    def body():
        try:
            fn(*args)
        except Exception as e:          # reported by the caller
            errors.append(e)
    t = threading.Thread(target=body)
    t.start()
    return t, errors


@test
def ten_minutes_of_slow_data_and_bdat_are_accepted():
    a = instance(20000, **SETTINGS)
    b = instance(20300, **SETTINGS)
    got_a, got_b = [], []
    ta, ea = in_thread(slow_data, a, "SLOW-DATA", got_a)
    tb, eb = in_thread(slow_bdat, b, "SLOW-BDAT", got_b)
    ta.join(DURATION + 300)
    tb.join(DURATION + 300)
    assert not ta.is_alive() and not tb.is_alive(), "a client hangs"
    assert not ea and not eb, (ea, eb)
    for got in (got_a, got_b):
        code, text = got[0]
        assert code == 250 and "queued as" in text, got
    data = stored(a, b"SLOW-DATA-END")
    assert b"line 29 of a slow message\n" in data, data[-300:]
    data = stored(b, b"SLOW-BDAT-END")
    assert b"chunk 29 of a slow message\n" in data, data[-300:]
    for i in (a, b):
        assert "timeout waiting for data" not in i.log()


if __name__ == "__main__":
    run()
