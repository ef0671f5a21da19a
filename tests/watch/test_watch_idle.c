/*
 * pacer watch on an idle cluster, for longer than the event stream used to
 * live: curl was told to want 1 byte/s over 60 s, Marathon's heartbeat is
 * 2 bytes every 10 s, so the stream dropped after about 66 s ("no reply
 * within 60000 ms ... check Marathon's load") and drift went unseen while
 * it reconnected. The only slow test of tests/watch/ (about 75 s), alone
 * in its program so that CTest runs it beside the others.
 */
#include <criterion/criterion.h>

#include "tests/lib/watchtest.h"

static struct wt w; /* static: the .fini may run after the test frame is gone */

static void fini(void)
{
	wt_fini(&w);
}

Test(watch_idle, an_idle_stream_outlives_the_old_66_s_drop, .timeout = 150, .fini = fini)
{
	long long attached;

	wt_setup_web(&w, NULL);
	wt_expect_stream(&w, 1, 5000);
	attached = lr_now_ms();

	/* Nothing happens on the cluster: heartbeats only, past the old drop. */
	lr_sleep_ms((int)(attached + 70000 - lr_now_ms()));
	wt_expect_count(&w, "Marathon event stream", 0,
	                "an idle stream with its heartbeats is alive");
	cr_assert_eq(ct_count_requests(&w.t, "GET", "/v2/events"), 1,
	             "the event stream was reconnected on an idle cluster");

	/* And it still carries drift, at once. */
	wt_put_mem(&w, "/web", 128);
	wt_expect_log(&w, "drift: app=/web changed outside pacer (/mem)", 1, 3000);
	wt_stop(&w);
	ct_teardown(&w.t);
}
