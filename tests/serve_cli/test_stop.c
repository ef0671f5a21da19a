/*
 * Stopping the long-running and the one-shot commands: SIGTERM and SIGHUP
 * stop waiting for deployments at once (no rollback on shutdown), leave
 * what is in flight to the journal, and the next run finishes it. Real
 * pacer processes, real signals, a real marathon-sim.
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
static struct lr_proc proc;

static void fini(void)
{
	if (proc.pid)
		lr_stop(&proc, SIGKILL, 2000);
	ct_fini();
}

/* An app whose deployments never finish: its health checks never pass. */
static void write_stuck_app(struct ct *c)
{
	ct_write(c, "stuck.json",
	         "{\"id\": \"/stuck\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	         "\"instances\": 1, \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"}, "
	         "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": "
	         "\"true\"}, \"gracePeriodSeconds\": 1, \"intervalSeconds\": 1}]}\n");
}

/* Start `pacer <cmd> ...` in the background on t's source, sim and state. */
static void start(const char *cmd, const char *const *extra)
{
	const char *argv[32] = {test_pacer_bin(), cmd,           "--source",    t.src,
	                        "--marathon",     t.sim.url,     "--state-dir", t.state,
	                        "--backup-dir",   t.backups,     "--timeout",   "5"};
	char log[512];
	size_t n = 12;

	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/%s.log", t.dir, cmd);
	lr_start(&proc, argv, NULL, log);
}

/* Signal `sig` once the deployment was submitted; returns how the process exited. */
static int stop_after_submit(int sig, long long *took_ms)
{
	long long t0;
	int st;

	if (!lr_wait_log(&proc, "event=submit", 1, 20000)) {
		lr_dump(&proc, "pacer");
		cr_assert_fail("pacer never submitted the deployment");
	}
	t0 = lr_now_ms();
	st = lr_stop(&proc, sig, 10000);
	*took_ms = lr_now_ms() - t0;
	return st;
}

/* The next sync finishes the interrupted change: it fails and is rolled back. */
static void next_sync_finishes_it(void)
{
	const char *extra[] = {"--timeout", "5", NULL};
	struct ct_run r = ct_cmd(&t, "sync", extra);
	struct json_object *app;

	cr_expect_eq(r.rc, 1, "the resumed create failed: exit %d", r.rc);
	cr_expect(ct_has(r.out, "rolled_back") && ct_has(r.out, "earlier run"), "%s", r.out);
	ct_run_free(&r);
	app = ct_app(&t, "/stuck");
	cr_expect_null(app, "the create that never became healthy was removed");
	json_object_put(app);
}

Test(stop, serve_stops_at_once_on_sigterm_and_the_next_run_finishes, .timeout = 90,
     .fini = fini)
{
	const char *extra[] = {"--listen", "127.0.0.1:0", "--insecure-no-webhook-secret", NULL};
	long long took;
	int st;

	ct_setup(&t, NULL);
	write_stuck_app(&t);
	start("serve", extra);
	st = stop_after_submit(SIGTERM, &took);
	cr_expect_eq(st, 0, "pacer serve exits 0 on SIGTERM, got %d", st);
	cr_expect_lt(took, 3000, "pacer serve took %lld ms to stop (it waited for the deployment)",
	             took);
	next_sync_finishes_it();
	ct_teardown(&t);
}

Test(stop, sighup_stops_serve_like_sigterm, .timeout = 90, .fini = fini)
{
	const char *extra[] = {"--listen", "127.0.0.1:0", "--insecure-no-webhook-secret", NULL};
	long long took;
	int st;

	ct_setup(&t, NULL);
	write_stuck_app(&t);
	start("serve", extra);
	st = stop_after_submit(SIGHUP, &took);
	cr_expect_eq(st, 0, "SIGHUP is handled, not fatal (exit %d)", st);
	cr_expect_lt(took, 3000);
	next_sync_finishes_it();
	ct_teardown(&t);
}

Test(stop, sighup_stops_a_sync_and_hands_the_change_on, .timeout = 90, .fini = fini)
{
	long long took;
	int st;

	ct_setup(&t, NULL);
	write_stuck_app(&t);
	start("sync", NULL);
	st = stop_after_submit(SIGHUP, &took);
	cr_expect_eq(st, 1, "an interrupted sync is not converged: exit 1, got %d", st);
	cr_expect_lt(took, 3000);
	next_sync_finishes_it();
	ct_teardown(&t);
}

Test(stop, sighup_stops_watch_like_sigterm, .timeout = 90, .fini = fini)
{
	long long took;
	int st;

	ct_setup(&t, NULL);
	write_stuck_app(&t);
	start("watch", NULL);
	st = stop_after_submit(SIGHUP, &took);
	cr_expect_eq(st, 0, "SIGHUP is handled by watch, not fatal (exit %d)", st);
	cr_expect_lt(took, 3000);
	next_sync_finishes_it();
	ct_teardown(&t);
}

/* watch holds the state lock only while it syncs: an operator's action runs beside it. */
Test(stop, actions_run_while_watch_runs, .timeout = 90, .fini = fini)
{
	const char *args[] = {"scale", "/ok", "2", "--marathon", NULL, "--state-dir", NULL,
	                      "--backup-dir", NULL, "--wait-lock", NULL};
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write(&t, "ok.json",
	         "{\"id\": \"/ok\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	         "\"instances\": 1}\n");
	start("watch", NULL);
	cr_assert(lr_wait_log(&proc, "event=done", 1, 20000), "watch synced");
	args[4] = t.sim.url;
	args[6] = t.state;
	args[8] = t.backups;
	r = ct_pacer(args, NULL);
	if (r.rc)
		ct_run_dump("scale beside watch", &r);
	cr_expect_eq(r.rc, 0, "pacer scale works while pacer watch runs");
	ct_run_free(&r);
	cr_expect_eq(lr_stop(&proc, SIGTERM, 10000), 0);
	ct_teardown(&t);
}
