/*
 * testlib.h: helpers shared by the tests.
 *
 * - test_sim_*: start a real marathon-sim on an ephemeral loopback port and
 *   stop it (SIGTERM, then wait). The URL is what the simulator printed.
 *   test_sim_request / test_sim_expect: one request to it (and its check).
 * - test_run: run a program (pacer, git...) and capture its output.
 * - test_tmpdir / test_rmrf: scratch directories under $TMPDIR.
 * - test_http: one real HTTP request with libcurl.
 * - test_shared_path: a path under ../shared (reference material), or NULL
 *   when the folder is not there (tests then skip, saying so).
 * - test_json: JSON written with single quotes; test_closed_port: a port
 *   nothing listens on.
 *
 * test_sim_expect, test_json and test_closed_port fail the running Criterion
 * test (cr_assert) when they cannot do their job or the check fails; the
 * others return an error instead.
 */
#ifndef PACER_TESTLIB_H
#define PACER_TESTLIB_H

#include <stddef.h>
#include <sys/types.h>

struct test_sim {
	pid_t pid;
	char url[128]; /* "http://127.0.0.1:PORT" */
	int port;
};

/*
 * Start marathon-sim with `--listen 127.0.0.1:0` plus the NULL-terminated
 * extra arguments (may be NULL). Returns 0 and fills sim, or -1.
 * The simulator's stderr goes to this process's stderr.
 */
int test_sim_start(struct test_sim *sim, const char *const *extra_args);
/* SIGTERM and wait. Returns the exit status (0 for a clean exit) or -1. */
int test_sim_stop(struct test_sim *sim);
/*
 * What a Marathon restart looks like to its clients: stop the simulator
 * (SIGTERM, wait) and start a new one on the same port with extra_args
 * (as for test_sim_start(); pass the first one's "--framework-id ID" to be
 * the same cluster again; without it the new one is another cluster). The
 * simulator binds with SO_REUSEADDR; a port still taken is retried for up
 * to 5 s. Returns 0 (sim->pid is the new process, sim->url unchanged) or -1.
 */
int test_sim_restart(struct test_sim *sim, const char *const *extra_args);

/*
 * One request to a started simulator: method on sim->url + path, with body
 * (may be NULL) sent as application/json. Returns the HTTP status, 0 when no
 * answer came (connection refused or dropped). *resp (may be NULL) receives
 * the response body, caller frees.
 */
int test_sim_request(const struct test_sim *sim, const char *method, const char *path,
		     const char *body, char **resp);

/*
 * test_sim_request() whose answer must have status want and, unless
 * want_body is NULL, exactly that body. Otherwise the running Criterion test
 * fails with the request, what came back, and why (may be NULL): what the
 * check is about.
 */
void test_sim_expect(const struct test_sim *sim, const char *method, const char *path,
		     const char *body, int want, const char *want_body, const char *why);

/*
 * Run argv[0] (searched in PATH unless it has a '/') with env_extra
 * ("NAME=value" strings, NULL-terminated, may be NULL) added to the current
 * environment, stdin from /dev/null. *out and *errout (may be NULL) receive
 * the captured output (caller frees). Returns the exit status, or 128+signal,
 * or -1 when it could not be run. timeout_s > 0 kills it after that long.
 */
int test_run(const char *const *argv, const char *const *env_extra, char **out, char **errout,
	     int timeout_s);

/* The pacer and marathon-sim binaries of this build. Static strings. */
const char *test_pacer_bin(void);
const char *test_sim_bin(void);

/* mkdtemp under $TMPDIR (or /tmp); caller frees the returned path. */
char *test_tmpdir(const char *prefix);
/* rm -rf path. Returns 0 or -1. */
int test_rmrf(const char *path);
/* Write a whole file (creating parent dirs). Returns 0 or -1. */
int test_write_file(const char *path, const char *content);
/* Read a whole file; caller frees. NULL on error. */
char *test_read_file(const char *path, size_t *len);

/* Path under the shared reference folder, or NULL if it does not exist. Caller frees. */
char *test_shared_path(const char *rel);
/* Path under the source tree. Caller frees. */
char *test_source_path(const char *rel);

/*
 * One HTTP request. headers is a NULL-terminated list of "Name: value" (may
 * be NULL); body may be NULL. *status gets the HTTP status (0 when the
 * connection failed); *resp (may be NULL) the body, caller frees.
 * Returns 0 when a response was received, -1 otherwise.
 */
int test_http(const char *method, const char *url, const char *body, const char *const *headers,
	      int *status, char **resp);

struct json_object;
/*
 * Parse JSON written with single quotes for readability ({'id':'/a'}): every
 * ' becomes ", so values cannot contain a quote. The test fails on bad JSON.
 * Caller frees with json_object_put().
 */
struct json_object *test_json(const char *sq);

/* A loopback TCP port that nothing listens on (bound, then closed). */
int test_closed_port(void);

#endif
