/*
 * pacer watch and a blue/green app (reconcile/bluegreen.h): the app runs
 * as /web-blue, so a change by hand to /web-blue is drift of /web, and a
 * Marathon that lost its apps has lost /web-blue (not some /web that never
 * existed).
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

#define WEB                                                                                     \
	"{\"id\": \"/web\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, \"instances\": 2,\n" \
	" \"env\": {\"K\": \"v1\"}, \"portDefinitions\": [{\"port\": 10080}],\n"                     \
	" \"labels\": {\"pacer.strategy\": \"blue-green\", \"HAPROXY_DEPLOYMENT_GROUP\": \"web\",\n"  \
	"   \"HAPROXY_DEPLOYMENT_ALT_PORT\": \"10081\", \"pacer.bluegreen.drain-seconds\": \"0\"}}\n"

Test(watch_bluegreen, the_live_colour_drifts_and_is_missed_by_its_own_id, .timeout = 60,
     .fini = fini)
{
	static const char *const fw[] = {"--framework-id", "pacer-test-bluegreen", NULL};
	static const char *const again[] = {"--task-launch-ms", "50", "--health-ms", "50",
					    "--framework-id", "pacer-test-bluegreen", NULL};

	ct_setup(&w.t, fw);
	ct_write(&w.t, "web.json", WEB);
	wt_start_synced(&w, w.t.src, NULL);
	wt_expect_stream(&w, 1, 5000);
	cr_assert(ct_has_app(&w.t, "/web-blue"));

	cr_assert_eq(ct_http(&w.t, "PUT", "/v2/apps/web-blue?force=true",
			     "{\"env\": {\"K\": \"by hand\"}}", NULL),
		     200);
	wt_expect_log(&w, "drift: app=/web-blue changed outside pacer (/env/K)", 1, 5000);

	cr_assert_eq(test_sim_restart(&w.t.sim, again), 0, "cannot restart marathon-sim");
	wt_expect_log(&w, "events: the Marathon event stream is back", 1, 10000);
	wt_expect_log(&w, "drift: app=/web-blue was deleted outside pacer", 1, 5000);
	wt_expect_count(&w, "drift: app=/web was deleted", 0,
			"/web never runs under its own id: it cannot be deleted");
	wt_stop(&w);
	ct_teardown(&w.t);
}
