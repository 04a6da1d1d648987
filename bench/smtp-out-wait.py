#!/usr/bin/python3
"""smtp-out-wait.py - bounded polling for smtp-out.sh

smtp-out-wait.py count DIR...
    Print the number of files under the DIRs (recursively; a missing DIR
    counts 0). Used for a queue's directories.

smtp-out-wait.py due DIR...
    Set the modification time of every file under the DIRs to one second
    ago. In a deferred/ directory (postern's and Postfix's alike) that time
    is the message's next attempt: the messages become due now. Prints the
    number of files.

smtp-out-wait.py sink SINKLOG PORT N TIMEOUT STALL QDIR...
    SINKLOG is the standard output of "smtp-sink -c", a stream of
    "sess=S quit=Q mesg=M" counters each ended by CR. Poll it every 0.1 s
    (reading only what was appended) until M reaches N; then poll the
    queue directories QDIR... every 0.1 s until they hold no file. The
    queue is not walked while the sink is still counting, so the polling
    costs next to nothing during the measured delivery. Bounded by TIMEOUT
    seconds in all, and by STALL seconds without a new message at the sink.
    At each poll until then it also counts the established connections to
    127.0.0.1:PORT (from /proc/net/tcp), to show the concurrency reached.
    Prints
        sink=M sessions=S t_sink=EPOCH queued=Q t_empty=EPOCH maxconn=C
    (t_sink: when the N-th message was counted; t_empty: when the queue
    was seen empty, or the last poll). Exit 0 when both happened, 1 on
    timeout, 2 on a stall.
"""
import os, re, signal, sys, time

signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))

REC = re.compile(rb"sess=(\d+) quit=\d+ mesg=(\d+)\r")


def count(dirs):
    n = 0
    for d in dirs:
        for _, _, files in os.walk(d):
            n += len(files)
    return n


def conns(port):
    """established TCP connections whose local port is PORT (server side)"""
    want = ":%04X" % port
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fl = line.split()
                if fl[1].endswith(want) and fl[3] == "01":
                    n += 1
    except OSError:
        pass
    return n


def sink(path, port, n, limit, stall, qdirs):
    start = time.monotonic()
    end = start + limit
    off, buf = 0, b""
    mesg, sess = 0, 0
    last_change = start
    t_sink = None
    rc = None
    maxconn = 0
    while t_sink is None:
        maxconn = max(maxconn, conns(port))
        try:
            with open(path, "rb") as f:
                f.seek(off)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if data:
            off += len(data)
            buf = (buf + data)[-4096:]
            recs = REC.findall(buf)
            if recs:
                s, m = int(recs[-1][0]), int(recs[-1][1])
                if m != mesg:
                    last_change = time.monotonic()
                mesg, sess = m, s
                cut = buf.rfind(b"\r")
                buf = buf[cut + 1:]
        t = time.monotonic()
        if mesg >= n:
            t_sink = time.time()
            break
        if t >= end:
            rc = 1
            break
        if t - last_change >= stall:
            rc = 2
            break
        time.sleep(0.1)
    queued = -1
    if t_sink is not None:
        while True:
            queued = count(qdirs)
            if queued == 0:
                rc = 0
                break
            if time.monotonic() >= end:
                rc = 1
                break
            time.sleep(0.1)
    print("sink=%d sessions=%d t_sink=%.3f queued=%d t_empty=%.3f maxconn=%d"
          % (mesg, sess, t_sink if t_sink is not None else time.time(), queued,
             time.time(), maxconn))
    sys.exit(rc)


def due(dirs):
    t = time.time() - 1
    n = 0
    for d in dirs:
        for top, _, files in os.walk(d):
            for f in files:
                try:
                    os.utime(os.path.join(top, f), (t, t))
                    n += 1
                except FileNotFoundError:
                    pass
    return n


if len(sys.argv) >= 2 and sys.argv[1] == "count":
    print(count(sys.argv[2:]))
elif len(sys.argv) >= 2 and sys.argv[1] == "due":
    print(due(sys.argv[2:]))
elif len(sys.argv) >= 7 and sys.argv[1] == "sink":
    sink(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
         float(sys.argv[6]), sys.argv[7:])
else:
    sys.exit(__doc__)
