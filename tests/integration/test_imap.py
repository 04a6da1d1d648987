#!/usr/bin/env python3
"""test_imap - postern-imap-login and postern-imap with real clients.

Python's imaplib and a raw-socket client (exact bytes) against an instance
whose users get their mail over SMTP: login, the commands of any state,
folders (special-use, hierarchy, subscriptions, non-ASCII names, traversal
attempts), SELECT/EXAMINE/STATUS, FETCH byte-exact down to nested MIME
parts, STORE and keywords, CONDSTORE, EXPUNGE, COPY/MOVE/APPEND with
UIDPLUS, a 40 MB APPEND and one refused as too big, UIDs stable across
sessions, a restart and a kill -9 during APPEND, two sessions on one
mailbox with IDLE, flags seen by POP3 and by Dovecot (and Dovecot's seen
by postern), a Dovecot-written Maildir keeping its UIDs, STARTTLS
injection and the separation of users. Port bases 12000-13500 and
15000-15200. Dovecot's imap binary is run pre-authenticated on a copy of
a Maildir (owned by nobody for that run).
"""
import base64
import email
import email.policy
import imaplib
import os
import pwd
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import IS_ROOT, Instance, pid_alive, run, skip, test, wait_for  # noqa

PW = "imap secret"
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
SPECIAL = {"Drafts": "\\Drafts", "Sent": "\\Sent", "Trash": "\\Trash",
           "Junk": "\\Junk", "Archive": "\\Archive"}


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def setup(base, users=("alice",), conf=()):
    i = Instance(base)
    for u in users:
        i.add_user("%s@example.test" % u, PW)
    for kv in conf:
        i.ok("config", "set", kv)
    i.start()
    return i


def maildir(i, user="alice"):
    return i.path("mail", "example.test", user)


def count_files(i, user):
    md = maildir(i, user)
    try:
        return sum(len(os.listdir(os.path.join(md, d)))
                   for d in ("new", "cur"))
    except FileNotFoundError:
        return 0


def deliver(i, user, body):
    """Send body through SMTP and wait until it is in the Maildir."""
    before = count_files(i, user)
    s = smtplib.SMTP("127.0.0.1", i.port_base + 25, timeout=30)
    s.sendmail("sender@remote.test", ["%s@example.test" % user], body)
    s.quit()
    wait_for(lambda: count_files(i, user) > before, what="delivery")


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def message_files(md):
    """{base name: (sub, full name)} of the messages of a Maildir folder."""
    out = {}
    for sub in ("new", "cur"):
        for n in os.listdir(os.path.join(md, sub)):
            out[n.split(":")[0]] = (sub, n)
    return out


def chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.lchown(root, uid, gid)
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


def tree(path):
    """Every path under path (relative), to see that nothing appeared."""
    out = set()
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(root, n), path))
    return out


# ---- a raw client and a parser of responses --------------------------------

class Raw:
    """An IMAP client that sends and reads exact bytes: over TCP, or on a
    pre-authenticated Dovecot's standard input and output."""

    def __init__(self, port=None, proc=None, tls=False):
        self.n = 0
        self.proc = proc
        if proc is not None:
            self.r = proc.stdout
            self.sock = None
        else:
            s = socket.create_connection(("127.0.0.1", port), 30)
            if tls:
                s = ctx().wrap_socket(s)
            self.sock = s
            self.r = s.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        if self.proc is not None:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        else:
            self.sock.sendall(data)

    def read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.r.read(n - len(data))
            if not chunk:
                raise EOFError("closed inside a literal")
            data += chunk
        return data

    def line(self):
        """One response line with the literals it announces read in."""
        out = b""
        while True:
            ln = self.r.readline()
            if not ln:
                raise EOFError("connection closed after %r" % out[-300:])
            out += ln
            m = re.search(rb"~?\{(\d+)\}\r\n$", ln)
            if not m:
                return out
            out += self.read_exact(int(m.group(1)))

    def tag(self):
        self.n += 1
        return b"t%d" % self.n

    def until_tagged(self, tag):
        untagged = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return untagged, ln
            untagged.append(ln)

    def cmd(self, text):
        """(untagged lines, the tagged line) of one command."""
        if isinstance(text, str):
            text = text.encode()
        t = self.tag()
        self.send(t + b" " + text + b"\r\n")
        return self.until_tagged(t)

    def ok(self, text):
        u, t = self.cmd(text)
        assert re.match(rb"t\d+ OK", t), (text, u[-5:], t)
        return u, t

    def login(self, user="alice", pw=PW):
        u, t = self.cmd('LOGIN %s@example.test "%s"' % (user, pw))
        assert b" OK " in t, t
        return t

    def append(self, folder, msg, extra=b""):
        """APPEND with a synchronizing literal; the tagged line."""
        t = self.tag()
        self.send(t + b" APPEND " + folder + b" " + extra +
                  b"{%d}\r\n" % len(msg))
        cont = self.line()
        assert cont.startswith(b"+"), cont
        self.send(msg + b"\r\n")
        return self.until_tagged(t)[1]

    def close(self):
        if self.sock is not None:
            self.sock.close()


def parse(b):
    """The tokens of a response: bytes for atoms, strings and literals,
    None for NIL, lists for parenthesised lists. An atom holding [...]
    (BODY[HEADER.FIELDS (A B)]<0>) is one token."""
    out, _ = _parse_list(b, 0, False)
    return out


def _parse_list(b, i, closing):
    out = []
    while True:
        while b[i:i + 1] == b" ":
            i += 1
        c = b[i:i + 1]
        if c in (b"", b"\r", b"\n", b")"):
            return out, (i + 1 if c == b")" and closing else i)
        m = re.match(rb"~?\{(\d+)\}\r\n", b[i:i + 30])
        if c == b"(":
            v, i = _parse_list(b, i + 1, True)
        elif c == b'"':
            j, v = i + 1, b""
            while b[j:j + 1] != b'"':
                if b[j:j + 1] == b"\\":
                    j += 1
                v += b[j:j + 1]
                j += 1
            i = j + 1
        elif m:
            start = i + m.end()
            v = b[start:start + int(m.group(1))]
            i = start + int(m.group(1))
        else:
            j = i
            while j < len(b) and b[j:j + 1] not in (b" ", b"(", b")",
                                                   b"\r", b"\n"):
                if b[j:j + 1] == b"[":
                    j = b.index(b"]", j)
                j += 1
            v = b[i:j]
            i = j
            if v == b"NIL":
                v = None
        out.append(v)


def fetched(untagged):
    """{sequence number: {ITEM: value}} of the FETCH responses."""
    out = {}
    for ln in untagged:
        t = parse(ln)
        if len(t) >= 4 and t[0] == b"*" and t[2] == b"FETCH":
            items = t[3]
            d = out.setdefault(int(t[1]), {})
            for k in range(0, len(items) - 1, 2):
                d[items[k].upper().decode()] = items[k + 1]
    return out


def fetch(c, text):
    u, t = c.ok("FETCH " + text if not text.startswith("UID ") else text)
    return fetched(u)


def code(line, name):
    """The value of a response code [NAME value] in a line, or None."""
    m = re.search(rb"\[" + name.encode() + rb"(?: ([^\]]*))?\]", line)
    return None if m is None else (m.group(1) or b"")


def untagged_code(untagged, name):
    for ln in untagged:
        v = code(ln, name)
        if v is not None:
            return v
    return None


def imap_login(i, user="alice"):
    m = imaplib.IMAP4("127.0.0.1", i.port_base + 43, timeout=30)
    typ, _ = m.login("%s@example.test" % user, PW)
    assert typ == "OK"
    return m


def raw_login(i, user="alice"):
    c = Raw(i.port_base + 43)
    c.login(user)
    return c


def folder_lines(untagged):
    """{name: (attributes, whole line)} of LIST/LSUB responses."""
    out = {}
    for ln in untagged:
        t = parse(ln)
        if len(t) >= 5 and t[1] in (b"LIST", b"LSUB"):
            out[t[4]] = (t[2], ln)
    return out


# ---- login and the commands of any state -----------------------------------

@test
def login_capability_and_any_state_commands():
    i = setup(12000)
    c = Raw(i.port_base + 43)
    assert c.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1"), c.greeting
    u, t = c.ok("CAPABILITY")
    caps = u[0].split()
    for cap in (b"AUTH=PLAIN", b"SASL-IR", b"STARTTLS", b"IMAP4rev2"):
        assert cap in caps, u
    assert b"LOGINDISABLED" not in caps, u       # clear text on loopback
    u, t = c.cmd('LOGIN alice@example.test "wrong"')
    assert t.startswith(b"t2 NO [AUTHENTICATIONFAILED]"), t
    u, t = c.cmd('LOGIN alice@example.test "%s"' % PW)
    caps = code(t, "CAPABILITY").split()
    assert b"IMAP4rev2" in caps and b"AUTH=PLAIN" not in caps, t
    u, t = c.ok("CAPABILITY")
    caps = u[0].split()
    for cap in (b"IMAP4rev1", b"IMAP4rev2", b"IDLE", b"UIDPLUS", b"MOVE",
                b"CONDSTORE", b"QRESYNC", b"ENABLE", b"NAMESPACE", b"ID",
                b"LIST-EXTENDED", b"LIST-STATUS", b"SPECIAL-USE",
                b"STATUS=SIZE", b"BINARY", b"UNSELECT", b"LITERAL+"):
        assert cap in caps, (cap, u)
    assert any(x.startswith(b"APPENDLIMIT") for x in caps), caps
    u, t = c.ok("ENABLE CONDSTORE QRESYNC IMAP4rev2 XUNKNOWN")
    assert u == [b"* ENABLED CONDSTORE QRESYNC IMAP4rev2\r\n"], u
    u, t = c.ok("ENABLE CONDSTORE")
    assert u == [b"* ENABLED\r\n"], u
    u, t = c.ok('ID ("name" "test_imap" "version" "1")')
    assert u[0].startswith(b"* ID ("), u
    u, t = c.ok("ID NIL")
    u, t = c.ok("NAMESPACE")
    assert u == [b'* NAMESPACE (("" ".")) NIL NIL\r\n'], u
    u, t = c.ok("NOOP")
    assert u == [], u
    u, t = c.cmd("XYZZY")
    assert b" BAD " in t, t
    u, t = c.cmd("LOGIN a b")
    assert b" BAD " in t, t
    u, t = c.ok("LOGOUT")
    assert u[0].startswith(b"* BYE"), u
    c.close()
    # AUTHENTICATE PLAIN with an initial response, and without (imaplib)
    c = Raw(i.port_base + 43)
    ir = base64.b64encode(b"\0alice@example.test\0" + PW.encode())
    u, t = c.cmd(b"AUTHENTICATE PLAIN " + ir)
    assert t.startswith(b"t1 OK [CAPABILITY IMAP4rev1"), t
    c.ok("LOGOUT")
    m = imaplib.IMAP4("127.0.0.1", i.port_base + 43, timeout=30)
    typ, _ = m.authenticate(
        "PLAIN", lambda _: b"\0alice@example.test\0" + PW.encode())
    assert typ == "OK"
    typ, dat = m.capability()
    assert b"IMAP4rev2" in dat[0].split() and b"IDLE" in dat[0].split()
    typ, dat = m.namespace()
    assert typ == "OK"
    assert m.noop()[0] == "OK"
    assert m.logout()[0] == "BYE"


# ---- folders ----------------------------------------------------------------

@test
def list_special_use_create_delete_rename_subscribe():
    i = setup(12100)
    deliver(i, "alice", b"Subject: one\r\n\r\nbody\r\n")
    c = raw_login(i)
    md = maildir(i)
    u, _ = c.ok('LIST "" "*"')
    names = folder_lines(u)
    assert set(names) == {b"INBOX"} | {k.encode() for k in SPECIAL}, u
    for k in SPECIAL:
        assert os.path.isdir(os.path.join(md, "." + k, "cur")), k
    u, _ = c.ok('LIST "" "*" RETURN (SPECIAL-USE)')
    for k, use in SPECIAL.items():
        assert use.encode() in folder_lines(u)[k.encode()][0], u
    u, _ = c.ok('LIST (SPECIAL-USE) "" "*"')
    assert set(folder_lines(u)) == {k.encode() for k in SPECIAL}, u
    # hierarchy: "." separates, directories are Maildir++ .A.B
    c.ok("CREATE Lists")
    c.ok("CREATE Lists.Work")
    c.ok("CREATE Lists.Play")
    assert os.path.isdir(os.path.join(md, ".Lists.Work", "cur"))
    u, t = c.cmd("CREATE Lists.Work")
    assert b" NO [ALREADYEXISTS]" in t, t
    u, t = c.cmd("CREATE INBOX")
    assert b" NO " in t, t
    u, _ = c.ok('LIST "" "Lists*"')
    lst = folder_lines(u)
    assert b"\\HasChildren" in lst[b"Lists"][0], u
    assert b"\\HasNoChildren" in lst[b"Lists.Work"][0], u
    u, _ = c.ok('LIST "" "Lists.%"')
    assert set(folder_lines(u)) == {b"Lists.Work", b"Lists.Play"}, u
    u, _ = c.ok('LIST "" "%"')
    assert b"Lists.Work" not in folder_lines(u), u
    # RENAME: children follow
    c.ok("RENAME Lists Mail")
    assert os.path.isdir(os.path.join(md, ".Mail.Work"))
    assert not os.path.exists(os.path.join(md, ".Lists.Work"))
    u, _ = c.ok('LIST "" "Mail*"')
    assert {b"Mail.Work", b"Mail.Play"} <= set(folder_lines(u)), u
    u, t = c.cmd("RENAME Nothere Other")
    assert b" NO [NONEXISTENT]" in t, t
    # SUBSCRIBE / LSUB / LIST (SUBSCRIBED)
    c.ok("SUBSCRIBE Mail.Work")
    c.ok("SUBSCRIBE INBOX")
    subs = file_bytes(os.path.join(md, "subscriptions"))
    assert b"\nMail\tWork\n" in subs, subs      # Dovecot 2.3's format
    u, _ = c.ok('LSUB "" "*"')
    assert set(folder_lines(u)) >= {b"Mail.Work", b"INBOX"}, u
    u, _ = c.ok('LIST (SUBSCRIBED) "" "*"')
    lst = folder_lines(u)
    assert b"\\Subscribed" in lst[b"Mail.Work"][0], u
    assert b"Mail.Play" not in lst, u
    c.ok("UNSUBSCRIBE Mail.Work")
    u, _ = c.ok('LSUB "" "Mail*"')
    assert b"Mail.Work" not in folder_lines(u), u
    # LIST-STATUS
    u, _ = c.ok('LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))')
    assert any(re.match(rb'\* STATUS "?INBOX"? \(MESSAGES 1 UNSEEN 1\)',
                        ln) for ln in u), u
    # DELETE; a folder with children keeps its children
    c.ok("DELETE Mail.Play")
    assert not os.path.exists(os.path.join(md, ".Mail.Play"))
    u, t = c.cmd("DELETE Mail.Play")
    assert b" NO [NONEXISTENT]" in t, t
    u, t = c.cmd("DELETE INBOX")
    assert b" NO " in t, t
    c.ok("CREATE Old (USE (\\Archive))")
    u, _ = c.ok('LIST "" "Old" RETURN (SPECIAL-USE)')
    assert b"\\Archive" in folder_lines(u)[b"Old"][0], u
    c.ok("LOGOUT")
    # imaplib sees the same
    m = imap_login(i)
    typ, dat = m.list()
    assert typ == "OK" and any(b'"Mail.Work"' in d or b" Mail.Work" in d
                               for d in dat), dat
    typ, dat = m.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY "
                        "UNSEEN)")
    assert typ == "OK" and b"MESSAGES 1" in dat[0], dat
    m.logout()


@test
def non_ascii_folder_names():
    i = setup(12200)
    md = maildir(i)
    c = raw_login(i)
    c.ok('CREATE "Entw&APw-rfe"')
    assert os.path.isdir(os.path.join(md, ".Entw&APw-rfe", "cur"))
    c.ok('CREATE "Entw&APw-rfe.&AMk-t&AOk-"')
    assert os.path.isdir(os.path.join(md, ".Entw&APw-rfe.&AMk-t&AOk-"))
    u, _ = c.ok('LIST "" "Entw*"')
    assert set(folder_lines(u)) == {b"Entw&APw-rfe",
                                    b"Entw&APw-rfe.&AMk-t&AOk-"}, u
    u, t = c.cmd('CREATE "bad&Jjo"')                # not valid mUTF-7
    assert b" NO " in t or b" BAD " in t, t
    u, _ = c.ok('STATUS "Entw&APw-rfe" (MESSAGES)')
    assert b"MESSAGES 0" in u[0], u
    c.ok("ENABLE UTF8=ACCEPT")
    u, _ = c.ok('LIST "" "Entw*"')
    assert set(folder_lines(u)) == {"Entwürfe".encode(),
                                    "Entwürfe.Été".encode()}, u
    c.ok('CREATE "Größe"'.encode())
    assert os.path.isdir(os.path.join(md, ".Gr&APYA3w-e", "cur"))
    c.ok('SELECT "Entwürfe"'.encode())
    c.ok("LOGOUT")
    # IMAP4rev2 means UTF-8 names too
    c = raw_login(i)
    c.ok("ENABLE IMAP4rev2")
    u, _ = c.ok('LIST "" "Gr*"')
    assert set(folder_lines(u)) == {"Größe".encode()}, u
    c.ok("LOGOUT")
    # and a rev1 client gets mUTF-7 back
    m = imap_login(i)
    typ, dat = m.list('""', '"Gr*"')
    assert typ == "OK" and b"Gr&APYA3w-e" in dat[0], dat
    m.logout()


@test
def traversal_attempts_stay_inside():
    i = setup(12300, users=("alice", "bob"))
    deliver(i, "bob", b"Subject: for bob only\r\n\r\nsecret\r\n")
    c = raw_login(i)            # first login makes the special folders
    c.ok("NOOP")
    before = tree(i.dir)
    md = maildir(i)
    bad = ['"../x"', '"a/b"', '".hidden"', '"~x"', '"x\x01y"', '"x\ty"',
           '"INBOX/../.."', '".."', '"."', '"a..b"', '"../bob"',
           '"/etc"', '"..bob"', '"INBOX.."', '"~bob"',
           '{5+}\r\n../..', '"&AC8-etc"', '"a&AC8-b"']
    for name in bad:
        for cmd in ("CREATE", "SELECT", "DELETE", "STATUS %s (MESSAGES)",
                    "RENAME Drafts %s", "SUBSCRIBE", "APPEND %s {1+}\r\nx"):
            text = (cmd % name) if "%s" in cmd else cmd + " " + name
            u, t = c.cmd(text.encode())
            assert re.match(rb"t\d+ (NO|BAD)", t), (text, u, t)
    u, _ = c.ok('LIST "" "*"')
    assert set(folder_lines(u)) == {b"INBOX"} | {k.encode()
                                                 for k in SPECIAL}, u
    for ref, pat in (('"../"', '"*"'), ('""', '"../*"'), ('"~bob"', '"*"'),
                     ('"/"', '"*"'), ('""', '"/*"'), ('"../bob"', '"*"')):
        u, t = c.cmd("LIST %s %s" % (ref, pat))
        assert not folder_lines(u), (ref, pat, u)
    u, _ = c.ok("SELECT INBOX")
    assert b"* 0 EXISTS\r\n" in u, u
    c.ok("LOGOUT")
    after = tree(i.dir)
    new = {p for p in after - before
           if not p.startswith(("log/", "spool/"))}
    assert all(p.startswith("mail/example.test/alice/") for p in new), new
    dirs = {n for n in os.listdir(md) if n.startswith(".")}
    assert dirs == {"." + k for k in SPECIAL}, dirs


# ---- SELECT, EXAMINE, STATUS ------------------------------------------------

@test
def select_examine_status():
    i = setup(12400)
    for k in range(3):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody %d\r\n" % (k, k))
    c = raw_login(i)
    u, t = c.ok("SELECT INBOX")
    assert b"* 3 EXISTS\r\n" in u, u
    assert any(ln.startswith(b"* FLAGS (") and b"\\Seen" in ln and
               b"\\Deleted" in ln for ln in u), u
    perm = untagged_code(u, "PERMANENTFLAGS")
    assert perm is not None and b"\\*" in perm and b"\\Seen" in perm, u
    uv = untagged_code(u, "UIDVALIDITY")
    assert uv and int(uv) > 0, u
    assert untagged_code(u, "UIDNEXT") == b"4", u
    assert untagged_code(u, "HIGHESTMODSEQ") is None, u
    assert b"* 3 RECENT\r\n" in u, u
    assert code(t, "READ-WRITE") is not None, t
    u, t = c.ok("EXAMINE INBOX")
    assert code(t, "READ-ONLY") is not None, t
    assert b"* 0 RECENT\r\n" in u, u        # the SELECT took them
    u, t = c.cmd("STORE 1 +FLAGS (\\Seen)")
    assert b" NO " in t, t
    u, t = c.ok("SELECT INBOX (CONDSTORE)")
    hms = untagged_code(u, "HIGHESTMODSEQ")
    assert hms is not None and int(hms) >= 1, u
    u, t = c.ok("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN "
                "DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)")
    st = parse(u[0])
    assert st[1] == b"STATUS" and st[2] == b"INBOX", u
    d = dict(zip(st[3][::2], st[3][1::2]))
    files = [os.path.join(maildir(i), sub, n)
             for sub in ("new", "cur")
             for n in os.listdir(os.path.join(maildir(i), sub))]
    size = sum(len(crlf(file_bytes(p))) for p in files)
    assert d[b"MESSAGES"] == b"3" and d[b"UNSEEN"] == b"3", d
    assert d[b"UIDNEXT"] == b"4" and d[b"UIDVALIDITY"] == uv, d
    assert d[b"DELETED"] == b"0" and d[b"SIZE"] == str(size).encode(), d
    assert d[b"APPENDLIMIT"] == b"52428800", d
    assert int(d[b"HIGHESTMODSEQ"]) == int(hms), d
    u, t = c.cmd("STATUS Nothere (MESSAGES)")
    assert b" NO [NONEXISTENT]" in t, t
    u, t = c.cmd("SELECT Nothere")
    assert b" NO [NONEXISTENT]" in t, t
    u, t = c.cmd("FETCH 1 FLAGS")           # the failed SELECT unselected
    assert b" BAD " in t, t
    c.ok("SELECT INBOX")
    c.ok("UNSELECT")
    c.ok("EXAMINE Sent")
    c.ok("CLOSE")
    c.ok("LOGOUT")
    m = imap_login(i)
    typ, dat = m.select("INBOX", readonly=True)
    assert typ == "OK" and dat == [b"3"], dat
    assert m.response("UIDVALIDITY")[1] == [uv]
    m.logout()


# ---- FETCH ------------------------------------------------------------------

def nested_message():
    outer = MIMEMultipart("mixed")
    outer["Subject"] = "nested parts"
    outer["From"] = "Sender Name <sender@remote.test>"
    outer["To"] = "alice@example.test"
    outer["Date"] = "Wed, 14 Jul 2021 02:44:25 +0200"
    outer["Message-ID"] = "<nested.1@remote.test>"
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("plain text line\nsecond line\n", "plain"))
    alt.attach(MIMEText("<p>html</p>\n", "html"))
    inner = MIMEMultipart("mixed")
    t = MIMEText("inner text\n", "plain")
    t["Content-Description"] = "the inner text"
    inner.attach(t)
    inner.attach(MIMEApplication(b"\x00\x01inner binary" * 50,
                                 "octet-stream"))
    outer.attach(alt)
    outer.attach(inner)
    blob = bytes(range(256)) * 20
    outer.attach(MIMEApplication(blob, "pdf", Name="x.pdf"))
    return outer.as_bytes(policy=email.policy.SMTP), blob


def mime_split(entity):
    """(header, body, [sub-entities]) of a CRLF entity."""
    k = entity.find(b"\r\n\r\n")
    header, body = entity[:k + 4], entity[k + 4:]
    msg = email.message_from_bytes(header)
    if msg.get_content_maintype() != "multipart":
        return header, body, []
    delim = b"--" + msg.get_boundary().encode()
    marks = [(0, len(delim))] if body.startswith(delim) else []
    marks += [(m.start(), m.end()) for m in
              re.finditer(rb"\r\n" + re.escape(delim), body)]
    parts = []
    for (s0, e0), (s1, _) in zip(marks, marks[1:]):
        start = body.index(b"\r\n", e0) + 2
        parts.append(body[start:s1])
    return header, body, parts


def section(entity, path):
    """(header, body) of the part at path (a list of numbers)."""
    for n in path:
        entity = mime_split(entity)[2][n - 1]
    h, b, _ = mime_split(entity)
    return h, b


@test
def fetch_byte_exact_and_mime_parts():
    i = setup(12500)
    plain = (b"From: Sender <sender@remote.test>\r\nSubject: byte exact\r\n"
             b"\r\nline one\r\n.leading dot\r\n..two dots\r\n"
             b"\ttab \xc3\xa9 8bit\r\n\r\nlast\r\n")
    deliver(i, "alice", plain)
    nested, blob = nested_message()
    deliver(i, "alice", nested)
    md = maildir(i)
    files = sorted(message_files(md).values(),
                   key=lambda x: int(x[1].split(".")[0]) * 10**7 +
                   int(re.search(r"\.M(\d+)", x[1]).group(1)))
    stored = [crlf(file_bytes(os.path.join(md, s, n))) for s, n in files]
    assert stored[0].endswith(plain) and stored[1].endswith(nested)
    c = raw_login(i)
    c.ok("SELECT INBOX")
    f = fetch(c, "1:2 (BODY.PEEK[] RFC822.SIZE FLAGS)")
    for k in (1, 2):
        assert f[k]["BODY[]"] == stored[k - 1], k
        assert int(f[k]["RFC822.SIZE"]) == len(stored[k - 1])
        assert b"\\Seen" not in f[k]["FLAGS"], f[k]
    f = fetch(c, "2 (BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[]<0.10> "
                 "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] "
                 "BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT)])")[2]
    head, text, parts = mime_split(stored[1])
    assert f["BODY[HEADER]"] == head, f["BODY[HEADER]"]
    assert f["BODY[TEXT]"] == text
    assert f["BODY[]<0>"] == stored[1][:10], f
    want = b"".join(ln + b"\r\n" for ln in head.split(b"\r\n")
                    if ln.startswith((b"From:", b"Subject:"))) + b"\r\n"
    assert f["BODY[HEADER.FIELDS (FROM SUBJECT)]"] == want, f
    notw = b"".join(ln + b"\r\n" for ln in head.split(b"\r\n")[:-2]
                    if not ln.startswith((b"From:", b"Subject:"))) + b"\r\n"
    assert f["BODY[HEADER.FIELDS.NOT (FROM SUBJECT)]"] == notw, f
    # nested parts
    f = fetch(c, "2 (BODY.PEEK[1.2] BODY.PEEK[2.1.MIME] BODY.PEEK[2.1] "
                 "BODY.PEEK[1] BODY.PEEK[3.MIME] BODY.PEEK[1.1]<5.7> "
                 "BODY.PEEK[2.2] BINARY.PEEK[3] BINARY.SIZE[3] "
                 "BODY.PEEK[4])")[2]
    assert f["BODY[1.2]"] == section(stored[1], [1, 2])[1], f["BODY[1.2]"]
    assert f["BODY[2.1.MIME]"] == section(stored[1], [2, 1])[0], f
    assert f["BODY[2.1]"] == b"inner text\r\n", f["BODY[2.1]"]
    assert f["BODY[1]"] == section(stored[1], [1])[1], f
    assert f["BODY[3.MIME]"] == section(stored[1], [3])[0], f
    assert f["BODY[1.1]<5>"] == section(stored[1], [1, 1])[1][5:12], f
    assert f["BODY[2.2]"] == section(stored[1], [2, 2])[1], f
    assert f["BINARY[3]"] == blob, f["BINARY[3]"][:40]
    assert int(f["BINARY.SIZE[3]"]) == len(blob), f["BINARY.SIZE[3]"]
    assert f["BODY[4]"] in (b"", None), f["BODY[4]"]
    # ENVELOPE, BODYSTRUCTURE, INTERNALDATE, UID
    f = fetch(c, "2 (ENVELOPE BODYSTRUCTURE INTERNALDATE UID)")[2]
    env = f["ENVELOPE"]
    assert env[0] == b"Wed, 14 Jul 2021 02:44:25 +0200", env
    assert env[1] == b"nested parts", env
    assert env[2] == [[b"Sender Name", None, b"sender", b"remote.test"]], env
    assert env[3] == env[2] and env[4] == env[2], env
    assert env[5] == [[None, None, b"alice", b"example.test"]], env
    assert env[6] is None and env[7] is None and env[8] is None, env
    assert env[9] == b"<nested.1@remote.test>", env
    bs = f["BODYSTRUCTURE"]
    alt, inner, pdf = bs[0], bs[1], bs[2]
    assert [p.upper() for p in bs[3:4]] == [b"MIXED"], bs
    assert alt[0][0].upper() == b"TEXT" and alt[0][1].upper() == b"PLAIN"
    assert alt[1][1].upper() == b"HTML" and alt[2].upper() == b"ALTERNATIVE"
    body11 = section(stored[1], [1, 1])[1]
    assert int(alt[0][6]) == len(body11), alt[0]
    assert int(alt[0][7]) == body11.count(b"\r\n"), alt[0]
    assert inner[0][4] == b"the inner text", inner[0]
    assert pdf[0].upper() == b"APPLICATION" and pdf[1].upper() == b"PDF"
    assert pdf[5].upper() == b"BASE64", pdf
    assert int(pdf[6]) == len(section(stored[1], [3])[1]), pdf
    assert re.match(rb"\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [-+]\d{4}$",
                    f["INTERNALDATE"]), f["INTERNALDATE"]
    assert int(f["UID"]) == 2
    mtime = os.stat(os.path.join(md, *message_files(md)[
        files[1][1].split(":")[0]])).st_mtime
    got = imaplib.Internaldate2tuple(b'INTERNALDATE "%s"' % f["INTERNALDATE"])
    assert abs(time.mktime(got) - mtime) <= 1, (got, mtime)
    # UID FETCH, the implicit \Seen of BODY[]
    u, _ = c.ok("UID FETCH 2 (BODY[1.2])")
    f = fetched(u)[2]
    assert int(f["UID"]) == 2 and b"\\Seen" in f["FLAGS"], f
    f = fetch(c, "1 (BODY[HEADER])")[1]
    assert b"\\Seen" in f["FLAGS"], f
    f = fetch(c, "1:2 FLAGS")
    assert all(b"\\Seen" in f[k]["FLAGS"] for k in (1, 2)), f
    assert all(n.endswith(":2,S") for n in
               os.listdir(os.path.join(md, "cur"))), os.listdir(md + "/cur")
    u, t = c.cmd("FETCH 3 FLAGS")
    assert b" BAD " in t, t
    u, t = c.ok("UID FETCH 3:* FLAGS")      # 3:* is 2:3 by RFC: UID 2
    assert list(fetched(u)) == [2], u
    u, t = c.cmd("FETCH 1 (BODY[1.2.3.4.5.x])")
    assert b" BAD " in t, t
    c.ok("LOGOUT")


@test
def condstore_modseq_changedsince_unchangedsince():
    i = setup(12600)
    for k in range(3):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody\r\n" % k)
    c = raw_login(i)
    u, _ = c.ok("SELECT INBOX (CONDSTORE)")
    hms = int(untagged_code(u, "HIGHESTMODSEQ"))
    f = fetch(c, "1:3 (MODSEQ)")
    ms = {k: int(f[k]["MODSEQ"][0]) for k in f}
    assert max(ms.values()) <= hms, (ms, hms)
    u, t = c.ok("STORE 2 +FLAGS (\\Flagged)")
    f = fetched(u)[2]
    m2 = int(f["MODSEQ"][0])
    assert m2 > hms and b"\\Flagged" in f["FLAGS"], u
    u, _ = c.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hms)
    assert list(fetched(u)) == [2], u
    u, t = c.ok("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % hms)
    assert code(t, "MODIFIED") == b"2", t
    f = fetch(c, "1:3 (FLAGS MODSEQ)")
    assert b"\\Seen" in f[1]["FLAGS"] and b"\\Seen" in f[3]["FLAGS"], f
    assert b"\\Seen" not in f[2]["FLAGS"], f
    u, t = c.ok("UID STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)")
    assert code(t, "MODIFIED") == b"1", t
    u, _ = c.ok("STATUS INBOX (HIGHESTMODSEQ)")
    now = int(re.search(rb"HIGHESTMODSEQ (\d+)", u[0]).group(1))
    assert now == max(int(v["MODSEQ"][0]) for v in f.values()), (u, f)
    c.ok("LOGOUT")
    # QRESYNC: an expunge made elsewhere comes back as VANISHED (EARLIER)
    c = raw_login(i)
    c.ok("SELECT INBOX")
    u, _ = c.ok("SELECT INBOX")
    uv = int(untagged_code(u, "UIDVALIDITY"))
    c.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    c.ok("LOGOUT")
    c = raw_login(i)
    c.ok("ENABLE QRESYNC")
    u, t = c.ok("SELECT INBOX (QRESYNC (%d %d 1:3))" % (uv, now))
    assert b"* VANISHED (EARLIER) 3\r\n" in u, u
    c.ok("LOGOUT")


# ---- STORE, keywords, EXPUNGE -----------------------------------------------

def keyword_letters(md):
    """{keyword: letter} from dovecot-keywords ('0 name' is 'a')."""
    out = {}
    path = os.path.join(md, "dovecot-keywords")
    if os.path.exists(path):
        for ln in file_bytes(path).decode().splitlines():
            n, _, name = ln.partition(" ")
            out[name] = chr(ord("a") + int(n))
    return out


def flags_of_file(md, base):
    sub, name = message_files(md)[base]
    return name.split(":2,")[1] if ":2," in name else ""


@test
def store_flags_keywords_expunge():
    i = setup(12700)
    for k in range(4):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody\r\n" % k)
    md = maildir(i)
    c = raw_login(i)
    c.ok("SELECT INBOX")
    f = fetch(c, "1:4 (UID FLAGS)")
    u, t = c.ok("STORE 1 +FLAGS (\\Flagged \\Answered)")
    f = fetched(u)
    assert set(f[1]["FLAGS"]) >= {b"\\Flagged", b"\\Answered"}, u
    u, t = c.ok("STORE 1 -FLAGS (\\Answered)")
    assert b"\\Answered" not in fetched(u)[1]["FLAGS"], u
    u, t = c.ok("STORE 2 FLAGS.SILENT (\\Seen \\Draft)")
    assert u == [], u
    u, t = c.ok("STORE 3 +FLAGS (Work $Label1 \\Seen)")
    assert set(fetched(u)[3]["FLAGS"]) >= {b"Work", b"$Label1", b"\\Seen"}
    u, _ = c.ok("NOOP")
    names = {n.split(":")[0]: n for s, n in message_files(md).values()}
    kw = keyword_letters(md)
    assert set(kw) == {"Work", "$Label1"}, kw
    f = fetch(c, "1:4 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    by_subject = {v["BODY[HEADER.FIELDS (SUBJECT)]"].strip(): v["FLAGS"]
                  for v in f.values()}
    assert set(by_subject[b"Subject: m0"]) == {b"\\Flagged", b"\\Recent"}
    files = {}
    for base, n in names.items():
        subj = re.search(rb"Subject: (m\d)", file_bytes(os.path.join(
            md, message_files(md)[base][0], n))).group(1)
        files[subj] = flags_of_file(md, base)
    assert files[b"m0"] == "F", files
    assert files[b"m1"] == "DS", files
    assert files[b"m2"] == "S" + "".join(sorted(kw.values())) or \
        sorted(files[b"m2"]) == sorted("S" + kw["Work"] + kw["$Label1"]), \
        files
    assert files[b"m3"] == "", files
    u, _ = c.ok("SELECT INBOX")
    assert any(b"Work" in ln and b"$Label1" in ln for ln in u
               if ln.startswith(b"* FLAGS")), u
    c.ok("STORE 3 -FLAGS (Work)")
    assert kw["Work"] not in flags_of_file(
        md, [b for b in names if files_subject(md, b) == b"m2"][0])
    # EXPUNGE removes only \Deleted; UID EXPUNGE only the UIDs named
    c.ok("STORE 2:3 +FLAGS.SILENT (\\Deleted)")
    u, t = c.ok("UID EXPUNGE 3")
    assert u == [b"* 3 EXPUNGE\r\n"], u
    u, _ = c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("STORE 1 -FLAGS.SILENT (\\Deleted)")
    u, t = c.ok("EXPUNGE")
    assert u == [b"* 2 EXPUNGE\r\n"], u
    assert count_files(i, "alice") == 2
    f = fetch(c, "1:* (UID)")
    assert [int(v["UID"]) for v in f.values()] == [1, 4], f
    c.ok("LOGOUT")
    m = imap_login(i)
    m.select("INBOX")
    typ, dat = m.store("2", "+FLAGS", "(\\Deleted)")
    assert typ == "OK"
    typ, dat = m.expunge()
    assert dat == [b"2"], dat
    m.close()
    m.logout()
    assert count_files(i, "alice") == 1


def files_subject(md, base):
    sub, n = message_files(md)[base]
    m = re.search(rb"Subject: (\S+)", file_bytes(os.path.join(md, sub, n)))
    return m.group(1)


# ---- COPY, MOVE, APPEND -------------------------------------------------------

@test
def copy_move_append_uidplus():
    i = setup(12800)
    for k in range(3):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody\r\n" % k)
    md = maildir(i)
    c = raw_login(i)
    u, _ = c.ok("SELECT Archive")
    uv_archive = untagged_code(u, "UIDVALIDITY")
    u, _ = c.ok("SELECT INBOX")
    uv = untagged_code(u, "UIDVALIDITY")
    c.ok("STORE 1 +FLAGS.SILENT (\\Flagged Work)")
    u, t = c.ok("COPY 1:2 Archive")
    assert code(t, "COPYUID") == uv_archive + b" 1:2 1:2", t
    u, t = c.cmd("COPY 1 Nothere")
    assert b" NO [TRYCREATE]" in t, t
    u, t = c.ok("UID MOVE 2:3 Archive")
    cu = [x for x in u if b"COPYUID" in x] or [t]
    assert code(cu[0], "COPYUID") == uv_archive + b" 2:3 3:4", (u, t)
    assert b"* 2 EXPUNGE\r\n" in u and b"* 3 EXPUNGE\r\n" in u, u
    assert count_files(i, "alice") == 1
    arch = os.path.join(md, ".Archive")
    assert sum(len(os.listdir(os.path.join(arch, d)))
               for d in ("cur", "new")) == 4
    u, _ = c.ok("EXAMINE Archive")
    f = fetch(c, "1:* (UID FLAGS)")
    assert [int(v["UID"]) for v in f.values()] == [1, 2, 3, 4], f
    assert set(f[1]["FLAGS"]) >= {b"\\Flagged", b"Work"}, f
    # APPEND keeps flags and the date; the file name says the flags
    msg = b"Subject: appended\r\nFrom: me@example.test\r\n\r\nhello\r\n"
    t = c.append(b"INBOX", msg,
                 b'(\\Seen \\Flagged) "14-Jul-2021 02:44:25 +0200" ')
    au = code(t, "APPENDUID")
    assert au == uv + b" 4", t
    files = message_files(md)
    new = [n for s, n in files.values() if s == "cur" and
           file_bytes(os.path.join(md, "cur", n)) == msg.replace(b"\r\n",
                                                                 b"\n")
           or file_bytes(os.path.join(md, s, n)) == msg]
    assert len(new) == 1 and new[0].endswith(":2,FS"), files
    assert re.search(r",S=%d" % len(msg.replace(b"\r\n", b"\n")), new[0]) \
        or re.search(r",S=%d" % len(msg), new[0]), new
    assert os.stat(os.path.join(md, "cur", new[0])).st_mtime == 1626223465
    c.ok("SELECT INBOX")
    f = fetch(c, "UID FETCH 4 (INTERNALDATE BODY.PEEK[] FLAGS)")
    v = list(f.values())[0]
    assert v["BODY[]"] == msg and set(v["FLAGS"]) >= {b"\\Seen",
                                                     b"\\Flagged"}, v
    assert v["INTERNALDATE"] in (b"14-Jul-2021 02:44:25 +0200",
                                 b"14-Jul-2021 00:44:25 +0000"), v
    t = c.append(b"Sent", b"Subject: x\r\n\r\ny\r\n")
    assert code(t, "APPENDUID") is not None, t
    c.send(b"nf APPEND Nothere {14}\r\n")
    t = c.line()                    # NO at once, or after the literal
    if t.startswith(b"+"):
        c.send(b"Subject: x\r\n\r\n\r\n")
        t = c.until_tagged(b"nf")[1]
    assert t.startswith(b"nf NO [TRYCREATE]"), t
    # MULTIAPPEND and LITERAL+
    c.send(b"m1 APPEND Drafts (\\Draft) {12+}\r\nSubject: a\r\n"
           b" {12+}\r\nSubject: b\r\n\r\n")
    u, t = c.until_tagged(b"m1")
    assert code(t, "APPENDUID") is not None and b":" in code(
        t, "APPENDUID").split()[1], t
    c.ok("LOGOUT")
    m = imap_login(i)
    typ, dat = m.append("INBOX", "(\\Answered)",
                        imaplib.Time2Internaldate(1600000000),
                        b"Subject: by imaplib\r\n\r\nx\r\n")
    assert typ == "OK" and b"APPENDUID" in dat[0], dat
    m.select("INBOX")
    typ, dat = m.uid("COPY", "5", "Trash")
    assert typ == "OK", dat
    typ, dat = m.status("Trash", "(MESSAGES)")
    assert dat == [b'Trash (MESSAGES 1)'], dat
    m.logout()


@test
def append_40mb_and_over_the_limit():
    i = setup(12900)
    c = raw_login(i)
    line = b"x" * 76 + b"\r\n"
    big = b"Subject: big\r\n\r\n" + line * (40 * 1024 * 1024 // len(line))
    t = c.append(b"INBOX", big)
    assert code(t, "APPENDUID") is not None, t
    c.ok("SELECT INBOX")
    f = fetch(c, "1 (RFC822.SIZE BODY.PEEK[]<41000000.100>)")[1]
    assert int(f["RFC822.SIZE"]) == len(big), f["RFC822.SIZE"]
    assert f["BODY[]<41000000>"] == big[41000000:41000100]
    # over message_size_limit: refused before the literal is sent
    c.send(b"big APPEND INBOX {60000000}\r\n")
    u, t = c.until_tagged(b"big")
    assert not [x for x in u if x.startswith(b"+")], u
    assert t.startswith(b"big NO [TOOBIG]"), t
    u, t = c.ok("NOOP")
    c.ok("LOGOUT")
    md = maildir(i)
    assert len(os.listdir(os.path.join(md, "tmp"))) == 0


@test
def multiappend_all_or_nothing():
    """RFC 3502: if one message of a MULTIAPPEND cannot be appended, none
    is; here the second is over message_size_limit."""
    i = setup(15200)
    c = raw_login(i)
    c.send(b"mb APPEND INBOX {12+}\r\nSubject: a\r\n {60000000}\r\n")
    u, t = c.until_tagged(b"mb")
    assert not [x for x in u if x.startswith(b"+")], u
    assert t.startswith(b"mb NO [TOOBIG]"), t
    c.ok("NOOP")
    u, _ = c.ok("STATUS INBOX (MESSAGES)")
    assert b"MESSAGES 0)" in u[0], u
    c.ok("LOGOUT")


# ---- UIDs survive sessions, restarts and kill -9 ------------------------------

def uid_map(c, folder="INBOX"):
    """(UIDVALIDITY, UIDNEXT, {uid: subject}) of a folder."""
    u, _ = c.ok("EXAMINE %s" % folder)
    uv = int(untagged_code(u, "UIDVALIDITY"))
    un = int(untagged_code(u, "UIDNEXT"))
    out = {}
    if b"* 0 EXISTS\r\n" not in u:
        f = fetch(c, "1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for v in f.values():
            uid = int(v["UID"])
            assert uid not in out, ("duplicate UID", uid)
            out[uid] = v["BODY[HEADER.FIELDS (SUBJECT)]"].strip()
    return uv, un, out


@test
def uids_stable_across_sessions_and_restart():
    i = setup(13000)
    for k in range(3):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody\r\n" % k)
    c = raw_login(i)
    first = uid_map(c)
    assert sorted(first[2]) == [1, 2, 3] and first[1] == 4, first
    c.ok("LOGOUT")
    c = raw_login(i)
    assert uid_map(c) == first
    c.ok("SELECT INBOX")
    c.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    c.ok("LOGOUT")
    i.stop()
    wait_for(lambda: not pid_alive(i.master_pid()) if i.master_pid()
             else True, what="master stopped")
    i.start()
    deliver(i, "alice", b"Subject: m3\r\n\r\nafter restart\r\n")
    c = raw_login(i)
    uv, un, m = uid_map(c)
    assert uv == first[0], (uv, first)
    assert m == {1: b"Subject: m0", 3: b"Subject: m2", 4: b"Subject: m3"}, m
    assert un == 5, un
    c.ok("LOGOUT")
    # the cache is a cache: removed, the UIDs come from the log
    md = maildir(i)
    for n in os.listdir(md):
        if n.startswith("postern-index"):
            os.unlink(os.path.join(md, n))
    c = raw_login(i)
    assert uid_map(c)[:3] == (uv, un, m)
    c.ok("LOGOUT")


def session_pids(i):
    daemons = i.service_pids("imap-mail")
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(st[1]) in daemons and st[0] != "Z":
            out.append(int(p))
    return out


@test
def kill_9_during_append_keeps_uids():
    i = setup(13100)
    deliver(i, "alice", b"Subject: first\r\n\r\nbody\r\n")
    c = raw_login(i)
    u, _ = c.ok("SELECT INBOX")
    uv0 = int(untagged_code(u, "UIDVALIDITY"))
    c.ok("LOGOUT")
    announced = {}
    for rnd in range(3):
        c = raw_login(i)
        pids = wait_for(lambda: session_pids(i), what="session process")
        assert len(pids) == 1, pids
        done = []

        def loop():
            try:
                k = 0
                while True:
                    subj = b"r%d-%d" % (rnd, k)
                    t = c.append(b"INBOX", b"Subject: " + subj +
                                 b"\r\n\r\n" + b"y" * (k * 997 % 20000) +
                                 b"\r\n")
                    uid = int(code(t, "APPENDUID").split()[1])
                    assert uid not in announced, ("UID reused", uid)
                    announced[uid] = b"Subject: " + subj
                    k += 1
            except (EOFError, OSError):
                done.append(1)
        th = threading.Thread(target=loop)
        th.start()
        time.sleep(0.3 + 0.25 * rnd)
        os.kill(pids[0], 9)
        th.join(30)
        assert done, "the APPEND loop did not end"
        c.close()
    c = raw_login(i)
    uv, un, m = uid_map(c)
    assert uv == uv0, (uv, uv0)
    for uid, subj in announced.items():
        assert m.get(uid) == subj, (uid, subj, m.get(uid))
    assert un > max(m), (un, max(m))
    assert len(announced) >= 3, announced
    # and a kill during EXPUNGE loses no UID either
    c.ok("SELECT INBOX")
    c.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    pid = session_pids(i)[0]
    c.send(b"x EXPUNGE\r\n")
    os.kill(pid, 9)
    c.close()
    c = raw_login(i)
    uv2, un2, m2 = uid_map(c)
    assert uv2 == uv0 and un2 >= un, (uv2, un2, un)
    assert all(m[u] == s for u, s in m2.items()), (m, m2)
    c.ok("LOGOUT")


# ---- sessions see each other --------------------------------------------------

def wait_line(c, pattern, what):
    """Read responses until one matches pattern; the lines read."""
    seen = []
    while True:
        ln = c.line()
        seen.append(ln)
        if re.search(pattern, ln):
            return seen
        assert len(seen) < 50, (what, seen)


@test
def two_sessions_idle_and_expunge():
    i = setup(13200)
    deliver(i, "alice", b"Subject: m0\r\n\r\nbody\r\n")
    a = raw_login(i)
    b = raw_login(i)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    a.send(b"idle IDLE\r\n")
    assert a.line().startswith(b"+ "), "no continuation for IDLE"
    t0 = time.monotonic()
    deliver(i, "alice", b"Subject: m1\r\n\r\nbody\r\n")
    wait_line(a, rb"^\* 2 EXISTS\r\n", "EXISTS in IDLE")
    assert time.monotonic() - t0 < 10
    u_store, _ = b.ok("STORE 1 +FLAGS (\\Flagged)")
    lines = wait_line(a, rb"^\* 1 FETCH ", "FETCH FLAGS in IDLE")
    assert b"\\Flagged" in lines[-1], lines
    a.send(b"DONE\r\n")
    u, t = a.until_tagged(b"idle")
    assert t.startswith(b"idle OK"), t
    # EXISTS seen by the other session before its next command completes
    u, _ = b.ok("NOOP")
    assert b"* 2 EXISTS\r\n" in u_store + u, (u_store, u)
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    u, _ = b.ok("EXPUNGE")
    assert u == [b"* 1 EXPUNGE\r\n"], u
    u, _ = a.ok("NOOP")
    assert b"* 1 EXPUNGE\r\n" in u, u
    f = fetch(a, "1:* (UID)")
    assert [int(v["UID"]) for v in f.values()] == [2], f
    # FETCH does not announce an EXPUNGE; UID FETCH may
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    u, t = a.cmd("FETCH 1 FLAGS")
    assert not [x for x in u if b"EXPUNGE" in x], u
    u, _ = a.ok("NOOP")
    assert b"* 1 EXPUNGE\r\n" in u, u
    a.ok("LOGOUT")
    b.ok("LOGOUT")


@test
def pop3_sees_imap_and_imap_sees_pop3():
    import poplib
    i = setup(13300)
    for k in range(3):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody\r\n" % k)
    c = raw_login(i)
    c.ok("SELECT INBOX")
    c.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")   # set, not expunged
    c.ok("CLOSE")                                # CLOSE expunges it
    c.ok("LOGOUT")
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    p.user("alice@example.test")
    p.pass_(PW)
    assert p.stat()[0] == 2
    p.retr(1)
    p.quit()
    c = raw_login(i)
    c.ok("SELECT INBOX")
    f = fetch(c, "1:* (FLAGS UID)")
    assert b"\\Seen" in f[1]["FLAGS"], f
    assert b"\\Seen" not in f[2]["FLAGS"], f
    c.ok("STORE 2 +FLAGS.SILENT (\\Answered)")
    c.ok("LOGOUT")
    p = poplib.POP3("127.0.0.1", i.port_base + 10, timeout=30)
    p.user("alice@example.test")
    p.pass_(PW)
    p.dele(2)
    p.quit()
    c = raw_login(i)
    u, _ = c.ok("SELECT INBOX")
    assert b"* 1 EXISTS\r\n" in u, u
    c.ok("LOGOUT")


# ---- Dovecot as a cross-reader ------------------------------------------------

class Dovecot:
    """Dovecot's imap pre-authenticated on stdin/stdout on the Maildir md
    (which must belong to nobody)."""

    def __init__(self, md):
        if not os.path.exists(DOVECOT_IMAP):
            skip("Dovecot's imap is not installed (dovecot-imapd)")
        if not IS_ROOT:
            skip("not root (Dovecot runs as nobody)")
        self.tmp = tempfile.mkdtemp(prefix="postern-dovecot.")
        os.chmod(self.tmp, 0o755)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)
        conf = os.path.join(self.tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""base_dir = %(t)s/run
state_dir = %(t)s/state
log_path = %(t)s/dovecot.log
ssl = no
protocols = imap
first_valid_uid = 1
mail_location = maildir:%(md)s
namespace inbox {
  inbox = yes
  separator = .
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%(t)s
}
passdb {
  driver = static
  args = nopassword=y
}
""" % {"t": self.tmp, "md": md})
        self.proc = subprocess.Popen(
            [DOVECOT_IMAP, "-c", conf, "-o", "mail_uid=nobody",
             "-o", "mail_gid=nogroup"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"USER": "nobody", "HOME": self.tmp,
                 "PATH": "/usr/bin:/bin"})
        self.c = Raw(proc=self.proc)
        assert self.c.greeting.startswith(b"* PREAUTH"), self.c.greeting

    def close(self):
        try:
            self.c.cmd("LOGOUT")
        except (EOFError, OSError):
            pass
        self.proc.stdin.close()
        self.proc.wait(30)
        shutil.rmtree(self.tmp, ignore_errors=True)


def flags_by_subject(c, folder="INBOX"):
    u, _ = c.ok("EXAMINE %s" % folder)
    if b"* 0 EXISTS\r\n" in u:
        return {}
    f = fetch(c, "1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return {v["BODY[HEADER.FIELDS (SUBJECT)]"].strip():
            set(v["FLAGS"]) - {b"\\Recent"} for v in f.values()}


def copy_maildir_for_nobody(src):
    tmp = tempfile.mkdtemp(prefix="postern-md.")
    os.chmod(tmp, 0o755)
    dst = os.path.join(tmp, "Maildir")
    shutil.copytree(src, dst, symlinks=True)
    nobody = pwd.getpwnam("nobody")
    chown_tree(dst, nobody.pw_uid, nobody.pw_gid)
    return tmp, dst


def replace_maildir(i, user, src):
    """Put the contents of src in place of user's Maildir, with the
    owner and mode the Maildir had."""
    md = maildir(i, user)
    st = os.stat(md)
    for n in os.listdir(md):
        p = os.path.join(md, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)
    for n in os.listdir(src):
        s, d = os.path.join(src, n), os.path.join(md, n)
        if os.path.isdir(s):
            shutil.copytree(s, d, symlinks=True)
        else:
            shutil.copy2(s, d)
    chown_tree(md, st.st_uid, st.st_gid)


@test
def dovecot_reads_postern_flags_and_postern_reads_dovecots():
    i = setup(13400, users=("alice", "bob"))
    for k in range(4):
        deliver(i, "alice", b"Subject: m%d\r\n\r\nbody %d\r\n" % (k, k))
    deliver(i, "bob", b"Subject: bob\r\n\r\nx\r\n")   # makes bob's Maildir
    c = raw_login(i)
    c.ok("SELECT INBOX")
    c.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged Work)")
    c.ok("STORE 3 +FLAGS.SILENT (\\Answered \\Draft $Label1 Work)")
    c.ok("CREATE Lists.Work")
    c.ok('CREATE "Entw&APw-rfe"')
    c.ok('COPY 2 "Entw&APw-rfe"')
    c.ok("SUBSCRIBE Lists.Work")
    ours = flags_by_subject(c)
    ours_sub = flags_by_subject(c, '"Entw&APw-rfe"')
    u, _ = c.ok('LIST "" "*"')
    our_folders = set(folder_lines(u))
    c.ok("LOGOUT")
    tmp, copy = copy_maildir_for_nobody(maildir(i))
    try:
        d = Dovecot(copy)
        u, _ = d.c.ok('LIST "" "*"')
        assert set(folder_lines(u)) == our_folders, (u, our_folders)
        u, _ = d.c.ok('LSUB "" "*"')
        assert b"Lists.Work" in folder_lines(u), u
        theirs = flags_by_subject(d.c)
        assert theirs == ours, (theirs, ours)
        assert flags_by_subject(d.c, '"Entw&APw-rfe"') == ours_sub
        # Dovecot changes flags, keywords and expunges in the copy
        d.c.ok("SELECT INBOX")
        d.c.ok("STORE 1 +FLAGS.SILENT (\\Flagged $Important)")
        d.c.ok("STORE 2 -FLAGS.SILENT (\\Flagged Work)")
        d.c.ok("STORE 3 FLAGS.SILENT (\\Seen)")
        d.c.ok("STORE 4 +FLAGS.SILENT (\\Deleted)")
        d.c.ok("EXPUNGE")
        d.c.ok("CREATE Dove.Made")
        theirs = flags_by_subject(d.c)
        d.close()
        replace_maildir(i, "bob", copy)
        c = raw_login(i, "bob")
        assert flags_by_subject(c) == theirs, (flags_by_subject(c), theirs)
        u, _ = c.ok('LIST "" "Dove*"')
        assert b"Dove.Made" in folder_lines(u), u
        c.ok("LOGOUT")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def dovecot_written_maildir_keeps_uids():
    i = setup(13500)
    deliver(i, "alice", b"Subject: makes the Maildir\r\n\r\nx\r\n")
    tmp = tempfile.mkdtemp(prefix="postern-dmd.")
    os.chmod(tmp, 0o755)
    md = os.path.join(tmp, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub))
    nobody = pwd.getpwnam("nobody")
    chown_tree(tmp, nobody.pw_uid, nobody.pw_gid)
    try:
        d = Dovecot(md)
        for k in range(6):
            t = d.c.append(b"INBOX", b"Subject: d%d\r\n\r\nbody %d\r\n" %
                           (k, k), b"(\\Seen $Work) " if k % 2 else b"")
            assert b" OK " in t, t
        d.c.ok("CREATE Sub")
        d.c.append(b"Sub", b"Subject: s0\r\n\r\nx\r\n")
        d.c.ok("SELECT INBOX")
        d.c.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        d.c.ok("EXPUNGE")
        theirs = uid_map(d.c)
        theirs_sub = uid_map(d.c, "Sub")
        their_flags = flags_by_subject(d.c)
        d.close()
        assert sorted(theirs[2]) == [1, 3, 5, 6], theirs
        replace_maildir(i, "alice", md)
        c = raw_login(i)
        assert uid_map(c) == theirs, (uid_map(c), theirs)
        assert uid_map(c, "Sub") == theirs_sub
        assert flags_by_subject(c) == their_flags
        # and new mail continues after Dovecot's UIDs
        c.append(b"INBOX", b"Subject: after\r\n\r\nx\r\n")
        uv, un, m = uid_map(c)
        assert m[theirs[1]] == b"Subject: after", (m, theirs)
        c.ok("LOGOUT")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- STARTTLS injection, imaps, users apart -----------------------------------

@test
def starttls_injection_discarded_and_imaps():
    i = setup(15000)
    deliver(i, "alice", b"Subject: m0\r\n\r\nbody\r\n")
    s = socket.create_connection(("127.0.0.1", i.port_base + 43), 30)
    r = s.makefile("rb")
    assert r.readline().startswith(b"* OK")
    s.sendall(b"a STARTTLS\r\nb LOGIN alice@example.test \"" + PW.encode() +
              b"\"\r\nc SELECT INBOX\r\n")
    ln = r.readline()
    assert ln.startswith(b"a OK"), ln
    t = ctx().wrap_socket(s)
    t.sendall(b"d CAPABILITY\r\n")
    tr = t.makefile("rb")
    lines = []
    while True:
        ln = tr.readline()
        assert ln, lines
        lines.append(ln)
        if ln.startswith(b"d "):
            break
    assert not [x for x in lines if x.startswith((b"b ", b"c "))], lines
    assert b"STARTTLS" not in lines[0] and b"AUTH=PLAIN" in lines[0], lines
    t.sendall(b"e SELECT INBOX\r\n")
    ln = tr.readline()
    assert ln.startswith(b"e BAD") or ln.startswith(b"e NO"), ln
    t.sendall(b'f LOGIN alice@example.test "' + PW.encode() + b'"\r\n'
              b"g SELECT INBOX\r\n")
    got = b""
    while not re.search(rb"^g OK", got, re.M):
        ln = tr.readline()
        assert ln, got
        got += ln
    assert b"f OK" in got and b"* 1 EXISTS" in got, got
    t.close()
    # implicit TLS
    m = imaplib.IMAP4_SSL("127.0.0.1", i.port_base + 93, ssl_context=ctx(),
                          timeout=30)
    m.login("alice@example.test", PW)
    typ, dat = m.select("INBOX")
    assert dat == [b"1"], dat
    m.logout()
    assert re.search(r"session: user=alice@example.test .*tls=1", i.log())


@test
def users_cannot_reach_each_others_mail():
    i = setup(15100, users=("alice", "bob"))
    deliver(i, "bob", b"Subject: bob secret\r\n\r\nsecret\r\n")
    deliver(i, "alice", b"Subject: alice\r\n\r\nmine\r\n")
    c = raw_login(i, "alice")
    for name in ('"../bob"', '"../../example.test/bob"', '"~bob"',
                 '"..\\/bob"', '"%s"' % maildir(i, "bob"),
                 '"INBOX/../../bob"', '".bob"', '"bob"'):
        u, t = c.cmd("SELECT %s" % name)
        assert re.match(rb"t\d+ (NO|BAD)", t), (name, u, t)
        u, t = c.cmd("STATUS %s (MESSAGES)" % name)
        assert re.match(rb"t\d+ (NO|BAD)", t), (name, u, t)
    u, _ = c.ok('LIST "" "*"')
    assert not [x for x in u if b"bob" in x], u
    u, _ = c.ok("SELECT INBOX")
    assert b"* 1 EXISTS\r\n" in u, u
    f = fetch(c, "1 BODY.PEEK[]")
    assert b"bob secret" not in f[1]["BODY[]"]
    c.ok("LOGOUT")
    assert re.search(r"session: user=alice@example.test .*landlock=",
                     i.log()), i.log()[-2000:]
    if IS_ROOT:
        pw = pwd.getpwnam("postern-mail")
        c = raw_login(i, "bob")
        pids = wait_for(lambda: session_pids(i), what="session")
        for p in pids:
            with open("/proc/%d/status" % p) as f:
                uid = [ln for ln in f if ln.startswith("Uid:")][0].split()
            assert int(uid[1]) == pw.pw_uid, uid
        c.ok("LOGOUT")



@test
def fetchmail_imap_mode_retrieves_and_flags():
    """fetchmail's IMAP mode: every message fetched; with "keep" they stay
    and are marked \\Seen; without, they are expunged."""
    if shutil.which("fetchmail") is None:
        skip("fetchmail not installed")
    i = setup(15300)
    deliver(i, "alice", b"Subject: one\r\n\r\nfirst body\r\n")
    deliver(i, "alice", b"Subject: two\r\n\r\nsecond body\r\n")
    out = tempfile.mkdtemp(prefix="fetchmail.")
    os.chmod(out, 0o777)

    def poll(keep):
        rc = os.path.join(out, "rc")
        with open(rc, "w") as f:
            f.write("poll 127.0.0.1 service %d protocol imap auth password\n"
                    "  user 'alice@example.test' password '%s' is root "
                    "here\n  mda 'tee -a %s/mbox' sslproto '' no "
                    "sslcertck fetchall %s\n" %
                    (i.port_base + 43, PW, out, "keep" if keep else
                     "nokeep"))
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=out, FETCHMAILHOME=out)
        r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v"],
                           capture_output=True, text=True, timeout=60,
                           env=env)
        assert r.returncode == 0, r.stdout + r.stderr

    poll(keep=True)
    got = file_bytes(os.path.join(out, "mbox"))
    assert b"first body" in got and b"second body" in got, got
    c = raw_login(i)
    c.ok("SELECT INBOX")
    f = fetch(c, "1:* (FLAGS)")
    assert len(f) == 2 and all(b"\\Seen" in v["FLAGS"]
                               for v in f.values()), f
    c.ok("LOGOUT")
    poll(keep=False)
    c = raw_login(i)
    u, _ = c.ok("SELECT INBOX")
    assert b"* 0 EXISTS\r\n" in u, u
    c.ok("LOGOUT")
    shutil.rmtree(out, ignore_errors=True)

if __name__ == "__main__":
    run()
