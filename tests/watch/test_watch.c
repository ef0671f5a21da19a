/*
 * pacer watch end to end: a real pacer process against a real marathon-sim,
 * driven by real file edits, real git commits and real PUTs to the
 * simulator (drift). Every test ends with SIGTERM and checks exit 0.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"
#include "tests/lib/longrun.h"

static struct ct t; /* static: the .fini may run after the test frame is gone */
static struct lr_proc watcher;

static void fini(void)
{
	if (watcher.pid)
		lr_stop(&watcher, SIGKILL, 2000);
	ct_fini();
}

static char *app_json(const char *id, int mem, const char *extra)
{
	char *s = NULL;

	cr_assert(asprintf(&s,
	                   "{\n  \"id\": \"%s\",\n  \"cmd\": \"sleep 1000\",\n  \"cpus\": 0.1,\n"
	                   "  \"mem\": %d,\n  \"instances\": 1%s\n}\n",
	                   id, mem, extra ? extra : "") >= 0);
	return s;
}

static void write_app(const char *dir, const char *rel, const char *id, int mem)
{
	char *p = NULL, *s = app_json(id, mem, NULL);

	cr_assert(asprintf(&p, "%s/%s", dir, rel) >= 0);
	cr_assert_eq(test_write_file(p, s), 0);
	free(p);
	free(s);
}

/* The app's mem in the simulator, -1 when absent. */
static int sim_mem(const char *id)
{
	struct json_object *app = ct_app(&t, id), *v;
	int mem = -1;

	if (app && json_object_object_get_ex(app, "mem", &v))
		mem = json_object_get_int(v);
	json_object_put(app);
	return mem;
}

/* Wait until the app's mem is `mem`; 1 when it was within timeout_ms. */
static int wait_mem(const char *id, int mem, int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;

	while (lr_now_ms() < end) {
		if (sim_mem(id) == mem)
			return 1;
		lr_sleep_ms(50);
	}
	return sim_mem(id) == mem;
}

/* Start `pacer watch` on `source` with the test's sim, state and fast timers. */
static void start_watch(const char *source, const char *const *extra)
{
	const char *argv[40] = {test_pacer_bin(), "watch",   "--source",    source,
	                        "--marathon",     t.sim.url, "--state-dir", t.state,
	                        "--backup-dir",   t.backups, "--debounce",  "200",
	                        "--interval",     "1",       "--log-level", "info"};
	size_t n = 16;
	char *log = NULL;

	for (size_t i = 0; extra && extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	cr_assert(asprintf(&log, "%s/watch.log", t.dir) >= 0);
	lr_start(&watcher, argv, NULL, log);
	free(log);
}

static void expect_log(const char *needle, int n, int timeout_ms)
{
	if (!lr_wait_log(&watcher, needle, n, timeout_ms)) {
		lr_dump(&watcher, "pacer watch");
		cr_assert_fail("pacer watch did not log '%s' (x%d) within %d ms", needle, n,
		               timeout_ms);
	}
}

static void expect_mem(const char *id, int mem, int timeout_ms)
{
	if (!wait_mem(id, mem, timeout_ms)) {
		lr_dump(&watcher, "pacer watch");
		cr_assert_fail("app %s: mem is %d in the simulator, expected %d within %d ms", id,
		               sim_mem(id), mem, timeout_ms);
	}
}

/* SIGTERM: exit 0, promptly. */
static void stop_watch(void)
{
	char *log = lr_log(&watcher);
	int rc;

	rc = lr_stop(&watcher, SIGTERM, 10000);
	if (rc != 0)
		fprintf(stderr, "----- pacer watch log -----\n%s\n", log);
	cr_assert_eq(rc, 0, "pacer watch exited %d on SIGTERM, expected 0", rc);
	free(log);
}

/* Wait until the metrics file holds `needle`; 1 when it does. */
static int wait_file_has(const char *path, const char *needle, int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;

	do {
		char *s = test_read_file(path, NULL);
		int ok = s && strstr(s, needle);

		free(s);
		if (ok)
			return 1;
		lr_sleep_ms(50);
	} while (lr_now_ms() < end);
	return 0;
}

Test(watch, directory_edit_and_atomic_rename, .timeout = 60, .fini = fini)
{
	char *tmp = NULL, *dst = NULL, *metrics = NULL, *s;
	const char *extra[3] = {"--metrics-file", NULL, NULL};

	ct_setup(&t, NULL);
	cr_assert(asprintf(&metrics, "%s/pacer.prom", t.dir) >= 0);
	extra[1] = metrics;
	write_app(t.src, "web.json", "/web", 32);
	start_watch(t.src, extra);
	expect_log("sync result=converged reason=\"startup\"", 1, 15000);
	cr_assert_eq(sim_mem("/web"), 32);
	cr_assert(wait_file_has(metrics, "pacer_syncs_total{result=\"converged\"} 1\n", 5000),
		  "no metrics file after the first sync");

	/* Edit in place. */
	write_app(t.src, "web.json", "/web", 48);
	expect_mem("/web", 48, 5000);
	cr_assert(wait_file_has(metrics, "pacer_syncs_total{result=\"converged\"} 2\n", 5000),
		  "the metrics file does not count the second sync");
	free(metrics);

	/* An editor's save: write a temp file, rename it over the original. */
	cr_assert(asprintf(&tmp, "%s/.web.json.swp", t.src) >= 0);
	cr_assert(asprintf(&dst, "%s/web.json", t.src) >= 0);
	s = app_json("/web", 64, NULL);
	cr_assert_eq(test_write_file(tmp, s), 0);
	cr_assert_eq(rename(tmp, dst), 0);
	expect_mem("/web", 64, 5000);

	/* A new file in a new subdirectory creates the app. */
	write_app(t.src, "team/api.json", "/team/api", 40);
	expect_mem("/team/api", 40, 5000);

	stop_watch();
	free(s);
	free(tmp);
	free(dst);
	ct_teardown(&t);
}

Test(watch, burst_of_writes_is_at_most_two_syncs, .timeout = 60, .fini = fini)
{
	int puts, syncs;

	ct_setup(&t, NULL);
	write_app(t.src, "web.json", "/web", 32);
	start_watch(t.src, NULL);
	expect_log("sync result=converged reason=\"startup\"", 1, 15000);
	cr_assert_eq(ct_http(&t, "DELETE", "/_sim/requests", NULL, NULL), 200);

	for (int i = 1; i <= 50; i++)
		write_app(t.src, "web.json", "/web", 32 + i);
	expect_mem("/web", 82, 8000);
	/* Let a late second sync show itself before counting. */
	lr_sleep_ms(1500);
	expect_log("sync result=converged reason=\"files changed\"", 1, 5000);

	puts = ct_count_requests(&t, "PUT", "/v2/apps") + ct_count_requests(&t, "POST", "/v2/apps");
	syncs = lr_count(&watcher, "sync start reason=\"files changed\"");
	cr_assert(puts >= 1 && puts <= 2, "50 writes made %d PUT/POST, expected 1 or 2", puts);
	cr_assert(syncs >= 1 && syncs <= 2, "50 writes made %d syncs, expected 1 or 2", syncs);
	stop_watch();
	ct_teardown(&t);
}

/* A bare remote and a working clone that pushes to it; returns the file:// URL. */
static char *make_repo(char **work)
{
	char *url = NULL;

	cr_assert(asprintf(work, "%s/work", t.dir) >= 0);
	free(lr_sh(t.dir, "git init -q --bare -b main remote.git && git init -q -b main work && "
	                  "git -C work remote add origin ../remote.git"));
	cr_assert(asprintf(&url, "file://%s/remote.git", t.dir) >= 0);
	return url;
}

static char *commit(const char *work, const char *msg)
{
	free(lr_sh(work, "git add -A && git commit -q -m '%s' && git push -q origin HEAD:main",
	           msg));
	return lr_sh(work, "git rev-parse HEAD");
}

Test(watch, git_commit_is_deployed_after_the_poll, .timeout = 60, .fini = fini)
{
	char *work = NULL, *url, *c1, *c2, line[128];

	ct_setup(&t, NULL);
	url = make_repo(&work);
	write_app(work, "web.json", "/web", 32);
	c1 = commit(work, "first");
	start_watch(url, NULL);
	/* The first poll sees the commit; the startup sync joins that one. */
	snprintf(line, sizeof(line), "result=converged reason=\"commit %.12s\" commit=%s", c1, c1);
	expect_log("sync result=converged", 1, 20000);
	expect_log(line, 1, 1000);
	cr_assert_eq(sim_mem("/web"), 32);

	write_app(work, "web.json", "/web", 96);
	c2 = commit(work, "second");
	expect_mem("/web", 96, 8000);
	snprintf(line, sizeof(line), "commit=%s", c2);
	expect_log(line, 1, 3000);

	stop_watch();
	free(c1);
	free(c2);
	free(url);
	free(work);
	ct_teardown(&t);
}

/*
 * Newest commit wins: commit 1 never gets healthy (its deployment would
 * wait for 60 s); commit 2 fixes it and must be applied at once, with no
 * rollback of commit 1 in between.
 */
Test(watch, newer_commit_supersedes_a_stuck_one, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--timeout", "60", NULL};
	static const char *const health = ",\n  \"healthChecks\": [{\"protocol\": \"COMMAND\", "
	                                  "\"command\": {\"value\": \"true\"}}]";
	char *work = NULL, *url, *c1, *c2, *p = NULL, *s, line[128];
	long long t0;

	ct_setup(&t, NULL);
	url = make_repo(&work);
	cr_assert(asprintf(&p, "%s/web.json", work) >= 0);
	s = app_json("/web", 32,
	             ",\n  \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"},\n  "
	             "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": "
	             "{\"value\": \"true\"}}]");
	cr_assert_eq(test_write_file(p, s), 0);
	free(s);
	c1 = commit(work, "stuck");
	start_watch(url, extra);
	expect_log("event=submit", 1, 20000);

	s = app_json("/web", 64, health);
	cr_assert_eq(test_write_file(p, s), 0);
	free(s);
	t0 = lr_now_ms();
	c2 = commit(work, "fix");
	snprintf(line, sizeof(line), "result=converged reason=\"commit %.12s\" commit=%s", c2, c2);
	expect_log(line, 1, 15000);
	cr_assert_lt(lr_now_ms() - t0, 15000);
	if (sim_mem("/web") != 64 || lr_count(&watcher, "result=abandoned") != 1 ||
	    lr_count(&watcher, "event=rollback") != 0)
		lr_dump(&watcher, "pacer watch");
	cr_assert_eq(sim_mem("/web"), 64);
	cr_assert_eq(lr_count(&watcher, "result=abandoned"), 1, "the stuck sync was not abandoned");
	cr_assert_eq(lr_count(&watcher, "event=rollback"), 0, "the stuck commit was rolled back");

	stop_watch();
	free(p);
	free(c1);
	free(c2);
	free(url);
	free(work);
	ct_teardown(&t);
}

/* Change the app behind pacer's back. */
static void put_mem(const char *id, int mem)
{
	char *body = app_json(id, mem, NULL), *path = NULL;
	int st;

	cr_assert(asprintf(&path, "/v2/apps%s", id) >= 0);
	st = ct_http(&t, "PUT", path, body, NULL);
	cr_assert(st == 200 || st == 201, "PUT %s answered %d", path, st);
	free(body);
	free(path);
}

Test(watch, drift_is_reported_not_reverted, .timeout = 60, .fini = fini)
{
	ct_setup(&t, NULL);
	write_app(t.src, "web.json", "/web", 32);
	start_watch(t.src, NULL);
	expect_log("sync result=converged reason=\"startup\"", 1, 15000);
	/* The startup sync's own PUT is not drift. */
	lr_sleep_ms(500);
	cr_assert_eq(lr_count(&watcher, "drift:"), 0, "pacer's own deployment was called drift");

	put_mem("/web", 128);
	expect_log("warn  drift: app=/web changed outside pacer (/mem)", 1, 3000);
	lr_sleep_ms(1000);
	cr_assert_eq(sim_mem("/web"), 128, "without --self-heal the drift must stay");
	stop_watch();
	ct_teardown(&t);
}

Test(watch, self_heal_reverts_drift, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--self-heal", NULL};

	ct_setup(&t, NULL);
	write_app(t.src, "web.json", "/web", 32);
	start_watch(t.src, extra);
	expect_log("sync result=converged reason=\"startup\"", 1, 15000);

	put_mem("/web", 128);
	expect_log("drift: app=/web changed outside pacer (/mem)", 1, 3000);
	expect_mem("/web", 32, 5000);
	expect_log("sync result=converged reason=\"drift\"", 1, 5000);
	/* The revert is pacer's own PUT: no second warning. */
	lr_sleep_ms(1000);
	cr_assert_eq(lr_count(&watcher, "drift: app="), 1);
	stop_watch();
	ct_teardown(&t);
}

Test(watch, keeps_running_through_a_bad_file_and_marathon_down, .timeout = 60, .fini = fini)
{
	ct_setup(&t, NULL);
	write_app(t.src, "web.json", "/web", 32);
	start_watch(t.src, NULL);
	expect_log("sync result=converged reason=\"startup\"", 1, 15000);

	/* A broken file: the sync refuses, the watcher stays. */
	ct_write(&t, "web.json", "{\"id\": \"/web\", \"mem\": ");
	expect_log("result=invalid", 1, 5000);
	write_app(t.src, "web.json", "/web", 50);
	expect_mem("/web", 50, 5000);

	/* Marathon answers 503 for a while: retried with backoff until it works. */
	cr_assert_eq(
	    ct_http(&t, "POST", "/_sim/faults",
	            "{\"status\":503,\"count\":3,\"path\":\"/v2/apps\",\"method\":\"GET\"}", NULL),
	    201);
	write_app(t.src, "web.json", "/web", 60);
	expect_mem("/web", 60, 15000);
	stop_watch();
	ct_teardown(&t);
}

/* SIGTERM while a deployment hangs: exit 0 at once, the deployment left alone. */
Test(watch, sigterm_during_a_stuck_deployment_exits_zero, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--timeout", "60", NULL};
	char *s;
	long long t0;
	int rc;

	ct_setup(&t, NULL);
	s = app_json("/web", 32,
	             ",\n  \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"},\n  "
	             "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": "
	             "{\"value\": \"true\"}}]");
	ct_write(&t, "web.json", s);
	free(s);
	start_watch(t.src, extra);
	expect_log("event=submit", 1, 15000);
	lr_sleep_ms(300);
	t0 = lr_now_ms();
	cr_assert_eq(lr_count(&watcher, "event=rollback"), 0);
	{
		char *log = lr_log(&watcher);

		rc = lr_stop(&watcher, SIGTERM, 10000);
		if (rc != 0)
			fprintf(stderr, "----- pacer watch log -----\n%s\n", log);
		free(log);
	}
	cr_assert_eq(rc, 0, "pacer watch exited %d on SIGTERM during a deployment", rc);
	cr_assert_lt(lr_now_ms() - t0, 5000, "SIGTERM waited for the stuck deployment");
	cr_assert_eq(sim_mem("/web"), 32);
	ct_teardown(&t);
}

/* Without --self-heal, the periodic full resync is what reverts drift. */
Test(watch, resync_interval_reverts_drift, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--resync-interval", "2", NULL};

	ct_setup(&t, NULL);
	write_app(t.src, "web.json", "/web", 32);
	start_watch(t.src, extra);
	expect_log("sync result=converged reason=\"startup\"", 1, 15000);
	put_mem("/web", 128);
	expect_log("drift: app=/web changed outside pacer (/mem)", 1, 3000);
	expect_log("sync result=converged reason=\"resync\"", 1, 8000);
	expect_mem("/web", 32, 3000);
	stop_watch();
	ct_teardown(&t);
}

/* The remote disappears for a while: polls fail and are logged, the watcher stays. */
Test(watch, survives_an_unreachable_git_remote, .timeout = 60, .fini = fini)
{
	char *work = NULL, *url, *c1, *c2;

	ct_setup(&t, NULL);
	url = make_repo(&work);
	write_app(work, "web.json", "/web", 32);
	c1 = commit(work, "first");
	start_watch(url, NULL);
	expect_log("sync result=converged", 1, 20000);

	free(lr_sh(t.dir, "mv remote.git remote.away"));
	expect_log("git poll failed", 1, 5000);
	free(lr_sh(t.dir, "mv remote.away remote.git"));
	write_app(work, "web.json", "/web", 80);
	c2 = commit(work, "after the outage");
	expect_mem("/web", 80, 8000);
	stop_watch();
	free(c1);
	free(c2);
	free(url);
	free(work);
	ct_teardown(&t);
}
