#!/usr/bin/env python3
"""bluegreen.py: a blue/green release against Marathon's own rolling upgrade.

    python3 tests/bench/bluegreen.py BUILD_DIR     (run.sh runs it after bench.py)

One marathon-sim (--task-launch-ms / --health-ms BENCH_BG_TASK_MS, default 300),
one app of 6 instances with a command health check, released from v1 to v2
BENCH_RUNS times (median) in two ways by `pacer sync`:

  blue/green  the app labelled "pacer.strategy": "blue-green" (step 50%,
              drain-seconds BENCH_BG_DRAIN, default 0): /bench/web-blue and
              /bench/web-green, released in steps by pacer
  rolling     the same app without the label: Marathon's own rolling upgrade
              under its default upgradeStrategy (minimumHealthCapacity 1,
              maximumOverCapacity 1), one PUT
  rolling-lean  the same with the upgradeStrategy teams set to save capacity
              (minimumHealthCapacity 0.5, maximumOverCapacity 0)

While each release runs, a sampler reads GET /v2/apps every 50 ms and sums the
healthy tasks of the app (across both colours): the minimum and maximum are
reported with the release time (the wall time of the pacer sync that made
it). Results go to BUILD_DIR/bench/bluegreen.json.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TARGET = 6
LEAN = {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}
VARIANTS = (("blue/green", "/bench/web", 10080, True, None),
            ("rolling", "/bench/roll", 10090, False, None),
            ("rolling-lean", "/bench/lean", 10095, False, LEAN))


def app(app_id, k, port, bluegreen, drain, strategy=None):
    labels = {}
    if bluegreen:
        labels = {"pacer.strategy": "blue-green", "HAPROXY_DEPLOYMENT_GROUP": "bench-web",
                  "HAPROXY_DEPLOYMENT_ALT_PORT": str(port + 1),
                  "pacer.bluegreen.drain-seconds": str(drain)}
    return {"id": app_id, "cmd": "sleep 1000", "cpus": 0.1, "mem": 32, "instances": TARGET,
            "env": {"K": k}, "portDefinitions": [{"port": port, "name": "http"}],
            "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"},
                              "gracePeriodSeconds": 300, "intervalSeconds": 1,
                              "maxConsecutiveFailures": 0}],
            "labels": labels, **({"upgradeStrategy": strategy} if strategy else {})}


class Sampler(threading.Thread):
    def __init__(self, url, prefix):
        super().__init__(daemon=True)
        self.url, self.prefix = url, prefix
        self.stop, self.samples = False, []

    def run(self):
        while not self.stop:
            with urllib.request.urlopen(self.url + "/v2/apps", timeout=5) as r:
                apps = json.load(r)["apps"]
            self.samples.append(sum(a.get("tasksHealthy", 0) for a in apps
                                    if a["id"] == self.prefix or
                                    a["id"].startswith(self.prefix + "-")))
            time.sleep(0.05)


def release(pacer, env, work, url, app_id, port, bluegreen, drain, strategy, k_from, k_to):
    """One release of app_id from k_from (applied first) to k_to: (seconds, min, max)."""
    src = os.path.join(work, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    args = [pacer, "sync", "--source", src, "--state-dir", os.path.join(work, "state"),
            "--backup-dir", os.path.join(work, "backups")]

    def put(k):
        with open(os.path.join(src, "app.json"), "w") as f:
            json.dump(app(app_id, k, port, bluegreen, drain, strategy), f)

    put(k_from)
    subprocess.run(args, env=env, check=True, capture_output=True)
    put(k_to)
    s = Sampler(url, app_id)
    s.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    time.sleep(0.2)
    s.stop = True
    s.join()
    if p.returncode != 0:
        sys.exit("bluegreen.py: pacer sync exited %d:\n%s" % (p.returncode, p.stderr))
    return took, min(s.samples), max(s.samples), len(s.samples)


def main():
    build = os.path.abspath(sys.argv[1])
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    task_ms = int(os.environ.get("BENCH_BG_TASK_MS", "300"))
    drain = int(os.environ.get("BENCH_BG_DRAIN", "0"))
    work = tempfile.mkdtemp(prefix="pacer-bench-bg-")
    sim = subprocess.Popen([os.path.join(build, "marathon-sim"), "--listen", "127.0.0.1:0",
                            "--task-launch-ms", str(task_ms), "--health-ms", str(task_ms)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = sim.stdout.readline()
        url = next(w for w in line.split() if w.startswith("http://"))
        env = dict(os.environ, PACER_MARATHON_URL=url, PACER_LOG_LEVEL="warn")
        pacer = os.path.join(build, "pacer")
        res = {"task_ms": task_ms, "drain_s": drain, "instances": TARGET, "runs": runs}
        for name, app_id, port, bg, strategy in VARIANTS:
            ms = []
            for i in range(runs):
                ms.append(release(pacer, env, work, url, app_id, port, bg, drain, strategy,
                                  "v%d" % (2 * i), "v%d" % (2 * i + 1)))
            res[name] = {"seconds": statistics.median(m[0] for m in ms),
                         "min_healthy": min(m[1] for m in ms),
                         "max_healthy": max(m[2] for m in ms),
                         "samples": sum(m[3] for m in ms), "runs": [m[0] for m in ms]}
    finally:
        sim.terminate()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)
    out = os.path.join(build, "bench")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "bluegreen.json"), "w") as f:
        json.dump(res, f, indent=2)
    print("release of a %d-instance app on marathon-sim (tasks start and pass health checks in "
          "%d ms each), median of %d, sampled every 50 ms:" % (TARGET, task_ms, runs))
    print("%-12s %10s %12s %12s" % ("", "release", "min healthy", "max healthy"))
    for name, *_ in VARIANTS:
        r = res[name]
        print("%-12s %8.2f s %12d %12d" % (name, r["seconds"], r["min_healthy"],
                                           r["max_healthy"]))
    print("(blue/green: step 50%%, drain-seconds %d; rolling: Marathon's default "
          "upgradeStrategy, minimumHealthCapacity 1, maximumOverCapacity 1; rolling-lean: "
          "minimumHealthCapacity 0.5, maximumOverCapacity 0)" % drain)


if __name__ == "__main__":
    main()
