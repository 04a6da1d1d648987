#!/usr/bin/env python3
"""test_imap_folders_dovecot - postern's folders against Dovecot's.

postern-imap keeps a Maildir's folders as Dovecot 2.3 lays them out
(imapd/imap_folders.h: ".A.B" directories in modified UTF-7, the
"subscriptions" file in version 2), so a Maildir moves between the two.
Dovecot's imap binary runs a pre-authenticated session on stdin/stdout over
a temporary Maildir; postern's side is the unit test program
build/tests/test_imap_folders, which makes folders with postern's functions
(POSTERN_TEST_FOLDERS_MAKE=DIR) or prints postern's listing of a Maildir
(POSTERN_TEST_FOLDERS_LIST=DIR).

- postern makes folders and subscriptions: Dovecot lists what postern lists;
- Dovecot makes them: postern lists what Dovecot lists, and the layout is
  the one tests/unit/test_imap_folders.c's test_dovecot_maildir copies.

Special use is left out (Dovecot reports it only for configured names).
No network, no ports.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, IS_ROOT, TOP, run, skip, test  # noqa

DOVECOT_IMAP = "/usr/lib/dovecot/imap"
SPECIAL = {"\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive", "\\All",
           "\\Flagged"}


def unit_program():
    build = os.environ.get("POSTERN_BUILD")
    if not build:
        asan = os.path.basename(os.path.normpath(BIN)) == "bin-asan"
        build = os.path.join(TOP, "build-asan" if asan else "build")
    path = os.path.join(build, "tests", "test_imap_folders")
    if not os.access(path, os.X_OK):
        raise AssertionError("%s not built (make)" % path)
    return path


def mutf7_decode(s):
    out, i = [], 0
    while i < len(s):
        if s[i] != "&":
            out.append(s[i])
            i += 1
            continue
        j = s.index("-", i)
        if j == i + 1:
            out.append("&")
        else:
            b64 = s[i + 1:j].replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = j + 1
    return "".join(out)


class Maildir:
    """A temporary Maildir and a Dovecot configuration for it."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="test_imap_folders_dovecot.")
        os.chmod(self.top, 0o777)
        self.path = os.path.join(self.top, "mail")
        for sub in ("", "cur", "new", "tmp"):
            os.mkdir(os.path.join(self.path, sub))
        self.conf = os.path.join(self.top, "dovecot.conf")
        if IS_ROOT:
            uid, gid = "nobody", "nogroup"
        else:
            uid, gid = str(os.getuid()), str(os.getgid())
        self.ids = (uid, gid)
        with open(self.conf, "w") as f:
            f.write("mail_location = maildir:%s\n"
                    "namespace inbox {\n  inbox = yes\n  separator = .\n}\n"
                    "userdb {\n  driver = static\n"
                    "  args = uid=%s gid=%s home=%s\n}\n"
                    "passdb {\n  driver = static\n  args = nopassword=y\n}\n"
                    "log_path = %s/dovecot.log\nssl = no\n"
                    % (self.path, uid, gid, self.top, self.top))

    def open_up(self):
        """Let Dovecot's user (nobody when root) write everywhere."""
        for d, dirs, files in os.walk(self.path):
            os.chmod(d, 0o777)
            for f in files:
                os.chmod(os.path.join(d, f), 0o666)

    def dovecot(self, *commands, list_index=True):
        """Run tagged commands in one session; the untagged lines and the
        tagged replies, or AssertionError if one is not OK."""
        self.open_up()
        script = "".join("t%d %s\r\n" % (i, c) for i, c in enumerate(commands))
        script += "z LOGOUT\r\n"
        args = [DOVECOT_IMAP, "-c", self.conf, "-o",
                "mailbox_list_index=%s" % ("yes" if list_index else "no")]
        if IS_ROOT:
            args += ["-o", "mail_uid=nobody", "-o", "mail_gid=nogroup"]
        env = {"USER": self.ids[0] if IS_ROOT else os.environ.get("USER", ""),
               "HOME": self.top, "PATH": "/usr/bin:/bin"}
        p = subprocess.run(args, input=script.encode(), env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        lines = p.stdout.decode("utf-8", "replace").split("\r\n")
        for i in range(len(commands)):
            tagged = [x for x in lines if x.startswith("t%d " % i)]
            assert tagged and tagged[0].startswith("t%d OK" % i), \
                "Dovecot: %r -> %r (%s)" % (commands[i], tagged,
                                            p.stderr.decode()[-500:])
        return lines

    def dovecot_list(self, command, list_index=False):
        """name (UTF-8) -> set of attributes, from LIST/LSUB replies (by
        default from the file system, without Dovecot's list index)."""
        got = {}
        for line in self.dovecot(command, list_index=list_index):
            m = re.match(r'^\* (?:LIST|LSUB) \(([^)]*)\) "\." (.*)$', line)
            if not m:
                continue
            name = m.group(2)
            if name.startswith('"'):
                name = re.sub(r'\\(.)', r'\1', name[1:-1])
            got[mutf7_decode(name)] = set(m.group(1).split())
        return got

    def postern(self, make=False):
        """postern's listing: name -> set of attributes."""
        env = dict(os.environ)
        env.pop("POSTERN_TEST_FOLDERS_MAKE", None)
        env["POSTERN_TEST_FOLDERS_LIST"] = self.path
        if make:
            env["POSTERN_TEST_FOLDERS_MAKE"] = self.path
        p = subprocess.run([unit_program()], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode("utf-8")
        # (the program's other tests are its own business)
        assert re.search(r"^PASS \S*:test_env_maildir$", out, re.M), out
        got = {}
        for line in out.splitlines():
            if line.startswith("LISTED "):
                fields = line[len("LISTED "):].split(" \\")
                got[fields[0]] = {"\\" + a for a in fields[1:]}
        return got

    def close(self):
        shutil.rmtree(self.top, ignore_errors=True)


def compare(md):
    """postern's listing against Dovecot's: the folders with their
    children and subscribed attributes (Dovecot's LIST-EXTENDED), then the
    subscribed names (LIST (SUBSCRIBED), LSUB)."""
    ours = md.postern()
    # the folders that exist, as Dovecot finds them in the file system
    listed = md.dovecot_list('LIST "" "*" RETURN (SUBSCRIBED CHILDREN)')
    ours_listed = {n: a - SPECIAL for n, a in ours.items()
                   if "\\NonExistent" not in a}
    assert ours_listed == listed, "postern %r\nDovecot %r" % (ours_listed,
                                                              listed)
    # with its list index (rebuilt: a fresh one), Dovecot also lists the
    # parents that have children but no directory; postern also lists
    # names only subscribed to and their parents (\NonExistent without
    # existing children)
    for f in os.listdir(md.path):
        if f.startswith("dovecot.list.index"):
            os.unlink(os.path.join(md.path, f))
    listed = md.dovecot_list('LIST "" "*" RETURN (SUBSCRIBED CHILDREN)',
                             list_index=True)
    ours_listed = {n: a - SPECIAL for n, a in ours.items()
                   if not ("\\NonExistent" in a and
                           "\\HasNoChildren" in a)}
    assert ours_listed == listed, "postern %r\nDovecot %r" % (ours_listed,
                                                              listed)
    subs = md.dovecot_list('LIST (SUBSCRIBED) "" "*"')
    ours_subs = {n: a & {"\\Subscribed", "\\NonExistent"}
                 for n, a in ours.items() if "\\Subscribed" in a}
    assert ours_subs == subs, "postern %r\nDovecot %r" % (ours_subs, subs)
    lsub = md.dovecot_list('LSUB "" "*"')
    assert set(lsub) == set(ours_subs), (lsub, ours_subs)
    return ours


def need_dovecot():
    if not os.access(DOVECOT_IMAP, os.X_OK):
        skip("no %s (package dovecot-imapd)" % DOVECOT_IMAP)


@test
def postern_folders_listed_by_dovecot():
    need_dovecot()
    md = Maildir()
    try:
        ours = md.postern(make=True)
        # what the unit test's POSTERN_TEST_FOLDERS_MAKE made
        assert ours["Entwürfe"] == {"\\HasNoChildren", "\\Subscribed"}
        assert ours["A"] == {"\\NonExistent", "\\HasChildren"}
        assert "Sent" in ours and "Gone" not in ours
        assert os.path.isdir(os.path.join(md.path, ".Entw&APw-rfe", "cur"))
        compare(md)
        # Dovecot sees the same folders through its own list index too
        names = set(md.dovecot_list('LIST "" "*"', list_index=True))
        assert names == {n for n, a in ours.items()
                         if not ("\\NonExistent" in a and
                                 "\\HasNoChildren" in a)}, names
        # and postern reads back what Dovecot changed there
        md.dovecot('CREATE "Lists.Neu&AN8-"', "CREATE Lists.Work.Sub",
                   "SUBSCRIBE Lists.Work.Sub", "DELETE Lists.Work.Sub",
                   'UNSUBSCRIBE "Entw&APw-rfe"', "DELETE New.kid",
                   "RENAME A.B.C A.D")
        ours = compare(md)
        assert ours["Lists.Neuß"] == {"\\HasNoChildren"}, ours
        assert ours["Entwürfe"] == {"\\HasNoChildren"}, ours
    finally:
        md.close()


@test
def dovecot_folders_listed_by_postern():
    need_dovecot()
    md = Maildir()
    try:
        md.dovecot('CREATE "Entw&APw-rfe"', "CREATE Lists.Work",
                   "SUBSCRIBE Lists.Work", 'SUBSCRIBE "Entw&APw-rfe"',
                   "CREATE Trash.Old", "CREATE Trash", "DELETE Trash")
        # the layout tests/unit/test_imap_folders.c copies
        dirs = sorted(d for d in os.listdir(md.path) if d.startswith("."))
        assert dirs == [".Entw&APw-rfe", ".Lists.Work", ".Trash.Old"], dirs
        with open(os.path.join(md.path, "subscriptions"), "rb") as f:
            assert f.read() == b"V\t2\n\nLists\tWork\nEntw&APw-rfe\n"
        ours = compare(md)
        assert ours == {
            "INBOX": {"\\HasNoChildren"},
            "Entwürfe": {"\\HasNoChildren", "\\Subscribed"},
            "Lists": {"\\NonExistent", "\\HasChildren"},
            "Lists.Work": {"\\HasNoChildren", "\\Subscribed"},
            "Trash": {"\\NonExistent", "\\HasChildren"},
            "Trash.Old": {"\\HasNoChildren"},
        }, ours
        # more of Dovecot's names: '&', spaces, nesting, INBOX's children,
        # a name only subscribed to, a renamed hierarchy
        md.dovecot('CREATE "a&-b"', 'CREATE "Z y.x"', "CREATE INBOX.x",
                   'CREATE "&BB8EPgRHBEIEMA-.&2D3eAA-"', "CREATE Nowhere",
                   "SUBSCRIBE Nowhere", "DELETE Nowhere",
                   "SUBSCRIBE INBOX", "CREATE R", "CREATE R.kid.k2",
                   "RENAME R S")
        ours = compare(md)
        for name in ("a&b", "Z y.x", "INBOX.x", "Почта.😀", "S.kid.k2"):
            assert name in ours, (name, ours)
        assert ours["INBOX"] == {"\\HasChildren", "\\Subscribed"}, ours
        assert ours["Nowhere"] == {"\\NonExistent", "\\HasNoChildren",
                                   "\\Subscribed"}, ours
        assert "R" not in ours and "R.kid" not in ours, ours
    finally:
        md.close()


if __name__ == "__main__":
    run()
