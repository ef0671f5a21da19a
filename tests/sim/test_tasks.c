/*
 * marathon-sim: the life of a task (cmd/marathon-sim/tasks.c). States as
 * Mesos reports them to Marathon (SPEC.md §3.10, §5.1): TASK_STAGING,
 * TASK_STARTING, TASK_RUNNING, and kills in two steps, TASK_KILLING for the
 * kill grace then TASK_KILLED, which deployments wait for. Where tasks run:
 * simulated agents (--agents) with hostname constraints, and an address of
 * their own on a container network.
 */
#include "tests/sim/simtest.h"

TestSuite(tasks, .fini = st_cleanup);

/* The state of the first task of app ("" when none), copied into out. */
static void first_state(struct test_sim *sim, const char *app, char out[32])
{
	struct st_resp r = st_get_app(sim, app, "/tasks");

	snprintf(out, 32, "%s", st_str_or_empty(r.json, "tasks.0.state"));
	st_free(&r);
}

/* Wait until the first task of app is in state (or timeout_ms passed). Returns 1 when it is. */
static int wait_state(struct test_sim *sim, const char *app, const char *state, int timeout_ms)
{
	char now[32];

	for (int t = 0; t < timeout_ms; t += 5) {
		first_state(sim, app, now);
		if (!strcmp(now, state))
			return 1;
		st_sleep_ms(5);
	}
	return 0;
}

/* The events of taskStatus in the stream, in order, as "A B C" into out. */
static void statuses(const struct st_sse *s, char *out, size_t outlen)
{
	const char *p = s->buf;
	size_t n = 0;

	out[0] = '\0';
	while (p && (p = strstr(p, "\"taskStatus\":\"")) && n + 32 < outlen) {
		const char *v = p + 14, *e = strchr(v, '"');
		if (!e)
			break;
		n += (size_t)snprintf(out + n, outlen - n, "%s%.*s", n ? " " : "", (int)(e - v), v);
		p = e;
	}
}

Test(tasks, staging_starting_running_with_their_events)
{
	struct test_sim sim;
	struct st_sse s;
	struct st_resp r;
	const char *args[] = {"--task-launch-ms", "600", NULL};
	char seen[256];

	st_sim_start(&sim, args);
	st_sse_open(&s, &sim, "?event_type=status_update_event");
	cr_assert(st_sse_wait(&s, "HTTP/1.1 200", 3000));
	test_sim_request(&sim, "PUT", "/v2/apps/st", "{\"cmd\":\"xx\"}", NULL);
	cr_assert(wait_state(&sim, "st", "TASK_STAGING", 2000));
	cr_assert(wait_state(&sim, "st", "TASK_STARTING", 2000), "half way through --task-launch-ms");
	r = st_req(&sim, "GET", "/v2/apps/st", NULL);
	/* Marathon counts only TASK_STAGING as staged and TASK_RUNNING as running. */
	cr_assert_eq(st_int(r.json, "app.tasksStaged"), 0, "%s", r.body);
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 0, "%s", r.body);
	cr_assert_null(test_json_get(r.json, "app.tasks.0.startedAt"), "not started yet: %s", r.body);
	st_free(&r);
	cr_assert(wait_state(&sim, "st", "TASK_RUNNING", 2000));
	cr_assert(st_sse_wait(&s, "TASK_RUNNING", 2000));
	statuses(&s, seen, sizeof(seen));
	cr_assert_str_eq(seen, "TASK_STAGING TASK_STARTING TASK_RUNNING");
	st_sse_close(&s);
	st_sim_stop(&sim);
}

/* ms from a DELETE of the only task of app until the task is gone; its state right after the DELETE in first. */
static long kill_time(struct test_sim *sim, const char *app, char first[32])
{
	char path[256], now[32];
	struct st_resp r;
	struct timespec a, b;

	r = st_get_app(sim, app, "/tasks");
	snprintf(path, sizeof(path), "/v2/apps/%s/tasks/%s", app, st_str_or_empty(r.json, "tasks.0.id"));
	st_free(&r);
	clock_gettime(CLOCK_MONOTONIC, &a);
	test_sim_expect(sim, "DELETE", path, NULL, 200, NULL, NULL);
	first_state(sim, app, first);
	for (int t = 0; t < 5000; t += 5) {
		first_state(sim, app, now);
		if (strcmp(now, "TASK_KILLING"))
			break;
		st_sleep_ms(5);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

Test(tasks, a_kill_is_task_killing_for_the_grace_then_task_killed)
{
	struct test_sim sim;
	struct st_sse s;
	const char *args[] = {"--kill-ms", "150", NULL};
	char seen[256], first[32];
	long quick, graceful;

	st_sim_start(&sim, args);
	st_sse_open(&s, &sim, "?event_type=status_update_event");
	cr_assert(st_sse_wait(&s, "HTTP/1.1 200", 3000));
	/* scale=false: the launch queue replaces the task once it is gone. */
	test_sim_request(&sim, "PUT", "/v2/apps/quick", "{\"cmd\":\"xx\",\"instances\":1}", NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/graceful", "{\"cmd\":\"xx\",\"instances\":1,\"taskKillGracePeriodSeconds\":4}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	quick = kill_time(&sim, "quick", first);
	cr_assert_str_eq(first, "TASK_KILLING");
	graceful = kill_time(&sim, "graceful", first);
	cr_assert_str_eq(first, "TASK_KILLING");
	cr_assert_geq(quick, 100, "no taskKillGracePeriodSeconds: one --kill-ms, took %ld ms", quick);
	cr_assert_geq(graceful, 550, "4 s of grace: 4 x --kill-ms, took %ld ms", graceful);
	cr_assert_gt(graceful, quick + 200, "%ld vs %ld ms", graceful, quick);
	cr_assert(st_sse_wait(&s, "TASK_KILLED", 2000));
	statuses(&s, seen, sizeof(seen));
	cr_assert(strstr(seen, "TASK_RUNNING TASK_KILLING"), "%s", seen);
	cr_assert(strstr(seen, "TASK_KILLING TASK_KILLED"), "%s", seen);
	st_sse_close(&s);
	st_sim_stop(&sim);
}

Test(tasks, spec_4_4_scale_down_waits_until_killed_tasks_are_terminal)
{
	struct test_sim sim;
	struct st_resp r;
	const char *args[] = {"--kill-ms", "300", NULL};
	int killing = 0;

	st_sim_start(&sim, args);
	test_sim_request(&sim, "PUT", "/v2/apps/sd", "{\"cmd\":\"xx\",\"instances\":3}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	test_sim_expect(&sim, "PUT", "/v2/apps/sd", "{\"instances\":1}", 200, NULL, NULL);
	st_sleep_ms(100);
	r = st_req(&sim, "GET", "/v2/apps/sd", NULL);
	for (size_t i = 0; i < json_object_array_length(test_json_get(r.json, "app.tasks")); i++)
		killing += !strcmp(st_str_or_empty(json_object_array_get_idx(test_json_get(r.json, "app.tasks"), i), "state"),
				   "TASK_KILLING");
	cr_assert_eq(killing, 2, "%s", r.body);
	cr_assert_eq(st_int(r.json, "app.tasksRunning"), 1);
	cr_assert_not_null(st_str(r.json, "app.deployments.0.id"), "still deploying while tasks are killed");
	st_free(&r);
	cr_assert(st_wait_idle(&sim, 3000));
	r = st_req(&sim, "GET", "/v2/apps/sd/tasks", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "tasks")), 1, "%s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(tasks, spec_3_7_a_deleted_app_is_gone_at_once_its_tasks_when_killed)
{
	struct test_sim sim;
	struct st_sse s;
	const char *args[] = {"--kill-ms", "300", NULL};

	st_sim_start(&sim, args);
	test_sim_request(&sim, "PUT", "/v2/apps/gone", "{\"cmd\":\"xx\",\"instances\":2}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	st_sse_open(&s, &sim, "?event_type=status_update_event&event_type=deployment_success");
	cr_assert(st_sse_wait(&s, "HTTP/1.1 200", 3000));
	test_sim_expect(&sim, "DELETE", "/v2/apps/gone", NULL, 200, NULL, NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/gone", NULL, 404, NULL, "the app vanishes at once");
	cr_assert_eq(st_ndeploys(&sim), 1, "StopApplication waits for the kills");
	cr_assert(st_sse_wait(&s, "TASK_KILLING", 2000));
	cr_assert_null(strstr(s.buf, "TASK_KILLED"), "%s", s.buf);
	cr_assert(st_wait_idle(&sim, 3000));
	cr_assert(st_sse_wait(&s, "TASK_KILLED", 2000));
	cr_assert(strstr(strstr(s.buf, "TASK_KILLED"), "\"appId\":\"/gone\""), "%s", s.buf);
	cr_assert(strstr(strstr(s.buf, "TASK_KILLED"), "event: deployment_success"), "killed, then done: %s", s.buf);
	st_sse_close(&s);
	st_sim_stop(&sim);
}

Test(tasks, kill_ms_0_kills_at_once)
{
	struct test_sim sim;
	char path[256];
	struct st_resp r;
	const char *args[] = {"--kill-ms", "0", NULL};

	st_sim_start(&sim, args);
	test_sim_request(&sim, "PUT", "/v2/apps/now", "{\"cmd\":\"xx\",\"instances\":1}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	r = st_req(&sim, "GET", "/v2/apps/now/tasks", NULL);
	snprintf(path, sizeof(path), "/v2/apps/now/tasks/%s", st_str_or_empty(r.json, "tasks.0.id"));
	st_free(&r);
	test_sim_expect(&sim, "DELETE", path, NULL, 200, NULL, NULL);
	test_sim_expect(&sim, "DELETE", path, NULL, 404, NULL, "gone at once");
	st_sim_stop(&sim);
}

/* ------------------------------------------------------- where tasks run */

/* The tasks of app: hosts and addresses, in task order. */
struct placed {
	size_t n;
	char host[8][24];
	char ip[8][24];
	char state[8][24];
};

static void placed(struct test_sim *sim, const char *app, struct placed *p)
{
	struct st_resp r = st_get_app(sim, app, "/tasks");
	struct json_object *tasks;

	tasks = test_json_get(r.json, "tasks");
	p->n = tasks ? json_object_array_length(tasks) : 0;
	cr_assert_leq(p->n, 8);
	for (size_t i = 0; i < p->n; i++) {
		struct json_object *t = json_object_array_get_idx(tasks, i);
		snprintf(p->host[i], 24, "%s", st_str_or_empty(t, "host"));
		snprintf(p->ip[i], 24, "%s", st_str_or_empty(t, "ipAddresses.0.ipAddress"));
		snprintf(p->state[i], 24, "%s", st_str_or_empty(t, "state"));
	}
	st_free(&r);
}

static int distinct(char v[][24], size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(v[i], v[j]))
				return 0;
	return 1;
}

#define IP_PER_TASK "\"networks\":[{\"mode\":\"container\",\"name\":\"dcos\"}],\"container\":{\"type\":\"MESOS\"," \
		    "\"portMappings\":[{\"containerPort\":8080}]}"

Test(tasks, container_network_tasks_get_addresses_of_their_own)
{
	struct test_sim sim;
	struct placed p, q;
	char path[256];
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/ipt", "{\"cmd\":\"xx\",\"instances\":3," IP_PER_TASK "}", NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/hostnet", "{\"cmd\":\"xx\",\"instances\":2}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	placed(&sim, "ipt", &p);
	cr_assert_eq(p.n, 3);
	cr_assert(distinct(p.ip, 3), "%s %s %s", p.ip[0], p.ip[1], p.ip[2]);
	for (size_t i = 0; i < 3; i++) {
		cr_assert(!strncmp(p.ip[i], "127.0.", 6) && strncmp(p.ip[i], "127.0.0.", 8), "%s", p.ip[i]);
		cr_assert_str_eq(p.host[i], "127.0.0.1", "the agent stays the host");
	}
	placed(&sim, "hostnet", &q);
	cr_assert_str_eq(q.ip[0], "127.0.0.1", "host networking: the agent's address");
	/* A replacement takes the address its predecessor had. */
	r = st_req(&sim, "GET", "/v2/apps/ipt/tasks", NULL);
	snprintf(path, sizeof(path), "/v2/apps/ipt/tasks/%s", st_str_or_empty(r.json, "tasks.1.id"));
	st_free(&r);
	test_sim_expect(&sim, "DELETE", path, NULL, 200, NULL, NULL);
	for (int t = 0; t < 5000; t += 20) {
		int running = 0;
		placed(&sim, "ipt", &q);
		for (size_t i = 0; i < q.n; i++)
			running += !strcmp(q.state[i], "TASK_RUNNING");
		if (q.n == 3 && running == 3)
			break;
		st_sleep_ms(20);
	}
	/* Tasks stay in launch order: the replacement is the last one. */
	cr_assert_eq(q.n, 3);
	cr_assert_str_eq(q.ip[2], p.ip[1], "the new task reuses %s", p.ip[1]);
	st_sim_stop(&sim);
}

Test(tasks, agents_and_hostname_unique_leave_extra_instances_waiting)
{
	struct test_sim sim;
	struct placed p;
	struct st_resp r;
	const char *args[] = {"--agents", "3", NULL};

	st_sim_start(&sim, args);
	test_sim_request(&sim, "PUT", "/v2/apps/u", "{\"cmd\":\"xx\",\"instances\":5,\"constraints\":[[\"hostname\",\"UNIQUE\"]]}",
			 NULL);
	st_sleep_ms(400);
	placed(&sim, "u", &p);
	cr_assert_eq(p.n, 3, "one task per agent");
	cr_assert(distinct(p.host, 3));
	for (size_t i = 0; i < 3; i++)
		cr_assert(!strcmp(p.host[i], "127.0.0.1") || !strcmp(p.host[i], "127.0.0.2") || !strcmp(p.host[i], "127.0.0.3"),
			  "%s", p.host[i]);
	cr_assert_eq(st_ndeploys(&sim), 1, "the deployment waits for offers that never fit");
	r = st_req(&sim, "GET", "/v2/queue", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "queue.0.app.id"), "/u", "%s", r.body);
	cr_assert_eq(st_int(r.json, "queue.0.count"), 2);
	st_free(&r);
	test_sim_expect(&sim, "PUT", "/v2/apps/u?force=true", "{\"instances\":3}", 200, NULL, NULL);
	cr_assert(st_wait_idle(&sim, 3000), "three instances fit three agents");
	st_sim_stop(&sim);
}

Test(tasks, max_per_cluster_and_kills_by_host)
{
	struct test_sim sim;
	struct placed p;
	struct st_resp r;
	const char *args[] = {"--agents", "2", NULL};
	int on1 = 0, on2 = 0;

	st_sim_start(&sim, args);
	test_sim_request(&sim, "PUT", "/v2/apps/mp", "{\"cmd\":\"xx\",\"instances\":4,\"constraints\":[[\"hostname\",\"MAX_PER\",\"2\"]]}",
			 NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/cl",
			 "{\"cmd\":\"xx\",\"instances\":2,\"constraints\":[[\"hostname\",\"CLUSTER\",\"127.0.0.2\"]]}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	placed(&sim, "mp", &p);
	for (size_t i = 0; i < p.n; i++) {
		on1 += !strcmp(p.host[i], "127.0.0.1");
		on2 += !strcmp(p.host[i], "127.0.0.2");
	}
	cr_assert(on1 == 2 && on2 == 2, "two per agent: %d + %d", on1, on2);
	placed(&sim, "cl", &p);
	cr_assert(p.n == 2 && !strcmp(p.host[0], "127.0.0.2") && !strcmp(p.host[1], "127.0.0.2"));
	r = st_req(&sim, "GET", "/v2/apps/cl/tasks", NULL);
	cr_assert_str_eq(st_str_or_empty(r.json, "tasks.0.slaveId"), "sim-agent-S1");
	st_free(&r);
	r = st_req(&sim, "DELETE", "/v2/apps/mp/tasks?host=127.0.0.1&scale=true", NULL);
	cr_assert_eq(r.status, 200, "%s", r.body);
	st_free(&r);
	r = st_req(&sim, "GET", "/v2/apps/mp", NULL);
	cr_assert_eq(st_int(r.json, "app.instances"), 2, "only the tasks on 127.0.0.1: %s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(tasks, without_agents_constraints_are_not_looked_at)
{
	struct test_sim sim;
	struct placed p;

	/* Definitions written for real clusters still deploy on the one simulated agent. */
	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "PUT", "/v2/apps/real",
			 "{\"cmd\":\"xx\",\"instances\":3,\"constraints\":[[\"hostname\",\"UNIQUE\"],"
			 "[\"hostname\",\"CLUSTER\",\"10.0.0.5\"]]}", NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	placed(&sim, "real", &p);
	cr_assert_eq(p.n, 3);
	for (size_t i = 0; i < p.n; i++)
		cr_assert_str_eq(p.host[i], "127.0.0.1");
	st_sim_stop(&sim);
}
