/*
 * clitest.h: helpers for the end-to-end tests of the pacer program
 * (tests/cli/). Each test gets its own marathon-sim on an ephemeral port and
 * its own scratch directory holding the source (src/), the state directory
 * (state/) and the backups (backups/); pacer runs as a real process and the
 * tests look at what the simulator holds afterwards over real HTTP.
 *
 * The helpers fail the running Criterion test (cr_assert) when the harness
 * itself breaks (the simulator does not start, a file cannot be written), so
 * a test body only asserts on pacer's behaviour.
 *
 * Ownership: every char * and json_object * returned is the caller's
 * (free() / json_object_put()); ct_teardown() frees what struct ct holds.
 */
#ifndef PACER_CLITEST_H
#define PACER_CLITEST_H

#include <stddef.h>

#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

struct json_object;

struct ct {
	struct test_sim sim;
	int sim_up;
	char *dir;     /* scratch root, removed by ct_teardown */
	char *src;     /* dir/src: the desired state */
	char *state;   /* dir/state: --state-dir */
	char *backups; /* dir/backups: --backup-dir */
};

/* What a pacer run printed and how it exited. */
struct ct_run {
	int rc;    /* exit status, 128+signal, or -1 */
	char *out; /* stdout (never NULL) */
	char *err; /* stderr (never NULL) */
};

/*
 * Start a simulator with `--task-launch-ms 50 --health-ms 50` followed by
 * sim_extra (NULL-terminated, may be NULL; a later flag wins) and make the
 * scratch directories. sim_extra == CT_NO_SIM makes the directories only.
 */
extern const char *const CT_NO_SIM[];
void ct_setup(struct ct *t, const char *const *sim_extra);
/* Stop the simulator (asserting a clean exit) and remove the scratch dir. */
void ct_teardown(struct ct *t);
/*
 * Criterion .fini of every cli test: tears down the struct cts (up to 4)
 * that the test set up if the test ended before its own ct_teardown() (a
 * failed cr_assert), so no simulator outlives its test.
 */
void ct_fini(void);

/* Write src/<rel> (parents created). */
void ct_write(struct ct *t, const char *rel, const char *content);
/*
 * Write src/<file>: a small healthy app (cmd "sleep 1000", cpus 0.1,
 * instances 1) whose "mem" and env value K make versions tell apart.
 */
void ct_write_app(struct ct *t, const char *file, const char *id, int mem, const char *k);
/*
 * PUT the definition ct_write_app() writes (with force) straight to
 * Marathon, as someone changing the app behind pacer's back, and wait
 * (20 s at most) until its deployment ended. The test fails otherwise.
 */
void ct_put_app(struct ct *t, const char *id, int mem, const char *k);
/*
 * An app definition: its versions differ in env.K, and the simulator plays
 * its health from env.SIM_BEHAVIOR ("unhealthy", "unready"...).
 */
struct ct_def {
	const char *id;
	const char *k;        /* env.K */
	const char *behavior; /* env.SIM_BEHAVIOR; NULL: none (healthy, ready) */
	int instances;        /* 0: 2 */
	int fast;             /* label pacer.timeout "1": fails fast whatever the run's --timeout */
	const char *extra;    /* more JSON members ("labels": {...} unless fast), or NULL */
	const char *checks;   /* JSON members that check it; NULL: a command health check */
};
/*
 * Write src/<id without the leading />.json: the app d describes, with cmd
 * "sleep 1000", cpus 0.1 and mem 32.
 */
void ct_write_def(struct ct *t, const struct ct_def *d);
/* ct_write_def() of 2 instances with a command health check (fast: see struct ct_def). */
void ct_write_checked_app(struct ct *t, const char *id, const char *k, const char *behavior,
                          int fast);
/*
 * `pacer sync extra...` (extra as for ct_cmd()) that must exit want; when it
 * does not, the run is dumped and the test fails, `what` naming the run.
 */
void ct_sync_expect(struct ct *t, const char *const *extra, int want, const char *what);
/*
 * `pacer sync extra...` that is expected (cr_expect) to exit want, `what`
 * naming the run and what its exit code means; dumped when it does not.
 * Returns the run for more checks (caller frees with ct_run_free()).
 */
struct ct_run ct_sync_run(struct ct *t, const char *const *extra, int want, const char *what);
/* ct_sync_expect(t, NULL, 0, what). */
void ct_sync_ok(struct ct *t, const char *what);
/*
 * ct_setup(t, NULL), then n (1 to 26) small apps written with ct_write_app()
 * to a.json, b.json... as /<group>/a, /<group>/b... (mem 32, K "v1") and
 * applied by ct_sync_ok(): a cluster pacer owns, for a test to change.
 */
void ct_setup_synced(struct ct *t, const char *group, int n);
/*
 * The cluster before a run that a crash or fault test interrupts, and the
 * source that run applies. Apps are written by ct_write_checked_app() (K
 * "v1", "v2"); "failing" apps never get healthy (SIM_BEHAVIOR unhealthy),
 * "failing fast" ones also carry pacer.timeout "1".
 */
enum ct_scene {
	CT_SCENE_CREATE,         /* Marathon: nothing; source: /a v1 */
	CT_SCENE_UPDATE,         /* Marathon: /a v1; source: /a v2 */
	CT_SCENE_CREATE_BESIDE,  /* Marathon: /a v1; source: /a v1 and /n v1 */
	CT_SCENE_PRUNE,          /* Marathon: /a and /b v1; source: /a v1 only */
	CT_SCENE_FAILING_UPDATE, /* Marathon: /a v1; source: /a v2, failing */
	CT_SCENE_ATOMIC,         /* Marathon: /a v1; source: /a v2 and /z v1 failing fast */
	CT_SCENE_FAILING_CREATE, /* Marathon: /a v1; source: /a v1 and /z v1 failing fast */
	CT_SCENE_UPDATED,        /* Marathon: /a v2, applied over v1; source: /a v2 */
};
/* Write the source and run the syncs (ct_sync_ok) that make the scene. */
void ct_prepare(struct ct *t, enum ct_scene scene);
/* Remove src/<rel>. */
void ct_unlink(struct ct *t, const char *rel);

/* Run `pacer args...` (args NULL-terminated), env_extra as for test_run. 120 s timeout. */
struct ct_run ct_pacer(const char *const *args, const char *const *env_extra);
/*
 * Run `pacer CMD --source SRC --marathon URL --state-dir STATE --backup-dir
 * BACKUPS extra...` (extra NULL-terminated, may be NULL).
 */
struct ct_run ct_cmd(struct ct *t, const char *cmd, const char *const *extra);
/* ct_cmd() with environment variables ("NAME=value", NULL-terminated, may be NULL). */
struct ct_run ct_cmd_env(struct ct *t, const char *cmd, const char *const *extra,
                         const char *const *env_extra);
void ct_run_free(struct ct_run *r);
/* Print a run to stderr (for failing tests' logs). */
void ct_run_dump(const char *what, const struct ct_run *r);

/* HTTP to the simulator: method + path (+ body, may be NULL). Returns the status (0: no answer). */
int ct_http(struct ct *t, const char *method, const char *path, const char *body, char **resp);
/* GET path and parse it; NULL when not 200 or not JSON. */
struct json_object *ct_get_json(struct ct *t, const char *path);
/* The "app" object of GET /v2/apps/<id> (id starts with '/'), or NULL when absent. */
struct json_object *ct_app(struct ct *t, const char *id);
/* 1 when Marathon has app id (ct_app() finds it), else 0. */
int ct_has_app(struct ct *t, const char *id);
/* Number of apps in GET /v2/apps; -1 on failure. */
int ct_napps(struct ct *t);

/*
 * Requests in the simulator's log (/_sim/requests) whose method equals
 * `method` (NULL: any) and whose path starts with `prefix` (NULL: any).
 */
int ct_count_requests(struct ct *t, const char *method, const char *prefix);
/* The simulator's request log: the "requests" array (new reference; caller puts). */
struct json_object *ct_requests(struct ct *t);
/* PUT, POST and DELETE requests on /v2/ (writes to Marathon). */
int ct_count_writes(struct ct *t);
/* Inject a fault: POST /_sim/faults with fault (JSON); the test fails unless it is taken (201). */
void ct_inject(struct ct *t, const char *fault);
/* Empty the request log. */
void ct_clear_requests(struct ct *t);
/* Wait until GET /v2/deployments is empty; 1 when it is, 0 after timeout_ms. */
int ct_wait_idle(struct ct *t, int timeout_ms);

/* A string member of a JSON object by dotted path ("container.docker.image"), or NULL. */
const char *ct_str(struct json_object *o, const char *path);
/* An integer member by dotted path, or -999 when absent. */
long long ct_int(struct json_object *o, const char *path);
/* 1 when haystack contains needle (NULL-safe). */
int ct_has(const char *haystack, const char *needle);

/*
 * cr_expect(cond, ...) that also counts a failure in the int lvalue bad, for
 * a test that dumps what it saw once when anything failed.
 */
#define CT_EXPECT_COUNT(bad, cond, ...)                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			(bad)++;                                                                   \
			cr_expect(0, __VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

/* Sleep ms milliseconds. */
void ct_sleep_ms(int ms);

/*
 * Fail unless Marathon runs app id with env.K k and no env.SIM_BEHAVIOR, its
 * integer member `count` (tasksRunning, tasksHealthy...) being n. Returns
 * the app (new reference, caller puts) for more checks.
 */
struct json_object *ct_expect_runs(struct ct *t, const char *id, const char *k, const char *count,
                                   long long n);
/* Versions Marathon keeps of app id (GET /v2/apps/<id>/versions); -1 when it has none. */
int ct_versions(struct ct *t, const char *id);
/*
 * 1 when app (an object of GET /v2/apps) runs every instance healthy and
 * running and has no deployment in flight: settled.
 */
int ct_settled(struct json_object *app);

/* ---- pacer's state directory, as the crash and fault tests check it ---- */

/*
 * The outcomes pacer's text report printed for app_id (rows "<outcome>  <id>
 * ..."), space separated in report order; "" when the app has no row
 * (unchanged). Caller frees.
 */
char *ct_outcomes(const char *out, const char *app_id);
/* 1 when owned.json lists id, 0 when it does not (or there is none), -1 when it does not parse. */
int ct_owned(struct ct *t, const char *id);
/* 1 when held.json holds a change of id, 0 when not (or there is none), -1 when it does not parse. */
int ct_held(struct ct *t, const char *id);
/* Entries (*.json) in state/journal/; 0 when the folder is missing. */
int ct_journal_count(struct ct *t);
/*
 * Everything a crash may have torn, checked: owned.json, held.json,
 * cluster.json, suspended.json and every journal entry parse as the JSON
 * objects they must be, history.json as an array, the cache has its header
 * and key<TAB>value lines, every backup parses
 * and names its app, and no temp file (a name with ".tmp-") is left in the
 * state directory, its journal folder or the backups. NULL when all is
 * well, else what is wrong (caller frees).
 */
char *ct_check_state(struct ct *t);

/*
 * cr_expect that ct_check_state() finds nothing wrong, the failure naming
 * the case `what`. Returns 1 when it found something, else 0.
 */
int ct_expect_sound_state(struct ct *t, const char *what);

#endif
