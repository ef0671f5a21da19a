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

#include "tests/lib/watchtest.h"

static struct wt w; /* static: the .fini may run after the test frame is gone */

/* The git tests' bare remote (its file:// URL) and clone: lr_git_remote(). */
static char *remote, *work;

static void fini(void)
{
	free(remote);
	free(work);
	remote = work = NULL;
	wt_fini(&w);
}

/* ct_setup(), then the remote and its clone. */
static void setup_git(void)
{
	ct_setup(&w.t, NULL);
	remote = lr_git_remote(w.t.dir, &work);
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

	ct_setup(&w.t, NULL);
	cr_assert(asprintf(&metrics, "%s/pacer.prom", w.t.dir) >= 0);
	extra[1] = metrics;
	wt_write_app(w.t.src, "web.json", "/web", 32);
	wt_start_synced(&w, w.t.src, extra);
	cr_assert_eq(wt_sim_mem(&w, "/web"), 32);
	cr_assert(wait_file_has(metrics, "pacer_syncs_total{result=\"converged\"} 1\n", 5000),
	          "no metrics file after the first sync");

	/* Edit in place. */
	wt_write_app(w.t.src, "web.json", "/web", 48);
	wt_expect_mem(&w, "/web", 48, 5000);
	cr_assert(wait_file_has(metrics, "pacer_syncs_total{result=\"converged\"} 2\n", 5000),
	          "the metrics file does not count the second sync");
	free(metrics);

	/* An editor's save: write a temp file, rename it over the original. */
	cr_assert(asprintf(&tmp, "%s/.web.json.swp", w.t.src) >= 0);
	cr_assert(asprintf(&dst, "%s/web.json", w.t.src) >= 0);
	s = wt_app_json("/web", 64, NULL);
	cr_assert_eq(test_write_file(tmp, s), 0);
	cr_assert_eq(rename(tmp, dst), 0);
	wt_expect_mem(&w, "/web", 64, 5000);

	/* A new file in a new subdirectory creates the app. */
	wt_write_app(w.t.src, "team/api.json", "/team/api", 40);
	wt_expect_mem(&w, "/team/api", 40, 5000);

	wt_stop(&w);
	free(s);
	free(tmp);
	free(dst);
	ct_teardown(&w.t);
}

Test(watch, burst_of_writes_is_at_most_two_syncs, .timeout = 60, .fini = fini)
{
	int puts, syncs;

	wt_setup_web(&w, NULL);
	cr_assert_eq(ct_http(&w.t, "DELETE", "/_sim/requests", NULL, NULL), 200);

	for (int i = 1; i <= 50; i++)
		wt_write_app(w.t.src, "web.json", "/web", 32 + i);
	wt_expect_mem(&w, "/web", 82, 8000);
	/* Let a late second sync show itself before counting. */
	lr_sleep_ms(1500);
	wt_expect_log(&w, "sync result=converged reason=\"files changed\"", 1, 5000);

	puts = ct_count_requests(&w.t, "PUT", "/v2/apps") +
	       ct_count_requests(&w.t, "POST", "/v2/apps");
	syncs = lr_count(&w.p, "sync start reason=\"files changed\"");
	cr_assert(puts >= 1 && puts <= 2, "50 writes made %d PUT/POST, expected 1 or 2", puts);
	cr_assert(syncs >= 1 && syncs <= 2, "50 writes made %d syncs, expected 1 or 2", syncs);
	wt_stop(&w);
	ct_teardown(&w.t);
}

Test(watch, git_commit_is_deployed_after_the_poll, .timeout = 60, .fini = fini)
{
	char *c1, *c2, line[128];

	setup_git();
	wt_write_app(work, "web.json", "/web", 32);
	c1 = lr_git_commit(work, "first");
	wt_start(&w, remote, NULL);
	/* The first poll sees the commit; the startup sync joins that one. */
	snprintf(line, sizeof(line), "result=converged reason=\"commit %.12s\" commit=%s", c1, c1);
	wt_expect_log(&w, "sync result=converged", 1, 20000);
	wt_expect_log(&w, line, 1, 1000);
	cr_assert_eq(wt_sim_mem(&w, "/web"), 32);

	wt_write_app(work, "web.json", "/web", 96);
	c2 = lr_git_commit(work, "second");
	wt_expect_mem(&w, "/web", 96, 8000);
	snprintf(line, sizeof(line), "commit=%s", c2);
	wt_expect_log(&w, line, 1, 3000);

	wt_stop(&w);
	free(c1);
	free(c2);
	ct_teardown(&w.t);
}

/*
 * Newest commit wins: commit 1 never gets healthy (its deployment would
 * wait for 60 s); commit 2 fixes it and must be applied at once, with no
 * rollback of commit 1 in between.
 */
Test(watch, newer_commit_supersedes_a_stuck_one, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--timeout", "60", NULL};
	char *c1, *c2, line[128];
	long long t0;

	setup_git();
	wt_write_checked_app(work, "web.json", "/web", 32, 1);
	c1 = lr_git_commit(work, "stuck");
	wt_start(&w, remote, extra);
	wt_expect_log(&w, "event=submit", 1, 20000);

	wt_write_checked_app(work, "web.json", "/web", 64, 0);
	t0 = lr_now_ms();
	c2 = lr_git_commit(work, "fix");
	snprintf(line, sizeof(line), "result=converged reason=\"commit %.12s\" commit=%s", c2, c2);
	wt_expect_log(&w, line, 1, 15000);
	cr_assert_lt(lr_now_ms() - t0, 15000);
	if (wt_sim_mem(&w, "/web") != 64 || lr_count(&w.p, "result=abandoned") != 1 ||
	    lr_count(&w.p, "event=rollback") != 0)
		lr_dump(&w.p, "pacer watch");
	cr_assert_eq(wt_sim_mem(&w, "/web"), 64);
	cr_assert_eq(lr_count(&w.p, "result=abandoned"), 1, "the stuck sync was not abandoned");
	cr_assert_eq(lr_count(&w.p, "event=rollback"), 0, "the stuck commit was rolled back");

	wt_stop(&w);
	free(c1);
	free(c2);
	ct_teardown(&w.t);
}

Test(watch, drift_is_reported_not_reverted, .timeout = 60, .fini = fini)
{
	wt_setup_web(&w, NULL);
	/* The startup sync's own PUT is not drift. */
	lr_sleep_ms(500);
	cr_assert_eq(lr_count(&w.p, "drift:"), 0, "pacer's own deployment was called drift");

	wt_put_mem(&w, "/web", 128);
	wt_expect_log(&w, "warn  drift: app=/web changed outside pacer (/mem)", 1, 3000);
	lr_sleep_ms(1000);
	cr_assert_eq(wt_sim_mem(&w, "/web"), 128, "without --self-heal the drift must stay");
	wt_stop(&w);
	ct_teardown(&w.t);
}

Test(watch, self_heal_reverts_drift, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--self-heal", NULL};

	wt_setup_web(&w, extra);

	wt_put_mem(&w, "/web", 128);
	wt_expect_log(&w, "drift: app=/web changed outside pacer (/mem)", 1, 3000);
	wt_expect_mem(&w, "/web", 32, 5000);
	wt_expect_log(&w, "sync result=converged reason=\"drift\"", 1, 5000);
	/* The revert is pacer's own PUT: no second warning. */
	lr_sleep_ms(1000);
	cr_assert_eq(lr_count(&w.p, "drift: app="), 1);
	wt_stop(&w);
	ct_teardown(&w.t);
}

Test(watch, keeps_running_through_a_bad_file_and_marathon_down, .timeout = 60, .fini = fini)
{
	wt_setup_web(&w, NULL);

	/* A broken file: the sync refuses, the watcher stays. */
	ct_write(&w.t, "web.json", "{\"id\": \"/web\", \"mem\": ");
	wt_expect_log(&w, "result=invalid", 1, 5000);
	wt_write_app(w.t.src, "web.json", "/web", 50);
	wt_expect_mem(&w, "/web", 50, 5000);

	/* Marathon answers 503 for a while: retried with backoff until it works. */
	cr_assert_eq(
	    ct_http(&w.t, "POST", "/_sim/faults",
	            "{\"status\":503,\"count\":3,\"path\":\"/v2/apps\",\"method\":\"GET\"}", NULL),
	    201);
	wt_write_app(w.t.src, "web.json", "/web", 60);
	wt_expect_mem(&w, "/web", 60, 15000);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* SIGTERM while a deployment hangs: exit 0 at once, the deployment left alone. */
Test(watch, sigterm_during_a_stuck_deployment_exits_zero, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--timeout", "60", NULL};
	long long t0;

	ct_setup(&w.t, NULL);
	wt_write_checked_app(w.t.src, "web.json", "/web", 32, 1);
	wt_start(&w, w.t.src, extra);
	wt_expect_log(&w, "event=submit", 1, 15000);
	lr_sleep_ms(300);
	t0 = lr_now_ms();
	cr_assert_eq(lr_count(&w.p, "event=rollback"), 0);
	wt_stop(&w);
	cr_assert_lt(lr_now_ms() - t0, 5000, "SIGTERM waited for the stuck deployment");
	cr_assert_eq(wt_sim_mem(&w, "/web"), 32);
	ct_teardown(&w.t);
}

/* Without --self-heal, the periodic full resync is what reverts drift. */
Test(watch, resync_interval_reverts_drift, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--resync-interval", "2", NULL};

	wt_setup_web(&w, extra);
	wt_put_mem(&w, "/web", 128);
	wt_expect_log(&w, "drift: app=/web changed outside pacer (/mem)", 1, 3000);
	wt_expect_log(&w, "sync result=converged reason=\"resync\"", 1, 8000);
	wt_expect_mem(&w, "/web", 32, 3000);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* The remote disappears for a while: polls fail and are logged, the watcher stays. */
Test(watch, survives_an_unreachable_git_remote, .timeout = 60, .fini = fini)
{
	char *c1, *c2;

	setup_git();
	wt_write_app(work, "web.json", "/web", 32);
	c1 = lr_git_commit(work, "first");
	wt_start(&w, remote, NULL);
	wt_expect_log(&w, "sync result=converged", 1, 20000);

	free(lr_sh(w.t.dir, "mv remote.git remote.away"));
	wt_expect_log(&w, "git poll failed", 1, 5000);
	free(lr_sh(w.t.dir, "mv remote.away remote.git"));
	wt_write_app(work, "web.json", "/web", 80);
	c2 = lr_git_commit(work, "after the outage");
	wt_expect_mem(&w, "/web", 80, 8000);
	wt_stop(&w);
	free(c1);
	free(c2);
	ct_teardown(&w.t);
}
