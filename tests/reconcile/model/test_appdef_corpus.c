/*
 * The corpus check: for every real-world file in shared/corpus/realworld,
 * appdef_submit() must give Marathon 1.10's verdict from VERDICTS.tsv, under
 * the default flags and under the DC/OS flags, and every rejection named in
 * the reasons must carry the path Marathon names.
 *
 * Files are flattened as the corpus README says: {"app":{...}} unwrapped,
 * top-level arrays submitted element by element, groups walked with relative
 * ids resolved against the enclosing group. (This is a small helper on
 * purpose: the real loader is reconcile/desired.c.)
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/model/appdef.h"
#include "reconcile/model/appid.h"
#include "tests/lib/testlib.h"

struct app {
	char *id;
	struct json_object *body; /* borrowed from the file's tree */
	int rejected;
	struct json_object *error; /* owned 422 body, or NULL */
};

struct apps {
	struct app *v;
	size_t n, cap;
};

static void add_app(struct apps *a, const char *id, struct json_object *body)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		cr_assert_not_null(a->v);
	}
	a->v[a->n].id = strdup(id);
	a->v[a->n].body = body;
	a->v[a->n].rejected = 0;
	a->v[a->n].error = NULL;
	a->n++;
}

static void flatten(struct apps *a, struct json_object *node, const char *base);

static void flatten_group(struct apps *a, struct json_object *g, const char *base)
{
	struct json_object *idv = NULL, *apps = NULL, *groups = NULL;
	char *gid;
	size_t i;

	json_object_object_get_ex(g, "id", &idv);
	gid = idv ? appid_resolve(base, json_object_get_string(idv)) : strdup(base);
	cr_assert_not_null(gid);
	if (json_object_object_get_ex(g, "apps", &apps) && apps)
		for (i = 0; i < json_object_array_length(apps); i++)
			flatten(a, json_object_array_get_idx(apps, i), gid);
	if (json_object_object_get_ex(g, "groups", &groups) && groups)
		for (i = 0; i < json_object_array_length(groups); i++)
			flatten_group(a, json_object_array_get_idx(groups, i), gid);
	free(gid);
}

static void flatten(struct apps *a, struct json_object *node, const char *base)
{
	struct json_object *v = NULL;
	char *id;
	size_t i;

	if (json_object_is_type(node, json_type_array)) {
		for (i = 0; i < json_object_array_length(node); i++)
			flatten(a, json_object_array_get_idx(node, i), base);
		return;
	}
	cr_assert(json_object_is_type(node, json_type_object));
	if (json_object_object_get_ex(node, "app", &v) && json_object_is_type(v, json_type_object)) {
		flatten(a, v, base);
		return;
	}
	if (json_object_object_get_ex(node, "apps", NULL) || json_object_object_get_ex(node, "groups", NULL)) {
		flatten_group(a, node, base);
		return;
	}
	json_object_object_get_ex(node, "id", &v);
	cr_assert_not_null(v, "app without id");
	id = appid_resolve(base, json_object_get_string(v));
	cr_assert_not_null(id, "cannot resolve %s", json_object_get_string(v));
	add_app(a, id, node);
	free(id);
}

/* Marathon adds "portIndex": 0 when a GET answer is posted back (absent means 0). */
static void drop_port_index_zero(struct json_object *app)
{
	struct json_object *hcs = NULL, *pi = NULL;
	size_t i;

	if (!json_object_object_get_ex(app, "healthChecks", &hcs))
		return;
	for (i = 0; i < json_object_array_length(hcs); i++) {
		struct json_object *hc = json_object_array_get_idx(hcs, i);

		if (json_object_object_get_ex(hc, "portIndex", &pi) && json_object_get_int(pi) == 0)
			json_object_object_del(hc, "portIndex");
	}
}

/*
 * What appdef_submit() stores must be accepted again and come back the same:
 * marathon-sim re-validates stored apps and pacer's normaliser runs its own
 * output through it.
 */
static void expect_stable(const char *file, const char *id, struct json_object *out, const struct appdef_flags *flags)
{
	struct json_object *again = NULL, *err = NULL, *first = NULL;
	int rc = appdef_submit(out, NULL, flags, &again, &err);

	cr_expect_eq(rc, 0, "%s: %s: own output rejected: %s", file, id,
		     json_object_to_json_string_ext(err, JSON_C_TO_STRING_PLAIN));
	if (rc == 0) {
		cr_assert_eq(json_object_deep_copy(out, &first, NULL), 0);
		drop_port_index_zero(first);
		drop_port_index_zero(again);
		cr_expect(json_object_equal(first, again), "%s: %s: not stable:\n 1st %s\n 2nd %s", file, id,
			  json_object_to_json_string_ext(first, JSON_C_TO_STRING_PLAIN),
			  json_object_to_json_string_ext(again, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(first);
	json_object_put(again);
	json_object_put(err);
}

static struct app *find_app(struct apps *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, id) == 0)
			return &a->v[i];
	return NULL;
}

static int error_has_path(struct json_object *body, const char *path)
{
	struct json_object *details = NULL;
	size_t i;

	if (!json_object_object_get_ex(body, "details", &details) || !json_object_is_type(details, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(details); i++) {
		struct json_object *p = NULL;

		if (json_object_object_get_ex(json_object_array_get_idx(details, i), "path", &p) &&
		    strcmp(json_object_get_string(p), path) == 0)
			return 1;
	}
	return 0;
}

/*
 * Check each reason of VERDICTS against the rejections. A reason looks like
 * "[/app/id] /path: 422 ... [default flags]"; the app prefix is absent for
 * single-app files, and "[default flags]" marks reasons only the default
 * flags produce. Returns how many reasons applied.
 */
static int check_reasons(const char *file, const char *reasons, struct apps *a, int dcos, char **want_rejected)
{
	const char *p = reasons;
	const char *starts[64];
	size_t nr = 0, i;
	int applied = 0;

	/* Each reason's path token is the word before ": 422". */
	while ((p = strstr(p, ": 422"))) {
		const char *s = p;

		while (s > reasons && s[-1] != ' ')
			s--;
		if (s >= reasons + 2 && s[-2] == ']') {
			const char *b = s - 2;

			while (b > reasons && *b != '[')
				b--;
			s = b;
		}
		cr_assert(nr < 64);
		starts[nr++] = s;
		p += 5;
	}
	cr_assert(nr > 0, "%s: no reasons parsed", file);
	for (i = 0; i < nr; i++) {
		const char *end = i + 1 < nr ? starts[i + 1] : reasons + strlen(reasons);
		char *seg = strndup(starts[i], (size_t)(end - starts[i]));
		char id[256] = "", path[256] = "";
		const char *q = seg;
		struct app *app;

		if (*q == '[') {
			const char *close = strchr(q, ']');

			snprintf(id, sizeof(id), "%.*s", (int)(close - q - 1), q + 1);
			q = close + 2;
		}
		snprintf(path, sizeof(path), "%.*s", (int)(strstr(q, ": 422") - q), q);
		if (dcos && strstr(seg, "[default flags]")) {
			free(seg);
			continue;
		}
		applied++;
		if (id[0]) {
			app = find_app(a, id);
			cr_assert_not_null(app, "%s: reason names app %s which the file does not have", file, id);
		} else {
			cr_assert_eq(a->n, 1, "%s: reason without app id in a multi-app file", file);
			app = &a->v[0];
		}
		want_rejected[app - a->v] = app->id;
		cr_expect(app->rejected, "%s (%s flags): %s should be rejected at %s", file, dcos ? "DC/OS" : "default",
			  app->id, path);
		cr_expect(error_has_path(app->error, path), "%s (%s flags): %s rejected, but not at %s: %s", file,
			  dcos ? "DC/OS" : "default", app->id, path,
			  json_object_to_json_string_ext(app->error, JSON_C_TO_STRING_PLAIN));
		free(seg);
	}
	return applied;
}

static void run_file(const char *dir, const char *file, const char *verdict, int napps, const char *reasons,
		     int dcos)
{
	static const struct appdef_flags def = APPDEF_FLAGS_INIT, dc = APPDEF_FLAGS_DCOS;
	char path[1024];
	struct json_object *root;
	struct apps a = {NULL, 0, 0};
	char **want;
	size_t i;
	int any = 0;

	/* The length is checked (a cut path would read another file): no -Wformat-truncation. */
	cr_assert_lt(snprintf(path, sizeof(path), "%s/corpus/realworld/%s", dir, file),
	             (int)sizeof(path), "path too long: %s/corpus/realworld/%s", dir, file);
	root = json_object_from_file(path);
	cr_assert_not_null(root, "cannot read %s", path);
	flatten(&a, root, "/");
	cr_assert_eq((int)a.n, napps, "%s: flattened %zu apps, VERDICTS says %d", file, a.n, napps);
	for (i = 0; i < a.n; i++) {
		struct json_object *out = NULL;
		int rc = appdef_submit(a.v[i].body, a.v[i].id, dcos ? &dc : &def, &out, &a.v[i].error);

		cr_assert(rc == 0 || rc == PACER_EINVALID, "%s: %s: rc %d", file, a.v[i].id, rc);
		a.v[i].rejected = rc == PACER_EINVALID;
		any |= a.v[i].rejected;
		if (rc == 0) {
			cr_assert_not_null(out);
			cr_assert_null(a.v[i].error);
			expect_stable(file, a.v[i].id, out, dcos ? &dc : &def);
		} else {
			cr_assert_not_null(a.v[i].error);
		}
		json_object_put(out);
	}
	want = calloc(a.n ? a.n : 1, sizeof(*want));
	if (strcmp(verdict, "ACCEPT") == 0) {
		for (i = 0; i < a.n; i++)
			cr_expect(!a.v[i].rejected, "%s (%s flags): %s should be accepted, got %s", file,
				  dcos ? "DC/OS" : "default", a.v[i].id,
				  json_object_to_json_string_ext(a.v[i].error, JSON_C_TO_STRING_PLAIN));
	} else {
		cr_expect(any, "%s (%s flags): should be rejected, every app was accepted", file, dcos ? "DC/OS" : "default");
		if (check_reasons(file, reasons, &a, dcos, want) > 0) {
			/* Apps the reasons do not name must pass. */
			for (i = 0; i < a.n; i++)
				cr_expect(want[i] || !a.v[i].rejected, "%s (%s flags): %s rejected but not in VERDICTS: %s",
					  file, dcos ? "DC/OS" : "default", a.v[i].id,
					  json_object_to_json_string_ext(a.v[i].error, JSON_C_TO_STRING_PLAIN));
		}
	}
	for (i = 0; i < a.n; i++) {
		free(a.v[i].id);
		json_object_put(a.v[i].error);
	}
	free(want);
	free(a.v);
	json_object_put(root);
}

/*
 * One test over all 68 files so a regression names every file it breaks in
 * one run. The reference corpus lives outside the repository (../shared);
 * without it the test skips.
 */
static void run_corpus(int dcos)
{
	char path[1024], line[65536];
	char *dir = test_shared_path("");
	FILE *f;
	int rows = 0;

	if (!dir)
		cr_skip_test("reference material not found (set PACER_SHARED_DIR)");
	snprintf(path, sizeof(path), "%s/corpus/VERDICTS.tsv", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_not_null(fgets(line, sizeof(line), f)); /* header */
	while (fgets(line, sizeof(line), f)) {
		char *cols[6] = {0};
		char *s = line;
		int c;

		line[strcspn(line, "\n")] = '\0';
		for (c = 0; c < 6; c++) {
			cols[c] = s;
			s = strchr(s, '\t');
			if (!s) {
				c++;
				break;
			}
			*s++ = '\0';
		}
		cr_assert_eq(c, 6, "malformed VERDICTS row: %s", line);
		/* file verdict apps reasons notes verdict_dcos_flags */
		run_file(dir, cols[0], dcos ? cols[5] : cols[1], atoi(cols[2]), cols[3], dcos);
		rows++;
	}
	fclose(f);
	free(dir);
	cr_assert_eq(rows, 68, "VERDICTS.tsv has %d rows, expected 68", rows);
}

Test(appdef_corpus, default_flags)
{
	run_corpus(0);
}

Test(appdef_corpus, dcos_flags)
{
	run_corpus(1);
}
