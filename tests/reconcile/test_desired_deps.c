/*
 * Dependency cycles among the desired apps (reconcile/desired_deps.c):
 * found by the loader whatever is live, within a file, across files and
 * groups, through a dependency on a group, and still when the files come
 * from the cache; dependencies on apps that are not desired are fine.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/cache.h"
#include "reconcile/desired.h"
#include "tests/lib/fake_marathon.h"
#include "tests/lib/testlib.h"

/* Load files (name, text, ..., NULL) with desired_add_file + desired_finish. */
static struct pacer_desired *load(const char *const *files)
{
	struct pacer_desired *d = desired_new();

	cr_assert_not_null(d);
	for (size_t i = 0; files[i]; i += 2)
		cr_assert_eq(
		    desired_add_file(d, files[i], files[i + 1], strlen(files[i + 1]), NULL), 0);
	cr_assert_eq(desired_finish(d), 0);
	return d;
}

static void dump(const struct pacer_desired *d)
{
	for (size_t i = 0; i < d->ndiags; i++) {
		char *s = pacer_error_format(d->diags[i].error);

		fprintf(stderr, "  %s %s\n", d->diags[i].is_error ? "ERROR" : "warn ", s);
		free(s);
	}
}

/* The cycle errors (messages naming a cycle), counted; *first is the first one. */
static size_t cycles(const struct pacer_desired *d, const struct pacer_error **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < d->ndiags; i++) {
		if (!strstr(d->diags[i].error->message, "dependency cycle"))
			continue;
		cr_assert(d->diags[i].is_error);
		if (!n++)
			*first = d->diags[i].error;
	}
	return n;
}

static const struct pacer_error *find_error(const struct pacer_desired *d, const char *needle)
{
	for (size_t i = 0; i < d->ndiags; i++)
		if (strstr(d->diags[i].error->message, needle))
			return d->diags[i].error;
	dump(d);
	return NULL;
}

static void expect_cycle(const char *const *files, const char *path, const char *file, int line,
                         int col, const char *app)
{
	struct pacer_desired *d = load(files);
	const struct pacer_error *e;
	size_t n = cycles(d, &e);

	if (n != 1 || !strstr(e->message, path))
		dump(d);
	cr_assert_eq(n, 1, "one cycle, one error");
	cr_assert(strstr(e->message, path), "want \"%s\" in: %s", path, e->message);
	cr_assert_str_eq(e->file, file);
	cr_assert_eq(e->line, line, "%s: line %d", e->message, e->line);
	cr_assert_eq(e->col, col, "%s: col %d", e->message, e->col);
	cr_assert_str_eq(e->app_id, app);
	cr_assert_geq(d->nerrors, 1);
	desired_free(d);
}

Test(deps, an_app_depending_on_itself)
{
	const char *const files[] = {
	    "d.json", "{\"id\": \"/d\", \"cmd\": \"x\",\n \"dependencies\": [\"/d\"]}", NULL};
	const char *const relative[] = {
	    "g.json",
	    "{\"id\": \"/g\", \"apps\": [\n  {\"id\": \"d\", \"dependencies\": [\"d\"]}]}", NULL};
	struct pacer_desired *d = load(files);
	const struct pacer_error *e;

	cr_assert_eq(cycles(d, &e), 1);
	cr_assert(strstr(e->message, "depends on itself (dependency cycle /d -> /d)"), "%s",
	          e->message);
	desired_free(d);
	expect_cycle(relative, "/g/d -> /g/d", "g.json", 2, 3, "/g/d");
}

Test(deps, a_cycle_in_one_file_is_named_at_its_first_app)
{
	const char *const files[] = {"c.json",
	                             "[{\"id\": \"/c\", \"dependencies\": [\"/a\"]},\n"
	                             " {\"id\": \"/b\", \"dependencies\": [\"/c\", \"/ext\"]},\n"
	                             " {\"id\": \"/a\", \"dependencies\": [\"/b\"]}]",
	                             NULL};

	/* The shortest cycle through the first app by id, in dependency order. */
	expect_cycle(files, "dependency cycle: /a -> /b -> /c -> /a", "c.json", 3, 2, "/a");
}

Test(deps, a_cycle_across_files_and_groups_names_every_place)
{
	const char *const files[] = {
	    "front.json",
	    "{\"id\": \"/shop\", \"apps\": [{\"id\": \"web\", \"dependencies\": "
	    "[\"../back/db\"]}]}",
	    "z/back.json",
	    "{\"id\": \"/back\",\n \"groups\": [{\"id\": \"store\", \"apps\": [\n"
	    "   {\"id\": \"cache\", \"dependencies\": [\"/shop/web\"]}]}],\n"
	    " \"apps\": [{\"id\": \"db\", \"dependencies\": [\"store/cache\"]}]}",
	    NULL};
	struct pacer_desired *d = load(files);
	const struct pacer_error *e;

	cr_assert_eq(cycles(d, &e), 1);
	cr_assert(strstr(e->message, "/back/db -> /back/store/cache -> /shop/web -> /back/db"),
	          "%s", e->message);
	cr_assert_str_eq(e->file, "z/back.json");
	cr_assert_eq(e->line, 4);
	/* The other apps' places, in the other file too. */
	cr_assert(strstr(e->message, "/back/store/cache is at z/back.json:3:4"), "%s", e->message);
	cr_assert(strstr(e->message, "/shop/web is at front.json:1:26"), "%s", e->message);
	desired_free(d);
}

Test(deps, a_dependency_on_a_group_means_every_app_in_it)
{
	const char *const self[] = {
	    "g.json", "{\"id\": \"/g\", \"apps\": [{\"id\": \"a\", \"dependencies\": [\"/g\"]}]}",
	    NULL};
	const char *const pair[] = {"g.json",
	                            "{\"id\": \"/g\", \"apps\": [{\"id\": \"a\", \"cmd\": \"x\"},\n"
	                            " {\"id\": \"b\", \"dependencies\": [\"/h\"]}]}",
	                            "h.json", "{\"id\": \"/h/sub/x\", \"dependencies\": [\"/g\"]}",
	                            NULL};

	expect_cycle(self, "/g/a -> group /g -> /g/a", "g.json", 1, 23, "/g/a");
	expect_cycle(pair, "/g/b -> group /h -> /h/sub/x -> group /g -> /g/b", "g.json", 2, 2,
	             "/g/b");
}

Test(deps, no_cycle_no_error)
{
	/* A diamond, a chain, dependencies on live-only apps, on a group, on "/". */
	const char *const files[] = {
	    "a.json",
	    "[{\"id\": \"/top\", \"dependencies\": [\"/l\", \"/r\", \"/not-desired\"]},\n"
	    " {\"id\": \"/l\", \"dependencies\": [\"/base\"]},\n"
	    " {\"id\": \"/r\", \"dependencies\": [\"/base\", \"/lib\"]},\n"
	    " {\"id\": \"/base\"},\n"
	    " {\"id\": \"/lib/one\"}, {\"id\": \"/lib/two\", \"dependencies\": [\"/lib/one\"]},\n"
	    " {\"id\": \"/ghost\", \"dependencies\": [\"/no/such/group\"]}]",
	    NULL};
	struct pacer_desired *d = load(files);

	if (d->ndiags)
		dump(d);
	cr_assert_eq(d->ndiags, 0);
	cr_assert_eq(d->napps, 7);
	desired_free(d);
}

Test(deps, every_separate_cycle_is_reported_once)
{
	const char *const files[] = {
	    "a.json",
	    "[{\"id\": \"/a1\", \"dependencies\": [\"/a2\"]}, {\"id\": \"/a2\", \"dependencies\": "
	    "[\"/a1\", \"/b1\"]},\n"
	    " {\"id\": \"/b1\", \"dependencies\": [\"/b2\"]}, {\"id\": \"/b2\", \"dependencies\": "
	    "[\"/b1\", \"/b2\"]}]",
	    NULL};
	struct pacer_desired *d = load(files);
	const struct pacer_error *e;

	cr_assert_eq(cycles(d, &e), 2);
	cr_assert_not_null(find_error(d, "dependency cycle: /a1 -> /a2 -> /a1 ("));
	cr_assert_not_null(find_error(d, "dependency cycle: /b1 -> /b2 -> /b1 ("));
	desired_free(d);
}

/* A long chain closed into a ring: no recursion depth, one error naming all. */
Test(deps, ten_thousand_apps_in_a_ring)
{
	enum { N = 10000 };
	struct pacer_desired *d = desired_new();
	const struct pacer_error *e;
	char name[32], text[128];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%05d.json", i);
		snprintf(text, sizeof(text),
		         "{\"id\": \"/r/a%05d\", \"dependencies\": [\"a%05d\"]}", i,
		         i == 0 ? 0 : i - 1);
		if (i == 0) /* a chain first; the ring is closed below */
			snprintf(text, sizeof(text), "{\"id\": \"/r/a00000\"}");
		cr_assert_eq(desired_add_file(d, name, text, strlen(text), NULL), 0);
	}
	cr_assert_eq(desired_finish(d), 0);
	cr_assert_eq(d->ndiags, 0);
	desired_free(d);

	d = desired_new();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%05d.json", i);
		snprintf(text, sizeof(text),
		         "{\"id\": \"/r/a%05d\", \"dependencies\": [\"a%05d\"]}", i,
		         (i + N - 1) % N);
		cr_assert_eq(desired_add_file(d, name, text, strlen(text), NULL), 0);
	}
	cr_assert_eq(desired_finish(d), 0);
	cr_assert_eq(cycles(d, &e), 1);
	cr_assert(strstr(e->message, "/r/a00000 -> /r/a09999 -> /r/a09998"), "%s", e->message);
	/* The middle of a long cycle is elided. */
	cr_assert(strstr(e->message, "/r/a09991 -> ... (9981 more) -> /r/a00009 -> "), "%s",
	          e->message);
	cr_assert(strstr(e->message, "/r/a00001 -> /r/a00000 ("), "%s", e->message);
	desired_free(d);
}

/* ---- through desired_load() and the cache ---- */

/*
 * Each file alone is clean and so is remembered; a cycle through a file
 * served from the cache (not parsed) must still be found, and a file's
 * cached dependencies must be those it holds.
 */
Test(deps, a_cycle_through_cached_files_is_still_found)
{
	const char *const v1[] = {"a.json", "{\"id\": \"/a\", \"dependencies\": [\"/b\", \"x\"]}",
	                          "b.json", "{\"id\": \"/b\", \"cmd\": \"x\"}", NULL};
	const char *const v2[] = {
	    "a.json", "{\"id\": \"/a\", \"dependencies\": [\"/b\", \"x\"]}",
	    "b.json", "{\"id\": \"/b\", \"cmd\": \"x\", \"dependencies\": [\"/c\"]}",
	    "c.json", "{\"id\": \"/c\", \"dependencies\": [\"/a\"]}",
	    NULL};
	struct pacer_cache *c = cache_new();
	struct pacer_desired *d;
	const struct pacer_error *e;

	d = fake_desired_load(v1, c, NULL);
	cr_assert_eq(d->ndiags, 0);
	cr_assert_eq(cache_count(c), 2);
	desired_free(d);

	d = fake_desired_load(v2, c, NULL);
	cr_assert_null(desired_find(d, "/a")->def, "a.json came from the cache");
	cr_assert_eq(cycles(d, &e), 1);
	cr_assert(strstr(e->message, "/a -> /b -> /c -> /a"), "%s", e->message);
	cr_assert_str_eq(e->file, "a.json");
	desired_free(d);

	/* Now every file comes from the cache: the cycle is found again. */
	d = fake_desired_load(v2, c, NULL);
	cr_assert_null(desired_find(d, "/c")->def);
	cr_assert_eq(cycles(d, &e), 1);
	desired_free(d);
	cache_free(c);
}
