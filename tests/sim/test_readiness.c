/*
 * marathon-sim: readiness checks (SPEC.md §4.4, §3.1, §4.1). A deployment of
 * an app with readinessChecks ends only once its new tasks are ready
 * (--health-ms after running); SIM_BEHAVIOR=unready keeps it running
 * forever, visible in readinessCheckResults (apps embed and deployments'
 * currentActions); a restart keeps the old tasks while the new ones are
 * not ready.
 */
#include "tests/sim/simtest.h"

TestSuite(readiness, .fini = st_cleanup);

#define RC_APP(extra)                                                                      \
	"{\"cmd\":\"xx\",\"instances\":2,\"portDefinitions\":[{\"port\":0,\"name\":\"http-api\"}]," \
	"\"readinessChecks\":[{\"name\":\"ready\",\"path\":\"/ready\",\"portName\":\"http-api\","   \
	"\"preserveLastResponse\":true}]" extra "}"

static char *dep_of(struct st_resp *r)
{
	const char *d = st_str(r->json, "deploymentId");

	cr_assert(d, "no deploymentId in %s", r->body);
	return strdup(d);
}

Test(readiness, deployment_ends_only_once_tasks_are_ready)
{
	const char *args[] = {"--health-ms", "400", NULL};
	struct test_sim sim;
	struct st_resp r;
	char *plain, *rc;
	int waited = 0;

	/* The later --health-ms wins over st_sim_start's 40. */
	st_sim_start(&sim, args);
	r = st_req(&sim, "PUT", "/v2/apps/plain", "{\"cmd\":\"xx\",\"instances\":2}");
	plain = dep_of(&r);
	st_free(&r);
	r = st_req(&sim, "PUT", "/v2/apps/rc", RC_APP(""));
	cr_assert_eq(r.status, 201, "%s", r.body);
	rc = dep_of(&r);
	st_free(&r);
	while (st_deploy_running(&sim, plain) && waited < 5000) {
		st_sleep_ms(10);
		waited += 10;
	}
	cr_assert(!st_deploy_running(&sim, plain), "the app without readiness checks deploys");
	/* rc was deployed a request later: its tasks may still be starting. */
	for (waited = 0; waited < 2000; waited += 10) {
		r = st_req(&sim, "GET", "/v2/apps/rc", NULL);
		if (st_int(r.json, "app.tasksRunning") == 2)
			break;
		st_free(&r);
		st_sleep_ms(10);
	}
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 2, "%s", r.body);
	st_free(&r);
	cr_assert(st_deploy_running(&sim, rc), "running is not enough with readinessChecks: the deployment waits");
	cr_assert(st_wait_idle(&sim, 5000), "ready tasks end the deployment");
	r = st_req(&sim, "GET", "/v2/apps/rc?embed=app.readiness", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "app.readinessCheckResults")), 0,
		     "results live in the deployment only: %s", r.body);
	st_free(&r);
	free(plain);
	free(rc);
	st_sim_stop(&sim);
}

/* The readinessCheckResults array at path in a fresh GET of url (a new reference). */
static struct json_object *results_at(struct test_sim *sim, const char *url, const char *path)
{
	struct st_resp r = st_req(sim, "GET", url, NULL);
	struct json_object *a = test_json_get(r.json, path);

	cr_assert(a && json_object_is_type(a, json_type_array), "no %s in %s", path, r.body);
	json_object_get(a);
	st_free(&r);
	return a;
}

Test(readiness, unready_never_ends_and_shows_results)
{
	struct test_sim sim;
	struct st_resp r;
	struct json_object *res, *tasks, *res2;
	char *dep, first_check[64];

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/stuck", RC_APP(",\"env\":{\"SIM_BEHAVIOR\":\"unready\"}"));
	dep = dep_of(&r);
	st_free(&r);
	st_sleep_ms(700); /* ~15 readiness checks at --health-ms 40 */
	cr_assert(st_deploy_running(&sim, dep), "tasks that never get ready never end the deployment");

	r = st_req(&sim, "GET", "/v2/apps/stuck?embed=app.readiness", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 2, "%s", r.body);
	res = test_json_get(r.json, "app.readinessCheckResults");
	tasks = test_json_get(r.json, "app.tasks");
	cr_assert_eq(json_object_array_length(res), 2, "one result per task: %s", r.body);
	for (size_t i = 0; i < 2; i++) {
		struct json_object *o = json_object_array_get_idx(res, i), *v;
		int known = 0;
		cr_assert_str_eq(st_str(o, "name"), "ready");
		cr_assert(json_object_object_get_ex(o, "ready", &v) && !json_object_get_boolean(v), "%s", r.body);
		cr_assert_eq(st_int(o, "lastResponse.status"), 503);
		cr_assert(st_str(o, "lastCheckedAt"));
		for (size_t j = 0; j < json_object_array_length(tasks); j++)
			known |= !strcmp(st_str(json_object_array_get_idx(tasks, j), "id"), st_str(o, "taskId"));
		cr_assert(known, "the result names a task of the app: %s", r.body);
	}
	snprintf(first_check, sizeof(first_check), "%s", st_str(json_object_array_get_idx(res, 0), "lastCheckedAt"));
	st_free(&r);

	/* The list endpoint embeds them too; without the embed they are absent. */
	res = results_at(&sim, "/v2/apps?embed=apps.readiness", "apps.0.readinessCheckResults");
	cr_assert_eq(json_object_array_length(res), 2);
	json_object_put(res);
	r = st_req(&sim, "GET", "/v2/apps/stuck", NULL);
	cr_assert_null(test_json_get(r.json, "app.readinessCheckResults"), "%s", r.body);
	st_free(&r);

	/* The deployment's current action carries the same results, re-checked over time. */
	st_sleep_ms(200);
	res2 = results_at(&sim, "/v2/deployments", "0.currentActions.0.readinessCheckResults");
	cr_assert_eq(json_object_array_length(res2), 2);
	cr_assert_str_neq(st_str(json_object_array_get_idx(res2, 0), "lastCheckedAt"), first_check,
			  "checked again while the deployment waits");
	json_object_put(res2);

	/* Once the check passes, the deployment ends. */
	test_sim_expect(&sim, "POST", "/_sim/apps/stuck/behavior", "{\"behavior\":\"healthy\"}", 200, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 3000), "a passing readiness check ends the deployment");
	free(dep);
	st_sim_stop(&sim);
}

Test(readiness, no_readiness_checks_means_empty_results)
{
	struct test_sim sim;
	struct json_object *res;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/nochk", "{\"cmd\":\"xx\",\"env\":{\"SIM_BEHAVIOR\":\"slow\"}}", NULL);
	st_sleep_ms(100); /* past the StartApplication step, in the slow ScaleApplication */
	res = results_at(&sim, "/v2/deployments", "0.currentActions.0.readinessCheckResults");
	cr_assert_eq(json_object_array_length(res), 0);
	json_object_put(res);
	/* "unready" without readinessChecks: nothing to fail, the deployment ends. */
	test_sim_request(&sim, "PUT", "/v2/apps/plain", "{\"cmd\":\"xx\",\"env\":{\"SIM_BEHAVIOR\":\"unready\"}}", NULL);
	cr_assert(st_wait_idle(&sim, 5000), "unready only matters with readinessChecks");
	st_sim_stop(&sim);
}

Test(readiness, restart_keeps_old_tasks_until_new_ones_are_ready)
{
	struct test_sim sim;
	struct st_resp r;
	int old = 0;

	st_sim_start(&sim, NULL);
	/* v1 without readiness checks: its tasks were never checked, and must not
	 * be taken for unready ones once v2 adds a check. */
	test_sim_request(&sim, "PUT", "/v2/apps/web",
			 "{\"cmd\":\"xx\",\"instances\":2,\"portDefinitions\":[{\"port\":0,\"name\":\"http-api\"}]}",
			 NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "PUT", "/v2/apps/web", RC_APP(",\"env\":{\"SIM_BEHAVIOR\":\"unready\"}"));
	cr_assert_eq(r.status, 200, "%s", r.body);
	st_free(&r);
	st_sleep_ms(500);
	cr_assert_eq(st_ndeploys(&sim), 1);
	r = st_req(&sim, "GET", "/v2/apps/web", NULL);
	/* maximumOverCapacity 1.0: two new beside the two old, which stay up
	 * (minimumHealthCapacity 1.0) as no new one is ready. */
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 4, "%s", r.body);
	for (size_t i = 0; i < 4; i++)
		old += strcmp(st_str(r.json, "app.version"),
			      st_str(json_object_array_get_idx(test_json_get(r.json, "app.tasks"), i), "version")) != 0;
	cr_assert_eq(old, 2, "the old tasks are not killed for lack of readiness: %s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(readiness, behavior_override_accepts_unready)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/o", "{\"cmd\":\"xx\"}", NULL);
	test_sim_expect(&sim, "POST", "/_sim/apps/o/behavior", "{\"behavior\":\"unready\"}", 200, NULL, NULL);
	r = st_req(&sim, "POST", "/_sim/apps/o/behavior", "{\"behavior\":\"sleepy\"}");
	cr_assert_eq(r.status, 422);
	cr_assert(r.body && strstr(r.body, "unready"), "the error lists the values: %s", r.body ? r.body : "");
	st_free(&r);
	st_sim_stop(&sim);
}
