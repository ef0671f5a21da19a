/*
 * marathon-sim: Marathon kills tasks that fail their health checks
 * (maxConsecutiveFailures failed checks past the grace period; one check
 * every --health-ms in the simulator) and the launch queue replaces them
 * with backoff. The deployment that waits for them keeps running (task
 * failures never fail a deployment, SPEC.md §4.4). maxConsecutiveFailures 0
 * turns the kills off.
 */
#include "tests/sim/simtest.h"

TestSuite(unhealthy, .fini = st_cleanup);

#define SICK(hc) "{\"cmd\":\"xx\",\"instances\":1,\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"},\"healthChecks\":[" hc "]}"

/* The id of the only task of app, or "" (copied into out). */
static void task_id(struct test_sim *sim, const char *app, char out[256], int64_t *fails)
{
	struct st_resp r = st_get_app(sim, app, "");
	const char *id;

	id = st_str(r.json, "app.tasks.0.id");
	snprintf(out, 256, "%s", id ? id : "");
	if (fails)
		*fails = test_json_get(r.json, "app.tasks.0.healthCheckResults.0.consecutiveFailures")
				 ? st_int(r.json, "app.tasks.0.healthCheckResults.0.consecutiveFailures")
				 : -1;
	st_free(&r);
}

Test(unhealthy, failing_tasks_are_killed_and_replaced)
{
	struct test_sim sim;
	struct st_resp r;
	char dep[64], first[256] = "", now[256] = "";
	int t;

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/sick", SICK("{\"protocol\":\"HTTP\"}"));
	snprintf(dep, sizeof(dep), "%s", st_str_or_empty(r.json, "deploymentId"));
	st_free(&r);
	for (t = 0; t < 3000 && !first[0]; t += 10) {
		task_id(&sim, "sick", first, NULL);
		st_sleep_ms(10);
	}
	cr_assert(first[0], "a task is launched");
	/* Killed ~3 × 40 ms after running, relaunched after backoffSeconds 1. */
	for (t = 0; t < 6000; t += 20) {
		task_id(&sim, "sick", now, NULL);
		if (now[0] && strcmp(now, first))
			break;
		st_sleep_ms(20);
	}
	cr_assert(now[0] && strcmp(now, first), "the unhealthy task is replaced by a new one");
	r = st_req(&sim, "GET", "/v2/apps/sick", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.lastTaskFailure.state"), "TASK_KILLED", "%s", r.body);
	cr_assert_str_eq(st_str_or_empty(r.json, "app.lastTaskFailure.taskId"), first);
	cr_assert(strstr(st_str_or_empty(r.json, "app.lastTaskFailure.message"), "health"), "%s", r.body);
	st_free(&r);
	cr_assert(st_deploy_running(&sim, dep), "task failures never fail or end a deployment");
	/* Killed after ~160 ms, relaunched only after the backoff (1 s). */
	cr_assert_geq(t, 900, "the replacement waited for the launch backoff (%d ms)", t);
	st_sim_stop(&sim);
}

Test(unhealthy, killed_only_after_max_consecutive_failures)
{
	const char *args[] = {"--health-ms", "200", NULL};
	struct test_sim sim;
	char first[256] = "", now[256] = "";
	int64_t fails = -1;
	int t;

	st_sim_start(&sim, args);
	test_sim_request(&sim, "PUT", "/v2/apps/slowkill",
			 SICK("{\"protocol\":\"HTTP\",\"maxConsecutiveFailures\":5}"), NULL);
	/* First failed check ~240 ms after the PUT (launch 40 + 200), the kill at
	 * the 5th, ~1,040 ms. */
	for (t = 0; t < 3000 && fails < 1; t += 10) {
		task_id(&sim, "slowkill", first, &fails);
		st_sleep_ms(10);
	}
	cr_assert_geq(fails, 1, "the task fails its first health check");
	st_sleep_ms(250);
	task_id(&sim, "slowkill", now, &fails);
	cr_assert_str_eq(now, first, "not killed before maxConsecutiveFailures");
	cr_assert(fails >= 2 && fails < 5, "failed checks are counted: %lld", (long long)fails);
	for (t = 0; t < 5000; t += 20) {
		task_id(&sim, "slowkill", now, NULL);
		if (strcmp(now, first))
			break;
		st_sleep_ms(20);
	}
	cr_assert_str_neq(now, first, "killed at the 5th failure");
	st_sim_stop(&sim);
}

Test(unhealthy, zero_max_consecutive_failures_never_kills)
{
	struct test_sim sim;
	char first[256] = "", now[256] = "";
	int64_t fails = -1;
	int t;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/keep", SICK("{\"protocol\":\"HTTP\",\"maxConsecutiveFailures\":0}"), NULL);
	for (t = 0; t < 3000 && fails < 1; t += 10) {
		task_id(&sim, "keep", first, &fails);
		st_sleep_ms(10);
	}
	cr_assert_geq(fails, 1);
	st_sleep_ms(600); /* 15 check intervals */
	task_id(&sim, "keep", now, &fails);
	cr_assert_str_eq(now, first, "maxConsecutiveFailures 0: Marathon never kills");
	cr_assert_gt(fails, 5, "the failures keep being counted");
	st_sim_stop(&sim);
}
