/*
 * Stopping the long-running and the one-shot commands: SIGTERM and SIGHUP
 * stop waiting for deployments at once (no rollback on shutdown), leave
 * what is in flight to the journal, and the next run finishes it. Real
 * pacer processes, real signals, a real marathon-sim.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
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

/* What every command gets: deployments are given up on after 5 s. */
static const char *const timeout_args[] = {"--timeout", "5", NULL};

/* An app whose deployments never finish: its health checks never pass. */
static void write_stuck_app(void)
{
	ct_write(&w.t, "stuck.json",
	         "{\"id\": \"/stuck\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	         "\"instances\": 1, \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"}, "
	         "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": "
	         "\"true\"}, \"gracePeriodSeconds\": 1, \"intervalSeconds\": 1}]}\n");
}

/* Signal `sig` once the deployment was submitted; returns how the process exited. */
static int stop_after_submit(int sig, long long *took_ms)
{
	long long t0;
	int st;

	lr_expect_log(&w.p, "pacer", "event=submit", 1, 20000);
	t0 = lr_now_ms();
	st = lr_stop(&w.p, sig, 10000);
	*took_ms = lr_now_ms() - t0;
	return st;
}

/* The next sync finishes the interrupted change: it fails and is rolled back. */
static void next_sync_finishes_it(void)
{
	struct ct_run r = ct_cmd(&w.t, "sync", timeout_args);

	cr_expect_eq(r.rc, 1, "the resumed create failed: exit %d", r.rc);
	cr_expect(ct_has(r.out, "rolled_back") && ct_has(r.out, "earlier run"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_not(ct_has_app(&w.t, "/stuck"),
	              "the create that never became healthy was removed");
}

/* A command stopped by a signal while its deployment hangs. */
struct stop_case {
	char cmd[8]; /* serve, sync or watch */
	int sig;
	int want;     /* its exit status */
	char why[64]; /* what that status means */
};

static struct stop_case stop_cases[] = {
    {"serve", SIGTERM, 0, "pacer serve exits 0 on SIGTERM"},
    {"serve", SIGHUP, 0, "SIGHUP is handled by serve, not fatal"},
    {"sync", SIGHUP, 1, "an interrupted sync is not converged: exit 1"},
    {"watch", SIGHUP, 0, "SIGHUP is handled by watch, not fatal"},
};

ParameterizedTestParameters(stop, a_signal_stops_at_once_and_the_next_run_finishes)
{
	return cr_make_param_array(struct stop_case, stop_cases,
	                           sizeof(stop_cases) / sizeof(stop_cases[0]));
}

ParameterizedTest(const struct stop_case *c, stop, a_signal_stops_at_once_and_the_next_run_finishes,
                  .timeout = 90, .fini = fini)
{
	static const char *const serve_args[] = {
	    "--timeout", "5", "--listen", "127.0.0.1:0", "--insecure-no-webhook-secret", NULL};
	long long took;
	int st;

	ct_setup(&w.t, NULL);
	write_stuck_app();
	wt_start_cmd(&w, c->cmd, w.t.src, NULL,
	             strcmp(c->cmd, "serve") ? timeout_args : serve_args);
	st = stop_after_submit(c->sig, &took);
	cr_expect_eq(st, c->want, "%s, got %d", c->why, st);
	cr_expect_lt(took, 3000,
	             "pacer %s took %lld ms to stop on signal %d (it waited for the "
	             "deployment)",
	             c->cmd, took, c->sig);
	next_sync_finishes_it();
	ct_teardown(&w.t);
}

/* watch holds the state lock only while it syncs: an operator's action runs beside it. */
Test(stop, actions_run_while_watch_runs, .timeout = 90, .fini = fini)
{
	const char *args[] = {"scale", "/ok",          "2",  "--marathon",  NULL, "--state-dir",
	                      NULL,    "--backup-dir", NULL, "--wait-lock", NULL};
	struct ct_run r;

	ct_setup(&w.t, NULL);
	ct_write(&w.t, "ok.json",
	         "{\"id\": \"/ok\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	         "\"instances\": 1}\n");
	wt_start_cmd(&w, "watch", w.t.src, NULL, timeout_args);
	cr_assert(lr_wait_log(&w.p, "event=done", 1, 20000), "watch synced");
	args[4] = w.t.sim.url;
	args[6] = w.t.state;
	args[8] = w.t.backups;
	r = ct_pacer(args, NULL);
	if (r.rc)
		ct_run_dump("scale beside watch", &r);
	cr_expect_eq(r.rc, 0, "pacer scale works while pacer watch runs");
	ct_run_free(&r);
	cr_expect_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	ct_teardown(&w.t);
}
