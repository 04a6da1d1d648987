#!/usr/bin/python3
"""pop3_idle_hold.py PORT COUNT READYFILE HOLD_SECONDS USER PASSWORD

Open COUNT POP3 connections to 127.0.0.1:PORT and log each one in
(greeting, USER, PASS, each answered +OK), at most 50 in flight at once,
then keep them all open and idle. Writes "OPEN n LOGGED_IN g" to
READYFILE once done (or once the deadline of 900 s for opening passes),
then holds the sockets until HOLD_SECONDS pass or it gets SIGTERM; then
sends QUIT on each (no DELE) and closes. Exit 0 if all COUNT logged in.
"""
import os, selectors, signal, socket, sys, time

port, count, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
hold = float(sys.argv[4])
user, password = sys.argv[5].encode(), sys.argv[6].encode()
stop = [False]
signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))

deadline = time.monotonic() + 900
sel = selectors.DefaultSelector()
BATCH = 50
socks, state, buf = [], {}, {}
logged = failed = 0
errors = {}

def fail(s, why):
    global failed
    failed += 1
    errors[why] = errors.get(why, 0) + 1
    sel.unregister(s)
    state.pop(s, None)
    buf.pop(s, None)

def pump(timeout):
    global logged
    for key, _ in sel.select(timeout):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            fail(s, "closed in state %s" % state.get(s))
            continue
        b = buf.get(s, b"") + data
        while b"\n" in b and s in state:
            line, b = b.split(b"\n", 1)
            if not line.startswith(b"+OK"):
                fail(s, "%s: %s" % (state[s], line.strip()[:80].decode("ascii", "replace")))
                break
            st = state[s]
            if st == "greet":
                s.sendall(b"USER " + user + b"\r\n")
                state[s] = "user"
            elif st == "user":
                s.sendall(b"PASS " + password + b"\r\n")
                state[s] = "pass"
            elif st == "pass":
                logged += 1
                sel.unregister(s)
                del state[s]
        if s in state:
            buf[s] = b
        else:
            buf.pop(s, None)

for i in range(count):
    while len(state) >= BATCH and time.monotonic() < deadline:
        pump(0.5)
    if time.monotonic() >= deadline or stop[0]:
        break
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as e:
        errors["connect: %s" % e] = errors.get("connect: %s" % e, 0) + 1
        failed += 1
        continue
    s.setblocking(False)
    socks.append(s)
    state[s] = "greet"
    sel.register(s, selectors.EVENT_READ)
while state and time.monotonic() < deadline:
    pump(0.5)

for why, n in sorted(errors.items(), key=lambda kv: -kv[1])[:5]:
    print("%d x %s" % (n, why), file=sys.stderr)
with open(ready + ".tmp", "w") as f:
    f.write("OPEN %d LOGGED_IN %d\n" % (len(socks), logged))
os.rename(ready + ".tmp", ready)
end = time.monotonic() + hold
while time.monotonic() < end and not stop[0]:
    time.sleep(0.5)
for s in socks:
    try:
        s.setblocking(True)
        s.settimeout(1)
        s.sendall(b"QUIT\r\n")
    except OSError:
        pass
for s in socks:
    try:
        s.close()
    except OSError:
        pass
sys.exit(0 if logged == count else 1)
