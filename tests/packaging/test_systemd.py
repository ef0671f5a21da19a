#!/usr/bin/env python3
"""pacer as systemd runs it, checked without systemd.

- Type=notify: pacer watch and pacer serve speak the sd_notify protocol to
  $NOTIFY_SOCKET (a datagram socket this test binds): STATUS= while and after
  a sync, READY=1 (watch: after the first sync; serve: once it listens),
  WATCHDOG=1 every half $WATCHDOG_USEC, STOPPING=1 on SIGTERM, then exit 0.
- LoadCredential= with DynamicUser=: secrets from $CREDENTIALS_DIRECTORY/<name>
  (marathon-password against a marathon-sim that requires basic auth,
  webhook-secret for serve; marathon-sim's --token-file by credential name);
  the variable and VAR_FILE still come first.
- A PACER_* variable pacer does not know is warned about, naming the nearest.

Exits 0 only when every check passed. The notify checks are skipped, saying
so, when pacer was built without libsystemd.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def binary(var, name):
    if os.environ.get(var):
        return os.environ[var]
    for d in ("build-test", "build"):
        p = os.path.join(HERE, "..", "..", d, name)
        if os.path.exists(p):
            return p
    sys.exit(name + " not found: set " + var)


PACER = binary("PACER_BIN", "pacer")
SIM = binary("PACER_SIM_BIN", "marathon-sim")


def clean_env(**extra):
    """The test's environment without PACER_* and systemd variables, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PACER_") and k not in
           ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY")}
    env.update(extra)
    return env


def start_sim(*args, env=None):
    proc = subprocess.Popen([SIM, "--listen", "127.0.0.1:0", "--task-launch-ms", "50",
                             "--health-ms", "50", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env or clean_env())
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        sys.exit("marathon-sim did not start: " + url)
    return proc, url


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Notify:
    """The socket systemd would listen on for sd_notify() messages."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait_for(self, pred, timeout):
        """Read messages until one satisfies pred (it is returned) or time runs out."""
        end = time.time() + timeout
        while time.time() < end:
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            for line in data.split("\n"):
                if line:
                    self.messages.append((time.time(), line))
                    if pred(line):
                        return line
        return None

    def close(self):
        self.sock.close()


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def has_libsystemd():
    out = subprocess.run(["ldd", PACER], capture_output=True, text=True).stdout
    return "libsystemd" in out


def apps_dir(tmp):
    d = os.path.join(tmp, "apps")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "web.json"),
          '{"id": "/sd/web", "cmd": "sleep 1000", "cpus": 0.1, "mem": 32, "instances": 1}\n', 0o644)
    return d


def check_watchdog_then_stop(proc, notify, what, seconds, why):
    """At least 3 WATCHDOG=1 within seconds (why: what that shows); then on
    SIGTERM, STOPPING=1 and exit 0."""
    start = time.time()
    pings = 0
    while time.time() - start < seconds:
        if notify.wait_for(lambda m: m == "WATCHDOG=1", seconds - (time.time() - start)):
            pings += 1
    check(pings >= 3, "%s: WATCHDOG=1 %s (%d in %g s, want >= 3)" % (what, why, pings, seconds))
    proc.send_signal(signal.SIGTERM)
    check(notify.wait_for(lambda m: m == "STOPPING=1", 10) is not None,
          "%s: STOPPING=1 on SIGTERM" % what)
    rc = proc.wait(30)
    check(rc == 0, "%s: exits 0 after SIGTERM (%s)" % (what, rc))


def test_watch_notify(tmp, url):
    notify = Notify(os.path.join(tmp, "notify-watch"))
    env = clean_env(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="300000")
    proc = subprocess.Popen([PACER, "watch", "--source", apps_dir(tmp), "--marathon", url,
                             "--state-dir", os.path.join(tmp, "state-watch"),
                             "--resync-interval", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ready = notify.wait_for(lambda m: m == "READY=1", 30)
        check(ready is not None, "watch: READY=1 once the first sync returned")
        texts = [m for _, m in notify.messages]
        check("STATUS=syncing (startup)" in texts, "watch: STATUS=syncing (startup) while it syncs")
        last = [m for m in texts if m.startswith("STATUS=last sync")]
        check(bool(last) and texts.index(last[0]) < texts.index("READY=1") and
              "converged" in last[0] and "1 apps" in last[0],
              "watch: STATUS= with the first sync's result before READY=1: %s" % last[:1])
        check_watchdog_then_stop(proc, notify, "watch", 1.0, "every half WATCHDOG_USEC")
    finally:
        stop(proc)
        notify.close()


def test_serve_notify_and_credentials(tmp):
    """serve: Marathon's password and the webhook secret only as credentials."""
    write(os.path.join(tmp, "sim-credentials"), "pacer:s3cret-password\n")
    sim, url = start_sim("--http-credentials-file", os.path.join(tmp, "sim-credentials"))
    creds = os.path.join(tmp, "credentials-serve")
    os.makedirs(creds)
    write(os.path.join(creds, "marathon-password"), "s3cret-password\n")
    write(os.path.join(creds, "webhook-secret"), "a-webhook-secret\n")
    notify = Notify(os.path.join(tmp, "notify-serve"))
    env = clean_env(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="300000", PACER_MARATHON_USER="pacer",
                    CREDENTIALS_DIRECTORY=creds)
    proc = subprocess.Popen([PACER, "serve", "--source", apps_dir(tmp), "--marathon", url,
                             "--state-dir", os.path.join(tmp, "state-serve"),
                             "--listen", "127.0.0.1:0", "--interval", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        check(notify.wait_for(lambda m: m == "READY=1", 30) is not None,
              "serve: READY=1 once it listens (the webhook secret came from the credential)")
        last = notify.wait_for(lambda m: m.startswith("STATUS=last sync"), 30)
        check(last is not None and "converged" in last,
              "serve: the startup sync converged against a Marathon that requires the "
              "password from the credential: %s" % last)
        check_watchdog_then_stop(proc, notify, "serve", 1.5, "while GET /healthz answers")
    finally:
        stop(proc)
        notify.close()
        stop(sim)


def test_credentials(tmp):
    write(os.path.join(tmp, "sim-credentials2"), "pacer:another-password\n")
    sim, url = start_sim("--http-credentials-file", os.path.join(tmp, "sim-credentials2"))
    creds = os.path.join(tmp, "credentials")
    os.makedirs(creds)

    def diff(**env):
        r = subprocess.run([PACER, "diff", "--source", apps_dir(tmp), "--marathon", url],
                           env=clean_env(PACER_MARATHON_USER="pacer", **env),
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stderr

    try:
        rc, err = diff(CREDENTIALS_DIRECTORY=creds)
        check(rc not in (0, 2), "no credential: Marathon refuses (exit %d)" % rc)
        write(os.path.join(creds, "marathon-password"), "another-password\n")
        rc, err = diff(CREDENTIALS_DIRECTORY=creds)
        check(rc == 2, "credential marathon-password: pacer diff reaches Marathon (exit %d) %s"
              % (rc, err.strip()[-200:]))
        rc, err = diff(CREDENTIALS_DIRECTORY=creds, PACER_MARATHON_PASSWORD="wrong-password")
        check(rc not in (0, 2), "PACER_MARATHON_PASSWORD comes before the credential (exit %d)" % rc)
        write(os.path.join(tmp, "password-file"), "another-password\n")
        rc, err = diff(CREDENTIALS_DIRECTORY=creds,
                       PACER_MARATHON_PASSWORD_FILE=os.path.join(tmp, "password-file"))
        check(rc == 2, "PACER_MARATHON_PASSWORD_FILE still works beside it (exit %d)" % rc)
        check("another-password" not in err, "the password is never printed")
    finally:
        stop(sim)

    # marathon-sim: a bare --token-file name is a credential.
    write(os.path.join(creds, "sim-token"), "tok-123456\n")
    sim, url = start_sim("--token-file", "sim-token", env=clean_env(CREDENTIALS_DIRECTORY=creds))
    try:
        def get(headers):
            try:
                return urllib.request.urlopen(urllib.request.Request(url + "/v2/apps",
                                                                     headers=headers),
                                              timeout=10).status
            except urllib.error.HTTPError as e:
                return e.code
        check(get({}) == 401 and get({"Authorization": "token=tok-123456"}) == 200,
              "marathon-sim --token-file sim-token reads the credential sim-token")
    finally:
        stop(sim)


def test_unknown_variables(tmp):
    def validate(**env):
        return subprocess.run([PACER, "validate", apps_dir(tmp)], env=clean_env(**env),
                              capture_output=True, text=True, timeout=60)

    r = validate(PACER_CA_FILE="/etc/ssl/ca.pem", PACER_TIMOUT="30", PACER_NO_SUCH_THING="1")
    check(r.returncode == 0, "unknown variables do not fail a command (exit %d)" % r.returncode)
    check("PACER_CA_FILE" in r.stderr and "did you mean PACER_MARATHON_CA_FILE" in r.stderr,
          "PACER_CA_FILE: did you mean PACER_MARATHON_CA_FILE")
    check("did you mean PACER_TIMEOUT" in r.stderr, "PACER_TIMOUT: did you mean PACER_TIMEOUT")
    check("PACER_NO_SUCH_THING is not a pacer variable" in r.stderr,
          "PACER_NO_SUCH_THING is warned about, with no suggestion")
    r = validate(PACER_MARATHON_URL="http://m:8080", PACER_MARATHON_PASSWORD_FILE="/x",
                 PACER_WEBHOOK_SECRET="s3cr3t-s3cr3t", PACER_NO_CACHE="1", PACER_SELF_HEAL="1",
                 PACER_LISTEN="127.0.0.1:1")
    check("environment:" not in r.stderr,
          "known variables (tables, secrets, *_FILE) are not warned about: %s" % r.stderr.strip())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_unknown_variables(tmp)
        test_credentials(tmp)
        if has_libsystemd():
            sim, url = start_sim()
            try:
                test_watch_notify(tmp, url)
            finally:
                stop(sim)
            test_serve_notify_and_credentials(tmp)
        else:
            print("SKIP the sd_notify checks: pacer was built without libsystemd "
                  "(apt-get install libsystemd-dev)")
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all systemd checks passed")


if __name__ == "__main__":
    main()
