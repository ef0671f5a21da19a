#!/usr/bin/env python3
"""bench.py: pacer's performance benchmark (issue 5). Run it through run.sh.

    tests/bench/run.sh BUILD_DIR        (what `make bench` does)

For each N it generates N realistic apps (gen.py) into a directory and into a
marathon-sim (--load), then measures, each figure the median of BENCH_RUNS
runs, with bench-measure (wall, user+sys CPU, peak RSS via wait4):
  floor      bench-floor: read+parse the files, one GET /v2/apps, parse it
  no-op      pacer sync with everything already in sync (after one warm-up run
             with the same state dir, which is reported as "first"), and the same
             run with PACER_NO_CACHE=1 (no run-to-run cache: every file parsed,
             every app normalised)
  git        the same files as one commit in a repository: clone-and-sync
             (fresh state dir) and fetch-and-sync after a commit that rewrote
             one file's whitespace (a new blob, no deployment)
  K changed  at the smallest N: K apps get a new env value, deployments take
             D s (sim --task-launch-ms D*1000), pacer sync --parallel P
  adoption   an empty marathon-sim (deployments take BENCH_ADOPT_D_MS), BENCH_ADOPT_N
             files: one pacer sync --parallel 16 creates them all; the same with
             --parallel 1 at BENCH_ADOPT_SEQ_N, scaled to BENCH_ADOPT_N, estimates
             one-app-at-a-time tools (a script's loop of create and wait)
  idle       at N=BENCH_IDLE_N: pacer watch and pacer serve, each started on
             the same files as one commit in a file:// repository after one
             pacer sync (so nothing changes), left alone for BENCH_IDLE_S s
             (--interval BENCH_IDLE_INTERVAL, --resync-interval 300, the
             default); the simulator's request log (/_sim/requests) over that
             window gives full GET /v2/apps lists, all requests and reply bytes
             (the log has no sizes: each logged GET is replayed once after the
             window to measure its reply), all scaled to one idle hour
and prints a table plus the issue's targets with a check mark each. Results
go to BUILD_DIR/bench/results.json (and a dated copy per run); the work files to BUILD_DIR/bench/work.

Environment (defaults in brackets):
  BENCH_N="1000 5000 10000"   app counts
  BENCH_RUNS=3                runs per figure (median)
  BENCH_K=100  BENCH_D=2      changed apps and seconds per deployment
  BENCH_PARALLEL="16 0"       --parallel values for the K test (0 = unbounded)
  BENCH_GIT=1                 measure the git form (0 to skip)
  BENCH_IDLE=1                measure watch and serve idle (0 to skip)
  BENCH_IDLE_N=1000           N for the idle test (the smallest N if not in BENCH_N)
  BENCH_IDLE_S=20             idle window, seconds
  BENCH_IDLE_INTERVAL=2       --interval for watch and serve in the idle test
  BENCH_ADOPT=1               measure first adoption (0 to skip)
  BENCH_ADOPT_N=10000         apps created by the adoption run (--parallel 16)
  BENCH_ADOPT_SEQ_N=200       apps created one at a time, for the sequential estimate
  BENCH_ADOPT_D_MS=100        milliseconds per deployment in the adoption test
  BENCH_PROFILE=0             1: perf record one no-op sync at the largest N
                              into BUILD_DIR/bench/profile.txt
  BENCH_TIMEOUT=600           seconds before one pacer run counts as hung
  BENCH_STRICT=0              1: exit 1 when a target is missed (for CI)
"""
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import gen  # noqa: E402


def env_list(name, default):
    return [int(x) for x in os.environ.get(name, default).split()]


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Bench:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.pacer = os.path.join(self.build, "pacer")
        self.sim_bin = os.path.join(self.build, "marathon-sim")
        self.floor = os.path.join(self.build, "tests", "bench", "bench-floor")
        self.measure_bin = os.path.join(self.build, "tests", "bench", "bench-measure")
        self.out_dir = os.path.join(self.build, "bench")
        self.work = os.path.join(self.out_dir, "work")
        self.ns = env_list("BENCH_N", "1000 5000 10000")
        self.runs = int(os.environ.get("BENCH_RUNS", "3"))
        self.k = int(os.environ.get("BENCH_K", "100"))
        self.d = float(os.environ.get("BENCH_D", "2"))
        self.parallels = env_list("BENCH_PARALLEL", "16 0")
        self.do_git = os.environ.get("BENCH_GIT", "1") != "0"
        self.do_profile = os.environ.get("BENCH_PROFILE", "0") != "0"
        self.timeout = float(os.environ.get("BENCH_TIMEOUT", "600"))
        self.do_idle = os.environ.get("BENCH_IDLE", "1") != "0"
        self.idle_n = int(os.environ.get("BENCH_IDLE_N", "1000"))
        self.idle_s = float(os.environ.get("BENCH_IDLE_S", "20"))
        self.idle_interval = int(os.environ.get("BENCH_IDLE_INTERVAL", "2"))
        self.idle_resync = 300  # the default --resync-interval of watch and serve
        self.do_adopt = os.environ.get("BENCH_ADOPT", "1") != "0"
        self.adopt_n = int(os.environ.get("BENCH_ADOPT_N", "10000"))
        self.adopt_seq_n = int(os.environ.get("BENCH_ADOPT_SEQ_N", "200"))
        self.adopt_d_ms = int(os.environ.get("BENCH_ADOPT_D_MS", "100"))
        self.sim = None
        self.url = None
        self.seq = 0
        self.results = {"machine": machine(), "config": {
            "N": self.ns, "runs": self.runs, "K": self.k, "D_s": self.d, "parallel": self.parallels,
            "git": self.do_git, "idle": {"on": self.do_idle, "N": self.idle_n, "window_s": self.idle_s,
                                         "interval_s": self.idle_interval, "resync_interval_s": self.idle_resync}},
            "sizes": [], "k_test": [], "idle": [], "adopt": [], "notes": []}

    # --- processes -------------------------------------------------------
    def measure(self, tag, argv, cwd=None, timeout=None):
        """Run argv under bench-measure; return its figures plus the stdout/stderr file paths."""
        self.seq += 1
        base = os.path.join(self.logs, "%03d-%s" % (self.seq, tag))
        res = base + ".measure.json"
        cmd = [self.measure_bin, "-o", res, "-i", "/dev/null", "-O", base + ".out", "-E", base + ".err", "--"] + argv
        try:
            subprocess.run(cmd, cwd=cwd, timeout=timeout or self.timeout, check=True)
        except subprocess.TimeoutExpired:
            return {"exit": -1, "timeout": True, "out": base + ".out", "err": base + ".err"}
        with open(res) as f:
            m = json.load(f)
        m["out"], m["err"] = base + ".out", base + ".err"
        return m

    def start_sim(self, load_file, launch_ms):
        self.stop_sim()
        err = open(os.path.join(self.logs, "sim.err"), "w")
        self.sim = subprocess.Popen([self.sim_bin, "--listen", "127.0.0.1:0", "--task-launch-ms", str(launch_ms),
                                     "--health-ms", "1", "--load", load_file],
                                    stdout=subprocess.PIPE, stderr=err, text=True)
        t0 = time.monotonic()
        line = self.sim.stdout.readline().strip()
        if not line.startswith("http"):
            raise SystemExit("bench: marathon-sim did not start (see %s/sim.err)" % self.logs)
        self.url = line
        # Wait until the loaded apps' first deployments are over.
        while time.monotonic() - t0 < 300:
            if not json.loads(self.get("/v2/deployments")):
                break
            time.sleep(0.5)
        log("marathon-sim at %s ready in %.1f s" % (self.url, time.monotonic() - t0))

    def stop_sim(self):
        if self.sim:
            self.sim.send_signal(signal.SIGTERM)
            try:
                self.sim.wait(10)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.wait()
            self.sim = None

    def sim_cpu(self):
        """CPU seconds the simulator used so far (utime+stime)."""
        with open("/proc/%d/stat" % self.sim.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sim_rss_kb(self):
        with open("/proc/%d/status" % self.sim.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=60) as r:
            return r.read()

    def pacer_argv(self, cmd, source, state, extra=()):
        return [self.pacer, cmd, "--source", source, "--marathon", self.url, "--state-dir", state,
                "--backup-dir", os.path.join(state, "backups")] + list(extra)

    def check_exit(self, m, what):
        if m.get("exit") != 0:
            tail = ""
            try:
                with open(m["err"]) as f:
                    tail = f.read()[-600:]
            except OSError:
                pass
            note = "%s exited %s%s (stderr: %s)" % (what, m.get("exit"), " (timeout)" if m.get("timeout") else "",
                                                     tail.strip() or "empty")
            log(note)
            self.results["notes"].append(note)
            return False
        return True

    # --- one N ------------------------------------------------------------
    def run_size(self, n, do_k, do_idle=False):
        d = os.path.join(self.work, str(n))
        shutil.rmtree(d, ignore_errors=True)
        self.logs = os.path.join(d, "logs")
        os.makedirs(self.logs)
        src = os.path.join(d, "src")
        load = os.path.join(d, "load.json")
        t0 = time.monotonic()
        apps, files = gen.generate(src, n)
        with open(load, "w") as f:
            json.dump({"apps": apps}, f)
        nbytes = sum(os.path.getsize(p) for p in files)
        log("N=%d: %d files, %.1f MB generated in %.1f s" % (n, len(files), nbytes / 1e6, time.monotonic() - t0))
        self.start_sim(load, int(self.d * 1000))
        r = {"N": n, "files": len(files), "bytes": nbytes, "sim_rss_kb": self.sim_rss_kb()}
        c0, t0 = self.sim_cpu(), time.monotonic()
        time.sleep(2)
        r["sim_idle_cpu_pct"] = 100 * (self.sim_cpu() - c0) / (time.monotonic() - t0)

        # Is the simulator really in sync with the files? pacer diff says so with exit 0.
        # (It also warms the page cache for the floor and pacer alike.)
        state = os.path.join(d, "state")
        m = self.measure("diff", self.pacer_argv("diff", src, state, ["--output", "json"]))
        r["diff_exit"] = m.get("exit")
        r["diff_wall_s"] = m.get("wall_s")
        if m.get("exit") != 0:
            self.results["notes"].append("N=%d: pacer diff exited %s before the no-op sync: the simulator and the "
                                         "files are not seen as equal, see %s" % (n, m.get("exit"), m["out"]))
            log(self.results["notes"][-1])

        # One unmeasured floor run and one first sync (creates the state dir, reported as
        # "first"), then floor and no-op sync alternate, so that both see the same machine load
        # (the machine is shared: wall times move with it; CPU times much less).
        self.measure("floor-warm", [self.floor, src, self.url])
        m = self.measure("sync-first", self.pacer_argv("sync", src, state))
        r["noop_first"] = pick(m)
        ok = self.check_exit(m, "N=%d: first pacer sync" % n)
        floors, noops, colds, sim_cpu = [], [], [], 0.0
        for i in range(self.runs):
            m = self.measure("floor", [self.floor, src, self.url])
            if self.check_exit(m, "bench-floor"):
                with open(m["out"]) as f:
                    m.update(json.load(f))
                floors.append(m)
            if ok:
                c0 = self.sim_cpu()
                m = self.measure("sync-noop", self.pacer_argv("sync", src, state))
                sim_cpu += self.sim_cpu() - c0
                if self.check_exit(m, "N=%d: no-op pacer sync" % n):
                    noops.append(m)
                # The same run without the state directory's cache: every file parsed and
                # every app normalised, as a first run against a new state directory.
                m = self.measure("sync-nocache", ["env", "PACER_NO_CACHE=1"] + self.pacer_argv("sync", src, state))
                if self.check_exit(m, "N=%d: no-op pacer sync without cache" % n):
                    colds.append(m)
        r["floor"] = summarise(floors, ["wall_s", "cpu_s", "user_s", "sys_s", "maxrss_kb", "files_s", "get_s",
                                        "get_ttfb_s", "body_parse_s", "body_bytes", "rss_after_files_kb"])
        r["noop"] = summarise(noops, ["wall_s", "cpu_s", "user_s", "sys_s", "maxrss_kb"])
        r["noop_nocache"] = summarise(colds, ["wall_s", "cpu_s", "user_s", "sys_s", "maxrss_kb"])
        if noops:
            r["noop"]["sim_cpu_s_per_run"] = sim_cpu / len(noops)
        if self.do_profile and n == max(self.ns) and noops:
            self.profile(src, state, n, r["noop"].get("cpu_s"))
        if do_idle:
            self.run_idle(n, d, src)

        if self.do_git:
            r["git"] = self.run_git(d, src, files)
        if do_k:
            self.run_k(n, src, files, state)
        self.stop_sim()
        return r

    def make_repo(self, src, repo):
        """Copy src to repo and commit it there; return a function running git in repo."""
        env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
                   GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")

        def git(*args):
            subprocess.run(["git", "-C", repo] + list(args), check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        shutil.copytree(src, repo)
        git("init", "-q", "-b", "main")
        git("add", "-A")
        git("commit", "-q", "-m", "all apps")
        return git

    def run_git(self, d, src, files):
        repo = os.path.join(d, "repo")
        git = self.make_repo(src, repo)
        url = "file://" + repo
        g = {}
        clones = []
        for i in range(self.runs):
            state = os.path.join(d, "git-clone-%d" % i)
            m = self.measure("git-clone-sync", self.pacer_argv("sync", url, state))
            if not self.check_exit(m, "git clone-and-sync"):
                break
            clones.append(m)
        g["clone_sync"] = summarise(clones, ["wall_s", "cpu_s", "maxrss_kb"])
        if not clones:
            return g
        state = os.path.join(d, "git-clone-0")
        noops, fetches = [], []
        rel = sorted(os.path.relpath(p, src) for p in gen.single_app_files(files))[0]
        for i in range(self.runs):
            m = self.measure("git-noop-sync", self.pacer_argv("sync", url, state))
            if self.check_exit(m, "git no-op sync (nothing new to fetch)"):
                noops.append(m)
            gen.reformat_file(os.path.join(repo, rel), i)
            git("commit", "-q", "-am", "reformat %s" % rel)
            m = self.measure("git-fetch-sync", self.pacer_argv("sync", url, state))
            if not self.check_exit(m, "git fetch-and-sync"):
                break
            fetches.append(m)
        g["noop_sync"] = summarise(noops, ["wall_s", "cpu_s", "maxrss_kb"])
        g["fetch_sync"] = summarise(fetches, ["wall_s", "cpu_s", "maxrss_kb"])
        g["changed_file"] = rel
        return g

    def run_k(self, n, src, files, state):
        k = min(self.k, len(gen.single_app_files(files)))
        rev = 0
        for p in self.parallels:
            walls = []
            for i in range(self.runs):
                rev += 1
                gen.touch_apps(files, k, rev)
                m = self.measure("k-sync-p%d" % p, self.pacer_argv("sync", src, state, ["--parallel", str(p)]))
                if not self.check_exit(m, "K=%d changed apps, --parallel %d" % (k, p)):
                    break
                walls.append(m)
            s = summarise(walls, ["wall_s", "cpu_s", "maxrss_kb"])
            s.update({"N": n, "K": k, "D_s": self.d, "parallel": p})
            if s.get("wall_s") is not None:
                s["x_D"] = s["wall_s"] / self.d
            self.results["k_test"].append(s)

    # --- first adoption -----------------------------------------------------
    def run_adopt(self):
        """Create N apps in an empty simulator with --parallel 16, and a few one at a time."""
        for n, p in ((self.adopt_n, 16), (self.adopt_seq_n, 1)):
            if n <= 0:
                continue
            d = os.path.join(self.work, "adopt-%d-p%d" % (n, p))
            shutil.rmtree(d, ignore_errors=True)
            self.logs = os.path.join(d, "logs")
            os.makedirs(self.logs)
            src = os.path.join(d, "src")
            gen.generate(src, n)
            empty = os.path.join(d, "empty.json")
            with open(empty, "w") as f:
                json.dump({"apps": []}, f)
            self.start_sim(empty, self.adopt_d_ms)
            state = os.path.join(d, "state")
            c0 = self.sim_cpu()
            m = self.measure("adopt-p%d" % p, self.pacer_argv("sync", src, state, ["--parallel", str(p)]),
                             timeout=max(self.timeout, 3600))
            sim_cpu = self.sim_cpu() - c0
            reqs = self.sim_requests()
            napps = len(json.loads(self.get("/v2/apps"))["apps"])
            self.stop_sim()
            r = {"N": n, "parallel": p, "D_s": self.adopt_d_ms / 1000.0, "apps_after": napps,
                 "sim_cpu_s": sim_cpu, "deployment_polls": sum(
                     1 for q in reqs if q.get("method") == "GET" and q.get("path") == "/v2/deployments"),
                 "full_lists": sum(1 for q in reqs if full_list(q)),
                 "events": any(q.get("path") == "/v2/events" for q in reqs)}
            if self.check_exit(m, "adoption of %d apps, --parallel %d" % (n, p)):
                r.update(pick(m))
            self.results["adopt"].append(r)
            log("adoption: %d apps --parallel %d in %s s" % (n, p, fmt(r.get("wall_s"))))

    # --- idle watch / serve ----------------------------------------------
    def sim_call(self, method, path):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()

    def sim_requests(self):
        return json.loads(self.sim_call("GET", "/_sim/requests"))["requests"]

    def reply_bytes(self, path, query, headers):
        """Size of the body the simulator sends for GET path?query now (with the logged Accept and
        Accept-Encoding headers, so that a compressed reply is counted compressed)."""
        req = urllib.request.Request(self.url + path + ("?" + query if query else ""))
        for h in ("accept", "accept-encoding"):
            if headers.get(h):
                req.add_header(h, headers[h])
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return len(r.read())
        except urllib.error.HTTPError as e:
            return len(e.read())

    def run_idle(self, n, d, src):
        """pacer watch and pacer serve left alone on an unchanged source: what they ask of Marathon."""
        repo = os.path.join(d, "idle-repo")
        self.make_repo(src, repo)
        url = "file://" + repo
        for mode in ("watch", "serve"):
            r = {"mode": mode, "N": n, "window_s": self.idle_s, "interval_s": self.idle_interval,
                 "resync_interval_s": self.idle_resync, "source": "file:// git repository"}
            self.results["idle"].append(r)
            state = os.path.join(d, "idle-state-" + mode)
            m = self.measure("idle-%s-sync" % mode, self.pacer_argv("sync", url, state))
            if not self.check_exit(m, "N=%d: pacer sync before idle %s" % (n, mode)):
                r["error"] = "first sync failed"
                continue
            extra = ["--interval", str(self.idle_interval), "--resync-interval", str(self.idle_resync)]
            env = dict(os.environ)
            if mode == "serve":
                extra += ["--listen", "127.0.0.1:0"]
                env["PACER_WEBHOOK_SECRET"] = "bench-idle-secret"
            argv = self.pacer_argv(mode, url, state, extra)
            r["argv"] = " ".join(argv[1:])
            self.seq += 1
            base = os.path.join(self.logs, "%03d-idle-%s" % (self.seq, mode))
            self.sim_call("DELETE", "/_sim/requests")
            with open(base + ".out", "w") as out, open(base + ".err", "w") as err:
                proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
            try:
                r.update(self.idle_window(proc, mode))
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            if r.get("error"):
                note = "N=%d: idle %s: %s (see %s.err)" % (n, mode, r["error"], base)
                log(note)
                self.results["notes"].append(note)

    def idle_window(self, proc, mode):
        # Start-up: wait for the mode's first full list, then for the log to stay still for 1.5 s
        # (its first sync is over), and only then open the window.
        t0 = time.monotonic()
        seen, count, still = False, -1, time.monotonic()
        while time.monotonic() - t0 < 60 and proc.poll() is None:
            reqs = self.sim_requests()
            seen = seen or any(full_list(q) for q in reqs)
            if len(reqs) != count:
                count, still = len(reqs), time.monotonic()
            elif seen and time.monotonic() - still >= 1.5:
                break
            time.sleep(0.2)
        if proc.poll() is not None:
            return {"error": "pacer %s exited %s during start-up" % (mode, proc.returncode)}
        r = {"startup_s": time.monotonic() - t0, "startup_requests": max(count, 0)}
        if not seen:
            r["startup_note"] = "no full GET /v2/apps seen in 60 s of start-up"
        self.sim_call("DELETE", "/_sim/requests")
        c0, p0, t0 = self.sim_cpu(), proc_cpu(proc.pid), time.monotonic()
        time.sleep(self.idle_s)
        reqs = self.sim_requests()
        window = time.monotonic() - t0
        c1, p1 = self.sim_cpu(), proc_cpu(proc.pid)
        if proc.poll() is not None:
            r["error"] = "pacer %s exited %s during the idle window" % (mode, proc.returncode)
        per_h = 3600 / window
        kinds = {}
        sizes = {}
        total_bytes, list_bytes = 0, 0
        for q in reqs:
            k = "%s %s" % (q.get("method"), q.get("path"))
            kinds[k] = kinds.get(k, 0) + 1
            if q.get("method") != "GET" or q.get("path", "").startswith(("/v2/events", "/_sim/")):
                continue  # no body to replay (the event stream is one long reply, counted as a request)
            key = (q.get("path"), q.get("query") or "")
            if key not in sizes:
                sizes[key] = self.reply_bytes(key[0], key[1], q.get("headers") or {})
            total_bytes += sizes[key]
            if full_list(q):
                list_bytes += sizes[key]
        lists = sum(1 for q in reqs if full_list(q))
        r.update({"window_measured_s": window, "lists": lists, "requests": len(reqs), "by_request": kinds,
                  "bytes": total_bytes, "list_bytes": list_bytes,
                  "list_reply_bytes": self.reply_bytes("/v2/apps", "", {}),
                  "lists_per_hour": lists * per_h, "requests_per_hour": len(reqs) * per_h,
                  "bytes_per_hour": total_bytes * per_h,
                  "sim_cpu_pct": 100 * (c1 - c0) / window if c1 is not None else None,
                  "pacer_cpu_pct": 100 * (p1 - p0) / window if None not in (p0, p1) else None,
                  "bytes_note": "estimated: the request log has no sizes; each logged GET's reply was measured "
                                "once by replaying it after the window (the event stream is not counted)"})
        return r

    def profile(self, src, state, n, cpu_s):
        """perf record (DWARF call graphs) one no-op sync; write the flat profile, the split by
        library, and the inclusive time of pacer's own functions to BUILD/bench/profile.txt."""
        data = os.path.join(self.logs, "perf.data")
        txt = os.path.join(self.out_dir, "profile.txt")
        try:
            rc = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph",
                                 "dwarf,16384", "-o", data, "--"] + self.pacer_argv("sync", src, state),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        except FileNotFoundError:
            rc = -1
        if rc != 0:
            self.results["notes"].append("perf record failed (exit %d; is perf installed and "
                                         "kernel.perf_event_paranoid <= 2?); use valgrind --tool=callgrind" % rc)
            return

        def perf_report(*args):
            out = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none"] + list(args),
                                 capture_output=True, text=True).stdout
            return [l for l in out.splitlines() if l.strip() and not l.startswith("#")]

        syms = set(subprocess.run(["nm", "--defined-only", self.pacer], capture_output=True,
                                  text=True).stdout.split())
        own = []
        for line in perf_report("--children", "--sort", "symbol", "--percent-limit", "0.5"):
            parts = line.split()
            if len(parts) >= 4 and parts[3] in syms and parts[3] not in [o[2] for o in own]:
                own.append((float(parts[0].rstrip("%")), float(parts[1].rstrip("%")), parts[3]))
        with open(txt, "w") as f:
            f.write("# no-op pacer sync, N=%d, perf record -e cpu-clock --call-graph dwarf\n"
                    "# seconds = share x the median no-op CPU time (%.2f s)\n\n" % (n, cpu_s or 0))
            f.write("### inclusive time of pacer's own functions (children%, self%, ~seconds)\n")
            for c, sf, name in own[:45]:
                f.write("  %6.2f%%  %6.2f%%  %6.3f s  %s\n" % (c, sf, c / 100 * (cpu_s or 0), name))
            f.write("\n### call tree from cmd_sync (inclusive, branches >= 2%)\n")
            f.write("".join("  %s\n" % l for l in perf_call_tree(data, "cmd_sync")))
            f.write("\n### where the CPU goes by library (self)\n  " +
                    "\n  ".join(perf_report("--no-children", "--sort", "dso")) + "\n")
            f.write("\n### hottest symbols (self)\n  " +
                    "\n  ".join(perf_report("--no-children", "--sort", "symbol", "--percent-limit", "0.8")) + "\n")
        self.results["profile"] = txt
        log("profile written to %s" % txt)

    # --- all --------------------------------------------------------------
    def run(self):
        os.makedirs(self.out_dir, exist_ok=True)
        t0 = time.monotonic()
        try:
            idle_at = self.idle_n if self.idle_n in self.ns or not self.ns else min(self.ns)
            if self.do_idle and idle_at != self.idle_n:
                self.results["notes"].append("idle test at N=%d: BENCH_IDLE_N=%d is not in BENCH_N" %
                                             (idle_at, self.idle_n))
            for i, n in enumerate(self.ns):
                self.results["sizes"].append(self.run_size(n, i == 0 and self.k > 0,
                                                           self.do_idle and n == idle_at))
            if self.do_adopt:
                self.run_adopt()
        finally:
            self.stop_sim()
        self.results["elapsed_s"] = time.monotonic() - t0
        self.results["targets"] = targets(self.results)
        path = os.path.join(self.out_dir, "results.json")
        with open(path, "w") as f:
            json.dump(self.results, f, indent=2)
        # Keep every run too, so runs can be compared later.
        shutil.copyfile(path, os.path.join(self.out_dir, time.strftime("results-%Y%m%dT%H%M%SZ.json", time.gmtime())))
        print(report(self.results))
        print("results: %s" % path)
        missed = [t for t in self.results["targets"] if t["ok"] is False]
        if missed and os.environ.get("BENCH_STRICT", "0") != "0":
            return 1
        return 0


def perf_call_tree(data, root):
    """The caller tree below root from perf.data, one line per branch >= 2%, indented by depth."""
    out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--children", "--call-graph=caller,2",
                          "--sort", "symbol", "--symbol-filter=" + root],
                         capture_output=True, text=True).stdout
    lines, first = [], None
    for line in out.splitlines():
        i = line.find("--")
        if i < 0 or "%--" not in line:
            continue
        pct, name = line[i + 2:].split("%--", 1)
        name = name.strip()
        if first is None:
            first = name
        elif name == first:
            break  # perf prints the tree again for each root symbol
        lines.append("%s%5s%%  %s" % ("  " * (i // 11), pct, name))
    return lines


def full_list(q):
    """A request for the whole app list: GET /v2/apps without an id or label filter."""
    if q.get("method") != "GET" or q.get("path") not in ("/v2/apps", "/v2/apps/"):
        return False
    qs = urllib.parse.parse_qs(q.get("query") or "")
    return not qs.get("id") and not qs.get("label")


def proc_cpu(pid):
    """CPU seconds process pid used so far (utime+stime), None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pick(m):
    return {k: m.get(k) for k in ("exit", "wall_s", "cpu_s", "maxrss_kb")}


def summarise(ms, keys):
    s = {"runs": len(ms)}
    for k in keys:
        s[k] = median([m.get(k) for m in ms])
        if k == "wall_s" and ms:
            s["wall_all_s"] = [round(m["wall_s"], 4) for m in ms]
    return s


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except OSError:
        mem_kb = 0
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_kb / 1048576, 1),
            "kernel": platform.release(), "loadavg_start": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def ratio(a, b):
    return a / b if a is not None and b else None


def targets(res):
    """The issue's targets, evaluated at the largest N measured (10,000 in a full run)."""
    out = []

    def add(name, value, limit, ok_fn, unit=""):
        ok = None if value is None else ok_fn(value, limit)
        out.append({"target": name, "value": value, "limit": limit, "ok": ok, "unit": unit})

    par = [a for a in res.get("adopt", []) if a["parallel"] == 16]
    if par:
        a = par[0]
        # What waves of 16 that each wait for the next 500 ms poll take at the least.
        polling = a["N"] / 16.0 * 0.5
        add("first adoption, %d creates, --parallel 16: wall < one 500 ms poll per wave of 16 (%.0f s)" %
            (a["N"], polling), a.get("wall_s"), polling, lambda v, l: v < l, "s")
    sizes = [s for s in res["sizes"]]
    if not sizes:
        return out
    big = max(sizes, key=lambda s: s["N"])
    small = min(sizes, key=lambda s: s["N"])
    tag = "N=%d" % big["N"]

    noop, floor = big.get("noop", {}), big.get("floor", {})
    add("no-op sync wall / floor wall (%s) <= 1.5" % tag, ratio(noop.get("wall_s"), floor.get("wall_s")), 1.5,
        lambda v, l: v <= l, "x")
    add("no-op sync peak RSS (%s) < 100 MB" % tag,
        None if noop.get("maxrss_kb") is None else noop["maxrss_kb"] / 1024, 100, lambda v, l: v < l, "MB")
    cold = big.get("noop_nocache", {})
    add("cold no-op (%s) cpu / floor cpu <= 1.5" % tag, ratio(cold.get("cpu_s"), floor.get("cpu_s")), 1.5,
        lambda v, l: v <= l, "x")
    add("cold no-op peak RSS (%s) < 100 MB" % tag,
        None if cold.get("maxrss_kb") is None else cold["maxrss_kb"] / 1024, 100, lambda v, l: v < l, "MB")
    for k in res["k_test"]:
        if k["parallel"] == 16:
            add("K=%d changed, D=%gs, --parallel 16: wall < 20 s" % (k["K"], k["D_s"]), k.get("wall_s"), 20,
                lambda v, l: v < l, "s")
        elif k["parallel"] == 0:
            add("K=%d changed, D=%gs, unbounded: wall < 3 x D" % (k["K"], k["D_s"]), k.get("x_D"), 3,
                lambda v, l: v < l, "x D")
    if "git" in big:
        add("git fetch-and-sync, 1 file changed (%s) < 2 x no-op sync" % tag,
            ratio(big["git"].get("fetch_sync", {}).get("wall_s"), noop.get("wall_s")), 2, lambda v, l: v < l, "x")
    add("sim GET /v2/apps (%s) well under the floor's parse time (< 0.5x)" % tag,
        ratio(floor.get("get_s"), (floor.get("files_s") or 0) + (floor.get("body_parse_s") or 0)), 0.5,
        lambda v, l: v < l, "x")
    if big is not small:
        per_big = ratio(noop.get("cpu_s"), big["N"])
        per_small = ratio(small.get("noop", {}).get("cpu_s"), small["N"])
        add("linear: CPU per app at N=%d / at N=%d <= 1.5" % (big["N"], small["N"]), ratio(per_big, per_small),
            1.5, lambda v, l: v <= l, "x")
    for mode in ("serve", "watch"):
        for i in res.get("idle", []):
            if i["mode"] == mode:
                add("%s idle: full GET /v2/apps per hour <= 3600/resync-interval + 1" % mode,
                    None if i.get("error") else i.get("lists_per_hour"), 3600 / i["resync_interval_s"] + 1,
                    lambda v, l: v <= l, "/h")
    return out


def fmt(v, spec="%.3f", none="-"):
    return none if v is None else spec % v


def report(res):
    m = res["machine"]
    lines = ["", "pacer benchmark, %s; %d cores (%s), %.0f GB RAM, load %.2f at start; median of %d runs" %
             (m["date"], m["nproc"], m["cpu"], m["ram_gb"], m["loadavg_start"], res["config"]["runs"]), ""]
    lines.append("%-7s %6s %7s | %-28s | %-24s | %7s %7s | %9s | %-19s" %
                 ("N", "files", "MB", "no-op sync wall/cpu/RSS", "floor wall/cpu/RSS", "wall x", "cpu x",
                  "us/app", "sim GET / floor parse"))
    for s in res["sizes"]:
        no, fl = s.get("noop", {}), s.get("floor", {})
        parse = (fl.get("files_s") or 0) + (fl.get("body_parse_s") or 0)
        lines.append("%-7d %6d %7.1f | %7s s %7s s %6s MB | %6s s %6s s %5s MB | %7s %7s | %9s | %6s s / %6s s" % (
            s["N"], s["files"], s["bytes"] / 1e6, fmt(no.get("wall_s")), fmt(no.get("cpu_s")),
            fmt(None if no.get("maxrss_kb") is None else no["maxrss_kb"] / 1024, "%.0f"),
            fmt(fl.get("wall_s")), fmt(fl.get("cpu_s")),
            fmt(None if fl.get("maxrss_kb") is None else fl["maxrss_kb"] / 1024, "%.0f"),
            fmt(ratio(no.get("wall_s"), fl.get("wall_s")), "%.2f"), fmt(ratio(no.get("cpu_s"), fl.get("cpu_s")), "%.2f"),
            fmt(None if no.get("wall_s") is None else 1e6 * no["wall_s"] / s["N"], "%.0f"),
            fmt(fl.get("get_s")), fmt(parse if fl else None)))
    lines.append("")
    for s in res["sizes"]:
        extra = "N=%d: first sync (cold state dir) %s s; pacer diff %s s (exit %s); sim idle CPU %.0f%%, sim RSS %d MB" % (
            s["N"], fmt(s.get("noop_first", {}).get("wall_s")) if s.get("noop_first", {}).get("exit") == 0 else "failed", fmt(s.get("diff_wall_s")), s.get("diff_exit"),
            s.get("sim_idle_cpu_pct", 0), (s.get("sim_rss_kb") or 0) / 1024)
        lines.append(extra)
        nc, fl = s.get("noop_nocache", {}), s.get("floor", {})
        if nc:
            lines.append("        no-op sync without the cache (PACER_NO_CACHE=1): %s s wall, %s s cpu, %s MB = %s x floor wall, %s x floor cpu" % (
                fmt(nc.get("wall_s")), fmt(nc.get("cpu_s")),
                fmt(None if nc.get("maxrss_kb") is None else nc["maxrss_kb"] / 1024, "%.0f"),
                fmt(ratio(nc.get("wall_s"), fl.get("wall_s")), "%.2f"), fmt(ratio(nc.get("cpu_s"), fl.get("cpu_s")), "%.2f")))
        g = s.get("git")
        if g is not None:
            lines.append("        git: clone-and-sync %s s, no-op %s s, fetch-and-sync (1 file rewritten) %s s" % (
                fmt(g.get("clone_sync", {}).get("wall_s")), fmt(g.get("noop_sync", {}).get("wall_s")),
                fmt(g.get("fetch_sync", {}).get("wall_s"))))
    for k in res["k_test"]:
        lines.append("K=%d of N=%d changed, D=%g s, --parallel %d: %s s wall = %s x D (runs: %s)" % (
            k["K"], k["N"], k["D_s"], k["parallel"], fmt(k.get("wall_s"), "%.2f"), fmt(k.get("x_D"), "%.2f"),
            k.get("wall_all_s", [])))
    adopt = res.get("adopt", [])
    seq = [a for a in adopt if a["parallel"] == 1 and a.get("wall_s")]
    for a in adopt:
        if a["parallel"] != 16:
            continue
        lines.append("first adoption: %d creates into an empty sim, deployments of %g s, --parallel 16: %s s wall, "
                     "%s s cpu, %s MB (%d apps after; %d GET /v2/deployments, %d full GET /v2/apps%s; sim CPU %.0f s)" % (
                         a["N"], a["D_s"], fmt(a.get("wall_s"), "%.1f"), fmt(a.get("cpu_s"), "%.1f"),
                         fmt(None if a.get("maxrss_kb") is None else a["maxrss_kb"] / 1024, "%.0f"),
                         a["apps_after"], a["deployment_polls"], a["full_lists"],
                         ", deployment events followed" if a["events"] else ", no event stream",
                         a["sim_cpu_s"]))
        if a.get("wall_s"):
            lines.append("        = %.1f ms per app; the deployments alone need %.0f s (%d waves of %g s)" % (
                1000 * a["wall_s"] / a["N"], -(-a["N"] // 16) * a["D_s"], -(-a["N"] // 16), a["D_s"]))
        for sq in seq:
            est = sq["wall_s"] * a["N"] / sq["N"]
            lines.append("        one at a time (--parallel 1, as a script's create-and-wait loop): %d apps in %.1f s "
                         "= %.0f ms per app -> %d apps ~ %.0f s (%.1f min)%s" % (
                             sq["N"], sq["wall_s"], 1000 * sq["wall_s"] / sq["N"], a["N"], est, est / 60,
                             "" if not a.get("wall_s") else ", %.0fx the --parallel 16 run" % (est / a["wall_s"])))
    for i in res.get("idle", []):
        if i is res["idle"][0]:
            lines.append("idle, N=%d, nothing changing: %g s window after start-up, --interval %d, --resync-interval "
                         "%d (the default), source a file:// git repository; per idle hour:" % (
                             i["N"], i["window_s"], i["interval_s"], i["resync_interval_s"]))
        if i.get("error") or "lists_per_hour" not in i:
            lines.append("  %-5s failed: %s" % (i["mode"], i.get("error", "not measured")))
            continue
        lines.append("  %-5s %7.0f full GET /v2/apps, %7.0f requests, %8.1f MB replies (est.); sim CPU %.1f%%, "
                     "pacer CPU %.1f%%  (in %.1f s: %d lists, %d requests%s)" % (
                         i["mode"], i["lists_per_hour"], i["requests_per_hour"], i["bytes_per_hour"] / 1e6,
                         i.get("sim_cpu_pct") or 0, i.get("pacer_cpu_pct") or 0, i["window_measured_s"], i["lists"],
                         i["requests"], "".join(", %s x%d" % kv for kv in sorted(i["by_request"].items()))))
        if i is res["idle"][-1]:
            lines.append("  (bytes estimated: the sim's request log has no sizes, each logged GET was replayed once "
                         "after the window; one full GET /v2/apps reply is %.2f MB)" % (i["list_reply_bytes"] / 1e6))
            if i["window_s"] < i["resync_interval_s"]:
                lines.append("  (the window is shorter than --resync-interval: the periodic full resyncs the target "
                             "allows, 3600/%d = %g per hour, need not fall inside it)" % (
                                 i["resync_interval_s"], 3600 / i["resync_interval_s"]))
    lines.append("")
    lines.append("targets:")
    for t in res["targets"]:
        mark = "?" if t["ok"] is None else ("✓" if t["ok"] else "✗")
        lines.append("  %s %-72s %s" % (mark, t["target"], "not measured" if t["value"] is None else
                                         "%.2f %s" % (t["value"], t["unit"])))
    for note in res["notes"]:
        lines.append("note: " + note)
    lines.append("(elapsed %.0f s)" % res.get("elapsed_s", 0))
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        print("usage: bench.py BUILD_DIR", file=sys.stderr)
        return 64
    return Bench(sys.argv[1]).run()


if __name__ == "__main__":
    sys.exit(main())
