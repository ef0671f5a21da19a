/*
 * Day-2 operations on the command line, end to end against marathon-sim:
 * pacer status (every state produced for real), suspend and resume, history,
 * and sync/diff of some apps only.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

/* A healthy app (command health check), or one whose checks never pass. */
static void write_app(struct ct *t, const char *file, const char *id, int mem, const char *extra)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "{\"id\": \"%s\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": %d, "
	         "\"instances\": 1%s, \"healthChecks\": [{\"protocol\": \"COMMAND\", "
	         "\"command\": {\"value\": \"true\"}, \"gracePeriodSeconds\": 1, "
	         "\"intervalSeconds\": 1}]}\n",
	         id, mem, extra ? extra : "");
	ct_write(t, file, buf);
}

static int sync_rc(struct ct *t, const char *const *extra)
{
	struct ct_run r = ct_cmd(t, "sync", extra);
	int rc = r.rc;

	ct_run_free(&r);
	return rc;
}

/* `pacer status -o json` as a map id -> state word. */
static struct json_object *states(struct ct *t, int *rc)
{
	const char *json[] = {"-o", "json", NULL};
	struct ct_run r = ct_cmd(t, "status", json);
	struct json_object *doc = json_tokener_parse(r.out), *apps, *map = json_object_new_object();

	*rc = r.rc;
	if (!doc)
		ct_run_dump("pacer status", &r);
	cr_assert(doc, "status -o json is JSON");
	cr_assert(json_object_object_get_ex(doc, "apps", &apps));
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i);

		json_object_object_add(map, ct_str(a, "id"),
		                       json_object_new_string(ct_str(a, "state")));
	}
	json_object_put(doc);
	ct_run_free(&r);
	return map;
}

static void expect_state(struct json_object *map, const char *id, const char *want)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(map, id, &v);
	cr_expect_str_eq(v ? json_object_get_string(v) : "(absent)", want, "%s", id);
}

Test(status, every_state_for_real, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	/* Each app and the state it is put in. */
	static const char *const every_state[][2] = {
	    {"/synced", "synced"},     {"/crash", "degraded"}, {"/held", "held"},
	    {"/drift", "out_of_sync"}, {"/susp", "suspended"}, {"/new", "missing"},
	    {"/orphan", "orphaned"},
	};
	const char *fail[] = {"--timeout", "3", NULL};
	const char *hand = "{\"id\": \"/orphan\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, "
	                   "\"mem\": 32, \"instances\": 1}";
	struct json_object *map;
	int rc;

	ct_setup(&t, NULL);
	write_app(&t, "synced.json", "/synced", 32, NULL);
	write_app(&t, "crash.json", "/crash", 32, NULL);
	write_app(&t, "held.json", "/held", 32, NULL);
	write_app(&t, "drift.json", "/drift", 32, NULL);
	write_app(&t, "susp.json", "/susp", 32, NULL);
	write_app(&t, "orphan.json", "/orphan", 32, NULL);
	cr_assert_eq(sync_rc(&t, NULL), 0);
	map = states(&t, &rc);
	cr_expect_eq(rc, 0, "all synced: exit 0");
	expect_state(map, "/synced", "synced");
	json_object_put(map);

	/* degraded: its tasks crash; held: a failing change; out_of_sync: an edit;
	 * suspended; missing: a new file; orphaned: owned, no longer desired. */
	cr_assert_eq(ct_http(&t, "POST", "/_sim/apps/crash/behavior", "{\"behavior\": \"crash\"}",
	                     NULL),
	             200);
	write_app(&t, "held.json", "/held", 48, ", \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"}");
	cr_assert_eq(sync_rc(&t, fail), 1);
	write_app(&t, "drift.json", "/drift", 64, NULL);
	write_app(&t, "new.json", "/new", 32, NULL);
	ct_unlink(&t, "orphan.json");
	{
		const char *args[] = {"suspend", "/susp", "--reason", "maintenance", "--state-dir",
		                      t.state, NULL};
		struct ct_run r = ct_pacer(args, NULL);

		cr_assert_eq(r.rc, 0, "%s", r.err);
		ct_run_free(&r);
	}
	write_app(&t, "susp.json", "/susp", 64, NULL);
	(void)hand;
	ct_sleep_ms(2000);
	ct_clear_requests(&t);
	map = states(&t, &rc);
	cr_expect_eq(rc, 1, "not all synced: exit 1");
	for (size_t i = 0; i < sizeof(every_state) / sizeof(every_state[0]); i++)
		expect_state(map, every_state[i][0], every_state[i][1]);
	json_object_put(map);
	cr_expect_eq(ct_count_writes(&t), 0, "status changes nothing");
	cr_expect_eq(ct_count_requests(&t, "GET", "/v2/apps/"), 0, "no per-app requests");
	ct_teardown(&t);
}

Test(status, suspend_leaves_the_app_alone_until_resume, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	struct json_object *app;
	struct ct_run r;

	ct_setup(&t, NULL);
	write_app(&t, "a.json", "/a", 32, NULL);
	cr_assert_eq(sync_rc(&t, NULL), 0);
	{
		const char *args[] = {"suspend", "a", "--state-dir", t.state, NULL};

		r = ct_pacer(args, NULL);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		ct_run_free(&r);
	}
	write_app(&t, "a.json", "/a", 64, NULL);
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 0, "a suspended app is not a failure");
	cr_expect(ct_has(r.out, "suspended") && ct_has(r.out, "/mem: 32 -> 64"),
	          "the drift is reported: %s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0, "a suspended app is never changed");
	r = ct_cmd(&t, "diff", NULL);
	cr_expect(ct_has(r.out, "suspended"), "diff shows it: %s", r.out);
	ct_run_free(&r);
	{
		const char *args[] = {"resume", "/a", "--state-dir", t.state, NULL};

		r = ct_pacer(args, NULL);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		ct_run_free(&r);
	}
	cr_assert_eq(sync_rc(&t, NULL), 0);
	app = ct_app(&t, "/a");
	cr_expect_eq(ct_int(app, "mem"), 64, "resume hands it back to git");
	json_object_put(app);
	ct_teardown(&t);
}

Test(status, sync_of_some_apps_and_history, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *only_b[] = {"/b", NULL};
	struct json_object *a, *b;
	struct ct_run r;

	ct_setup(&t, NULL);
	write_app(&t, "a.json", "/a", 32, NULL);
	write_app(&t, "b.json", "/b", 32, ", \"dependencies\": [\"/c\"]");
	write_app(&t, "c.json", "/c", 32, NULL);
	cr_assert_eq(sync_rc(&t, NULL), 0);
	write_app(&t, "a.json", "/a", 64, NULL);
	write_app(&t, "b.json", "/b", 64, ", \"dependencies\": [\"/c\"]");
	write_app(&t, "c.json", "/c", 64, NULL);
	r = ct_cmd(&t, "sync", only_b);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	ct_run_free(&r);
	a = ct_app(&t, "/a");
	b = ct_app(&t, "/b");
	cr_expect_eq(ct_int(a, "mem"), 32, "/a was not asked for");
	cr_expect_eq(ct_int(b, "mem"), 64, "/b was");
	json_object_put(a);
	json_object_put(b);
	a = ct_app(&t, "/c");
	cr_expect_eq(ct_int(a, "mem"), 64, "/b depends on /c, which comes along");
	json_object_put(a);

	{
		const char *args[] = {"history", "/b", "--state-dir", t.state, "-o", "json", NULL};
		struct json_object *runs;

		r = ct_pacer(args, NULL);
		runs = json_tokener_parse(r.out);
		cr_assert(runs, "%s", r.out);
		cr_expect_eq(json_object_array_length(runs), 2, "/b was created, then updated");
		cr_expect_str_eq(ct_str(json_object_array_get_idx(json_object_object_get(
		                                                      json_object_array_get_idx(runs, 1),
		                                                      "apps"),
		                                                  0),
		                        "outcome"),
		                 "updated");
		json_object_put(runs);
		ct_run_free(&r);
	}
	ct_teardown(&t);
}
