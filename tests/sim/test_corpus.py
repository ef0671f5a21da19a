#!/usr/bin/env python3
"""marathon-sim agrees with ../shared/corpus/VERDICTS.tsv.

Every real-world file is submitted app by app (groups flattened, relative ids
resolved, read-only fields stripped), as the verdicts were traced, to a
simulator with Marathon's default flags and to one with DC/OS's flags: an
ACCEPT file must load completely (201 for every app), a REJECT file must get
at least one 422. Exits 0 only when every file agrees.
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

READ_ONLY = ("version", "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy",
             "tasksUnhealthy", "deployments", "lastTaskFailure", "taskStats", "tasksStats",
             "readinessCheckResults")


def resolve(base, rid):
    parts = [] if rid.startswith("/") else [p for p in base.split("/") if p]
    for seg in rid.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    return "/" + "/".join(parts)


def flatten(doc, base="/"):
    if isinstance(doc, list):
        for d in doc:
            yield from flatten(d, base)
        return
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("app"), dict) and "id" not in doc:  # a saved GET /v2/apps/{id} answer
        yield from flatten(doc["app"], base)
        return
    if "apps" in doc or "groups" in doc:
        gid = resolve(base, doc.get("id", "."))
        for a in doc.get("apps") or []:
            yield from flatten(a, gid)
        for g in doc.get("groups") or []:
            yield from flatten(g, gid)
        return
    app = {k: v for k, v in doc.items() if k not in READ_ONLY}
    if isinstance(app.get("id"), str):
        app["id"] = resolve(base, app["id"])
    yield app


def request(url, method, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start(extra):
    sim = os.environ.get("PACER_SIM_BIN") or os.path.join(os.path.dirname(__file__), "../../build/marathon-sim")
    p = subprocess.Popen([sim, "--listen", "127.0.0.1:0", "--task-launch-ms", "5", "--health-ms", "5"] + extra,
                         stdout=subprocess.PIPE, text=True)
    return p, p.stdout.readline().strip()


def main():
    shared = os.environ.get("PACER_SHARED_DIR") or os.path.join(os.path.dirname(__file__), "../../../shared")
    corpus = os.path.join(shared, "corpus")
    if not os.path.exists(os.path.join(corpus, "VERDICTS.tsv")):
        print("SKIP: %s/VERDICTS.tsv not found (reference material not checked out)" % corpus)
        return 0
    rows = []
    with open(os.path.join(corpus, "VERDICTS.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    failures = []
    for flags, column in (([], "verdict"),
                          (["--mesos-role", "slave_public", "--enable-features", "secrets,external_volumes,gpu_resources"],
                           "verdict_dcos_flags")):
        proc, url = start(flags)
        try:
            for row in rows:
                request(url + "/_sim/reset", "POST")
                with open(os.path.join(corpus, "realworld", row["file"])) as f:
                    doc = json.load(f)
                statuses = []
                for app in flatten(doc):
                    status, body = request(url + "/v2/apps", "POST", app)
                    statuses.append((status, app.get("id"), body[:200]))
                accepted = all(s == 201 for s, _, _ in statuses)
                rejected = any(s == 422 for s, _, _ in statuses)
                want = row[column]
                ok = accepted if want == "ACCEPT" else rejected
                if not ok:
                    bad = [x for x in statuses if (x[0] != 201) == (want == "ACCEPT")] or statuses
                    failures.append("%s [%s] want %s, got %s" % (row["file"], column, want, bad[:2]))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    for f in failures:
        print("FAIL " + f)
    print("%d files x 2 flag sets, %d disagreements" % (len(rows), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
