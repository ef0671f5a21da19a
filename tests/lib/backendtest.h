/*
 * backendtest.h: what the backend tests (tests/backends/) share.
 *
 * - bt_tmp: a scratch directory for every test of a suite.
 * - bt_join: a path under a directory.
 * - bt_count_entries / bt_count_visible: what a directory holds, to check
 *   that a write left no temp file behind or that a cache was swept.
 * - bt_sim_*: the requests a started marathon-sim saw (its /_sim/requests
 *   log), to check what a client sent: how often, and with which headers.
 *
 * bt_join and bt_sim_requests (and the bt_sim_* built on it) fail the
 * running Criterion test (cr_assert) when they cannot do their job; the
 * counts return -1 for a directory that cannot be opened.
 */
#ifndef PACER_BACKENDTEST_H
#define PACER_BACKENDTEST_H

#include "tests/lib/testsim.h"

struct json_object;

/*
 * A fresh scratch directory for each test of a suite, removed after it
 * (failed or not): TestSuite(name, .init = bt_tmp_init, .fini = bt_tmp_fini)
 * and the tests find its path in bt_tmp. Each test runs in a process of its
 * own, so the tests of a suite never share it.
 */
extern char *bt_tmp;
void bt_tmp_init(void);
void bt_tmp_fini(void);

/* "a/b" (caller frees). */
char *bt_join(const char *a, const char *b);

/*
 * The entries of dir, "." and ".." excluded; *hidden (may be NULL) gets how
 * many of them start with a dot. -1 when dir cannot be opened.
 */
int bt_count_entries(const char *dir, int *hidden);
/* The entries of dir that do not start with a dot; -1 when it cannot be opened. */
int bt_count_visible(const char *dir);

/* The "requests" array of GET /_sim/requests, oldest first (caller puts). */
struct json_object *bt_sim_requests(const struct test_sim *s);
/* How many `method path` requests s saw (the query is not part of path). */
int bt_sim_count(const struct test_sim *s, const char *method, const char *path);
/*
 * The last request s saw that was `method path`, or the last of all when
 * method is NULL (caller puts); NULL when there is none.
 */
struct json_object *bt_sim_last(const struct test_sim *s, const char *method, const char *path);
/* The lower-case header `name` of a request from the log, borrowed from req; or NULL. */
const char *bt_header(struct json_object *req, const char *name);

#endif
