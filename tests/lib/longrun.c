/*
 * longrun.c: background pacer processes for the watch and serve tests.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/longrun.h"
#include "tests/lib/testlib.h"

extern char **environ;

static const char *const git_env[] = {
    "GIT_AUTHOR_NAME=Pacer Test",    "GIT_AUTHOR_EMAIL=test@example.com",
    "GIT_COMMITTER_NAME=Pacer Test", "GIT_COMMITTER_EMAIL=test@example.com",
    "GIT_CONFIG_NOSYSTEM=1",         "GIT_CONFIG_GLOBAL=/dev/null",
    "GIT_TERMINAL_PROMPT=0",         NULL};

long long lr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lr_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void lr_start(struct lr_proc *p, const char *const *argv, const char *const *env_extra,
              const char *log_path)
{
	pid_t pid;

	p->log = strdup(log_path);
	cr_assert(p->log);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int in = open("/dev/null", O_RDONLY);

		if (fd < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		/* Criterion's pipes to its runner must not outlive the test. */
		for (int i = 3; i < 1024; i++)
			close(i);
		for (size_t i = 0; env_extra && env_extra[i]; i++)
			putenv((char *)env_extra[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	p->pid = pid;
}

char *lr_log(const struct lr_proc *p)
{
	size_t len;
	char *s = test_read_file(p->log, &len);

	return s ? s : strdup("");
}

int lr_count(const struct lr_proc *p, const char *needle)
{
	char *s = lr_log(p), *at = s;
	int n = 0;

	while (at && (at = strstr(at, needle))) {
		n++;
		at += strlen(needle);
	}
	free(s);
	return n;
}

int lr_wait_log(const struct lr_proc *p, const char *needle, int n, int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;

	do {
		if (lr_count(p, needle) >= n)
			return 1;
		lr_sleep_ms(50);
	} while (lr_now_ms() < end);
	return lr_count(p, needle) >= n;
}

int lr_stop(struct lr_proc *p, int sig, int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;
	int status, rc = -1;

	if (p->pid <= 0)
		goto done;
	kill(p->pid, sig);
	for (;;) {
		pid_t w = waitpid(p->pid, &status, WNOHANG);

		if (w == p->pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
		if (lr_now_ms() >= end) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			break;
		}
		lr_sleep_ms(20);
	}
	p->pid = 0;
done:
	free(p->log);
	p->log = NULL;
	return rc;
}

void lr_dump(const struct lr_proc *p, const char *what)
{
	char *s = p->log ? lr_log(p) : NULL;

	fprintf(stderr, "----- %s log -----\n%s----- end of %s log -----\n", what, s ? s : "",
	        what);
	free(s);
}

char *lr_sh(const char *dir, const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL, *out = NULL, *errout = NULL;
	va_list ap;
	size_t n;
	int rc;

	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	cr_assert(asprintf(&full, "cd '%s' && %s", dir, cmd) >= 0);
	{
		const char *argv[] = {"sh", "-c", full, NULL};

		rc = test_run(argv, git_env, &out, &errout, 60);
	}
	cr_assert_eq(rc, 0, "command failed (%d): %s\n%s", rc, cmd, errout ? errout : "");
	n = out ? strlen(out) : 0;
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	free(cmd);
	free(full);
	free(errout);
	return out ? out : strdup("");
}

void lr_expect_log(const struct lr_proc *p, const char *what, const char *needle, int n,
                   int timeout_ms)
{
	if (!lr_wait_log(p, needle, n, timeout_ms)) {
		lr_dump(p, what);
		cr_assert_fail("%s did not log '%s' (x%d) within %d ms", what, needle, n,
		               timeout_ms);
	}
}

char *lr_git_remote(const char *dir, char **work)
{
	char *url = NULL;

	cr_assert(asprintf(work, "%s/work", dir) >= 0);
	free(lr_sh(dir, "git init -q --bare -b main remote.git && git init -q -b main work && "
	                "git -C work remote add origin ../remote.git"));
	cr_assert(asprintf(&url, "file://%s/remote.git", dir) >= 0);
	return url;
}

char *lr_git_commit(const char *work, const char *msg)
{
	free(lr_sh(work, "git add -A && git commit -q -m '%s' && git push -q origin HEAD:main",
	           msg));
	return lr_sh(work, "git rev-parse HEAD");
}

int lr_port(const struct lr_proc *p)
{
	char *log = lr_log(p), *at = strstr(log, "(port ");
	int port = at ? (int)strtol(at + 6, NULL, 10) : 0;

	free(log);
	return port;
}
