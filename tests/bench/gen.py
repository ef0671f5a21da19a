#!/usr/bin/env python3
"""gen.py: realistic Marathon app definitions for the benchmark.

    gen.py DIR N [--seed S] [--sim-load FILE]

Writes N apps below DIR as a team repository would hold them:
DIR/<team>/<env>/<name>.json, one app per file, and about 8% of the apps in
group files (DIR/<team>/<env>/grp-XXXX.json, {"id": ..., "apps": [...]} with
relative ids). The shapes follow ../shared/corpus/realworld/: Docker and
command apps, host and bridge networking, HTTP/TCP/COMMAND health checks,
HAPROXY_* and team labels, env blocks from a few variables to a hundred,
constraints, fetch URIs, upgrade strategies, dependencies inside a group.
Sizes vary from ~300 bytes to ~10 KB. Output is deterministic for a seed.

Service ports: Marathon (and marathon-sim) hand out service ports from
10000-20000, so at most ~45% of the apps declare ports; the others are
workers with "portDefinitions": [] -- as in real installations.

--sim-load FILE also writes every app, with its absolute id, as
{"apps": [...]} for `marathon-sim --load FILE`, so the simulator starts
already in sync with DIR.

Also importable: touch_apps() changes K apps (a real change, one new env
value each; only apps whose deployment is one step, so that each takes the
simulator's task launch time D); reformat_file() rewrites one file with different whitespace
(a new blob, the same apps).
"""
import argparse
import json
import os
import random
import sys

TEAMS = ["payments", "search", "identity", "catalog", "checkout", "ads", "ml", "infra",
         "data", "mobile", "growth", "support", "billing", "media", "maps", "notify",
         "fraud", "ledger", "reports", "edge"]
ENVS = ["prod", "staging", "dev"]
KINDS = ["api", "web", "worker", "cron", "consumer", "gateway", "cache", "indexer",
         "exporter", "sidecar", "scheduler", "proxy"]
IMAGES = ["nginx:1.25", "python:3.11-slim", "openjdk:17-jre", "node:20-alpine",
          "golang:1.22", "redis:7", "prom/prometheus:v2.48.0", "grafana/grafana:10.2.2",
          "haproxy:2.8", "registry.example.com/{team}/{name}:{ver}"]
FEATURE_FLAGS = ["NEW_CHECKOUT", "FAST_SEARCH", "DARK_MODE", "V2_API", "BATCH_WRITES",
                 "ASYNC_IO", "SHADOW_TRAFFIC", "GEO_ROUTING"]


def _env(rng, team, name, size):
    env = {
        "SERVICE_NAME": name,
        "TEAM": team,
        "LOG_LEVEL": rng.choice(["info", "warn", "debug"]),
        "JAVA_OPTS": "-Xms%dm -Xmx%dm -XX:+UseG1GC" % (rng.choice([128, 256]), rng.choice([512, 1024])),
    }
    extra = {"small": rng.randint(0, 4), "medium": rng.randint(8, 25), "large": rng.randint(60, 120)}[size]
    for i in range(extra):
        key = "%s_%s_%d" % (rng.choice(["DB", "CACHE", "QUEUE", "FEATURE", "UPSTREAM", "TIMEOUT"]),
                            rng.choice(["HOST", "PORT", "URL", "POOL", "ENABLED", "MS"]), i)
        if key.endswith(("URL", "HOST")) or "_URL_" in key or "_HOST_" in key:
            env[key] = "https://%s-%d.%s.internal.example.com:%d/v1" % (rng.choice(KINDS), i, team,
                                                                        rng.randint(1024, 65000))
        else:
            env[key] = str(rng.randint(0, 100000))
    return env


def _labels(rng, team, name, has_port, size):
    labels = {"team": team, "owner": "%s-oncall@example.com" % team,
              "cost-center": "cc-%04d" % rng.randint(1, 9999)}
    if has_port and rng.random() < 0.6:
        labels.update({"HAPROXY_GROUP": rng.choice(["external", "internal"]),
                       "HAPROXY_0_VHOST": "%s.%s.example.com" % (name, team),
                       "HAPROXY_0_REDIRECT_TO_HTTPS": "true",
                       "HAPROXY_0_BACKEND_HTTP_OPTIONS": "  option forwardfor\n  no option http-keep-alive\n"})
    if size == "large":
        for i in range(rng.randint(10, 30)):
            labels["annotation.example.com/%d" % i] = "value-%d-%s" % (i, "x" * rng.randint(5, 60))
    return labels


def _health(rng, has_port, bridge):
    if not has_port:
        if rng.random() < 0.5:
            return []
        return [{"protocol": "COMMAND", "command": {"value": "test -f /tmp/healthy"},
                 "gracePeriodSeconds": 60, "intervalSeconds": 30, "timeoutSeconds": 10,
                 "maxConsecutiveFailures": 3}]
    checks = [{"protocol": rng.choice(["HTTP", "MESOS_HTTP"]), "path": rng.choice(["/health", "/ping", "/_status"]),
               "portIndex": 0, "gracePeriodSeconds": rng.choice([30, 60, 300]),
               "intervalSeconds": rng.choice([10, 20, 30]), "timeoutSeconds": rng.choice([5, 10, 20]),
               "maxConsecutiveFailures": rng.choice([3, 5, 10]), "ignoreHttp1xx": False}]
    if rng.random() < 0.2:
        checks.append({"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 300,
                       "intervalSeconds": 60, "timeoutSeconds": 20, "maxConsecutiveFailures": 3})
    return checks


def make_app(rng, team, env, name, app_id, port_budget):
    """One app definition. port_budget is a one-element list of ports left."""
    size = rng.choices(["small", "medium", "large"], weights=[50, 35, 15])[0]
    nports = 0
    if port_budget[0] > 0 and rng.random() < 0.45:
        nports = 2 if rng.random() < 0.1 else 1
        nports = min(nports, port_budget[0])
        port_budget[0] -= nports
    docker = rng.random() < 0.75
    bridge = docker and nports > 0 and rng.random() < 0.5
    app = {"id": app_id}
    if docker:
        image = rng.choice(IMAGES).format(team=team, name=name, ver="1.%d.%d" % (rng.randint(0, 40), rng.randint(0, 9)))
        app["container"] = {"type": "DOCKER", "docker": {"image": image,
                                                          "forcePullImage": rng.random() < 0.3}}
        if rng.random() < 0.2:
            app["container"]["docker"]["parameters"] = [{"key": "log-driver", "value": "journald"}]
        if rng.random() < 0.15:
            app["container"]["volumes"] = [{"containerPath": "/etc/config", "hostPath": "/srv/config/%s" % name,
                                            "mode": "RO"}]
        if rng.random() < 0.5:
            app["args"] = ["--port", "8080", "--env", env]
    else:
        app["cmd"] = "./bin/%s --listen :$PORT0 --config conf/%s.yaml" % (name, env)
        app["fetch"] = [{"uri": "https://artifacts.example.com/%s/%s-1.%d.tgz" % (team, name, rng.randint(0, 90)),
                         "extract": True, "executable": False, "cache": False}]
    app["instances"] = rng.choices([1, 2, 3, 5], weights=[50, 30, 15, 5])[0]
    app["cpus"] = rng.choice([0.1, 0.25, 0.5, 1, 2])
    app["mem"] = rng.choice([64, 128, 256, 512, 1024, 2048])
    if rng.random() < 0.3:
        app["disk"] = rng.choice([0, 100, 1024])
    if bridge:
        app["networks"] = [{"mode": "container/bridge"}]
        app["container"]["portMappings"] = [
            {"containerPort": 8080 + i, "hostPort": 0, "servicePort": 0, "protocol": "tcp", "name": "http%d" % i}
            for i in range(nports)]
    else:
        app["portDefinitions"] = [{"port": 0, "protocol": "tcp", "name": "http%d" % i} for i in range(nports)]
    app["env"] = _env(rng, team, name, size)
    app["labels"] = _labels(rng, team, name, nports > 0, size)
    hc = _health(rng, nports > 0, bridge)
    if hc:
        app["healthChecks"] = hc
    if rng.random() < 0.4:
        app["constraints"] = [["hostname", "UNIQUE"]] if app["instances"] > 1 else [["rack", "GROUP_BY", "3"]]
    if rng.random() < 0.5:
        app["upgradeStrategy"] = {"minimumHealthCapacity": rng.choice([0.5, 1, 1.0]),
                                  "maximumOverCapacity": rng.choice([0, 0.2, 1])}
    if rng.random() < 0.3:
        app["backoffSeconds"] = 1
        app["backoffFactor"] = 1.15
        app["maxLaunchDelaySeconds"] = 3600
    return app


def generate(out_dir, n, seed=42):
    """Write n apps below out_dir. Returns (apps with absolute ids, files written)."""
    rng = random.Random(seed)
    port_budget = [int(min(n, 10000) * 0.45)]
    apps, files = [], []
    i = 0
    while i < n:
        team = TEAMS[rng.randrange(len(TEAMS))]
        env = ENVS[rng.choices([0, 1, 2], weights=[50, 30, 20])[0]]
        d = os.path.join(out_dir, team, env)
        os.makedirs(d, exist_ok=True)
        if n - i >= 5 and rng.random() < 0.025:
            # A group file: a small product of 2-5 apps with relative ids.
            gname = "grp-%05d" % i
            gid = "/%s/%s/%s" % (team, env, gname)
            members = []
            k = rng.randint(2, 5)
            for j in range(k):
                name = "%s-%d" % (KINDS[j % len(KINDS)], j)
                app = make_app(rng, team, env, name, name, port_budget)
                if j > 0 and rng.random() < 0.5:
                    app["dependencies"] = [KINDS[0] + "-0"]
                members.append(app)
                abs_app = dict(app)
                abs_app["id"] = gid + "/" + name
                if "dependencies" in app:
                    abs_app["dependencies"] = [gid + "/" + dep for dep in app["dependencies"]]
                apps.append(abs_app)
            doc = {"id": gid, "apps": members}
            path = os.path.join(d, gname + ".json")
            i += k
        else:
            name = "%s-%05d" % (rng.choice(KINDS), i)
            app = make_app(rng, team, env, name, "/%s/%s/%s" % (team, env, name), port_budget)
            apps.append(app)
            doc = app
            path = os.path.join(d, name + ".json")
            i += 1
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        files.append(path)
    return apps, files


def single_app_files(files):
    """The files that hold one app (not a group), sorted: candidates for changes."""
    return sorted(p for p in files if not os.path.basename(p).startswith("grp-"))


def one_step_deploy(app):
    """True when Marathon replaces all of the app's tasks in one step (so its deployment takes one D):
    no upgradeStrategy, or maximumOverCapacity 1 (every new task starts at once)."""
    us = app.get("upgradeStrategy")
    return us is None or us.get("maximumOverCapacity", 1) >= 1


def touch_apps(files, k, rev):
    """Change k single-app files whose deployment is one step: env BENCH_REV=rev (a real change).
    The same files for every rev. Returns the app ids."""
    ids = []
    for path in single_app_files(files):
        if len(ids) == k:
            break
        with open(path) as f:
            app = json.load(f)
        if not one_step_deploy(app):
            continue
        app.setdefault("env", {})["BENCH_REV"] = str(rev)
        with open(path, "w") as f:
            json.dump(app, f, indent=2)
            f.write("\n")
        ids.append(app["id"])
    return ids


def reformat_file(path, rev):
    """Rewrite path with another indentation: a new blob, the same app (no deployment)."""
    with open(path) as f:
        doc = json.load(f)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2 + (rev % 3) + 1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--sim-load", metavar="FILE")
    a = ap.parse_args()
    apps, files = generate(a.dir, a.n, a.seed)
    if a.sim_load:
        with open(a.sim_load, "w") as f:
            json.dump({"apps": apps}, f)
    sizes = [os.path.getsize(p) for p in files]
    print("gen.py: %d apps in %d files below %s (%d bytes, %d-%d per file)" %
          (len(apps), len(files), a.dir, sum(sizes), min(sizes), max(sizes)), file=sys.stderr)


if __name__ == "__main__":
    main()
