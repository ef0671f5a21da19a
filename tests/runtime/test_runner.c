/*
 * Tests for cmd/pacer/runner.c, the sync queue of watch and serve: bursts
 * coalesce into at most two syncs, lists of apps join, a newer change
 * supersedes the running sync, transient failures are retried with a
 * growing backoff that a success resets, a hold keeps a sync back, and the
 * status says all of it. The sync is a fake that records its calls.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/runner.h"
#include "reconcile/base/clock.h"

#define MAX_CALLS 16

/* What the fake sync saw and does; guarded by mu. */
struct fake {
	pthread_mutex_t mu;
	int calls;
	char reasons[MAX_CALLS][RUNNER_REASON_MAX];
	char only[MAX_CALLS][128]; /* the ids, comma-separated; "*" for every app */
	long long start_ms[MAX_CALLS];
	int superseded[MAX_CALLS]; /* the flag was set while the call ran */
	int sleep_ms;
	int fail_first; /* this many calls return PACER_EUNREACHABLE */
	volatile sig_atomic_t supersede;
};

static int fake_sync(void *ctx, const char *reason, const char *const *only,
                     struct json_object **status_out)
{
	struct fake *f = ctx;
	long long until;
	int n, rc;

	pthread_mutex_lock(&f->mu);
	n = f->calls++;
	cr_assert_lt(n, MAX_CALLS);
	snprintf(f->reasons[n], sizeof(f->reasons[n]), "%s", reason);
	f->only[n][0] = '\0';
	for (size_t i = 0; only && only[i]; i++)
		snprintf(f->only[n] + strlen(f->only[n]), sizeof(f->only[n]) - strlen(f->only[n]),
		         "%s%s", i ? "," : "", only[i]);
	if (!only)
		snprintf(f->only[n], sizeof(f->only[n]), "*");
	f->start_ms[n] = pacer_now_ms();
	until = f->start_ms[n] + f->sleep_ms;
	rc = n < f->fail_first ? PACER_EUNREACHABLE : 0;
	pthread_mutex_unlock(&f->mu);
	/* "Waits for its deployments": until the time is up or it is superseded. */
	while (pacer_now_ms() < until && !f->supersede)
		pacer_sleep_ms(2);
	pthread_mutex_lock(&f->mu);
	f->superseded[n] = f->supersede != 0;
	pthread_mutex_unlock(&f->mu);
	*status_out = json_object_new_object();
	json_object_object_add(*status_out, "converged", json_object_new_boolean(rc == 0));
	return rc;
}

static struct runner *start(struct fake *f, int retry)
{
	struct runner_options o = RUNNER_OPTIONS_INIT;
	struct pacer_error *err = NULL;
	struct runner *r = NULL;

	pthread_mutex_init(&f->mu, NULL);
	o.sync = fake_sync;
	o.ctx = f;
	o.supersede = &f->supersede;
	o.retry = retry;
	o.retry_min_ms = 40;
	o.retry_max_ms = 160;
	cr_assert_eq(runner_new(&r, &o, &err), 0);
	cr_assert_eq(runner_start(r, &err), 0);
	return r;
}

static int calls(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->calls;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* Wait until the runner is idle with at least n syncs done. */
static void wait_idle(struct runner *r, unsigned long n)
{
	long long deadline = pacer_now_ms() + 10000;
	struct runner_status st;

	for (;;) {
		runner_status_get(r, 0, &st);
		if (st.nsyncs >= n && !st.running && !st.pending)
			return;
		cr_assert_lt(pacer_now_ms(), deadline, "the runner did not settle");
		pacer_sleep_ms(5);
	}
}

static void wait_calls(struct fake *f, int n)
{
	long long deadline = pacer_now_ms() + 10000;

	while (calls(f) < n) {
		cr_assert_lt(pacer_now_ms(), deadline, "fewer than %d syncs", n);
		pacer_sleep_ms(2);
	}
}

Test(runner, burst_coalesces_into_two_syncs)
{
	struct fake f = {.sleep_ms = 150};
	struct runner *r = start(&f, 0);
	unsigned long first, ids[5];

	first = runner_trigger(r, "first", 0, NULL);
	wait_calls(&f, 1);
	for (int i = 0; i < 5; i++) {
		char reason[16];

		snprintf(reason, sizeof(reason), "hook %d", i);
		ids[i] = runner_trigger(r, reason, 0, NULL);
	}
	wait_idle(r, 2);
	cr_assert_eq(calls(&f), 2, "a burst while a sync runs is one more sync");
	cr_assert_eq(first, 1);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ids[i], 2, "every trigger joins the pending sync");
	cr_assert_str_eq(f.reasons[1], "hook 0", "the pending sync keeps the first reason");
	runner_free(r);
}

Test(runner, only_lists_join)
{
	struct fake f = {.sleep_ms = 100};
	struct runner *r = start(&f, 0);
	const char *a[] = {"/a", "/b", NULL}, *b[] = {"/b", "/c", NULL};

	runner_trigger(r, "startup", 0, NULL);
	wait_calls(&f, 1);
	runner_trigger(r, "api", 0, a);
	runner_trigger(r, "api", 0, b);
	wait_idle(r, 2);
	cr_assert_str_eq(f.only[1], "/a,/b,/c", "the union of both lists");

	runner_trigger(r, "again", 0, NULL);
	wait_calls(&f, 3);
	runner_trigger(r, "api", 0, a);
	runner_trigger(r, "interval", 0, NULL);
	wait_idle(r, 4);
	cr_assert_str_eq(f.only[3], "*", "joined by a sync of every app, it is one");
	runner_free(r);
}

Test(runner, supersede_ends_the_running_wait)
{
	struct fake f = {.sleep_ms = 5000};
	struct runner *r = start(&f, 0);
	long long t0;

	runner_trigger(r, "old commit", 0, NULL);
	wait_calls(&f, 1);
	runner_trigger(r, "interval", 0, NULL);
	pacer_sleep_ms(50);
	cr_assert_eq(f.supersede, 0, "a trigger without RUNNER_SUPERSEDE does not cut the sync");
	t0 = pacer_now_ms();
	runner_trigger(r, "new commit", RUNNER_SUPERSEDE, NULL);
	wait_calls(&f, 2);
	cr_assert_lt(pacer_now_ms() - t0, 2000, "the superseded sync stopped waiting");
	cr_assert(f.superseded[0]);
	cr_assert_str_eq(f.reasons[1], "interval");
	/* Cleared before the next sync: it runs its whole wait unless superseded itself. */
	pacer_sleep_ms(50);
	cr_assert_eq(f.supersede, 0);
	runner_free(r);
}

Test(runner, backoff_grows_and_resets)
{
	struct fake f = {.sleep_ms = 0, .fail_first = 4};
	struct runner *r = start(&f, 1);
	struct runner_status st;
	long long gap[3];

	runner_trigger(r, "startup", 0, NULL);
	wait_calls(&f, 5);
	wait_idle(r, 5);
	for (int i = 0; i < 3; i++)
		gap[i] = f.start_ms[i + 2] - f.start_ms[i + 1];
	cr_assert_str_eq(f.reasons[1], "retry");
	cr_assert_str_eq(f.reasons[4], "retry");
	/* 40, 80, 160 ms: each wait doubles (some slack for a loaded machine). */
	cr_assert_geq(f.start_ms[1] - f.start_ms[0], 40);
	cr_assert_geq(gap[0], 80);
	cr_assert_geq(gap[1], 160);
	cr_assert_geq(gap[2], 160, "capped at retry_max_ms");
	cr_assert_lt(gap[2], 160 + 1000, "capped at retry_max_ms");
	runner_status_get(r, 0, &st);
	cr_assert_eq(st.backoff_ms, 0, "a success resets the backoff");
	cr_assert_eq(st.retry_at_ms, 0);
	pacer_sleep_ms(300);
	cr_assert_eq(calls(&f), 5, "no retry after a success");
	runner_free(r);
}

Test(runner, no_retry_without_the_option)
{
	struct fake f = {.sleep_ms = 0, .fail_first = 1};
	struct runner *r = start(&f, 0);

	runner_trigger(r, "startup", 0, NULL);
	wait_idle(r, 1);
	pacer_sleep_ms(200);
	cr_assert_eq(calls(&f), 1);
	runner_free(r);
}

Test(runner, status_reports_running_pending_and_last)
{
	struct fake f = {.sleep_ms = 200};
	struct runner *r = start(&f, 1);
	struct runner_status st;

	runner_status_get(r, 1, &st);
	cr_assert(!st.running && !st.pending && !st.have_last && !st.last.status);
	runner_trigger(r, "startup", 0, NULL);
	wait_calls(&f, 1);
	runner_trigger(r, "files changed", 0, NULL);
	runner_status_get(r, 0, &st);
	cr_assert(st.running);
	cr_assert_eq(st.running_id, 1);
	cr_assert(st.pending);
	cr_assert_eq(st.pending_id, 2);
	cr_assert_str_eq(st.pending_reason, "files changed");
	wait_idle(r, 2);
	runner_status_get(r, 1, &st);
	cr_assert_eq(st.nsyncs, 2);
	cr_assert(st.have_last);
	cr_assert_eq(st.last.id, 2);
	cr_assert_str_eq(st.last.reason, "files changed");
	cr_assert(st.last.converged);
	cr_assert_eq(st.last.rc, 0);
	cr_assert_geq(st.last.seconds, 0.15);
	cr_assert_gt(st.last_success, 0);
	cr_assert_gt(st.last_end_ms, 0);
	cr_assert_not_null(st.last.status, "a deep copy of the status JSON");
	runner_status_release(&st);
	runner_free(r);
}

Test(runner, hold_keeps_the_sync_back)
{
	struct fake f = {.sleep_ms = 0};
	struct runner *r = start(&f, 0);

	runner_hold(r, 1);
	runner_trigger(r, "files changed", 0, NULL);
	pacer_sleep_ms(150);
	cr_assert_eq(calls(&f), 0, "held: the sync waits");
	runner_hold(r, 0);
	wait_idle(r, 1);
	cr_assert_eq(calls(&f), 1);
	runner_free(r);
}

Test(runner, quit_drops_the_pending_sync)
{
	struct fake f = {.sleep_ms = 5000};
	struct runner *r = start(&f, 0);
	long long t0;

	runner_trigger(r, "startup", 0, NULL);
	wait_calls(&f, 1);
	runner_trigger(r, "more", 0, NULL);
	t0 = pacer_now_ms();
	runner_stop(r, RUNNER_SUPERSEDE);
	cr_assert_lt(pacer_now_ms() - t0, 2000, "the running sync was told to stop waiting");
	cr_assert(runner_stopped(r));
	cr_assert_eq(calls(&f), 1, "the pending sync is dropped");
	cr_assert_eq(runner_trigger(r, "late", 0, NULL), 0);
	runner_free(r);
}

Test(runner, backoff_doubles_to_its_cap)
{
	struct runner_backoff b = RUNNER_BACKOFF_INIT(500, 3000);

	cr_assert_eq(runner_backoff_next(&b), 500);
	cr_assert_eq(runner_backoff_next(&b), 1000);
	cr_assert_eq(runner_backoff_next(&b), 2000);
	cr_assert_eq(runner_backoff_next(&b), 3000);
	cr_assert_eq(runner_backoff_next(&b), 3000);
	runner_backoff_reset(&b);
	cr_assert_eq(runner_backoff_next(&b), 500);
}
