/*
 * sync_options.abandon (reconcile/sync.c, apply.c, wait.c): a newer run
 * supersedes this one, so the deployments in flight are left alone (no
 * rollback, no --atomic undo), nothing more starts, and the run ends at
 * once. Fakes of tests/lib/fake_marathon.c; the fake's log says what
 * happened.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/log.h"
#include "reconcile/sync.h"
#include "tests/lib/fake_marathon.h"

static volatile sig_atomic_t abandon;

/* The newer run arrives while the first app waits for its deployment. */
static void abandon_on_submit(void *ctx, const struct sync_event *ev)
{
	(void)ctx;
	if (ev->kind == SYNC_EV_SUBMIT)
		abandon = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Frees a run's result and error, and the fakes it ran over. */
static void run_free(struct sync_result *r, struct pacer_error *err, struct pacer_source *src,
                     struct pacer_backup_store *b, struct pacer_state_store *s,
                     struct pacer_marathon *m)
{
	sync_result_free(r);
	pacer_error_free(err);
	pacer_source_free(src);
	pacer_backup_store_free(b);
	pacer_state_store_free(s);
	pacer_marathon_free(m);
}

static void run_abandoned(int atomic)
{
	const char *files[] = {
	    "a.json", "{\"id\":\"/a\",\"cmd\":\"new\",\"labels\":{\"fake\":\"unhealthy\"}}",
	    "b.json", "{\"id\":\"/b\",\"cmd\":\"x\"}", NULL};
	struct fake_marathon *f;
	struct pacer_marathon *m;
	struct pacer_backup_store *b;
	struct pacer_state_store *s;
	struct pacer_source *src;
	struct sync_options o = SYNC_OPTIONS_INIT;
	struct sync_result *r = NULL;
	struct pacer_error *err = NULL;
	double t0;
	int rc;

	pacer_log_set_level(PACER_LOG_ERROR);
	abandon = 0;
	f = fake_marathon_with_stores(&m, &b, &s);
	src = fake_source_new(files, "rev2");
	cr_assert_eq(fake_marathon_add_app(f, "{\"id\":\"/a\",\"cmd\":\"old\"}"), 0);
	o.poll_ms = 10;
	o.timeout_s = 30; /* the stuck deployment would hold the run for 30 s */
	o.parallel = 1;
	o.atomic = atomic;
	o.abandon = &abandon;
	o.on_event = abandon_on_submit;

	t0 = now_s();
	rc = sync_run(src, m, b, s, &o, &r, &err);
	cr_assert_eq(rc, 0, "%s", err ? err->message : "");
	cr_assert_lt(now_s() - t0, 5.0, "the abandoned run kept waiting");
	cr_assert_not(r->converged);
	/* The app in flight is handed to the next run (interrupted, its journal
	 * entry kept), the ones not started are skipped. */
	for (size_t i = 0; i < r->napps; i++) {
		enum sync_outcome want = !strcmp(r->apps[i].app_id, "/a") ? SYNC_OUT_INTERRUPTED
		                                                          : SYNC_OUT_SKIPPED;

		cr_assert_eq(r->apps[i].outcome, want, "%s: %s", r->apps[i].app_id,
		             sync_outcome_name(r->apps[i].outcome));
		cr_assert_eq(pacer_error_root_code(r->apps[i].error), PACER_ECANCELLED);
	}
	/* /a was PUT once and left to the newer run: no rollback PUT, no
	 * deployment deleted; /b never started. */
	cr_assert_eq(fake_marathon_count(f, "put "), 1, "%s", fake_marathon_calls(f));
	cr_assert_eq(fake_marathon_count(f, "delete_deployment "), 0);
	cr_assert_eq(fake_marathon_count(f, "create "), 0);

	run_free(r, err, src, b, s, m);
}

Test(sync_abandon, stops_waiting_without_rollback)
{
	run_abandoned(0);
}

Test(sync_abandon, atomic_run_is_not_undone)
{
	run_abandoned(1);
}

Test(sync_abandon, unset_flag_changes_nothing)
{
	const char *files[] = {"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}", NULL};
	struct pacer_marathon *m;
	struct pacer_backup_store *b;
	struct pacer_state_store *s;
	struct pacer_source *src = fake_source_new(files, "rev1");
	struct sync_options o = SYNC_OPTIONS_INIT;
	struct sync_result *r = NULL;
	struct pacer_error *err = NULL;
	static volatile sig_atomic_t never = 0;

	pacer_log_set_level(PACER_LOG_ERROR);
	fake_marathon_with_stores(&m, &b, &s);
	o.poll_ms = 10;
	o.abandon = &never;
	cr_assert_eq(sync_run(src, m, b, s, &o, &r, &err), 0);
	cr_assert(r->converged);
	cr_assert_eq(r->apps[0].outcome, SYNC_OUT_CREATED);
	run_free(r, err, src, b, s, m);
}
