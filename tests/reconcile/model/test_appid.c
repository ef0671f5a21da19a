#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/model/appid.h"

/*
 * Criterion copies parameters into the worker process byte by byte, so the
 * tables hold arrays, not pointers. base "" means NULL; want "" means fail.
 */
struct resolve_case {
	char base[16], id[24], want[24];
};

static const struct resolve_case resolve_cases[] = {
	{"", "web", "/web"},
	{"/", "web", "/web"},
	{"/prod", "web", "/prod/web"},
	{"/prod/", "web/", "/prod/web"},
	{"/prod", "/x", "/x"},
	{"/prod", "./web", "/prod/web"},
	{"/prod/eu", "../web", "/prod/web"},
	{"/prod", "a/../b", "/prod/b"},
	{"", "//a///b//", "/a/b"},
	{"", "/a/./b/.", "/a/b"},
	{"", "/", "/"},
	{"", "", "/"},
	{"/prod", "..", "/"},
	/* climbing above the root is refused, never clamped */
	{"", "/../x", ""},
	{"", "..", ""},
	{"", "a/../../b", ""},
	{"/prod", "../../x", ""},
	{"/prod/..", "../x", ""},
};

ParameterizedTestParameters(appid, resolve)
{
	return cr_make_param_array(struct resolve_case, resolve_cases,
				   sizeof(resolve_cases) / sizeof(resolve_cases[0]));
}

ParameterizedTest(const struct resolve_case *c, appid, resolve)
{
	char *got = appid_resolve(c->base[0] ? c->base : NULL, c->id);

	if (c->want[0])
		cr_assert(got && strcmp(got, c->want) == 0, "resolve(%s, %s) = %s, want %s", c->base, c->id,
			  got ? got : "NULL", c->want);
	else
		cr_assert_null(got, "resolve(%s, %s) = %s, want NULL", c->base, c->id, got);
	free(got);
}

struct check_case {
	char id[24];
	int ok;
	char needle[24]; /* substring of the message when !ok */
};

static const struct check_case check_cases[] = {
	{"/web", 1, ""},
	{"/prod/web-1", 1, ""},
	{"/a.b.c/x9", 1, ""},
	{"/0", 1, ""},
	{"/restarts", 1, ""},
	{"/tasks/web", 1, ""},
	{"/My_App", 0, "uppercase"},
	{"/my_app", 0, "'_'"},
	{"/-web", 0, "'-'"},
	{"/web-", 0, "'-'"},
	{"/a..b", 0, "empty label"},
	{"/.web", 0, "empty label"},
	{"/web.", 0, "empty label"},
	{"/a%2f", 0, "a-z 0-9"},
	{"/a~b", 0, "a-z 0-9"},
	{"/a b", 0, "a-z 0-9"},
	{"/prod/restart", 0, "reserved"},
	{"/tasks", 0, "reserved"},
	{"/x/versions", 0, "reserved"},
	{"/x/..", 0, "reserved"},
	{"/x/.", 0, "reserved"},
	{"/", 0, "at least one"},
	{"", 0, "at least one"},
	{"web", 0, "not absolute"},
	{"/a//b", 0, "empty path element"},
	{"/a/", 0, "empty path element"},
};

ParameterizedTestParameters(appid, check)
{
	return cr_make_param_array(struct check_case, check_cases, sizeof(check_cases) / sizeof(check_cases[0]));
}

ParameterizedTest(const struct check_case *c, appid, check)
{
	struct pacer_error *err = NULL;
	int rc = appid_check(c->id, &err);

	if (c->ok) {
		cr_assert_eq(rc, 0, "'%s' should be valid: %s", c->id, err ? err->message : "");
		cr_assert_null(err);
	} else {
		cr_assert_eq(rc, PACER_EINVALID, "'%s' should be invalid", c->id);
		cr_assert_not_null(err);
		cr_assert(strstr(err->message, c->needle), "message for '%s' lacks '%s': %s", c->id, c->needle,
			  err->message);
		cr_assert(strstr(err->message, c->id), "message does not name the id: %s", err->message);
	}
	pacer_error_free(err);
}

Test(appid, check_without_err_slot)
{
	cr_assert_eq(appid_check("/Bad", NULL), PACER_EINVALID);
	cr_assert_eq(appid_check("/good", NULL), 0);
}

struct mangle_case {
	char id[16], want[24];
};

static const struct mangle_case mangle_cases[] = {
	{"/prod/web", "prod~web"},
	{"/web", "web"},
	{"/a.b/c-d", "a.b~c-d"},
	{"/A", "%41"},
	{"/a%b", "a%25b"},
	{"/a~b", "a%7Eb"},
	{"/..", "%2E."},
	{"/.", "%2E"},
	{"/x/../y", "x~%2E.~y"},
	{"/a b", "a%20b"},
	{"/a\\b", "a%5Cb"},
	{"/a//b", "a~~b"},
	{"/\xc3\xa9", "%C3%A9"},
};

ParameterizedTestParameters(appid, mangle)
{
	return cr_make_param_array(struct mangle_case, mangle_cases, sizeof(mangle_cases) / sizeof(mangle_cases[0]));
}

ParameterizedTest(const struct mangle_case *c, appid, mangle)
{
	char *m = appid_mangle(c->id);
	char *back;

	cr_assert(m && strcmp(m, c->want) == 0, "mangle(%s) = %s, want %s", c->id, m ? m : "NULL", c->want);
	cr_assert_null(strchr(m, '/'));
	cr_assert_neq(m[0], '.');
	cr_assert(strcmp(m, ".") && strcmp(m, ".."));
	back = appid_unmangle(m);
	cr_assert(back && strcmp(back, c->id) == 0, "unmangle(%s) = %s, want %s", m, back ? back : "NULL", c->id);
	free(back);
	free(m);
}

/* Every byte value in every position survives the round trip and stays a safe name. */
Test(appid, mangle_round_trip_all_bytes)
{
	char id[8];
	int c;

	for (c = 1; c < 256; c++) {
		const char *shapes[] = {"/%c", "/a%c", "/%cb/c", "/x/%c%c"};
		size_t s;

		for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			char *m, *back;

			snprintf(id, sizeof(id), shapes[s], c, c);
			m = appid_mangle(id);
			cr_assert_not_null(m);
			cr_assert_null(strchr(m, '/'), "'%s' -> '%s' has a slash", id, m);
			cr_assert_neq(m[0], '.', "'%s' -> '%s' starts with a dot", id, m);
			back = appid_unmangle(m);
			if (c == '/') {
				/* "/" is a separator, and "//" stays as written */
				cr_assert_not_null(back);
			} else {
				cr_assert(back && strcmp(back, id) == 0, "round trip of byte %d shape %zu: %s", c, s,
					  back ? back : "NULL");
			}
			free(back);
			free(m);
		}
	}
}

Test(appid, mangle_has_no_name_for_root)
{
	cr_assert_null(appid_mangle("/"));
	cr_assert_null(appid_mangle(""));
	cr_assert_null(appid_mangle(NULL));
}

/* Names that mangle never writes are refused, so no two names mean one id. */
static const char *const foreign_names[] = {
	"", ".", "..", ".hidden", "a~.b", "a/b", "A", "a%2D", "a%2", "a%zz", "a%2f", "a%2F", "a%00",
	"a%61", "x_2024-01-01_00:00:00.json", "a b", "~%2e",
};
/* Indices into foreign_names: parameters live in another process. */
static size_t foreign_indices[sizeof(foreign_names) / sizeof(foreign_names[0])];

ParameterizedTestParameters(appid, unmangle_refuses_foreign_names)
{
	for (size_t i = 0; i < sizeof(foreign_indices) / sizeof(foreign_indices[0]); i++)
		foreign_indices[i] = i;
	return cr_make_param_array(size_t, foreign_indices,
				   sizeof(foreign_indices) / sizeof(foreign_indices[0]));
}

ParameterizedTest(size_t *i, appid, unmangle_refuses_foreign_names)
{
	char *got = appid_unmangle(foreign_names[*i]);

	cr_assert_null(got, "unmangle('%s') = '%s', want NULL", foreign_names[*i], got);
}

Test(appid, unmangle_valid_names)
{
	char *got = appid_unmangle("prod~web");

	cr_assert_str_eq(got, "/prod/web");
	free(got);
	got = appid_unmangle("%2E.");
	cr_assert_str_eq(got, "/..");
	free(got);
}
