#!/usr/bin/python3
"""Times jobs through a running subsetd server against a reference command,
in turn: POST /v1/jobs, then the job's event stream (GET
/v1/jobs/{id}/events, as `subsetd submit --wait` and the Python client
follow a job) until its final status event; then the command. While a job runs, the peak RSS (VmHWM) of every
`subsetd worker` process is sampled. Prints medians, the paired ratio and
the largest worker peak.

Usage: server_jobs.py URL BODY.json ROUNDS "REFERENCE COMMAND" [BINARY]"""
import json, os, subprocess, sys, threading, time, urllib.request

url, body, rounds, ref = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3]), sys.argv[4]
binary = os.path.realpath(sys.argv[5]) if len(sys.argv) > 5 else None


def worker_peaks(stop, peaks):
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
                if len(cmd) < 2 or cmd[1] != b"worker" or (binary and os.path.realpath("/proc/%s/exe" % pid) != binary):
                    continue
                for line in open("/proc/%s/status" % pid):
                    if line.startswith("VmHWM:"):
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]) / 1024)
            except OSError:
                pass
        time.sleep(0.01)


FINAL = ("successful", "failed", "dismissed")


def job():
    t0 = time.perf_counter()
    req = urllib.request.Request(url + "/v1/jobs", data=body.encode(), headers={"Content-Type": "application/json"})
    j = json.load(urllib.request.urlopen(req))
    status, message = j["status"], j.get("message", "")
    if status not in FINAL:
        stream = urllib.request.urlopen(urllib.request.Request(url + "/v1/jobs/%s/events" % j["id"], headers={"Accept": "text/event-stream"}))
        event = None
        for line in stream:
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "status":
                d = json.loads(line[6:])
                status, message = d["status"], d.get("message", "")
                if status in FINAL:
                    break
        stream.close()
    if status != "successful":
        sys.exit("job %s: %s %s" % (j["id"], status, message))
    return time.perf_counter() - t0, j["id"]


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


ts, tr, peaks, last = [], [], {}, None
stop = threading.Event()
sampler = threading.Thread(target=worker_peaks, args=(stop, peaks), daemon=True)
sampler.start()
for r in range(rounds + 1):  # round 0 warms up
    t, last = job()
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", ref], check=True, stdout=subprocess.DEVNULL)
    if r:
        ts.append(t)
        tr.append(time.perf_counter() - t0)
stop.set()
sampler.join()
ratios = [a / b for a, b in zip(ts, tr)]
print("server %.3f s, reference %.3f s (medians of %d), ratio %.3f (paired median; min %.3f max %.3f); worker peak RSS %.1f MiB (largest of %d workers)" % (
    median(ts), median(tr), rounds, median(ratios), min(ratios), max(ratios), max(peaks.values() or [0]), len(peaks)))
print("last job:", last)
