/*
 * The live reader (reconcile/live.c): each app of GET /v2/apps is compared
 * with its desired app as it arrives, only apps that differ (and owned
 * prune candidates) are kept, and with a cache an app whose bytes and
 * desired file are as in an earlier run that found them equal is not even
 * parsed. The plan from it must equal the plan from the whole list.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
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

/* desired_load() with the prefetch's visit, under DC/OS's flags (validate once). */
static struct pacer_desired *load_visited(const char *const *files, struct live_prefetch *pf,
					  struct pacer_cache *c)
{
	static const struct appdef_flags dcos = APPDEF_FLAGS_DCOS;
	struct pacer_source *src = fake_source_new(files, NULL);
	struct desired_options o = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = NULL;
	struct pacer_error *err = NULL;

	o.flags = &dcos;
	o.cache = c;
	o.visit = live_prefetch_visit;
	o.visit_ctx = pf;
	cr_assert_eq(desired_load(src, &o, &d, &err), 0, "%s", err ? err->message : "");
	pacer_source_free(src);
	return d;
}

static void expect_same_set(const struct live_set *a, const struct live_set *b)
{
	cr_assert_eq(a->nlive, b->nlive);
	cr_assert_eq(a->nunchanged, b->nunchanged);
	for (size_t i = 0; i < a->nunchanged; i++)
		cr_assert_str_eq(a->unchanged[i], b->unchanged[i]);
	cr_assert_eq(a->nhealth, b->nhealth);
	for (size_t i = 0; i < a->nhealth; i++) {
		cr_assert_str_eq(a->health[i].id, b->health[i].id);
		cr_assert_eq(a->health[i].health, b->health[i].health);
		cr_assert_str_eq(a->health[i].reason, b->health[i].reason);
	}
	cr_assert_eq(json_object_array_length(a->kept), json_object_array_length(b->kept));
	for (size_t i = 0; i < json_object_array_length(a->kept); i++)
		cr_assert_str_eq(kept_id(a, i), kept_id(b, i));
	cr_assert_eq(a->ntracked, b->ntracked);
	for (size_t i = 0; i < a->ntracked; i++)
		cr_assert_str_eq(a->tracked[i], b->tracked[i]);
}

/*
 * A cold run reads the list first and compares each desired app as its
 * file is loaded: an equal app keeps only its file's bytes (its definition
 * is parsed again when asked), and the live set sorted from the prefetched
 * list is the one live_read_tracked() makes, without listing again.
 */
Test(live, a_prefetched_list_compares_each_app_as_its_file_is_loaded)
{
	static const char *const files[] = {
	    "a.json", "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 64}",
	    "b.json", "{\"id\": \"/b\", \"cmd\": \"x\", \"mem\": 64}",
	    "g.json", "{\"id\": \"/g\", \"apps\": [{\"id\": \"x\", \"cmd\": \"x\"}, "
		      "{\"id\": \"y\", \"cmd\": \"x\", \"dependencies\": [\"x\"]}]}",
	    "d.json", "{\"id\": \"/d\", \"cmd\": \"x\", \"dependencies\": [\"/g/x\"]}",
	    NULL};
	const char *live[] = {
	    "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 64, \"version\": \"2026-01-01T00:00:00.000Z\", "
	    "\"tasksRunning\": 1}",
	    "{\"id\": \"/b\", \"cmd\": \"x\", \"mem\": 128}",
	    "{\"id\": \"/g/x\", \"cmd\": \"x\", \"tasksRunning\": 1}",
	    "{\"id\": \"/d\", \"cmd\": \"x\", \"dependencies\": [\"/g/x\"], \"tasksRunning\": 1}",
	    "{\"id\": \"/old\", \"cmd\": \"x\"}",
	    NULL};
	const char *owned[] = {"/a", "/old"};
	struct raw_marathon m = {{0}, live, 0};
	struct plan_options po = PLAN_OPTIONS_INIT, po2;
	struct pacer_desired *d, *d_whole;
	struct live_prefetch *pf = NULL;
	struct pacer_error *err = NULL;
	struct pacer_plan *p1 = NULL, *p2 = NULL;
	struct live_set s, whole;

	m.base.list_apps_raw = raw_list;
	po.owned = owned;
	po.nowned = 2;
	cr_assert_eq(live_prefetch_read(&m.base, &po, &pf, &err), 0);
	d = load_visited(files, pf, NULL);
	cr_assert_eq(d->nerrors, 0);
	cr_assert_null(desired_find(d, "/a")->def, "/a equals its live app: only bytes are kept");
	cr_assert_null(desired_find(d, "/g/x")->def);
	cr_assert_null(desired_find(d, "/d")->def);
	cr_assert_not_null(desired_find(d, "/b")->def, "/b differs: the plan needs it");
	cr_assert_not_null(desired_find(d, "/g/y")->def, "/g/y is not live");
	cr_assert_eq(live_read_prefetched(pf, d, &po, owned, 2, 1000, NULL, &s, &err), 0);
	cr_assert_eq(m.lists, 1, "the list was read once");

	d_whole = fake_desired_load(files, NULL, NULL);
	cr_assert_eq(live_read_tracked(&m.base, d_whole, &po, owned, 2, 1000, NULL, &whole, &err), 0);
	expect_same_set(&s, &whole);
	cr_assert_eq(s.nunchanged, 3);

	po2 = po;
	po2.unchanged = (const char *const *)s.unchanged;
	po2.nunchanged = s.nunchanged;
	cr_assert_eq(plan_build(d, s.kept, &po2, &p1, &err), 0, "%s", err ? err->message : "");
	po2.unchanged = (const char *const *)whole.unchanged;
	cr_assert_eq(plan_build(d_whole, whole.kept, &po2, &p2, &err), 0);
	cr_assert_eq(p1->n, p2->n);
	for (size_t i = 0; i < p1->n; i++) {
		cr_assert_str_eq(p1->items[i].app_id, p2->items[i].app_id);
		cr_assert_eq(p1->items[i].action, p2->items[i].action);
		cr_assert_eq(p1->items[i].nchanges, p2->items[i].nchanges);
		cr_assert_eq(p1->items[i].wave, p2->items[i].wave, "%s", p1->items[i].app_id);
	}

	/* A released definition is parsed again, as it was loaded. */
	{
		struct pacer_desired_app *a = (struct pacer_desired_app *)desired_find(d, "/d");
		struct json_object *deps;

		cr_assert_eq(desired_app_def(a, &err), 0);
		cr_assert(json_object_equal(a->def, desired_find(d_whole, "/d")->def));
		json_object_object_get_ex(a->def, "dependencies", &deps);
		cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(deps, 0)), "/g/x");
	}
	plan_free(p1);
	plan_free(p2);
	live_release(&s);
	live_release(&whole);
	desired_free(d);
	desired_free(d_whole);
	live_prefetch_free(pf);
}

/* App n of the kept-bytes test: an env of `vars` variables of ~100 bytes. */
static char *big_app(int n, int vars)
{
	size_t cap = 200 + (size_t)vars * 120, used;
	char *t = malloc(cap);

	used = (size_t)snprintf(t, cap, "{\"id\": \"/big/a%d\", \"cmd\": \"x\", \"env\": {", n);
	for (int i = 0; i < vars; i++)
		used += (size_t)snprintf(t + used, cap - used, "%s\"V%d\": \"%0100d\"", i ? ", " : "",
		                         i, n);
	snprintf(t + used, cap - used, "}}");
	return t;
}

/*
 * The bytes of released apps are kept in blocks: many files, and one far
 * larger than a block, each found again whole when its definition is
 * parsed again.
 */
Test(live, released_apps_find_their_bytes_again_across_blocks)
{
	enum { NAPPS = 60 };
	const char *files[2 * NAPPS + 1], *live[NAPPS + 1];
	char *texts[NAPPS], names[NAPPS][16];
	struct raw_marathon m = {{0}, live, 0};
	struct plan_options po = PLAN_OPTIONS_INIT;
	struct pacer_desired *d, *whole;
	struct live_prefetch *pf = NULL;
	struct pacer_error *err = NULL;

	for (int i = 0; i < NAPPS; i++) {
		texts[i] = big_app(i, i == 7 ? 3000 : 40); /* app 7: ~330 KB */
		snprintf(names[i], sizeof(names[i]), "a%02d.json", i);
		files[2 * i] = names[i];
		files[2 * i + 1] = live[i] = texts[i];
	}
	files[2 * NAPPS] = live[NAPPS] = NULL;
	m.base.list_apps_raw = raw_list;
	cr_assert_eq(live_prefetch_read(&m.base, &po, &pf, &err), 0);
	d = load_visited(files, pf, NULL);
	whole = fake_desired_load(files, NULL, NULL);
	cr_assert_eq(d->napps, NAPPS);
	for (size_t i = 0; i < d->napps; i++) {
		struct pacer_desired_app *a = &d->apps[i];

		cr_assert_null(a->def, "%s equals its live app: only bytes are kept", a->id);
		cr_assert_eq(desired_app_def(a, &err), 0, "%s", err ? err->message : "");
		cr_assert(json_object_equal(a->def, desired_find(whole, a->id)->def), "%s", a->id);
	}
	desired_free(d);
	desired_free(whole);
	live_prefetch_free(pf);
	for (int i = 0; i < NAPPS; i++)
		free(texts[i]);
}

/* Validate once: the validation's stored form reaches the visit only under
 * the flags the normaliser uses, and is gone after it. */
static int saw_submitted;

static int note_submitted(void *ctx, struct pacer_desired_app *a)
{
	(void)ctx;
	saw_submitted += a->submitted != NULL;
	return 0;
}

Test(live, the_validation_stored_form_is_handed_to_the_visit_under_dcos_flags_only)
{
	static const char *const files[] = {"a.json", "{\"id\": \"/a\", \"cmd\": \"x\"}", NULL};
	static const struct appdef_flags dcos = APPDEF_FLAGS_DCOS;
	struct appdef_flags other = APPDEF_FLAGS_DCOS;
	const struct appdef_flags *flags[] = {&dcos, &other, NULL};
	int expect[] = {1, 0, 0};

	other.mesos_role = "*";
	for (size_t i = 0; i < 3; i++) {
		struct pacer_source *src = fake_source_new(files, NULL);
		struct desired_options o = DESIRED_OPTIONS_INIT;
		struct pacer_desired *d = NULL;
		struct pacer_error *err = NULL;

		o.flags = flags[i];
		o.visit = note_submitted;
		saw_submitted = 0;
		cr_assert_eq(desired_load(src, &o, &d, &err), 0);
		cr_assert_eq(saw_submitted, expect[i], "flags %zu", i);
		cr_assert_null(d->apps[0].submitted);
		cr_assert_not_null(d->apps[0].def, "a visit that returns 0 keeps the definition");
		desired_free(d);
		pacer_source_free(src);
	}
}
