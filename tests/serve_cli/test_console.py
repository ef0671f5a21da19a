#!/usr/bin/env python3
"""The web console of `pacer serve` in a real browser (headless Chromium through Selenium).

Starts marathon-sim and pacer serve on loopback with a tokens file, puts apps in every
state the overview must show (synced, degraded, suspended, out of sync), then signs in
as an operator: the overview shows each app with its state, an app page shows its diff,
a restart shows new tasks, suspend and resume work, the overview updates live. A viewer
sees no action button and a forged POST is refused (403); so is a POST without the CSRF
token or from another origin; markup in a label and an env value is shown as text.
Screenshots of the overview and of an app page are written to the build directory.
Exits 0 only when every check passed.
"""
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
except ImportError:
    # A pyenv/venv python3 first in PATH does not see Debian's packages: use the system one.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("FAIL: python3-selenium is not installed (apt-get install python3-selenium)")
    sys.exit(1)

FAILURES = []
VIEWER = "viewer-token-0123456789abcdef"
OPERATOR = "operator-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"
XSS = "<script>window.__pwned=1</script>"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def binary(var, name):
    if os.environ.get(var):
        return os.environ[var]
    here = os.path.dirname(os.path.abspath(__file__))
    for d in ("build-h", "build"):
        p = os.path.join(here, "..", "..", d, name)
        if os.path.exists(p):
            return p
    sys.exit("%s not found: set %s" % (name, var))


def wait_for(pred, timeout, what):
    """pred() true within timeout seconds (doubled: the machine may be busy), else a failure."""
    end = time.time() + 2 * timeout
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception:  # the page is being replaced: look again
            pass
        time.sleep(0.1)
    return check(False, "in time: " + what)


def app(id_, image, extra=None):
    a = {"id": id_, "cmd": "sleep 1000", "cpus": 0.1, "mem": 32, "instances": 2,
         "container": {"type": "DOCKER", "docker": {"image": image}},
         "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}}]}
    a.update(extra or {})
    return a


class Env:
    """marathon-sim and pacer serve in a temp dir."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.src = os.path.join(tmp, "src")
        os.mkdir(self.src)
        self.write("web", app("/shop/web", "nginx:1.25", {"labels": {"team": XSS}}))
        self.write("bad", app("/shop/bad", "busybox:1", {"instances": 1}))
        self.write("paused", app("/shop/paused", "redis:7", {"instances": 1}))
        self.write("edit", app("/shop/edit", "httpd:2.4", {"instances": 1,
                                                           "env": {"NOTE": "</pre>" + XSS}}))
        tokens = os.path.join(tmp, "tokens")
        with open(tokens, "w") as f:
            f.write("viewer vera %s\noperator olga %s\nadmin adam %s\n" % (VIEWER, OPERATOR, ADMIN))
        os.chmod(tokens, 0o600)
        self.sim = subprocess.Popen([binary("PACER_SIM_BIN", "marathon-sim"), "--listen",
                                     "127.0.0.1:0", "--task-launch-ms", "50", "--health-ms", "50"],
                                    stdout=subprocess.PIPE, text=True)
        self.sim_url = self.sim.stdout.readline().strip()
        self.log_path = os.path.join(tmp, "serve.log")
        env = dict(os.environ, PACER_WEBHOOK_SECRET="console-test-secret")
        self.serve = subprocess.Popen(
            [binary("PACER_BIN", "pacer"), "serve", "--source", self.src, "--marathon",
             self.sim_url, "--state-dir", os.path.join(tmp, "state"), "--backup-dir",
             os.path.join(tmp, "backups"), "--listen", "127.0.0.1:0", "--interval", "0",
             "--tokens-file", tokens, "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"), env=env)
        port = wait_for(lambda: re.search(r"listening on .* \(port (\d+)\)", self.log()), 20,
                        "pacer serve listens")
        self.url = "http://127.0.0.1:%s" % port.group(1)
        wait_for(lambda: "serve: sync=1 finished result=converged" in self.log(), 30,
                 "the startup sync converges")

    def write(self, name, obj):
        with open(os.path.join(self.src, name + ".json"), "w") as f:
            json.dump(obj, f)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def api(self, method, path, token, body=None):
        req = urllib.request.Request(self.url + "/api/v1/" + path, method=method,
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        for p in (self.serve, self.sim):
            p.terminate()
        for p in (self.serve, self.sim):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def post(env, path, fields, cookie=None, origin=True):
    """A form POST outside the browser: (status, body)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    if origin:
        headers["Origin"] = origin if isinstance(origin, str) else env.url
    req = urllib.request.Request(env.url + path, method="POST", headers=headers,
                                 data=urllib.parse.urlencode(fields).encode())
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def browser(javascript=True):
    opts = webdriver.ChromeOptions()
    if not javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or
                                            "/usr/bin/chromedriver"), options=opts)


def login(d, env, token):
    d.delete_all_cookies()
    d.get(env.url + "/login")
    d.find_element(By.NAME, "token").send_keys(token)
    d.find_element(By.ID, "login").click()
    return wait_for(lambda: d.find_elements(By.ID, "apps"), 15, "the overview after sign-in")


def rows(d):
    """The overview's rows, read again when a live update replaced them meanwhile."""
    for _ in range(20):
        try:
            return {r.get_attribute("data-app-id"): r.get_attribute("data-status")
                    for r in d.find_elements(By.CSS_SELECTOR, "#apps tr[data-app-id]")}
        except StaleElementReferenceException:
            time.sleep(0.05)
    return {}


def session_cookie(d):
    c = d.get_cookie("pacer_session")
    return "pacer_session=" + c["value"] if c else None


def csrf_of(d):
    return d.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")


def act(d, env, app_path, action, timeout=30):
    """Click an action's button on an app page, confirm it, wait for its result."""
    d.get(env.url + app_path)
    d.find_element(By.CSS_SELECTOR, "button[data-action=%s]" % action).click()
    wait_for(lambda: d.find_element(By.ID, "confirm"), 10, action + ": the confirmation page")
    d.find_element(By.ID, "confirm").click()
    res = wait_for(lambda: d.find_element(By.ID, "result"), timeout, action + ": its result")
    return res and res.get_attribute("data-status")


def task_ids(d):
    return sorted(r.get_attribute("data-task-id")
                  for r in d.find_elements(By.CSS_SELECTOR, "#tasks tr[data-task-id]"))


def overview_checks(d, env, outdir):
    check(login(d, env, OPERATOR), "operator signs in with the form's token field")
    cookie = d.get_cookie("pacer_session")
    check(cookie and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict",
          "the session cookie is HttpOnly and SameSite=Strict: %s" % (cookie,))
    want = {"/shop/web": "synced", "/shop/bad": "degraded", "/shop/paused": "suspended",
            "/shop/edit": "out_of_sync"}
    got = wait_for(lambda: rows(d) == want and rows(d), 15, "every app with its state")
    check(got == want, "overview rows: %s" % (rows(d),))
    check(d.find_element(By.CSS_SELECTOR, "tr[data-app-id='/shop/bad'] .badge").text ==
          "degraded", "a state is shown as a word, not only a colour")
    check(wait_for(lambda: d.find_element(By.ID, "live-state").text == "live", 15,
                   "live updates arrive (Server-Sent Events)"), "the overview is live")
    d.find_element(By.ID, "filter").send_keys("pause")
    shown = [r.get_attribute("data-app-id") for r in
             d.find_elements(By.CSS_SELECTOR, "#apps tr[data-app-id]") if r.is_displayed()]
    check(shown == ["/shop/paused"], "the filter box filters: %s" % shown)
    d.find_element(By.ID, "filter").clear()
    d.get(env.url + "/")
    wait_for(lambda: d.find_element(By.ID, "live-state").text == "live", 15, "live again")
    d.save_screenshot(os.path.join(outdir, "console-overview.png"))


def live_checks(d, env):
    """A change made elsewhere (the API) shows up on an open overview without a reload."""
    d.get(env.url + "/")
    wait_for(lambda: d.find_element(By.ID, "live-state").text == "live", 15, "live")
    env.api("POST", "apps/shop/web/suspend", OPERATOR, {"reason": "by the API"})
    check(wait_for(lambda: rows(d).get("/shop/web") == "suspended", 15,
                   "the overview follows a suspend made elsewhere"), "live update of a row")
    env.api("POST", "apps/shop/web/resume", OPERATOR)
    check(wait_for(lambda: rows(d).get("/shop/web") == "synced", 15,
                   "and the resume"), "live update back to synced")


def app_page_checks(d, env, outdir):
    d.get(env.url + "/app/shop/edit")
    changes = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#changes tr.change td.mono")]
    check("/container/docker/image" in changes, "the app page lists the changed field: %s" %
          changes)
    marks = [m.get_attribute("data-path") for m in d.find_elements(By.CSS_SELECTOR, "mark.chg")]
    check(marks.count("/container/docker/image") == 2,
          "the changed leaf is marked on both sides: %s" % marks)
    body = d.find_element(By.TAG_NAME, "body").text
    check("httpd:2.4" in body and "httpd:2.5" in body, "both sides are shown")
    check(XSS in body, "an env value holding markup is shown as text")
    check(d.execute_script("return window.__pwned") is None, "and its script never ran")
    d.execute_script("document.getElementById('diff').scrollIntoView()")
    d.save_screenshot(os.path.join(outdir, "console-app.png"))
    d.get(env.url + "/app/shop/web")
    check(XSS in d.find_element(By.TAG_NAME, "body").text, "a label holding markup is text")
    check(d.execute_script("return window.__pwned") is None, "no script of a label ran")


def action_checks(d, env):
    d.get(env.url + "/app/shop/web")
    before = task_ids(d)
    check(len(before) == 2, "the app page lists the tasks: %s" % before)
    check(act(d, env, "/app/shop/web", "restart") == "done", "restart: done")
    d.get(env.url + "/app/shop/web")
    after = wait_for(lambda: len(task_ids(d)) == 2 and not set(task_ids(d)) & set(before) and
                     task_ids(d), 20, "new tasks after the restart")
    check(after and not set(after) & set(before), "restart replaced the tasks: %s" % after)
    hist = d.find_element(By.ID, "app-history").text
    check("console by olga" in hist and "restart" in hist,
          "the restart is in the app's history with the token's name")
    check(act(d, env, "/app/shop/web", "suspend") == "done", "suspend: done")
    d.get(env.url + "/app/shop/web")
    check(d.find_element(By.CSS_SELECTOR, ".badge").text == "suspended", "the app is suspended")
    check(act(d, env, "/app/shop/web", "resume") == "done", "resume: done")
    d.get(env.url + "/app/shop/web")
    check(d.find_element(By.CSS_SELECTOR, ".badge").text == "synced", "resumed: synced again")
    check(not d.find_elements(By.CSS_SELECTOR, "button[data-action=delete]"),
          "an operator sees no delete button")


def refusal_checks(d, env):
    cookie = session_cookie(d)
    d.get(env.url + "/app/shop/web")
    csrf = csrf_of(d)
    fields = {"app": "/shop/web", "confirmed": "1"}
    status, _, _ = post(env, "/action/restart", fields, cookie)
    check(status == 403, "a POST without the CSRF token is refused (%d)" % status)
    status, _, _ = post(env, "/action/restart", dict(fields, csrf="0" * 64), cookie)
    check(status == 403, "a POST with a wrong CSRF token is refused (%d)" % status)
    status, _, _ = post(env, "/action/restart", dict(fields, csrf=csrf), cookie,
                        origin="http://evil.example")
    check(status == 403, "a POST from another origin is refused (%d)" % status)
    status, _, _ = post(env, "/action/restart", dict(fields, csrf=csrf), cookie, origin=False)
    check(status == 403, "a POST with neither Origin nor Referer is refused (%d)" % status)
    status, _, _ = post(env, "/action/delete", dict(fields, csrf=csrf, confirm_id="/shop/web"),
                        cookie)
    check(status == 403, "an operator cannot delete, even by a forged POST (%d)" % status)
    status, body, headers = post(env, "/login", {"token": "not-a-token-at-all-0000"})
    check(status == 401 and "not-a-token" not in body, "a wrong token is refused, not echoed")
    status, _, headers = post(env, "/login", {"token": VIEWER})
    sc = headers.get("Set-Cookie", "")
    check(status == 303 and "HttpOnly" in sc and "SameSite=Strict" in sc and "Max-Age=" in sc,
          "sign-in answers a session cookie: %s" % re.sub(r"=[0-9a-f]{64}", "=…", sc))
    check("Secure" not in sc, "no Secure flag over plain HTTP")
    req = urllib.request.Request(env.url + "/login", method="POST",
                                 data=urllib.parse.urlencode({"token": VIEWER}).encode(),
                                 headers={"Origin": env.url, "X-Forwarded-Proto": "https"})
    try:
        urllib.request.build_opener(NoRedirect).open(req, timeout=10)
        sc = ""
    except urllib.error.HTTPError as e:
        sc = e.headers.get("Set-Cookie", "")
    check(re.search(r"; Secure\b", sc), "the Secure flag when served over TLS (a proxy's "
          "X-Forwarded-Proto: https)")
    req = urllib.request.Request(env.url + "/", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as r:
        csp = r.headers.get("Content-Security-Policy", "")
        page = r.read().decode()
        check("script-src 'self'" in csp and "unsafe-inline" not in csp and
              r.headers.get("X-Frame-Options") == "DENY", "strict CSP and X-Frame-Options")
        check(OPERATOR not in page, "no token in the page")
    check(OPERATOR not in env.log() and VIEWER not in env.log(), "no token in the log")


def nojs_checks(env):
    """Without JavaScript: the overview, its filter (a GET form) and a confirmed action."""
    d = browser(javascript=False)
    try:
        check(login(d, env, OPERATOR), "signs in without JavaScript")
        check(d.find_element(By.ID, "live-state").text == "not live", "no live updates without "
              "JavaScript, and the page says so")
        check(len(rows(d)) == 4, "every app is listed without JavaScript: %s" % rows(d))
        check(d.find_element(By.ID, "filter-go").is_displayed(), "the Filter button shows "
              "(the script hides it: it did not run)")
        d.find_element(By.ID, "filter").send_keys("pause")
        d.find_element(By.ID, "filter-go").click()
        wait_for(lambda: "q=pause" in d.current_url, 10, "the filter form's GET")
        check(list(rows(d)) == ["/shop/paused"], "the filter works as a form: %s" % rows(d))
        check(act(d, env, "/app/shop/paused", "sync") == "done", "an action without JavaScript")
    finally:
        d.quit()


def admin_checks(d, env):
    """Scale, roll back to a backup, and delete (admin only, the app id typed)."""
    check(login(d, env, ADMIN), "admin signs in")
    d.get(env.url + "/app/shop/web")
    box = d.find_element(By.CSS_SELECTOR, "form[action='/action/scale'] input[name=instances]")
    box.clear()
    box.send_keys("3")
    d.find_element(By.CSS_SELECTOR, "button[data-action=scale]").click()
    q = wait_for(lambda: d.find_element(By.ID, "question"), 10, "scale: the confirmation")
    check(q and "to 3 instances" in q.text, "scale asks first")
    d.find_element(By.ID, "confirm").click()
    res = wait_for(lambda: d.find_element(By.ID, "result"), 30, "scale: its result")
    check(res and res.get_attribute("data-status") == "done", "scale to 3: done")
    d.get(env.url + "/app/shop/web")
    check(wait_for(lambda: len(task_ids(d)) == 3, 10, "3 tasks"), "scaled to 3 tasks")
    # /shop/edit was updated by a sync since: it has a backup to roll back to.
    d.get(env.url + "/app/shop/edit")
    buttons = d.find_elements(By.CSS_SELECTOR, "#backups button[data-action=rollback]")
    if check(buttons, "the app page lists backups with a roll-back button"):
        buttons[0].click()
        wait_for(lambda: d.find_element(By.ID, "confirm"), 10, "rollback: the confirmation")
        d.find_element(By.ID, "confirm").click()
        res = wait_for(lambda: d.find_element(By.ID, "result"), 30, "rollback: its result")
        check(res and res.get_attribute("data-status") == "done", "rollback: done")
        live = env.api("GET", "apps/shop/edit", ADMIN)
        check(live.get("image") == "httpd:2.4" and live.get("suspended"),
              "rolled back to httpd:2.4 and suspended: %s" % live.get("image"))
    d.get(env.url + "/app/shop/bad")
    d.find_element(By.CSS_SELECTOR, "button[data-action=delete]").click()
    wait_for(lambda: d.find_element(By.ID, "confirm-id"), 10, "delete: the confirmation")
    d.find_element(By.ID, "confirm-id").send_keys("/shop/wrong")
    d.find_element(By.ID, "confirm").click()
    err = wait_for(lambda: d.find_element(By.ID, "error"), 10, "delete: refused")
    check(err and "type the app id" in err.text, "delete refuses a mistyped app id")
    d.find_element(By.ID, "confirm-id").send_keys("/shop/bad")
    d.find_element(By.ID, "confirm").click()
    res = wait_for(lambda: d.find_element(By.ID, "result"), 30, "delete: its result")
    check(res and res.get_attribute("data-status") == "done", "delete with the id typed: done")
    d.get(env.url + "/")
    check(wait_for(lambda: rows(d).get("/shop/bad") == "suspended", 10, "deleted, suspended"),
          "after delete the app is suspended (not recreated by the next sync): %s" % rows(d))
    d.get(env.url + "/history")
    text = d.find_element(By.ID, "history").text
    check("console by adam" in text and "delete" in text and "rollback" in text,
          "the history page lists the actions with who made them")


def viewer_checks(d, env):
    check(login(d, env, VIEWER), "viewer signs in")
    check(not d.find_elements(By.CSS_SELECTOR, "[data-action]"), "a viewer sees no action "
          "button on the overview")
    d.get(env.url + "/app/shop/web")
    check(not d.find_elements(By.CSS_SELECTOR, "[data-action]"), "nor on an app page")
    csrf = csrf_of(d)
    status, _, _ = post(env, "/action/restart", {"app": "/shop/web", "confirmed": "1",
                                                 "csrf": csrf}, session_cookie(d))
    check(status == 403, "a viewer's forged POST gets 403 (%d)" % status)
    old = session_cookie(d)
    d.find_element(By.ID, "logout").click()
    wait_for(lambda: d.find_elements(By.NAME, "token"), 10, "the sign-in page after logout")
    req = urllib.request.Request(env.url + "/", headers={"Cookie": old})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(req, timeout=10)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    check(status == 303, "after logout the old cookie is worth nothing (%d)" % status)


def busy_checks(d, env):
    """While a sync waits for a deployment, pages say so at once instead of hanging."""
    check(login(d, env, OPERATOR), "operator signs in again")
    env.write("slow", app("/shop/slow", "nginx:1.25", {"instances": 1,
                                                       "env": {"SIM_BEHAVIOR": "unhealthy"}}))
    d.find_element(By.CSS_SELECTOR, "button[data-action=sync]").click()
    wait_for(lambda: d.find_element(By.ID, "confirm"), 10, "sync: the confirmation")
    d.find_element(By.ID, "confirm").click()
    res = wait_for(lambda: d.find_element(By.ID, "result"), 10, "sync: its result")
    check(res and "queued" in res.text, "sync all: queued")
    # The sync holds the state once it has submitted the new app and waits for it.
    wait_for(lambda: re.search(r"app=/shop/slow .*event=submit", env.log()), 15,
             "the sync waits for /shop/slow")
    t0 = time.time()
    d.get(env.url + "/")
    stale = d.find_elements(By.ID, "stale")
    check(stale and time.time() - t0 < 20, "the overview says a sync runs (%.1f s)" %
          (time.time() - t0))
    check(stale and "as pacer read them at" in stale[0].text, "and when the apps shown were read")
    rows = d.find_elements(By.CSS_SELECTOR, "tr[data-app-id]")
    check(any(r.get_attribute("data-app-id") == "/shop/edit" for r in rows),
          "and still shows every app (%d rows)" % len(rows))
    check(d.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]"), "and reloads by itself")
    t0 = time.time()
    d.get(env.url + "/app/shop/edit")
    busy = d.find_elements(By.ID, "busy")
    check(busy and time.time() - t0 < 20, "an app page says a sync runs (%.1f s)" %
          (time.time() - t0))


def main():
    t0 = time.time()
    outdir = os.path.dirname(os.environ.get("PACER_BIN", "")) or tempfile.gettempdir()
    tmp = tempfile.mkdtemp(prefix="pacer-console-")
    env = d = None
    try:
        env = Env(tmp)
        urllib.request.urlopen(urllib.request.Request(
            env.sim_url + "/_sim/apps/shop/bad/behavior", method="POST",
            data=b'{"behavior": "crash"}'), timeout=10).read()
        env.api("POST", "apps/shop/paused/suspend", OPERATOR, {"reason": "<b>maintenance</b>"})
        # The suspension triggers a sync; the edit comes after it, so it stays out of sync
        # until the next sync (the live checks' suspend).
        wait_for(lambda: "serve: sync=2 finished" in env.log(), 30, "the suspension's sync")
        env.write("edit", app("/shop/edit", "httpd:2.5", {"instances": 1,
                                                          "env": {"NOTE": "</pre>" + XSS}}))
        d = browser()
        overview_checks(d, env, outdir)
        app_page_checks(d, env, outdir)
        live_checks(d, env)
        action_checks(d, env)
        refusal_checks(d, env)
        nojs_checks(env)
        admin_checks(d, env)
        viewer_checks(d, env)
        busy_checks(d, env)
    except Exception as e:  # report, then clean up
        traceback.print_exc()
        check(False, "no exception: %r (at %s)" % (e, d.current_url if d else "-"))
    finally:
        if d:
            d.quit()
        if env:
            env.stop()
            if FAILURES:
                print("----- pacer serve log -----\n" + env.log()[-6000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%.1f s; screenshots in %s" % (time.time() - t0, outdir))
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
