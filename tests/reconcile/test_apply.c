/*
 * Unit tests of one app's apply (reconcile/apply.c), its failure policies
 * (reconcile/rollback.c) and the shared waiter (reconcile/wait.c), against
 * the in-memory fake Marathon of tests/lib/fake_marathon.c. Plan items are
 * built by hand so these tests do not depend on the planner.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/apply.h"
#include "reconcile/log.h"
#include "reconcile/rollback.h"
#include "reconcile/wait.h"
#include "tests/lib/fake_marathon.h"

struct env {
	struct fake_marathon *f;
	struct pacer_marathon *m;
	struct pacer_backup_store *b;
	struct pacer_state_store *s;
	struct waiter *w;
	struct sync_options o;
	struct apply_ctx c;
	volatile sig_atomic_t unreachable;
	int nevents[5];
	pthread_mutex_t evmu;
};

static void on_event(void *ctx, const struct sync_event *ev)
{
	struct env *e = ctx;

	pthread_mutex_lock(&e->evmu);
	e->nevents[ev->kind]++;
	pthread_mutex_unlock(&e->evmu);
}

static void env_init(struct env *e)
{
	static const struct sync_options defaults = SYNC_OPTIONS_INIT;

	memset(e, 0, sizeof(*e));
	pacer_log_set_level(PACER_LOG_WARN);
	e->f = fake_marathon_new();
	e->m = fake_marathon_api(e->f);
	e->b = fake_backup_new(e->f);
	e->s = fake_state_new(e->f);
	e->o = defaults;
	e->o.poll_ms = 10;
	e->o.timeout_s = 1;
	e->o.on_event = on_event;
	e->o.event_ctx = e;
	pthread_mutex_init(&e->evmu, NULL);
	cr_assert_eq(waiter_new(e->m, e->o.poll_ms, &e->w, NULL), 0);
	e->c.m = e->m;
	e->c.backups = e->b;
	e->c.state = e->s;
	e->c.waiter = e->w;
	e->c.opts = &e->o;
	e->c.revision = "abc123";
	e->c.unreachable = &e->unreachable;
}

static void env_fini(struct env *e)
{
	waiter_free(e->w);
	pacer_backup_store_free(e->b);
	pacer_state_store_free(e->s);
	pacer_marathon_free(e->m);
	pthread_mutex_destroy(&e->evmu);
}

/* The live app as GET /v2/apps shows it (server fields included). */
static struct json_object *live_of(struct env *e, const char *id)
{
	struct json_object *apps = NULL, *found = NULL;

	cr_assert_eq(e->m->list_apps(e->m, &apps, NULL), 0);
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i), *v;

		json_object_object_get_ex(a, "id", &v);
		if (!strcmp(json_object_get_string(v), id))
			found = json_object_get(a);
	}
	json_object_put(apps);
	return found;
}

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

static const char *label_of(struct json_object *def)
{
	struct json_object *l, *v;

	if (def && json_object_object_get_ex(def, "labels", &l) &&
	    json_object_object_get_ex(l, "fake", &v))
		return json_object_get_string(v);
	return "";
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

Test(apply, update_backs_up_first_then_puts_with_force)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	struct json_object *stored;
	int changed = -1, backup, put;

	env_init(&e);
	cr_assert_eq(fake_marathon_add_app(e.f, WEB_V1), 0);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_V2, live_of(&e, "/web"));
	/* A "version" in the body would make Marathon roll back instead. */
	json_object_object_add(it.body, "version", json_object_new_string("2020-01-01T00:00:00.000Z"));
	res.app_id = "/web";

	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_UPDATED, "outcome %s", sync_outcome_name(res.outcome));
	cr_assert_null(res.error);
	cr_assert_eq(changed, 1);
	backup = fake_marathon_find(e.f, "backup /web", 0);
	put = fake_marathon_find(e.f, "put /web force", 0);
	cr_assert(backup >= 0 && put > backup, "backup (%d) must come before the PUT (%d)", backup,
		  put);
	cr_assert_not(fake_marathon_saw_version(e.f), "the PUT body carried 'version'");
	cr_assert_eq(fake_backup_count(e.b), 1);
	cr_assert(json_object_equal(fake_backup_get(e.b, 0), it.live),
		  "the backup must be the live definition as GET returned it");
	cr_assert_not_null(res.backup_path);
	cr_assert_not_null(res.deployment_id);
	cr_assert(fake_state_owns(e.s, "/web"), "an applied app is owned");
	stored = fake_marathon_app(e.f, "/web");
	cr_assert(cmd_of(stored, "v2"));
	json_object_put(stored);
	cr_assert_eq(e.nevents[SYNC_EV_BACKUP], 1);
	cr_assert_eq(e.nevents[SYNC_EV_SUBMIT], 1);
	cr_assert_eq(e.nevents[SYNC_EV_DONE], 1);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, create_records_ownership_before_post)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = 0, own, post;

	env_init(&e);
	item_init(&it, PACER_ACT_CREATE, "/api", "{\"id\":\"/api\",\"cmd\":\"x\",\"instances\":1}",
		  NULL);
	res.app_id = "/api";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_CREATED, "outcome %s", sync_outcome_name(res.outcome));
	own = fake_marathon_find(e.f, "own /api", 0);
	post = fake_marathon_find(e.f, "create /api force", 0);
	cr_assert(own >= 0 && post > own, "ownership (%d) must be recorded before the POST (%d)",
		  own, post);
	cr_assert_eq(fake_marathon_count(e.f, "backup"), 0, "nothing to back up for a create");
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, rejected_create_is_not_owned)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = -1;

	env_init(&e);
	item_init(&it, PACER_ACT_CREATE, "/api",
		  "{\"id\":\"/api\",\"cmd\":\"x\",\"labels\":{\"fake\":\"reject\"}}", NULL);
	res.app_id = "/api";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_FAILED);
	cr_assert_eq(changed, 0);
	cr_assert_not(fake_state_owns(e.s, "/api"), "a refused create leaves no ownership");
	cr_assert_eq(fake_marathon_count(e.f, "delete_app"), 0, "nothing to remove");
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, failed_backup_leaves_the_app_untouched)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	struct json_object *stored;
	int changed = -1;
	char *text;

	env_init(&e);
	fake_marathon_add_app(e.f, WEB_V1);
	fake_backup_fail(e.b, 1);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_V2, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_FAILED);
	cr_assert_eq(changed, 0);
	cr_assert_eq(fake_marathon_count(e.f, "put"), 0, "no PUT after a failed backup");
	stored = fake_marathon_app(e.f, "/web");
	cr_assert(cmd_of(stored, "v1"));
	json_object_put(stored);
	cr_assert_not_null(res.error);
	cr_assert_str_eq(res.error->app_id, "/web");
	cr_assert_eq(pacer_error_root_code(res.error), PACER_EIO);
	text = error_text(res.error);
	cr_assert(strstr(text, "not touched") && strstr(text, "No space left"), "%s", text);
	free(text);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, rejected_put_changes_nothing_and_is_not_rolled_back)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = -1;
	char *text;

	env_init(&e);
	fake_marathon_add_app(e.f, WEB_V1);
	item_init(&it, PACER_ACT_UPDATE, "/web",
		  "{\"id\":\"/web\",\"cmd\":\"v2\",\"labels\":{\"fake\":\"reject\"}}",
		  live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_FAILED, "outcome %s", sync_outcome_name(res.outcome));
	cr_assert_eq(changed, 0);
	cr_assert_eq(fake_marathon_count(e.f, "put"), 1);
	cr_assert_eq(fake_marathon_count(e.f, "delete_deployment"), 0);
	cr_assert_eq(pacer_error_root_code(res.error), PACER_EINVALID);
	text = error_text(res.error);
	cr_assert(strstr(text, "nothing was changed") && strstr(text, "Object is not valid"), "%s",
		  text);
	free(text);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, timeout_rolls_back_through_marathon)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	struct json_object *stored;
	int changed = 0, put, del;

	env_init(&e);
	fake_marathon_add_app(e.f, WEB_V1);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_BAD, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_ROLLED_BACK, "outcome %s",
		     sync_outcome_name(res.outcome));
	cr_assert_eq(changed, 1);
	put = fake_marathon_find(e.f, "put /web force", 0);
	del = fake_marathon_find(e.f, "delete_deployment dep-1", 0);
	cr_assert(put >= 0 && del > put, "the failed deployment is cancelled without force");
	stored = fake_marathon_app(e.f, "/web");
	cr_assert(cmd_of(stored, "v1") && !*label_of(stored), "previous version restored");
	json_object_put(stored);
	cr_assert_eq(pacer_error_root_code(res.error), PACER_ETIMEOUT);
	cr_assert_eq(e.nevents[SYNC_EV_ROLLBACK], 1);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, rollback_falls_back_to_the_backup)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	struct json_object *stored;
	int changed = 0;

	env_init(&e);
	fake_marathon_add_app(e.f, WEB_V1);
	fake_marathon_fail(e.f, "delete_deployment", PACER_EHTTP, 1);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_BAD, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_ROLLED_BACK, "outcome %s",
		     sync_outcome_name(res.outcome));
	cr_assert_eq(fake_marathon_count(e.f, "put /web force"), 2, "re-applied the backup");
	stored = fake_marathon_app(e.f, "/web");
	cr_assert(cmd_of(stored, "v1"));
	cr_assert_not(json_object_object_get_ex(stored, "tasksRunning", NULL),
		      "server fields are stripped from the restored backup");
	cr_assert_not(json_object_object_get_ex(stored, "version", NULL));
	json_object_put(stored);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, rollback_that_fails_too_is_reported)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = 0;
	char *text;

	env_init(&e);
	fake_marathon_add_app(e.f,
			      "{\"id\":\"/web\",\"cmd\":\"v1\",\"labels\":{\"fake\":\"unhealthy\"}}");
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_BAD, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_ROLLBACK_FAILED, "outcome %s",
		     sync_outcome_name(res.outcome));
	text = error_text(res.error);
	cr_assert(strstr(text, "rolling it back failed") && strstr(text, "pacer rollback /web"),
		  "%s", text);
	free(text);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, cancelled_deployment_fails_before_the_timeout)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = 0;

	env_init(&e);
	e.o.timeout_s = 30; /* the test would take 30 s if the cancel were not noticed */
	e.o.on_failure = SYNC_ON_FAILURE_NONE;
	fake_marathon_add_app(e.f, WEB_V1);
	item_init(&it, PACER_ACT_UPDATE, "/web",
		  "{\"id\":\"/web\",\"cmd\":\"v2\",\"labels\":{\"fake\":\"cancel\"}}",
		  live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_FAILED);
	cr_assert_eq(pacer_error_root_code(res.error), PACER_EFAILED);
	cr_assert(res.seconds < 5.0, "took %.1fs", res.seconds);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, restart_policy_restarts)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = 0;

	env_init(&e);
	e.o.on_failure = SYNC_ON_FAILURE_RESTART;
	fake_marathon_add_app(e.f, WEB_V1);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_BAD, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_RESTARTED, "outcome %s", sync_outcome_name(res.outcome));
	cr_assert_eq(fake_marathon_count(e.f, "restart /web force"), 1);
	cr_assert_eq(fake_marathon_count(e.f, "delete_deployment"), 0);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, none_policy_leaves_it)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	struct json_object *stored;
	int changed = 0;

	env_init(&e);
	e.o.on_failure = SYNC_ON_FAILURE_NONE;
	fake_marathon_add_app(e.f, WEB_V1);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_BAD, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_FAILED);
	cr_assert_eq(fake_marathon_count(e.f, "restart"), 0);
	cr_assert_eq(fake_marathon_count(e.f, "delete_deployment"), 0);
	cr_assert_eq(fake_marathon_count(e.f, "put"), 1);
	stored = fake_marathon_app(e.f, "/web");
	cr_assert_str_eq(label_of(stored), "unhealthy");
	json_object_put(stored);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, failed_create_is_removed)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	struct json_object *stored;
	int changed = 0;

	env_init(&e);
	item_init(&it, PACER_ACT_CREATE, "/new",
		  "{\"id\":\"/new\",\"cmd\":\"x\",\"labels\":{\"fake\":\"unhealthy\"}}", NULL);
	res.app_id = "/new";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_ROLLED_BACK, "outcome %s",
		     sync_outcome_name(res.outcome));
	cr_assert_eq(fake_marathon_count(e.f, "delete_app /new force"), 1);
	stored = fake_marathon_app(e.f, "/new");
	cr_assert_null(stored, "the created app is gone");
	cr_assert_not(fake_state_owns(e.s, "/new"));
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, prune_backs_up_then_deletes)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	const char *ids[] = {"/old"};
	int b, d;

	env_init(&e);
	fake_marathon_add_app(e.f, "{\"id\":\"/old\",\"cmd\":\"x\"}");
	e.s->add_owned(e.s, ids, 1, NULL);
	item_init(&it, PACER_ACT_PRUNE, "/old", NULL, live_of(&e, "/old"));
	res.app_id = "/old";
	int changed = 0;
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_PRUNED, "outcome %s", sync_outcome_name(res.outcome));
	b = fake_marathon_find(e.f, "backup /old", 0);
	d = fake_marathon_find(e.f, "delete_app /old force", 0);
	cr_assert(b >= 0 && d > b);
	cr_assert_not(fake_state_owns(e.s, "/old"));
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

Test(apply, unreachable_marathon_flags_the_run)
{
	struct env e;
	struct pacer_plan_item it;
	struct sync_app_result res = {0};
	int changed = 0;

	env_init(&e);
	fake_marathon_add_app(e.f, WEB_V1);
	fake_marathon_fail(e.f, "put_app", PACER_EUNREACHABLE, 1);
	item_init(&it, PACER_ACT_UPDATE, "/web", WEB_V2, live_of(&e, "/web"));
	res.app_id = "/web";
	apply_item(&e.c, &it, &res, &changed);

	cr_assert_eq(res.outcome, SYNC_OUT_FAILED);
	cr_assert_eq(pacer_error_root_code(res.error), PACER_EUNREACHABLE);
	cr_assert_eq(e.unreachable, 1);
	res_release(&res);
	item_release(&it);
	env_fini(&e);
}

/* ---- the shared waiter ---- */

struct waiter_job {
	struct env *e;
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
	struct env e;
	struct waiter_job jobs[N];
	pthread_t t[N];
	int polls;

	env_init(&e);
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
	env_fini(&e);
}

Test(waiter, survives_a_few_failed_polls_and_gives_up_after_many)
{
	struct env e;
	struct pacer_deploy_ref ref;
	struct json_object *body = json_tokener_parse("{\"id\":\"/a\",\"instances\":1}");
	struct pacer_error *err = NULL;
	int rc;

	env_init(&e);
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
	env_fini(&e);
}

Test(waiter, strip_server_fields)
{
	struct json_object *live = json_tokener_parse(
		"{\"id\":\"/a\",\"cmd\":\"x\",\"version\":\"v\",\"versionInfo\":{},\"tasksRunning\":1,"
		"\"tasksHealthy\":1,\"tasksStaged\":0,\"tasksUnhealthy\":0,\"deployments\":[],"
		"\"tasks\":[],\"lastTaskFailure\":{},\"tasksStats\":{}}");
	struct json_object *want = json_tokener_parse("{\"id\":\"/a\",\"cmd\":\"x\"}");
	struct json_object *got = rollback_strip_server_fields(live);

	cr_assert(json_object_equal(got, want), "%s", json_object_to_json_string(got));
	json_object_put(live);
	json_object_put(want);
	json_object_put(got);
}
