/*
 * marathon-sim: the ticker skips settled apps (deploy.c keeps a list of apps
 * that can change by themselves). These tests settle an app first, then
 * change it from outside in each way that must wake it again, and check that
 * the time-driven behaviour still happens: tasks launch after a scale, a
 * behaviour override takes effect (crash, unhealthy and back), killed tasks
 * are replaced, a crashing app keeps being relaunched by the launch queue.
 * The last one checks the point of it all: thousands of settled apps cost
 * (almost) no CPU.
 */
#include "tests/sim/simtest.h"

TestSuite(idle, .fini = st_cleanup);

/* Give the ticker (10 ms) time to find a just-deployed app settled. */
static void settle(struct test_sim *sim)
{
	cr_assert(st_wait_idle(sim, 10000), "the deployment finishes");
	st_sleep_ms(150);
}

/* GET /v2/apps/{id}: the integer at path in the answer. */
static int64_t app_int(struct test_sim *sim, const char *id, const char *path)
{
	struct st_resp r = st_get_app(sim, id, "");
	int64_t v;

	cr_assert_eq(r.status, 200, "GET /v2/apps/%s: %s", id, r.body);
	v = st_int(r.json, path);
	st_free(&r);
	return v;
}

/* Poll until app_int(id, path) == want; returns 1, or 0 after timeout_ms. */
static int wait_int(struct test_sim *sim, const char *id, const char *path, int64_t want, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		if (app_int(sim, id, path) == want)
			return 1;
		st_sleep_ms(20);
	}
	return 0;
}

Test(idle, settled_app_scaled_through_the_api_gets_its_tasks)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	test_sim_expect(
	    &sim, "PUT", "/v2/apps/sc",
	    "{\"cmd\":\"xx\",\"instances\":1,\"healthChecks\":[{\"protocol\":\"HTTP\"}]}", 201,
	    NULL, NULL);
	settle(&sim);
	cr_assert_eq(app_int(&sim, "sc", "app.tasksHealthy"), 1);
	test_sim_expect(&sim, "PUT", "/v2/apps/sc", "{\"instances\":3}", 200, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 10000), "the scale deployment finishes: new tasks run and pass health checks");
	cr_assert_eq(app_int(&sim, "sc", "app.tasksRunning"), 3);
	cr_assert_eq(app_int(&sim, "sc", "app.tasksHealthy"), 3);
	/* A group scaleBy goes through the same path: settle, then double. */
	settle(&sim);
	test_sim_expect(&sim, "PUT", "/v2/groups/", "{\"scaleBy\":2}", 200, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 10000));
	cr_assert_eq(app_int(&sim, "sc", "app.tasksHealthy"), 6);
	st_sim_stop(&sim);
}

Test(idle, crash_override_after_settling_starts_failing)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(
	    &sim, "PUT", "/v2/apps/cr",
	    "{\"cmd\":\"xx\",\"instances\":2,\"backoffSeconds\":1,\"healthChecks\":[{\"protocol\":\"HTTP\"}]}",
	    NULL);
	settle(&sim);
	cr_assert_eq(app_int(&sim, "cr", "app.tasksHealthy"), 2);
	test_sim_expect(&sim, "POST", "/_sim/apps/cr/behavior", "{\"behavior\":\"crash\"}", 200,
	                NULL, NULL);
	r = st_wait_app_member(&sim, "cr", "app.lastTaskFailure", 3000);
	cr_assert_not_null(test_json_get(r.json, "app.lastTaskFailure"),
			   "running tasks of a settled app fail once it is told to crash");
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/queue", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "queue.0.app.id"), "/cr", "the crashed app waits in the queue: %s",
			 r.body);
	st_free(&r);
	cr_assert_eq(st_ndeploys(&sim), 0, "no deployment was made");
	st_sim_stop(&sim);
}

Test(idle, unhealthy_then_healthy_override_after_settling)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	/* maxConsecutiveFailures 0: Marathon never kills the unhealthy tasks,
	 * so "unhealthy" is a steady state the app can settle in. */
	test_sim_request(&sim, "PUT", "/v2/apps/flip",
			 "{\"cmd\":\"xx\",\"instances\":2,"
			 "\"healthChecks\":[{\"protocol\":\"HTTP\",\"maxConsecutiveFailures\":0}]}",
			 NULL);
	settle(&sim);
	test_sim_request(&sim, "POST", "/_sim/apps/flip/behavior", "{\"behavior\":\"unhealthy\"}",
	                 NULL);
	cr_assert(wait_int(&sim, "flip", "app.tasksUnhealthy", 2, 3000), "both tasks turn unhealthy");
	/* Settled again (unhealthy is a steady state); the next override must still act. */
	st_sleep_ms(150);
	test_sim_request(&sim, "POST", "/_sim/apps/flip/behavior", "{\"behavior\":\"healthy\"}",
	                 NULL);
	cr_assert(wait_int(&sim, "flip", "app.tasksHealthy", 2, 3000), "both tasks turn healthy again");
	cr_assert_eq(app_int(&sim, "flip", "app.tasksUnhealthy"), 0);
	st_sim_stop(&sim);
}

Test(idle, killed_task_of_a_settled_app_is_replaced)
{
	struct test_sim sim;
	struct st_resp r;
	char path[512];

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/rep", "{\"cmd\":\"xx\",\"instances\":2}", NULL);
	settle(&sim);
	r = st_req(&sim, "GET", "/v2/apps/rep/tasks", NULL);
	snprintf(path, sizeof(path), "/v2/apps/rep/tasks/%s", st_str_or_empty(r.json, "tasks.0.id"));
	st_free(&r);
	test_sim_expect(&sim, "DELETE", path, NULL, 200, NULL, NULL);
	cr_assert_eq(app_int(&sim, "rep", "app.tasksRunning"), 1, "the kill takes effect at once");
	cr_assert(wait_int(&sim, "rep", "app.tasksRunning", 2, 3000), "the launch queue replaces the killed task");
	/* All of them, through /v2/tasks/delete this time. */
	settle(&sim);
	test_sim_expect(&sim, "DELETE", "/v2/apps/rep/tasks", NULL, 200, NULL, NULL);
	cr_assert(wait_int(&sim, "rep", "app.tasksRunning", 2, 3000), "both tasks are replaced");
	st_sim_stop(&sim);
}

Test(idle, crashing_app_keeps_relaunching_without_a_deployment)
{
	struct test_sim sim;
	struct st_resp r;
	char first[256] = "";
	int changed = 0;

	st_sim_start(&sim, NULL);
	/* Without health checks a running task counts as ready, so the deployment
	 * ends at once; from then on only the launch queue relaunches the task. */
	test_sim_expect(&sim, "PUT", "/v2/apps/loop",
	                "{\"cmd\":\"xx\",\"instances\":1,\"backoffSeconds\":0,"
	                "\"backoffFactor\":1,\"env\":{\"SIM_BEHAVIOR\":\"crash\"}}",
	                201, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	for (int t = 0; t < 4000 && !changed; t += 20) {
		r = st_req(&sim, "GET", "/v2/apps/loop", NULL);
		if (st_str(r.json, "app.lastTaskFailure.taskId")) {
			if (!first[0])
				snprintf(first, sizeof(first), "%s", st_str(r.json, "app.lastTaskFailure.taskId"));
			else
				changed = strcmp(first, st_str(r.json, "app.lastTaskFailure.taskId")) != 0;
		}
		st_free(&r);
		st_sleep_ms(20);
	}
	cr_assert(first[0], "the task crashed");
	cr_assert(changed, "a relaunched task crashed again (first failure %s)", first);
	cr_assert_eq(st_ndeploys(&sim), 0, "no deployment drove it");
	st_sim_stop(&sim);
}

/* utime+stime of a process in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], *buf, *p;
	unsigned long ut = 0, st = 0;
	int fields;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	buf = test_read_file(path, NULL);
	cr_assert(buf, "cannot read %s", path);
	/* Fields after the parenthesised command: state is field 3, utime 14, stime 15. */
	p = strrchr(buf, ')');
	fields = p ? sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st)
	           : 0;
	cr_assert_eq(fields, 2, "cannot parse %s: %s", path, buf);
	free(buf);
	return (long)(ut + st);
}

Test(idle, thousands_of_settled_apps_cost_no_cpu, .timeout = 240)
{
	struct test_sim sim;
	char *dir = test_tmpdir("simidle"), path[512];
	const char *args[] = {"--load", path, NULL};
	long before, used, hz = sysconf(_SC_CLK_TCK);
	FILE *f;

	snprintf(path, sizeof(path), "%s/apps.json", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("{\"apps\":[", f);
	for (int i = 0; i < 3000; i++)
		fprintf(f, "%s{\"id\":\"/t%d/a%d\",\"cmd\":\"sleep 1000\",\"instances\":1,"
			"\"env\":{\"SIM_BEHAVIOR\":\"%s\"}%s}",
			i ? "," : "", i % 30, i, i % 3 ? "healthy" : "unhealthy",
			/* maxConsecutiveFailures 0: unhealthy tasks are never killed,
			 * so they settle too (killed ones would be relaunched forever) */
			i % 2 ? ",\"healthChecks\":[{\"protocol\":\"HTTP\",\"maxConsecutiveFailures\":0}]" : "");
	fputs("]}", f);
	cr_assert_eq(fclose(f), 0);
	st_sim_start(&sim, args);
	/* Unhealthy apps with health checks never finish deploying: cancel those deployments. */
	{
		struct st_resp r;
		int ok = 0;
		for (int t = 0; t < 120000 && !ok; t += 100) {
			r = st_req(&sim, "GET", "/v2/queue", NULL);
			ok = r.json && json_object_array_length(test_json_get(r.json, "queue")) == 0;
			st_free(&r);
			st_sleep_ms(100);
		}
		cr_assert(ok, "all 3,000 apps have their task");
		r = st_req(&sim, "GET", "/v2/deployments", NULL);
		for (size_t i = 0; r.json && i < json_object_array_length(r.json); i++) {
			char p[128];
			snprintf(p, sizeof(p), "/v2/deployments/%s?force=true",
				 st_str_or_empty(json_object_array_get_idx(r.json, i), "id"));
			test_sim_expect(&sim, "DELETE", p, NULL, 202, NULL, NULL);
		}
		st_free(&r);
	}
	cr_assert(st_wait_idle(&sim, 60000));
	st_sleep_ms(500); /* the health checks pass, then every app is settled */
	before = cpu_ticks(sim.pid);
	st_sleep_ms(3000);
	used = cpu_ticks(sim.pid) - before;
	/* Visiting 3,000 apps every 10 ms costs a good part of a core (more under
	 * ASan); settled, the ticker only wakes up. Allow 10%. */
	cr_assert_lt(used * 100, hz * 3 * 10,
		     "idle marathon-sim with 3,000 settled apps used %ld of %ld clock ticks in 3 s", used, hz * 3);
	cr_assert_eq(app_int(&sim, "t0/a0", "app.tasksUnhealthy"), 0, "no health checks: never counted unhealthy");
	cr_assert_eq(app_int(&sim, "t3/a3", "app.tasksUnhealthy"), 1, "a3 is unhealthy with health checks");
	cr_assert_eq(app_int(&sim, "t1/a1", "app.tasksHealthy"), 1);
	st_sim_stop(&sim);
	test_rmrf(dir);
	free(dir);
}
