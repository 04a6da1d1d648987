"""postern init, config, user and alias: the instance on disk."""
import os
import stat
import subprocess

from harness import Instance, IS_ROOT, run, test


@test
def init_creates_instance():
    i = Instance(21000)
    for p in ("etc/postern.conf", "etc/tls.crt", "etc/tls.key", "etc/passwd",
              "etc/passwd.cdb", "etc/users.cdb", "etc/aliases",
              "etc/aliases.cdb", "spool", "mail", "log"):
        assert os.path.exists(i.path(p)), p
    assert stat.S_IMODE(os.stat(i.path("etc/tls.key")).st_mode) == 0o600
    subj = subprocess.run(["openssl", "x509", "-noout", "-subject", "-in",
                           i.path("etc/tls.crt")], capture_output=True,
                          text=True)
    assert "mail.example.test" in subj.stdout, subj.stdout
    r = i.ok("config", "check")
    assert "ok" in r.stdout


@test
def init_uses_port_base_and_absolute_paths():
    i = Instance(21100)
    get = lambda k: i.ok("config", "get", k).stdout.strip()
    assert get("listen_smtp") == "127.0.0.1:21125"
    assert get("listen_submission") == "127.0.0.1:21187"
    assert get("listen_smtps") == "127.0.0.1:21165"
    assert get("listen_pop3") == "127.0.0.1:21110"
    assert get("listen_pop3s") == "127.0.0.1:21195"
    assert get("listen_imap") == "127.0.0.1:21143"
    assert get("listen_imaps") == "127.0.0.1:21193"
    assert get("queue_dir") == i.path("spool")
    assert get("mail_root") == i.path("mail")
    assert get("local_domains") == "example.test"
    assert get("hostname") == "mail.example.test"
    assert get("retry_min") == "1m"            # a default, 60s
    assert get("queue_lifetime") == "5d"
    assert get("message_size_limit") == "52428800"


@test
def init_twice_is_refused():
    i = Instance(21200)
    r = i.run_postern("init", i.dir, conf=False)
    assert r.returncode == 1
    assert "already" in r.stderr


@test
def config_check_reports_file_line():
    i = Instance(21300)
    with open(i.conf) as f:
        n = len(f.read().splitlines())
    with open(i.conf, "a") as f:
        f.write("bogus_key = 1\nretry_min = 5x\nno equals sign here\n")
    r = i.run_postern("config", "check")
    assert r.returncode == 1
    assert "%s:%d:" % (i.conf, n + 1) in r.stderr and "bogus_key" in r.stderr, r.stderr
    assert "%s:%d:" % (i.conf, n + 2) in r.stderr, r.stderr
    assert "%s:%d:" % (i.conf, n + 3) in r.stderr, r.stderr
    # a broken configuration is never started
    r = i.run_postern("start")
    assert r.returncode == 1


@test
def config_set_keeps_comments_and_refuses_bad_values():
    i = Instance(21400)
    with open(i.conf, "a") as f:
        f.write("# keep me\nretry_max = 2h\n")
    i.ok("config", "set", "retry_max=3h")
    text = open(i.conf).read()
    assert "# keep me" in text and "retry_max = 3h" in text
    assert "retry_max = 2h" not in text
    assert i.ok("config", "get", "retry_max").stdout.strip() == "3h"
    before = open(i.conf).read()
    r = i.run_postern("config", "set", "retry_max=soon")
    assert r.returncode == 1
    assert open(i.conf).read() == before
    r = i.run_postern("config", "set", "no_such_key=1")
    assert r.returncode == 1
    r = i.run_postern("config", "get", "no_such_key")
    assert r.returncode != 0


@test
def user_add_list_passwd_del():
    i = Instance(21500)
    i.add_user("Alice@Example.test", "s3cret pass")
    i.add_user("bob@example.test", "hunter2")
    users = i.ok("user", "list").stdout.split()
    assert users == ["alice@example.test", "bob@example.test"], users
    md = i.path("mail", "example.test", "alice")
    for sub in ("cur", "new", "tmp"):
        assert os.path.isdir(os.path.join(md, sub)), sub
    text = open(i.path("etc", "passwd")).read()
    assert "alice@example.test:{CRYPT}$y$" in text, text
    for root, _, files in os.walk(i.path("etc")):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                assert b"s3cret pass" not in f.read(), fn
    r = i.run_postern("user", "add", "alice@example.test", input="x\n")
    assert r.returncode == 1, "duplicate user accepted"
    r = i.run_postern("user", "add", "carol@elsewhere.test", input="x\n")
    assert r.returncode == 1 and "local_domains" in r.stderr, r.stderr
    r = i.run_postern("user", "add", "../etc@example.test", input="x\n")
    assert r.returncode == 1
    r = i.run_postern("user", "add", "dave@example.test", input="\n")
    assert r.returncode == 1, "empty password accepted"
    old = open(i.path("etc", "passwd")).read()
    i.ok("user", "passwd", "bob@example.test", input="newpass\n")
    assert open(i.path("etc", "passwd")).read() != old
    i.ok("user", "del", "bob@example.test")
    assert i.ok("user", "list").stdout.split() == ["alice@example.test"]
    r = i.run_postern("user", "del", "bob@example.test")
    assert r.returncode == 1


@test
def alias_add_list_del():
    i = Instance(21600)
    i.add_user("alice@example.test", "pw")
    i.ok("alias", "add", "postmaster@example.test", "alice@example.test")
    i.ok("alias", "add", "team@example.test",
         "alice@example.test,someone@remote.test")
    out = i.ok("alias", "list").stdout
    assert "postmaster@example.test: alice@example.test" in out, out
    assert "team@example.test: alice@example.test, someone@remote.test" in out, out
    r = i.run_postern("alias", "add", "x@remote.test", "alice@example.test")
    assert r.returncode == 1, "alias outside local_domains accepted"
    r = i.run_postern("alias", "add", "y@example.test", "not an address")
    assert r.returncode == 1
    i.ok("alias", "del", "team@example.test")
    assert "team@" not in i.ok("alias", "list").stdout


@test
def maps_are_cdb_with_the_right_keys():
    i = Instance(21700)
    i.add_user("alice@example.test", "pw")
    i.ok("alias", "add", "info@example.test", "alice@example.test")
    dump = subprocess.run(["cdb", "-d", i.path("etc", "users.cdb")],
                          capture_output=True)
    assert b"alice@example.test" in dump.stdout, dump
    dump = subprocess.run(["cdb", "-d", i.path("etc", "aliases.cdb")],
                          capture_output=True)
    assert b"info@example.test" in dump.stdout, dump


@test
def root_init_creates_accounts_and_ownership():
    if not IS_ROOT:
        from harness import skip
        skip("not root")
    import grp
    import pwd
    i = Instance(21800)
    for a in ("postern-smtpd", "postern-queue", "postern-mail",
              "postern-remote", "postern-auth", "postern-login"):
        pwd.getpwnam(a)
    members = grp.getgrnam("postern-authc").gr_mem
    assert "postern-smtpd" in members and "postern-login" in members
    st = os.stat(i.path("etc", "passwd.cdb"))
    assert st.st_gid == grp.getgrnam("postern-auth").gr_gid
    assert stat.S_IMODE(st.st_mode) & 0o007 == 0, "hashes world-readable"
    assert os.stat(i.path("mail")).st_uid == pwd.getpwnam("postern-mail").pw_uid


run()
