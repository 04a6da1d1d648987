#!/usr/bin/python3
"""proccpu.py ROOTPID

CPU time used by the process tree under ROOTPID (and ROOTPID itself): for
every live process its own user+system time plus that of its reaped
children (cutime+cstime), which counts each exited session process once.
Prints "cpu_s=TOTAL" then "NAME=SECONDS" per program, largest first.
"""
import os, sys

root = int(sys.argv[1])
hz = os.sysconf("SC_CLK_TCK")
info = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % d) as f:
            st = f.read()
        name = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        ppid = int(fields[1])
        own = int(fields[11]) + int(fields[12])
        reaped = int(fields[13]) + int(fields[14])
    except (OSError, ValueError):
        continue
    info[int(d)] = (ppid, name, own, reaped)

children = {}
for pid, (ppid, _, _, _) in info.items():
    children.setdefault(ppid, []).append(pid)
pending, seen = [root], set()
per = {}
total = 0
while pending:
    p = pending.pop()
    if p in seen or p not in info:
        continue
    seen.add(p)
    pending.extend(children.get(p, []))
    _, name, own, reaped = info[p]
    per[name] = per.get(name, 0) + own
    # reaped children are mostly the parent's own kind (sessions, workers)
    if reaped:
        per[name + "(reaped children)"] = per.get(name + "(reaped children)", 0) + reaped
    total += own + reaped
print("cpu_s=%.2f" % (total / hz))
for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
    if v:
        print("%s=%.2f" % (k, v / hz))
