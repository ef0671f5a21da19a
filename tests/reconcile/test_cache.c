/*
 * The run-to-run cache (reconcile/cache.c) and its use by the desired state
 * loader: a cached file is not parsed until its definition is asked for.
 * The live reader's use of it: test_live.c.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/cache.h"
#include "reconcile/desired.h"
#include "tests/lib/fake_marathon.h"

/* ---- the cache itself ---- */

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

	c = fake_cache_roundtrip(c, "tag-1");
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
	c = fake_cache_roundtrip(c, "t");
	/* This run looks up only "kept" and adds "new". */
	cr_assert_not_null(cache_get(c, "kept"));
	cache_put(c, "new", "3");
	c = fake_cache_roundtrip(c, "t");
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

	first = fake_desired_load(group_files, c, &dcos);
	cr_assert_eq(first->nerrors, 0);
	cr_assert_eq(first->napps, 3);
	cr_assert_eq(cache_count(c), 2, "one entry per clean file");
	c = fake_cache_roundtrip(c, "t");

	second = fake_desired_load(group_files, c, &dcos);
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

	d = fake_desired_load(files, c, &dcos);
	ndiags = d->ndiags;
	cr_assert_geq(d->nerrors, 1);
	cr_assert_gt(ndiags, d->nerrors, "the read-only field gives a warning");
	cr_assert_eq(cache_count(c), 1, "only ok.json is remembered");
	desired_free(d);

	d = fake_desired_load(files, c, &dcos);
	cr_assert_eq(d->ndiags, ndiags, "every problem is reported again");
	cr_assert_null(desired_find(d, "/ok")->def, "ok.json comes from the cache");
	cr_assert_not_null(desired_find(d, "/w")->def);
	desired_free(d);

	d = fake_desired_load(files, c, &plain);
	cr_assert_not_null(desired_find(d, "/ok")->def, "other flags: validated again");
	desired_free(d);
	cache_free(c);
}
