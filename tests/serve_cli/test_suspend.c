/*
 * A running pacer serve or watch picks up `pacer suspend` and `pacer resume`
 * at once: a resumed app gets git's definition within seconds, without
 * waiting for an interval, a webhook or a resync.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/watchtest.h"

static struct wt w; /* static: the .fini may run after the test frame is gone */

static void fini(void)
{
	wt_fini(&w);
}

static void pacer_state(const char *verb)
{
	const char *args[] = {verb, "/a", "--state-dir", w.t.state, NULL};
	struct ct_run r = ct_pacer(args, NULL);

	cr_assert_eq(r.rc, 0, "pacer %s: %s", verb, r.err);
	ct_run_free(&r);
}

/* Wait up to ms for /a to run mem; 1 when it did. */
static int wait_mem(int mem, int ms)
{
	for (long long end = lr_now_ms() + ms; lr_now_ms() < end; lr_sleep_ms(100))
		if (wt_sim_mem(&w, "/a") == mem)
			return 1;
	return 0;
}

static void resume_applies_at_once(const char *cmd, const char *const *extra)
{
	ct_setup(&w.t, NULL);
	wt_write_app(w.t.src, "a.json", "/a", 32);
	wt_start_cmd(&w, cmd, w.t.src, NULL, extra);
	cr_assert(wait_mem(32, 20000), "%s created /a", cmd);
	pacer_state("suspend");
	wt_write_app(w.t.src, "a.json", "/a", 64);
	lr_sleep_ms(2000);
	cr_expect_eq(wt_sim_mem(&w, "/a"), 32, "a suspended app is left alone");
	pacer_state("resume");
	if (!wait_mem(64, 5000))
		lr_dump(&w.p, cmd);
	cr_expect_eq(wt_sim_mem(&w, "/a"), 64, "resume is picked up at once by a running %s", cmd);
	cr_expect_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	ct_teardown(&w.t);
}

Test(suspend, serve_picks_up_resume_at_once, .timeout = 90, .fini = fini)
{
	/* No timer, no webhook: only the suspensions can start the second sync. */
	const char *extra[] = {"--listen",   "127.0.0.1:0", "--insecure-no-webhook-secret",
	                       "--interval", "0",           NULL};

	resume_applies_at_once("serve", extra);
}

Test(suspend, watch_picks_up_resume_at_once, .timeout = 90, .fini = fini)
{
	const char *extra[] = {"--resync-interval", "0", NULL};

	resume_applies_at_once("watch", extra);
}
