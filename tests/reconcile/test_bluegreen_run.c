/*
 * Unit tests of the blue/green release (reconcile/bluegreen_run.c) against
 * the in-memory fake Marathon: the order of its requests (the new colour
 * grows before the old one shrinks), the backup before anything, the
 * journal entry, a failing step reverted, and a release resumed from its
 * journal entry forward or back.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/apply.h"
#include "reconcile/bluegreen.h"
#include "reconcile/bluegreen_run.h"
#include "reconcile/journal.h"
#include "tests/lib/fake_marathon.h"

#define DEF(cmd, extra)                                                                         \
	"{\"id\":\"/web\",\"cmd\":\"" cmd "\",\"instances\":4,"                                 \
	"\"portDefinitions\":[{\"port\":10080}],"                                                \
	"\"labels\":{\"pacer.strategy\":\"blue-green\",\"HAPROXY_DEPLOYMENT_GROUP\":\"web\","    \
	"\"HAPROXY_DEPLOYMENT_ALT_PORT\":\"10081\",\"pacer.bluegreen.drain-seconds\":\"0\"" extra \
	"}}"

struct bg {
	struct fake_exec e;
	struct pacer_plan_item it;
	struct sync_app_result res;
	int changed;
};

/* The fakes, blue running def v1 (4 instances), journal kept. */
static void bg_init(struct bg *b)
{
	struct json_object *def = json_tokener_parse(DEF("v1", "")), *blue;

	memset(b, 0, sizeof(*b));
	cr_assert_eq(fake_exec_init(&b->e), 0);
	fake_state_enable_docs(b->e.s);
	blue = bluegreen_render(def, "/web", "blue", 4, "2026-12-03T01:00:00.000000");
	cr_assert(blue);
	cr_assert_eq(fake_marathon_add_app(b->e.f, json_object_to_json_string(blue)), 0);
	json_object_put(blue);
	json_object_put(def);
	b->res.app_id = "/web";
}

static void bg_apply(struct bg *b, const char *def, enum sync_outcome want)
{
	b->it.action = PACER_ACT_UPDATE;
	b->it.app_id = "/web";
	b->it.body = json_tokener_parse(def);
	b->it.live = fake_exec_live(&b->e, "/web-blue");
	bluegreen_apply(&b->e.c, &b->it, &b->res, &b->changed);
	cr_assert_eq(b->res.outcome, want, "outcome %s, want %s (%s)\n%s",
		     sync_outcome_name(b->res.outcome), sync_outcome_name(want),
		     b->res.error ? b->res.error->message : "-", fake_marathon_calls(b->e.f));
}

static void bg_fini(struct bg *b)
{
	json_object_put(b->it.body);
	json_object_put(b->it.live);
	free(b->res.backup_path);
	pacer_error_free(b->res.error);
	fake_exec_fini(&b->e);
}

static long instances(struct bg *b, const char *id)
{
	struct json_object *a = fake_marathon_app(b->e.f, id);
	long n = a ? json_object_get_int64(json_object_object_get(a, "instances")) : -1;

	json_object_put(a);
	return n;
}

/* The calls log holds these lines in this order. */
static void expect_calls(struct bg *b, const char *const *lines)
{
	int at = 0;

	for (size_t i = 0; lines[i]; i++) {
		int k = fake_marathon_find(b->e.f, lines[i], at);

		cr_assert_geq(k, 0, "\"%s\" missing (after line %d):\n%s", lines[i], at,
			      fake_marathon_calls(b->e.f));
		at = k + 1;
	}
}

Test(bluegreen_run, release_grows_the_new_colour_before_shrinking_the_old)
{
	static const char *const order[] = {"backup /web-blue",       "own /web-green",
					    "create /web-green force", "put /web-blue force",
					    "put /web-green force",    "put /web-blue force",
					    "backup /web-blue",        "delete_app /web-blue force",
					    "disown /web-blue",        NULL};
	struct bg b;

	bg_init(&b);
	bg_apply(&b, DEF("v2", ""), SYNC_OUT_UPDATED);
	expect_calls(&b, order);
	cr_expect_eq(instances(&b, "/web-green"), 4);
	cr_expect_eq(instances(&b, "/web-blue"), -1, "the old colour is deleted");
	cr_expect_str_eq(b.res.colour, "green");
	cr_expect(b.changed);
	cr_expect_eq(fake_state_ndocs(b.e.s), 0, "the journal entry is cleared");
	/* The first backup is the old colour as it ran: the rollback target. */
	cr_expect_eq(json_object_get_int(json_object_object_get(fake_backup_get(b.e.b, 0),
								"instances")), 4);
	bg_fini(&b);
}

Test(bluegreen_run, step_label_sets_the_steps)
{
	struct bg b;

	bg_init(&b);
	bg_apply(&b, DEF("v2", ",\"pacer.bluegreen.step\":\"1\""), SYNC_OUT_UPDATED);
	/* 4 steps of 1: create + 3 growths of green, 4 shrinks of blue. */
	cr_expect_eq(fake_marathon_count(b.e.f, "put /web-green"), 3);
	cr_expect_eq(fake_marathon_count(b.e.f, "put /web-blue"), 4);
	bg_fini(&b);
}

Test(bluegreen_run, a_failing_step_is_reverted)
{
	struct bg b;

	bg_init(&b);
	bg_apply(&b, DEF("v2", ",\"fake\":\"unhealthy\""), SYNC_OUT_ROLLED_BACK);
	cr_expect_eq(instances(&b, "/web-blue"), 4, "the old colour runs its instances");
	cr_expect_eq(instances(&b, "/web-green"), -1, "the new colour is deleted");
	cr_expect_eq(fake_marathon_count(b.e.f, "put /web-blue"), 1,
		     "the old colour was never shrunk but put back once:\n%s",
		     fake_marathon_calls(b.e.f));
	cr_expect_str_eq(b.res.colour, "blue");
	cr_expect(b.res.error && strstr(b.res.error->message, "reverted"));
	cr_expect_eq(fake_state_ndocs(b.e.s), 0);
	bg_fini(&b);
}

Test(bluegreen_run, a_refused_release_changes_nothing_on_the_old_colour)
{
	struct bg b;

	bg_init(&b);
	bg_apply(&b, DEF("v2", ",\"fake\":\"reject\""), SYNC_OUT_ROLLED_BACK);
	cr_expect_eq(instances(&b, "/web-blue"), 4);
	cr_expect_eq(instances(&b, "/web-green"), -1);
	bg_fini(&b);
}

/* A journal entry as a killed run leaves it after its first step. */
static void killed_after_first_step(struct bg *b, const char *def_v2, struct journal_entry *je)
{
	struct json_object *def = json_tokener_parse(def_v2);
	struct json_object *green = bluegreen_render(def, "/web", "green", 4, "2026-12-03T02:00:00.000000");
	struct json_object *two;

	json_object_object_add(green, "instances", json_object_new_int(2));
	cr_assert_eq(fake_marathon_add_app(b->e.f, json_object_to_json_string(green)), 0);
	json_object_object_add(green, "instances", json_object_new_int(4));
	two = fake_marathon_app(b->e.f, "/web-blue");
	memset(je, 0, sizeof(*je));
	je->app_id = "/web";
	je->action = JOURNAL_BLUEGREEN;
	je->phase = JOURNAL_SUBMITTED;
	je->body = green;
	je->started = (long long)time(NULL);
	je->deadline = je->started + 1;
	je->timeout_s = 1;
	cr_assert_eq(journal_write(b->e.s, je, NULL), 0);
	json_object_put(two);
	json_object_put(def);
}

Test(bluegreen_run, resumed_forward_when_the_new_colour_is_healthy)
{
	struct bg b;
	struct journal_entry je;
	int settled = 0;

	bg_init(&b);
	killed_after_first_step(&b, DEF("v2", ""), &je);
	bluegreen_resume(&b.e.c, &je, &b.res, &settled);
	cr_assert(settled);
	cr_expect_eq(b.res.outcome, SYNC_OUT_UPDATED, "%s", sync_outcome_name(b.res.outcome));
	cr_expect(b.res.resumed);
	cr_expect_eq(instances(&b, "/web-green"), 4);
	cr_expect_eq(instances(&b, "/web-blue"), -1);
	/* Blue shrinks to 2 first: green's 2 are already up. */
	expect_calls(&b, (const char *const[]){"put /web-blue force", "put /web-green force", NULL});
	cr_expect_eq(fake_state_ndocs(b.e.s), 0);
	json_object_put(je.body);
	bg_fini(&b);
}

Test(bluegreen_run, resumed_back_when_the_new_colour_is_not_healthy)
{
	struct bg b;
	struct journal_entry je;
	int settled = 0;

	bg_init(&b);
	killed_after_first_step(&b, DEF("v2", ",\"fake\":\"unhealthy\""), &je);
	bluegreen_resume(&b.e.c, &je, &b.res, &settled);
	cr_assert(settled);
	cr_expect_eq(b.res.outcome, SYNC_OUT_ROLLED_BACK, "%s", sync_outcome_name(b.res.outcome));
	cr_expect_eq(instances(&b, "/web-blue"), 4);
	cr_expect_eq(instances(&b, "/web-green"), -1);
	json_object_put(je.body);
	bg_fini(&b);
}

static const char *cmd_of(struct bg *b, const char *id)
{
	static char out[64];
	struct json_object *a = fake_marathon_app(b->e.f, id);

	snprintf(out, sizeof(out), "%s",
		 a ? json_object_get_string(json_object_object_get(a, "cmd")) : "(none)");
	json_object_put(a);
	return out;
}

Test(bluegreen_run, an_undone_release_goes_back_to_the_previous_colour)
{
	struct pacer_error *e = NULL;
	struct bg b;
	char *dep = NULL;

	bg_init(&b);
	bg_apply(&b, DEF("v2", ""), SYNC_OUT_UPDATED);
	cr_assert_str_eq(cmd_of(&b, "/web-green"), "v2");
	/* --atomic: another app failed; item.live is blue as the plan saw it. */
	cr_assert_eq(apply_undo(&b.e.c, &b.it, NULL, b.it.live, b.res.backup_path, "", &dep, &e),
		     0, "%s", e ? e->message : "-");
	cr_expect_str_eq(cmd_of(&b, "/web-blue"), "v1");
	cr_expect_eq(instances(&b, "/web-blue"), 4);
	cr_expect_eq(instances(&b, "/web-green"), -1);
	cr_expect_eq(fake_state_ndocs(b.e.s), 0);
	free(dep);
	bg_fini(&b);
}

Test(bluegreen_run, an_undone_first_deploy_removes_its_colour)
{
	struct pacer_error *e = NULL;
	struct bg b;
	char *dep = NULL;

	memset(&b, 0, sizeof(b));
	cr_assert_eq(fake_exec_init(&b.e), 0);
	fake_state_enable_docs(b.e.s);
	b.res.app_id = "/web";
	b.it.action = PACER_ACT_CREATE;
	b.it.app_id = "/web";
	b.it.body = json_tokener_parse(DEF("v1", ""));
	bluegreen_apply(&b.e.c, &b.it, &b.res, &b.changed);
	cr_assert_eq(b.res.outcome, SYNC_OUT_CREATED, "%s", sync_outcome_name(b.res.outcome));
	cr_assert_eq(instances(&b, "/web-blue"), 4);
	cr_assert(fake_state_owns(b.e.s, "/web-blue"));
	cr_assert_eq(apply_undo(&b.e.c, &b.it, NULL, NULL, NULL, "", &dep, &e), 0, "%s",
		     e ? e->message : "-");
	cr_expect_eq(instances(&b, "/web-blue"), -1);
	cr_expect_not(fake_state_owns(b.e.s, "/web-blue"));
	cr_expect_eq(fake_state_ndocs(b.e.s), 0);
	free(dep);
	bg_fini(&b);
}

Test(bluegreen_run, unmanaged_instances_keep_the_live_colour_s_count)
{
	struct json_object *def = json_tokener_parse(DEF("v1", ",\"pacer.instances\":\"unmanaged\""));
	struct json_object *blue;
	struct bg b;

	memset(&b, 0, sizeof(b));
	cr_assert_eq(fake_exec_init(&b.e), 0);
	fake_state_enable_docs(b.e.s);
	/* An autoscaler runs blue at 2 where the file says 4. */
	blue = bluegreen_render(def, "/web", "blue", 2, "2026-12-03T01:00:00.000000");
	cr_assert_eq(fake_marathon_add_app(b.e.f, json_object_to_json_string(blue)), 0);
	json_object_put(blue);
	json_object_put(def);
	b.res.app_id = "/web";
	bg_apply(&b, DEF("v2", ",\"pacer.instances\":\"unmanaged\""), SYNC_OUT_UPDATED);
	cr_expect_eq(instances(&b, "/web-green"), 2);
	cr_expect_eq(instances(&b, "/web-blue"), -1);
	bg_fini(&b);
}
