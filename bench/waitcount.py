#!/usr/bin/python3
"""waitcount.py DIR N TIMEOUT [STALL]

Poll DIR every 0.1 s until it holds N entries, TIMEOUT seconds pass, or
the count has not grown for STALL seconds (default 60). Prints
"COUNT END_EPOCH" (the wall-clock time of the last poll). Exit 0 if N
was reached, 1 on timeout, 2 on a stall.
"""
import os, signal, sys, time

signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
d, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
stall = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
start = time.monotonic()
end = start + limit
c, last, last_t = 0, -1, start
while True:
    try:
        c = sum(1 for _ in os.scandir(d))
    except FileNotFoundError:
        c = 0
    t = time.monotonic()
    rc = None
    if c >= n:
        rc = 0
    elif t >= end:
        rc = 1
    elif c != last:
        last, last_t = c, t
    elif t - last_t >= stall:
        rc = 2
    if rc is not None:
        print(c, "%.3f" % time.time())
        sys.exit(rc)
    time.sleep(0.1)
