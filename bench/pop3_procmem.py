#!/usr/bin/python3
"""pop3_procmem.py ROOTPID

Memory of a server instance: ROOTPID (its master) and every process
descended from it. Prints one line

  procs=N rss_kib=R pss_kib=P by_program=NAME:procs/pss_kib,...

RSS is VmRSS from /proc/PID/status, PSS is Pss from /proc/PID/smaps_rollup
(pages shared by several processes divided among them, the honest sum for
forked processes); programs are the base names of the executables,
largest PSS first.
"""
import os, sys

root = int(sys.argv[1])
children = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % d) as f:
            st = f.read()
        ppid = int(st[st.rindex(")") + 2:].split()[1])
    except (OSError, ValueError):
        continue
    children.setdefault(ppid, []).append(int(d))

pending, seen = [root], set()
while pending:
    p = pending.pop()
    if p in seen:
        continue
    seen.add(p)
    pending.extend(children.get(p, []))

procs = rss = pss = 0
by = {}
for p in seen:
    try:
        exe = os.path.basename(os.readlink("/proc/%d/exe" % p))
        if exe.endswith(" (deleted)"):   # the binary was replaced meanwhile
            exe = exe[:-len(" (deleted)")]
        r = s = 0
        with open("/proc/%d/status" % p) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    r = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % p) as f:
            for line in f:
                if line.startswith("Pss:"):
                    s = int(line.split()[1])
    except OSError:
        continue
    procs += 1
    rss += r
    pss += s
    n, ps = by.get(exe, (0, 0))
    by[exe] = (n + 1, ps + s)
print("procs=%d rss_kib=%d pss_kib=%d by_program=%s" % (
    procs, rss, pss,
    ",".join("%s:%d/%d" % (k, v[0], v[1])
             for k, v in sorted(by.items(), key=lambda kv: -kv[1][1]))))
