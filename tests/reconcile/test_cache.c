/*
 * The run-to-run cache (reconcile/cache.c) and its two users: the desired
 * state loader (a cached file is not parsed until its definition is asked
 * for) and the live reader (reconcile/live.c: a cached verdict for the same
 * bytes is not parsed at all; anything else is compared as plan_build
 * would).
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

/* ---- the cache itself ---- */

static struct pacer_cache *roundtrip(struct pacer_cache *c, const char *tag)
{
	struct pacer_cache *n = cache_new();
	char *data;
	size_t len;

	cr_assert_eq(cache_dump(c, tag, &data, &len), 0);
	cr_assert_eq(strlen(data), len);
	cr_assert_eq(cache_load(n, tag, data, len), 0);
	free(data);
	cache_free(c);
	return n;
}

Test(cache, put_get_and_a_run_to_run_roundtrip)
{
	struct pacer_cache *c = cache_new();

	cr_assert_null(cache_get(c, "F k1 -"));
	cr_assert_eq(cache_put(c, "F k1 -", "/a 1 1 /b 3 5"), 0);
	cr_assert_eq(cache_put(c, "P k1 /a d1 i0", NULL), 0);
	cr_assert_str_eq(cache_get(c, "F k1 -"), "/a 1 1 /b 3 5");
	cr_assert_str_eq(cache_get(c, "P k1 /a d1 i0"), "");
	cr_assert_eq(cache_put(c, "F k1 -", "/a 1 1"), 0, "replacing an entry");
	cr_assert_str_eq(cache_get(c, "F k1 -"), "/a 1 1");
	cr_assert_eq(cache_count(c), 2);

	c = roundtrip(c, "tag-1");
	cr_assert_eq(cache_count(c), 2);
	cr_assert_str_eq(cache_get(c, "F k1 -"), "/a 1 1");
	cr_assert_str_eq(cache_get(c, "P k1 /a d1 i0"), "");
	cache_free(c);
}

Test(cache, entries_not_used_in_a_run_are_dropped_when_written)
{
	struct pacer_cache *c = cache_new();

	cache_put(c, "old", "1");
	cache_put(c, "kept", "2");
	c = roundtrip(c, "t");
	/* This run looks up only "kept" and adds "new". */
	cr_assert_not_null(cache_get(c, "kept"));
	cache_put(c, "new", "3");
	c = roundtrip(c, "t");
	cr_assert_eq(cache_count(c), 2);
	cr_assert_null(cache_get(c, "old"));
	cr_assert_str_eq(cache_get(c, "kept"), "2");
	cr_assert_str_eq(cache_get(c, "new"), "3");
	cache_free(c);
}

Test(cache, another_program_or_a_torn_file_is_never_trusted)
{
	const char *good = "pacer-cache 1 build-A\nF k -\t/a 1 1\nP k /a d i0\t\n";
	const char *torn = "pacer-cache 1 build-A\nF k -\t/a 1 1\nP k /a d i0";
	const char *junk = "pacer-cache 1 build-A\nno tab here\n\tempty key\nF x -\ta\tb\nok\tv\n";
	struct pacer_cache *c = cache_new();

	cr_assert_eq(cache_load(c, "build-B", good, strlen(good)), 0);
	cr_assert_eq(cache_count(c), 0, "a cache written by another build is ignored");
	cr_assert_eq(cache_load(c, "build-A", "garbage", 7), 0);
	cr_assert_eq(cache_count(c), 0);
	cr_assert_eq(cache_load(c, "build-A", torn, strlen(torn)), 0);
	cr_assert_eq(cache_count(c), 1, "a last line without its newline is dropped");
	cr_assert_null(cache_get(c, "P k /a d i0"));
	cache_free(c);

	c = cache_new();
	cr_assert_eq(cache_load(c, "build-A", junk, strlen(junk)), 0);
	cr_assert_eq(cache_count(c), 1, "only the well-formed line is kept");
	cr_assert_str_eq(cache_get(c, "ok"), "v");
	cache_free(c);
}

Test(cache, refuses_separators_and_grows)
{
	struct pacer_cache *c = cache_new();
	char key[32];

	cr_assert_eq(cache_put(c, "a\tb", "v"), 1);
	cr_assert_eq(cache_put(c, "a", "v\nw"), 1);
	cr_assert_eq(cache_put(c, "", "v"), 1);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		cr_assert_eq(cache_put(c, key, key), 0);
	}
	cr_assert_eq(cache_count(c), 5000);
	for (int i = 0; i < 5000; i += 499) {
		snprintf(key, sizeof(key), "k%d", i);
		cr_assert_str_eq(cache_get(c, key), key);
	}
	cache_free(c);
}

Test(cache, digest_tells_bytes_apart)
{
	char a[33], b[33], c[33];

	cache_digest("{\"id\":\"/a\",\"instances\":1}", 26, a);
	cache_digest("{\"id\":\"/a\",\"instances\":2}", 26, b);
	cache_digest("{\"id\":\"/a\",\"instances\":1}", 26, c);
	cr_assert_eq(strlen(a), 32);
	cr_assert_str_neq(a, b);
	cr_assert_str_eq(a, c);
	cache_digest("x", 1, b);
	cache_digest("y", 1, c);
	cr_assert_str_neq(b, c);
}

/* ---- the desired-state loader ---- */

struct mem_source {
	struct pacer_source base;
	const char *const *files; /* path, content, ..., NULL */
};

static int mem_read(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
		    struct pacer_error **err)
{
	struct mem_source *m = (struct mem_source *)s;

	(void)err;
	for (size_t i = 0; m->files[i]; i += 2) {
		char key[40];
		int rc;

		snprintf(key, sizeof(key), "k");
		cache_digest(m->files[i + 1], strlen(m->files[i + 1]), key + 1);
		if ((rc = cb(ctx, m->files[i], m->files[i + 1], strlen(m->files[i + 1]), key)))
			return rc;
	}
	return 0;
}

static const char *mem_describe(struct pacer_source *s)
{
	(void)s;
	return "memory";
}

static struct pacer_desired *load(const char *const *files, struct pacer_cache *cache,
				  const struct appdef_flags *flags)
{
	struct mem_source src = {{mem_read, mem_describe, NULL, NULL, NULL, NULL}, files};
	struct desired_options o = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = NULL;
	struct pacer_error *err = NULL;

	o.cache = cache;
	o.flags = flags;
	cr_assert_eq(desired_load(&src.base, &o, &d, &err), 0, "%s", err ? err->message : "");
	return d;
}

static const char *const group_files[] = {
    "g.json",
    "{\n  \"id\": \"/shop\",\n  \"apps\": [\n"
    "    {\"id\": \"web\", \"cmd\": \"serve\", \"labels\": {\"pacer.timeout\": \"30\"}},\n"
    "    {\"id\": \"worker\", \"cmd\": \"work\", \"dependencies\": [\"web\"]}\n  ]\n}\n",
    "one.json",
    "{\"id\": \"/solo\", \"cmd\": \"sleep 1\", \"mem\": 64}",
    NULL};

Test(cache, a_cached_file_is_not_parsed_until_asked_and_gives_the_same_apps)
{
	struct appdef_flags dcos = APPDEF_FLAGS_DCOS;
	struct pacer_cache *c = cache_new();
	struct pacer_desired *first, *second;

	first = load(group_files, c, &dcos);
	cr_assert_eq(first->nerrors, 0);
	cr_assert_eq(first->napps, 3);
	cr_assert_eq(cache_count(c), 2, "one entry per clean file");
	c = roundtrip(c, "t");

	second = load(group_files, c, &dcos);
	cr_assert_eq(second->napps, 3);
	cr_assert_eq(second->nfiles, 2);
	for (size_t i = 0; i < 3; i++) {
		struct pacer_desired_app *a = &first->apps[i], *b = &second->apps[i];
		struct pacer_error *err = NULL;

		cr_assert_str_eq(a->id, b->id);
		cr_assert_str_eq(a->file, b->file);
		cr_assert_eq(a->line, b->line);
		cr_assert_eq(a->col, b->col);
		cr_assert_str_eq(a->key, b->key);
		cr_assert_not_null(a->def);
		cr_assert_null(b->def, "%s came from the cache: not parsed yet", b->id);
		cr_assert_eq(desired_app_def(b, &err), 0);
		cr_assert(json_object_equal(a->def, b->def), "%s: %s vs %s", a->id,
			  json_object_to_json_string(a->def), json_object_to_json_string(b->def));
	}
	desired_free(first);
	desired_free(second);
	cache_free(c);
}

Test(cache, files_with_problems_or_other_flags_are_loaded_every_time)
{
	static const char *const files[] = {
	    "warn.json", "{\"id\": \"/w\", \"cmd\": \"x\", \"version\": \"2020-01-01T00:00:00Z\"}",
	    "bad.json", "{\"id\": \"/b\", \"cmd\": \"x\", \"cpus\": \"lots\"}",
	    "ok.json", "{\"id\": \"/ok\", \"cmd\": \"x\"}",
	    NULL};
	struct appdef_flags dcos = APPDEF_FLAGS_DCOS, plain = APPDEF_FLAGS_INIT;
	struct pacer_cache *c = cache_new();
	struct pacer_desired *d;
	size_t ndiags;

	d = load(files, c, &dcos);
	ndiags = d->ndiags;
	cr_assert_geq(d->nerrors, 1);
	cr_assert_gt(ndiags, d->nerrors, "the read-only field gives a warning");
	cr_assert_eq(cache_count(c), 1, "only ok.json is remembered");
	desired_free(d);

	d = load(files, c, &dcos);
	cr_assert_eq(d->ndiags, ndiags, "every problem is reported again");
	cr_assert_null(desired_find(d, "/ok")->def, "ok.json comes from the cache");
	cr_assert_not_null(desired_find(d, "/w")->def);
	desired_free(d);

	d = load(files, c, &plain);
	cr_assert_not_null(desired_find(d, "/ok")->def, "other flags: validated again");
	desired_free(d);
	cache_free(c);
}

/* ---- the live reader ---- */

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

Test(cache, live_apps_are_compared_as_they_come_and_known_ones_are_not_parsed)
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
	d = load(files, c, NULL);
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
	c = roundtrip(c, "t");

	/* Same files, same bytes: /a is known without parsing it or its file. */
	d = load(files, c, NULL);
	cr_assert_eq(live_read(&m.base, d, &po, c, &s, &err), 0);
	cr_assert_eq(s.nparsed, 3);
	cr_assert_eq(s.nunchanged, 1);
	cr_assert_null(desired_find(d, "/a")->def, "/a's file was never parsed");
	live_release(&s);
	desired_free(d);

	/* Marathon's /a changed (another mem): compared again, and kept. */
	live[0] = "{\"id\": \"/a\", \"cmd\": \"x\", \"mem\": 96, \"version\": "
		  "\"2026-01-02T00:00:00.000Z\", \"tasksRunning\": 1}";
	d = load(files, c, NULL);
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
		d = load(files, c, NULL);
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
