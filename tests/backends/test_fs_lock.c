/*
 * test_fs_lock.c: backends/fs/lock.c, one pacer run per state directory.
 *
 * The lock is held by another process (a forked child) in every case that
 * matters: refused at once with the holder's pid, waited for, interrupted
 * while waiting, and free again as soon as a holder is killed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/fs/lock.h"
#include "reconcile/base/clock.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"

/*
 * A child process holding the lock of a directory until told (or killed).
 * Once started, the lock is busy and a refusal names the holder's pid.
 */
struct holder {
	pid_t pid;
	int go[2]; /* a byte written here makes it release and exit */
};

static void holder_start(struct holder *h, const char *dir)
{
	struct fslock *l = NULL;
	struct pacer_error *err = NULL;
	int ready[2];
	char c, want[64];

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(h->go), 0);
	h->pid = fork();
	cr_assert_geq(h->pid, 0);
	if (h->pid == 0) {
		struct fslock *mine = NULL;

		/* Never outlive a failed test: its end of the pipe closes, or it dies with us. */
		close(h->go[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fslock_acquire(dir, FSLOCK_NOWAIT, &mine, NULL) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		/* Hold the lock until the parent says so, then a little longer. */
		if (read(h->go[0], &c, 1) != 1)
			_exit(3);
		pacer_sleep_ms(300);
		fslock_release(mine);
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1, "the holder did not get the lock");
	close(ready[0]);
	close(ready[1]);
	cr_assert_eq(fslock_acquire(dir, FSLOCK_NOWAIT, &l, &err), PACER_EBUSY);
	cr_assert_null(l);
	snprintf(want, sizeof(want), "(pid %ld)", (long)h->pid);
	cr_assert(strstr(err->message, want), "%s", err->message);
	pacer_error_free(err);
}

/* Tell the holder to release; returns its wait status once it exited. */
static int holder_finish(struct holder *h, int sig)
{
	int status;

	if (sig)
		kill(h->pid, sig);
	else
		cr_assert_eq(write(h->go[1], "g", 1), 1);
	cr_assert_eq(waitpid(h->pid, &status, 0), h->pid);
	close(h->go[0]);
	close(h->go[1]);
	return status;
}

TestSuite(fslock, .init = bt_tmp_init, .fini = bt_tmp_fini);

Test(fslock, second_run_is_refused_with_the_holders_pid)
{
	const char *tmp = bt_tmp;
	char *dir = bt_join(tmp, "state");
	struct fslock *l1 = NULL, *l2 = NULL;
	struct pacer_error *err = NULL;
	char want[64];
	struct stat st;

	cr_assert_eq(fslock_acquire(dir, FSLOCK_NOWAIT, &l1, &err), 0); /* creates the directory */
	cr_assert_not_null(l1);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	/* flock excludes a second open even within one process. */
	cr_assert_eq(fslock_acquire(dir, FSLOCK_NOWAIT, &l2, &err), PACER_EBUSY);
	cr_assert_null(l2);
	snprintf(want, sizeof(want), "another pacer run (pid %ld) holds the lock", (long)getpid());
	cr_assert(strstr(err->message, want), "%s", err->message);
	cr_assert(strstr(err->message, "--wait-lock"), "%s", err->message);
	cr_assert(strstr(err->message, dir), "%s", err->message);
	pacer_error_clear(&err);

	fslock_release(l1);
	cr_assert_eq(fslock_acquire(dir, FSLOCK_NOWAIT, &l2, &err), 0);
	fslock_release(l2);
	fslock_release(NULL);
	free(dir);
}

Test(fslock, release_clears_the_pid_but_keeps_the_file)
{
	const char *dir = bt_tmp;
	char *file = bt_join(dir, "lock");
	struct fslock *l = NULL;
	char want[32], *text;

	cr_assert_eq(fslock_acquire(dir, FSLOCK_NOWAIT, &l, NULL), 0);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	text = test_read_file(file, NULL);
	cr_assert_str_eq(text, want);
	free(text);
	fslock_release(l);
	/* Never unlinked: a second run may have the old inode open already. */
	text = test_read_file(file, NULL);
	cr_assert_str_eq(text, "");
	free(text);
	free(file);
}

Test(fslock, wait_lock_waits_for_the_other_process)
{
	const char *dir = bt_tmp;
	struct fslock *l = NULL;
	struct pacer_error *err = NULL;
	struct holder h;
	double t0;
	int status;

	holder_start(&h, dir);
	cr_assert_eq(write(h.go[1], "g", 1), 1);
	t0 = pacer_now_s();
	cr_assert_eq(fslock_acquire(dir, FSLOCK_WAIT, &l, &err), 0);
	cr_assert_geq(pacer_now_s() - t0, 0.2, "did not wait for the holder");
	cr_assert_eq(waitpid(h.pid, &status, 0), h.pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fslock_release(l);
	close(h.go[0]);
	close(h.go[1]);
}

/* The kernel drops a flock with its process: a killed run leaves no stale lock. */
Test(fslock, a_killed_holder_leaves_no_stale_lock)
{
	const char *dir = bt_tmp;
	struct fslock *l = NULL;
	struct pacer_error *err = NULL;
	struct holder h;
	int status;

	holder_start(&h, dir);
	status = holder_finish(&h, SIGKILL);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Its pid is still in the file, but nothing holds the lock. */
	cr_assert_eq(fslock_acquire(dir, FSLOCK_NOWAIT, &l, &err), 0, "%s",
	             err ? err->message : "");
	fslock_release(l);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal handler installed without SA_RESTART ends the wait: the user gave up. */
Test(fslock, a_signal_interrupts_the_wait)
{
	const char *dir = bt_tmp;
	struct itimerval t = {.it_value = {.tv_usec = 200 * 1000}};
	struct sigaction sa, old;
	struct fslock *l = NULL;
	struct pacer_error *err = NULL;
	struct holder h;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGALRM, &sa, &old), 0);
	holder_start(&h, dir);
	cr_assert_eq(setitimer(ITIMER_REAL, &t, NULL), 0);
	cr_assert_eq(fslock_acquire(dir, FSLOCK_WAIT, &l, &err), PACER_ECANCELLED);
	cr_assert_null(l);
	cr_assert(strstr(err->message, "interrupted while waiting for the lock"), "%s",
	          err->message);
	pacer_error_free(err);
	sigaction(SIGALRM, &old, NULL);
	holder_finish(&h, 0);
}
