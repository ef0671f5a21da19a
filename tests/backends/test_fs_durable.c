/*
 * test_fs_durable.c: backends/fs/durable.c, the writes that survive a crash.
 *
 * Atomic replacement, no temp file left behind by a failed write, the
 * directory fsync'd after the rename, messages for a directory that cannot
 * be written, unique names that never replace, and the sweep of temp files
 * a crash left. Permission checks do not apply to root, so those cases run
 * in a child process that drops to an unprivileged user first.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/fs/durable.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"

/* The user the permission tests run as when the tests run as root. */
#define NOBODY 65534

/* What a write did in the child process of as_user(). */
struct outcome {
	int rc;
	char msg[1024];
};

/*
 * durable_write_file(path, "data") in a child process that, when running
 * as root, first hands `dir` (mode `mode`) to an unprivileged user and
 * becomes that user. Its return code and error message come back by pipe.
 */
static struct outcome write_as_user(const char *dir, mode_t mode, const char *path)
{
	struct outcome o = {.rc = 1};
	int p[2], status;
	pid_t pid;

	if (geteuid() == 0)
		cr_assert_eq(chown(dir, NOBODY, NOBODY), 0);
	cr_assert_eq(chmod(dir, mode), 0);
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct pacer_error *err = NULL;

		if (geteuid() == 0 && (setgid(NOBODY) || setuid(NOBODY)))
			_exit(100);
		o.rc = durable_write_file(path, "data", 4, 0600, &err);
		if (err)
			snprintf(o.msg, sizeof(o.msg), "%s", err->message);
		_exit(write(p[1], &o, sizeof(o)) == (ssize_t)sizeof(o) ? 0 : 101);
	}
	cr_assert_eq(read(p[0], &o, sizeof(o)), (ssize_t)sizeof(o));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
	close(p[0]);
	close(p[1]);
	cr_assert_eq(chmod(dir, 0700), 0);
	return o;
}

TestSuite(durable, .init = bt_tmp_init, .fini = bt_tmp_fini);

Test(durable, replaces_atomically_and_fails_cleanly)
{
	const char *dir = bt_tmp;
	char *path = bt_join(dir, "f.json");
	char *missing = bt_join(dir, "no/such/dir/f.json");
	struct pacer_error *err = NULL;
	struct rlimit old, small;
	char big[4096], *text;
	struct stat st;
	int rc;

	cr_assert_eq(durable_write_file(path, "first", 5, 0640, &err), 0);
	cr_assert_eq(durable_write_file(path, "second", 6, 0600, &err), 0);
	text = test_read_file(path, NULL);
	cr_assert_str_eq(text, "second");
	free(text);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	/* Over the file size limit: error names the file, old content stays, no temp file. */
	memset(big, 'x', sizeof(big));
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 1024;
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = durable_write_file(path, big, sizeof(big), 0600, &err);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	cr_assert_eq(rc, PACER_EIO);
	cr_assert(strstr(err->message, path), "%s", err->message);
	cr_assert(strstr(err->message, "write failed: file too large"), "%s", err->message);
	pacer_error_clear(&err);
	text = test_read_file(path, NULL);
	cr_assert_str_eq(text, "second");
	free(text);
	cr_assert_eq(bt_count_entries(dir, NULL), 1);

	cr_assert_eq(durable_write_file(missing, "x", 1, 0600, &err), PACER_EIO);
	cr_assert(strstr(err->message, missing), "%s", err->message);
	cr_assert(strstr(err->message, "check that the directory exists"), "%s", err->message);
	pacer_error_clear(&err);

	cr_assert(strstr(durable_strerror(ENOSPC), "disk full"));
	cr_assert(strstr(durable_strerror(EDQUOT), "quota"));
	free(path);
	free(missing);
}

Test(durable, unwritable_directory_names_the_file_and_leaves_nothing)
{
	const char *dir = bt_tmp;
	char *path = bt_join(dir, "f.json");
	struct outcome o = write_as_user(dir, 0500, path);

	cr_assert_eq(o.rc, PACER_EIO, "%d: %s", o.rc, o.msg);
	cr_assert(strstr(o.msg, path), "%s", o.msg);
	cr_assert(strstr(o.msg, "creating a temp file failed: Permission denied"), "%s", o.msg);
	cr_assert(strstr(o.msg, "check the permissions of the directory"), "%s", o.msg);
	cr_assert_eq(bt_count_entries(dir, NULL), 0);
	free(path);
}

/*
 * The rename alone is not durable: the directory must be fsync'd. A
 * directory that can be written but not opened (mode 0300) lets the write
 * and the rename through and stops at that fsync, which shows it is done.
 */
Test(durable, directory_entry_is_synced_after_the_rename)
{
	const char *dir = bt_tmp;
	char *path = bt_join(dir, "f.json");
	char *gone = bt_join(dir, "gone");
	struct pacer_error *err = NULL;
	struct outcome o = write_as_user(dir, 0300, path);
	char *text;

	cr_assert_eq(o.rc, PACER_EIO, "%d: %s", o.rc, o.msg);
	cr_assert(strstr(o.msg, "cannot open directory"), "%s", o.msg);
	cr_assert(strstr(o.msg, "to sync it"), "%s", o.msg);
	cr_assert(strstr(o.msg, dir), "%s", o.msg);
	text = test_read_file(path, NULL);
	cr_assert_str_eq(text, "data"); /* renamed into place before the sync */
	free(text);
	cr_assert_eq(bt_count_entries(dir, NULL), 1);

	cr_assert_eq(durable_sync_dir(dir, &err), 0);
	cr_assert_eq(durable_sync_dir(gone, &err), PACER_EIO);
	cr_assert(strstr(err->message, gone), "%s", err->message);
	pacer_error_free(err);
	free(gone);
	free(path);
}

Test(durable, unique_names_never_replace)
{
	const char *dir = bt_tmp;
	char *first = NULL, *second = NULL, *third = NULL, *text;
	struct pacer_error *err = NULL;

	cr_assert_eq(durable_write_unique(dir, "app", ".json", "1", 1, 0600, &first, &err), 0);
	cr_assert_eq(durable_write_unique(dir, "app", ".json", "2", 1, 0600, &second, &err), 0);
	cr_assert_eq(durable_write_unique(dir, "app", ".json", "3", 1, 0600, NULL, &err), 0);
	cr_assert_eq(durable_write_unique(dir, "app", ".json", "4", 1, 0600, &third, &err), 0);
	cr_assert(strstr(first, "/app.json"), "%s", first);
	cr_assert(strstr(second, "/app_2.json"), "%s", second);
	cr_assert(strstr(third, "/app_4.json"), "%s", third);
	text = test_read_file(first, NULL);
	cr_assert_str_eq(text, "1");
	free(text);
	text = test_read_file(third, NULL);
	cr_assert_str_eq(text, "4");
	free(text);
	cr_assert_eq(bt_count_entries(dir, NULL), 4); /* and no temp file */
	free(first);
	free(second);
	free(third);
}

/* A file of `age_s` seconds in dir. */
static void put_aged(const char *dir, const char *name, int age_s)
{
	char *path = bt_join(dir, name);
	struct timespec t[2];

	cr_assert_eq(test_write_file(path, "x"), 0);
	t[0].tv_sec = time(NULL) - age_s;
	t[0].tv_nsec = 0;
	t[1] = t[0];
	cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
	free(path);
}

Test(durable, sweep_removes_only_temp_files_old_enough)
{
	const char *dir = bt_tmp;
	char *gone = bt_join(dir, "gone");

	put_aged(dir, ".a.json.tmp-AAAAAA", 3600);
	put_aged(dir, ".b.json.tmp-BBBBBB", 0); /* maybe another process's write */
	put_aged(dir, "c.json", 3600);
	put_aged(dir, ".hidden", 3600);
	cr_assert_eq(durable_sweep_temps(dir, 60), 1);
	cr_assert_eq(bt_count_entries(dir, NULL), 3);
	cr_assert_eq(durable_sweep_temps(dir, 0), 1);
	cr_assert_eq(bt_count_entries(dir, NULL), 2);
	cr_assert_eq(durable_sweep_temps(gone, 0), 0);
	free(gone);
}
