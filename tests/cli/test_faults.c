/*
 * The fault matrix: every request pacer makes that changes Marathon, each
 * hit once by each fault marathon-sim can inject (POST /_sim/faults):
 *
 *   503 before applying   Marathon (or a proxy) fails the request: nothing
 *                         changed, but pacer cannot know that from a 5xx;
 *   apply, then drop      the change is made, the reply is lost;
 *   apply, then too slow  the reply comes after --marathon-timeout;
 *   too slow, then apply  the request lands after pacer gave up on it;
 *   409 before applying   refused: nothing changed;
 * and two more that the same code must survive:
 *   apply, then 503       a proxy or a failing leader answers 5xx after the
 *                         change was made;
 *   drop before applying  the connection dies with the request unread.
 *
 * After the run (and once the delayed request landed and the deployments
 * ended), what Marathon runs is read back from the simulator, and the run's
 * report must say exactly that: the outcome printed for the app, the exit
 * code, and the ownership it recorded, each mean one state of Marathon
 * ("updated": the new definition runs healthy; "failed" after a refusal:
 * nothing changed; "rollback_failed": the change is still there...). An
 * outcome that fits neither state Marathon can be in ("unknown" while
 * Marathon answered every read) is a mismatch too.
 *
 * And a request that may have been applied is never sent twice blindly:
 * in the simulator's request log, every repetition of the faulted request
 * comes after a read of the app (GET /v2/apps/<id>), and a request that was
 * applied (then dropped, too slow or answered 503) is not repeated at all.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

/* pacer runs with --marathon-timeout 1; the latency faults (fault_json) delay this long. */
#define LATENCY_MS 2500

enum fault {
	F_503,
	F_DROP,
	F_SLOW_AFTER,
	F_SLOW_BEFORE,
	F_409,
	F_503_AFTER,
	F_DROP_BEFORE,
	F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	"503 before applying", "apply then drop the connection",
	"apply then reply past --marathon-timeout", "land past --marathon-timeout",
	"409 before applying", "apply then answer 503", "drop the connection before applying",
};

/* The fault's JSON without path and method: "%s" there. */
static const char *const fault_json[F_COUNT] = {
	"{\"status\": 503, \"count\": 1, %s}",
	"{\"drop\": true, \"when\": \"after\", \"count\": 1, %s}",
	"{\"latency_ms\": 2500, \"when\": \"after\", \"count\": 1, %s}",
	"{\"latency_ms\": 2500, \"when\": \"before\", \"count\": 1, %s}",
	"{\"status\": 409, \"count\": 1, %s}",
	"{\"status\": 503, \"when\": \"after\", \"count\": 1, %s}",
	"{\"drop\": true, \"count\": 1, %s}",
};

/* Whether the faulted request was applied by Marathon when pacer got its answer (or none). */
static const int fault_applied[F_COUNT] = {0, 1, 1, 0, 0, 1, 0};

enum request {
	R_UPDATE,   /* PUT /v2/apps/a: v1 -> v2 */
	R_CREATE,   /* POST /v2/apps: /n */
	R_PRUNE,    /* DELETE /v2/apps/b: --prune */
	R_UNDO_PUT, /* PUT /v2/apps/a writing the backup back: the --atomic undo of /a */
	R_RESTART,  /* POST /v2/apps/a/restart: --on-failure restart */
	R_CANCEL,   /* DELETE /v2/deployments/<id>: the on-failure rollback of an update */
	R_UNCREATE, /* DELETE /v2/apps/z: the on-failure rollback of a create */
	R_RESTORE,  /* PUT /v2/apps/a by `pacer rollback /a` */
	R_COUNT
};

/*
 * One request, and the two states Marathon can end in: the request took
 * effect ("new") or it did not ("old"). Each state comes with what pacer
 * must report for it.
 */
struct request_spec {
	const char *name;
	const char *method;
	const char *path;     /* the fault's path (a prefix) */
	const char *exact;    /* the request's path in the log, for repeats; NULL: prefix */
	const char *after;    /* inject only once a "METHOD path" request was logged, or NULL */
	const char *app;      /* the app the request is about */
	const char *new_what; /* Marathon's state when the request took effect */
	const char *old_what; /* and when it did not */
	enum ct_scene scene;  /* the state before the run, and the source it applies */
	const char *args[12]; /* sync options (R_RESTORE: rollback options) */
	const char *new_k;    /* K when it took effect; NULL: the app is gone */
	const char *old_k;    /* K when it did not; NULL: the app is gone */
	int new_versions;     /* > 0: versions of the app when it took effect (a restart) */
	int new_healthy;      /* the app must run healthy in the new state */
	int old_healthy;
	const char *new_outcomes; /* what pacer may print for each state ("-": no row) */
	const char *old_outcomes;
	int new_rc, old_rc;
	int new_owned, old_owned; /* -1: not checked */
	int settles;              /* every deployment ends (the apps are healthy) */
};

static const struct request_spec requests[R_COUNT] = {
	[R_UPDATE] = {.name = "PUT update", .method = "PUT", .path = "/v2/apps/a",
	              .exact = "/v2/apps/a", .app = "/a",
	              .scene = CT_SCENE_UPDATE, .args = {"--timeout", "10", NULL},
	              .new_what = "v2 runs", .old_what = "v1 still runs",
	              .new_k = "v2", .old_k = "v1", .new_healthy = 1, .old_healthy = 1,
	              .new_outcomes = "updated", .old_outcomes = "failed", .new_rc = 0, .old_rc = 1,
	              .new_owned = 1, .old_owned = 1, .settles = 1},
	[R_CREATE] = {.name = "POST create", .method = "POST", .path = "/v2/apps",
	              .exact = "/v2/apps", .app = "/n",
	              .scene = CT_SCENE_CREATE_BESIDE, .args = {"--timeout", "10", NULL},
	              .new_what = "/n was created", .old_what = "/n was not created",
	              .new_k = "v1", .old_k = NULL, .new_healthy = 1,
	              .new_outcomes = "created", .old_outcomes = "failed", .new_rc = 0, .old_rc = 1,
	              .new_owned = 1, .old_owned = 0, .settles = 1},
	[R_PRUNE] = {.name = "DELETE prune", .method = "DELETE", .path = "/v2/apps/b",
	             .exact = "/v2/apps/b", .app = "/b",
	             .scene = CT_SCENE_PRUNE,
	             .args = {"--prune", "--force-prune", "--timeout", "10", NULL},
	             .new_what = "/b is gone", .old_what = "/b still runs",
	             .new_k = NULL, .old_k = "v1", .old_healthy = 1,
	             .new_outcomes = "pruned", .old_outcomes = "failed", .new_rc = 0, .old_rc = 1,
	             .new_owned = 0, .old_owned = 1, .settles = 1},
	/* The second PUT of /a in the run: the fault is injected once /z's create was sent. */
	[R_UNDO_PUT] = {.name = "rollback PUT (--atomic undo)", .method = "PUT",
	                .path = "/v2/apps/a", .exact = "/v2/apps/a", .after = "POST /v2/apps",
	                .app = "/a",
	                .scene = CT_SCENE_ATOMIC,
	                .args = {"--atomic", "--parallel", "1", "--timeout", "10", NULL},
	                .new_what = "/a was rolled back to v1", .old_what = "/a still runs v2",
	                .new_k = "v1", .old_k = "v2", .new_healthy = 1, .old_healthy = 1,
	                .new_outcomes = "rolled_back", .old_outcomes = "rollback_failed",
	                .new_rc = 1, .old_rc = 1, .new_owned = 1, .old_owned = 1, .settles = 1},
	[R_RESTART] = {.name = "POST restart (--on-failure restart)", .method = "POST",
	               .path = "/v2/apps/a/restart", .exact = "/v2/apps/a/restart", .app = "/a",
	               .scene = CT_SCENE_FAILING_UPDATE,
	               .args = {"--on-failure", "restart", "--timeout", "1", NULL},
	               .new_what = "/a was restarted", .old_what = "/a was not restarted",
	               .new_k = "v2", .old_k = "v2", .new_versions = 3,
	               .new_outcomes = "restarted", .old_outcomes = "failed", .new_rc = 1,
	               .old_rc = 1, .new_owned = 1, .old_owned = 1},
	/* Marathon's rollback first; when that fails pacer writes the backup back. */
	[R_CANCEL] = {.name = "DELETE deployment (on-failure rollback)", .method = "DELETE",
	              .path = "/v2/deployments", .app = "/a",
	              .scene = CT_SCENE_FAILING_UPDATE, .args = {"--timeout", "2", NULL},
	              .new_what = "/a was rolled back to v1 (by Marathon or from the backup)",
	              .old_what = "/a still runs v2", .new_k = "v1", .old_k = "v2",
	              .new_healthy = 1, .new_outcomes = "rolled_back",
	              .old_outcomes = "rollback_failed", .new_rc = 1, .old_rc = 1, .new_owned = 1,
	              .old_owned = 1},
	[R_UNCREATE] = {.name = "DELETE created app (on-failure rollback)", .method = "DELETE",
	                .path = "/v2/apps/z", .exact = "/v2/apps/z", .app = "/z",
	                .scene = CT_SCENE_FAILING_CREATE,
	                .args = {"--timeout", "10", NULL}, .new_what = "/z was removed",
	                .old_what = "/z still exists", .new_k = NULL, .old_k = "v1",
	                .new_outcomes = "rolled_back", .old_outcomes = "rollback_failed",
	                .new_rc = 1, .old_rc = 1, .new_owned = 0, .old_owned = 1},
	[R_RESTORE] = {.name = "rollback PUT (pacer rollback)", .method = "PUT",
	               .path = "/v2/apps/a", .exact = "/v2/apps/a", .app = "/a",
	               .scene = CT_SCENE_UPDATED,
	               .args = {"--timeout", "10", NULL}, .new_what = "/a was rolled back to v1",
	               .old_what = "/a still runs v2", .new_k = "v1", .old_k = "v2",
	               .new_healthy = 1, .old_healthy = 1, .new_outcomes = "rolled_back",
	               .old_outcomes = "error", .new_rc = 0, .old_rc = 1, .new_owned = 1,
	               .old_owned = 1, .settles = 1},
};

/* Plain ints: Criterion copies the parameters into the test's process. */
struct fault_case {
	int request; /* enum request */
	int fault;   /* enum fault */
};

#define ROW(r)                                                                                     \
	{r, F_503}, {r, F_DROP}, {r, F_SLOW_AFTER}, {r, F_SLOW_BEFORE}, {r, F_409},                \
	{r, F_503_AFTER}, {r, F_DROP_BEFORE}

static struct fault_case cases[] = {
	ROW(R_UPDATE),  ROW(R_CREATE), ROW(R_PRUNE),    ROW(R_UNDO_PUT),
	ROW(R_RESTART), ROW(R_CANCEL), ROW(R_UNCREATE), ROW(R_RESTORE),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* POST /_sim/faults for the case; returns the HTTP status (201 when injected). */
static int inject(struct ct *t, const struct fault_case *c)
{
	const struct request_spec *rq = &requests[c->request];
	char where[160], body[320];

	snprintf(where, sizeof(where), "\"path\": \"%s\", \"method\": \"%s\"", rq->path,
	         rq->method);
	snprintf(body, sizeof(body), fault_json[c->fault], where);
	return ct_http(t, "POST", "/_sim/faults", body, NULL);
}

/*
 * Injects the fault once "METHOD path" shows in the request log (a later
 * request is the target). A thread of its own, so no cr_assert here: the
 * test checks `status` once the run is over.
 */
struct injector {
	struct ct *t;
	const struct fault_case *c;
	atomic_int status, stop; /* status: 0 until injected, then the HTTP status */
};

static int logged(struct ct *t, const char *what)
{
	char method[16];
	const char *path = strchr(what, ' ');

	snprintf(method, sizeof(method), "%.*s", (int)(path - what), what);
	return ct_count_requests(t, method, path + 1) > 0;
}

static void *injector_main(void *p)
{
	struct injector *in = p;

	while (!atomic_load(&in->stop)) {
		if (logged(in->t, requests[in->c->request].after)) {
			atomic_store(&in->status, inject(in->t, in->c));
			break;
		}
		ct_sleep_ms(20);
	}
	return NULL;
}

static struct ct_run run(struct ct *t, const struct fault_case *c)
{
	const struct request_spec *rq = &requests[c->request];
	const char *extra[16] = {"--marathon-timeout", "1"};
	size_t n = 2;

	for (size_t i = 0; rq->args[i]; i++)
		extra[n++] = rq->args[i];
	extra[n] = NULL;
	if (c->request == R_RESTORE) {
		const char *args[24] = {"rollback",    "/a",     "--marathon",   t->sim.url,
		                        "--state-dir", t->state, "--backup-dir", t->backups};
		size_t k = 8;

		for (size_t i = 0; extra[i]; i++)
			args[k++] = extra[i];
		args[k] = NULL;
		return ct_pacer(args, NULL);
	}
	return ct_cmd(t, "sync", extra);
}

/* The outcome the run reported for the request's app: its printed row(s), or for
 * `pacer rollback` "rolled_back" (exit 0, "rolled back /a") or "error". */
static char *reported(const struct fault_case *c, const struct ct_run *r)
{
	if (c->request == R_RESTORE)
		return strdup(r->rc == 0 && ct_has(r->out, "rolled back /a") ? "rolled_back"
		                                                             : "error");
	return ct_outcomes(r->out, requests[c->request].app);
}

static int word_in(const char *got, const char *allowed)
{
	char all[128], w[48];

	snprintf(all, sizeof(all), " %s ", allowed);
	snprintf(w, sizeof(w), " %s ", *got ? got : "-");
	return strstr(all, w) != NULL;
}

/*
 * The faulted request and its repeats in the log: how many, and how many of
 * the repeats came without a read of the app (GET /v2/apps/<id>) since the
 * previous one. The faulted one is the first matching request once the
 * injection condition held (for R_UNDO_PUT: after the /z create).
 */
static void count_sends(struct ct *t, const struct fault_case *c, int *sent, int *blind)
{
	const struct request_spec *rq = &requests[c->request];
	struct json_object *reqs = ct_requests(t);
	char read_path[64];
	int armed = rq->after == NULL, read = 0;

	snprintf(read_path, sizeof(read_path), "/v2/apps%s", rq->app);
	*sent = *blind = 0;
	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *o = json_object_array_get_idx(reqs, i);
		const char *m = ct_str(o, "method"), *p = ct_str(o, "path");
		char what[160];

		if (!m || !p)
			continue;
		snprintf(what, sizeof(what), "%s %s", m, p);
		if (!armed) {
			armed = !strcmp(what, rq->after);
			continue;
		}
		if (!strcmp(m, "GET") && !strcmp(p, read_path))
			read = 1;
		if (strcmp(m, rq->method) ||
		    (rq->exact ? strcmp(p, rq->exact) : strncmp(p, rq->path, strlen(rq->path))))
			continue;
		if (*sent && !read)
			(*blind)++;
		(*sent)++;
		read = 0;
	}
	json_object_put(reqs);
}

ParameterizedTestParameters(faults, matrix)
{
	return cr_make_param_array(struct fault_case, cases, NCASES);
}

ParameterizedTest(struct fault_case *c, faults, matrix, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const struct request_spec *rq = &requests[c->request];
	struct injector in = {.t = &t, .c = c};
	struct json_object *app;
	pthread_t th;
	struct ct_run r;
	char name[160], *got;
	const char *k, *truth;
	int state, owned, sent, blind, bad = 0, rc;

	snprintf(name, sizeof(name), "%s x %s", rq->name, fault_names[c->fault]);
	ct_setup(&t, NULL);
	ct_prepare(&t, requests[c->request].scene);
	ct_clear_requests(&t);
	if (rq->after)
		cr_assert_eq(pthread_create(&th, NULL, injector_main, &in), 0);
	else
		cr_assert_eq(inject(&t, c), 201, "[%s] POST /_sim/faults failed", name);
	r = run(&t, c);
	if (rq->after) {
		atomic_store(&in.stop, 1);
		pthread_join(th, NULL);
		cr_assert_eq(atomic_load(&in.status), 201,
		             "[%s] the fault was not injected (status %d): the run never sent %s",
		             name, atomic_load(&in.status), rq->after);
	}
	/* What Marathon ends up running: once the delayed request landed and,
	 * where the apps can be healthy, the deployments ended. */
	if (c->fault == F_SLOW_AFTER || c->fault == F_SLOW_BEFORE)
		ct_sleep_ms(LATENCY_MS);
	if (rq->settles)
		ct_wait_idle(&t, 10000);
	else
		ct_sleep_ms(300);

	app = ct_app(&t, rq->app);
	k = app ? ct_str(app, "env.K") : NULL;
	/* Which of the two states Marathon is in: 1 new, 0 old, -1 neither. */
	if (rq->new_versions > 0)
		state = !app || !k || strcmp(k, rq->new_k)                 ? -1
		        : ct_versions(&t, rq->app) == rq->new_versions     ? 1
		        : ct_versions(&t, rq->app) == rq->new_versions - 1 ? 0
		                                                           : -1;
	else if (rq->new_k ? app && k && !strcmp(k, rq->new_k) : !app)
		state = 1;
	else if (rq->old_k ? app && k && !strcmp(k, rq->old_k) : !app)
		state = 0;
	else
		state = -1;
	truth = state == 1 ? rq->new_what : state == 0 ? rq->old_what : "neither state";
	got = reported(c, &r);
	rc = state == 1 ? rq->new_rc : rq->old_rc;
	owned = ct_owned(&t, rq->app);

#define EXPECT(cond, ...) CT_EXPECT_COUNT(bad, cond, __VA_ARGS__)

	EXPECT(state >= 0,
	       "[%s] Marathon runs %s K=%s (%d versions), neither the state before the request nor "
	       "after it",
	       name, rq->app, k ? k : "(absent)", app ? ct_versions(&t, rq->app) : 0);
	if (state >= 0) {
		const char *allowed = state ? rq->new_outcomes : rq->old_outcomes;
		int want_owned = state ? rq->new_owned : rq->old_owned;

		EXPECT(word_in(got, allowed),
		       "[%s] pacer reported \"%s\" for %s, but %s (Marathon runs %s%s): that is "
		       "reported as \"%s\"%s",
		       name, *got ? got : "-", rq->app, truth, app ? "K=" : "no such app",
		       k ? k : "", allowed,
		       !strcmp(got, "unknown") ? "; the app could be read back all along" : "");
		EXPECT(r.rc == rc, "[%s] pacer exited %d; %s, which is exit %d", name, r.rc, truth,
		       rc);
		EXPECT(want_owned < 0 || owned == want_owned,
		       "[%s] owned.json %s %s, but %s: it must %s", name,
		       owned > 0    ? "lists"
		       : owned == 0 ? "does not list"
		                    : "cannot be read for",
		       rq->app, truth, want_owned ? "list it" : "not list it");
		if (app && (state ? rq->new_healthy : rq->old_healthy))
			EXPECT(ct_settled(app),
			       "[%s] %s must run healthy with no deployment in flight (%s): %lld "
			       "of %lld healthy, %lld running",
			       name, rq->app, truth, ct_int(app, "tasksHealthy"),
			       ct_int(app, "instances"), ct_int(app, "tasksRunning"));
	}
	count_sends(&t, c, &sent, &blind);
	EXPECT(sent >= 1, "[%s] the faulted request %s %s was never sent", name, rq->method,
	       rq->path);
	EXPECT(blind == 0,
	       "[%s] %s %s was sent %d times, %d of them again without reading the app back "
	       "first (a blind retry of a request that may have been applied)",
	       name, rq->method, rq->exact ? rq->exact : rq->path, sent, blind);
	EXPECT(!fault_applied[c->fault] || sent <= 1,
	       "[%s] %s %s was applied by Marathon, yet pacer sent it %d times", name, rq->method,
	       rq->exact ? rq->exact : rq->path, sent);
	bad += ct_expect_sound_state(&t, name);
#undef EXPECT
	cr_log_info("[%s] sent %d time(s); reported \"%s\", exit %d; Marathon: %s", name, sent,
	            *got ? got : "-", r.rc, truth);
	if (bad)
		ct_run_dump(name, &r);
	free(got);
	json_object_put(app);
	ct_run_free(&r);
	ct_teardown(&t);
}

/* The figure for the README: faults x requests, and how many runs told the truth. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	fprintf(stderr,
	        "fault matrix: %zu cases (%d faults x %d mutating requests): %zu runs reported "
	        "what Marathon runs and sent nothing twice blindly, %zu did not\n",
	        NCASES, F_COUNT, R_COUNT, stats->tests_passed,
	        stats->tests_failed + stats->tests_crashed);
}
