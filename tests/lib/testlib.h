/*
 * testlib.h: helpers shared by the tests.
 *
 * (marathon-sim processes and HTTP requests are in testsim.h.)
 * - test_run: run a program (pacer, git...) and capture its output.
 * - test_tmpdir / test_rmrf: scratch directories under $TMPDIR.
 * - test_shared_path: a path under ../shared (reference material), or NULL
 *   when the folder is not there (tests then skip, saying so).
 * - test_json: JSON written with single quotes; test_json_get: a member by
 *   dotted path.
 *
 * test_json fails the running Criterion test (cr_assert) on bad JSON; the
 * others return an error instead.
 */
#ifndef PACER_TESTLIB_H
#define PACER_TESTLIB_H

#include <stddef.h>
#include <sys/types.h>

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


struct json_object;
/*
 * Parse JSON written with single quotes for readability ({'id':'/a'}): every
 * ' becomes ", so values cannot contain a quote. The test fails on bad JSON.
 * Caller frees with json_object_put().
 */
struct json_object *test_json(const char *sq);
/*
 * The member of o at a dotted path: object keys and array indexes
 * ("container.docker.image", "apps.0.id"); NULL when o is NULL or a step is
 * missing. Borrowed from o.
 */
struct json_object *test_json_get(struct json_object *o, const char *path);


#endif
