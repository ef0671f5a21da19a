/*
 * pacer watch and Marathon's event stream, end to end: a real pacer
 * process against a real marathon-sim that is restarted on the same port
 * (a Marathon restart, or another cluster answering), changed behind
 * pacer's back (apps deleted, groups replaced), or whose /v2/events answers
 * 200 and closes at once (a proxy that buffers the stream).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/watchtest.h"

static struct wt w; /* static: the .fini may run after the test frame is gone */

static void fini(void)
{
	wt_fini(&w);
}

#define SIM_FAST "--task-launch-ms", "50", "--health-ms", "50"

static void start_synced(const char *const *extra)
{
	wt_start_synced(&w, w.t.src, extra);
	wt_expect_stream(&w, 1, 5000);
}

/*
 * Marathon restarts and comes back without the apps (same cluster, its
 * state lost): the reconnect alone must make pacer compare every app.
 */
Test(watch_stream, a_reconnect_compares_every_app, .timeout = 60, .fini = fini)
{
	static const char *const fw[] = {"--framework-id", "pacer-test-cluster-a", NULL};
	static const char *const again[] = {SIM_FAST, "--framework-id", "pacer-test-cluster-a",
	                                    NULL};
	static const char *const extra[] = {"--self-heal", NULL};

	ct_setup(&w.t, fw);
	wt_write_app(w.t.src, "web.json", "/web", 32);
	wt_write_app(w.t.src, "api.json", "/api", 40);
	start_synced(extra);

	cr_assert_eq(test_sim_restart(&w.t.sim, again), 0, "cannot restart marathon-sim");
	wt_expect_log(&w, "events: the Marathon event stream is back", 1, 10000);
	wt_expect_log(&w, "drift: app=/web was deleted outside pacer; re-creating it", 1, 5000);
	wt_expect_log(&w, "drift: app=/api was deleted outside pacer", 1, 1000);
	wt_expect_mem(&w, "/web", 32, 10000);
	wt_expect_mem(&w, "/api", 40, 5000);
	wt_expect_log(&w, "sync result=converged reason=\"drift\"", 1, 5000);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/*
 * Another Marathon answers on the same address (wiped, or another
 * cluster): noticed at the reconnect, said loudly, and nothing is applied
 * to it, however often pacer syncs.
 */
Test(watch_stream, another_cluster_is_refused, .timeout = 60, .fini = fini)
{
	static const char *const other[] = {SIM_FAST, "--framework-id", "pacer-test-cluster-b",
	                                    NULL};
	static const char *const extra[] = {"--self-heal", "--resync-interval", "2", NULL};
	int resyncs;

	ct_setup(&w.t, NULL);
	wt_write_app(w.t.src, "web.json", "/web", 32);
	start_synced(extra);

	cr_assert_eq(test_sim_restart(&w.t.sim, other), 0, "cannot restart marathon-sim");
	wt_expect_log(&w, "Marathon answers as another cluster than the one", 1, 10000);
	resyncs = lr_count(&w.p, "reason=\"resync\"");
	wt_expect_log(&w, "reason=\"resync\"", resyncs + 2, 8000);
	cr_assert_eq(wt_sim_mem(&w, "/web"), -1, "an app was created on another cluster");
	cr_assert_eq(ct_count_writes(&w.t), 0, "pacer changed another cluster");
	wt_expect_count(&w, "Marathon answers as another cluster than the one", 1,
	                "said once, when it is noticed");
	wt_expect_count(&w, "drift: app=", 0, "another cluster's apps are not drift");
	wt_stop(&w);
	ct_teardown(&w.t);
}

Test(watch_stream, an_app_deleted_outside_pacer_is_drift, .timeout = 60, .fini = fini)
{
	ct_setup(&w.t, NULL);
	wt_write_app(w.t.src, "web.json", "/web", 32);
	wt_write_app(w.t.src, "api.json", "/api", 40);
	start_synced(NULL);

	cr_assert_eq(ct_http(&w.t, "DELETE", "/v2/apps/web", NULL, NULL), 200);
	wt_expect_log(&w, "drift: app=/web was deleted outside pacer; the next sync re-creates it",
	              1, 3000);
	lr_sleep_ms(1000);
	cr_assert_eq(wt_sim_mem(&w, "/web"), -1, "without --self-heal the drift must stay");
	wt_expect_count(&w, "drift: app=", 1, "one deletion, one report");
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* A group replaced out of band: one app changed, one removed. Both reverted. */
Test(watch_stream, a_group_change_is_drift_and_healed, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--self-heal", NULL};
	char *a = wt_app_json("/team/a", 64, NULL), *body = NULL;
	int status;

	ct_setup(&w.t, NULL);
	wt_write_app(w.t.src, "team/a.json", "/team/a", 32);
	wt_write_app(w.t.src, "team/b.json", "/team/b", 40);
	start_synced(extra);

	cr_assert(asprintf(&body, "{\"id\": \"/team\", \"apps\": [%s]}", a) >= 0);
	free(a);
	status = ct_http(&w.t, "PUT", "/v2/groups/team?force=true", body, NULL);
	free(body);
	cr_assert_eq(status, 200);
	wt_expect_log(&w, "drift: app=/team/b was deleted outside pacer; re-creating it", 1, 5000);
	wt_expect_log(&w, "drift: app=/team/a changed outside pacer (/mem)", 1, 5000);
	wt_expect_mem(&w, "/team/a", 32, 10000);
	wt_expect_mem(&w, "/team/b", 40, 10000);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/*
 * /v2/events answers 200 and closes at once, for ever: pacer backs off
 * (it used to reconnect twice a second, silently), says so once, and
 * resyncs more often while drift cannot be seen. When the stream works
 * again, it says so and drift is seen again.
 */
Test(watch_stream, a_stream_that_closes_at_once_backs_off, .timeout = 60, .fini = fini)
{
	static const char *const extra[] = {"--resync-interval", "10", NULL};
	int attempts;

	ct_setup(&w.t, NULL);
	cr_assert_eq(ct_http(&w.t, "POST", "/_sim/faults",
	                     "{\"status\":200,\"count\":-1,\"path\":\"/v2/events\",\"body\":\"\"}",
	                     NULL),
	             201);
	wt_write_app(w.t.src, "web.json", "/web", 32);
	wt_start_synced(&w, w.t.src, extra);
	wt_expect_log(&w,
	              "events: the Marathon event stream cannot be followed (the reply "
	              "ended before the stream's first event",
	              1, 3000);
	/* Outage from about now: a resync every 10 / 5 = 2 s instead of every 10 s. */
	wt_expect_log(&w, "reason=\"resync (event stream down)\"", 2, 7000);
	attempts = ct_count_requests(&w.t, "GET", "/v2/events");
	cr_assert(attempts >= 3 && attempts <= 7,
	          "%d connections in about 6 s: expected backoff 0.5, 1, 2, 4 s", attempts);
	wt_expect_count(&w, "events: the Marathon event stream", 1,
	                "the outage is said once (then every 5 minutes)");

	cr_assert_eq(ct_http(&w.t, "DELETE", "/_sim/faults", NULL, NULL), 200);
	wt_expect_log(&w, "events: the Marathon event stream is back", 1, 12000);
	lr_sleep_ms(300);
	wt_put_mem(&w, "/web", 128);
	wt_expect_log(&w, "drift: app=/web changed outside pacer (/mem)", 1, 3000);
	wt_stop(&w);
	ct_teardown(&w.t);
}
