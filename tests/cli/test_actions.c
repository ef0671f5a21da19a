/*
 * The action panel on the command line, end to end against marathon-sim:
 * restart, cancel, scale, stop, delete, and rollback — also while pacer
 * serve runs (the state lock is held per sync, not for the service's life).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/watchtest.h"

/* The pacer serve one test runs beside an action (static: the .fini may run after the test). */
static struct wt w;

static void fini(void)
{
	wt_fini(&w);
}

static void write_app(struct ct *t, int instances, int mem)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
	         "{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": %d, "
	         "\"instances\": %d}\n",
	         mem, instances);
	ct_write(t, "a.json", buf);
}

/* `pacer <verb> args...` with t's Marathon and state. */
static struct ct_run act(struct ct *t, const char *verb, const char *a1, const char *a2)
{
	const char *args[16] = {verb, "--marathon", t->sim.url, "--state-dir", t->state,
	                        "--backup-dir", t->backups, "--timeout", "20"};
	size_t n = 9;

	if (a1)
		args[n++] = a1;
	if (a2)
		args[n++] = a2;
	args[n] = NULL;
	return ct_pacer(args, NULL);
}

static int act_rc(struct ct *t, const char *verb, const char *a1, const char *a2)
{
	struct ct_run r = act(t, verb, a1, a2);
	int rc = r.rc;

	if (rc)
		ct_run_dump(verb, &r);
	ct_run_free(&r);
	return rc;
}

static int sync_rc(struct ct *t)
{
	struct ct_run r = ct_cmd(t, "sync", NULL);
	int rc = r.rc;

	ct_run_free(&r);
	return rc;
}

static long long app_int(struct ct *t, const char *path)
{
	struct json_object *app = ct_app(t, "/a");
	long long v = app ? ct_int(app, path) : -1;

	json_object_put(app);
	return v;
}

/* The app's task ids, comma-joined (caller frees). */
static char *task_ids(struct ct *t)
{
	struct json_object *app = ct_app(t, "/a"), *tasks;
	char *s = calloc(1, 4096);

	cr_assert(app && s);
	cr_assert(json_object_object_get_ex(app, "tasks", &tasks));
	for (size_t i = 0; i < json_object_array_length(tasks); i++) {
		strncat(s, ct_str(json_object_array_get_idx(tasks, i), "id"), 4000 - strlen(s));
		strcat(s, ",");
	}
	json_object_put(app);
	return s;
}

Test(actions, restart_replaces_every_task_and_keeps_the_definition, .timeout = 90, .fini = fini)
{
	static struct ct t;
	char *before, *after;
	struct json_object *app;
	char version[64];

	ct_setup(&t, NULL);
	write_app(&t, 2, 32);
	cr_assert_eq(sync_rc(&t), 0);
	before = task_ids(&t);
	app = ct_app(&t, "/a");
	snprintf(version, sizeof(version), "%s %lld %lld", ct_str(app, "cmd"), ct_int(app, "mem"),
	         ct_int(app, "instances"));
	json_object_put(app);
	cr_assert_eq(act_rc(&t, "restart", "/a", NULL), 0);
	after = task_ids(&t);
	for (char *id = strtok(before, ","); id; id = strtok(NULL, ","))
		cr_expect(!strstr(after, id), "task %s survived the restart (%s)", id, after);
	app = ct_app(&t, "/a");
	{
		char now[64];

		snprintf(now, sizeof(now), "%s %lld %lld", ct_str(app, "cmd"), ct_int(app, "mem"),
		         ct_int(app, "instances"));
		cr_expect_str_eq(now, version, "a restart keeps the definition");
	}
	cr_expect_eq(ct_int(app, "tasksRunning"), 2);
	json_object_put(app);
	free(before);
	free(after);
	ct_teardown(&t);
}

Test(actions, cancel_rolls_back, .timeout = 90, .fini = fini)
{
	static struct ct t;
	const char *bad = "{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 64, "
	                  "\"instances\": 1, \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"}, "
	                  "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": "
	                  "{\"value\": \"true\"}}]}";

	ct_setup(&t, NULL);
	write_app(&t, 1, 32);
	cr_assert_eq(sync_rc(&t), 0);
	/* Someone else's deployment that never finishes. */
	cr_assert_eq(ct_http(&t, "PUT", "/v2/apps/a?force=true", bad, NULL), 200);
	cr_assert_eq(act_rc(&t, "cancel", "/a", NULL), 0);
	cr_expect_eq(app_int(&t, "mem"), 32, "Marathon rolled back to the previous definition");
	cr_expect(ct_wait_idle(&t, 5000));
	ct_teardown(&t);
}

Test(actions, scale_suspends_and_survives_the_next_sync, .timeout = 90, .fini = fini)
{
	static struct ct t;

	ct_setup(&t, NULL);
	write_app(&t, 1, 32);
	cr_assert_eq(sync_rc(&t), 0);
	cr_assert_eq(act_rc(&t, "scale", "/a", "3"), 0);
	cr_expect_eq(app_int(&t, "instances"), 3);
	cr_expect_eq(app_int(&t, "tasksRunning"), 3);
	cr_assert_eq(sync_rc(&t), 0);
	cr_expect_eq(app_int(&t, "instances"), 3, "the next sync does not undo the scale");
	{
		const char *args[] = {"resume", "/a", "--state-dir", t.state, NULL};
		struct ct_run r = ct_pacer(args, NULL);

		cr_assert_eq(r.rc, 0);
		ct_run_free(&r);
	}
	cr_assert_eq(sync_rc(&t), 0);
	cr_expect_eq(app_int(&t, "instances"), 1, "resumed: git's instances again");
	cr_assert_eq(act_rc(&t, "stop", "/a", NULL), 0);
	cr_expect_eq(app_int(&t, "instances"), 0, "stop = scale to 0");
	ct_teardown(&t);
}

Test(actions, delete_needs_yes_backs_up_and_is_not_recreated, .timeout = 90, .fini = fini)
{
	static struct ct t;
	struct ct_run r;

	ct_setup(&t, NULL);
	write_app(&t, 1, 32);
	cr_assert_eq(sync_rc(&t), 0);
	r = act(&t, "delete", "/a", NULL);
	cr_expect_eq(r.rc, 64, "delete without --yes is refused");
	ct_run_free(&r);
	cr_expect_neq(app_int(&t, "instances"), -1, "and deletes nothing");
	r = act(&t, "delete", "/a", "--yes");
	cr_expect_eq(r.rc, 0, "%s", r.err);
	cr_expect(ct_has(r.out, "backup "), "%s", r.out);
	ct_run_free(&r);
	cr_assert_eq(sync_rc(&t), 0);
	cr_expect_not(ct_has_app(&t, "/a"),
	              "a deleted app is suspended, not recreated by the next sync");
	ct_teardown(&t);
}

Test(actions, rollback_while_serve_runs, .timeout = 90, .fini = fini)
{
	static const char *const extra[] = {"--listen", "127.0.0.1:0", "--insecure-no-webhook-secret",
	                                    "--interval", "1", NULL};
	struct ct *t = &w.t;
	long long t0;

	ct_setup(t, NULL);
	write_app(t, 1, 32);
	cr_assert_eq(sync_rc(t), 0);
	write_app(t, 1, 64);
	wt_start_cmd(&w, "serve", t->src, NULL, extra);
	cr_assert(lr_wait_log(&w.p, "finished result=converged", 1, 20000), "serve applied mem 64");
	cr_expect_eq(app_int(t, "mem"), 64);
	t0 = lr_now_ms();
	{
		const char *args[] = {"rollback", "/a", "--marathon", t->sim.url, "--state-dir",
		                      t->state, "--backup-dir", t->backups, "--wait-lock", NULL};
		struct ct_run r = ct_pacer(args, NULL);

		if (r.rc)
			ct_run_dump("rollback", &r);
		cr_expect_eq(r.rc, 0, "pacer rollback works while serve runs");
		cr_expect(ct_has(r.out, "suspended"), "%s", r.out);
		ct_run_free(&r);
	}
	cr_expect_lt(lr_now_ms() - t0, 10000, "rollback took %lld ms", lr_now_ms() - t0);
	cr_expect_eq(app_int(t, "mem"), 32);
	/* serve keeps syncing every second: the rollback stays. */
	lr_sleep_ms(2500);
	cr_expect_eq(app_int(t, "mem"), 32, "serve's next syncs do not undo the rollback");
	cr_expect_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	ct_teardown(t);
}
