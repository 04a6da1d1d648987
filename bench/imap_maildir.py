#!/usr/bin/python3
"""imap_maildir.py DIR [COUNT] [SEED]

Write a realistic Maildir (DIR/new, DIR/cur, DIR/tmp, DIR/dovecot-keywords)
of COUNT (default 100000) messages for the IMAP benchmarks; the same bytes,
names and times every time for the same SEED (default 1). The messages of
a smaller COUNT are the first messages of a larger one (each message uses
the random stream in order and refers only to earlier ones), so a
10,000-message Maildir is the start of the 100,000-message one.

Messages (LF line ends, except about 2 % written with CRLF as an import
would leave them):

  - sizes mostly 2-20 KiB; about 1.5 % carry an attachment of 100 KiB to
    2 MiB (log-uniform), about 1 % are tiny (a few hundred bytes);
  - MIME: text/plain (us-ascii 7bit, UTF-8 8bit bodies, quoted-printable),
    multipart/alternative (text + HTML), multipart/mixed with 1-3 base64
    attachments (some wrapping a multipart/alternative), multipart/related
    (HTML + inline image), forwards carrying a message/rfc822 (sometimes
    with its own attachment: two levels of nesting);
  - headers: Return-Path, Delivered-To, 1-3 Received, From, To (1-3), Cc
    (about 30 %), Subject (about 10 % RFC 2047 encoded, UTF-8 B or Q or
    ISO-8859-1 Q, some folded), Date, Message-ID, In-Reply-To and
    References for replies (about 30 %, threads of earlier messages),
    MIME-Version, Content-Type, sometimes X-Mailer, List-Id, Reply-To;
    display names plain, quoted, or RFC 2047 encoded;
  - SEARCH_WORD ("zeppelin") is in about 1.2 % of the subjects, some of them
    RFC 2047 encoded, so a SEARCH SUBJECT that does not decode misses them.

Maildir names (times grow with the message number, the file's mtime is
that time: the INTERNALDATE):

    SECS.MusecPpidQn.host,S=size,W=vsize[:2,FLAGS]   (postern-local style)
    SECS.MusecPpid_n.host,S=size,W=vsize[:2,FLAGS]   (Dovecot style)

size is the file's length, vsize its length with CRLF line ends. ,W= is
left out of about 25 % of the names (a server must count the lines) and
,S= of about 0.5 % (it must stat the file). About 25 % of the messages are
in new/ (no flags); in cur/ the flags are mostly S, some RS, FS, FRS, PS,
DS, T, ST, none, and keyword letters a/b (dovecot-keywords: 0 $Forwarded,
1 $Junk).

Files are mode 0600; owned by whoever runs this (bench/imap.sh chowns
them). Prints one line:

  messages=N new=N cur=N bytes=B vbytes=V search_word=W subject_hits=H
  seen=N flagged=N answered=N deleted=N no_w=N no_s=N crlf=N big=N
  tiny=N seconds=S
"""
import base64, binascii, os, random, sys, time

SEARCH_WORD = "zeppelin"
HOST = "mail.example.test"
WORDS = ("the of and to in is that for it as was with be by on not this are "
         "or from at which but have an they you were there one all we their "
         "can has more when will would if so no what about up out who mail "
         "server message queue delivery mailbox client protocol account "
         "password folder invoice meeting tomorrow report quarterly budget "
         "attached please review schedule project deadline update notes "
         "thanks regards weekend travel train station office kitchen garden "
         "release candidate build failure patch merge branch ticket customer "
         "order shipment contract draft minutes agenda lunch coffee holiday "
         "photos family birthday party concert tickets flight hotel").split()
WORDS8 = ("Grüße café naïve Zürich Müller Ærø smörgåsbord jalapeño façade "
          "Déjà über Straße résumé Kraków Łódź Ελλάδα Москва 東京 señor "
          "crème brûlée Göteborg").split()
FIRST = ("Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory "
         "Niaj Olivia Peggy Rupert Sybil Trent Victor Walter Yasmin").split()
LAST = ("Smith Jones Brown Taylor Wilson Evans Thomas Roberts Walker Wright "
        "Hughes Green Hall Wood Clarke Turner Hill Moore Ward King").split()
FIRST8 = ("Jürgen Zoë François Søren Łukasz Renée Åsa Ángel Dvořák "
          "Björk").split()
LISTS = ("dev", "announce", "users", "security", "ops", "sales")
MAILERS = ("Mozilla Thunderbird 115.5", "Apple Mail (2.3731)",
           "Microsoft Outlook 16.0", "Roundcube Webmail/1.6.5", "mutt/2.2.9",
           "K-9 Mail for Android")
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
ATTACH = (("application/pdf", "report", "pdf"), ("image/jpeg", "IMG", "jpg"),
          ("application/zip", "archive", "zip"),
          ("application/vnd.openxmlformats-officedocument."
           "spreadsheetml.sheet", "budget", "xlsx"),
          ("image/png", "screenshot", "png"))
# flags of messages in cur/, with their weights
CUR_FLAGS = (("S", 60), ("RS", 10), ("", 12), ("FS", 4), ("FRS", 2),
             ("PS", 2), ("DS", 1), ("T", 1), ("ST", 2), ("Sa", 3),
             ("Sab", 1), ("FSb", 1), ("b", 1))


def wrap(words, width=72):
    """Words into lines of at most width characters."""
    lines, cur, n = [], [], 0
    for w in words:
        if cur and n + 1 + len(w) > width:
            lines.append(" ".join(cur))
            cur, n = [], 0
        n += len(w) + (1 if cur else 0)
        cur.append(w)
    if cur:
        lines.append(" ".join(cur))
    return lines


def make_pools(seed):
    """Text and binary pools, independent of COUNT."""
    p = random.Random(seed * 7919 + 17)
    ascii_par, utf8_par = [], []
    for _ in range(3000):
        words = [p.choice(WORDS) for _ in range(p.randint(8, 110))]
        words[0] = words[0].capitalize()
        lines = wrap(words)
        r = p.random()
        if r < 0.03:
            lines[0] = "." + lines[0]       # dot-stuffing in POP3
        elif r < 0.05:
            lines.insert(0, "From the desk of " + p.choice(FIRST))
        elif r < 0.15:
            lines = ["> " + ln for ln in lines]
        ascii_par.append("\n".join(lines))
    for _ in range(800):
        words = [p.choice(WORDS8) if p.random() < 0.2 else p.choice(WORDS)
                 for _ in range(p.randint(8, 90))]
        utf8_par.append("\n".join(wrap(words)))
    blob = p.randbytes(2 * 1024 * 1024 + 65536)
    return p, ascii_par, utf8_par, blob


def date_header(t):
    tm = time.gmtime(t)
    zone = ("+0000", "+0100", "-0500", "+0200", "+0530")[t % 5]
    return "%s, %d %s %d %02d:%02d:%02d %s" % (
        DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec, zone)


def q_encode(text, charset):
    """RFC 2047 Q encoding of text (str) in charset."""
    out = []
    for b in text.encode(charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "".join(out)


class Gen:
    def __init__(self, seed):
        self.pool_rnd, self.apar, self.upar, self.blob = make_pools(seed)
        self.r = random.Random(seed)
        self.msgs = []          # (message-id, references, subject) for threads
        self.seq = 0
        self.secs = 0

    # ---- pieces -------------------------------------------------------
    def person(self):
        r = self.r
        first, last = r.choice(FIRST), r.choice(LAST)
        addr = "%s.%s@%s" % (first.lower(), last.lower(),
                             r.choice(("example.com", "example.org",
                                       "corp.example", "mail.example.net")))
        k = r.random()
        if k < 0.55:
            return "%s %s <%s>" % (first, last, addr)
        if k < 0.70:
            return "\"%s, %s\" <%s>" % (last, first, addr)
        if k < 0.82:
            f8 = r.choice(FIRST8)
            return "=?UTF-8?Q?%s_%s?= <%s>" % (q_encode(f8, "utf-8"), last,
                                              addr)
        return addr

    def subject(self):
        """(raw header value, decoded text)"""
        r = self.r
        words = [r.choice(WORDS) for _ in range(r.randint(2, 11))]
        if r.random() < 0.012:
            words.insert(r.randint(0, len(words)),
                         r.choice((SEARCH_WORD, SEARCH_WORD.capitalize(),
                                   SEARCH_WORD.upper())))
        k = r.random()
        if k < 0.10:
            words.insert(r.randint(0, len(words)), r.choice(WORDS8))
            text = " ".join(words)
            enc = r.random()
            chunks = self.chunks(words)
            if enc < 0.4:
                parts = ["=?UTF-8?B?%s?=" % base64.b64encode(
                    c.encode("utf-8")).decode("ascii") for c in chunks]
            elif enc < 0.8 or not self.latin1(text):
                parts = ["=?UTF-8?Q?%s?=" % q_encode(c, "utf-8")
                         for c in chunks]
            else:
                parts = ["=?ISO-8859-1?Q?%s?=" % q_encode(c, "iso-8859-1")
                         for c in chunks]
            return "\n ".join(parts), text
        text = " ".join(words)
        if len(text) > 60 and r.random() < 0.5:
            cut = text.rfind(" ", 0, 50)
            if cut > 0:
                return text[:cut] + "\n\t" + text[cut + 1:], text
        return text, text

    @staticmethod
    def latin1(text):
        try:
            text.encode("iso-8859-1")
            return True
        except UnicodeEncodeError:
            return False

    @staticmethod
    def chunks(words):
        """Subject words in groups of about 30 characters; every group but
        the first keeps its leading space, so the encoded words joined
        give the subject back (RFC 2047 6.2)."""
        out, cur = [], ""
        for w in words:
            piece = (" " if out or cur else "") + w
            if cur and len(cur) + len(piece) > 30:
                out.append(cur)
                cur = " " + w
            else:
                cur += piece
        out.append(cur)
        return out

    def text(self, target, utf8=False):
        r, pool = self.r, self.upar if utf8 else self.apar
        parts, n = [], 0
        while n < target:
            p = pool[r.randrange(len(pool))]
            parts.append(p)
            n += len(p) + 2
        return "\n\n".join(parts) + "\n"

    def html(self, target):
        r, out, n = self.r, ["<html><head><meta charset=\"utf-8\"></head>"
                             "<body>"], 0
        while n < target:
            p = self.apar[r.randrange(len(self.apar))]
            p = p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out.append("<p>" + p.replace("\n", "<br>\n") + "</p>")
            n += len(p) + 12
        out.append("</body></html>")
        return "\n".join(out) + "\n"

    def b64(self, size):
        off = self.r.randrange(len(self.blob) - size) if size < len(self.blob) else 0
        return base64.encodebytes(self.blob[off:off + size]).decode("ascii")

    def boundary(self):
        return "----=_Part_%d_%08x" % (self.seq, self.r.getrandbits(32))

    def size_target(self):
        """Body bytes: mostly 1.5 to 18 KiB, log-uniform."""
        return int(1536 * (12 ** self.r.random()))

    # ---- MIME bodies: (content-type header lines, body) ---------------
    def plain(self, target):
        r = self.r.random()
        if r < 0.15:
            return (["Content-Type: text/plain; charset=utf-8",
                     "Content-Transfer-Encoding: 8bit"],
                    self.text(target, utf8=True))
        if r < 0.25:
            raw = self.text(target, utf8=True).encode("utf-8")
            qp = binascii.b2a_qp(raw).decode("ascii")
            return (["Content-Type: text/plain; charset=utf-8",
                     "Content-Transfer-Encoding: quoted-printable"], qp)
        ct = "Content-Type: text/plain; charset=us-ascii"
        if self.r.random() < 0.2:
            ct += "; format=flowed"
        return ([ct, "Content-Transfer-Encoding: 7bit"], self.text(target))

    def alternative(self, target):
        b = self.boundary()
        h1, t = self.plain(target // 2)
        html = self.html(target // 2)
        if self.r.random() < 0.5:
            h2 = ["Content-Type: text/html; charset=utf-8",
                  "Content-Transfer-Encoding: quoted-printable"]
            html = binascii.b2a_qp(html.encode("utf-8")).decode("ascii")
        else:
            h2 = ["Content-Type: text/html; charset=utf-8",
                  "Content-Transfer-Encoding: 7bit"]
        body = self.multipart(b, [(h1, t), (h2, html)])
        return (["Content-Type: multipart/alternative;",
                 "\tboundary=\"%s\"" % b], body)

    def attachment(self, size):
        ctype, stem, ext = self.r.choice(ATTACH)
        name = "%s-%d.%s" % (stem, self.r.randint(1, 9999), ext)
        if self.r.random() < 0.1:
            name = "=?UTF-8?Q?%s?=" % q_encode("Übersicht-" + name, "utf-8")
        return (["Content-Type: %s; name=\"%s\"" % (ctype, name),
                 "Content-Transfer-Encoding: base64",
                 "Content-Disposition: attachment; filename=\"%s\"" % name],
                self.b64(size))

    def mixed(self, target, big):
        b = self.boundary()
        first = self.alternative(target) if self.r.random() < 0.4 \
            else self.plain(target)
        parts = [first]
        for k in range(self.r.choice((1, 1, 1, 2, 3))):
            if big and k == 0:
                size = int(100 * 1024 * (20 ** self.r.random()))
            else:
                size = int(2048 * (15 ** self.r.random()))
            parts.append(self.attachment(size))
        return (["Content-Type: multipart/mixed;", "\tboundary=\"%s\"" % b],
                self.multipart(b, parts))

    def related(self, target):
        b = self.boundary()
        cid = "img%d.%08x@example.com" % (self.seq, self.r.getrandbits(32))
        html = self.html(target).replace(
            "</body>", "<img src=\"cid:%s\"></body>" % cid)
        img = (["Content-Type: image/png; name=\"logo.png\"",
                "Content-Transfer-Encoding: base64",
                "Content-ID: <%s>" % cid,
                "Content-Disposition: inline; filename=\"logo.png\""],
               self.b64(int(1024 * (8 ** self.r.random()))))
        return (["Content-Type: multipart/related; type=\"text/html\";",
                 "\tboundary=\"%s\"" % b],
                self.multipart(b, [(["Content-Type: text/html; charset=utf-8",
                                     "Content-Transfer-Encoding: 7bit"], html),
                                   img]))

    def forward(self, target):
        """multipart/mixed: a note and the forwarded message/rfc822."""
        b = self.boundary()
        note = self.plain(min(target, 1500))
        inner_head = self.common_headers(
            self.secs - self.r.randint(3600, 90 * 86400))[0]
        if self.r.random() < 0.3:
            ih, ib = self.mixed(target, False)
        else:
            ih, ib = self.alternative(target)
        inner = "\n".join(inner_head + ["MIME-Version: 1.0"] + ih) + "\n\n" + ib
        fwd = (["Content-Type: message/rfc822",
                "Content-Disposition: inline"], inner)
        return (["Content-Type: multipart/mixed;", "\tboundary=\"%s\"" % b],
                self.multipart(b, [note, fwd]))

    @staticmethod
    def multipart(b, parts):
        out = ["This is a multi-part message in MIME format.", ""]
        for h, body in parts:
            out.append("--" + b)
            out.extend(h)
            out.append("")
            out.append(body.rstrip("\n"))
        out.append("--" + b + "--")
        return "\n".join(out) + "\n"

    # ---- headers ------------------------------------------------------
    def common_headers(self, secs):
        """From, To, Cc, Subject, Date, Message-ID (+ thread headers);
        returns (lines, decoded subject)."""
        r = self.r
        frm = self.person()
        to = ", ".join(["Bench User <bench@example.test>"] +
                       [self.person() for _ in range(r.choice((0, 0, 0, 1, 2)))])
        parent = None
        if self.msgs and r.random() < 0.3:
            parent = self.msgs[max(0, len(self.msgs) - 1 - int(
                r.expovariate(1 / 200.0)))]
        if parent:
            raw, text = parent[2], parent[3]
            if not text.lower().startswith("re:"):
                raw, text = "Re: " + raw, "Re: " + text
        else:
            raw, text = self.subject()
        mid = "<%d.%08x.%d@%s>" % (secs, r.getrandbits(32), self.seq,
                                    frm.rsplit("@", 1)[1].rstrip(">"))
        h = ["From: " + frm, "To: " + to]
        if r.random() < 0.3:
            h.append("Cc: " + ",\n\t".join(self.person()
                                           for _ in range(r.randint(1, 4))))
        if r.random() < 0.05:
            h.append("Reply-To: " + self.person())
        h += ["Subject: " + raw, "Date: " + date_header(secs),
              "Message-ID: " + mid]
        refs = ""
        if parent:
            refs = (parent[1].split() + [parent[0]])[-10:]
            h.append("In-Reply-To: " + parent[0])
            h.append("References: " + "\n\t".join(refs))
            refs = " ".join(refs)
        return h, (mid, refs, raw, text)

    # ---- one message --------------------------------------------------
    def message(self, secs):
        """(bytes, kind, decoded subject)"""
        r = self.r
        self.seq += 1
        self.secs = secs
        h, thread = self.common_headers(secs)
        self.msgs.append(thread)
        if len(self.msgs) > 4096:
            del self.msgs[:2048]
        sender = h[0].rsplit("<", 1)[-1].rstrip(">").split(" ")[-1]
        head = ["Return-Path: <%s>" % sender,
                "Delivered-To: bench@example.test"]
        for k in range(r.randint(1, 3)):
            head += ["Received: from relay%d.example.net (relay%d.example.net "
                     "[198.51.100.%d])" % (k, k, r.randint(1, 254)),
                     "\tby %s with ESMTPS id %016X" % (HOST, r.getrandbits(64)),
                     "\tfor <bench@example.test>; %s" % date_header(secs - k)]
        head += h
        if r.random() < 0.15:
            head.append("List-Id: %s <%s.lists.example.org>" % (
                "Project list", r.choice(LISTS)))
        if r.random() < 0.4:
            head.append("X-Mailer: " + r.choice(MAILERS))
        head.append("MIME-Version: 1.0")
        k = r.random()
        kind = "plain"
        if k < 0.01:
            kind = "tiny"
            ct, body = (["Content-Type: text/plain; charset=us-ascii"],
                        " ".join(r.choice(WORDS) for _ in range(
                            r.randint(1, 40))) + "\n")
        elif k < 0.43:
            ct, body = self.plain(self.size_target())
        elif k < 0.71:
            kind = "alternative"
            ct, body = self.alternative(self.size_target())
        elif k < 0.93:
            big = r.random() < 0.068
            kind = "big" if big else "mixed"
            ct, body = self.mixed(self.size_target() // 2, big)
        elif k < 0.97:
            kind = "forward"
            ct, body = self.forward(self.size_target())
        else:
            kind = "related"
            ct, body = self.related(self.size_target())
        return ("\n".join(head + ct) + "\n\n" + body).encode("utf-8"), kind, \
            thread[3]


def flags_choice(r):
    total = sum(w for _, w in CUR_FLAGS)
    x = r.randrange(total)
    for f, w in CUR_FLAGS:
        if x < w:
            return f
        x -= w
    return "S"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    t0 = time.monotonic()
    g = Gen(seed)
    r = g.r
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    with open(os.path.join(out, "dovecot-keywords"), "w") as f:
        f.write("0 $Forwarded\n1 $Junk\n")
    st = dict.fromkeys(("new", "cur", "bytes", "vbytes", "subject_hits",
                        "seen", "flagged", "answered", "deleted", "no_w",
                        "no_s", "crlf", "big", "tiny"), 0)
    secs = 1672531200                      # 2023-01-01
    pid = 20000 + r.randint(0, 9999)
    word = SEARCH_WORD.lower()
    dnew, dcur = os.path.join(out, "new"), os.path.join(out, "cur")
    flags_w = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for i in range(count):
        secs += 1 + int(r.expovariate(1 / 900.0))
        data, kind, subj = g.message(secs)
        if r.random() < 0.02:
            data = data.replace(b"\n", b"\r\n")
            st["crlf"] += 1
        size = len(data)
        vsize = size + data.count(b"\n") - data.count(b"\r\n")
        if r.random() < 0.5:
            base = "%d.M%dP%dQ%d.%s" % (secs, r.randint(0, 999999), pid,
                                        i + 1, HOST)
        else:
            base = "%d.M%dP%d_%d.%s" % (secs, r.randint(0, 999999),
                                        pid + 7, i + 1, HOST)
        k = r.random()
        if k < 0.005:
            st["no_s"] += 1
            st["no_w"] += 1
        elif k < 0.25:
            base += ",S=%d" % size
            st["no_w"] += 1
        else:
            base += ",S=%d,W=%d" % (size, vsize)
        if r.random() < 0.25:
            path = os.path.join(dnew, base)
            st["new"] += 1
        else:
            fl = flags_choice(r)
            path = os.path.join(dcur, base + ":2," + fl)
            st["cur"] += 1
            st["seen"] += "S" in fl
            st["flagged"] += "F" in fl
            st["answered"] += "R" in fl
            st["deleted"] += "T" in fl
        fd = os.open(path, flags_w, 0o600)
        try:
            os.write(fd, data)
            os.utime(fd, (secs, secs))
        finally:
            os.close(fd)
        st["bytes"] += size
        st["vbytes"] += vsize
        st["subject_hits"] += word in subj.lower()
        st["big"] += kind == "big"
        st["tiny"] += kind == "tiny"
    print("messages=%d new=%d cur=%d bytes=%d vbytes=%d search_word=%s "
          "subject_hits=%d seen=%d flagged=%d answered=%d deleted=%d "
          "no_w=%d no_s=%d crlf=%d big=%d tiny=%d seconds=%.1f" % (
              count, st["new"], st["cur"], st["bytes"], st["vbytes"],
              SEARCH_WORD, st["subject_hits"], st["seen"], st["flagged"],
              st["answered"], st["deleted"], st["no_w"], st["no_s"],
              st["crlf"], st["big"], st["tiny"], time.monotonic() - t0))


main()
