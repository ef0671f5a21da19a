/*
 * pacer sync and pacer diff end to end against marathon-sim: create, update,
 * unchanged, idempotence, the number of reads, and the plan pacer diff
 * prints (text and JSON). --prune and its guards: test_prune.c.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reconcile/base/clock.h"
#include "tests/lib/clitest.h"

static const char *app_env(struct json_object *app, const char *key)
{
	char path[128];

	snprintf(path, sizeof(path), "env.%s", key);
	return ct_str(app, path);
}

/* GET /v2/apps exactly (not /v2/apps/<id>). */
static int count_list_apps(struct ct *t)
{
	return ct_count_requests(t, "GET", "/v2/apps") - ct_count_requests(t, "GET", "/v2/apps/");
}

/*
 * The reads of a sync that changes apps: the plan comes from exactly one
 * GET /v2/apps before the first write, there is no per-app GET, and the
 * waiting reads all apps at most once per deployment poll (not per app).
 */
static void check_reads(struct ct *t)
{
	struct json_object *reqs = ct_requests(t);
	int before_write = 0, list_apps = 0, polls = 0, per_app = 0, first_write = -1;

	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *q = json_object_array_get_idx(reqs, i);
		const char *m = ct_str(q, "method"), *p = ct_str(q, "path");

		if (strcmp(m, "GET") && first_write < 0)
			first_write = (int)i;
		if (!strcmp(m, "GET") && !strcmp(p, "/v2/apps")) {
			list_apps++;
			if (first_write < 0)
				before_write++;
		}
		if (!strcmp(m, "GET") && !strncmp(p, "/v2/apps/", 9))
			per_app++;
		if (!strcmp(m, "GET") && !strcmp(p, "/v2/deployments"))
			polls++;
	}
	json_object_put(reqs);
	cr_expect_eq(before_write, 1, "the plan must come from one GET /v2/apps, saw %d",
	             before_write);
	cr_expect_eq(per_app, 0, "a sync must not GET apps one by one (%d per-app GETs)", per_app);
	cr_expect(list_apps <= 1 + polls,
	          "waiting may read all apps at most once per poll: %d GET /v2/apps, %d polls",
	          list_apps, polls);
}

Test(sync, create_update_unchanged, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct json_object *a, *b, *c;
	char *b_version = NULL;
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/shop/a", 32, "v1");
	ct_write_app(&t, "team/b.json", "/shop/b", 32, "v1");
	ct_sync_ok(&t, "the first sync");

	a = ct_app(&t, "/shop/a");
	b = ct_app(&t, "/shop/b");
	cr_assert(a && b, "both apps must exist in Marathon after the first sync");
	cr_expect_eq(ct_int(a, "mem"), 32);
	cr_expect_str_eq(app_env(a, "K"), "v1");
	cr_expect_eq(ct_int(a, "tasksRunning"), 1, "the created app must run");
	b_version = strdup(ct_str(b, "version"));
	json_object_put(a);
	json_object_put(b);

	/* Update a, leave b alone, add c. */
	ct_write_app(&t, "a.json", "/shop/a", 64, "v2");
	ct_write_app(&t, "c.json", "/shop/c", 32, "v1");
	ct_clear_requests(&t);
	r = ct_sync_run(&t, NULL, 0, "the second sync");
	cr_expect(ct_has(r.out, "1 to create, 1 to update, 0 to prune, 1 unchanged"),
	          "summary line missing:\n%s", r.out);
	cr_expect(ct_has(r.out, "updated") && ct_has(r.out, "created"), "outcomes missing:\n%s",
	          r.out);
	ct_run_free(&r);
	check_reads(&t);
	/* One PUT (with force and a full replace) for a, one POST for c, nothing for b. */
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/shop/a"), 1);
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/shop/b"), 0);
	cr_expect_eq(ct_count_requests(&t, "POST", "/v2/apps"), 1);

	a = ct_app(&t, "/shop/a");
	b = ct_app(&t, "/shop/b");
	c = ct_app(&t, "/shop/c");
	cr_assert(a && b && c);
	cr_expect_eq(ct_int(a, "mem"), 64, "the update must reach Marathon");
	cr_expect_str_eq(app_env(a, "K"), "v2");
	cr_expect_eq(ct_int(a, "tasksRunning"), 1);
	cr_expect_str_eq(ct_str(b, "version"), b_version,
	                 "an unchanged app must not be redeployed");
	cr_expect_str_eq(app_env(c, "K"), "v1");
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
	free(b_version);
	ct_teardown(&t);
}

Test(sync, put_is_forced_full_replace, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct json_object *reqs, *a;
	int seen = 0;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/a", 32, "v1");
	ct_write(&t, "a.json",
	         "{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	         "\"instances\": 1, \"env\": {\"K\": \"v1\", \"GONE\": \"x\"}}");
	ct_sync_ok(&t, "the sync creating /a with env GONE");
	/* A field deleted in the file must leave Marathon too (no merge). */
	ct_write_app(&t, "a.json", "/a", 32, "v1");
	ct_clear_requests(&t);
	ct_sync_ok(&t, "the sync removing env GONE");
	reqs = ct_requests(&t);
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *q = json_object_array_get_idx(reqs, i);

		if (strcmp(ct_str(q, "method"), "PUT"))
			continue;
		seen++;
		cr_expect(ct_has(ct_str(q, "query"), "force=true"), "PUT without force: %s",
		          ct_str(q, "query"));
		cr_expect(ct_has(ct_str(q, "query"), "partialUpdate=false"),
		          "PUT without partialUpdate=false: %s", ct_str(q, "query"));
	}
	json_object_put(reqs);
	cr_expect_eq(seen, 1);
	a = ct_app(&t, "/a");
	cr_assert(a);
	cr_expect_null(app_env(a, "GONE"), "an env var removed from the file must leave Marathon");
	json_object_put(a);
	ct_teardown(&t);
}

Test(sync, second_run_is_a_no_op, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup_synced(&t, "idem", 2);
	ct_clear_requests(&t);

	r = ct_cmd(&t, "sync", NULL);
	cr_assert_eq(r.rc, 0, "second sync exited %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "0 to create, 0 to update, 0 to prune, 2 unchanged"),
	          "the second run must say there is nothing to do:\n%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0, "the second run must not write to Marathon");
	cr_expect_eq(count_list_apps(&t), 1, "one GET /v2/apps per sync");
	cr_expect_eq(ct_count_requests(&t, "GET", "/v2/apps/"), 0, "no per-app GET");
	cr_expect_eq(ct_count_requests(&t, "GET", "/v2/deployments"), 0,
	             "nothing to wait for, so no deployment polls");
	ct_teardown(&t);
}

Test(diff, text_and_exit_codes, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup_synced(&t, "d", 2);

	r = ct_cmd(&t, "diff", NULL);
	cr_expect_eq(r.rc, 0, "diff in sync must exit 0, got %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "0 to create, 0 to update, 0 to prune, 2 unchanged"), "%s", r.out);
	ct_run_free(&r);

	ct_write_app(&t, "a.json", "/d/a", 64, "v2");
	ct_write_app(&t, "n.json", "/d/new", 32, "v1");
	ct_clear_requests(&t);
	r = ct_cmd(&t, "diff", NULL);
	cr_expect_eq(r.rc, 2, "diff with changes must exit 2, got %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "~ /d/a"), "the update is shown with ~:\n%s", r.out);
	cr_expect(ct_has(r.out, "/mem: 32 -> 64"), "the changed field with old -> new:\n%s", r.out);
	cr_expect(ct_has(r.out, "/env/K: \"v1\" -> \"v2\""), "%s", r.out);
	cr_expect(ct_has(r.out, "+ /d/new"), "the create is shown with +:\n%s", r.out);
	cr_expect(!ct_has(r.out, "/d/b"), "unchanged apps are not listed without --all:\n%s",
	          r.out);
	cr_expect(ct_has(r.out, "1 to create, 1 to update, 0 to prune, 1 unchanged"), "%s", r.out);
	cr_expect(!ct_has(r.out, "\033["), "no colour when stdout is not a terminal");
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0, "diff must not write to Marathon");

	/* --all lists the unchanged app too. */
	{
		const char *all[] = {"--all", NULL};

		r = ct_cmd(&t, "diff", all);
		cr_expect_eq(r.rc, 2);
		cr_expect(ct_has(r.out, "/d/b"), "--all lists unchanged apps:\n%s", r.out);
		ct_run_free(&r);
	}
	ct_teardown(&t);
}

static struct json_object *find_plan_app(struct json_object *plan_apps, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(plan_apps); i++) {
		struct json_object *e = json_object_array_get_idx(plan_apps, i);

		if (ct_str(e, "id") && !strcmp(ct_str(e, "id"), id))
			return e;
	}
	return NULL;
}

Test(diff, json_output, .timeout = 60, .fini = ct_fini)
{
	const char *json[] = {"--output", "json", NULL};
	struct json_object *doc, *apps, *a, *changes, *n;
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;
	int found_mem = 0;

	ct_setup_synced(&t, "j", 2);
	ct_write_app(&t, "a.json", "/j/a", 64, "v1");
	ct_write_app(&t, "n.json", "/j/new", 32, "v1");

	r = ct_cmd(&t, "diff", json);
	cr_assert_eq(r.rc, 2, "diff --output json with changes must exit 2, got %d:\n%s", r.rc,
	             r.err);
	doc = json_tokener_parse(r.out);
	cr_assert(doc, "--output json must print one JSON document, got:\n%s", r.out);
	cr_expect_eq(ct_int(doc, "plan.summary.create"), 1);
	cr_expect_eq(ct_int(doc, "plan.summary.update"), 1);
	cr_expect_eq(ct_int(doc, "plan.summary.prune"), 0);
	cr_expect_eq(ct_int(doc, "plan.summary.unchanged"), 1);
	cr_assert(json_object_object_get_ex(json_object_object_get(doc, "plan"), "apps", &apps));
	a = find_plan_app(apps, "/j/a");
	cr_assert(a, "/j/a missing from the JSON plan");
	cr_expect_str_eq(ct_str(a, "action"), "update");
	cr_expect_str_eq(ct_str(a, "file"), "a.json");
	cr_assert(json_object_object_get_ex(a, "changes", &changes));
	for (size_t i = 0; i < json_object_array_length(changes); i++) {
		struct json_object *c = json_object_array_get_idx(changes, i);

		if (ct_str(c, "path") && !strcmp(ct_str(c, "path"), "/mem")) {
			found_mem = 1;
			cr_expect_eq(ct_int(c, "old"), 32);
			cr_expect_eq(ct_int(c, "new"), 64);
		}
	}
	cr_expect(found_mem, "the /mem change is in the JSON plan");
	n = find_plan_app(apps, "/j/new");
	cr_assert(n);
	cr_expect_str_eq(ct_str(n, "action"), "create");
	cr_expect_str_eq(ct_str(find_plan_app(apps, "/j/b"), "action"), "unchanged");
	json_object_put(doc);
	ct_run_free(&r);
	ct_teardown(&t);
}

/*
 * A run's waits end when Marathon says the deployment ended (its event
 * stream's deployment_success), not at the next 500 ms poll: 12 creates
 * one at a time, each a ~0.1 s deployment in the simulator, would take at
 * least 12 polls (6 s) if pacer only polled. The outcome is still read
 * back: every app is created and reported.
 */
Test(sync, waits_end_on_deployment_events, .timeout = 90, .fini = ct_fini)
{
	static struct ct t;
	struct ct_run r;
	char file[16], id[16];
	double t0, took;

	ct_setup(&t, NULL);
	for (int i = 0; i < 12; i++) {
		snprintf(file, sizeof(file), "a%02d.json", i);
		snprintf(id, sizeof(id), "/ev/a%02d", i);
		ct_write_app(&t, file, id, 32, "v1");
	}
	t0 = pacer_now_s();
	r = ct_cmd(&t, "sync", (const char *const[]){"--parallel", "1", NULL});
	took = pacer_now_s() - t0;
	cr_assert_eq(r.rc, 0, "sync exited %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "12 to create"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_napps(&t), 12);
	cr_expect(ct_count_requests(&t, "GET", "/v2/events") >= 1, "the run follows the events");
	cr_expect(took < 4.5, "12 deployments of ~0.1 s one after the other took %.1f s: "
	                      "the waits did not end on the events",
	          took);
	ct_teardown(&t);
}

/*
 * On a cluster much larger than the apps being waited on, the waits read
 * those apps one by one (GET /v2/apps/{id}) instead of the whole list at
 * every poll: 10,000 apps make a 24 MB list. The first wait learns the
 * size from one whole list.
 */
Test(sync, waits_on_a_large_cluster_read_single_apps, .timeout = 90, .fini = ct_fini)
{
	static struct ct t;
	char load[] = "/tmp/pacer-load-XXXXXX";
	int fd = mkstemp(load), lists, per_app;
	FILE *f;
	struct ct_run r;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\"apps\":[", f);
	for (int i = 0; i < 200; i++)
		fprintf(f, "%s{\"id\":\"/other/app%03d\",\"cmd\":\"sleep 1000\",\"cpus\":0.01,"
		           "\"mem\":16,\"instances\":0}",
		        i ? "," : "", i);
	fputs("]}", f);
	fclose(f);
	ct_setup(&t, (const char *const[]){"--load", load, NULL});
	unlink(load);
	ct_write_app(&t, "a.json", "/big/a", 32, "v1");
	ct_write_app(&t, "b.json", "/big/b", 32, "v1");
	ct_write_app(&t, "c.json", "/big/c", 32, "v1");
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", (const char *const[]){"--parallel", "1", NULL});
	cr_assert_eq(r.rc, 0, "sync exited %d:\n%s%s", r.rc, r.out, r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_napps(&t), 203);
	lists = count_list_apps(&t);
	per_app = ct_count_requests(&t, "GET", "/v2/apps/");
	cr_expect(per_app >= 1, "the later waits read their app alone (%d per-app GETs)", per_app);
	cr_expect(lists <= 3, "%d whole lists: the plan's, and the first wait's", lists);
	ct_teardown(&t);
}
