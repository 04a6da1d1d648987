#!/usr/bin/python3
"""imap_ops.py COMMAND PORT USER PASSWORD [OPTIONS]

The timed clients of bench/imap.sh, on 127.0.0.1:PORT. Each prints one line
of key=value figures (seconds unless the name says ms) on stdout, problems
on stderr, and exits 0 only if every answer was OK and every check held.

  select PORT USER PASS [--repeat N] [--expect N]
      N sessions one after the other (default 1): LOGIN, SELECT INBOX,
      LOGOUT. Prints login_s (connect to LOGIN's OK, the median), select_s
      (the first session's SELECT), select_median_s, exists. The first
      SELECT on a fresh copy is the cold one (no index).

  ops PORT USER PASS --expect N --word W --hits H [--stores K] [--seen K]
      One session: LOGIN, then timed, one command at a time:
        SELECT INBOX                        select_warm_s
        UID FETCH 1:* (FLAGS)               fetch_flags_s
        FETCH 1:* (ENVELOPE)                fetch_envelope_first_s
        FETCH 1:* (ENVELOPE)                fetch_envelope_again_s
        UID SEARCH SUBJECT "W"              search_subject_first_s, _again_s
        STORE n +FLAGS (\\Flagged)           store_ms (mean over K messages
                                            not flagged before, spread over
                                            the mailbox), store_median_ms
        FETCH n BODY[]                      seen_ms (mean over K unseen
                                            messages: includes sending the
                                            message), seen_median_ms
        FETCH n BODY.PEEK[]                 peek_ms (the same K messages
                                            again: the same transfer
                                            without a flag change)
      Checks: EXISTS = N, one FETCH per message for FLAGS and ENVELOPE,
      SEARCH finds H messages, the K stored messages then have \\Flagged and
      the K fetched ones \\Seen.

  pop3-poll PORT USER PASS [--polls N] [--expect N]
      N POP3 polls (default 5), one after the other: connect, USER, PASS,
      STAT, UIDL, QUIT. Prints first_s, median_s, min_s, login_median_s,
      messages (STAT's count).

  idle-hold PORT USER PASS COUNT READYFILE HOLD [--mem-floor-mib M]
      Opens COUNT connections (50 logging in at once), each: greeting,
      LOGIN, SELECT INBOX, IDLE until the server's "+" continuation; holds
      them HOLD seconds (or until SIGTERM), then DONE and LOGOUT. Writes
      "OPEN o IDLING i" and a line "stopped: REASON" to READYFILE once all
      are open or opening stopped: at the first failures (connection
      refused, closed, a NO/BYE, the client's own descriptor limit), or when
      MemAvailable falls below M MiB (default 1024: the machine is shared).

The reader understands literals ({n}) anywhere in a response, so ENVELOPE
answers with literal strings are counted right; it keeps one buffer and
looks only for line ends, so that the client costs little beside the
server.
"""
import os, resource, selectors, signal, socket, statistics, sys, time

TIMEOUT = 3600


class Imap:
    """One IMAP connection: commands one at a time, responses read into
    one buffer; untagged responses counted (and handed to a callback)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = bytearray()
        self.pos = 0
        self.n = 0
        self.greeting = self.line()
        if not self.greeting.startswith(b"* OK"):
            raise RuntimeError("greeting: %r" % self.greeting[:200])

    def fill(self, start):
        """Read more; drop what lies before start. Returns the shift."""
        shift = 0
        if start > (1 << 20):
            del self.buf[:start]
            shift = start
        data = self.s.recv(1 << 20)
        if not data:
            raise EOFError("connection closed by the server")
        self.buf += data
        return shift

    def line(self):
        """One physical line (no literal handling): greeting, '+ '."""
        while True:
            e = self.buf.find(b"\r\n", self.pos)
            if e >= 0:
                ln = bytes(self.buf[self.pos:e])
                self.pos = e + 2
                return ln
            self.pos -= self.fill(self.pos)

    def command(self, text, each=None):
        """Send 'TAG text', read to the tagged answer. Returns (tagged
        status line, number of untagged responses); each(line) sees every
        untagged response whole (literals included)."""
        self.n += 1
        tag = b"t%d" % self.n
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        return self.response(tag, each)

    def response(self, tag, each=None):
        buf = self.buf
        start = pos = self.pos
        count = 0
        tagsp = tag + b" "
        while True:
            e = buf.find(b"\r\n", pos)
            if e < 0:
                shift = self.fill(start)
                start -= shift
                pos -= shift
                continue
            if e > pos and buf[e - 1] == 0x7D:          # "...{123}"
                o = buf.rfind(b"{", pos, e)
                digits = bytes(buf[o + 1:e - 1]).rstrip(b"+")
                if o >= 0 and digits.isdigit():
                    end = e + 2 + int(digits)
                    while len(buf) < end:
                        shift = self.fill(start)
                        start -= shift
                        e -= shift
                        end -= shift
                    pos = end
                    continue
            if buf.startswith(tagsp, start):
                self.pos = e + 2
                status = bytes(buf[start:e])
                return status, count
            if buf.startswith(b"* ", start):
                count += 1
                if each:
                    each(bytes(buf[start:e]))
            elif buf.startswith(b"+", start):
                pass
            start = pos = e + 2

    def ok(self, text, each=None):
        status, count = self.command(text, each)
        if status.split(b" ", 2)[1:2] != [b"OK"]:
            raise RuntimeError("%s: %r" % (text[:60], status[:200]))
        return count

    def login(self, user, password):
        self.ok('LOGIN "%s" "%s"' % (user, password))

    def close(self):
        try:
            self.command("LOGOUT")
        except (OSError, EOFError, RuntimeError):
            pass
        self.s.close()


def timed(fn, *a, **kw):
    t = time.perf_counter()
    r = fn(*a, **kw)
    return time.perf_counter() - t, r


def opt(args, name, default, conv=int):
    if name in args:
        i = args.index(name)
        v = conv(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def exists_of(lines):
    def each(ln):
        p = ln.split(b" ")
        if len(p) >= 3 and p[2] == b"EXISTS":
            lines.append(int(p[1]))
    return each


# ---------------------------------------------------------------- select
def cmd_select(port, user, password, args):
    repeat = opt(args, "--repeat", 1)
    expect = opt(args, "--expect", -1)
    logins, selects, ex = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        c = Imap(port)
        c.login(user, password)
        logins.append(time.perf_counter() - t0)
        exists = []
        dt, _ = timed(c.ok, "SELECT INBOX", exists_of(exists))
        selects.append(dt)
        ex.append(exists[-1] if exists else -1)
        c.close()
    print("select_s=%.4f select_median_s=%.4f login_s=%.4f exists=%d sessions=%d"
          % (selects[0], statistics.median(selects), statistics.median(logins),
             ex[0], repeat))
    if expect >= 0 and any(x != expect for x in ex):
        print("EXISTS %s, expected %d" % (ex, expect), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- ops
def spread(items, k):
    """k items spread evenly over the list."""
    if k >= len(items):
        return list(items)
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]


def search_numbers(out):
    def each(ln):
        if ln.startswith(b"* SEARCH"):
            out.extend(int(x) for x in ln[8:].split())
    return each


def flags_by_seq(out):
    def each(ln):
        p = ln.split(b" ", 3)
        if len(p) == 4 and p[2] == b"FETCH":
            out[int(p[1])] = p[3]
    return each


def cmd_ops(port, user, password, args):
    expect = opt(args, "--expect", -1)
    word = opt(args, "--word", "zeppelin", str)
    hits = opt(args, "--hits", -1)
    nstore = opt(args, "--stores", 200)
    nseen = opt(args, "--seen", 200)
    bad = []
    r = {}
    c = Imap(port)
    c.login(user, password)
    exists = []
    r["select_warm_s"], _ = timed(c.ok, "SELECT INBOX", exists_of(exists))
    n = exists[-1] if exists else -1
    if expect >= 0 and n != expect:
        bad.append("EXISTS %d, expected %d" % (n, expect))
    r["fetch_flags_s"], got = timed(c.ok, "UID FETCH 1:* (FLAGS)")
    if got != n:
        bad.append("UID FETCH FLAGS: %d answers for %d messages" % (got, n))
    for k in ("first", "again"):
        r["fetch_envelope_%s_s" % k], got = timed(c.ok, "FETCH 1:* (ENVELOPE)")
        if got != n:
            bad.append("FETCH ENVELOPE (%s): %d answers for %d" % (k, got, n))
    for k in ("first", "again"):
        found = []
        r["search_subject_%s_s" % k], _ = timed(
            c.ok, 'UID SEARCH SUBJECT "%s"' % word, search_numbers(found))
        if hits >= 0 and len(found) != hits:
            bad.append("SEARCH SUBJECT %s (%s): %d found, expected %d"
                       % (word, k, len(found), hits))
    r["search_hits"] = len(found)

    # STORE +FLAGS (\Flagged), one message per command
    cand = []
    c.ok("SEARCH UNFLAGGED", search_numbers(cand))
    targets = spread(cand, nstore)
    times = []
    for seq in targets:
        dt, _ = timed(c.ok, "STORE %d +FLAGS (\\Flagged)" % seq)
        times.append(dt)
    after = {}
    if targets:
        c.ok("FETCH %s (FLAGS)" % ",".join(map(str, targets)), flags_by_seq(after))
        miss = [s for s in targets if b"\\Flagged" not in after.get(s, b"")]
        if miss:
            bad.append("%d stored messages without \\Flagged" % len(miss))
    r["store_n"] = len(times)
    r["store_ms"] = 1000 * statistics.mean(times) if times else 0
    r["store_median_ms"] = 1000 * statistics.median(times) if times else 0

    # the implicit \Seen of FETCH BODY[], then the same without it
    cand = []
    c.ok("SEARCH UNSEEN", search_numbers(cand))
    targets = spread(cand, nseen)
    times, peek = [], []
    for seq in targets:
        dt, _ = timed(c.ok, "FETCH %d (BODY[])" % seq)
        times.append(dt)
    for seq in targets:
        dt, _ = timed(c.ok, "FETCH %d (BODY.PEEK[])" % seq)
        peek.append(dt)
    after = {}
    if targets:
        c.ok("FETCH %s (FLAGS)" % ",".join(map(str, targets)), flags_by_seq(after))
        miss = [s for s in targets if b"\\Seen" not in after.get(s, b"")]
        if miss:
            bad.append("%d fetched messages without \\Seen" % len(miss))
    r["seen_n"] = len(times)
    r["seen_ms"] = 1000 * statistics.mean(times) if times else 0
    r["seen_median_ms"] = 1000 * statistics.median(times) if times else 0
    r["peek_ms"] = 1000 * statistics.mean(peek) if peek else 0
    r["peek_median_ms"] = 1000 * statistics.median(peek) if peek else 0
    c.close()
    print("exists=%d " % n + " ".join(
        "%s=%.4f" % (k, v) if isinstance(v, float) else "%s=%s" % (k, v)
        for k, v in r.items()))
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


# ---------------------------------------------------------------- pop3
class Pop3:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = bytearray()

    def fill(self):
        data = self.s.recv(1 << 20)
        if not data:
            raise EOFError("connection closed by the server")
        self.buf += data

    def status(self, cmd=None):
        if cmd:
            self.s.sendall(cmd + b"\r\n")
        while b"\r\n" not in self.buf:
            self.fill()
        e = self.buf.index(b"\r\n")
        ln = bytes(self.buf[:e])
        del self.buf[:e + 2]
        if not ln.startswith(b"+OK"):
            raise RuntimeError("%r: %r" % (cmd, ln[:200]))
        return ln

    def multi(self, cmd):
        self.status(cmd)
        while True:
            if self.buf.startswith(b".\r\n"):
                e = 0
                break
            e = self.buf.find(b"\r\n.\r\n")
            if e >= 0:
                e += 2
                break
            self.fill()
        lines = bytes(self.buf[:e]).count(b"\r\n")
        del self.buf[:e + 3]
        return lines


def cmd_pop3_poll(port, user, password, args):
    polls = opt(args, "--polls", 5)
    expect = opt(args, "--expect", -1)
    totals, logins, counts = [], [], []
    for _ in range(polls):
        t0 = time.perf_counter()
        p = Pop3(port)
        p.status()
        p.status(b"USER " + user.encode())
        p.status(b"PASS " + password.encode())
        t1 = time.perf_counter()
        st = p.status(b"STAT").split()
        uidls = p.multi(b"UIDL")
        p.status(b"QUIT")
        t2 = time.perf_counter()
        p.s.close()
        totals.append(t2 - t0)
        logins.append(t1 - t0)
        counts.append((int(st[1]), uidls))
    print("first_s=%.4f median_s=%.4f min_s=%.4f login_median_s=%.4f "
          "messages=%d uidl_lines=%d polls=%d"
          % (totals[0], statistics.median(totals[1:] or totals), min(totals),
             statistics.median(logins), counts[0][0], counts[0][1], polls))
    wrong = [c for c in counts if c[0] != c[1] or (expect >= 0 and c[0] != expect)]
    if wrong:
        print("STAT/UIDL counts %s, expected %d" % (wrong[0], expect), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- idle
def mem_available_mib():
    with open("/proc/meminfo") as f:
        for ln in f:
            if ln.startswith("MemAvailable:"):
                return int(ln.split()[1]) // 1024
    return 1 << 30


def cmd_idle_hold(port, user, password, args):
    floor = opt(args, "--mem-floor-mib", 1024)
    count, ready, hold = int(args[0]), args[1], float(args[2])
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    deadline = time.monotonic() + 1800
    sel = selectors.DefaultSelector()
    steps = [b"a LOGIN \"%s\" \"%s\"\r\n" % (user.encode(), password.encode()),
             b"b SELECT INBOX\r\n", b"c IDLE\r\n"]
    want = [b"* OK", b"a OK", b"b OK", b"+"]
    state, buf, socks = {}, {}, []
    idling = 0
    errors = {}
    stopped = ""

    def fail(s, why):
        errors[why] = errors.get(why, 0) + 1
        sel.unregister(s)
        state.pop(s, None)
        buf.pop(s, None)
        s.close()
        socks.remove(s)

    def pump(timeout):
        nonlocal idling
        for key, _ in sel.select(timeout):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                fail(s, "closed by the server at step %d" % state.get(s, -1))
                continue
            b = buf.get(s, b"") + data
            while b"\r\n" in b and s in state:
                ln, b = b.split(b"\r\n", 1)
                st = state[s]
                if ln.startswith(want[st]):
                    if st == 3:
                        idling += 1
                        sel.unregister(s)
                        del state[s]
                        break
                    s.sendall(steps[st])
                    state[s] = st + 1
                elif ln.startswith(b"* ") and st > 0:
                    continue                    # untagged data
                else:
                    fail(s, "step %d: %s" % (st, ln[:100].decode("ascii", "replace")))
                    break
            if s in state:
                buf[s] = b

    for i in range(count):
        while len(state) >= 50 and time.monotonic() < deadline:
            pump(0.5)
        if errors:
            stopped = "failures: " + "; ".join(
                "%d x %s" % (n, w) for w, n in errors.items())
            break
        if time.monotonic() >= deadline or stop[0]:
            stopped = "deadline or signal"
            break
        if i % 100 == 0 and mem_available_mib() < floor:
            stopped = "MemAvailable below %d MiB" % floor
            break
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError as e:
            stopped = "connect: %s" % e
            break
        s.setblocking(False)
        socks.append(s)
        state[s] = 0
        sel.register(s, selectors.EVENT_READ)
    while state and time.monotonic() < deadline:
        pump(0.5)
    if errors and not stopped:
        stopped = "failures: " + "; ".join("%d x %s" % (n, w) for w, n in errors.items())
    with open(ready + ".tmp", "w") as f:
        f.write("OPEN %d IDLING %d\nstopped: %s\n" % (len(socks), idling,
                                                    stopped or "no (all open)"))
    os.rename(ready + ".tmp", ready)
    end = time.monotonic() + hold
    while time.monotonic() < end and not stop[0]:
        time.sleep(0.5)
    for s in socks:
        try:
            s.setblocking(True)
            s.settimeout(1)
            s.sendall(b"DONE\r\nd LOGOUT\r\n")
        except OSError:
            pass
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    return 0 if idling == count else 1


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    cmd, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    args = sys.argv[5:]
    fn = {"select": cmd_select, "ops": cmd_ops, "pop3-poll": cmd_pop3_poll,
          "idle-hold": cmd_idle_hold}.get(cmd)
    if fn is None:
        sys.exit("unknown command %s\n%s" % (cmd, __doc__))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        return fn(port, user, password, args)
    except (OSError, EOFError, RuntimeError) as e:
        print("%s: %s" % (cmd, e), file=sys.stderr)
        return 1


sys.exit(main())
