/*
 * pacer sync when things go wrong: a failing update rolled back (with the
 * backup equal to what was live), the restart and none policies, injected
 * 503s, and an app locked by another client's deployment.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

/* Two instances with a command health check; behaviour from SIM_BEHAVIOR (or none). */
static void write_app(struct ct *t, const char *id, const char *k, const char *behavior)
{
	const struct ct_def d = {
	    .id = id, .k = k, .behavior = behavior, .extra = "\"labels\": {\"team\": \"shop\"}"};

	ct_write_def(t, &d);
}

/*
 * A copy of a live app without what Marathon changes by itself (task
 * counts, versions, deployments): what "the same definition" means.
 */
static struct json_object *stable_def(struct json_object *app)
{
	static const char *const volatile_keys[] = {"version",
	                                            "versionInfo",
	                                            "tasks",
	                                            "tasksStaged",
	                                            "tasksRunning",
	                                            "tasksHealthy",
	                                            "tasksUnhealthy",
	                                            "deployments",
	                                            "lastTaskFailure",
	                                            "readinessCheckResults",
	                                            NULL};
	struct json_object *copy = NULL;

	cr_assert(app);
	cr_assert_eq(json_object_deep_copy(app, &copy, NULL), 0);
	for (size_t i = 0; volatile_keys[i]; i++)
		json_object_object_del(copy, volatile_keys[i]);
	return copy;
}

static void expect_same_def(struct json_object *a, struct json_object *b, const char *what)
{
	struct json_object *sa = stable_def(a), *sb = stable_def(b);

	cr_expect(json_object_equal(sa, sb), "%s:\n  expected %s\n  got      %s", what,
	          json_object_to_json_string(sa), json_object_to_json_string(sb));
	json_object_put(sa);
	json_object_put(sb);
}

/* The only backup file in dir, parsed. */
static struct json_object *only_backup(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *path = NULL;
	int n = 0;
	struct json_object *j;

	cr_assert(d, "no backup directory %s", dir);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strstr(e->d_name, ".json"))
			continue;
		n++;
		free(path);
		cr_assert(asprintf(&path, "%s/%s", dir, e->d_name) >= 0);
	}
	closedir(d);
	cr_assert_eq(n, 1, "expected exactly one backup in %s, found %d", dir, n);
	j = json_object_from_file(path);
	cr_assert(j, "backup %s is not JSON", path);
	free(path);
	return j;
}

Test(failure, unhealthy_update_is_rolled_back, .timeout = 60, .fini = ct_fini)
{
	const char *args[] = {"--timeout", "3", NULL};
	struct json_object *before, *after, *backup;
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup(&t, NULL);
	write_app(&t, "/fail/api", "v1", NULL);
	ct_sync_ok(&t, "the first sync");
	cr_assert(ct_wait_idle(&t, 5000));
	before = ct_app(&t, "/fail/api");
	cr_assert(before);

	write_app(&t, "/fail/api", "v2", "unhealthy");
	r = ct_cmd(&t, "sync", args);
	cr_expect_eq(r.rc, 1, "a rolled back app must make sync exit 1, got %d:\n%s%s", r.rc, r.out,
	             r.err);
	cr_expect(ct_has(r.out, "rolled_back") && ct_has(r.out, "/fail/api"),
	          "the outcome names the app and says it was rolled back:\n%s", r.out);
	cr_expect(ct_has(r.out, "within 3 s") || ct_has(r.err, "within 3 s"),
	          "the reason (timeout) is given:\n%s%s", r.out, r.err);
	ct_run_free(&r);

	/* The previous definition runs again, healthy. */
	cr_assert(ct_wait_idle(&t, 10000), "deployments still running after the rollback");
	after = ct_app(&t, "/fail/api");
	cr_assert(after);
	expect_same_def(before, after, "the app after the rollback must equal the app before");
	cr_expect_str_eq(ct_str(after, "env.K"), "v1");
	cr_expect_null(ct_str(after, "env.SIM_BEHAVIOR"));
	cr_expect_eq(ct_int(after, "tasksHealthy"), 2, "the previous version runs healthy again");

	/* The backup equals what was live before the sync. */
	backup = only_backup(t.backups);
	expect_same_def(before, backup,
	                "the backup must equal the live definition before the sync");
	cr_expect_str_eq(ct_str(backup, "version"), ct_str(before, "version"),
	                 "the backup is of the version that was live");

	json_object_put(before);
	json_object_put(after);
	json_object_put(backup);
	ct_teardown(&t);
}

Test(failure, on_failure_restart, .timeout = 60, .fini = ct_fini)
{
	const char *args[] = {"--timeout", "3", "--on-failure", "restart", NULL};
	struct json_object *before, *after;
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup(&t, NULL);
	write_app(&t, "/fail/rs", "v1", NULL);
	ct_sync_ok(&t, "the first sync");
	before = ct_app(&t, "/fail/rs");
	cr_assert(before);

	write_app(&t, "/fail/rs", "v2", "unhealthy");
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", args);
	cr_expect_eq(r.rc, 1, "an app that did not converge must exit 1, got %d:\n%s%s", r.rc,
	             r.out, r.err);
	cr_expect(ct_has(r.out, "restarted"), "the outcome says restarted:\n%s", r.out);
	ct_run_free(&r);

	cr_expect_eq(ct_count_requests(&t, "POST", "/v2/apps/fail/rs/restart"), 1,
	             "--on-failure restart must POST /v2/apps/{id}/restart once");
	cr_expect_eq(ct_count_requests(&t, "DELETE", "/v2/deployments/"), 0,
	             "restart is not a rollback");
	after = ct_app(&t, "/fail/rs");
	cr_assert(after);
	cr_expect_str_neq(ct_str(after, "version"), ct_str(before, "version"),
	                  "the app got a new version");
	/* A restart keeps the new definition: it is not rolled back. */
	cr_expect_str_eq(ct_str(after, "env.K"), "v2");
	json_object_put(before);
	json_object_put(after);
	ct_teardown(&t);
}

Test(failure, on_failure_none, .timeout = 60, .fini = ct_fini)
{
	const char *args[] = {"--timeout", "3", "--on-failure", "none", NULL};
	struct json_object *after;
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup(&t, NULL);
	write_app(&t, "/fail/none", "v1", NULL);
	ct_sync_ok(&t, "the first sync");

	write_app(&t, "/fail/none", "v2", "unhealthy");
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", args);
	cr_expect_eq(r.rc, 1, "got %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "failed") && ct_has(r.out, "/fail/none"), "%s", r.out);
	ct_run_free(&r);

	/* After the PUT, pacer only watched: no restart, no rollback, no second PUT. */
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/"), 1);
	cr_expect_eq(ct_count_requests(&t, "POST", "/v2/apps/fail/none/restart"), 0);
	cr_expect_eq(ct_count_requests(&t, "DELETE", NULL), 0);
	after = ct_app(&t, "/fail/none");
	cr_assert(after);
	cr_expect_str_eq(ct_str(after, "env.K"), "v2", "none leaves the failing definition");
	cr_expect_str_eq(ct_str(after, "env.SIM_BEHAVIOR"), "unhealthy");
	json_object_put(after);
	ct_teardown(&t);
}

Test(failure, injected_503s_are_survived, .timeout = 60, .fini = ct_fini)
{
	const char *fault = "{\"status\": 503, \"count\": 2, \"path\": \"/v2/apps\"}";
	struct json_object *reqs, *app;
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;
	int list_before_write = 0, wrote = 0;

	ct_setup(&t, NULL);
	write_app(&t, "/flaky/a", "v1", NULL);
	ct_inject(&t, fault);

	r = ct_sync_run(&t, NULL, 0, "a sync with 503s (two 503s must be retried and survived)");
	ct_run_free(&r);

	reqs = ct_requests(&t);
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *q = json_object_array_get_idx(reqs, i);

		if (strcmp(ct_str(q, "method"), "GET"))
			wrote = 1;
		else if (!wrote && !strcmp(ct_str(q, "path"), "/v2/apps"))
			list_before_write++;
	}
	json_object_put(reqs);
	cr_expect_eq(
	    list_before_write, 3,
	    "the two failed GET /v2/apps were retried (3 reads before the first write, saw %d)",
	    list_before_write);
	app = ct_app(&t, "/flaky/a");
	cr_expect(app != NULL, "the app was created despite the 503s");
	cr_expect_eq(ct_int(app, "tasksHealthy"), 2);
	json_object_put(app);

	/* 503s on the write itself: pacer must still end in sync. */
	write_app(&t, "/flaky/a", "v2", NULL);
	ct_inject(&t, "{\"status\": 503, \"count\": 1, \"path\": \"/v2/apps/flaky\", "
	              "\"method\": \"PUT\"}");
	r = ct_sync_run(&t, NULL, 0, "a sync with a 503 on PUT (it must be retried)");
	ct_run_free(&r);
	app = ct_app(&t, "/flaky/a");
	cr_expect_str_eq(ct_str(app, "env.K"), "v2");
	json_object_put(app);
	ct_teardown(&t);
}

Test(failure, locked_app_is_updated_with_force, .timeout = 60, .fini = ct_fini)
{
	const char *other =
	    "{\"id\": \"/locked/a\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	    "\"instances\": 2, \"env\": {\"K\": \"other\", \"SIM_BEHAVIOR\": \"unhealthy\"}, "
	    "\"labels\": {\"team\": \"shop\"}, \"healthChecks\": [{\"protocol\": \"COMMAND\", "
	    "\"command\": {\"value\": \"true\"}, \"gracePeriodSeconds\": 1, \"intervalSeconds\": "
	    "1}]}";
	struct json_object *reqs;
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;
	char *resp = NULL, *other2 = strdup(other);
	int puts = 0;

	/* A different definition: an identical PUT is a no-op and never locked. */
	cr_assert(other2);
	memcpy(strstr(other2, "\"other\""), "\"OTHER\"", 7);

	ct_setup(&t, NULL);
	write_app(&t, "/locked/a", "v1", NULL);
	ct_sync_ok(&t, "the first sync");

	/* Another client starts a deployment that never finishes: the app is locked. */
	cr_assert_eq(ct_http(&t, "PUT", "/v2/apps/locked/a", other, &resp), 200, "PUT: %s", resp);
	free(resp);
	cr_assert_eq(ct_http(&t, "PUT", "/v2/apps/locked/a", other2, &resp), 409,
	             "precondition: a PUT without force is refused while the app deploys (%s)",
	             resp);
	free(resp);
	free(other2);

	write_app(&t, "/locked/a", "v3", NULL);
	ct_clear_requests(&t);
	r = ct_sync_run(&t, NULL, 0,
	                "a sync of a locked app (pacer must update it with force and converge)");
	cr_expect(ct_has(r.out, "updated"), "%s", r.out);
	ct_run_free(&r);

	reqs = ct_requests(&t);
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *q = json_object_array_get_idx(reqs, i);

		if (!strcmp(ct_str(q, "method"), "PUT")) {
			puts++;
			cr_expect(ct_has(ct_str(q, "query"), "force=true"));
		}
	}
	json_object_put(reqs);
	cr_expect_eq(puts, 1, "one forced PUT, no retry loop on 409");
	cr_assert(ct_wait_idle(&t, 5000), "the other client's deployment was superseded");
	json_object_put(ct_expect_runs(&t, "/locked/a", "v3", "tasksHealthy", 2));
	ct_teardown(&t);
}
