/*
 * testsim.h: the network side of the test helpers, in a library of its own
 * (pacer_testsim, linking libcurl) so that unit tests do not link it.
 *
 * - test_sim_*: start a real marathon-sim on an ephemeral loopback port and
 *   stop it (SIGTERM, then wait). The URL is what the simulator printed.
 *   test_sim_request / test_sim_expect: one request to it (and its check).
 * - test_http: one real HTTP request with libcurl.
 * - test_closed_port: a port nothing listens on.
 *
 * test_sim_expect and test_closed_port fail the running Criterion test
 * (cr_assert) when they cannot do their job or the check fails; the others
 * return an error instead.
 */
#ifndef PACER_TESTSIM_H
#define PACER_TESTSIM_H

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
 * One HTTP request. headers is a NULL-terminated list of "Name: value" (may
 * be NULL); body may be NULL. *status gets the HTTP status (0 when the
 * connection failed); *resp (may be NULL) the body, caller frees.
 * Returns 0 when a response was received, -1 otherwise.
 */
int test_http(const char *method, const char *url, const char *body, const char *const *headers,
	      int *status, char **resp);

/* A loopback TCP port that nothing listens on (bound, then closed). */
int test_closed_port(void);

#endif
