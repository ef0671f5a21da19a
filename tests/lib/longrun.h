/*
 * longrun.h: helpers for the tests of pacer's long-running commands
 * (tests/watch/, tests/serve_cli/): start `pacer watch|serve` in the
 * background with its log captured in a file, wait for log lines, stop it
 * with a signal and read its exit status; run shell commands (git) in a
 * directory (also used by tests/backends/test_git_source.c); wait for a
 * condition with a deadline.
 *
 * The helpers fail the running Criterion test (cr_assert) when the harness
 * breaks (fork fails, a command of the fixture fails).
 */
#ifndef PACER_LONGRUN_H
#define PACER_LONGRUN_H

#include <sys/types.h>

struct lr_proc {
	pid_t pid; /* 0 when not running */
	char *log; /* path of the captured stdout+stderr; owned */
};

/*
 * Start argv (argv[0] is run as is) with env_extra ("NAME=value",
 * NULL-terminated, may be NULL) added, stdout and stderr appended to
 * log_path (copied), stdin /dev/null.
 */
void lr_start(struct lr_proc *p, const char *const *argv, const char *const *env_extra,
              const char *log_path);

/* The log so far (caller frees; "" when empty). */
char *lr_log(const struct lr_proc *p);

/* How many times needle occurs in the log now. */
int lr_count(const struct lr_proc *p, const char *needle);

/* Wait until needle occurs at least n times; 1 when it did within timeout_ms, else 0. */
int lr_wait_log(const struct lr_proc *p, const char *needle, int n, int timeout_ms);

/*
 * Send sig and wait up to timeout_ms for the exit. Returns the exit status,
 * 128+signal when it died of a signal, or -1 when it did not exit in time
 * (it is then killed with SIGKILL and reaped). Frees p->log.
 */
int lr_stop(struct lr_proc *p, int sig, int timeout_ms);

/* Print the log to stderr, framed with `what` (for failing tests). */
void lr_dump(const struct lr_proc *p, const char *what);

/*
 * lr_wait_log() that must succeed: otherwise the log is dumped and the test
 * fails, `what` naming the process ("pacer serve").
 */
void lr_expect_log(const struct lr_proc *p, const char *what, const char *needle, int n,
                   int timeout_ms);

/*
 * Run `sh -c CMD` in dir with a fixed git identity and no user/system git
 * config; the test fails when it exits non-zero. Returns stdout without the
 * trailing newlines (caller frees).
 */
char *lr_sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* N of the first "(port N)" in the log (pacer serve's "listening" line); 0 when none. */
int lr_port(const struct lr_proc *p);

/*
 * In dir: a bare repository remote.git (branch main) and a clone work/ whose
 * origin it is. *work gets the clone's path; returns the remote's file:// URL
 * (caller frees both).
 */
char *lr_git_remote(const char *dir, char **work);

/*
 * In the clone work: commit everything as msg and push it to origin main.
 * Returns the commit id (caller frees).
 */
char *lr_git_commit(const char *work, const char *msg);

/* Milliseconds on CLOCK_MONOTONIC. */
long long lr_now_ms(void);

/* Sleep ms milliseconds (tests only: the product has no sleep loops). */
void lr_sleep_ms(int ms);

#endif
