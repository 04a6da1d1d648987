#!/usr/bin/python3
"""idle_hold.py PORT COUNT READYFILE [HOLD_SECONDS]

Open COUNT TCP connections to 127.0.0.1:PORT, read each one's 220 greeting,
then keep them all open and idle. Writes "OPEN n GREETED g" to READYFILE
once done (or once the connect/greeting deadline of 180 s passes), then
holds the sockets until HOLD_SECONDS (default 300) pass or it gets SIGTERM.
Exit 0 if all COUNT were greeted with 220.
"""
import os, selectors, signal, socket, sys, time

port, count, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
hold = float(sys.argv[4]) if len(sys.argv) > 4 else 300.0
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))

deadline = time.monotonic() + 180
sel = selectors.DefaultSelector()
socks, greeted, pending, failed = [], 0, {}, 0
BATCH = 50  # connections in flight at once, so a forking server keeps up

def pump(timeout):
    global greeted, failed
    for key, _ in sel.select(timeout):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        buf = pending.get(s, b"") + data
        if not data:
            failed += 1
            sel.unregister(s); pending.pop(s, None)
            continue
        if b"\n" in buf:
            sel.unregister(s); pending.pop(s, None)
            if buf.startswith(b"220"):
                greeted += 1
            else:
                failed += 1
        else:
            pending[s] = buf

for i in range(count):
    while len(pending) >= BATCH and time.monotonic() < deadline:
        pump(0.5)
    if time.monotonic() >= deadline:
        break
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as e:
        print("connect %d failed: %s" % (i, e), file=sys.stderr)
        failed += 1
        continue
    s.setblocking(False)
    socks.append(s)
    pending[s] = b""
    sel.register(s, selectors.EVENT_READ)
while pending and time.monotonic() < deadline:
    pump(0.5)

with open(ready + ".tmp", "w") as f:
    f.write("OPEN %d GREETED %d\n" % (len(socks), greeted))
os.rename(ready + ".tmp", ready)
end = time.monotonic() + hold
while time.monotonic() < end:
    time.sleep(1)
sys.exit(0 if greeted == count else 1)
