/*
 * The directory source on real directories: order, hidden files, symlinks
 * (followed inside, refused outside, loops), size limit, errors; and a whole
 * desired_load() through it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/fs/source.h"
#include <openssl/evp.h>

#include "reconcile/desired.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"

struct seen {
	char *paths[64];
	char *data[64];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int collect(void *ctx, const char *path, const char *data, size_t len, const char *key)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 64);
	/* The content key: "sha256:" and the hex SHA-256 of exactly these bytes. */
	{
		unsigned char md[32];
		char want[7 + 64 + 1];
		unsigned int n = 0;

		cr_assert(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) && n == 32);
		memcpy(want, "sha256:", 7);
		for (unsigned int i = 0; i < 32; i++)
			snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
		cr_assert_not_null(key);
		cr_assert_str_eq(key, want, "%s: key %s", path, key);
	}
	s->paths[s->n] = strdup(path);
	s->data[s->n] = strndup(data, len);
	s->n++;
	if (s->stop_after && s->n == s->stop_after)
		return 42;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->paths[i]);
		free(s->data[i]);
	}
	s->n = 0;
}

static char *path_in(const char *dir, const char *rel)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", dir, rel) > 0);
	return p;
}

static void write_in(const char *dir, const char *rel, const char *content)
{
	char *p = path_in(dir, rel);

	cr_assert_eq(test_write_file(p, content), 0, "cannot write %s", p);
	free(p);
}

static void link_in(const char *dir, const char *rel, const char *target)
{
	char *p = path_in(dir, rel);

	cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
	free(p);
}

static void unlink_in(const char *dir, const char *rel)
{
	char *p = path_in(dir, rel);

	cr_assert_eq(unlink(p), 0, "unlink %s", p);
	free(p);
}

/* Run read() and expect failure with `code` and a message containing both needles. */
static void expect_read_error(const char *dir, int code, const char *needle1, const char *needle2)
{
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	struct seen s = {0};

	cr_assert_eq(fs_source_new(&src, dir, &err), 0);
	cr_assert_eq(src->read(src, collect, &s, &err), code);
	cr_assert_not_null(err);
	cr_assert(strstr(err->message, needle1), "message \"%s\" lacks \"%s\"", err->message,
	          needle1);
	if (needle2)
		cr_assert(strstr(err->message, needle2), "message \"%s\" lacks \"%s\"",
		          err->message, needle2);
	pacer_error_free(err);
	seen_free(&s);
	pacer_source_free(src);
}

TestSuite(fs_source, .init = bt_tmp_init, .fini = bt_tmp_fini);

Test(fs_source, walks_sorted_skips_hidden_follows_inner_links)
{
	const char *dir = bt_tmp;
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	struct seen s = {0};
	static const char *const want[] = {
	    "a-b.json",     "a/x.json", "b/c.json", "link.json", "linkdir/deep/e.json",
	    "z/deep/e.json"};

	write_in(dir, "a/x.json", "{\"id\": \"/x\"}");
	write_in(dir, "a-b.json", "{\"id\": \"/ab\"}");
	write_in(dir, "b/c.json", "{\"id\": \"/c\"}");
	write_in(dir, "b/.hidden.json", "{}");
	write_in(dir, ".git/config.json", "{}");
	write_in(dir, "notes.txt", "not json");
	write_in(dir, "b/c.json.bak", "{}");
	write_in(dir, "z/deep/e.json", "{\"id\": \"/e\"}");
	link_in(dir, "link.json", "b/c.json");
	link_in(dir, "linkdir", "z");
	link_in(dir, ".hidden-link.json", "/etc/passwd"); /* hidden: never looked at */

	cr_assert_eq(fs_source_new(&src, dir, &err), 0);
	cr_assert_str_eq(src->describe(src), dir);
	cr_assert_null(src->revision(src));
	cr_assert_eq(src->read(src, collect, &s, &err), 0, "%s", err ? err->message : "");
	cr_assert_eq(s.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < s.n; i++)
		cr_assert_str_eq(s.paths[i], want[i]);
	cr_assert_str_eq(s.data[3], "{\"id\": \"/c\"}"); /* the link's target content */
	seen_free(&s);

	/* A callback's non-zero return stops the walk and is returned. */
	s.stop_after = 2;
	cr_assert_eq(src->read(src, collect, &s, &err), 42);
	cr_assert_eq(s.n, 2);
	seen_free(&s);
	pacer_source_free(src);

	/* A trailing slash names the same root. */
	{
		char *slashed = path_in(dir, "");

		cr_assert_eq(fs_source_new(&src, slashed, &err), 0);
		cr_assert_str_eq(src->describe(src), dir);
		pacer_source_free(src);
		free(slashed);
	}
}

static int collect_unkeyed(void *ctx, const char *path, const char *data, size_t len,
                           const char *key)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, 64);
	cr_assert_null(key, "%s: key %s from read_unkeyed", path, key);
	cr_assert_eq(data[len], '\0', "%s: the bytes end with a NUL", path);
	s->paths[s->n] = strdup(path);
	s->data[s->n] = strndup(data, len);
	s->n++;
	return 0;
}

/* Files of very different sizes, in turns, through one read: each exact. */
Test(fs_source, read_unkeyed_hands_the_same_bytes_without_keys)
{
	static const size_t sizes[] = {70000, 3, 150000, 12, 0, 90000};
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	struct seen keyed = {0}, plain = {0};
	char *text[6];

	for (size_t i = 0; i < 6; i++) {
		char name[16];

		text[i] = malloc(sizes[i] + 1);
		for (size_t j = 0; j < sizes[i]; j++)
			text[i][j] = (char)('a' + (i * 7 + j) % 26);
		text[i][sizes[i]] = '\0';
		snprintf(name, sizeof(name), "f%zu.json", i);
		write_in(bt_tmp, name, text[i]);
	}
	cr_assert_eq(fs_source_new(&src, bt_tmp, &err), 0);
	cr_assert_not_null(src->read_unkeyed);
	cr_assert_eq(src->read_unkeyed(src, collect_unkeyed, &plain, &err), 0, "%s",
	             err ? err->message : "");
	cr_assert_eq(src->read(src, collect, &keyed, &err), 0, "%s", err ? err->message : "");
	cr_assert_eq(plain.n, 6);
	cr_assert_eq(keyed.n, 6);
	for (size_t i = 0; i < 6; i++) {
		cr_assert_str_eq(plain.paths[i], keyed.paths[i]);
		cr_assert_eq(strlen(plain.data[i]), sizes[i], "%s", plain.paths[i]);
		cr_assert_str_eq(plain.data[i], text[i], "%s", plain.paths[i]);
		cr_assert_str_eq(keyed.data[i], text[i], "%s", keyed.paths[i]);
		free(text[i]);
	}
	seen_free(&plain);
	seen_free(&keyed);
	pacer_source_free(src);
}

Test(fs_source, refuses_links_that_escape_or_loop)
{
	const char *dir = bt_tmp;
	char *outside = test_tmpdir("pacer-outside");
	char *target = path_in(outside, "secret.json");

	cr_assert_eq(test_write_file(target, "{\"id\": \"/secret\"}"), 0);
	write_in(dir, "apps/ok.json", "{\"id\": \"/ok\"}");

	link_in(dir, "apps/escape.json", target);
	expect_read_error(dir, PACER_EINVALID, "points outside the source directory",
	                  "escape.json");
	unlink_in(dir, "apps/escape.json");

	/* A relative escape through "..". */
	link_in(dir, "apps/up", "../..");
	expect_read_error(dir, PACER_EINVALID, "points outside the source directory", "apps/up");
	unlink_in(dir, "apps/up");

	/* A directory link back to an ancestor. */
	link_in(dir, "apps/self", "..");
	expect_read_error(dir, PACER_EINVALID, "symlink loop", "self");
	unlink_in(dir, "apps/self");

	/* Links pointing at each other, and a dangling one. */
	link_in(dir, "apps/l1.json", "l2.json");
	link_in(dir, "apps/l2.json", "l1.json");
	expect_read_error(dir, PACER_EINVALID, "symlink loop", "/apps/l");
	unlink_in(dir, "apps/l1.json");
	unlink_in(dir, "apps/l2.json");
	link_in(dir, "apps/gone.json", "nothing-here.json");
	expect_read_error(dir, PACER_EINVALID, "broken symlink", "gone.json");

	test_rmrf(outside);
	free(target);
	free(outside);
}

Test(fs_source, size_limit_missing_root_fifo_and_single_file)
{
	const char *dir = bt_tmp;
	char *big = path_in(dir, "big.json");
	char *fifo = path_in(dir, "pipe.json");
	char *missing = path_in(dir, "nope");
	char *single = path_in(dir, "one/app.json");
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	struct seen s = {0};
	FILE *f;

	/* Exactly the limit is fine (content does not matter to the source). */
	f = fopen(big, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), (off_t)FS_SOURCE_MAX_FILE), 0);
	fclose(f);
	cr_assert_eq(fs_source_new(&src, dir, &err), 0);
	cr_assert_eq(src->read(src, collect, &s, &err), 0);
	cr_assert_eq(s.n, 1);
	seen_free(&s);
	pacer_source_free(src);
	/* One byte more is refused, naming the file and the limit. */
	cr_assert_eq(truncate(big, (off_t)FS_SOURCE_MAX_FILE + 1), 0);
	expect_read_error(dir, PACER_EINVALID, "big.json", "more than the limit of 16777216 bytes");
	unlink(big);

	cr_assert_eq(mkfifo(fifo, 0600), 0);
	expect_read_error(dir, PACER_EINVALID, "pipe.json", "not a regular file");
	unlink(fifo);

	expect_read_error(missing, PACER_ENOTFOUND, "does not exist", missing);

	/* A single file as the root. */
	cr_assert_eq(test_write_file(single, "{\"id\": \"/one\"}"), 0);
	cr_assert_eq(fs_source_new(&src, single, &err), 0);
	cr_assert_eq(src->read(src, collect, &s, &err), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.paths[0], single);
	cr_assert_str_eq(s.data[0], "{\"id\": \"/one\"}");
	seen_free(&s);
	pacer_source_free(src);

	/* Unreadable file (root ignores permissions, so only as a normal user). */
	if (geteuid() != 0) {
		cr_assert_eq(chmod(single, 0), 0);
		expect_read_error(dir, PACER_EIO, "cannot open", "app.json");
		chmod(single, 0600);
	}

	free(big);
	free(fifo);
	free(missing);
	free(single);
}

Test(fs_source, desired_load_over_a_directory)
{
	const char *dir = bt_tmp;
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	struct pacer_desired *d = NULL;
	char *text = NULL;

	write_in(dir, "prod/group.json",
	         "{\"id\": \"/prod\", \"apps\": [{\"id\": \"web\"}, {\"id\": \"db\"}]}");
	write_in(dir, "prod/web.json", "{\n  \"id\": \"/prod/web\"\n}");
	write_in(dir, "broken.json", "{\"id\": \"/b\",}");

	cr_assert_eq(fs_source_new(&src, dir, &err), 0);
	cr_assert_eq(desired_load(src, NULL, &d, &err), 0);
	cr_assert_eq(d->nfiles, 3);
	cr_assert_eq(d->napps, 2);
	cr_assert_eq(d->nerrors, 2);
	for (size_t i = 0; i < d->ndiags; i++) {
		char *line = pacer_error_format(d->diags[i].error);

		if (strstr(line, "defined twice"))
			cr_assert_str_eq(line,
			                 "prod/web.json:1:1: app /prod/web: app /prod/web is "
			                 "defined twice: here and in prod/group.json:1:26; keep "
			                 "only one definition");
		else
			cr_assert_str_eq(line, "broken.json:1:12: JSON does not allow trailing "
			                       "commas: remove this ',' before the '}'");
		free(line);
	}
	desired_free(d);
	pacer_source_free(src);

	/* A missing directory is a failure of the load itself. */
	test_rmrf(dir);
	cr_assert_eq(fs_source_new(&src, dir, &err), 0);
	cr_assert_eq(desired_load(src, NULL, &d, &err), PACER_ENOTFOUND);
	cr_assert_null(d);
	cr_assert_not_null(err);
	text = pacer_error_format(err);
	cr_assert(strstr(text, "does not exist: check the --source path"), "%s", text);
	free(text);
	pacer_error_free(err);
	pacer_source_free(src);
}
