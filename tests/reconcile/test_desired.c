/*
 * Desired-state loading: shapes of files, group flattening, every kind of
 * diagnostic with its position, and the shared corpus (invalid/, templated/
 * and realworld/ with VERDICTS.tsv).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/json_pos.h"
#include "reconcile/desired.h"
#include "tests/lib/testlib.h"

static struct pacer_desired *load_one(const char *path, const char *text)
{
	struct pacer_desired *d = desired_new();

	cr_assert_not_null(d);
	cr_assert_eq(desired_add_file(d, path, text, strlen(text), NULL), 0);
	cr_assert_eq(desired_finish(d), 0);
	return d;
}

/* The first diagnostic whose message contains `needle`, or NULL. */
static const struct pacer_diag *find_diag(const struct pacer_desired *d, const char *needle)
{
	for (size_t i = 0; i < d->ndiags; i++)
		if (strstr(d->diags[i].error->message, needle))
			return &d->diags[i];
	return NULL;
}

static void dump(const struct pacer_desired *d)
{
	for (size_t i = 0; i < d->ndiags; i++) {
		char *s = pacer_error_format(d->diags[i].error);

		fprintf(stderr, "  %s %s\n", d->diags[i].is_error ? "ERROR" : "warn ", s);
		free(s);
	}
}

static void assert_diag(const struct pacer_desired *d, const char *needle, int is_error, int line,
                        int col, const char *app)
{
	const struct pacer_diag *g = find_diag(d, needle);

	if (!g)
		dump(d);
	cr_assert_not_null(g, "no diagnostic containing \"%s\"", needle);
	cr_assert_eq(g->is_error, is_error, "\"%s\": is_error %d", needle, g->is_error);
	cr_assert_eq(g->error->line, line, "\"%s\": line %d, want %d", needle, g->error->line,
	             line);
	cr_assert_eq(g->error->col, col, "\"%s\": col %d, want %d", needle, g->error->col, col);
	if (app)
		cr_assert_str_eq(g->error->app_id, app);
	else
		cr_assert_null(g->error->app_id);
}

static const char *str_at(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

Test(desired, single_app_relative_id_is_made_absolute)
{
	struct pacer_desired *d =
	    load_one("web.json", "\n  {\"id\": \"web\", \"cmd\": \"sleep 1\"}");

	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->ndiags, 0);
	cr_assert_eq(d->napps, 1);
	cr_assert_eq(d->nfiles, 1);
	cr_assert_str_eq(d->apps[0].id, "/web");
	cr_assert_str_eq(str_at(d->apps[0].def, "id"), "/web");
	cr_assert_str_eq(d->apps[0].file, "web.json");
	cr_assert_eq(d->apps[0].line, 2);
	cr_assert_eq(d->apps[0].col, 3);
	desired_free(d);
}

Test(desired, app_wrapper_array_and_positions)
{
	struct pacer_desired *d =
	    load_one("a.json", "{\"app\": {\"id\": \"/x\", \"instances\": 2}}");

	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->napps, 1);
	cr_assert_str_eq(d->apps[0].id, "/x");
	cr_assert_eq(d->apps[0].col, 9);
	desired_free(d);

	d = load_one("list.json", "[\n {\"id\": \"/b\"},\n\n   {\"id\": \"a\"}\n]\n");
	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->napps, 2);
	/* Sorted by id. */
	cr_assert_str_eq(d->apps[0].id, "/a");
	cr_assert_eq(d->apps[0].line, 4);
	cr_assert_eq(d->apps[0].col, 4);
	cr_assert_str_eq(d->apps[1].id, "/b");
	cr_assert_eq(d->apps[1].line, 2);
	cr_assert_eq(d->apps[1].col, 2);
	cr_assert_not_null(desired_find(d, "/a"));
	cr_assert_null(desired_find(d, "/c"));
	desired_free(d);
}

Test(desired, groups_are_flattened_with_relative_ids_and_dependencies)
{
	const char *text = "{\"id\": \"/prod\",\n"
	                   " \"apps\": [{\"id\": \"web\", \"dependencies\": [\"db\", "
	                   "\"../shared/cache\", \"/abs\"]},\n"
	                   "          {\"id\": \"/elsewhere/x\", \"dependencies\": [\"y\"]}],\n"
	                   " \"groups\": [{\"id\": \"back\", \"apps\": [{\"id\": \"db\"}],\n"
	                   "              \"groups\": [{\"id\": \"/abs-group\", \"apps\": "
	                   "[{\"id\": \"./q\"}]}]},\n"
	                   "            {\"apps\": [{\"id\": \"same-as-parent\"}]}]}\n";
	struct pacer_desired *d = load_one("g.json", text);
	const struct pacer_desired_app *a;
	struct json_object *deps;

	if (d->nerrors)
		dump(d);
	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->napps, 5);
	cr_assert_not_null(desired_find(d, "/prod/back/db"));
	cr_assert_not_null(desired_find(d, "/abs-group/q"));
	cr_assert_not_null(desired_find(d, "/prod/same-as-parent"));
	a = desired_find(d, "/elsewhere/x");
	cr_assert_not_null(a);
	/* Dependencies resolve against the app's own parent, not the file's group. */
	json_object_object_get_ex(a->def, "dependencies", &deps);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(deps, 0)),
	                 "/elsewhere/y");
	a = desired_find(d, "/prod/web");
	cr_assert_not_null(a);
	cr_assert_eq(a->line, 2);
	cr_assert_eq(a->col, 11);
	cr_assert_str_eq(str_at(a->def, "id"), "/prod/web");
	json_object_object_get_ex(a->def, "dependencies", &deps);
	cr_assert_eq(json_object_array_length(deps), 3);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(deps, 0)), "/prod/db");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(deps, 1)),
	                 "/shared/cache");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(deps, 2)), "/abs");
	a = desired_find(d, "/prod/back/db");
	cr_assert_eq(a->line, 4);
	cr_assert_eq(a->col, 37);
	desired_free(d);
}

Test(desired, group_dependencies_and_pods_warn)
{
	struct pacer_desired *d = load_one(
	    "g.json", "{\"id\": \"/g\", \"dependencies\": [\"/x\"], \"pods\": [{\"id\": \"p\"}],\n"
	              " \"apps\": [{\"id\": \"a\"}]}");

	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->napps, 1);
	assert_diag(d, "does not apply when it flattens", 0, 1, 30, NULL);
	assert_diag(d, "pods", 0, 1, 46, NULL);
	desired_free(d);
}

Test(desired, readonly_fields_are_dropped_with_one_warning)
{
	struct pacer_desired *d = load_one(
	    "ro.json",
	    "{\"id\": \"/ro\", \"cmd\": \"x\",\n \"version\": \"2020-01-01T00:00:00Z\",\n"
	    " \"tasks\": [], \"tasksRunning\": 1, \"deployments\": [], \"storeUrls\": []}");
	struct json_object *def;

	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->ndiags, 1);
	assert_diag(d, "read-only fields version, tasks, tasksRunning, deployments, storeUrls", 0,
	            2, 13, "/ro");
	def = d->apps[0].def;
	cr_assert_not(json_object_object_get_ex(def, "version", NULL));
	cr_assert_not(json_object_object_get_ex(def, "tasks", NULL));
	cr_assert_not(json_object_object_get_ex(def, "storeUrls", NULL));
	cr_assert_str_eq(str_at(def, "cmd"), "x");
	desired_free(d);
}

/* Fields Marathon's reader does not know: a warning each, where the key is, with a hint. */
Test(desired, unknown_fields_warn_where_they_are)
{
	struct pacer_desired *d = load_one(
	    "u.json",
	    "{\"id\": \"/u\", \"cmd\": \"x\",\n"
	    "  \"cpu\": 1,\n"
	    "  \"container\": {\"type\": \"DOCKER\", \"docker\": {\"image\": \"a\", \"forcePull\": true},\n"
	    "                \"env\": {\"A\": \"b\"}},\n"
	    "  \"labels\": {\"cpu\": \"free-form\", \"HAPROXY_GROUP\": \"external\"},\n"
	    "  \"env\": {\"cpu\": \"free-form\", \"DB\": {\"secret\": \"db\", \"sekret\": \"x\"}},\n"
	    "  \"fetch\": [{\"uri\": \"http://x/a\"}, {\"uri\": \"http://x/b\", \"outputFile\": \"b\"}],\n"
	    "  \"volumes\": [],\n"
	    "  \"healthChecks\": [{\"protocol\": \"HTTP\", \"portName\": \"http\"}]}\n");

	cr_assert_eq(d->nerrors, 0, "unknown fields are warnings: the file still applies");
	assert_diag(d, "unknown field \"cpu\": Marathon ignores it silently; did you mean \"cpus\"?",
	            0, 2, 3, "/u");
	assert_diag(d, "unknown field \"container.docker.forcePull\": Marathon ignores it silently; "
	               "did you mean \"container.docker.forcePullImage\"?",
	            0, 3, 60, "/u");
	assert_diag(d, "unknown field \"container.env\": Marathon ignores it silently; \"env\" is a "
	               "field of the app itself",
	            0, 4, 17, "/u");
	assert_diag(d, "unknown field \"env.DB.sekret\"", 0, 6, 54, "/u");
	assert_diag(d, "unknown field \"fetch[1].outputFile\"", 0, 7, 58, "/u");
	assert_diag(d, "unknown field \"volumes\": Marathon ignores it silently; Marathon reads "
	               "\"volumes\" only as container.volumes",
	            0, 8, 3, "/u");
	assert_diag(d, "unknown field \"healthChecks[0].portName\": Marathon ignores it silently",
	            0, 9, 41, "/u");
	/* labels and env are maps of the user's own names. */
	for (size_t i = 0; i < d->ndiags; i++) {
		const char *m = d->diags[i].error->message;

		cr_assert_null(strstr(m, "labels."), "%s", m);
		cr_assert_null(strstr(m, "env.cpu"), "%s", m);
		cr_assert_null(strstr(m, "healthChecks[0].portName\": Marathon ignores it silently;"),
		               "no hint towards readiness checks: %s", m);
	}
	cr_assert_eq(d->ndiags, 7);
	desired_free(d);
}

Test(desired, missing_and_invalid_ids)
{
	struct pacer_desired *d =
	    load_one("ids.json", "[{\"cmd\": \"x\"},\n {\"id\": 7},\n {\"id\": \"/My_App\"},\n"
	                         " {\"id\": \"../../up\"},\n {\"id\": null}]");

	cr_assert_eq(d->napps, 0);
	cr_assert_eq(d->nerrors, 5);
	assert_diag(d, "app has no \"id\"", 1, 1, 2, NULL);
	assert_diag(d, "\"id\" must be a string", 1, 2, 9, NULL);
	/* appid_check's own message, at the id's value. */
	{
		const struct pacer_diag *g = NULL;

		for (size_t i = 0; i < d->ndiags; i++)
			if (d->diags[i].error->line == 3)
				g = &d->diags[i];
		cr_assert_not_null(g);
		cr_assert_eq(g->is_error, 1);
		cr_assert_eq(g->error->col, 9);
		cr_assert_str_eq(g->error->app_id, "/My_App");
	}
	assert_diag(d, "climbs above the root group", 1, 4, 9, NULL);
	desired_free(d);
}

Test(desired, wrong_field_types)
{
	const char *text = "{\"id\": \"/t\",\n"
	                   " \"cpus\": \"2\",\n"
	                   " \"mem\": true,\n"
	                   " \"instances\": -1,\n"
	                   " \"disk\": null,\n"
	                   " \"labels\": {\"ok\": \"1\", \"bad\": true},\n"
	                   " \"env\": {\"A\": \"x\", \"S\": {\"secret\": \"db\"}, \"N\": 5},\n"
	                   " \"healthChecks\": {},\n"
	                   " \"constraints\": \"hostname:UNIQUE\"}";
	struct pacer_desired *d = load_one("t.json", text);

	cr_assert_eq(d->nerrors, 7, "got %zu errors", d->nerrors);
	assert_diag(d, "\"cpus\" must be a number, not a string (\"2\"): write it without quotes",
	            1, 2, 10, "/t");
	assert_diag(d, "\"mem\" must be a number, not a boolean", 1, 3, 9, "/t");
	assert_diag(d, "\"instances\" must be a whole number >= 0, not -1", 1, 4, 15, "/t");
	assert_diag(d, "label \"bad\" must be a string", 1, 6, 31, "/t");
	assert_diag(d, "env \"N\" must be a string or {\"secret\": \"name\"}", 1, 7, 48, "/t");
	assert_diag(d, "\"healthChecks\" must be an array", 1, 8, 18, "/t");
	assert_diag(d, "\"constraints\" must be an array", 1, 9, 17, "/t");
	/* The app is still known (for duplicate detection) even with errors. */
	cr_assert_eq(d->napps, 1);
	desired_free(d);

	d = load_one("i.json", "{\"id\": \"/i\", \"instances\": 1.5, \"dependencies\": [1]}");
	cr_assert_eq(d->nerrors, 2);
	assert_diag(d, "whole number", 1, 1, 27, "/i");
	assert_diag(d, "element 0 is a number", 1, 1, 48, "/i");
	desired_free(d);

	d = load_one("nan.json", "{\"id\": \"/nan\", \"cpus\": NaN, \"mem\": -Infinity}");
	cr_assert_eq(d->nerrors, 2);
	assert_diag(d, "\"cpus\" is NaN, which JSON does not allow", 1, 1, 24, "/nan");
	assert_diag(d, "\"mem\" is -Infinity", 1, 1, 36, "/nan");
	desired_free(d);

	d = load_one("ok.json",
	             "{\"id\": \"/ok\", \"instances\": 0, \"cpus\": 1, \"mem\": 0.5,"
	             " \"env\": {}, \"labels\": {}, \"healthChecks\": [], \"cmd\": null}");
	cr_assert_eq(d->ndiags, 0);
	desired_free(d);
}

Test(desired, unrendered_templates)
{
	struct pacer_desired *d = load_one(
	    "tpl.json",
	    "[{\"id\": \"/${APP}\"},\n"
	    " {\"id\": \"/n\", \"cpus\": \"{{ .cpus }}\"},\n"
	    " {\"id\": \"/tag\", \"container\": {\"docker\": {\"image\": \"repo/x:${TAG}\"}}},\n"
	    " {\"id\": \"/repo\", \"container\": {\"docker\": {\"image\": \"${REGISTRY}/x:1\"}}},\n"
	    " {\"id\": \"/env\", \"env\": {\"A\": \"{{ secret }}\"}, \"cmd\": \"echo ${HOME}\"},\n"
	    " {\"id\": \"/{% if x %}a{% endif %}\"}]");

	cr_assert_eq(d->nerrors, 4, "got %zu errors", d->nerrors);
	assert_diag(d, "unrendered template in \"id\" (\"/${APP}\")", 1, 1, 9, "/${APP}");
	assert_diag(d, "unrendered template in \"cpus\"", 1, 2, 23, "/n");
	assert_diag(d, "placeholder in its tag", 0, 3, 51, "/tag");
	assert_diag(d, "unrendered template in container.docker.image \"${REGISTRY}/x:1\"", 1, 4,
	            52, "/repo");
	assert_diag(d, "env \"A\" holds template syntax", 0, 5, 30, "/env");
	assert_diag(d, "unrendered template in \"id\" (\"/{%", 1, 6, 9, "/{% if x %}a{% endif %}");
	/* ${HOME} in cmd is the shell's business. */
	cr_assert_eq(d->ndiags, 6);
	desired_free(d);

	/* In labels too, "{%" as well as "{{", after other braces; "{x}" is no template. */
	d = load_one("labels.json",
	             "[{\"id\": \"/a\", \"labels\": {\"X\": \"{a} {b{% c %}\"}},\n"
	             " {\"id\": \"/b\", \"labels\": {\"Y\": \"{x} {\"}, \"env\": {\"E\": \"}{\"}}]");
	cr_assert_eq(d->ndiags, 1, "got %zu diagnostics", d->ndiags);
	assert_diag(d, "labels \"X\" holds template syntax", 0, 1, 31, "/a");
	desired_free(d);

	/* A template in a group id reaches the apps' ids. */
	d = load_one("g.json", "{\"id\": \"/${GROUP}/\", \"apps\": [{\"id\": \"back\"}]}");
	cr_assert_eq(d->nerrors, 1);
	assert_diag(d, "unrendered template in \"id\" (\"/${GROUP}/back\")", 1, 1, 38,
	            "/${GROUP}/back");
	desired_free(d);
}

/* Criterion runs each parameter in another process: the parameters are
 * indices into the static tables, never pointers. */
static size_t *case_indices(size_t n)
{
	static size_t v[64];

	for (size_t i = 0; i < n && i < 64; i++)
		v[i] = i;
	return v;
}

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

static const struct malformed_case {
	const char *text, *needle;
	int line, col;
} malformed_cases[] = {
	{"{\"id\": \"/a\", // note\n}", "JSON does not allow comments", 1, 14},
	{"{\"id\": \"/a\" /* x */}", "JSON does not allow comments", 1, 13},
	{"{\"id\": \"/a\",\n \"cmd\": \"x\",\n}", "JSON does not allow trailing commas", 2, 12},
	{"[{\"id\": \"/a\"}, ]", "trailing commas", 1, 14},
	{"{\"id\": \"/a\"\n \"cmd\": \"x\"}", "is a ',' missing", 2, 2},
	{"{\"id\": \"/a\",\n \"cmd\": ", "unexpected end of file", 2, 9},
	{"", "file is empty", 0, 0},
	{" \n\t ", "file is empty", 0, 0},
	{"\"just a string\"", "top level is a string", 1, 1},
	{"  42", "top level is a number", 1, 3},
	{"null", "top level is null", 1, 1},
	{"{\"id\": \"/a\"} {\"id\": \"/b\"}", "malformed JSON", 1, 14},
	{"{\"instances\": {{ n }}}", "unrendered template: \"{{ n }}}\"", 1, 16},
	{"{\"id\": \"/caf\xc3\xa9\", \"x\": \"\xff\"}",
	 "malformed JSON: invalid UTF-8 here; save the file as UTF-8", 1, 23},
	{"{\"id\": 'x'}", "JSON strings and keys take double quotes", 1, 8},
	{"{\"id\": \"/a\", \"cmd\": \"a\tb\"}", "a raw tab inside a string; write it as \\t", 1,
	 23},
	{"{\"id\": \"/a\",\n \"cmd\": \"a\\\"\nb\"}", "a raw line break inside a string", 2,
	 13},
	{"{\"id\": \"/a\"}}", "malformed JSON: unexpected character at \"}\"", 1, 13},
	{"{\"id\": \"/a\", \"x\": True}", "boolean expected at \"True}\"", 1, 19},
};

ParameterizedTestParameters(desired, malformed_json_is_explained)
{
	return cr_make_param_array(size_t, case_indices(NCASES(malformed_cases)),
	                           NCASES(malformed_cases));
}

ParameterizedTest(size_t *i, desired, malformed_json_is_explained)
{
	const struct malformed_case *c = &malformed_cases[*i];
	struct pacer_desired *d = load_one("bad.json", c->text);

	cr_assert_eq(d->nerrors, 1, "case %zu: %zu errors", *i, d->nerrors);
	cr_assert_eq(d->napps, 0, "case %zu", *i);
	assert_diag(d, c->needle, 1, c->line, c->col, NULL);
	cr_assert_str_eq(d->diags[0].error->file, "bad.json");
	desired_free(d);
}

Test(desired, bom_and_crlf)
{
	struct pacer_desired *d =
	    load_one("w.json", "\xEF\xBB\xBF{\r\n  \"id\": \"/w\",\r\n  \"cpus\": \"1\"\r\n}\r\n");

	cr_assert_eq(d->nerrors, 1);
	assert_diag(d, "\"cpus\" must be a number", 1, 3, 11, "/w");
	desired_free(d);
}

Test(desired, duplicates_across_and_within_files_name_both_places)
{
	struct pacer_desired *d = desired_new();
	const char *a = "{\"id\": \"/dup\"}";
	const char *b = "[{\"id\": \"/other\"},\n {\"id\": \"dup\"},\n {\"id\": \"/other\"}]";
	const struct pacer_diag *g;

	cr_assert_eq(desired_add_file(d, "a.json", a, strlen(a), NULL), 0);
	cr_assert_eq(desired_add_file(d, "b/b.json", b, strlen(b), NULL), 0);
	cr_assert_eq(desired_finish(d), 0);
	cr_assert_eq(d->nfiles, 2);
	cr_assert_eq(d->nerrors, 2);
	cr_assert_eq(d->napps, 2);
	g = find_diag(d, "app /dup is defined twice: here and in a.json:1:1");
	cr_assert_not_null(g);
	cr_assert_str_eq(g->error->file, "b/b.json");
	cr_assert_eq(g->error->line, 2);
	cr_assert_eq(g->error->col, 2);
	g = find_diag(d, "app /other is defined twice: here and in b/b.json:1:2");
	cr_assert_not_null(g);
	cr_assert_eq(g->error->line, 3);
	/* The first definition is the one kept. */
	cr_assert_str_eq(desired_find(d, "/dup")->file, "a.json");
	desired_free(d);
}

/* The one parser of "pacer.timeout": what sync would refuse, the loader refuses, where it is. */
static const struct timeout_case {
	const char *value;
	int secs; /* 0: refused */
} timeout_cases[] = {
	{"900", 900},
	{"900s", 900},
	{"1", 1},
	{"604800", 604800},
	{"0900", 900},
	{"ten minutes", 0},
	{"0", 0},
	{"0s", 0},
	{"-5", 0},
	{"", 0},
	{" 90", 0},
	{"+90", 0},
	{"90m", 0},
	{"0x5a", 0},
	{"s", 0},
	{"604801", 0},
	{"99999999999999999999", 0},
	{"9.5", 0},
};

ParameterizedTestParameters(desired, timeout_label_is_checked_as_sync_checks_it)
{
	return cr_make_param_array(size_t, case_indices(NCASES(timeout_cases)),
	                           NCASES(timeout_cases));
}

ParameterizedTest(size_t *i, desired, timeout_label_is_checked_as_sync_checks_it)
{
	const struct timeout_case *c = &timeout_cases[*i];
	char text[256];
	struct pacer_desired *d;
	struct pacer_error *err = NULL;
	int secs = -1;

	snprintf(text, sizeof(text),
	         "{\"id\": \"/t\", \"cmd\": \"x\",\n"
	         " \"labels\": {\"team\": \"a\", \"pacer.timeout\": \"%s\"}}",
	         c->value);
	d = load_one("t.json", text);
	if (c->secs) {
		cr_assert_eq(d->nerrors, 0, "\"%s\" is fine", c->value);
		cr_assert_eq(desired_label_timeout(d->apps[0].def, &secs, &err), 0);
		cr_assert_eq(secs, c->secs, "\"%s\": %d s", c->value, secs);
	} else {
		cr_assert_eq(d->nerrors, 1, "\"%s\" is refused", c->value);
		assert_diag(d, "label \"pacer.timeout\" is", 1, 2, 43, "/t");
		cr_assert(strstr(d->diags[0].error->message, "whole number of seconds"));
		cr_assert_eq(d->napps, 1);
		cr_assert_eq(desired_label_timeout(d->apps[0].def, &secs, &err),
		             PACER_EINVALID);
		cr_assert_eq(secs, 0);
		cr_assert_not_null(err);
		pacer_error_free(err);
	}
	desired_free(d);
}

Test(desired, duplicate_keys_name_both_places)
{
	struct pacer_desired *d =
	    load_one("k.json", "{\"id\": \"/k\", \"cpus\": 1,\n"
	                       " \"env\": {\"A\": \"1\", \"B\": \"2\", \"A\": \"1\"},\n"
	                       " \"cpus\": 2}");

	/* Different values: which one is meant is unknown, an error. */
	assert_diag(d, "key \"cpus\" is written twice in one object, first at k.json:1:14", 1, 3, 2,
	            NULL);
	/* The same value twice loses nothing: a warning. */
	assert_diag(d, "key \"A\" is written twice in one object, first at k.json:2:10", 0, 2, 30,
	            NULL);
	cr_assert_eq(d->nerrors, 1);
	cr_assert_eq(d->ndiags, 2);
	desired_free(d);

	/* Keys are compared as json-c reads them: escapes decoded. */
	d = load_one("e.json", "{\"id\": \"/e\", \"cpus\": 1, \"\\u0063pus\": 2}");
	assert_diag(d, "key \"cpus\" is written twice in one object, first at e.json:1:14", 1, 1,
	            25, NULL);
	desired_free(d);
}

/*
 * Keys written twice are found however the strings before them are
 * written: colons, escaped quotes and escaped backslashes inside strings
 * (the loader counts members outside strings to skip the full scan).
 */
Test(desired, duplicate_keys_after_strings_with_escapes)
{
	static const char *const texts[] = {
	    "{\"id\": \"/s\", \"cmd\": \"a: \\\"b\\\": c\", \"cpus\": 1, \"cpus\": 2}",
	    "{\"id\": \"/s\", \"cmd\": \"x\\\\\", \"cpus\": 1, \"cpus\": 2}",
	    "{\"id\": \"/s\", \"labels\": {\"k\\\\\": \":\", \"k\\\\\": \"::\"}}",
	    NULL};

	for (size_t i = 0; texts[i]; i++) {
		struct pacer_desired *d = load_one("s.json", texts[i]);

		cr_assert_eq(d->nerrors, 1, "%s", texts[i]);
		cr_assert_not_null(find_diag(d, "is written twice in one object"), "%s", texts[i]);
		desired_free(d);
	}
	/* And none where every key is written once. */
	{
		struct pacer_desired *d =
		    load_one("s.json", "{\"id\": \"/s\", \"cmd\": \"a\\\\\\\": b:\", \"cpus\": 1}");

		cr_assert_eq(d->ndiags, 0);
		desired_free(d);
	}
}

/* Column of the first byte c in a one-line ASCII text. */
static int col_of(const char *text, char c)
{
	return (int)(strchr(text, c) - text) + 1;
}

/*
 * The pre-scan reads 64 bytes at a time: a raw tab after an escaped quote
 * or an escaped backslash, and keys written twice after them, are found
 * wherever the escape falls in a block (p spaces move it over two blocks).
 */
Test(desired, raw_tabs_and_duplicates_wherever_escapes_fall)
{
	for (int p = 0; p <= 130; p++) {
		char text[512];
		struct pacer_desired *d;

		/* The string ends in an escaped backslash: its quote closes it. */
		snprintf(text, sizeof(text), "{\"id\": \"/s\", \"cmd\": \"%*s\\\\\", \"cpus\": 1, "
		         "\"args\": [\"a\tb\"]}", p, "");
		d = load_one("t.json", text);
		assert_diag(d, "a raw tab inside a string", 1, 1, col_of(text, '\t'), NULL);
		desired_free(d);
		/* An escaped quote: the colon and the tab after it are inside the string. */
		snprintf(text, sizeof(text), "{\"id\": \"/s\", \"cmd\": \"%*s\\\":\t\", \"cpus\": 1}",
		         p, "");
		d = load_one("t.json", text);
		assert_diag(d, "a raw tab inside a string", 1, 1, col_of(text, '\t'), NULL);
		desired_free(d);
		/* A key twice after a string ending in an escaped backslash. */
		snprintf(text, sizeof(text), "{\"id\": \"/s\", \"cmd\": \"%*s\\\\\", \"cpus\": 1, "
		         "\"cpus\": 2}", p, "");
		d = load_one("t.json", text);
		cr_assert_eq(d->nerrors, 1, "p=%d", p);
		assert_diag(d, "key \"cpus\" is written twice", 1, 1,
		            (int)(strstr(text, "\"cpus\": 2") - text) + 1, NULL);
		desired_free(d);
	}
}

Test(desired, app_and_group_may_not_share_an_id)
{
	struct pacer_desired *d =
	    load_one("x.json", "[{\"id\": \"/a\"}, {\"id\": \"/a-b\"}, {\"id\": \"/a/b/c\"}]");

	cr_assert_eq(d->nerrors, 1);
	assert_diag(d, "app /a has the same id as the group of /a/b/c (x.json:1:32)", 1, 1, 2,
	            "/a");
	desired_free(d);
}

/* ---- desired_load() through a source -------------------------------------------------- */

struct mem_source {
	struct pacer_source base;
	const char *const *names, *const *texts;
	size_t n;
	int fail;
};

static int mem_read(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
                    struct pacer_error **err)
{
	struct mem_source *m = (struct mem_source *)s;

	if (m->fail)
		return pacer_error_set(err, PACER_ENOTFOUND,
		                       "source directory '/nope' does not exist");
	for (size_t i = 0; i < m->n; i++) {
		int rc = cb(ctx, m->names[i], m->texts[i], strlen(m->texts[i]), NULL);

		if (rc)
			return rc;
	}
	return 0;
}

static const char *mem_describe(struct pacer_source *s)
{
	return "memory";
}

static const char *mem_revision(struct pacer_source *s)
{
	return "abc123";
}

Test(desired, load_from_a_source)
{
	const char *names[] = {"a.json", "b.json", "c.json"};
	const char *texts[] = {"{\"id\": \"/a\"}", "{\"id\": \"/b\", \"version\": \"x\"}", "[]"};
	struct mem_source m = {{mem_read, mem_describe, mem_revision, NULL, NULL, NULL, NULL}, names, texts, 3, 0};
	struct pacer_desired *d = NULL;
	struct pacer_error *err = NULL;

	cr_assert_eq(desired_load(&m.base, NULL, &d, &err), 0);
	cr_assert_null(err);
	cr_assert_eq(d->nfiles, 3);
	cr_assert_eq(d->napps, 2);
	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->ndiags, 1);
	cr_assert_str_eq(d->revision, "abc123");
	desired_free(d);

	/* An empty source is not an error: zero apps (sync refuses to prune on it),
	 * and a warning that names the source. */
	m.n = 0;
	cr_assert_eq(desired_load(&m.base, NULL, &d, &err), 0);
	cr_assert_eq(d->napps, 0);
	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->ndiags, 1);
	cr_assert(strstr(d->diags[0].error->message, "no app definitions found in memory"), "%s",
	          d->diags[0].error->message);
	desired_free(d);

	m.fail = 1;
	d = NULL;
	cr_assert_eq(desired_load(&m.base, NULL, &d, &err), PACER_ENOTFOUND);
	cr_assert_null(d);
	cr_assert_not_null(err);
	/* The source's error as it is: the caller (sync) says what it was for, so
	 * a wrap here would print "cannot read the desired state" twice. */
	cr_assert_eq(err->code, PACER_ENOTFOUND);
	cr_assert_null(err->cause, "%s", err->message);
	pacer_error_free(err);
}

/* Ten thousand files: duplicate detection must not be quadratic. */
Test(desired, ten_thousand_files)
{
	struct pacer_desired *d = desired_new();
	char name[64], text[128];

	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "apps/%05d.json", i);
		snprintf(text, sizeof(text), "{\"id\": \"/team-%d/app-%d\", \"cpus\": 0.1}", i % 97,
		         i % 9999);
		cr_assert_eq(desired_add_file(d, name, text, strlen(text), NULL), 0);
	}
	cr_assert_eq(desired_finish(d), 0);
	cr_assert_eq(d->nfiles, 10000);
	/* i = 9999 repeats i = 0's id only if i % 97 matches too: it does not. */
	cr_assert_eq(d->napps, 10000);
	cr_assert_eq(d->nerrors, 0);
	for (size_t i = 1; i < d->napps; i++)
		cr_assert_lt(strcmp(d->apps[i - 1].id, d->apps[i].id), 0);
	desired_free(d);
}

/* ---- json_pos ------------------------------------------------------------------------- */

Test(json_pos, members_elements_and_columns)
{
	const char *t =
	    "{\"a\": [1, {\"x\": \"]}\\\"\"}, [2]],\n \"b\": \"\xc3\xa9\xc3\xa9\", \"a\": 3}";
	size_t len = strlen(t), off, *el, n;
	int line, col;

	cr_assert_eq(json_pos_member(t, len, 0, "b", &off), 0);
	cr_assert_eq(off, 37);
	/* The last duplicate, as json-c keeps it. */
	cr_assert_eq(json_pos_member(t, len, 0, "a", &off), 0);
	cr_assert_eq(t[off], '3');
	json_pos_linecol(t, len, off, &line, &col);
	cr_assert_eq(line, 2);
	cr_assert_eq(col, 18); /* é counts as one column */
	cr_assert_eq(json_pos_member(t, len, 0, "zz", &off), -1);
	cr_assert_eq(json_pos_member(t, len, 0, "a", &off), 0);
	cr_assert_eq(json_pos_elements(t, len, 6, &el, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(t[el[0]], '1');
	cr_assert_eq(t[el[1]], '{');
	cr_assert_eq(t[el[2]], '[');
	free(el);
	cr_assert_eq(json_pos_elements(t, len, 0, &el, &n), -1);
	cr_assert_eq(json_pos_elements("[ ]", 3, 0, &el, &n), 0);
	cr_assert_eq(n, 0);
	free(el);
}

/* ---- the shared corpus ---------------------------------------------------------------- */

static struct pacer_desired *load_path(const char *path, const char *name)
{
	size_t len;
	char *data = test_read_file(path, &len);
	struct pacer_desired *d = desired_new();

	cr_assert_not_null(data, "cannot read %s", path);
	cr_assert_eq(desired_add_file(d, name, data, len, NULL), 0);
	cr_assert_eq(desired_finish(d), 0);
	free(data);
	return d;
}

Test(corpus, invalid_files_give_errors_at_the_right_place)
{
	static const struct {
		const char *file, *needle;
		int line, col;
	} cases[] = {
	    {"074_containersolutions_minimesos_marathon.json", "JSON does not allow comments", 5,
	     1},
	    {"075_smartenergyplatform_device-sim_marathon.json",
	     "JSON does not allow trailing commas", 37, 23},
	    {"076_abhishekray07_test-python-app_marathon.json",
	     "JSON does not allow trailing commas", 7, 8},
	    {"077_devops-mindtree_spinnaker_marathon.json", "is a ',' missing", 5, 13},
	    {"078_cavhack_orbifold_marathon.json", "unexpected end of file", 40, 1},
	};
	char *dir = test_shared_path("corpus/invalid");
	size_t seen = 0;
	DIR *dh;
	struct dirent *de;

	if (!dir) {
		cr_skip_test("../shared/corpus is not there");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = NULL;
		struct pacer_desired *d;

		cr_assert(asprintf(&path, "%s/%s", dir, cases[i].file) > 0);
		d = load_path(path, cases[i].file);
		cr_assert_geq(d->nerrors, 1, "%s", cases[i].file);
		assert_diag(d, cases[i].needle, 1, cases[i].line, cases[i].col, NULL);
		desired_free(d);
		free(path);
	}
	/* Every file there is in the table. */
	dh = opendir(dir);
	cr_assert_not_null(dh);
	while ((de = readdir(dh)))
		seen += strstr(de->d_name, ".json") != NULL;
	closedir(dh);
	cr_assert_eq(seen, sizeof(cases) / sizeof(cases[0]));
	free(dir);
}

Test(corpus, templated_files_give_template_errors)
{
	char *dir = test_shared_path("corpus/templated");
	size_t seen = 0;
	DIR *dh;
	struct dirent *de;

	if (!dir) {
		cr_skip_test("../shared/corpus is not there");
		return;
	}
	dh = opendir(dir);
	cr_assert_not_null(dh);
	while ((de = readdir(dh))) {
		char *path = NULL;
		struct pacer_desired *d;
		const struct pacer_diag *g = NULL;

		if (!strstr(de->d_name, ".json"))
			continue;
		seen++;
		cr_assert(asprintf(&path, "%s/%s", dir, de->d_name) > 0);
		d = load_path(path, de->d_name);
		for (size_t i = 0; i < d->ndiags && !g; i++)
			if (d->diags[i].is_error && strstr(d->diags[i].error->message, "template"))
				g = &d->diags[i];
		if (!g)
			dump(d);
		cr_assert_not_null(g, "%s: no template error", de->d_name);
		cr_assert_gt(g->error->line, 0, "%s", de->d_name);
		cr_assert(strstr(g->error->message, "render the template"), "%s", de->d_name);
		desired_free(d);
		free(path);
	}
	closedir(dh);
	cr_assert_eq(seen, 5);
	free(dir);
}

/*
 * A file full of unknown fields (a fuzzer wrote one with 718 in one app, a
 * generator gone wrong could too): the first DESIRED_UNKNOWN_LISTED are
 * listed with their lines, the rest counted in one warning, and the load
 * does not scan the app's text once per field (it took seconds).
 */
Test(desired, unknown_fields_listed_up_to_a_cap)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct pacer_desired *d;
	size_t listed = 0;
	const struct pacer_diag *more;

	pacer_buf_puts(&b, "{\"id\": \"/many\", \"cmd\": \"x\"");
	for (int i = 0; i < DESIRED_UNKNOWN_LISTED + 20; i++)
		pacer_buf_printf(&b, ",\n  \"extra%d\": %d", i, i);
	pacer_buf_puts(&b, "}\n");
	d = load_one("many.json", pacer_buf_cstr(&b));
	for (size_t i = 0; i < d->ndiags; i++)
		if (strstr(d->diags[i].error->message, "unknown field \"extra"))
			listed++;
	cr_assert_eq(listed, DESIRED_UNKNOWN_LISTED);
	more = find_diag(d, "20 more unknown fields, not listed");
	cr_assert_not_null(more, "the rest are counted");
	cr_assert_eq(more->is_error, 0);
	cr_assert_eq(d->nerrors, 0);
	cr_assert_eq(d->ndiags, DESIRED_UNKNOWN_LISTED + 1);
	desired_free(d);
	pacer_buf_release(&b);
}

/*
 * Every realworld file loads without error and with the app count of
 * VERDICTS.tsv, except the files Marathon rejects under any flags for a
 * reason pacer's own checks cover (a string where a number must be, an
 * invalid id): those must get exactly that error.
 */
/*
 * The unknown-field warnings on the real-world corpus are exactly the fields
 * VERDICTS.tsv notes as ignored by Marathon's reader: none on a field
 * Marathon accepts (no false alarm), none missed.
 */
Test(corpus, realworld_unknown_fields_are_the_ones_marathon_ignores)
{
	static const char *const want[] = {
	    "005_:healthChecks[0].command._comment",
	    "006_:volumes",
	    "007_:volumes",
	    "011_:HAPROXY_GROUP",
	    "017_:container.env*7",
	    "018_:parameters*5",
	    "018_:container.network*2",
	    "032_:healthChecks[0].portName",
	    "037_:volumes",
	    "041_:container.id",
	    "041_:container.instances",
	    "041_:container.cpus",
	    "041_:container.mem",
	    "047_:force",
	    "054_:volumes*2",
	    "061_:container.docker.forcePull",
	    "067_:fetch[1].outputFile",
	};
	char *dir = test_shared_path("corpus/realworld");
	struct dirent **names = NULL;
	size_t seen[sizeof(want) / sizeof(want[0])] = {0};
	int n;

	if (!dir)
		cr_skip_test("../shared/corpus is not there");
	n = scandir(dir, &names, NULL, alphasort);
	cr_assert_gt(n, 0);
	for (int f = 0; f < n; f++) {
		char *path = NULL;
		struct pacer_desired *d;

		if (!strstr(names[f]->d_name, ".json")) {
			free(names[f]);
			continue;
		}
		cr_assert(asprintf(&path, "%s/%s", dir, names[f]->d_name) > 0);
		d = load_path(path, names[f]->d_name);
		for (size_t i = 0; i < d->ndiags; i++) {
			const char *m = d->diags[i].error->message, *q;
			char field[128];
			size_t k, len;

			if (strncmp(m, "unknown field \"", 15))
				continue;
			q = strchr(m + 15, '"');
			len = (size_t)(q - (m + 15));
			snprintf(field, sizeof(field), "%.*s", (int)len, m + 15);
			for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
				if (!strncmp(want[k], names[f]->d_name, 4) &&
				    !strncmp(want[k] + 5, field, len) &&
				    (want[k][5 + len] == '\0' || want[k][5 + len] == '*'))
					break;
			cr_assert_lt(k, sizeof(want) / sizeof(want[0]),
			             "%s: a false warning: %s", names[f]->d_name, m);
			seen[k]++;
		}
		desired_free(d);
		free(path);
		free(names[f]);
	}
	free(names);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		const char *star = strchr(want[k], '*');

		cr_expect_eq(seen[k], star ? strtoul(star + 1, NULL, 10) : 1, "%s: seen %zu times",
		             want[k], seen[k]);
	}
	free(dir);
}

/* One row of corpus/VERDICTS.tsv: a realworld file and Marathon's verdicts on it. */
struct verdict {
	char file[256];
	char verdict[32]; /* under Marathon's default flags */
	char dcos[32];    /* under DC/OS's flags: the last column */
	long napps;
	char *path; /* the file in corpus/realworld */
};

/*
 * Calls fn for each file VERDICTS.tsv lists and returns how many there were,
 * or -1 when ../shared/corpus is not there.
 */
static long each_verdict(void (*fn)(const struct verdict *v, void *ctx), void *ctx)
{
	char *dir = test_shared_path("corpus/realworld");
	char *verdicts_path = test_shared_path("corpus/VERDICTS.tsv");
	char *verdicts, *line, *save = NULL;
	long files = 0;

	if (!dir || !verdicts_path) {
		free(dir);
		free(verdicts_path);
		return -1;
	}
	verdicts = test_read_file(verdicts_path, NULL);
	cr_assert_not_null(verdicts);
	for (line = strtok_r(verdicts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct verdict v = {.path = NULL};
		const char *last;

		if (sscanf(line, "%255[^\t]\t%31[^\t]\t%ld", v.file, v.verdict, &v.napps) != 3 ||
		    !strstr(v.file, ".json"))
			continue; /* the header */
		last = strrchr(line, '\t');
		snprintf(v.dcos, sizeof(v.dcos), "%s", last ? last + 1 : "");
		cr_assert(asprintf(&v.path, "%s/%s", dir, v.file) > 0);
		fn(&v, ctx);
		free(v.path);
		files++;
	}
	free(verdicts);
	free(verdicts_path);
	free(dir);
	return files;
}

static void check_loads(const struct verdict *v, void *ctx)
{
	static const struct {
		const char *prefix, *needle;
	} expected_errors[] = {
	    {"010_", "\"cpus\" must be a number, not a string"},
	    {"052_", "uppercase"},
	};
	size_t *apps = ctx;
	const char *needle = NULL;
	struct pacer_desired *d;

	for (size_t i = 0; i < sizeof(expected_errors) / sizeof(expected_errors[0]); i++)
		if (!strncmp(v->file, expected_errors[i].prefix, strlen(expected_errors[i].prefix)))
			needle = expected_errors[i].needle;
	d = load_path(v->path, v->file);
	if (needle) {
		/* Only files Marathon refuses whatever its flags may fail here. */
		cr_assert_str_eq(v->verdict, "REJECT", "%s", v->file);
		cr_assert_str_eq(v->dcos, "REJECT", "%s", v->file);
		cr_assert_not_null(find_diag(d, needle), "%s: want \"%s\"", v->file, needle);
		cr_assert(find_diag(d, needle)->is_error);
	} else {
		if (d->nerrors)
			dump(d);
		cr_assert_eq(d->nerrors, 0, "%s: %zu errors", v->file, d->nerrors);
		cr_assert_eq((long)d->napps, v->napps, "%s: %zu apps, VERDICTS says %ld", v->file,
		             d->napps, v->napps);
		for (size_t i = 0; i < d->napps; i++)
			cr_assert_gt(d->apps[i].line, 0);
	}
	*apps += d->napps;
	desired_free(d);
}

Test(corpus, realworld_files_load)
{
	size_t apps = 0;
	long files = each_verdict(check_loads, &apps);

	if (files < 0) {
		cr_skip_test("../shared/corpus is not there");
		return;
	}
	cr_assert_eq(files, 68);
	cr_assert_geq(apps, 1200);
}

/* "pacer validate": with server flags, Marathon's own verdict is added. */
Test(desired, server_flags_add_marathons_verdict)
{
	static const char *text = "[{\"id\": \"/edge\", \"cmd\": \"sleep 1\", "
	                          "\"acceptedResourceRoles\": [\"slave_public\"]},\n"
	                          " {\"id\": \"/plain\", \"cmd\": \"sleep 1\"}]";
	const struct appdef_flags plain = APPDEF_FLAGS_INIT, dcos = APPDEF_FLAGS_DCOS;
	struct desired_options opts = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = desired_new();
	const struct pacer_diag *g;

	/* Without flags only the universal checks run: both apps load. */
	cr_assert_eq(desired_add_file(d, "f.json", text, strlen(text), &opts), 0);
	cr_assert_eq(d->nerrors, 0);
	desired_free(d);

	/* Marathon's default --mesos_role '*' refuses a slave_public-only app. */
	opts.flags = &plain;
	d = desired_new();
	cr_assert_eq(desired_add_file(d, "f.json", text, strlen(text), &opts), 0);
	cr_assert_eq(desired_finish(d), 0);
	if (d->nerrors != 1)
		dump(d);
	cr_assert_eq(d->nerrors, 1);
	g = find_diag(d, "Marathon would reject this app");
	cr_assert_not_null(g);
	cr_assert(strstr(g->error->message, "acceptedResourceRoles"), "%s", g->error->message);
	cr_assert_str_eq(g->error->app_id, "/edge");
	cr_assert_eq(g->error->line, 1);
	cr_assert_eq(g->error->col, 2);
	desired_free(d);

	/* DC/OS flags (--mesos_role slave_public) accept it. */
	opts.flags = &dcos;
	d = desired_new();
	cr_assert_eq(desired_add_file(d, "f.json", text, strlen(text), &opts), 0);
	if (d->nerrors)
		dump(d);
	cr_assert_eq(d->nerrors, 0);
	desired_free(d);
}

/*
 * "pacer validate" over the realworld corpus refuses exactly the files
 * Marathon 1.10 refuses, under its default flags and under DC/OS's.
 */
static void check_verdicts(const struct verdict *v, void *ctx)
{
	const struct appdef_flags plain = APPDEF_FLAGS_INIT, dcos = APPDEF_FLAGS_DCOS;
	size_t len;
	char *data = test_read_file(v->path, &len);

	(void)ctx;
	cr_assert_not_null(data);
	for (int f = 0; f < 2; f++) {
		struct desired_options opts = DESIRED_OPTIONS_INIT;
		struct pacer_desired *d = desired_new();
		const char *want = f ? v->dcos : v->verdict;

		opts.flags = f ? &dcos : &plain;
		cr_assert_eq(desired_add_file(d, v->file, data, len, &opts), 0);
		cr_assert_eq(desired_finish(d), 0);
		cr_assert_str_eq(d->nerrors ? "REJECT" : "ACCEPT", want, "%s with %s flags", v->file,
		                 f ? "DC/OS" : "default");
		desired_free(d);
	}
	free(data);
}

Test(corpus, validate_with_flags_matches_verdicts)
{
	long files = each_verdict(check_verdicts, NULL);

	if (files < 0) {
		cr_skip_test("../shared/corpus is not there");
		return;
	}
	cr_assert_eq(files, 68);
}
