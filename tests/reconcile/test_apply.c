/*
 * Unit tests of one app's apply (reconcile/apply.c) and its failure
 * policies, against the in-memory fake Marathon of tests/lib/fake_marathon.c.
 * Plan items are built by hand so these tests do not depend on the planner.
 * The rollback requests themselves are tested in test_rollback.c, the
 * shared waiter in test_wait.c.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/apply.h"
#include "tests/lib/fake_marathon.h"

static void item_init(struct pacer_plan_item *it, enum pacer_action act, const char *id,
		      const char *body, struct json_object *live)
{
	memset(it, 0, sizeof(*it));
	it->action = act;
	it->app_id = (char *)id;
	it->body = body ? json_tokener_parse(body) : NULL;
	it->live = live;
	if (body)
		cr_assert_not_null(it->body, "bad test JSON: %s", body);
}

static void item_release(struct pacer_plan_item *it)
{
	json_object_put(it->body);
	json_object_put(it->live);
}

static void res_release(struct sync_app_result *r)
{
	free(r->deployment_id);
	free(r->backup_path);
	pacer_error_free(r->error);
}

static int cmd_of(struct json_object *def, const char *cmd)
{
	struct json_object *v;

	return def && json_object_object_get_ex(def, "cmd", &v) &&
	       !strcmp(json_object_get_string(v), cmd);
}

static char *error_text(const struct pacer_error *e)
{
	char *t = pacer_error_format(e);

	cr_assert_not_null(t);
	return t;
}

#define WEB_V1 "{\"id\":\"/web\",\"cmd\":\"v1\",\"instances\":2}"
#define WEB_V2 "{\"id\":\"/web\",\"cmd\":\"v2\",\"instances\":2}"
#define WEB_BAD "{\"id\":\"/web\",\"cmd\":\"v2\",\"instances\":2,\"labels\":{\"fake\":\"unhealthy\"}}"

/*
 * One apply_item() of a hand-built plan item: run_init() makes the fakes
 * (and a live app when live_json is not NULL), the test then sets options
 * and injects failures, run_apply() builds the item (the live definition as
 * GET shows it, except for a create) and applies it.
 */
struct run {
	struct fake_exec e;
	struct pacer_plan_item it;
	struct sync_app_result res;
	int changed; /* -1 until apply_item() sets it */
};

static void run_init(struct run *r, const char *live_json)
{
	memset(&r->it, 0, sizeof(r->it));
	memset(&r->res, 0, sizeof(r->res));
	r->changed = -1;
	cr_assert_eq(fake_exec_init(&r->e), 0);
	if (live_json)
		cr_assert_eq(fake_marathon_add_app(r->e.f, live_json), 0, "bad live app %s",
			     live_json);
}

static void run_prepare(struct run *r, enum pacer_action act, const char *id, const char *body)
{
	item_init(&r->it, act, id, body, act == PACER_ACT_CREATE ? NULL : fake_exec_live(&r->e, id));
	r->res.app_id = (char *)id;
}

static void run_go(struct run *r, enum sync_outcome want)
{
	apply_item(&r->e.c, &r->it, &r->res, &r->changed);
	cr_assert_eq(r->res.outcome, want, "outcome %s, want %s", sync_outcome_name(r->res.outcome),
		     sync_outcome_name(want));
}

/* run_prepare() and run_go(): apply and check the outcome. */
static void run_apply(struct run *r, enum pacer_action act, const char *id, const char *body,
		      enum sync_outcome want)
{
	run_prepare(r, act, id, body);
	run_go(r, want);
}

static void run_fini(struct run *r)
{
	res_release(&r->res);
	item_release(&r->it);
	fake_exec_fini(&r->e);
}

/* The stored definition of id has this cmd. */
static void expect_stored_cmd(struct run *r, const char *id, const char *cmd)
{
	struct json_object *stored = fake_marathon_app(r->e.f, id);

	cr_assert(cmd_of(stored, cmd), "%s: want cmd %s, stored %s", id, cmd,
		  stored ? json_object_to_json_string(stored) : "nothing");
	json_object_put(stored);
}

/* The result's error has this root code and its text names both needles. */
static void expect_error(struct run *r, enum pacer_code code, const char *has1, const char *has2)
{
	char *text;

	cr_assert_not_null(r->res.error);
	cr_assert_eq(pacer_error_root_code(r->res.error), code, "root %s",
		     pacer_code_name(pacer_error_root_code(r->res.error)));
	if (!has1)
		return;
	text = error_text(r->res.error);
	cr_assert(strstr(text, has1) && strstr(text, has2), "%s", text);
	free(text);
}

/* Log line `first` comes before `then` (both present). */
static void expect_order(struct run *r, const char *first, const char *then)
{
	int a = fake_marathon_find(r->e.f, first, 0), b = fake_marathon_find(r->e.f, then, 0);

	cr_assert(a >= 0 && b > a, "'%s' (%d) must come before '%s' (%d)", first, a, then, b);
}

Test(apply, update_backs_up_first_then_puts_with_force)
{
	struct run r;

	run_init(&r, WEB_V1);
	run_prepare(&r, PACER_ACT_UPDATE, "/web", WEB_V2);
	/* A "version" in the body would make Marathon roll back instead. */
	json_object_object_add(r.it.body, "version",
			       json_object_new_string("2020-01-01T00:00:00.000Z"));
	run_go(&r, SYNC_OUT_UPDATED);

	cr_assert_null(r.res.error);
	cr_assert_eq(r.changed, 1);
	expect_order(&r, "backup /web", "put /web force"); /* backup before the PUT */
	cr_assert_not(fake_marathon_saw_version(r.e.f), "the PUT body carried 'version'");
	cr_assert_eq(fake_backup_count(r.e.b), 1);
	cr_assert(json_object_equal(fake_backup_get(r.e.b, 0), r.it.live),
		  "the backup must be the live definition as GET returned it");
	cr_assert_not_null(r.res.backup_path);
	cr_assert_not_null(r.res.deployment_id);
	cr_assert(fake_state_owns(r.e.s, "/web"), "an applied app is owned");
	expect_stored_cmd(&r, "/web", "v2");
	cr_assert_eq(r.e.nevents[SYNC_EV_BACKUP], 1);
	cr_assert_eq(r.e.nevents[SYNC_EV_SUBMIT], 1);
	cr_assert_eq(r.e.nevents[SYNC_EV_DONE], 1);
	run_fini(&r);
}

Test(apply, create_records_ownership_before_post)
{
	struct run r;

	run_init(&r, NULL);
	run_apply(&r, PACER_ACT_CREATE, "/api", "{\"id\":\"/api\",\"cmd\":\"x\",\"instances\":1}",
		  SYNC_OUT_CREATED);
	expect_order(&r, "own /api", "create /api force"); /* ownership before the POST */
	cr_assert_eq(fake_marathon_count(r.e.f, "backup"), 0, "nothing to back up for a create");
	run_fini(&r);
}

Test(apply, rejected_create_is_not_owned)
{
	struct run r;

	run_init(&r, NULL);
	run_apply(&r, PACER_ACT_CREATE, "/api",
		  "{\"id\":\"/api\",\"cmd\":\"x\",\"labels\":{\"fake\":\"reject\"}}",
		  SYNC_OUT_FAILED);
	cr_assert_eq(r.changed, 0);
	cr_assert_not(fake_state_owns(r.e.s, "/api"), "a refused create leaves no ownership");
	cr_assert_eq(fake_marathon_count(r.e.f, "delete_app"), 0, "nothing to remove");
	run_fini(&r);
}

Test(apply, failed_backup_leaves_the_app_untouched)
{
	struct run r;

	run_init(&r, WEB_V1);
	fake_backup_fail(r.e.b, 1);
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_V2, SYNC_OUT_FAILED);
	cr_assert_eq(r.changed, 0);
	cr_assert_eq(fake_marathon_count(r.e.f, "put"), 0, "no PUT after a failed backup");
	expect_stored_cmd(&r, "/web", "v1");
	expect_error(&r, PACER_EIO, "not touched", "No space left");
	cr_assert_str_eq(r.res.error->app_id, "/web");
	run_fini(&r);
}

Test(apply, rejected_put_changes_nothing_and_is_not_rolled_back)
{
	struct run r;

	run_init(&r, WEB_V1);
	run_apply(&r, PACER_ACT_UPDATE, "/web",
		  "{\"id\":\"/web\",\"cmd\":\"v2\",\"labels\":{\"fake\":\"reject\"}}",
		  SYNC_OUT_FAILED);
	cr_assert_eq(r.changed, 0);
	cr_assert_eq(fake_marathon_count(r.e.f, "put"), 1);
	cr_assert_eq(fake_marathon_count(r.e.f, "delete_deployment"), 0);
	expect_error(&r, PACER_EINVALID, "nothing was changed", "Object is not valid");
	run_fini(&r);
}

Test(apply, timeout_rolls_back_through_marathon)
{
	struct run r;
	struct json_object *stored;

	run_init(&r, WEB_V1);
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_BAD, SYNC_OUT_ROLLED_BACK);
	cr_assert_eq(r.changed, 1);
	/* the failed deployment is cancelled without force */
	expect_order(&r, "put /web force", "delete_deployment dep-1");
	stored = fake_marathon_app(r.e.f, "/web");
	cr_assert(cmd_of(stored, "v1") && !*fake_marathon_label(stored),
		  "previous version restored");
	json_object_put(stored);
	expect_error(&r, PACER_ETIMEOUT, NULL, NULL);
	cr_assert_eq(r.e.nevents[SYNC_EV_ROLLBACK], 1);
	run_fini(&r);
}

Test(apply, rollback_falls_back_to_the_backup)
{
	struct run r;
	struct json_object *stored;

	run_init(&r, WEB_V1);
	fake_marathon_fail(r.e.f, "delete_deployment", PACER_EHTTP, 1);
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_BAD, SYNC_OUT_ROLLED_BACK);
	cr_assert_eq(fake_marathon_count(r.e.f, "put /web force"), 2, "re-applied the backup");
	stored = fake_marathon_app(r.e.f, "/web");
	cr_assert(cmd_of(stored, "v1"));
	cr_assert_not(json_object_object_get_ex(stored, "tasksRunning", NULL),
		      "server fields are stripped from the restored backup");
	cr_assert_not(json_object_object_get_ex(stored, "version", NULL));
	json_object_put(stored);
	run_fini(&r);
}

Test(apply, rollback_that_fails_too_is_reported)
{
	struct run r;
	char *text;

	run_init(&r, "{\"id\":\"/web\",\"cmd\":\"v1\",\"labels\":{\"fake\":\"unhealthy\"}}");
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_BAD, SYNC_OUT_ROLLBACK_FAILED);
	text = error_text(r.res.error);
	cr_assert(strstr(text, "rolling it back failed") && strstr(text, "pacer rollback /web"),
		  "%s", text);
	free(text);
	run_fini(&r);
}

Test(apply, cancelled_deployment_fails_before_the_timeout)
{
	struct run r;

	run_init(&r, WEB_V1);
	r.e.o.timeout_s = 30; /* the test would take 30 s if the cancel were not noticed */
	r.e.o.on_failure = SYNC_ON_FAILURE_NONE;
	run_apply(&r, PACER_ACT_UPDATE, "/web",
		  "{\"id\":\"/web\",\"cmd\":\"v2\",\"labels\":{\"fake\":\"cancel\"}}",
		  SYNC_OUT_FAILED);
	expect_error(&r, PACER_EFAILED, NULL, NULL);
	cr_assert(r.res.seconds < 5.0, "took %.1fs", r.res.seconds);
	run_fini(&r);
}

Test(apply, restart_policy_restarts)
{
	struct run r;

	run_init(&r, WEB_V1);
	r.e.o.on_failure = SYNC_ON_FAILURE_RESTART;
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_BAD, SYNC_OUT_RESTARTED);
	cr_assert_eq(fake_marathon_count(r.e.f, "restart /web force"), 1);
	cr_assert_eq(fake_marathon_count(r.e.f, "delete_deployment"), 0);
	run_fini(&r);
}

Test(apply, none_policy_leaves_it)
{
	struct run r;
	struct json_object *stored;

	run_init(&r, WEB_V1);
	r.e.o.on_failure = SYNC_ON_FAILURE_NONE;
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_BAD, SYNC_OUT_FAILED);
	cr_assert_eq(fake_marathon_count(r.e.f, "restart"), 0);
	cr_assert_eq(fake_marathon_count(r.e.f, "delete_deployment"), 0);
	cr_assert_eq(fake_marathon_count(r.e.f, "put"), 1);
	stored = fake_marathon_app(r.e.f, "/web");
	cr_assert_str_eq(fake_marathon_label(stored), "unhealthy");
	json_object_put(stored);
	run_fini(&r);
}

Test(apply, failed_create_is_removed)
{
	struct run r;
	struct json_object *stored;

	run_init(&r, NULL);
	run_apply(&r, PACER_ACT_CREATE, "/new",
		  "{\"id\":\"/new\",\"cmd\":\"x\",\"labels\":{\"fake\":\"unhealthy\"}}",
		  SYNC_OUT_ROLLED_BACK);
	cr_assert_eq(fake_marathon_count(r.e.f, "delete_app /new force"), 1);
	stored = fake_marathon_app(r.e.f, "/new");
	cr_assert_null(stored, "the created app is gone");
	cr_assert_not(fake_state_owns(r.e.s, "/new"));
	run_fini(&r);
}

Test(apply, prune_backs_up_then_deletes)
{
	struct run r;
	const char *ids[] = {"/old"};

	run_init(&r, "{\"id\":\"/old\",\"cmd\":\"x\"}");
	r.e.s->add_owned(r.e.s, ids, 1, NULL);
	run_apply(&r, PACER_ACT_PRUNE, "/old", NULL, SYNC_OUT_PRUNED);
	expect_order(&r, "backup /old", "delete_app /old force");
	cr_assert_not(fake_state_owns(r.e.s, "/old"));
	run_fini(&r);
}

Test(apply, unreachable_marathon_flags_the_run)
{
	struct run r;

	run_init(&r, WEB_V1);
	fake_marathon_fail(r.e.f, "put_app", PACER_EUNREACHABLE, 1);
	run_apply(&r, PACER_ACT_UPDATE, "/web", WEB_V2, SYNC_OUT_FAILED);
	expect_error(&r, PACER_EUNREACHABLE, NULL, NULL);
	cr_assert_eq(r.e.unreachable, 1);
	run_fini(&r);
}
