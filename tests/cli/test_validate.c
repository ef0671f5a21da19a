/*
 * pacer validate over the shared corpus (../shared/corpus): every
 * realworld/ file gets the verdict VERDICTS.tsv gives it, under DC/OS's
 * flags (pacer's default when the server's flags are unknown) and under
 * Marathon's default flags (--mesos-role '*'), with the reason's field
 * named; invalid/ and templated/ files are refused with a clear message.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

struct verdict {
	char *file;
	int accept_default; /* verdict column */
	int accept_dcos;    /* verdict_dcos_flags column */
	char *reasons;
};

/* Split one TSV line in place into at most n fields. */
static size_t split_tabs(char *line, char **f, size_t n)
{
	size_t k = 0;

	while (k < n) {
		char *tab = strchr(line, '\t');

		f[k++] = line;
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return k;
}

/* Read VERDICTS.tsv; returns the count, *out freed with free_verdicts(). */
static size_t load_verdicts(const char *corpus, struct verdict **out)
{
	char *path = NULL, *text, *line, *save = NULL;
	struct verdict *v = NULL;
	size_t n = 0;

	cr_assert(asprintf(&path, "%s/VERDICTS.tsv", corpus) >= 0);
	text = test_read_file(path, NULL);
	cr_assert(text, "cannot read %s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6];

		if (split_tabs(line, f, 6) != 6 || !strcmp(f[0], "file"))
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		cr_assert(v);
		v[n].file = strdup(f[0]);
		v[n].accept_default = !strcmp(f[1], "ACCEPT");
		v[n].accept_dcos = !strcmp(f[5], "ACCEPT");
		v[n].reasons = strdup(f[3]);
		n++;
	}
	free(text);
	free(path);
	*out = v;
	return n;
}

static void free_verdicts(struct verdict *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].reasons);
	}
	free(v);
}

/*
 * The field named by the first reason that holds under these flags:
 * reasons read "[/app] /path: 422 ..." and those that only hold under the
 * default flags end with "[default flags]". Writes the last path segment
 * ("acceptedResourceRoles" for "/acceptedResourceRoles") or "" for "/".
 */
static void reason_field(const char *reasons, int dcos, char *out, size_t outlen)
{
	const char *p = reasons;

	*out = '\0';
	while ((p = strstr(p, ": 422"))) {
		const char *start = p, *next = strstr(p + 5, ": 422"), *seg_end;
		const char *dflt = strstr(p, "[default flags]");
		const char *last;

		while (start > reasons && start[-1] != ' ')
			start--;
		seg_end = next ? next : p + strlen(p);
		if (!(dcos && dflt && dflt < seg_end)) {
			last = start;
			for (const char *q = start; q < p; q++)
				if (*q == '/')
					last = q + 1;
			snprintf(out, outlen, "%.*s", (int)(p - last), last);
			return;
		}
		p += 5;
	}
}

static void check_file(const char *corpus, const struct verdict *v, int dcos)
{
	char *path = NULL, field[128];
	const char *args[] = {"validate", "--mesos-role", "*", NULL, NULL};
	struct ct_run r;
	int accept = dcos ? v->accept_dcos : v->accept_default;

	cr_assert(asprintf(&path, "%s/realworld/%s", corpus, v->file) >= 0);
	if (dcos) {
		args[1] = path;
		args[2] = NULL;
	} else {
		args[3] = path;
	}
	r = ct_pacer(args, NULL);
	cr_expect_eq(r.rc, accept ? 0 : 1,
	             "%s (%s flags): VERDICTS says %s, pacer validate exit %d:\n%s", v->file,
	             dcos ? "DC/OS" : "default", accept ? "ACCEPT" : "REJECT", r.rc, r.err);
	if (!accept) {
		reason_field(v->reasons, dcos, field, sizeof(field));
		cr_expect(ct_has(r.err, v->file), "%s: the file is named:\n%s", v->file, r.err);
		cr_expect(!*field || ct_has(r.err, field),
		          "%s (%s flags): the reason's field '%s' is named:\n%s", v->file,
		          dcos ? "DC/OS" : "default", field, r.err);
	}
	ct_run_free(&r);
	free(path);
}

static char *corpus_or_skip(void)
{
	char *corpus = test_shared_path("corpus");

	if (!corpus)
		cr_skip_test("../shared/corpus is absent; nothing to validate");
	return corpus;
}

Test(validate, realworld_verdicts_dcos_flags, .timeout = 120)
{
	char *corpus = corpus_or_skip();
	struct verdict *v = NULL;
	size_t n = load_verdicts(corpus, &v);

	cr_assert_geq(n, 60, "VERDICTS.tsv lists %zu files", n);
	for (size_t i = 0; i < n; i++)
		check_file(corpus, &v[i], 1);
	free_verdicts(v, n);
	free(corpus);
}

Test(validate, realworld_verdicts_default_flags, .timeout = 120)
{
	char *corpus = corpus_or_skip();
	struct verdict *v = NULL;
	size_t n = load_verdicts(corpus, &v);

	cr_assert_geq(n, 60);
	for (size_t i = 0; i < n; i++)
		check_file(corpus, &v[i], 0);
	free_verdicts(v, n);
	free(corpus);
}

static void check_refused_dir(const char *sub, int want_position)
{
	char *corpus = corpus_or_skip(), *dir = NULL;
	struct dirent *e;
	DIR *d;
	int n = 0;
	regex_t re;

	cr_assert(asprintf(&dir, "%s/%s", corpus, sub) >= 0);
	d = opendir(dir);
	cr_assert(d, "cannot open %s", dir);
	cr_assert_eq(regcomp(&re, "\\.json:[0-9]+:[0-9]+: ", REG_EXTENDED | REG_NOSUB), 0);
	while ((e = readdir(d))) {
		char *path = NULL;
		const char *args[] = {"validate", NULL, NULL};
		struct ct_run r;

		if (e->d_name[0] == '.' || !strstr(e->d_name, ".json"))
			continue;
		cr_assert(asprintf(&path, "%s/%s", dir, e->d_name) >= 0);
		args[1] = path;
		r = ct_pacer(args, NULL);
		n++;
		cr_expect_eq(r.rc, 1, "%s/%s must be refused (exit 1), got %d:\n%s", sub, e->d_name,
		             r.rc, r.err);
		cr_expect(ct_has(r.err, "error:") && ct_has(r.err, e->d_name),
		          "%s/%s: an error naming the file:\n%s", sub, e->d_name, r.err);
		if (want_position)
			cr_expect(regexec(&re, r.err, 0, NULL, 0) == 0,
			          "%s/%s: the error gives line:col:\n%s", sub, e->d_name, r.err);
		cr_expect(!ct_has(r.err, "runtime error") && !ct_has(r.err, "Sanitizer"), "%s",
		          r.err);
		ct_run_free(&r);
		free(path);
	}
	closedir(d);
	regfree(&re);
	cr_expect_gt(n, 0, "no files in %s", dir);
	free(dir);
	free(corpus);
}

Test(validate, invalid_json_is_refused_with_position, .timeout = 120)
{
	check_refused_dir("invalid", 1);
}

Test(validate, templated_files_are_refused, .timeout = 120)
{
	check_refused_dir("templated", 0);
}

Test(validate, templated_placeholder_is_named, .timeout = 120)
{
	char *corpus = corpus_or_skip(), *dir = NULL;
	struct dirent *e;
	DIR *d;

	/* Each message says what is wrong: a placeholder or template syntax. */
	cr_assert(asprintf(&dir, "%s/templated", corpus) >= 0);
	d = opendir(dir);
	cr_assert(d);
	while ((e = readdir(d))) {
		char *path = NULL;
		const char *args[] = {"validate", NULL, NULL};
		struct ct_run r;

		if (e->d_name[0] == '.')
			continue;
		cr_assert(asprintf(&path, "%s/%s", dir, e->d_name) >= 0);
		args[1] = path;
		r = ct_pacer(args, NULL);
		cr_expect(ct_has(r.err, "template") || ct_has(r.err, "placeholder") ||
		              ct_has(r.err, "{{") || ct_has(r.err, "${"),
		          "templated/%s: the message says it is an unrendered template:\n%s",
		          e->d_name, r.err);
		ct_run_free(&r);
		free(path);
	}
	closedir(d);
	free(dir);
	free(corpus);
}

Test(validate, many_files_on_the_command_line, .timeout = 120)
{
	enum { NFILES = 300 };
	const char *args[NFILES + 2] = {"validate"};
	char *paths[NFILES], *dir = test_tmpdir("pacer-validate");
	struct ct_run r;

	/* What a shell glob makes of a big repository. */
	cr_assert(dir);
	for (int i = 0; i < NFILES; i++) {
		char def[160];

		cr_assert(asprintf(&paths[i], "%s/app%03d.json", dir, i) >= 0);
		snprintf(def, sizeof(def),
		         "{\"id\": \"/many/app%03d\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, "
		         "\"mem\": 16}\n",
		         i);
		cr_assert_eq(test_write_file(paths[i], def), 0);
		args[i + 1] = paths[i];
	}
	args[NFILES + 1] = NULL;
	r = ct_pacer(args, NULL);
	cr_expect_eq(r.rc, 0, "validate of %d valid files exited %d:\n%s", NFILES, r.rc, r.err);
	cr_expect(ct_has(r.out, "300 file(s), 300 app(s): 0 error(s)"), "%s", r.out);
	ct_run_free(&r);

	/* The last one broken: found and named. */
	cr_assert_eq(
	    test_write_file(paths[NFILES - 1], "{\"id\": \"/many/bad\", \"cpus\": \"x\"}\n"), 0);
	r = ct_pacer(args, NULL);
	cr_expect_eq(r.rc, 1, "%s", r.err);
	cr_expect(ct_has(r.err, "app299.json"), "%s", r.err);
	ct_run_free(&r);
	for (int i = 0; i < NFILES; i++)
		free(paths[i]);
	test_rmrf(dir);
	free(dir);
}

/* ---- problems only the whole desired state shows, and what sync makes of them ---- */

/*
 * pacer validate DIR of t's source must exit rc, its stderr holding every
 * one of says and none of absent (NULL-terminated; either may be NULL).
 */
static void expect_validate(struct ct *t, int rc, const char *const *says,
                            const char *const *absent)
{
	const char *args[] = {"validate", t->src, NULL};
	struct ct_run r = ct_pacer(args, NULL);

	cr_expect_eq(r.rc, rc, "validate exited %d, expected %d:\n%s", r.rc, rc, r.err);
	for (size_t i = 0; says && says[i]; i++)
		cr_expect(ct_has(r.err, says[i]), "want %s:\n%s", says[i], r.err);
	for (size_t i = 0; absent && absent[i]; i++)
		cr_expect(!ct_has(r.err, absent[i]), "do not want %s:\n%s", absent[i], r.err);
	ct_run_free(&r);
}

Test(validate, dependency_cycles_are_refused_with_the_cycle, .fini = ct_fini)
{
	static const char *const self[] = {
	    "d.json:1:1: app /d: depends on itself (dependency cycle /d -> /d)", NULL};
	static const char *const across[] = {
	    "back/db.json:1:1: app /back/db: dependency cycle: /back/db -> /shop/web -> /back/db "
	    "(/shop/web is at ",
	    "shop.json:2:3)", NULL};
	static const char *const not_desired[] = {"live-only", NULL};
	static struct ct t; /* static: ct_fini may run after the test frame is gone */

	ct_setup(&t, CT_NO_SIM);
	/* An app depending on itself. */
	ct_write(&t, "d.json", "{\"id\": \"/d\", \"cmd\": \"x\",\n \"dependencies\": [\"/d\"]}\n");
	expect_validate(&t, 1, self, NULL);

	/* Across files and groups; a dependency on an app that is not desired is fine. */
	ct_write(&t, "d.json",
	         "{\"id\": \"/d\", \"cmd\": \"x\", \"dependencies\": [\"/live-only\"]}\n");
	ct_write(&t, "shop.json",
	         "{\"id\": \"/shop\", \"apps\": [\n  {\"id\": \"web\", \"cmd\": \"x\", "
	         "\"dependencies\": [\"/back/db\"]}]}\n");
	ct_write(&t, "back/db.json",
	         "{\"id\": \"/back/db\", \"cmd\": \"x\", \"dependencies\": [\"../shop/web\"]}\n");
	expect_validate(&t, 1, across, not_desired);

	/* No cycle left. */
	ct_write(&t, "back/db.json", "{\"id\": \"/back/db\", \"cmd\": \"x\"}\n");
	expect_validate(&t, 0, NULL, NULL);
	ct_teardown(&t);
}

/*
 * pacer.timeout values that sync would refuse. Inline strings: Criterion
 * copies the parameters into the test's process, where a pointer of the
 * runner's means nothing.
 */
struct timeout_case {
	char value[24];
};

static const struct timeout_case bad_timeouts[] = {
	{"ten minutes"}, {"0"}, {"-5"}, {"99999999999"},
};

ParameterizedTestParameters(validate, a_timeout_label_sync_would_refuse_is_refused)
{
	return cr_make_param_array(struct timeout_case, bad_timeouts,
	                           sizeof(bad_timeouts) / sizeof(bad_timeouts[0]));
}

ParameterizedTest(const struct timeout_case *c, validate,
                  a_timeout_label_sync_would_refuse_is_refused, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	char def[256], want[128];
	const char *says[] = {want, NULL};

	ct_setup(&t, CT_NO_SIM);
	snprintf(def, sizeof(def),
	         "{\"id\": \"/t\", \"cmd\": \"x\",\n \"labels\": {\"pacer.timeout\": \"%s\"}}\n",
	         c->value);
	ct_write(&t, "t.json", def);
	snprintf(want, sizeof(want), "t.json:2:30: app /t: label \"pacer.timeout\" is \"%s\"",
	         c->value);
	expect_validate(&t, 1, says, NULL);
	ct_teardown(&t);
}

Test(validate, a_timeout_label_sync_accepts_is_accepted, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */

	ct_setup(&t, CT_NO_SIM);
	ct_write(&t, "t.json",
	         "{\"id\": \"/t\", \"cmd\": \"x\", \"labels\": {\"pacer.timeout\": \"900s\"}}\n");
	expect_validate(&t, 0, NULL, NULL);
	ct_teardown(&t);
}

Test(validate, duplicate_keys_name_both_places, .fini = ct_fini)
{
	static const char *const both[] = {
	    "k.json:2:2: key \"cpus\" is written twice in one object, first at ",
	    "k.json:1:26, with different values", NULL};
	static const char *const warned[] = {"warning:", "with the same value", NULL};
	static struct ct t; /* static: ct_fini may run after the test frame is gone */

	ct_setup(&t, CT_NO_SIM);
	ct_write(&t, "k.json", "{\"id\": \"/k\", \"cmd\": \"x\", \"cpus\": 1,\n \"cpus\": 2}\n");
	expect_validate(&t, 1, both, NULL);

	/* The same value twice loses nothing: a warning, exit 0. */
	ct_write(&t, "k.json", "{\"id\": \"/k\", \"cmd\": \"x\", \"cpus\": 1, \"cpus\": 1}\n");
	expect_validate(&t, 0, warned, NULL);
	ct_teardown(&t);
}

/* sync loads with the same loader: what validate refuses stops sync before Marathon is touched. */
struct refused_case {
	char content[192]; /* of c.json (inline: see struct timeout_case) */
	char want[48];     /* in the message */
};

static const struct refused_case refused_cases[] = {
	{"[{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"dependencies\": [\"/b\"]},\n"
	 " {\"id\": \"/b\", \"cmd\": \"sleep 1000\", \"dependencies\": [\"/a\"]}]\n",
	 "dependency cycle: /a -> /b -> /a"},
	{"{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"labels\": {\"pacer.timeout\": \"soon\"}}\n",
	 "\"pacer.timeout\""},
	{"{\"id\": \"/a\", \"cmd\": \"sleep 1000\", \"mem\": 32, \"mem\": 64}\n",
	 "key \"mem\" is written twice"},
};

ParameterizedTestParameters(validate, sync_refuses_the_same_with_exit_3)
{
	return cr_make_param_array(struct refused_case, refused_cases,
	                           sizeof(refused_cases) / sizeof(refused_cases[0]));
}

ParameterizedTest(const struct refused_case *c, validate, sync_refuses_the_same_with_exit_3,
                  .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write(&t, "c.json", c->content);
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 3, "%s: exit %d:\n%s", c->want, r.rc, r.err);
	cr_expect(ct_has(r.err, "c.json:") && ct_has(r.err, c->want), "%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0, "nothing was applied");
	cr_expect_eq(ct_napps(&t), 0);
	ct_teardown(&t);
}

/*
 * A field Marathon would ignore is a warning with file:line:col and the
 * near miss; the file is still valid (exit 0) and sync still applies it,
 * saying the same.
 */
Test(validate, unknown_fields_warn_and_still_apply, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	char *path = NULL;
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write(&t, "typo.json",
	         "{\"id\": \"/v/typo\", \"cmd\": \"sleep 1000\", \"mem\": 32,\n"
	         "  \"cpu\": 0.1, \"labels\": {\"cpu\": \"is a label\"}}\n");
	cr_assert(asprintf(&path, "%s/typo.json", t.src) > 0);
	{
		const char *args[] = {"validate", path, NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 0, "a warning does not fail validate, got %d:\n%s", r.rc, r.err);
	cr_expect(ct_has(r.err, "typo.json:2:3: app /v/typo: unknown field \"cpu\"") &&
	              ct_has(r.err, "did you mean \"cpus\"?"),
	          "%s", r.err);
	cr_expect(!ct_has(r.err, "labels"), "labels are free-form:\n%s", r.err);
	cr_expect(ct_has(r.out, "1 file(s), 1 app(s): 0 error(s), 1 warning(s)"), "%s", r.out);
	ct_run_free(&r);

	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	cr_expect(ct_has(r.err, "unknown field \"cpu\""), "sync warns too:\n%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_napps(&t), 1);
	free(path);
	ct_teardown(&t);
}

/* A directory with no definition (empty, or only YAML) is named, not passed in silence. */
Test(validate, a_source_without_definitions_warns, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write(&t, "app.yaml", "id: /v/yaml\ncmd: sleep 1000\n");
	{
		const char *args[] = {"validate", t.src, NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 0, "%s", r.err);
	cr_expect(ct_has(r.err, "warning: no app definitions found in") && ct_has(r.err, t.src),
	          "%s", r.err);
	ct_run_free(&r);
	r = ct_cmd(&t, "diff", NULL);
	cr_expect(ct_has(r.err, "no app definitions found in"), "diff warns too:\n%s", r.err);
	ct_run_free(&r);
	ct_teardown(&t);
}
