/*
 * Unit tests of the deployment waiter shared by every app of a run
 * (reconcile/wait.c), against the in-memory fake Marathon.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/wait.h"
#include "tests/lib/fake_marathon.h"

struct waiter_job {
	struct fake_exec *e;
	char id[16];
	int rc;
};

static void *wait_one(void *p)
{
	struct waiter_job *j = p;
	struct pacer_deploy_ref ref;
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "id", json_object_new_string(j->id));
	json_object_object_add(body, "instances", json_object_new_int(1));
	j->rc = j->e->m->create_app(j->e->m, body, PACER_MF_FORCE, &ref, NULL);
	json_object_put(body);
	if (j->rc == 0)
		j->rc = waiter_wait(j->e->w, j->id, ref.deployment_id, WAITER_HEALTHY, 5, NULL,
				    NULL, NULL);
	return NULL;
}

Test(waiter, one_deployments_poll_per_cycle_for_all_apps)
{
	enum { N = 8, POLLS = 4 };
	struct fake_exec e;
	struct waiter_job jobs[N];
	pthread_t t[N];
	int polls;

	cr_assert_eq(fake_exec_init(&e), 0);
	fake_marathon_set_polls(e.f, POLLS);
	for (int i = 0; i < N; i++) {
		jobs[i].e = &e;
		snprintf(jobs[i].id, sizeof(jobs[i].id), "/app%d", i);
		pthread_create(&t[i], NULL, wait_one, &jobs[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(jobs[i].rc, 0, "app %d: %s", i, pacer_code_name(jobs[i].rc));
	}
	polls = fake_marathon_count(e.f, "list_deployments");
	/* Every deployment needs POLLS polls; one poll per app per cycle would
	 * make at least N * POLLS = 32. Apps that joined a cycle late (threads
	 * start slowly on a loaded machine or under valgrind) add a few cycles:
	 * half of the per-app count still tells the two apart. */
	cr_assert(polls >= POLLS && polls <= N * POLLS / 2, "%d polls of GET /v2/deployments", polls);
	cr_assert_eq((unsigned long)polls, waiter_cycles(e.w));
	cr_assert(fake_marathon_count(e.f, "list_apps") <= polls,
		  "at most one GET /v2/apps per cycle");
	cr_assert_eq(fake_marathon_count(e.f, "get_app"), 0, "no per-app GET");
	fake_exec_fini(&e);
}

Test(waiter, survives_a_few_failed_polls_and_gives_up_after_many)
{
	struct fake_exec e;
	struct pacer_deploy_ref ref;
	struct json_object *body = json_tokener_parse("{\"id\":\"/a\",\"instances\":1}");
	struct pacer_error *err = NULL;
	int rc;

	cr_assert_eq(fake_exec_init(&e), 0);
	fake_marathon_fail(e.f, "list_deployments", PACER_EHTTP, 2);
	cr_assert_eq(e.m->create_app(e.m, body, PACER_MF_FORCE, &ref, NULL), 0);
	cr_assert_eq(waiter_wait(e.w, "/a", ref.deployment_id, WAITER_HEALTHY, 5, NULL, NULL, NULL),
		     0);
	fake_marathon_fail(e.f, "list_deployments", PACER_EUNREACHABLE, 100);
	cr_assert_eq(e.m->restart_app(e.m, "/a", PACER_MF_FORCE, &ref, NULL), 0);
	rc = waiter_wait(e.w, "/a", ref.deployment_id, WAITER_HEALTHY, 5, NULL, NULL, &err);
	cr_assert_eq(rc, PACER_EUNREACHABLE);
	cr_assert_not_null(err);
	cr_assert_str_eq(err->app_id, "/a");
	pacer_error_free(err);
	json_object_put(body);
	fake_exec_fini(&e);
}
