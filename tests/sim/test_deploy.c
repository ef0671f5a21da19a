/*
 * marathon-sim: deployments progressing in time (SPEC.md §4): upgrades keep
 * minimumHealthCapacity, "unhealthy" never completes, rollback and force
 * cancel via DELETE /v2/deployments/{id}, restart/scale versioning, crash
 * backoff with lastTaskFailure and /v2/queue, killing tasks.
 */
#include "tests/sim/simtest.h"


TestSuite(deploy, .fini = st_cleanup);

static int count_healthy_tasks(struct json_object *app, const char *version, int *total, int *new_healthy)
{
	struct json_object *tasks = test_json_get(app, "tasks");
	int healthy = 0;

	*total = tasks ? (int)json_object_array_length(tasks) : 0;
	*new_healthy = 0;
	for (int i = 0; i < *total; i++) {
		struct json_object *t = json_object_array_get_idx(tasks, (size_t)i);
		struct json_object *alive = test_json_get(t, "healthCheckResults.0.alive");
		int ok = alive && json_object_get_boolean(alive);
		healthy += ok;
		if (ok && version && st_str(t, "version") && !strcmp(st_str(t, "version"), version))
			(*new_healthy)++;
	}
	return healthy;
}

Test(deploy, upgrade_respects_minimum_health_capacity)
{
	struct test_sim sim;
	struct st_resp r;
	const char *args[] = {"--task-launch-ms", "60", "--health-ms", "60", NULL};
	char version[64];
	int samples = 0, min_seen = 99, max_total = 0, total, new_healthy;

	st_sim_start(&sim, args);
	test_sim_expect(
	    &sim, "PUT", "/v2/apps/rolling",
	    "{\"cmd\":\"v1\",\"instances\":4,\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/\"}],"
	    "\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0.0}}",
	    201, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 5000), "the first deployment finishes");
	r = st_req(&sim, "GET", "/v2/apps/rolling", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksHealthy"), 4, "%s", r.body);
	st_free(&r);

	r = st_req(&sim, "PUT", "/v2/apps/rolling", "{\"cmd\":\"v2\"}");
	cr_assert_eq(r.status, 200);
	snprintf(version, sizeof(version), "%s", st_str(r.json, "version"));
	st_free(&r);
	/* Sample the tasks while the upgrade runs: never below ceil(4*0.5)=2 healthy, never above 4 tasks. */
	for (int t = 0; t < 5000; t += 5) {
		int healthy, running;
		r = st_req(&sim, "GET", "/v2/apps/rolling", NULL);
		healthy = count_healthy_tasks(test_json_get(r.json, "app"), version, &total, &new_healthy);
		running = json_object_array_length(test_json_get(r.json, "app.deployments")) > 0;
		st_free(&r);
		samples++;
		if (healthy < min_seen)
			min_seen = healthy;
		if (total > max_total)
			max_total = total;
		if (!running)
			break;
		st_sleep_ms(5);
	}
	cr_assert_geq(samples, 5, "the upgrade took observable time");
	cr_assert_geq(min_seen, 2, "healthy tasks dropped to %d during the upgrade", min_seen);
	cr_assert_leq(max_total, 4, "maximumOverCapacity 0 allows no extra task, saw %d", max_total);
	cr_assert_lt(min_seen, 4, "some old tasks were replaced before new ones were healthy");
	r = st_req(&sim, "GET", "/v2/apps/rolling", NULL);
	count_healthy_tasks(test_json_get(r.json, "app"), version, &total, &new_healthy);
	cr_assert_eq(new_healthy, 4, "all tasks run the new version at the end: %s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(deploy, default_strategy_starts_all_new_before_killing_old)
{
	struct test_sim sim;
	struct st_resp r;
	int max_total = 0, total, nh;

	st_sim_start(&sim, NULL);
	test_sim_request(
	    &sim, "PUT", "/v2/apps/d",
	    "{\"cmd\":\"v1\",\"instances\":2,\"healthChecks\":[{\"protocol\":\"TCP\"}]}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	test_sim_expect(&sim, "POST", "/v2/apps/d/restart", NULL, 200, NULL, NULL);
	for (int t = 0; t < 5000 && st_ndeploys(&sim) > 0; t += 5) {
		int healthy;
		r = st_req(&sim, "GET", "/v2/apps/d", NULL);
		healthy = count_healthy_tasks(test_json_get(r.json, "app"), NULL, &total, &nh);
		st_free(&r);
		cr_assert_geq(healthy, 2, "minimumHealthCapacity 1.0 keeps both healthy");
		if (total > max_total)
			max_total = total;
		st_sleep_ms(5);
	}
	cr_assert_gt(max_total, 2, "new tasks ran beside the old ones");
	cr_assert_leq(max_total, 4);
	st_sim_stop(&sim);
}

Test(deploy, unhealthy_never_completes)
{
	struct test_sim sim;
	struct st_resp r;
	char dep[64];

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/sick",
		   "{\"cmd\":\"xx\",\"instances\":2,\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"},"
		   /* 0: never killed, so both stay running and unhealthy (kills: test_unhealthy.c) */
		   "\"healthChecks\":[{\"protocol\":\"HTTP\",\"maxConsecutiveFailures\":0}]}");
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	st_free(&r);
	st_sleep_ms(800);
	cr_assert(st_deploy_running(&sim, dep), "a deployment of unhealthy tasks never finishes");
	r = st_req(&sim, "GET", "/v2/apps/sick", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 2, "%s", r.body);
	cr_assert_eq(st_int(r.json, "app.tasksUnhealthy"), 2);
	cr_assert_eq(st_int(r.json, "app.tasksHealthy"), 0);
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/deployments", NULL);
	cr_assert_eq(st_int(r.json, "0.currentStep"), 2);
	cr_assert_str_eq(st_str(r.json, "0.currentActions.0.action"), "ScaleApplication");
	st_free(&r);
	st_sim_stop(&sim);
}

Test(deploy, delete_deployment_rolls_back_to_the_previous_version)
{
	struct test_sim sim;
	struct st_resp r;
	char dep[64], v2[64], rb[64];

	st_sim_start(&sim, NULL);
	test_sim_request(
	    &sim, "PUT", "/v2/apps/rb",
	    "{\"cmd\":\"good\",\"instances\":1,\"healthChecks\":[{\"protocol\":\"HTTP\"}]}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "PUT", "/v2/apps/rb", "{\"cmd\":\"bad\",\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"}}");
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	snprintf(v2, sizeof(v2), "%s", st_str(r.json, "version"));
	st_free(&r);
	st_sleep_ms(200);
	cr_assert(st_deploy_running(&sim, dep));

	r = st_req(&sim, "DELETE", "/v2/deployments/", NULL);
	cr_assert_neq(r.status, 200);
	st_free(&r);
	{
		char path[128];
		snprintf(path, sizeof(path), "/v2/deployments/%s", dep);
		r = st_req(&sim, "DELETE", path, NULL);
	}
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"));
	snprintf(rb, sizeof(rb), "%s", st_str(r.json, "deploymentId"));
	cr_assert_str_neq(rb, dep);
	st_free(&r);
	cr_assert_not(st_deploy_running(&sim, dep));
	r = st_req(&sim, "GET", "/v2/apps/rb", NULL);
	cr_assert_str_eq(st_str(r.json, "app.cmd"), "good", "rolled back: %s", r.body);
	cr_assert_null(test_json_get(r.json, "app.env.SIM_BEHAVIOR"));
	cr_assert_str_gt(st_str(r.json, "app.version"), v2, "the rollback is a new version");
	st_free(&r);
	cr_assert(st_wait_idle(&sim, 5000), "the rollback deployment completes");
	r = st_req(&sim, "GET", "/v2/apps/rb", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksHealthy"), 1);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(deploy, force_delete_deployment_keeps_the_target_config)
{
	struct test_sim sim;
	struct st_resp r;
	char path[128];

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/f", "{\"cmd\":\"bad\",\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"}}");
	snprintf(path, sizeof(path), "/v2/deployments/%s?force=true", st_str(r.json, "deploymentId"));
	st_free(&r);
	test_sim_expect(&sim, "DELETE", path, NULL, 202, "", NULL);
	cr_assert_eq(st_ndeploys(&sim), 0);
	r = st_req(&sim, "GET", "/v2/apps/f", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(st_str(r.json, "app.cmd"), "bad");
	st_free(&r);
	test_sim_expect(&sim, "DELETE", path, NULL, 404, NULL, "a finished deployment is gone");
	st_sim_stop(&sim);
}

Test(deploy, scale_and_restart_update_version_info)
{
	struct test_sim sim;
	struct st_resp r;
	char v1[64], cfg1[64], scale2[64];

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/vi", "{\"cmd\":\"xx\",\"instances\":1}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "GET", "/v2/apps/vi", NULL);
	snprintf(v1, sizeof(v1), "%s", st_str_or_empty(r.json, "app.version"));
	snprintf(cfg1, sizeof(cfg1), "%s", st_str(r.json, "app.versionInfo.lastConfigChangeAt"));
	st_free(&r);
	test_sim_request(&sim, "PUT", "/v2/apps/vi", "{\"instances\":3}", NULL);
	r = st_req(&sim, "GET", "/v2/deployments", NULL);
	cr_assert_str_eq(st_str(r.json, "0.steps.0.actions.0.action"), "ScaleApplication");
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/vi", NULL);
	cr_assert_str_neq(st_str(r.json, "app.version"), v1);
	cr_assert_str_eq(st_str(r.json, "app.versionInfo.lastConfigChangeAt"), cfg1, "scaling keeps lastConfigChangeAt");
	snprintf(scale2, sizeof(scale2), "%s", st_str(r.json, "app.versionInfo.lastScalingAt"));
	st_free(&r);
	cr_assert(st_wait_idle(&sim, 5000));
	test_sim_expect(&sim, "POST", "/v2/apps/vi/restart", NULL, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/vi", NULL);
	cr_assert_str_eq(st_str(r.json, "app.versionInfo.lastScalingAt"), scale2, "restart keeps lastScalingAt");
	cr_assert_str_neq(st_str(r.json, "app.versionInfo.lastConfigChangeAt"), cfg1);
	cr_assert_eq(st_int(r.json, "app.instances"), 3);
	st_free(&r);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "GET", "/v2/apps/vi", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 3);
	st_free(&r);
	test_sim_expect(&sim, "POST", "/v2/apps/nope/restart", NULL, 404, NULL, NULL);
	st_sim_stop(&sim);
}

Test(deploy, crash_sets_last_task_failure_and_queue)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(
	    &sim, "PUT", "/v2/apps/crashy",
	    "{\"cmd\":\"xx\",\"instances\":1,\"backoffSeconds\":1,\"env\":{\"SIM_BEHAVIOR\":\"crash\"},\"healthChecks\":[{\"protocol\":\"HTTP\"}]}",
	    NULL);
	r = st_wait_app_member(&sim, "crashy", "app.lastTaskFailure", 3000);
	cr_assert_not_null(test_json_get(r.json, "app.lastTaskFailure"),
			   "a crashing task leaves lastTaskFailure");
	cr_assert_str_eq(st_str(r.json, "app.lastTaskFailure.state"), "TASK_FAILED");
	cr_assert_str_eq(st_str(r.json, "app.lastTaskFailure.appId"), "/crashy");
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/queue", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(st_str(r.json, "queue.0.app.id"), "/crashy", "%s", r.body);
	cr_assert_eq(st_int(r.json, "queue.0.count"), 1);
	cr_assert_not_null(test_json_get(r.json, "queue.0.delay.timeLeftSeconds"));
	st_free(&r);
	cr_assert_eq(st_ndeploys(&sim), 1, "task failures never fail a deployment");
	test_sim_expect(&sim, "DELETE", "/v2/queue/crashy/delay", NULL, 204, NULL, NULL);
	st_sim_stop(&sim);
}

Test(deploy, kill_tasks_with_and_without_scale)
{
	struct test_sim sim;
	struct st_resp r;
	char path[512], killed[256];

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/k", "{\"cmd\":\"xx\",\"instances\":3}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "GET", "/v2/apps/k/tasks", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "tasks")), 3);
	snprintf(killed, sizeof(killed), "%s", st_str(r.json, "tasks.0.id"));
	st_free(&r);
	snprintf(path, sizeof(path), "/v2/apps/k/tasks/%s", killed);
	r = st_req(&sim, "DELETE", path, NULL);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_str_eq(st_str(r.json, "task.id"), killed);
	st_free(&r);
	/* TASK_KILLING for the kill grace, then gone. */
	for (int t = 0; t < 2000 && test_sim_request(&sim, "DELETE", path, NULL, NULL) != 404; t += 10)
		st_sleep_ms(10);
	test_sim_expect(&sim, "DELETE", path, NULL, 404, NULL, NULL);
	/* Without scale the launch queue replaces it. */
	st_sleep_ms(300);
	r = st_req(&sim, "GET", "/v2/apps/k", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 3, "%s", r.body);
	cr_assert_eq(st_int(r.json, "app.instances"), 3);
	snprintf(killed, sizeof(killed), "{\"ids\":[\"%s\"]}", st_str(r.json, "app.tasks.0.id"));
	st_free(&r);
	test_sim_expect(&sim, "POST", "/v2/tasks/delete?scale=true", killed, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps/k", NULL);
	cr_assert_eq(st_int(r.json, "app.instances"), 2, "scale=true lowers instances");
	st_free(&r);
	/* The scale-down deployment may still run: without force that is a 409. */
	r = st_req(&sim, "DELETE", "/v2/apps/k/tasks?scale=true&force=true", NULL);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"));
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/k", NULL);
	cr_assert_eq(st_int(r.json, "app.instances"), 0);
	st_free(&r);
	st_sim_stop(&sim);
}

/* DELETE /v2/deployments/{id} (with query), its answer kept in *r. */
static void cancel_deployment(struct test_sim *sim, const char *id, const char *query, struct st_resp *r)
{
	char path[256];

	snprintf(path, sizeof(path), "/v2/deployments/%s%s", id, query);
	*r = st_req(sim, "DELETE", path, NULL);
}

Test(deploy, spec_4_2_rollback_is_a_new_config_change_and_force_only_stops)
{
	struct test_sim sim;
	struct st_resp r;
	char cfg1[64], v2[64], dep[64], rb[64], rbv[64];

	st_sim_start(&sim, NULL);
	test_sim_expect(&sim, "PUT", "/v2/apps/cs", "{\"cmd\":\"v1\",\"instances\":1}", 201, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "GET", "/v2/apps/cs", NULL);
	snprintf(cfg1, sizeof(cfg1), "%s", st_str_or_empty(r.json, "app.versionInfo.lastConfigChangeAt"));
	st_free(&r);
	r = st_req(&sim, "PUT", "/v2/apps/cs", "{\"cmd\":\"v2\",\"env\":{\"SIM_BEHAVIOR\":\"crash\"}}");
	snprintf(v2, sizeof(v2), "%s", st_str_or_empty(r.json, "version"));
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/cs", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.deployments.0.id"), dep, "%s", r.body);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.versionInfo.lastConfigChangeAt"), v2);
	st_free(&r);

	cancel_deployment(&sim, dep, "", &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	snprintf(rb, sizeof(rb), "%s", st_str_or_empty(r.json, "deploymentId"));
	snprintf(rbv, sizeof(rbv), "%s", st_str_or_empty(r.json, "version"));
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/cs", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.cmd"), "v1", "the previous definition: %s", r.body);
	cr_assert_str_neq(st_str_or_empty(r.json, "app.version"), v2);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.version"), rbv, "the rollback's own version");
	cr_assert_str_neq(st_str_or_empty(r.json, "app.versionInfo.lastConfigChangeAt"), v2);
	cr_assert_str_neq(st_str_or_empty(r.json, "app.versionInfo.lastConfigChangeAt"), cfg1,
			  "a rollback is a config change of its own");
	cr_assert_str_eq(st_str_or_empty(r.json, "app.deployments.0.id"), rb, "the rollback runs: %s", r.body);
	st_free(&r);
	cr_assert(st_wait_idle(&sim, 5000), "the rollback deployment completes");

	/* force=true: the deployment goes, the definition stays at its target. */
	r = st_req(&sim, "PUT", "/v2/apps/cs", "{\"cmd\":\"v3\",\"env\":{\"SIM_BEHAVIOR\":\"crash\"}}");
	snprintf(v2, sizeof(v2), "%s", st_str_or_empty(r.json, "version"));
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	st_free(&r);
	cancel_deployment(&sim, dep, "?force=true", &r);
	cr_assert_eq(r.status, 202);
	cr_assert_str_eq(r.body, "");
	st_free(&r);
	cr_assert_eq(st_ndeploys(&sim), 0);
	r = st_req(&sim, "GET", "/v2/apps/cs", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.cmd"), "v3");
	cr_assert_str_eq(st_str_or_empty(r.json, "app.version"), v2);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "app.deployments")), 0, "%s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

/* lastTaskFailure of a crashing task, as Marathon reports it (SPEC §5.2). */
static void check_failure(struct json_object *f, const char *app_version)
{
	cr_assert_not_null(f);
	cr_assert_str_eq(st_str_or_empty(f, "state"), "TASK_FAILED");
	cr_assert_neq(st_str_or_empty(f, "message")[0], '\0');
	cr_assert_eq(strlen(st_str_or_empty(f, "timestamp")), 24, "%s", json_object_to_json_string(f));
	cr_assert_str_eq(st_str_or_empty(f, "version"), app_version);
	cr_assert_neq(st_str_or_empty(f, "taskId")[0], '\0');
}

Test(deploy, spec_5_2_crash_reports_last_task_failure_and_fewer_running)
{
	struct test_sim sim;
	struct st_resp r;
	char version[64], dep[64];
	int64_t min_running = 99;
	int failed = 0;

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/crashy",
		   /* Health checks: a task that ran for a moment does not count, so the deployment never ends. */
		   "{\"cmd\":\"xx\",\"instances\":2,\"backoffSeconds\":0,\"env\":{\"SIM_BEHAVIOR\":\"crash\"},"
		   "\"healthChecks\":[{\"protocol\":\"TCP\"}]}");
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	st_free(&r);
	for (int t = 0; t < 5000 && (!failed || min_running >= 2); t += 10) {
		r = st_req(&sim, "GET", "/v2/apps?embed=apps.lastTaskFailure", NULL);
		if (st_int(r.json, "apps.0.tasksRunning") < min_running)
			min_running = st_int(r.json, "apps.0.tasksRunning");
		if (test_json_get(r.json, "apps.0.lastTaskFailure")) {
			snprintf(version, sizeof(version), "%s", st_str_or_empty(r.json, "apps.0.version"));
			check_failure(test_json_get(r.json, "apps.0.lastTaskFailure"), version);
			failed = 1;
		}
		st_free(&r);
		st_sleep_ms(10);
	}
	cr_assert(failed, "a crash leaves lastTaskFailure in GET /v2/apps?embed=apps.lastTaskFailure");
	cr_assert_lt(min_running, 2, "crashing tasks leave tasksRunning below instances at times");
	r = st_req(&sim, "GET", "/v2/apps/crashy", NULL);
	check_failure(test_json_get(r.json, "app.lastTaskFailure"), version);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.deployments.0.id"), dep, "task failures never fail a deployment");
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps", NULL);
	cr_assert_null(test_json_get(r.json, "apps.0.lastTaskFailure"), "only embedded on request: %s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}
