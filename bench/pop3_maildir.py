#!/usr/bin/python3
"""pop3_maildir.py DIR [COUNT] [SEED]

Write a Maildir (DIR/new, DIR/cur, DIR/tmp) of COUNT (default 10000)
messages for the POP3 benchmarks, the same every time for the same COUNT
and SEED (default 1). Each message is what postern-local would have
delivered: Return-Path:, Delivered-To: and Received: headers, then a
sender's headers (From, To, Subject, Date, Message-ID, MIME-Version,
Content-Type), a blank line and a plain-text body of 2 to 8 KiB in lines
of at most 78 characters, LF line ends, about one line in 75 starting
with a dot (so RETR has to dot-stuff). File names are those postern-local
writes into new/:

    SECS.MUSECSPpidQn.host,S=size,W=vsize

with size the file's length and vsize its length with CRLF line ends.
The seconds grow with every message, so every server numbers them the
same. Prints "messages=N bytes=B vbytes=V" (V is what STAT should say).
"""
import os, random, sys

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rnd = random.Random(seed)

WORDS = ("the of and to in is that for it as was with be by on not he this are "
         "or his from at which but have an they you were her she there one all "
         "we their can has more when will would if so no what about up out who "
         "mail server message queue delivery mailbox client protocol retrieve "
         "account password folder invoice meeting tomorrow report quarterly "
         "budget attached please review schedule project deadline update notes "
         "thanks regards weekend travel train station office kitchen garden").split()
NAMES = ("alice bob carol dave erin frank grace heidi ivan judy mallory niaj "
         "olivia peggy rupert sybil trent victor walter").split()
HOST = "bench.example.test"
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def sentence_line():
    words, n = [], 0
    limit = rnd.randint(40, 76)
    while True:
        w = rnd.choice(WORDS)
        if n + len(w) + 1 > limit:
            break
        words.append(w)
        n += len(w) + 1
    line = " ".join(words)
    r = rnd.random()
    if r < 1 / 150:
        line = "." + line          # needs dot-stuffing
    elif r < 2 / 150:
        line = ".."                # likewise
    elif r < 3 / 150:
        line = "> " + line         # a quote
    elif r < 12 / 150:
        line = ""                  # paragraph break
    return line


def rfc2822_date(t):
    import time
    tm = time.gmtime(t)
    return "%s, %d %s %d %02d:%02d:%02d +0000" % (
        DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec)


def message(i, secs):
    sender = "%s@sender%d.example" % (rnd.choice(NAMES), rnd.randint(1, 40))
    subject = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 9)))
    qid = "%016X" % rnd.getrandbits(64)
    date = rfc2822_date(secs)
    head = [
        "Return-Path: <%s>" % sender,
        "Delivered-To: bench@example.test",
        "Received: from client%d.sender.example (client%d.sender.example [192.0.2.%d])"
        % (i % 97, i % 97, i % 250 + 1),
        "\tby mx.example.test (postern) with ESMTPS id %s" % qid,
        "\tfor <bench@example.test>; %s" % date,
        "From: %s <%s>" % (sender.split("@")[0].capitalize(), sender),
        "To: Bench <bench@example.test>",
        "Subject: %s" % subject,
        "Date: %s" % date,
        "Message-ID: <%d.%08x@%s>" % (secs, rnd.getrandbits(32), sender.split("@")[1]),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
    ]
    target = rnd.randint(2048, 8192)
    body, n = [], 0
    while n < target:
        line = sentence_line()
        body.append(line)
        n += len(line) + 1
    return ("\n".join(head) + "\n\n" + "\n".join(body) + "\n").encode("ascii")


for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
base = 1763700000
pid = 40000 + rnd.randint(0, 20000)
total = vtotal = 0
for i in range(count):
    secs = base + 3 * i
    data = message(i, secs)
    size = len(data)
    vsize = size + data.count(b"\n")
    name = "%d.M%dP%dQ%d.%s,S=%d,W=%d" % (secs, rnd.randint(0, 999999), pid,
                                          i + 1, HOST, size, vsize)
    tmp = os.path.join(out, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.utime(tmp, (secs, secs))
    os.rename(tmp, os.path.join(out, "new", name))
    total += size
    vtotal += vsize
print("messages=%d bytes=%d vbytes=%d" % (count, total, vtotal))
