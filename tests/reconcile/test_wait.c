/*
 * Unit tests of the deployment waiter shared by every app of a run
 * (reconcile/wait.c), against the in-memory fake Marathon.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/clock.h"
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

/* ---- the bell: deployment events end the wait before the next poll ---- */

struct bell_job {
	const char *id;
	struct waiter *w;
	struct pacer_marathon *m;
	int rc;
	volatile int done;
};

static void *bell_wait(void *p)
{
	struct bell_job *j = p;
	struct pacer_deploy_ref ref;
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "id", json_object_new_string(j->id));
	json_object_object_add(body, "instances", json_object_new_int(1));
	j->rc = j->m->create_app(j->m, body, PACER_MF_FORCE, &ref, NULL);
	json_object_put(body);
	if (j->rc == 0)
		j->rc = waiter_wait(j->w, j->id, ref.deployment_id, WAITER_HEALTHY, 5, NULL, NULL,
				    NULL);
	j->done = 1;
	return NULL;
}

static void count_attach(void *ctx)
{
	(*(int *)ctx)++;
}

Test(waiter, bell_ends_the_wait_before_the_poll_interval)
{
	struct fake_exec e;
	struct waiter *w = NULL;
	struct waiter_bell *bell = NULL;
	struct bell_job j = {0};
	pthread_t t;
	int attached = 0;
	unsigned long cycles;
	double t0;

	cr_assert_eq(fake_exec_init(&e), 0);
	fake_marathon_set_polls(e.f, 3);
	/* A minute between polls: without the bell the wait would take minutes. */
	cr_assert_eq(waiter_new(e.m, 60000, &w, NULL), 0);
	cr_assert_eq(waiter_bell_new(&bell, count_attach, &attached, NULL), 0);
	waiter_bell_ring(bell); /* nothing attached, nothing waited on: no effect */
	waiter_set_bell(w, bell);
	cr_assert_eq(attached, 1, "the first attach opens the stream");
	waiter_bell_ring(bell); /* nothing waited on: no poll */
	cr_assert_eq(waiter_cycles(w), 0);

	j.id = "/b1";
	j.w = w;
	j.m = e.m;
	t0 = pacer_now_s();
	pthread_create(&t, NULL, bell_wait, &j);
	/* One ring per 50 ms, as deployment events would come. */
	while (!j.done && pacer_now_s() - t0 < 20) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
		waiter_bell_ring(bell);
	}
	pthread_join(t, NULL);
	cr_assert_eq(j.rc, 0, "%s", pacer_code_name(j.rc));
	cr_assert(pacer_now_s() - t0 < 10, "the wait took %.1f s", pacer_now_s() - t0);
	cycles = waiter_cycles(w);
	cr_assert(cycles >= 3, "the deployment needed 3 polls, %lu made", cycles);

	/* A burst of rings is a cycle or two, not one per ring. */
	j.id = "/b2";
	j.done = 0;
	pthread_create(&t, NULL, bell_wait, &j);
	while (!j.done) {
		struct timespec ts = {0, 300 * 1000 * 1000};
		unsigned long before = waiter_cycles(w);

		for (int i = 0; i < 1000; i++)
			waiter_bell_ring(bell);
		nanosleep(&ts, NULL);
		cr_assert(waiter_cycles(w) - before <= 3, "%lu cycles for one burst of rings",
			  waiter_cycles(w) - before);
		cr_assert(pacer_now_s() - t0 < 20, "the second wait did not end");
	}
	pthread_join(t, NULL);
	cr_assert_eq(j.rc, 0);
	cr_assert(waiter_bell_rings(bell) > 1000);
	cr_assert_eq(attached, 1);
	waiter_free(w);
	waiter_bell_free(bell);
	fake_exec_fini(&e);
}
