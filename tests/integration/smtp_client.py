"""smtp_client - what the smtpd tests share: an instance with a user, a
raw line-level SMTP client (optionally from a chosen source address), and
ways to find a stored message.
"""
import os
import re
import socket
import ssl

from harness import Instance, wait_for

DOMAIN = "example.test"
USER = "demo@" + DOMAIN
PASSWORD = "correct horse"


def instance(base, **settings):
    i = Instance(base)
    i.ok("config", "set", "auth_failure_delay=0")
    for k, v in settings.items():
        i.ok("config", "set", "%s=%s" % (k, v))
    i.add_user(USER, PASSWORD)
    i.add_user("other@" + DOMAIN, "pw2")
    i.start()
    return i


def smtp_port(i):
    return i.port_base + 25


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Raw:
    """A line-level SMTP client on a plain socket."""

    def __init__(self, port, implicit_tls=False, greet=True, source=None,
                 host="127.0.0.1", timeout=30):
        self.s = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        if implicit_tls:
            self.s = tls_context().wrap_socket(self.s)
        self.buf = b""
        if greet:
            code, text = self.reply()
            assert code == 220, (code, text)
            self.greeting = text

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode()

    def reply(self):
        """(code, text) of one possibly multi-line reply."""
        lines = []
        while True:
            l = self.line()
            lines.append(l[4:])
            if len(l) < 4 or l[3] != "-":
                return int(l[:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        assert code == 220, (code, text)
        assert self.buf == b""
        self.s = tls_context().wrap_socket(self.s)

    def rest(self):
        """Everything until the server closes."""
        out = self.buf
        self.buf = b""
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    break
                out += d
        except (ConnectionResetError, ssl.SSLError):
            pass
        return out.decode(errors="replace")

    def close(self):
        self.s.close()


def stored(i, needle, timeout=15):
    """The first file under spool/ or mail/ holding needle (bytes)."""
    def look():
        for top in (i.path("spool"), i.path("mail")):
            for d, _, files in os.walk(top):
                for f in files:
                    try:
                        with open(os.path.join(d, f), "rb") as fh:
                            data = fh.read()
                    except OSError:
                        continue
                    if needle in data:
                        return data
        return None
    return wait_for(look, timeout=timeout, what="a stored message with %r"
                    % needle[:40])


def count_stored(i, needle):
    n = 0
    for top in (i.path("spool"), i.path("mail")):
        for d, _, files in os.walk(top):
            for f in files:
                try:
                    with open(os.path.join(d, f), "rb") as fh:
                        if needle in fh.read():
                            n += 1
                except OSError:
                    pass
    return n


def queued_id(text):
    m = re.search(r"queued as (\S+)", text)
    assert m, text
    return m.group(1)


def envelope(r, rcpts, sender="sender@remote.example"):
    assert r.cmd("EHLO client.example")[0] == 250
    assert r.cmd("MAIL FROM:<%s>" % sender)[0] == 250
    for rc in rcpts:
        code, text = r.cmd("RCPT TO:<%s>" % rc)
        assert code == 250, (rc, code, text)
