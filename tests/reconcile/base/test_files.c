/*
 * pacer_mkdir_p(): nested directories, ones that exist, a file in the way,
 * an empty name, and a parent pacer may not write to.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reconcile/base/files.h"
#include "tests/lib/testlib.h"

static char *dir;

static void setup(void)
{
	dir = test_tmpdir("pacer-files");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	/* The permission test leaves a parent unwritable: rm -rf needs it back. */
	char *locked = NULL;

	if (asprintf(&locked, "%s/locked", dir) > 0)
		chmod(locked, 0700);
	free(locked);
	test_rmrf(dir);
	free(dir);
}

/* dir/rel. Caller frees. */
static char *in_dir(const char *rel)
{
	char *path = NULL;

	cr_assert(asprintf(&path, "%s/%s", dir, rel) > 0);
	return path;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

TestSuite(files, .init = setup, .fini = teardown);

Test(files, makes_every_missing_parent_with_the_mode)
{
	char *deep = in_dir("a/b/c"), *mid = in_dir("a/b");
	struct pacer_error *err = NULL;
	struct stat st;

	cr_assert_eq(pacer_mkdir_p(deep, 0700, &err), 0, "%s", err ? err->message : "");
	cr_assert(is_dir(mid));
	cr_assert(is_dir(deep));
	cr_assert_eq(stat(mid, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700, "parents get the mode too: %o", st.st_mode & 0777);
	free(deep);
	free(mid);
}

Test(files, existing_directories_are_fine_and_left_alone)
{
	char *d = in_dir("kept"), *slash = in_dir("kept/x/");
	struct pacer_error *err = NULL;
	struct stat st;

	cr_assert_eq(mkdir(d, 0755), 0);
	cr_assert_eq(pacer_mkdir_p(d, 0700, &err), 0);
	cr_assert_eq(stat(d, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0755, "an existing directory keeps its mode");
	/* A trailing slash names the same directory. */
	cr_assert_eq(pacer_mkdir_p(slash, 0700, &err), 0, "%s", err ? err->message : "");
	cr_assert_eq(pacer_mkdir_p(slash, 0700, &err), 0);
	cr_assert(is_dir(slash));
	free(d);
	free(slash);
}

Test(files, a_file_in_the_way_is_an_error)
{
	char *file = in_dir("plain"), *below = in_dir("plain/sub");
	struct pacer_error *err = NULL;

	cr_assert_eq(test_write_file(file, "x"), 0);
	/* The file is the directory asked for. */
	cr_assert_eq(pacer_mkdir_p(file, 0700, &err), PACER_EIO);
	cr_assert(strstr(err->message, "not a directory"), "%s", err->message);
	cr_assert(strstr(err->message, file), "%s", err->message);
	pacer_error_clear(&err);
	/* The file is one of its parents. */
	cr_assert_eq(pacer_mkdir_p(below, 0700, &err), PACER_EIO);
	cr_assert(strstr(err->message, below), "%s", err->message);
	pacer_error_free(err);
	free(file);
	free(below);
}

Test(files, an_empty_name_is_refused)
{
	struct pacer_error *err = NULL;

	cr_assert_eq(pacer_mkdir_p("", 0700, &err), PACER_EINVALID);
	cr_assert(strstr(err->message, "empty"), "%s", err->message);
	pacer_error_free(err);
}

Test(files, a_relative_name_is_made_below_the_working_directory)
{
	char *made = in_dir("rel/one");
	struct pacer_error *err = NULL;

	/* One process per test: changing directory disturbs no other test. */
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(pacer_mkdir_p("rel/one", 0700, &err), 0, "%s", err ? err->message : "");
	cr_assert(is_dir(made));
	free(made);
}

/* The user a root test run drops to, so that permissions apply to it. */
#define NOBODY 65534

/*
 * pacer_mkdir_p(want) as the test's user, or as nobody in a child when the
 * tests run as root (root may write anywhere). Returns 0 when it failed with
 * PACER_EIO and a message naming expect_dir and the advice, else the step
 * that went wrong (1: the call, 2: the message, 3: dropping privileges).
 */
static int denied_as_user(const char *want, const char *expect_dir)
{
	struct pacer_error *err = NULL;
	int rc, status, in_child = 0;

	if (geteuid() == 0) {
		pid_t pid = fork();

		cr_assert(pid >= 0);
		if (pid > 0) {
			cr_assert_eq(waitpid(pid, &status, 0), pid);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
		}
		in_child = 1;
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(3);
	}
	if (pacer_mkdir_p(want, 0700, &err) != PACER_EIO)
		rc = 1;
	else if (!strstr(err->message, expect_dir) || !strstr(err->message, "check the permissions"))
		rc = 2;
	else
		rc = 0;
	if (rc)
		fprintf(stderr, "pacer_mkdir_p(%s): %s\n", want, err ? err->message : "succeeded");
	pacer_error_free(err);
	if (in_child)
		_exit(rc);
	return rc;
}

Test(files, permission_denied_names_the_directory_and_what_to_do)
{
	char *locked = in_dir("locked"), *want = in_dir("locked/sub/deeper");
	char *sub = in_dir("locked/sub");

	/* Others may pass through the test directory, not write in locked/. */
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(mkdir(locked, 0555), 0);
	cr_assert_eq(denied_as_user(want, sub), 0, "see the message above");
	free(sub);
	free(locked);
	free(want);
}
