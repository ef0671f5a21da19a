/*
 * The live reader (reconcile/live.c): each app of GET /v2/apps is compared
 * with its desired app as it arrives, only apps that differ (and owned
 * prune candidates) are kept, and with a cache an app whose bytes and
 * desired file are as in an earlier run that found them equal is not even
 * parsed. The plan from it must equal the plan from the whole list.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/cache.h"
#include "reconcile/desired.h"
#include "reconcile/live.h"
#include "reconcile/plan.h"
#include "tests/lib/fake_marathon.h"

struct raw_marathon {
	struct pacer_marathon base;
	const char *const *apps; /* JSON texts, NULL-terminated */
	int lists;
};

static int raw_list(struct pacer_marathon *m, pacer_marathon_app_cb cb, void *ctx,
		    struct pacer_error **err)
{
	struct raw_marathon *r = (struct raw_marathon *)m;
	int rc;

	(void)err;
	r->lists++;
	for (size_t i = 0; r->apps[i]; i++)
		if ((rc = cb(ctx, r->apps[i], strlen(r->apps[i]))))
			return rc;
	return 0;
}

static const char *kept_id(const struct live_set *s, size_t i)
{
	struct json_object *id;

	json_object_object_get_ex(json_object_array_get_idx(s->kept, i), "id", &id);
	return json_object_get_string(id);
}

Test(live, apps_are_compared_as_they_come_and_known_ones_are_not_parsed)
{
	static const char *const files[] = {
	    "a.json", "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 64}",
	    "b.json", "{\"id\": \"/b\", \"cmd\": \"x\", \"mem\": 64}",
	    NULL};
	const char *live[] = {
	    "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 64, \"version\": \"2026-01-01T00:00:00.000Z\", "
	    "\"tasksRunning\": 1}",
	    "{\"id\": \"/b\", \"cmd\": \"x\", \"mem\": 128, \"version\": \"2026-01-01T00:00:00.000Z\"}",
	    "{\"id\": \"/old\", \"cmd\": \"x\"}",
	    "{\"id\": \"/other\", \"cmd\": \"x\"}",
	    NULL};
	const char *owned[] = {"/a", "/old"};
	struct raw_marathon m = {{0}, live, 0};
	struct plan_options po = PLAN_OPTIONS_INIT;
	struct pacer_cache *c = cache_new();
	struct pacer_desired *d;
	struct pacer_error *err = NULL;
	struct live_set s;

	m.base.list_apps_raw = raw_list;
	po.owned = owned;
	po.nowned = 2;
	d = fake_desired_load(files, c, NULL);
	cr_assert_eq(live_read(&m.base, d, &po, c, &s, &err), 0);
	cr_assert_eq(s.nlive, 4);
	cr_assert_eq(s.nparsed, 4);
	cr_assert_eq(s.nunchanged, 1);
	cr_assert_str_eq(s.unchanged[0], "/a");
	cr_assert_eq(json_object_array_length(s.kept), 2, "/b differs, /old may be pruned");
	cr_assert_str_eq(kept_id(&s, 0), "/b");
	cr_assert_str_eq(kept_id(&s, 1), "/old");
	live_release(&s);
	desired_free(d);
	c = fake_cache_roundtrip(c, "t");

	/* Same files, same bytes: /a is known without parsing it or its file. */
	d = fake_desired_load(files, c, NULL);
	cr_assert_eq(live_read(&m.base, d, &po, c, &s, &err), 0);
	cr_assert_eq(s.nparsed, 3);
	cr_assert_eq(s.nunchanged, 1);
	cr_assert_null(desired_find(d, "/a")->def, "/a's file was never parsed");
	live_release(&s);
	desired_free(d);

	/* Marathon's /a changed (another mem): compared again, and kept. */
	live[0] = "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 96, \"version\": "
		  "\"2026-01-02T00:00:00.000Z\", \"tasksRunning\": 1}";
	d = fake_desired_load(files, c, NULL);
	cr_assert_eq(live_read(&m.base, d, &po, c, &s, &err), 0);
	cr_assert_eq(s.nparsed, 4);
	cr_assert_eq(s.nunchanged, 0);
	cr_assert_str_eq(kept_id(&s, 0), "/a");
	live_release(&s);
	desired_free(d);

	/* And the plan from it matches a plan from the whole list. */
	{
		struct json_object *all = json_object_new_array();
		struct pacer_plan *p1 = NULL, *p2 = NULL;
		struct plan_options po2 = po;

		for (size_t i = 0; live[i]; i++)
			json_object_array_add(all, json_tokener_parse(live[i]));
		d = fake_desired_load(files, c, NULL);
		cr_assert_eq(live_read(&m.base, d, &po, c, &s, &err), 0);
		po2.unchanged = (const char *const *)s.unchanged;
		po2.nunchanged = s.nunchanged;
		cr_assert_eq(plan_build(d, s.kept, &po2, &p1, &err), 0);
		cr_assert_eq(plan_build(d, all, &po, &p2, &err), 0);
		cr_assert_eq(p1->n, p2->n);
		for (size_t i = 0; i < p1->n; i++) {
			cr_assert_str_eq(p1->items[i].app_id, p2->items[i].app_id);
			cr_assert_eq(p1->items[i].action, p2->items[i].action);
			cr_assert_eq(p1->items[i].nchanges, p2->items[i].nchanges);
		}
		plan_free(p1);
		plan_free(p2);
		live_release(&s);
		desired_free(d);
		json_object_put(all);
	}
	cache_free(c);
}

/* A backend without list_apps_raw: the whole list, every app compared, no cache. */
Test(live, a_backend_without_raw_listing_is_read_whole)
{
	static const char *const files[] = {
	    "a.json", "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 64}",
	    "b.json", "{\"id\": \"/b\", \"cmd\": \"x\", \"mem\": 64}",
	    NULL};
	struct fake_marathon *f = fake_marathon_new();
	struct pacer_marathon *m = fake_marathon_api(f);
	struct plan_options po = PLAN_OPTIONS_INIT;
	struct pacer_cache *c = cache_new();
	struct pacer_error *err = NULL;
	struct pacer_desired *d;
	struct live_set s;

	cr_assert_null(m->list_apps_raw);
	cr_assert_eq(fake_marathon_add_app(f, "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 64}"), 0);
	cr_assert_eq(fake_marathon_add_app(f, "{\"id\": \"/b\", \"cmd\": \"x\", \"mem\": 32}"), 0);
	d = fake_desired_load(files, c, NULL);
	for (int run = 0; run < 2; run++) {
		cr_assert_eq(live_read(m, d, &po, c, &s, &err), 0, "%s", err ? err->message : "");
		cr_assert_eq(s.nlive, 2);
		cr_assert_eq(s.nparsed, 2, "run %d: without bytes nothing is known from the cache", run);
		cr_assert_eq(s.nunchanged, 1);
		cr_assert_str_eq(s.unchanged[0], "/a");
		cr_assert_eq(json_object_array_length(s.kept), 1);
		live_release(&s);
	}
	desired_free(d);
	cache_free(c);
	pacer_marathon_free(m);
}
