#!/usr/bin/python3
"""pop3_fetch.py [--pipelined | --poll] PORT USER PASSWORD [TEMPLATE]

One POP3 client on 127.0.0.1:PORT: USER/PASS, then STAT, UIDL, RETR of
every message, QUIT (no DELE). By default the client is Python's poplib
(one command, then its answer read line by line). With --pipelined it
is a client of its own that keeps up to 32 RETRs in flight (RFC 2449
PIPELINING; both servers announce it) and reads the answers in large
blocks, so that the client costs far less than the server. With --poll it is
what a mail client's poll for new mail costs: poplib, USER/PASS, STAT,
UIDL, QUIT, no RETR (the checks below then only ask that every UIDL be a
file of the TEMPLATE and STAT count them all; the digest is over the
UIDLs). Two clocks:
login (connect, greeting, USER, PASS: includes the server's password
check and its opening of the mailbox) and fetch (STAT, UIDL, every RETR
and QUIT, until QUIT's answer). The messages are checked only after the
clocks have stopped:

  - each RETR's text (poplib removes the dot-stuffing; lines joined with
    CRLF) must be the TEMPLATE Maildir's file of the same base name (the
    UIDL, which the servers derive from the file name) with LF turned
    into CRLF;
  - STAT's size must be the sum of the RETR sizes;
  - digest: SHA-256 over the sorted "UIDL SHA256(message)" lines, the same
    for every server that returns the same messages.

Prints one line:
  messages=N stat_octets=B login_s=L fetch_s=F total_s=T retr_bytes=R
  digest=HEX uidl_ok=N content_ok=N mismatches=N
Exit 0 if every message matched (or no TEMPLATE was given), else 1.
"""
import hashlib, os, poplib, socket, sys, time

args = sys.argv[1:]
pipelined = bool(args) and args[0] == "--pipelined"
poll = bool(args) and args[0] == "--poll"
if pipelined or poll:
    args = args[1:]
port, user, password = int(args[0]), args[1], args[2]
template = args[3] if len(args) > 3 else None


class Raw:
    """A pipelining POP3 client reading big blocks into one buffer."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = bytearray()
        self.pos = 0

    def fill(self):
        data = self.s.recv(1 << 20)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def status(self):
        while True:
            e = self.buf.find(b"\r\n", self.pos)
            if e >= 0:
                break
            self.fill()
        line = bytes(self.buf[self.pos:e])
        self.pos = e + 2
        if not line.startswith(b"+OK"):
            raise RuntimeError("server said %r" % line)
        return line

    def multi(self):
        self.status()
        start = self.pos
        while True:
            if self.buf[start:start + 3] == b".\r\n":
                t = start - 2
                break
            t = self.buf.find(b"\r\n.\r\n", max(start - 2, 0))
            if t >= 0 and t + 2 >= start:
                break
            self.fill()
        body = bytes(self.buf[start:t + 2]) if t + 2 > start else b""
        self.pos = t + 5
        if self.pos > (1 << 24):      # keep the buffer small
            del self.buf[:self.pos]
            self.pos = 0
        # lines, dot-unstuffed, without their CRLF (as poplib gives them)
        lines = body.split(b"\r\n")[:-1] if body else []
        return [l[1:] if l.startswith(b"..") else l for l in lines]

    def cmd(self, line):
        self.s.sendall(line + b"\r\n")


t0 = time.monotonic()
if not pipelined:
    p = poplib.POP3("127.0.0.1", port, timeout=300)
    p.user(user)
    p.pass_(password)
    t1 = time.monotonic()
    count, octets = p.stat()
    _, uidl_lines, _ = p.uidl()
    msgs = []
    for i in range(1, 0 if poll else count + 1):
        _, lines, _ = p.retr(i)
        msgs.append(lines)
    p.quit()
    t2 = time.monotonic()
else:
    c = Raw(port)
    c.status()
    c.cmd(b"USER " + user.encode())
    c.status()
    c.cmd(b"PASS " + password.encode())
    c.status()
    t1 = time.monotonic()
    c.cmd(b"STAT")
    st = c.status().split()
    count, octets = int(st[1]), int(st[2])
    c.cmd(b"UIDL")
    uidl_lines = c.multi()
    msgs = []
    WINDOW = 32
    sent = 0
    while len(msgs) < count:
        if sent < count and sent - len(msgs) < WINDOW:
            n = min(count, len(msgs) + WINDOW)
            c.s.sendall(b"".join(b"RETR %d\r\n" % i for i in range(sent + 1, n + 1)))
            sent = n
        msgs.append(c.multi())
    c.cmd(b"QUIT")
    c.status()
    c.s.close()
    t2 = time.monotonic()

uidl = {}
for line in uidl_lines:
    n, u = line.split(None, 1)
    uidl[int(n)] = u.decode()

bad = 0
uidl_ok = content_ok = 0
retr_bytes = 0
digest_lines = []
tdir = None
if template:
    tdir = {}
    for sub in ("new", "cur"):
        d = os.path.join(template, sub)
        for name in os.listdir(d):
            tdir[name.split(":2,")[0]] = os.path.join(d, name)
for i, lines in enumerate(msgs, 1):
    text = b"\r\n".join(lines) + b"\r\n"
    retr_bytes += len(text)
    u = uidl.get(i, "")
    digest_lines.append("%s %s\n" % (u, hashlib.sha256(text).hexdigest()))
    if tdir is not None:
        path = tdir.get(u)
        if path is None:
            bad += 1
            if bad <= 3:
                print("message %d: UIDL %r is no file name of the template" % (i, u), file=sys.stderr)
            continue
        uidl_ok += 1
        with open(path, "rb") as f:
            want = f.read().replace(b"\n", b"\r\n")
        if want == text:
            content_ok += 1
        else:
            bad += 1
            if bad <= 3:
                print("message %d (%s): RETR differs from the file (%d vs %d bytes)"
                      % (i, u, len(text), len(want)), file=sys.stderr)
if poll:
    for i in range(1, count + 1):
        u = uidl.get(i, "")
        digest_lines.append("%s\n" % u)
        if tdir is not None and u in tdir:
            uidl_ok += 1
        elif tdir is not None:
            bad += 1
    retr_bytes = octets     # nothing retrieved: nothing to compare
if tdir is not None and count != len(tdir):
    print("STAT says %d messages, the template has %d" % (count, len(tdir)), file=sys.stderr)
    bad += 1
if octets != retr_bytes:
    print("STAT says %d octets, RETR gave %d" % (octets, retr_bytes), file=sys.stderr)
digest = hashlib.sha256("".join(sorted(digest_lines)).encode()).hexdigest()
print("messages=%d stat_octets=%d login_s=%.3f fetch_s=%.3f total_s=%.3f retr_bytes=%d "
      "digest=%s uidl_ok=%d content_ok=%d mismatches=%d"
      % (count, octets, t1 - t0, t2 - t1, t2 - t0, retr_bytes, digest[:16],
         uidl_ok, content_ok, bad))
sys.exit(1 if bad else 0)
