#!/usr/bin/python3
"""Times commands in turn (A B C ... A B C ...), after one warm-up round,
and prints each one's median wall time and peak RSS, and the median of the
paired ratios against the last command (the reference).

Usage: compare.py ROUNDS NAME=COMMAND ... REFNAME=COMMAND
A COMMAND is run with bash -c; its peak RSS is that of the largest process
it waited for (getrusage of the children), so a shell loop of ncks calls
reports one ncks."""
import os, resource, subprocess, sys, time


def run(cmd):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp("bash", ["bash", "-c", cmd])
    _, status, ru = os.wait4(pid, 0)
    t = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed (%d): %s" % (os.waitstatus_to_exitcode(status), cmd))
    return t, ru.ru_maxrss / 1024


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main():
    rounds = int(sys.argv[1])
    cmds = [a.split("=", 1) for a in sys.argv[2:]]
    times = {n: [] for n, _ in cmds}
    rss = {n: [] for n, _ in cmds}
    for r in range(rounds + 1):
        for name, cmd in cmds:
            t, m = run(cmd)
            if r:
                times[name].append(t)
                rss[name].append(m)
    ref = cmds[-1][0]
    width = max(len(n) for n, _ in cmds)
    for name, _ in cmds:
        ratios = [a / b for a, b in zip(times[name], times[ref])]
        line = "%-*s  wall median %7.3f s (min %.3f max %.3f)  peak RSS %6.1f MiB" % (
            width, name, median(times[name]), min(times[name]), max(times[name]), max(rss[name]))
        if name != ref:
            line += "  ratio to %s %.3f (paired median; min %.3f max %.3f)" % (ref, median(ratios), min(ratios), max(ratios))
        print(line, flush=True)


main()
