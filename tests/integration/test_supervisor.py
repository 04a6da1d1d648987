"""postern start/status/stop/reload and the master's supervision."""
import os
import pwd
import signal
import subprocess
import tempfile
import time

from harness import (BIN, IS_ROOT, POSTERN, Instance, pid_alive, proc_uid,
                     run, skip, test, wait_for)


def fake_libexec(auth_script):
    """A libexec directory whose postern-auth is a shell script, with the
    real master beside it, to drive the master's failure handling."""
    d = tempfile.mkdtemp(prefix="postern-fake.")
    os.chmod(d, 0o755)
    os.symlink(os.path.join(BIN, "postern-master"),
               os.path.join(d, "postern-master"))
    p = os.path.join(d, "postern-auth")
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + auth_script)
    os.chmod(p, 0o755)
    return d


@test
def start_status_stop_leaves_nothing():
    i = Instance(22000)
    r = i.ok("start")
    assert "started" in r.stdout
    r = i.ok("status")
    assert "master %d running" % i.master_pid() in r.stdout, r.stdout
    assert i.service_pids("auth"), r.stdout
    assert os.path.exists(i.path("spool", "private", "auth"))
    i.remember_pids()
    pids = set(i.pids)
    r = i.ok("stop")
    for p in pids:
        assert not pid_alive(p), "pid %d survived stop" % p
    r = i.run_postern("status")
    assert r.returncode == 3, r


@test
def second_master_is_refused():
    i = Instance(22100)
    i.start()
    r = i.run_postern("start")
    assert r.returncode == 1 and "already running" in r.stderr, r.stderr
    direct = subprocess.run([os.path.join(BIN, "postern-master"), "-c",
                             i.conf, "-f"], capture_output=True, text=True,
                            timeout=30)
    assert direct.returncode == 1 and "already running" in direct.stderr
    assert i.run_postern("status").returncode == 0


@test
def killed_child_is_restarted_and_logged():
    i = Instance(22200)
    i.start()
    old = i.service_pids("auth")[0]
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: [p for p in i.service_pids("auth", "ready")
                            if p != old], timeout=10, what="a new auth")
    i.remember_pids()
    assert new[0] != old
    a = i.auth()
    assert a.lookup("nobody@example.test") == "NOUSER"
    log = i.log()
    assert "pid %d exited with signal 9" % old in log, log


@test
def stop_while_child_busy_and_master_killed_cleanup():
    i = Instance(22300)
    i.start()
    a = i.auth()
    assert a.lookup("x@example.test") == "NOUSER"
    i.remember_pids()
    r = i.ok("stop")
    for p in i.pids:
        assert not pid_alive(p), "pid %d survived" % p


@test
def foreground_ctrl_c_stops_everything():
    i = Instance(22400)
    p = subprocess.Popen([POSTERN, "-c", i.conf, "start", "-f"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=i.env, start_new_session=True)
    i.pids.add(p.pid)
    wait_for(lambda: i.service_pids("auth", "ready"), what="auth ready")
    i.remember_pids()
    pids = set(i.pids)
    os.killpg(p.pid, signal.SIGINT)    # what a terminal's ^C does
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert b"stopped" in err, err
    for q in pids:
        assert not pid_alive(q), "pid %d survived ^C" % q


@test
def reload_keeps_established_connections():
    i = Instance(22500)
    i.add_user("alice@example.test", "pw1")
    i.start()
    old = i.service_pids("auth")[0]
    a = i.auth()
    assert a.lookup("alice@example.test") == "OK\talice@example.test"
    i.ok("reload")
    wait_for(lambda: [p for p in i.service_pids("auth", "ready") if p != old],
             what="the new auth generation")
    i.remember_pids()
    # the connection made before the reload still works
    assert a.lookup("alice@example.test") == "OK\talice@example.test"
    # and a new one reaches the new process
    b = i.auth()
    assert b.lookup("alice@example.test") == "OK\talice@example.test"
    a.close()
    wait_for(lambda: not pid_alive(old), timeout=15,
             what="the retired auth to exit")


@test
def reload_with_broken_config_keeps_running():
    i = Instance(22600)
    i.start()
    old = i.service_pids("auth")[0]
    with open(i.conf, "a") as f:
        f.write("retry_min = nonsense\n")
    r = i.run_postern("reload")
    assert r.returncode == 1, "reload accepted a broken file"
    os.kill(i.master_pid(), signal.SIGHUP)     # behind postern's back
    wait_for(lambda: "reload refused" in i.log(), what="reload refused")
    assert i.service_pids("auth") == [old]
    # status and stop still work with the broken file
    r = i.run_postern("status")
    assert r.returncode == 0 and "warning" in r.stderr, r
    i.ok("stop")


@test
def user_added_while_running_is_seen_without_reload():
    i = Instance(22700)
    i.start()
    a = i.auth()
    assert a.lookup("late@example.test") == "NOUSER"
    i.add_user("late@example.test", "pw")
    assert a.lookup("late@example.test") == "OK\tlate@example.test"


@test
def start_failure_is_reported_with_the_reason():
    d = fake_libexec('echo "postern-auth[$$]: fatal: cannot open the '
                     'user map" >&2\nexit 111\n')
    i = Instance(22800, env={"POSTERN_LIBEXEC": d})
    r = i.run_postern("start")
    assert r.returncode == 1, r
    assert "auth" in r.stderr and "111" in r.stderr, r.stderr
    assert "cannot open the user map" in r.stderr, r.stderr
    assert i.run_postern("status").returncode == 3


@test
def failing_service_is_throttled():
    # ready, then fails before serving anything: throttled, not respawned
    d = fake_libexec("echo ready >&3\nsleep 0.5\nexit 1\n")
    i = Instance(22900, env={"POSTERN_LIBEXEC": d})
    i.start()
    wait_for(lambda: "throttled for 60 s" in i.log(), timeout=10,
             what="throttle")
    time.sleep(2)
    starts = i.log().count("service auth: started pid")
    assert starts == 1, i.log()
    assert i.run_postern("status").returncode == 0, "master died"


@test
def restart_is_not_sooner_than_one_second():
    # serves, then exits cleanly at once: restarted, at most once a second
    d = fake_libexec("echo ready >&3\necho busy >&3\nexit 0\n")
    i = Instance(23000, env={"POSTERN_LIBEXEC": d})
    i.start()
    time.sleep(3.5)
    starts = i.log().count("service auth: started pid")
    assert 2 <= starts <= 5, "%d starts in 3.5 s" % starts
    assert "throttled" not in i.log()


@test
def children_run_under_their_accounts():
    if not IS_ROOT:
        skip("not root")
    i = Instance(23100)
    i.start()
    pid = i.service_pids("auth")[0]
    uid = pwd.getpwnam("postern-auth").pw_uid
    assert proc_uid(pid) == [uid] * 4, proc_uid(pid)
    assert proc_uid(i.master_pid())[0] == 0
    st = os.stat(i.path("spool", "private", "auth"))
    import grp
    assert st.st_gid == grp.getgrnam("postern-authc").gr_gid
    assert st.st_mode & 0o007 == 0


run()
