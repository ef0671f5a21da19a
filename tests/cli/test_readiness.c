/*
 * pacer sync of an app with readinessChecks, end to end against
 * marathon-sim: tasks that run but never pass their readiness check
 * (SIM_BEHAVIOR=unready) keep the deployment from finishing, so the sync
 * times out and rolls back exactly as for an unhealthy app; the same app
 * whose check passes converges.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

/* Two instances with an HTTP readiness check; behaviour from SIM_BEHAVIOR (or none). */
static void write_app(struct ct *t, const char *id, const char *k, const char *behavior)
{
	const struct ct_def d = {
	    .id = id,
	    .k = k,
	    .behavior = behavior,
	    .checks = "\"portDefinitions\": [{\"port\": 0, \"name\": \"http-api\"}], "
	              "\"readinessChecks\": [{\"name\": \"ready\", \"protocol\": \"HTTP\", "
	              "\"path\": \"/ready\", \"portName\": \"http-api\"}]",
	};

	ct_write_def(t, &d);
}

/* A simulator running app id v1, created by a first sync. */
static void setup_synced(struct ct *t, const char *id)
{
	ct_setup(t, NULL);
	write_app(t, id, "v1", NULL);
	ct_sync_ok(t, "the first sync");
}

Test(readiness, unready_update_is_rolled_back, .timeout = 60, .fini = ct_fini)
{
	const char *args[] = {"--timeout", "3", NULL};
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct json_object *after;
	struct ct_run r;

	setup_synced(&t, "/rc/api");
	cr_assert(ct_wait_idle(&t, 5000));

	write_app(&t, "/rc/api", "v2", "unready");
	r = ct_cmd(&t, "sync", args);
	cr_expect_eq(r.rc, 1, "a rolled back app must make sync exit 1, got %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "rolled_back") && ct_has(r.out, "/rc/api"),
	          "the outcome names the app and says it was rolled back:\n%s", r.out);
	cr_expect(ct_has(r.out, "within 3 s") || ct_has(r.err, "within 3 s"), "the reason (timeout) is given:\n%s%s",
	          r.out, r.err);
	ct_run_free(&r);

	/* The previous definition runs again, its tasks ready. */
	cr_assert(ct_wait_idle(&t, 10000), "deployments still running after the rollback");
	after = ct_expect_runs(&t, "/rc/api", "v1", "tasksRunning", 2);
	cr_expect_str_eq(ct_str(after, "readinessChecks.0.name"), "ready");
	json_object_put(after);
	ct_teardown(&t);
}

Test(readiness, ready_update_converges, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	setup_synced(&t, "/rc/web");
	write_app(&t, "/rc/web", "v2", NULL);
	ct_sync_ok(&t, "the update");
	/* pacer waited for the deployment, so nothing is left running. */
	cr_expect(ct_wait_idle(&t, 200), "sync returned before its deployment ended");
	json_object_put(ct_expect_runs(&t, "/rc/web", "v2", "tasksRunning", 2));

	/* In sync now: a second run changes nothing. */
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 0, "%s%s", r.out, r.err);
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/"), 0, "converged: no further write");
	ct_run_free(&r);
	ct_teardown(&t);
}
