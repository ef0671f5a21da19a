/*
 * Unit tests of undoing one app's change (reconcile/rollback.c): Marathon's
 * own rollback of a running deployment, the backup written back when there
 * is nothing to cancel, a created app removed and a pruned one created
 * again, against the in-memory fake Marathon.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/rollback.h"
#include "tests/lib/fake_marathon.h"

#define WEB_V1 "{\"id\":\"/web\",\"cmd\":\"v1\",\"instances\":1}"
#define WEB_BAD                                                                                    \
	"{\"id\":\"/web\",\"cmd\":\"v2\",\"instances\":1,\"labels\":{\"fake\":\"unhealthy\"}}"

/* The stored definition of id runs cmd. */
static void expect_cmd(struct fake_exec *e, const char *id, const char *cmd)
{
	struct json_object *def = fake_marathon_app(e->f, id), *v = NULL;

	cr_assert_not_null(def, "%s is not in Marathon", id);
	json_object_object_get_ex(def, "cmd", &v);
	cr_assert_str_eq(json_object_get_string(v), cmd);
	json_object_put(def);
}

/* Put /web's failing v2 (a deployment that never finishes); its id into dep. */
static struct json_object *start_bad_update(struct fake_exec *e, char *dep, size_t len)
{
	struct json_object *bad = json_tokener_parse(WEB_BAD), *live;
	struct pacer_deploy_ref ref;

	cr_assert_eq(fake_marathon_add_app(e->f, WEB_V1), 0);
	live = fake_exec_live(e, "/web");
	cr_assert_eq(e->m->put_app(e->m, "/web", bad, PACER_MF_FORCE, &ref, NULL), 0);
	strncpy(dep, ref.deployment_id, len - 1);
	json_object_put(bad);
	return live;
}

Test(rollback, strip_server_fields)
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

Test(rollback, update_cancels_the_running_deployment)
{
	struct fake_exec e;
	struct json_object *live;
	char dep[64] = "", *rdep = NULL;

	cr_assert_eq(fake_exec_init(&e), 0);
	live = start_bad_update(&e, dep, sizeof(dep));
	cr_assert_eq(rollback_update(&e.c, "/web", dep, live, 5, &rdep, NULL), 0);
	cr_assert_not_null(rdep, "Marathon's rollback deployment is handed out");
	cr_assert_gt(fake_marathon_count(e.f, "delete_deployment"), 0);
	cr_assert_eq(fake_marathon_count(e.f, "put /web"), 1, "no backup written back");
	expect_cmd(&e, "/web", "v1");
	free(rdep);
	json_object_put(live);
	fake_exec_fini(&e);
}

Test(rollback, update_without_a_deployment_writes_the_backup_back)
{
	struct fake_exec e;
	struct json_object *live, *stored;
	char dep[64] = "", *rdep = NULL;

	cr_assert_eq(fake_exec_init(&e), 0);
	live = start_bad_update(&e, dep, sizeof(dep));
	cr_assert_eq(rollback_update(&e.c, "/web", NULL, live, 5, &rdep, NULL), 0);
	cr_assert_eq(fake_marathon_count(e.f, "delete_deployment"), 0);
	cr_assert_eq(fake_marathon_count(e.f, "put /web"), 2, "the backup is PUT back");
	stored = fake_marathon_app(e.f, "/web");
	cr_assert_not(json_object_object_get_ex(stored, "version", NULL),
	              "server fields are stripped from what is written back");
	json_object_put(stored);
	expect_cmd(&e, "/web", "v1");
	free(rdep);
	json_object_put(live);
	fake_exec_fini(&e);
}

Test(rollback, update_without_a_previous_definition_fails)
{
	struct fake_exec e;
	struct pacer_error *err = NULL;
	char *rdep = NULL;

	cr_assert_eq(fake_exec_init(&e), 0);
	cr_assert_neq(rollback_update(&e.c, "/web", NULL, NULL, 5, &rdep, &err), 0);
	cr_assert_not_null(err);
	cr_assert(strstr(err->message, "no previous definition"), "%s", err->message);
	cr_assert_null(rdep);
	pacer_error_free(err);
	fake_exec_fini(&e);
}

Test(rollback, create_is_removed)
{
	struct fake_exec e;
	struct json_object *body = json_tokener_parse(WEB_V1);
	struct pacer_deploy_ref ref;
	char *rdep = NULL;

	cr_assert_eq(fake_exec_init(&e), 0);
	cr_assert_eq(e.m->create_app(e.m, body, PACER_MF_FORCE, &ref, NULL), 0);
	cr_assert_eq(rollback_create(&e.c, "/web", 5, &rdep, NULL), 0);
	cr_assert_null(fake_marathon_app(e.f, "/web"), "the created app is gone");
	cr_assert_not_null(rdep);
	free(rdep);
	json_object_put(body);
	fake_exec_fini(&e);
}

Test(rollback, create_already_gone_is_done)
{
	struct fake_exec e;
	char *rdep = NULL;

	cr_assert_eq(fake_exec_init(&e), 0);
	cr_assert_eq(rollback_create(&e.c, "/gone", 5, &rdep, NULL), 0);
	cr_assert_null(rdep, "nothing was deployed");
	fake_exec_fini(&e);
}

Test(rollback, prune_creates_the_app_again)
{
	struct fake_exec e;
	struct json_object *live;
	struct pacer_deploy_ref ref;
	char *rdep = NULL;

	cr_assert_eq(fake_exec_init(&e), 0);
	cr_assert_eq(fake_marathon_add_app(e.f, WEB_V1), 0);
	live = fake_exec_live(&e, "/web");
	cr_assert_eq(e.m->delete_app(e.m, "/web", PACER_MF_FORCE, &ref, NULL), 0);
	cr_assert_eq(rollback_prune(&e.c, "/web", live, 5, &rdep, NULL), 0);
	expect_cmd(&e, "/web", "v1");
	free(rdep);
	json_object_put(live);
	fake_exec_fini(&e);
}
