/*
 * marathon-sim: /v2/apps shapes and update semantics (SPEC.md §3, §5.5, §6):
 * POST 201 body, PUT 201/200, partialUpdate true/false, service ports,
 * no-op changes, 409 lock body, versions and rollback, error bodies,
 * real clients' quirks.
 */
#include "tests/sim/simtest.h"

#include "reconcile/base/buf.h"


TestSuite(apps, .fini = st_cleanup);

#define SLEEPER "{\"cmd\":\"sleep 1000\",\"instances\":1,\"cpus\":0.1,\"mem\":16}"

Test(apps, post_answers_201_with_the_app_as_submitted)
{
	struct test_sim sim;
	struct st_resp r;
	char hdr[256];

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "POST", "/v2/apps",
		   "{\"id\":\"simple\",\"cmd\":\"sleep 1000\",\"instances\":2,\"cpus\":0.1,\"mem\":16,"
		   "\"portDefinitions\":[{\"port\":0,\"name\":\"http\"}]}");
	cr_assert_eq(r.status, 201, "POST /v2/apps: %d %s", r.status, r.body);
	cr_assert_str_eq(st_str(r.json, "id"), "/simple");
	cr_assert_not_null(st_str(r.json, "version"));
	cr_assert_null(test_json_get(r.json, "versionInfo"), "POST body has no versionInfo");
	cr_assert_null(test_json_get(r.json, "tasks"), "POST body has no tasks");
	cr_assert_eq(st_int(r.json, "portDefinitions.0.port"), 0, "POST answers ports as submitted: %s", r.body);
	cr_assert_eq(st_int(r.json, "tasksRunning"), 0);
	cr_assert(st_header(&r, "Marathon-Deployment-Id", hdr, sizeof(hdr)));
	cr_assert_str_eq(st_str(r.json, "deployments.0.id"), hdr);
	cr_assert(st_header(&r, "X-Marathon-Leader", hdr, sizeof(hdr)));
	cr_assert_str_eq(hdr, sim.url);
	cr_assert(st_header(&r, "Location", hdr, sizeof(hdr)));
	st_free(&r);

	/* The app is readable at once, with the service port assigned. */
	r = st_req(&sim, "GET", "/v2/apps/simple", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_geq(st_int(r.json, "app.portDefinitions.0.port"), 10000);
	cr_assert_leq(st_int(r.json, "app.portDefinitions.0.port"), 20000);
	cr_assert_not_null(test_json_get(r.json, "app.versionInfo.lastConfigChangeAt"));
	cr_assert_not_null(test_json_get(r.json, "app.tasks"));
	st_free(&r);

	test_sim_expect(&sim, "POST", "/v2/apps", "{\"id\":\"/simple\",\"cmd\":\"sleep 1\"}", 409,
	                "{\"message\":\"An app with id [/simple] already exists.\"}", NULL);
	st_sim_stop(&sim);
}

Test(apps, put_creates_with_201_and_updates_with_200)
{
	struct test_sim sim;
	struct st_resp r;
	char hdr[64];

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/prod/web", SLEEPER);
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"));
	cr_assert_not_null(st_str(r.json, "version"));
	cr_assert(st_header(&r, "Marathon-Deployment-Id", hdr, sizeof(hdr)));
	cr_assert_str_eq(hdr, st_str(r.json, "deploymentId"));
	st_free(&r);
	cr_assert(st_wait_idle(&sim, 5000));
	test_sim_expect(&sim, "PUT", "/v2/apps/prod/web",
	                "{\"id\":\"/ignored\",\"cmd\":\"sleep 2000\"}", 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/prod/web", NULL);
	cr_assert_eq(r.status, 200, "the URL id wins over the body id");
	cr_assert_str_eq(st_str(r.json, "app.cmd"), "sleep 2000");
	st_free(&r);
	test_sim_expect(&sim, "GET", "/v2/apps/ignored", NULL, 404,
	                "{\"message\":\"App '/ignored' does not exist\"}", NULL);
	test_sim_expect(&sim, "PATCH", "/v2/apps/nope", "{\"instances\":2}", 404, NULL,
	                "PATCH never creates");
	st_sim_stop(&sim);
}

Test(apps, partial_update_merges_top_level_fields_and_false_replaces)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_expect(
	    &sim, "PUT", "/v2/apps/merge",
	    "{\"cmd\":\"sleep 1000\",\"env\":{\"A\":\"1\",\"B\":\"2\"},\"labels\":{\"team\":\"x\"},\"instances\":1}",
	    201, NULL, NULL);
	test_sim_expect(&sim, "PUT", "/v2/apps/merge?force=true", "{\"env\":{\"C\":\"3\"}}", 200,
	                NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/merge", NULL);
	cr_assert_str_eq(st_str(r.json, "app.env.C"), "3");
	cr_assert_null(test_json_get(r.json, "app.env.A"), "env is replaced whole, not deep-merged");
	cr_assert_str_eq(st_str(r.json, "app.labels.team"), "x", "absent fields keep their value");
	cr_assert_str_eq(st_str(r.json, "app.cmd"), "sleep 1000");
	st_free(&r);
	test_sim_expect(&sim, "PUT", "/v2/apps/merge?force=true&partialUpdate=false",
	                "{\"cmd\":\"sleep 5\"}", 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/merge", NULL);
	cr_assert_str_eq(st_str(r.json, "app.cmd"), "sleep 5");
	cr_assert_null(test_json_get(r.json, "app.env"), "partialUpdate=false replaces the whole app: %s", r.body);
	cr_assert_null(test_json_get(r.json, "app.labels.team"));
	st_free(&r);
	st_sim_stop(&sim);
}

Test(apps, service_ports_are_assigned_once_and_kept)
{
	struct test_sim sim;
	struct st_resp r;
	int64_t p1, p2;
	char v1[64];
	const char *def = "{\"cmd\":\"sleep 1000\",\"instances\":1,\"portDefinitions\":[{\"port\":0},{\"port\":0}]}";

	st_sim_start(&sim, NULL);
	test_sim_expect(&sim, "PUT", "/v2/apps/a?partialUpdate=false", def, 201, NULL, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/b?partialUpdate=false", def, NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "GET", "/v2/apps/a", NULL);
	p1 = st_int(r.json, "app.portDefinitions.0.port");
	p2 = st_int(r.json, "app.portDefinitions.1.port");
	snprintf(v1, sizeof(v1), "%s", st_str_or_empty(r.json, "app.version"));
	cr_assert(p1 >= 10000 && p1 <= 20000 && p2 >= 10000 && p2 <= 20000 && p1 != p2, "%s", r.body);
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/b", NULL);
	cr_assert_neq(st_int(r.json, "app.portDefinitions.0.port"), p1, "two apps never share a service port");
	cr_assert_neq(st_int(r.json, "app.portDefinitions.1.port"), p1);
	st_free(&r);
	/* Re-sending 0 keeps the assigned ports and is no change at all. */
	test_sim_expect(&sim, "PUT", "/v2/apps/a?partialUpdate=false", def, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/a", NULL);
	cr_assert_eq(st_int(r.json, "app.portDefinitions.0.port"), p1);
	cr_assert_eq(st_int(r.json, "app.portDefinitions.1.port"), p2);
	cr_assert_str_eq(st_str(r.json, "app.version"), v1, "a no-op keeps the version");
	st_free(&r);
	/* A config change keeps them too. */
	test_sim_request(
	    &sim, "PUT", "/v2/apps/a?partialUpdate=false",
	    "{\"cmd\":\"sleep 9\",\"instances\":1,\"portDefinitions\":[{\"port\":0},{\"port\":0}]}",
	    NULL);
	r = st_req(&sim, "GET", "/v2/apps/a", NULL);
	cr_assert_eq(st_int(r.json, "app.portDefinitions.0.port"), p1);
	cr_assert_str_neq(st_str(r.json, "app.version"), v1);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(apps, lock_conflict_409_and_noop_never_conflicts)
{
	struct test_sim sim;
	struct st_resp r;
	char dep[64], want[512], v1[64];
	const char *def = "{\"cmd\":\"sleep 1000\",\"instances\":1,\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"},"
			  "\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/\"}]}";

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/stuck?partialUpdate=false", def);
	cr_assert_eq(r.status, 201);
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	snprintf(v1, sizeof(v1), "%s", st_str_or_empty(r.json, "version"));
	st_free(&r);

	r = st_req(&sim, "PUT", "/v2/apps/stuck", "{\"cmd\":\"sleep 2\"}");
	cr_assert_eq(r.status, 409);
	snprintf(want, sizeof(want),
		 "{\"message\":\"App is locked by one or more deployments. Override with the option '?force=true'. "
		 "View details at '/v2/deployments/<DEPLOYMENT_ID>'.\",\"deployments\":[{\"id\":\"%s\"}]}",
		 dep);
	cr_assert_str_eq(r.body, want);
	st_free(&r);

	/* The same definition again: a deployment id, 200, no conflict, version kept. */
	r = st_req(&sim, "PUT", "/v2/apps/stuck?partialUpdate=false", def);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"));
	cr_assert_str_neq(st_str(r.json, "deploymentId"), dep);
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/stuck", NULL);
	cr_assert_str_eq(st_str(r.json, "app.version"), v1);
	cr_assert_str_eq(st_str(r.json, "app.deployments.0.id"), dep);
	st_free(&r);

	/* force cancels the running deployment. */
	test_sim_expect(&sim, "PUT", "/v2/apps/stuck?force=True", "{\"cmd\":\"sleep 2\"}", 200,
	                NULL, "force=True (any case) overrides the lock");
	cr_assert_not(st_deploy_running(&sim, dep), "the forced change cancelled %s", dep);
	st_sim_stop(&sim);
}

Test(apps, versions_and_rollback_by_version)
{
	struct test_sim sim;
	struct st_resp r;
	char v1[64], path[256];

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/v", "{\"cmd\":\"one\",\"instances\":1}");
	snprintf(v1, sizeof(v1), "%s", st_str_or_empty(r.json, "version"));
	st_free(&r);
	test_sim_request(&sim, "PUT", "/v2/apps/v?force=true", "{\"cmd\":\"two\"}", NULL);
	r = st_req(&sim, "GET", "/v2/apps/v/versions", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "versions")), 2, "%s", r.body);
	st_free(&r);
	snprintf(path, sizeof(path), "/v2/apps/v/versions/%s", v1);
	r = st_req(&sim, "GET", path, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(st_str(r.json, "cmd"), "one");
	st_free(&r);
	test_sim_expect(
	    &sim, "GET", "/v2/apps/v/versions/yesterday", NULL, 422,
	    "{\"message\":\"Invalid timestamp provided 'yesterday'. Expecting ISO-8601 datetime string.\"}",
	    NULL);

	/* "version" with another field is refused; alone it rolls back. */
	snprintf(path, sizeof(path), "{\"version\":\"%s\",\"cmd\":\"xx\"}", v1);
	test_sim_expect(
	    &sim, "PUT", "/v2/apps/v?force=true", path, 422,
	    "{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/\",\"errors\":[\"The 'version' "
	    "field may only be combined with the 'id' field.\"]}]}",
	    NULL);
	snprintf(path, sizeof(path), "{\"version\":\"%s\"}", v1);
	test_sim_expect(&sim, "PUT", "/v2/apps/v?force=true", path, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/v", NULL);
	cr_assert_str_eq(st_str(r.json, "app.cmd"), "one");
	cr_assert_str_neq(st_str(r.json, "app.version"), v1, "a rollback is a new version");
	st_free(&r);
	st_sim_stop(&sim);
}

Test(apps, error_bodies_and_client_quirks)
{
	struct test_sim sim;
	struct st_resp r;
	char url[512];
	const char *ct[] = {"Content-Type: application/json", "Accept: application/json", NULL};

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "POST", "/v2/apps", "{\"id\": ");
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(st_str(r.json, "message"), "Invalid JSON");
	cr_assert(json_object_is_type(test_json_get(r.json, "details"), json_type_string));
	st_free(&r);
	test_sim_expect(&sim, "POST", "/v2/apps", "[1]", 422, NULL, NULL);
	test_sim_expect(&sim, "DELETE", "/v2/deployments/abc", NULL, 404,
	                "{\"message\":\"DeploymentPlan abc does not exist\"}", NULL);
	/* marathon-python: "//" for absolute ids, Content-Type on a GET, force=True. */
	test_sim_expect(&sim, "PUT", "/v2/apps//q/w?force=True", SLEEPER, 201, NULL, NULL);
	snprintf(url, sizeof(url), "%s/v2/apps//q/w", sim.url);
	r = st_http("GET", url, NULL, ct);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "app.id"), "/q/w");
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/q/*", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "*")), 1);
	st_free(&r);
	test_sim_expect(&sim, "POST", "/v2/apps", "{\"id\":\"/q\",\"cmd\":\"xx\"}", 422, NULL,
	                "an app may not take a group's id");
	test_sim_expect(&sim, "DELETE", "/v2/apps/q/w", NULL, 200, NULL, NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/q/w", NULL, 404, NULL,
	                "a deleted app vanishes at once");
	st_sim_stop(&sim);
}

Test(apps, list_filters_and_embeds)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/prod/web",
	                 "{\"cmd\":\"python3 -m http.server\",\"labels\":{\"tier\":\"web\"}}",
	                 NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/prod/db",
	                 "{\"cmd\":\"postgres\",\"labels\":{\"tier\":\"db\"}}", NULL);
	r = st_req(&sim, "GET", "/v2/apps?label=tier==web", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 1, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "apps.0.id"), "/prod/web");
	cr_assert_not_null(test_json_get(r.json, "apps.0.tasksRunning"), "counts are always embedded");
	cr_assert_not_null(test_json_get(r.json, "apps.0.deployments"), "deployments are always embedded");
	cr_assert_null(test_json_get(r.json, "apps.0.tasks"));
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps?label=tier%20in%20(db,cache)&embed=apps.tasks", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 1, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "apps.0.id"), "/prod/db");
	cr_assert_not_null(test_json_get(r.json, "apps.0.tasks"));
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps?id=WEB", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 1);
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps?cmd=postgres", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 1);
	st_free(&r);
	test_sim_expect(&sim, "GET", "/v2/apps?label=a%20b%20c", NULL, 422, NULL,
	                "a bad selector is a 422");
	st_sim_stop(&sim);
}

Test(apps, bulk_put_is_one_deployment)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_expect(
	    &sim, "PUT", "/v2/apps",
	    "[{\"id\":\"/b/one\",\"cmd\":\"aa\"},{\"id\":\"/b/two\",\"cmd\":\"bb\",\"dependencies\":[\"/b/one\"]}]",
	    200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/deployments", NULL);
	cr_assert_eq(json_object_array_length(r.json), 1);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "0.affectedApps")), 2);
	/* Start step, then dependency-ordered scale steps: one before two. */
	cr_assert_eq(st_int(r.json, "0.totalSteps"), 3, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "0.steps.1.actions.0.app"), "/b/one");
	cr_assert_str_eq(st_str(r.json, "0.steps.2.actions.0.app"), "/b/two");
	st_free(&r);
	test_sim_expect(&sim, "PUT", "/v2/apps", "[{\"cmd\":\"no id\"}]", 422,
	                "{\"message\":\"requirement failed: App Update must have app id set\"}",
	                NULL);
	test_sim_expect(&sim, "PATCH", "/v2/apps", "[{\"id\":\"/b/none\",\"cmd\":\"xx\"}]", 404,
	                NULL, NULL);
	st_sim_stop(&sim);
}

/*
 * One change holds one definition per app: a group or bulk update that
 * lists an app twice is refused whole, and the app is not created twice
 * (the group's delete used to free it twice).
 */
Test(apps, an_app_listed_twice_in_one_change_is_refused)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/groups/dup",
		   "{\"apps\":[{\"id\":\"x\",\"cmd\":\"aa\"},{\"id\":\"y\",\"cmd\":\"bb\"},"
		   "{\"id\":\"/dup/x\",\"cmd\":\"cc\"}]}");
	cr_assert_eq(r.status, 422, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "details.0.errors.0"),
			 "Application '/dup/x' is defined more than once in this change.");
	st_free(&r);
	test_sim_expect(&sim, "GET", "/v2/apps/dup/y", NULL, 404, NULL, "a refused change stores nothing");
	test_sim_expect(&sim, "PUT", "/v2/apps",
			"[{\"id\":\"/b/one\",\"cmd\":\"aa\"},{\"id\":\"b/one\",\"cmd\":\"bb\"}]", 422, NULL,
			NULL);
	test_sim_expect(&sim, "PUT", "/v2/groups/dup", "{\"apps\":[{\"id\":\"x\",\"cmd\":\"aa\"}]}", 200,
			NULL, NULL);
	cr_assert(st_wait_idle(&sim, 10000));
	test_sim_expect(&sim, "DELETE", "/v2/groups/dup?force=true", NULL, 200, NULL, NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/dup/x", NULL, 404, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 0, "%s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

/* Validation is appdef's (reconcile/appdef.c); here we check the simulator passes its 422 through. */
Test(apps, validation_422_from_appdef)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "POST", "/v2/apps", "{\"id\":\"probe\",\"cmd\":\"xx\"}", NULL);
	r = st_req(&sim, "GET", "/v2/apps/probe", NULL);
	if (!test_json_get(r.json, "app.cpus")) {
		st_free(&r);
		st_sim_stop(&sim);
		cr_skip_test("reconcile/appdef.c is still the placeholder (no defaults, no validation)");
	}
	st_free(&r);
	r = st_req(&sim, "POST", "/v2/apps", "{\"id\":\"bad\",\"cmd\":\"xx\",\"cpus\":\"lots\"}");
	cr_assert_eq(r.status, 422, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "message"), "Invalid JSON");
	cr_assert_str_eq(st_str(r.json, "details.0.path"), "/cpus");
	st_free(&r);
	test_sim_expect(&sim, "POST", "/v2/apps", "{\"id\":\"Bad_Id\",\"cmd\":\"xx\"}", 422, NULL,
	                NULL);
	test_sim_expect(&sim, "PUT", "/v2/apps/neg", "{\"cmd\":\"xx\",\"mem\":-1}", 422, NULL,
	                NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/bad", NULL, 404, NULL,
	                "a rejected app is not stored");
	st_sim_stop(&sim);
}

/*
 * A change of many apps at once (--load, bulk PUT, group PUT) makes equal
 * parts of the stored definitions one shared object (state.c, to save
 * memory). Each app must still behave as if it had its own copy.
 */
Test(apps, equal_parts_of_many_apps_stay_independent)
{
	struct test_sim sim;
	struct st_resp r;
	struct pacer_buf b = PACER_BUF_INIT;
	int64_t ports[20];
	char body[512];

	st_sim_start(&sim, NULL);
	pacer_buf_puts(&b, "{\"id\":\"/same\",\"apps\":[");
	for (int i = 0; i < 20; i++)
		pacer_buf_printf(&b, "%s{\"id\":\"a%d\",\"cmd\":\"sleep 1000\",\"instances\":1,"
				 "\"portDefinitions\":[{\"port\":0}],\"labels\":{\"team\":\"x\"},"
				 "\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":1},"
				 "\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/h\"}]}",
				 i ? "," : "", i);
	pacer_buf_puts(&b, "]}");
	test_sim_expect(&sim, "PUT", "/v2/groups/same", pacer_buf_cstr(&b), 200, NULL, NULL);
	pacer_buf_release(&b);
	cr_assert(st_wait_idle(&sim, 10000));
	for (int i = 0; i < 20; i++) {
		snprintf(body, sizeof(body), "/v2/apps/same/a%d", i);
		r = st_req(&sim, "GET", body, NULL);
		ports[i] = st_int(r.json, "app.portDefinitions.0.port");
		for (int j = 0; j < i; j++)
			cr_assert_neq(ports[i], ports[j], "a%d and a%d got the same service port: %s", i, j, r.body);
		st_free(&r);
	}
	/* Change the shared-looking parts of one app, through PATCH and PUT. */
	test_sim_expect(
	    &sim, "PATCH", "/v2/apps/same/a3",
	    "{\"labels\":{\"team\":\"y\"},\"upgradeStrategy\":{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":1}}",
	    200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/same/a3", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.labels.team"), "y");
	st_free(&r);
	for (int i = 0; i < 20; i += 5) {
		snprintf(body, sizeof(body), "/v2/apps/same/a%d", i);
		r = st_req(&sim, "GET", body, NULL);
		cr_assert_str_eq(st_str_or_empty(r.json, "app.labels.team"), "x", "a%d kept its labels: %s", i, r.body);
		cr_assert_eq(json_object_get_double(test_json_get(r.json, "app.upgradeStrategy.minimumHealthCapacity")), 0.5);
		cr_assert_eq(st_int(r.json, "app.portDefinitions.0.port"), ports[i]);
		cr_assert_str_eq(st_str_or_empty(r.json, "app.healthChecks.0.path"), "/h");
		st_free(&r);
	}
	/* Rolling a3 back to its first version restores its own parts only. */
	r = st_req(&sim, "GET", "/v2/apps/same/a3/versions", NULL);
	snprintf(body, sizeof(body), "{\"version\":\"%s\"}", st_str_or_empty(r.json, "versions.1"));
	st_free(&r);
	test_sim_expect(&sim, "PUT", "/v2/apps/same/a3?force=true", body, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/same/a3", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.labels.team"), "x", "%s", r.body);
	cr_assert_eq(st_int(r.json, "app.portDefinitions.0.port"), ports[3]);
	st_free(&r);
	st_sim_stop(&sim);
}
