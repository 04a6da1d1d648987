#!/usr/bin/python3
"""procmem.py ROOTPID NAME...

Memory of the processes descended from ROOTPID (and ROOTPID itself) whose
executable's base name is one of NAME (or all of them with NAME "*").
Prints: "procs=N rss_kib=R pss_kib=P" where RSS is VmRSS from
/proc/PID/status and PSS is Pss from /proc/PID/smaps_rollup (shared pages
divided among the processes that share them; the honest figure for
forked processes).
"""
import os, sys

root, names = int(sys.argv[1]), set(sys.argv[2:])
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

pending, seen = [root], []
while pending:
    p = pending.pop()
    if p in seen:
        continue
    seen.append(p)
    pending.extend(children.get(p, []))

procs = rss = pss = 0
for p in seen:
    try:
        exe = os.path.basename(os.readlink("/proc/%d/exe" % p))
    except OSError:
        continue
    if "*" not in names and exe not in names:
        continue
    r = s = 0
    try:
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
    procs += 1; rss += r; pss += s
print("procs=%d rss_kib=%d pss_kib=%d" % (procs, rss, pss))
