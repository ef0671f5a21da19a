/*
 * The state directory: owned apps and last revision (durable files), the
 * run lock, and the durable write module underneath them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/fs/durable.h"
#include "backends/fs/lock.h"
#include "backends/fs/state.h"
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

static char *join(const char *a, const char *b)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

Test(fs_state, owned_apps_round_trip)
{
	char *tmp = test_tmpdir("pacer-state");
	char *dir = join(tmp, "state/sub");
	char *owned_path = join(dir, "owned.json");
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
	cr_assert_eq(count_entries(dir), 1);

	pacer_state_store_free(st);
	test_rmrf(tmp);
	free(owned_path);
	free(dir);
	free(tmp);
}

Test(fs_state, corrupt_owned_file_is_an_error_not_an_empty_set)
{
	char *dir = test_tmpdir("pacer-state");
	char *owned_path = join(dir, "owned.json");
	struct pacer_state_store *st = open_state(dir);
	struct pacer_error *err = NULL;
	const char *add[] = {"/new"};
	char **ids = NULL, *text;

	cr_assert_eq(test_write_file(owned_path, "{\"owned\": [\"/a\",\n"), 0);
	cr_assert_eq(st->load_owned(st, &ids, &err), PACER_EIO);
	cr_assert_null(ids);
	cr_assert(strstr(err->message, owned_path), "%s", err->message);
	cr_assert(strstr(err->message, "corrupt"), "%s", err->message);
	cr_assert(strstr(err->message, "at 2:1"), "%s", err->message);
	pacer_error_clear(&err);
	/* A change is refused too, and the file is left for the user to fix. */
	cr_assert_eq(st->add_owned(st, add, 1, &err), PACER_EIO);
	pacer_error_clear(&err);
	text = test_read_file(owned_path, NULL);
	cr_assert_str_eq(text, "{\"owned\": [\"/a\",\n");
	free(text);

	cr_assert_eq(test_write_file(owned_path, "{\"owned\": [\"/a\", 3]}"), 0);
	cr_assert_eq(st->load_owned(st, &ids, &err), PACER_EIO);
	cr_assert(strstr(err->message, "entry 1"), "%s", err->message);
	pacer_error_clear(&err);

	cr_assert_eq(test_write_file(owned_path, "[\"/a\"]"), 0);
	cr_assert_eq(st->load_owned(st, &ids, &err), PACER_EIO);
	cr_assert(strstr(err->message, "no \"owned\" array"), "%s", err->message);
	pacer_error_clear(&err);

	pacer_state_store_free(st);
	test_rmrf(dir);
	free(owned_path);
	free(dir);
}

Test(fs_state, last_revision)
{
	char *dir = test_tmpdir("pacer-state");
	char *rev_path = join(dir, "last-revision");
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
	test_rmrf(dir);
	free(rev_path);
	free(dir);
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
	char *dir = test_tmpdir("pacer-state");
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
	test_rmrf(dir);
	free(dir);
}

/* ---- durable writes ------------------------------------------------------------------- */

Test(durable, replaces_atomically_and_fails_cleanly)
{
	char *dir = test_tmpdir("pacer-durable");
	char *path = join(dir, "f.json");
	char *missing = join(dir, "no/such/dir/f.json");
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
	cr_assert_eq(count_entries(dir), 1);

	cr_assert_eq(durable_write_file(missing, "x", 1, 0600, &err), PACER_EIO);
	cr_assert(strstr(err->message, missing), "%s", err->message);
	cr_assert(strstr(err->message, "check that the directory exists"), "%s", err->message);
	pacer_error_clear(&err);

	cr_assert(strstr(durable_strerror(ENOSPC), "disk full"));
	cr_assert(strstr(durable_strerror(EDQUOT), "quota"));
	test_rmrf(dir);
	free(path);
	free(missing);
	free(dir);
}

/* ---- the run lock --------------------------------------------------------------------- */

Test(fslock, second_run_is_refused_with_the_holders_pid)
{
	char *tmp = test_tmpdir("pacer-lock");
	char *dir = join(tmp, "state");
	struct fslock *l1 = NULL, *l2 = NULL;
	struct pacer_error *err = NULL;
	char want[64];

	cr_assert_eq(fslock_acquire(dir, 0, &l1, &err), 0); /* creates the directory */
	cr_assert_not_null(l1);
	/* flock excludes a second open even within one process. */
	cr_assert_eq(fslock_acquire(dir, 0, &l2, &err), PACER_EBUSY);
	cr_assert_null(l2);
	snprintf(want, sizeof(want), "another pacer run (pid %ld) holds the lock", (long)getpid());
	cr_assert(strstr(err->message, want), "%s", err->message);
	cr_assert(strstr(err->message, "--wait-lock"), "%s", err->message);
	cr_assert(strstr(err->message, dir), "%s", err->message);
	pacer_error_clear(&err);

	fslock_release(l1);
	cr_assert_eq(fslock_acquire(dir, 0, &l2, &err), 0);
	fslock_release(l2);
	fslock_release(NULL);
	test_rmrf(tmp);
	free(dir);
	free(tmp);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(fslock, wait_lock_waits_for_the_other_process)
{
	char *dir = test_tmpdir("pacer-lock");
	struct fslock *l = NULL;
	struct pacer_error *err = NULL;
	int ready[2], go[2];
	char c, want[64];
	pid_t pid;
	double t0;
	int status;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct fslock *mine = NULL;

		if (fslock_acquire(dir, 0, &mine, NULL) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		/* Hold the lock until the parent says so, then a little longer. */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		usleep(300 * 1000);
		fslock_release(mine);
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(fslock_acquire(dir, 0, &l, &err), PACER_EBUSY);
	snprintf(want, sizeof(want), "(pid %ld)", (long)pid);
	cr_assert(strstr(err->message, want), "%s", err->message);
	pacer_error_clear(&err);

	cr_assert_eq(write(go[1], "g", 1), 1);
	t0 = now_s();
	cr_assert_eq(fslock_acquire(dir, 1, &l, &err), 0);
	cr_assert_geq(now_s() - t0, 0.2, "did not wait for the holder");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fslock_release(l);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	test_rmrf(dir);
	free(dir);
}
