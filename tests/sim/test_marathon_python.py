#!/usr/bin/env python3
"""marathon-sim against the real marathon-python client (Debian python3-marathon).

Starts its own simulator, drives create/get/list/update(force)/scale/restart/
kill_task/kill_tasks/kill_given_tasks/delete, the deployment calls and the event
stream through marathon.MarathonClient, and exits 0 only when every check passed.
"""
import os
import queue
import subprocess
import sys
import threading
import time

try:
    import marathon
    from marathon.models import MarathonApp, MarathonHealthCheck
except ImportError:
    # A pyenv/venv python3 first in PATH does not see Debian's packages: use the system one.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("FAIL: python3-marathon is not installed (apt-get install python3-marathon)")
    sys.exit(1)

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def sim_binary():
    env = os.environ.get("PACER_SIM_BIN")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for d in ("build", "build-test"):
        p = os.path.join(here, "..", "..", d, "marathon-sim")
        if os.path.exists(p):
            return p
    sys.exit("marathon-sim not found: set PACER_SIM_BIN")


def wait_idle(c, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if not c.list_deployments():
            return True
        time.sleep(0.05)
    return False


def main():
    proc = subprocess.Popen([sim_binary(), "--listen", "127.0.0.1:0", "--task-launch-ms", "50",
                             "--health-ms", "50"], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        check(url.startswith("http://127.0.0.1:"), "simulator printed its URL first: " + url)
        run(marathon.MarathonClient([url]))
    finally:
        proc.terminate()
        rc = proc.wait(timeout=20)
        check(rc == 0, "simulator exited cleanly on SIGTERM (rc=%d)" % rc)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


def run(c):
    check(c.ping().strip() in (b"pong", b'"pong"'), "ping")
    info = c.get_info()
    check(info.name == "marathon" and info.http_config is not None, "get_info parses")
    check(c.get_leader().get("leader", "").startswith("127.0.0.1:"), "get_leader")

    events = queue.Queue()

    def listen():
        try:
            for ev in c.event_stream(event_types=["deployment_success", "status_update_event"]):
                events.put(ev)
        except Exception as e:  # the stream ends when the simulator stops
            events.put(e)

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(0.3)

    app = c.create_app("/py/web", MarathonApp(cmd="sleep 1000", instances=2, cpus=0.1, mem=16,
                                              health_checks=[MarathonHealthCheck(protocol="HTTP", path="/")]))
    check(app is not False and app.id == "/py/web", "create_app returns the app (201)")
    check(wait_idle(c), "the create deployment finishes")
    got = c.get_app("/py/web")
    check(got.instances == 2 and got.tasks_running == 2 and got.tasks_healthy == 2, "get_app counts")
    check(len(got.tasks) == 2, "get_app embeds tasks")
    apps = c.list_apps(embed_tasks=True)
    check([a.id for a in apps] == ["/py/web"], "list_apps")

    r = c.update_app("/py/web", MarathonApp(cmd="sleep 2000", instances=2, cpus=0.1, mem=16), force=True)
    check("deploymentId" in r, "update_app(force=True) answers a deployment")
    check(wait_idle(c), "the update deployment finishes")
    check(c.get_app("/py/web").cmd == "sleep 2000", "update_app changed cmd")

    r = c.scale_app("/py/web", instances=3)
    check("deploymentId" in r, "scale_app")
    check(wait_idle(c), "the scale deployment finishes")
    check(c.get_app("/py/web").tasks_running == 3, "scaled to 3 running tasks")

    r = c.restart_app("/py/web")
    check("deploymentId" in r, "restart_app")
    check(wait_idle(c), "the restart deployment finishes")
    check(len(c.list_versions("/py/web")) >= 3, "list_versions")

    tasks = c.list_tasks("/py/web")
    check(len(tasks) == 3, "list_tasks")
    killed = c.kill_task("/py/web", tasks[0].id)
    check(getattr(killed, "id", None) == tasks[0].id, "kill_task returns the task")
    check(c.kill_given_tasks([tasks[1].id], scale=True), "kill_given_tasks (POST /v2/tasks/delete)")
    check(c.get_app("/py/web").instances == 2, "kill_given_tasks(scale=True) lowers instances")
    killed = c.kill_tasks("/py/web")
    check(isinstance(killed, list) and len(killed) >= 1, "kill_tasks returns the killed tasks")
    check(wait_idle(c), "idle after kills")

    # A deployment that never finishes, then cancelled with rollback and with force.
    c.update_app("/py/web", MarathonApp(cmd="broken", env={"SIM_BEHAVIOR": "unhealthy"}, instances=2), force=True)
    deps = c.list_deployments()
    check(len(deps) == 1 and deps[0].affected_apps == ["/py/web"], "list_deployments")
    r = c.delete_deployment(deps[0].id)
    check("deploymentId" in r, "delete_deployment rolls back")
    check(c.get_app("/py/web").cmd == "sleep 2000", "rollback restored the previous cmd")
    check(wait_idle(c), "rollback finishes")
    c.update_app("/py/web", MarathonApp(cmd="broken", env={"SIM_BEHAVIOR": "unhealthy"}), force=True)
    deps = c.list_deployments()
    check(c.delete_deployment(deps[0].id, force=True) == {}, "delete_deployment(force=True)")
    check(not c.list_deployments(), "force delete removed the deployment")

    try:
        c.update_app("/py/web", MarathonApp(cmd="again", env={"SIM_BEHAVIOR": "unhealthy"}), force=True)
        c.update_app("/py/web", MarathonApp(cmd="conflict"))
        check(False, "update without force during a deployment raises ConflictError")
    except marathon.exceptions.ConflictError:
        check(True, "update without force during a deployment raises ConflictError")

    r = c.delete_app("/py/web", force=True)
    check("deploymentId" in r, "delete_app")
    try:
        c.get_app("/py/web")
        check(False, "get_app of a deleted app raises NotFoundError")
    except marathon.exceptions.NotFoundError:
        check(True, "get_app of a deleted app raises NotFoundError")

    seen_success = seen_status = False
    end = time.time() + 5
    while time.time() < end and not (seen_success and seen_status):
        try:
            ev = events.get(timeout=0.5)
        except queue.Empty:
            continue
        if isinstance(ev, Exception):
            check(False, "event stream failed: %r" % ev)
            break
        seen_success |= ev.event_type == "deployment_success"
        seen_status |= ev.event_type == "status_update_event"
    check(seen_success, "event_stream delivered deployment_success")
    check(seen_status, "event_stream delivered status_update_event")


if __name__ == "__main__":
    main()
