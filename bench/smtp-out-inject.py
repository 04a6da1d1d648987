#!/usr/bin/python3
"""smtp-out-inject.py COUNT PARALLEL TIMEOUT SENDMAIL [ARG...]

Queue COUNT copies of one 5 KiB message (5120 bytes: From, To, Subject and
a body of 72-byte lines) by running the command SENDMAIL ARG... once per
message with the message on standard input, PARALLEL commands at a time.
Used by smtp-out.sh to fill a queue with mail for one remote destination
(postern's and Postfix's own sendmail, the same message for both).

Prints "injected=N failed=F seconds=S". Exit 0 when every command exited
0, 1 otherwise (the first few failures are described on standard error),
2 when TIMEOUT seconds passed before all were run.
"""
import signal, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

SIZE = 5120

signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))


def message():
    m = "From: sender@example.test\nTo: out@sink.test\nSubject: postern bench smtp-out\n\n"
    line = "x" * 71 + "\n"
    while len(m) + len(line) <= SIZE:
        m += line
    m += "y" * (SIZE - len(m) - 1) + "\n"
    assert len(m) == SIZE
    return m.encode()


def main():
    count, par, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    cmd = sys.argv[4:]
    data = message()
    start = time.monotonic()
    end = start + limit
    failed = []

    def one(i):
        left = end - time.monotonic()
        if left <= 0:
            return "skipped (timeout)"
        try:
            p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=min(left, 60))
        except subprocess.TimeoutExpired:
            return "timed out"
        if p.returncode != 0:
            return "exit %d: %s" % (p.returncode, p.stdout.decode(errors="replace").strip()[:200])
        return None

    done = 0
    with ThreadPoolExecutor(max_workers=par) as ex:
        for i, err in enumerate(ex.map(one, range(count))):
            if err is None:
                done += 1
            else:
                if len(failed) < 5:
                    print("message %d: %s" % (i, err), file=sys.stderr)
                failed.append(i)
    secs = time.monotonic() - start
    print("injected=%d failed=%d seconds=%.1f" % (done, len(failed), secs))
    if time.monotonic() >= end and failed:
        sys.exit(2)
    sys.exit(1 if failed else 0)


main()
