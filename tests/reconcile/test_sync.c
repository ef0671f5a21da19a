/*
 * Unit tests of a whole run (reconcile/sync.c): the real loader and planner
 * over an in-memory source, the fake Marathon, state and backup stores of
 * tests/lib/fake_marathon.c. The fake's log says which calls happened and
 * in what order.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/log.h"
#include "reconcile/sync.h"
#include "tests/lib/fake_marathon.h"
#include "tests/lib/testlib.h"

struct env {
	struct fake_marathon *f;
	struct pacer_marathon *m;
	struct pacer_backup_store *b;
	struct pacer_state_store *s;
	struct pacer_source *src;
	struct sync_options o;
	struct sync_result *r;
	struct pacer_error *err;
};

/* Desired states several tests start from: six apps /p1../p6, three apps /a, /b, /c. */
static const char *const six_apps[] = {
	"1.json", "{\"id\":\"/p1\",\"cmd\":\"x\"}", "2.json", "{\"id\":\"/p2\",\"cmd\":\"x\"}",
	"3.json", "{\"id\":\"/p3\",\"cmd\":\"x\"}", "4.json", "{\"id\":\"/p4\",\"cmd\":\"x\"}",
	"5.json", "{\"id\":\"/p5\",\"cmd\":\"x\"}", "6.json", "{\"id\":\"/p6\",\"cmd\":\"x\"}",
	NULL};
static const char *const abc_apps[] = {
	"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}",
	"b.json", "{\"id\":\"/b\",\"cmd\":\"x\"}",
	"c.json", "{\"id\":\"/c\",\"cmd\":\"x\"}",
	NULL};

static void env_init(struct env *e, const char *const *files)
{
	memset(e, 0, sizeof(*e));
	pacer_log_set_level(PACER_LOG_WARN);
	e->f = fake_marathon_with_stores(&e->m, &e->b, &e->s);
	e->src = fake_source_new(files, "rev1");
	fake_sync_options_init(&e->o);
}

static int run(struct env *e)
{
	sync_result_free(e->r);
	e->r = NULL;
	pacer_error_clear(&e->err);
	return sync_run(e->src, e->m, e->b, e->s, &e->o, &e->r, &e->err);
}

static void env_fini(struct env *e)
{
	sync_result_free(e->r);
	pacer_error_free(e->err);
	pacer_source_free(e->src);
	pacer_backup_store_free(e->b);
	pacer_state_store_free(e->s);
	pacer_marathon_free(e->m);
}

static const struct sync_app_result *result(struct env *e, const char *id)
{
	cr_assert_not_null(e->r);
	for (size_t i = 0; i < e->r->napps; i++)
		if (!strcmp(e->r->apps[i].app_id, id))
			return &e->r->apps[i];
	cr_assert_fail("no result for %s", id);
	return NULL;
}

static enum sync_outcome outcome(struct env *e, const char *id)
{
	return result(e, id)->outcome;
}

#define assert_outcome(e, id, want)                                                                \
	cr_assert_eq(outcome(e, id), want, "%s: %s, want %s", id,                                  \
		     sync_outcome_name(outcome(e, id)), sync_outcome_name(want))

/* Calls that change Marathon. */
static int writes(struct env *e)
{
	return fake_marathon_count(e->f, "put ") + fake_marathon_count(e->f, "create ") +
	       fake_marathon_count(e->f, "delete_app ") + fake_marathon_count(e->f, "restart ") +
	       fake_marathon_count(e->f, "delete_deployment ");
}

static const char *cmd_of(struct json_object *def)
{
	struct json_object *v;

	return def && json_object_object_get_ex(def, "cmd", &v) ? json_object_get_string(v) : "";
}

static void own(struct env *e, const char *const *ids, size_t n)
{
	cr_assert_eq(e->s->add_owned(e->s, ids, n, NULL), 0);
}

Test(sync, create_update_unchanged_then_idempotent)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"instances\":1}",
		"b.json", "{\"id\":\"/b\",\"cmd\":\"v2\",\"instances\":2}",
		"c.json", "{\"id\":\"/c\",\"cmd\":\"same\",\"instances\":1}",
		NULL};
	struct env e;
	struct json_object *b;
	int w;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/b\",\"cmd\":\"v1\",\"instances\":2}");
	fake_marathon_add_app(e.f, "{\"id\":\"/c\",\"cmd\":\"same\",\"instances\":1}");

	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	assert_outcome(&e, "/a", SYNC_OUT_CREATED);
	assert_outcome(&e, "/b", SYNC_OUT_UPDATED);
	assert_outcome(&e, "/c", SYNC_OUT_UNCHANGED);
	cr_assert(e.r->converged);
	cr_assert_eq(e.r->nfailed, 0);
	/* One GET /v2/apps before anything is written. */
	cr_assert_eq(fake_marathon_find(e.f, "list_apps", 0), 0);
	b = fake_marathon_app(e.f, "/b");
	cr_assert_str_eq(cmd_of(b), "v2");
	json_object_put(b);
	cr_assert_eq(fake_backup_count(e.b), 1, "only the update is backed up");
	cr_assert(fake_state_owns(e.s, "/a") && fake_state_owns(e.s, "/b"));
	cr_assert_not(fake_state_owns(e.s, "/c"), "an untouched app is not claimed");
	cr_assert_str_eq(fake_state_revision(e.s), "rev1");
	cr_assert_not_null(result(&e, "/b")->backup_path);

	/* The second run changes nothing. */
	w = writes(&e);
	cr_assert_eq(run(&e), 0);
	for (size_t i = 0; i < e.r->napps; i++)
		cr_assert_eq(e.r->apps[i].outcome, SYNC_OUT_UNCHANGED, "%s: %s", e.r->apps[i].app_id,
			     sync_outcome_name(e.r->apps[i].outcome));
	cr_assert_eq(writes(&e), w, "a second run must not write");
	cr_assert_eq(fake_backup_count(e.b), 1);
	cr_assert(e.r->converged);
	env_fini(&e);
}

Test(sync, invalid_desired_state_touches_nothing)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}",
		"broken.json", "{\"id\": \"/b\", \"cmd\": }",
		NULL};
	struct env e;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"old\"}");
	cr_assert_eq(run(&e), PACER_EINVALID);
	cr_assert_not_null(e.r);
	cr_assert_not_null(e.r->desired);
	cr_assert_gt(e.r->desired->nerrors, 0);
	cr_assert_null(e.r->plan);
	cr_assert_not_null(e.err);
	cr_assert_eq(fake_marathon_count(e.f, ""), 0, "Marathon was not even read");
	env_fini(&e);
}

Test(sync, dry_run_plans_only)
{
	const char *files[] = {"a.json", "{\"id\":\"/a\",\"cmd\":\"new\"}", NULL};
	struct env e;
	struct json_object *j, *apps, *first, *v;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"old\"}");
	e.o.dry_run = 1;
	cr_assert_eq(run(&e), 0);
	assert_outcome(&e, "/a", SYNC_OUT_PLANNED);
	cr_assert_eq(writes(&e), 0);
	cr_assert_eq(fake_backup_count(e.b), 0);
	cr_assert_null(fake_state_revision(e.s), "a dry run records nothing");

	j = sync_result_to_json(e.r);
	cr_assert(json_object_object_get_ex(j, "apps", &apps));
	first = json_object_array_get_idx(apps, 0);
	cr_assert(json_object_object_get_ex(first, "outcome", &v));
	cr_assert_str_eq(json_object_get_string(v), "planned");
	cr_assert(json_object_object_get_ex(first, "action", &v));
	cr_assert_str_eq(json_object_get_string(v), "update");
	json_object_put(j);
	env_fini(&e);
}

Test(sync, prune_only_owned_apps)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}",
		"b.json", "{\"id\":\"/b\",\"cmd\":\"x\"}",
		NULL};
	const char *owned[] = {"/a", "/b", "/old"};
	struct env e;
	struct json_object *foreign;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"x\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/b\",\"cmd\":\"x\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/old\",\"cmd\":\"x\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/foreign\",\"cmd\":\"x\"}");
	own(&e, owned, 3);
	e.o.prune = 1;
	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	assert_outcome(&e, "/old", SYNC_OUT_PRUNED);
	cr_assert(e.r->converged);
	cr_assert_eq(fake_marathon_count(e.f, "delete_app /old force"), 1);
	cr_assert_eq(fake_marathon_count(e.f, "delete_app /foreign"), 0);
	foreign = fake_marathon_app(e.f, "/foreign");
	cr_assert_not_null(foreign, "an app pacer does not own is never pruned");
	json_object_put(foreign);
	cr_assert_eq(fake_backup_count(e.b), 1, "a pruned app is backed up first");
	cr_assert_not(fake_state_owns(e.s, "/old"));

	/* Without --prune nothing is pruned. */
	env_fini(&e);
}

Test(sync, prune_refused_for_an_empty_source)
{
	const char *files[] = {NULL};
	const char *owned[] = {"/a"};
	struct env e;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"x\"}");
	own(&e, owned, 1);
	e.o.prune = 1;
	e.o.force_prune = 1; /* even forced: an empty source is a mistake */
	cr_assert_eq(run(&e), PACER_EINVALID);
	cr_assert(strstr(e.err->message, "no apps"), "%s", e.err->message);
	cr_assert_eq(writes(&e), 0);
	env_fini(&e);
}

Test(sync, prune_refused_beyond_half_unless_forced)
{
	const char *files[] = {"a.json", "{\"id\":\"/a\",\"cmd\":\"new\"}", NULL};
	const char *owned[] = {"/a", "/b", "/c"};
	struct env e;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"old\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/b\",\"cmd\":\"x\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/c\",\"cmd\":\"x\"}");
	own(&e, owned, 3);
	e.o.prune = 1;
	cr_assert_eq(run(&e), PACER_EINVALID);
	cr_assert(strstr(e.err->message, "--force-prune"), "%s", e.err->message);
	cr_assert_eq(writes(&e), 0, "the whole run is refused, the update of /a too");

	e.o.force_prune = 1;
	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	assert_outcome(&e, "/a", SYNC_OUT_UPDATED);
	assert_outcome(&e, "/b", SYNC_OUT_PRUNED);
	assert_outcome(&e, "/c", SYNC_OUT_PRUNED);
	/* Prunes come after the updates. */
	cr_assert_lt(fake_marathon_find(e.f, "put /a force", 0),
		     fake_marathon_find(e.f, "delete_app /b force", 0));
	env_fini(&e);
}

Test(sync, prune_needs_a_state_store)
{
	const char *files[] = {"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}", NULL};
	struct env e;

	env_init(&e, files);
	e.o.prune = 1;
	cr_assert_eq(sync_run(e.src, e.m, e.b, NULL, &e.o, &e.r, &e.err), PACER_EINVALID);
	cr_assert_eq(writes(&e), 0);
	env_fini(&e);
}

Test(sync, dependents_wait_and_are_skipped_when_a_dependency_fails)
{
	const char *files[] = {
		"db.json", "{\"id\":\"/db\",\"cmd\":\"x\"}",
		"web.json", "{\"id\":\"/web\",\"cmd\":\"x\",\"dependencies\":[\"/db\"]}",
		"bad.json", "{\"id\":\"/bad\",\"cmd\":\"x\",\"labels\":{\"fake\":\"unhealthy\"}}",
		"front.json", "{\"id\":\"/front\",\"cmd\":\"x\",\"dependencies\":[\"/bad\"]}",
		"edge.json", "{\"id\":\"/edge\",\"cmd\":\"x\",\"dependencies\":[\"/front\"]}",
		NULL};
	struct env e;
	struct json_object *front;
	int db_done, web_create;

	env_init(&e, files);
	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	assert_outcome(&e, "/db", SYNC_OUT_CREATED);
	assert_outcome(&e, "/web", SYNC_OUT_CREATED);
	assert_outcome(&e, "/bad", SYNC_OUT_ROLLED_BACK);
	assert_outcome(&e, "/front", SYNC_OUT_SKIPPED);
	assert_outcome(&e, "/edge", SYNC_OUT_SKIPPED);
	cr_assert_not(e.r->converged);
	cr_assert_eq(e.r->nfailed, 3);
	cr_assert_null(fake_state_revision(e.s), "revision recorded only when converged");
	/* /web was created only after /db's deployment finished. */
	{
		char line[128];

		cr_assert_not_null(result(&e, "/db")->deployment_id);
		snprintf(line, sizeof(line), "finished %s", result(&e, "/db")->deployment_id);
		db_done = fake_marathon_find(e.f, line, 0);
	}
	web_create = fake_marathon_find(e.f, "create /web force", 0);
	cr_assert(fake_marathon_find(e.f, "create /db force", 0) >= 0);
	cr_assert(db_done >= 0 && web_create > db_done, "db finished at %d, web created at %d",
		  db_done, web_create);
	front = fake_marathon_app(e.f, "/front");
	cr_assert_null(front, "a dependent of a failed app is never started");
	cr_assert_not_null(result(&e, "/front")->error);
	cr_assert(strstr(result(&e, "/front")->error->message, "/bad"));
	env_fini(&e);
}

static void parallel_case(int parallel, int want_min, int want_max)
{
	struct env e;

	env_init(&e, six_apps);
	fake_marathon_set_polls(e.f, 5);
	e.o.parallel = parallel;
	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	cr_assert(e.r->converged);
	cr_assert(fake_marathon_max_inflight(e.f) >= want_min &&
			  fake_marathon_max_inflight(e.f) <= want_max,
		  "parallel %d: %d in flight at once", parallel, fake_marathon_max_inflight(e.f));
	env_fini(&e);
}

Test(sync, parallel_bound_is_never_exceeded)
{
	parallel_case(2, 2, 2);
	parallel_case(1, 1, 1);
	/* Unbounded: more than any bound above (timing may let one finish early). */
	parallel_case(0, 3, 6);
}

Test(sync, one_deployments_poll_per_cycle)
{
	struct env e;
	int polls;

	env_init(&e, six_apps);
	fake_marathon_set_polls(e.f, 5);
	e.o.parallel = 0;
	cr_assert_eq(run(&e), 0);
	cr_assert(e.r->converged);
	polls = fake_marathon_count(e.f, "list_deployments");
	/* One poll per app per cycle would make at least 6 * 5. */
	cr_assert(polls >= 5 && polls <= 5 + 6, "%d polls for 6 apps needing 5 each", polls);
	env_fini(&e);
}

Test(sync, atomic_rolls_back_everything_in_reverse_order)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}",
		"b.json", "{\"id\":\"/b\",\"cmd\":\"v2\",\"dependencies\":[\"/a\"]}",
		"c.json",
		"{\"id\":\"/c\",\"cmd\":\"v2\",\"dependencies\":[\"/b\"],\"labels\":{\"fake\":\"unhealthy\"}}",
		NULL};
	struct env e;
	struct json_object *a, *b, *c;
	int undo_b, undo_a;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/b\",\"cmd\":\"v1\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/c\",\"cmd\":\"v1\"}");
	e.o.atomic = 1;
	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	assert_outcome(&e, "/a", SYNC_OUT_ROLLED_BACK);
	assert_outcome(&e, "/b", SYNC_OUT_ROLLED_BACK);
	assert_outcome(&e, "/c", SYNC_OUT_ROLLED_BACK);
	cr_assert_not(e.r->converged);
	a = fake_marathon_app(e.f, "/a");
	b = fake_marathon_app(e.f, "/b");
	c = fake_marathon_app(e.f, "/c");
	cr_assert_null(a, "the app the run created is removed");
	cr_assert_str_eq(cmd_of(b), "v1");
	cr_assert_str_eq(cmd_of(c), "v1");
	json_object_put(b);
	json_object_put(c);
	/* Reverse order: /b (changed second) is restored before /a is removed. */
	undo_b = fake_marathon_find(e.f, "put /b force", fake_marathon_find(e.f, "put /b force", 0) + 1);
	undo_a = fake_marathon_find(e.f, "delete_app /a force", 0);
	cr_assert(undo_b >= 0 && undo_a > undo_b, "undo /b at %d, undo /a at %d", undo_b, undo_a);
	cr_assert(strstr(result(&e, "/a")->error->message, "--atomic"), "%s",
		  result(&e, "/a")->error->message);
	cr_assert_str_eq(result(&e, "/a")->error->app_id, "/a");
	{
		struct json_object *j = sync_result_to_json(e.r), *v, *apps, *x, *err, *msg;

		cr_assert(json_object_object_get_ex(j, "converged", &v));
		cr_assert_not(json_object_get_boolean(v));
		cr_assert(json_object_object_get_ex(j, "failed", &v));
		cr_assert_eq(json_object_get_int(v), 3);
		cr_assert(json_object_object_get_ex(j, "apps", &apps));
		cr_assert_eq(json_object_array_length(apps), 3);
		x = json_object_array_get_idx(apps, 0);
		cr_assert(json_object_object_get_ex(x, "outcome", &v));
		cr_assert_str_eq(json_object_get_string(v), "rolled_back");
		cr_assert(json_object_object_get_ex(x, "error", &err) && err);
		cr_assert(json_object_object_get_ex(err, "message", &msg));
		cr_assert(strstr(json_object_get_string(msg), "--atomic"));
		json_object_put(j);
	}
	env_fini(&e);
}

Test(sync, without_atomic_successes_stay)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"v2\"}",
		"c.json", "{\"id\":\"/c\",\"cmd\":\"v2\",\"labels\":{\"fake\":\"unhealthy\"}}",
		NULL};
	struct env e;
	struct json_object *a;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"v1\"}");
	fake_marathon_add_app(e.f, "{\"id\":\"/c\",\"cmd\":\"v1\"}");
	e.o.on_failure = SYNC_ON_FAILURE_RESTART;
	cr_assert_eq(run(&e), 0);
	assert_outcome(&e, "/a", SYNC_OUT_UPDATED);
	assert_outcome(&e, "/c", SYNC_OUT_RESTARTED);
	cr_assert_eq(e.r->nfailed, 1, "a restarted app did not converge");
	a = fake_marathon_app(e.f, "/a");
	cr_assert_str_eq(cmd_of(a), "v2");
	json_object_put(a);
	env_fini(&e);
}

Test(sync, stop_flag_starts_nothing)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"new\"}",
		"b.json", "{\"id\":\"/b\",\"cmd\":\"x\"}",
		NULL};
	static volatile sig_atomic_t stop = 1;
	struct env e;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"old\"}");
	e.o.stop = &stop;
	cr_assert_eq(run(&e), 0);
	assert_outcome(&e, "/a", SYNC_OUT_SKIPPED);
	assert_outcome(&e, "/b", SYNC_OUT_SKIPPED);
	cr_assert_eq(pacer_error_root_code(result(&e, "/a")->error), PACER_ECANCELLED);
	cr_assert_not(e.r->converged);
	cr_assert_eq(writes(&e), 0);
	cr_assert_eq(fake_backup_count(e.b), 0);
	env_fini(&e);
}

/* Stop raised by an event handler while the first app deploys. */
static void stop_on_submit(void *ctx, const struct sync_event *ev)
{
	if (ev->kind == SYNC_EV_SUBMIT)
		*(volatile sig_atomic_t *)ctx = 1;
}

/* SIGTERM: stop waiting at once, roll nothing back, leave it to the next run. */
Test(sync, stop_hands_the_app_in_flight_to_the_next_run)
{
	static volatile sig_atomic_t stop = 0;
	struct env e;
	int interrupted = 0, skipped = 0;

	env_init(&e, abc_apps);
	e.o.parallel = 1;
	e.o.stop = &stop;
	e.o.on_event = stop_on_submit;
	e.o.event_ctx = (void *)&stop;
	cr_assert_eq(run(&e), 0);
	for (size_t i = 0; i < e.r->napps; i++) {
		interrupted += e.r->apps[i].outcome == SYNC_OUT_INTERRUPTED;
		skipped += e.r->apps[i].outcome == SYNC_OUT_SKIPPED;
	}
	cr_assert_eq(interrupted, 1, "the app in flight is handed on, not waited for");
	cr_assert_eq(skipped, 2);
	cr_assert_eq(fake_marathon_count(e.f, "create "), 1);
	cr_assert_eq(fake_marathon_count(e.f, "delete "), 0, "nothing is rolled back");
	cr_assert_not(e.r->converged);
	env_fini(&e);
}

Test(sync, unreachable_marathon_stops_new_work)
{
	struct env e;

	env_init(&e, abc_apps);
	e.o.parallel = 1;
	fake_marathon_fail(e.f, "create_app", PACER_EUNREACHABLE, 1);
	cr_assert_eq(run(&e), 0);
	assert_outcome(&e, "/a", SYNC_OUT_FAILED);
	assert_outcome(&e, "/b", SYNC_OUT_SKIPPED);
	assert_outcome(&e, "/c", SYNC_OUT_SKIPPED);
	cr_assert_eq(pacer_error_root_code(result(&e, "/a")->error), PACER_EUNREACHABLE);
	cr_assert_eq(fake_marathon_count(e.f, "create "), 1);
	env_fini(&e);
}

Test(sync, unreachable_at_start_is_reported)
{
	const char *files[] = {"a.json", "{\"id\":\"/a\",\"cmd\":\"x\"}", NULL};
	struct env e;

	env_init(&e, files);
	fake_marathon_fail(e.f, "list_apps", PACER_EUNREACHABLE, 1);
	cr_assert_eq(run(&e), PACER_EUNREACHABLE);
	cr_assert_eq(pacer_error_root_code(e.err), PACER_EUNREACHABLE);
	cr_assert_eq(writes(&e), 0);
	env_fini(&e);
}

Test(sync, failed_backup_fails_only_that_app)
{
	const char *files[] = {
		"a.json", "{\"id\":\"/a\",\"cmd\":\"new\"}",
		"b.json", "{\"id\":\"/b\",\"cmd\":\"x\"}",
		NULL};
	struct env e;
	struct json_object *a;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"old\"}");
	fake_backup_fail(e.b, 1);
	cr_assert_eq(run(&e), 0);
	assert_outcome(&e, "/a", SYNC_OUT_FAILED);
	assert_outcome(&e, "/b", SYNC_OUT_CREATED);
	cr_assert_eq(fake_marathon_count(e.f, "put /a"), 0);
	a = fake_marathon_app(e.f, "/a");
	cr_assert_str_eq(cmd_of(a), "old");
	json_object_put(a);
	env_fini(&e);
}

/* What is backed up before the PUT is the live definition as GET returned
 * it, read-only fields and all (the store itself is tested in
 * tests/backends/test_backup_store.c). */
Test(sync, backup_holds_the_previous_live_definition)
{
	const char *files[] = {"a.json", "{\"id\":\"/a\",\"cmd\":\"new\"}", NULL};
	struct json_object *saved, *cmd;
	struct env e;

	env_init(&e, files);
	fake_marathon_add_app(e.f, "{\"id\":\"/a\",\"cmd\":\"old\",\"instances\":3}");
	cr_assert_eq(run(&e), 0, "%s", e.err ? e.err->message : "");
	assert_outcome(&e, "/a", SYNC_OUT_UPDATED);
	cr_assert_not_null(result(&e, "/a")->backup_path);
	cr_assert_eq(fake_backup_count(e.b), 1);
	saved = fake_backup_get(e.b, 0);
	cr_assert_not_null(saved);
	cr_assert(json_object_object_get_ex(saved, "cmd", &cmd));
	cr_assert_str_eq(json_object_get_string(cmd), "old");
	cr_assert(json_object_object_get_ex(saved, "tasksRunning", NULL),
		  "the backup is the definition as GET returned it");
	env_fini(&e);
}
