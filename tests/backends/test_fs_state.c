/*
 * The state directory: owned apps and last revision (durable files). The
 * run lock and the durable writes underneath have test_fs_lock.c and
 * test_fs_durable.c.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/fs/state.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"

static struct pacer_state_store *open_state(const char *dir)
{
	struct pacer_state_store *st = NULL;
	struct pacer_error *err = NULL;

	cr_assert_eq(fs_state_new(&st, dir, &err), 0, "%s", err ? err->message : "");
	return st;
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

TestSuite(fs_state, .init = bt_tmp_init, .fini = bt_tmp_fini);

Test(fs_state, owned_apps_round_trip)
{
	const char *tmp = bt_tmp;
	char *dir = bt_join(tmp, "state/sub");
	char *owned_path = bt_join(dir, "owned.json");
	struct pacer_state_store *st = open_state(dir);
	struct pacer_error *err = NULL;
	const char *add1[] = {"/b", "/a/x", "/b"};
	const char *rm[] = {"/a/x", "/never"};
	char **ids = NULL, *text;
	struct stat s1, s2;

	cr_assert_eq(stat(dir, &s1), 0);
	cr_assert_eq(s1.st_mode & 0777, 0700);
	/* Nothing written yet: nothing owned. */
	cr_assert_eq(st->load_owned(st, &ids, &err), 0);
	cr_assert_not_null(ids);
	cr_assert_null(ids[0]);
	pacer_strv_free(ids);

	cr_assert_eq(st->add_owned(st, add1, 3, &err), 0);
	cr_assert_eq(st->load_owned(st, &ids, &err), 0);
	cr_assert_eq(strv_len(ids), 2);
	cr_assert_str_eq(ids[0], "/a/x");
	cr_assert_str_eq(ids[1], "/b");
	pacer_strv_free(ids);
	text = test_read_file(owned_path, NULL);
	cr_assert(strstr(text, "\"owned\": [") && strstr(text, "\"/a/x\""), "%s", text);
	free(text);
	cr_assert_eq(stat(owned_path, &s1), 0);
	cr_assert_eq(s1.st_mode & 0777, 0600);

	/* Adding what is owned already writes nothing (same inode). */
	cr_assert_eq(st->add_owned(st, add1, 1, &err), 0);
	cr_assert_eq(stat(owned_path, &s2), 0);
	cr_assert_eq(s1.st_ino, s2.st_ino);

	cr_assert_eq(st->remove_owned(st, rm, 2, &err), 0);
	pacer_state_store_free(st);

	/* A new store over the same directory sees it: it is on disk. */
	st = open_state(dir);
	cr_assert_eq(st->load_owned(st, &ids, &err), 0);
	cr_assert_eq(strv_len(ids), 1);
	cr_assert_str_eq(ids[0], "/b");
	pacer_strv_free(ids);
	/* Only owned.json is there: no temp file left over. */
	cr_assert_eq(bt_count_entries(dir, NULL), 1);

	pacer_state_store_free(st);
	free(owned_path);
	free(dir);
}

/*
 * The owned file at path holding content fails to load, with a message that
 * names the file and says needle; the error is returned (caller frees).
 */
static struct pacer_error *expect_load_fails(struct pacer_state_store *st, const char *path,
                                             const char *content, const char *needle)
{
	struct pacer_error *err = NULL;
	char **ids = NULL;

	cr_assert_eq(test_write_file(path, content), 0);
	cr_assert_eq(st->load_owned(st, &ids, &err), PACER_EIO, "%s", content);
	cr_assert_null(ids);
	cr_assert(strstr(err->message, path), "%s", err->message);
	cr_assert(strstr(err->message, needle), "%s", err->message);
	return err;
}

Test(fs_state, corrupt_owned_file_is_an_error_not_an_empty_set)
{
	const char *dir = bt_tmp;
	char *owned_path = bt_join(dir, "owned.json");
	struct pacer_state_store *st = open_state(dir);
	struct pacer_error *err = NULL;
	const char *add[] = {"/new"};
	char *text;

	err = expect_load_fails(st, owned_path, "{\"owned\": [\"/a\",\n", "corrupt");
	cr_assert(strstr(err->message, "at 2:1"), "%s", err->message);
	pacer_error_clear(&err);
	/* A change is refused too, and the file is left for the user to fix. */
	cr_assert_eq(st->add_owned(st, add, 1, &err), PACER_EIO);
	pacer_error_clear(&err);
	text = test_read_file(owned_path, NULL);
	cr_assert_str_eq(text, "{\"owned\": [\"/a\",\n");
	free(text);

	pacer_error_free(expect_load_fails(st, owned_path, "{\"owned\": [\"/a\", 3]}", "entry 1"));
	pacer_error_free(expect_load_fails(st, owned_path, "[\"/a\"]", "no \"owned\" array"));

	pacer_state_store_free(st);
	free(owned_path);
}

Test(fs_state, last_revision)
{
	const char *dir = bt_tmp;
	char *rev_path = bt_join(dir, "last-revision");
	struct pacer_state_store *st = open_state(dir);
	struct pacer_error *err = NULL;
	char *rev = (char *)"unset", *text;

	cr_assert_eq(st->load_last_revision(st, &rev, &err), 0);
	cr_assert_null(rev);
	cr_assert_eq(st->save_last_revision(st, "3f2a9c0d", &err), 0);
	cr_assert_eq(st->save_last_revision(st, "9e1b7f00", &err), 0);
	text = test_read_file(rev_path, NULL);
	cr_assert_str_eq(text, "9e1b7f00\n");
	free(text);
	cr_assert_eq(st->load_last_revision(st, &rev, &err), 0);
	cr_assert_str_eq(rev, "9e1b7f00");
	free(rev);

	cr_assert_eq(st->save_last_revision(st, "", &err), PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(st->save_last_revision(st, "a\nb", &err), PACER_EINVALID);
	pacer_error_clear(&err);

	cr_assert_eq(test_write_file(rev_path, "a\nb\n"), 0);
	cr_assert_eq(st->load_last_revision(st, &rev, &err), PACER_EIO);
	cr_assert(strstr(err->message, rev_path));
	pacer_error_clear(&err);

	pacer_state_store_free(st);
	free(rev_path);
}

struct adder {
	struct pacer_state_store *st;
	int n;
	int rc;
};

static void *add_many(void *arg)
{
	struct adder *a = arg;

	for (int i = 0; i < 20 && !a->rc; i++) {
		char id[32];
		const char *ids[1] = {id};

		snprintf(id, sizeof(id), "/t%d/app-%d", a->n, i);
		a->rc = a->st->add_owned(a->st, ids, 1, NULL);
	}
	return NULL;
}

/* Parallel applies record ownership from several threads: nothing is lost. */
Test(fs_state, concurrent_adds_from_threads)
{
	const char *dir = bt_tmp;
	struct pacer_state_store *st = open_state(dir);
	struct pacer_error *err = NULL;
	struct adder a[6];
	pthread_t th[6];
	char **ids = NULL;

	for (int i = 0; i < 6; i++) {
		a[i] = (struct adder){st, i, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, add_many, &a[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(a[i].rc, 0);
	}
	cr_assert_eq(st->load_owned(st, &ids, &err), 0);
	cr_assert_eq(strv_len(ids), 120);
	pacer_strv_free(ids);
	pacer_state_store_free(st);
}
