/*
 * pacer serve on an idle cluster: an --interval tick polls the source and
 * lists Marathon only when something changed, and an app changed behind
 * pacer's back comes through Marathon's event stream and is put back at
 * once, not at the next resync (idlesync.h).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "tests/lib/watchtest.h"

static struct wt w; /* static: the .fini may run after the test frame is gone */

static void fini(void)
{
	wt_fini(&w);
}

/* The full lists in the simulator's log: GET /v2/apps, not GET /v2/apps/<id>. */
static int full_lists(void)
{
	struct json_object *reqs = ct_requests(&w.t);
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *r = json_object_array_get_idx(reqs, i);
		const char *m = ct_str(r, "method"), *p = ct_str(r, "path");

		if (m && p && !strcmp(m, "GET") && !strncmp(p, "/v2/apps", 8) &&
		    (!p[8] || p[8] == '?'))
			n++;
	}
	json_object_put(reqs);
	return n;
}

Test(serve_idle, idle_ticks_do_not_list_marathon_and_drift_is_put_back, .timeout = 90, .fini = fini)
{
	const char *env[] = {"PACER_WEBHOOK_SECRET=serve-idle-secret", NULL};
	const char *extra[] = {"--listen",    "127.0.0.1:0", "--interval", "1",
	                       "--log-level", "info",        NULL};
	int first;

	ct_setup(&w.t, NULL);
	wt_write_app(w.t.src, "web.json", "/web", 32);
	wt_start_cmd(&w, "serve", w.t.src, env, extra);
	wt_expect_log(&w, "result=converged", 1, 15000);
	wt_expect_mem(&w, "/web", 32, 5000);

	/* Six ticks with nothing changing: at most one whole sync beyond the first. */
	first = full_lists();
	lr_sleep_ms(6500);
	cr_assert_leq(full_lists() - first, 1,
	              "%d full GET /v2/apps in 6.5 s idle at --interval 1 (at most 1 expected)",
	              full_lists() - first);
	cr_assert_eq(ct_count_requests(&w.t, "GET", "/v2/events"), 1,
	             "serve follows Marathon's event stream, on one connection");

	/* Changed behind pacer's back: put back through the event stream. */
	wt_put_mem(&w, "/web", 128);
	wt_expect_log(&w, "drift: app=/web changed outside pacer (/mem)", 1, 5000);
	wt_expect_mem(&w, "/web", 32, 10000);
	wt_expect_log(&w, "reason=\"drift\"", 1, 1000);
	wt_stop(&w);
	ct_teardown(&w.t);
}
