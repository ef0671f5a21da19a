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

static void write_app(int mem)
{
	char buf[256];

	snprintf(buf, sizeof(buf),
	         "{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": %d, "
	         "\"instances\": 1}\n",
	         mem);
	ct_write(&t, "a.json", buf);
}

static long long mem_now(void)
{
	struct json_object *app = ct_app(&t, "/a");
	long long v = app ? ct_int(app, "mem") : -1;

	json_object_put(app);
	return v;
}

static void pacer_state(const char *verb)
{
	const char *args[] = {verb, "/a", "--state-dir", t.state, NULL};
	struct ct_run r = ct_pacer(args, NULL);

	cr_assert_eq(r.rc, 0, "pacer %s: %s", verb, r.err);
	ct_run_free(&r);
}

/* Wait up to ms for /a to run mem; 1 when it did. */
static int wait_mem(long long mem, int ms)
{
	for (long long end = lr_now_ms() + ms; lr_now_ms() < end; lr_sleep_ms(100))
		if (mem_now() == mem)
			return 1;
	return 0;
}

static void run(const char *cmd, const char *const *extra)
{
	const char *argv[24] = {test_pacer_bin(), cmd,         "--source",     t.src,
	                        "--marathon",     t.sim.url,   "--state-dir",  t.state,
	                        "--backup-dir",   t.backups};
	char log[512];
	size_t n = 10;

	for (size_t i = 0; extra[i] && n < 23; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/%s.log", t.dir, cmd);
	lr_start(&proc, argv, NULL, log);
}

static void resume_applies_at_once(const char *cmd, const char *const *extra)
{
	ct_setup(&t, NULL);
	write_app(32);
	run(cmd, extra);
	cr_assert(wait_mem(32, 20000), "%s created /a", cmd);
	pacer_state("suspend");
	write_app(64);
	lr_sleep_ms(2000);
	cr_expect_eq(mem_now(), 32, "a suspended app is left alone");
	pacer_state("resume");
	if (!wait_mem(64, 5000))
		lr_dump(&proc, cmd);
	cr_expect_eq(mem_now(), 64, "resume is picked up at once by a running %s", cmd);
	cr_expect_eq(lr_stop(&proc, SIGTERM, 10000), 0);
	ct_teardown(&t);
}

Test(suspend, serve_picks_up_resume_at_once, .timeout = 90, .fini = fini)
{
	/* No timer, no webhook: only the suspensions can start the second sync. */
	const char *extra[] = {"--listen", "127.0.0.1:0", "--insecure-no-webhook-secret",
	                       "--interval", "0", NULL};

	resume_applies_at_once("serve", extra);
}

Test(suspend, watch_picks_up_resume_at_once, .timeout = 90, .fini = fini)
{
	const char *extra[] = {"--resync-interval", "0", NULL};

	resume_applies_at_once("watch", extra);
}
