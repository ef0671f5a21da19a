/*
 * The crash matrix: pacer killed for real (SIGKILL, at the named crash
 * points of reconcile/crash.h) at every point each kind of change reaches,
 * then the next `pacer sync` checked against what the uninterrupted run
 * would have left:
 *
 *   - Marathon (read from marathon-sim) runs what it should: the desired
 *     definition healthy, or the previous one healthy again with the failed
 *     change held, the pruned app gone, the restarted app restarted once;
 *   - the exit code and the outcome printed for each app say exactly that;
 *   - owned.json, held.json, cluster.json, suspended.json, history.json,
 *     the journal entries, the cache and the backups parse; no temp file
 *     (".tmp-") is left; the journal is empty once the run settled;
 *   - ownership follows Marathon: an app pacer created or applied is owned,
 *     one confirmed gone is not.
 *
 * Every case first asserts that pacer really died at its point (exit 137
 * and the "crash point" line): a crash test that never crashed proves
 * nothing. The table lists, per action, every point the action reaches and
 * every hit of the points reached more than once (":n"), every durable
 * state write included (mid-state-write:n); crash_table checks that no
 * run makes a write the table does not list. The totals are printed at the
 * end of the run.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/clitest.h"

#define KILLED 137 /* 128 + SIGKILL */

enum action {
	ACT_CREATE,   /* a new app */
	ACT_UPDATE,   /* v1 -> v2, both healthy */
	ACT_PRUNE,    /* /b removed from the source, --prune */
	ACT_ROLLBACK, /* v1 -> v2 that never gets healthy: --on-failure rollback */
	ACT_ATOMIC,   /* --atomic: /a v1 -> v2 healthy, then /z created and failing */
	ACT_RESTART,  /* v1 -> v2 that never gets healthy: --on-failure restart */
	ACT_RESTORE,  /* `pacer rollback /a` to v1 (it suspends /a: git still holds v2) */
	ACT_COUNT
};

static const char *const action_names[ACT_COUNT] = {
	"create", "update", "prune", "on-failure rollback", "--atomic undo", "--on-failure restart",
	"pacer rollback",
};

/* The options of the killed sync and of the next one (ACT_RESTORE: of the next sync). */
static const char *const action_args[ACT_COUNT][8] = {
	[ACT_CREATE] = {"--timeout", "10", NULL},
	[ACT_UPDATE] = {"--timeout", "10", NULL},
	[ACT_PRUNE] = {"--prune", "--force-prune", "--timeout", "10", NULL},
	[ACT_ROLLBACK] = {"--timeout", "2", NULL},
	/* One app at a time, so that ":n" names the same app's point every run. */
	[ACT_ATOMIC] = {"--timeout", "2", "--atomic", "--parallel", "1", NULL},
	[ACT_RESTART] = {"--timeout", "1", "--on-failure", "restart", NULL},
	[ACT_RESTORE] = {"--timeout", "10", NULL},
};

/* What the uninterrupted run leaves, and so what the next run must leave. */
enum final {
	FIN_CONVERGED,   /* /a runs its desired definition healthy; exit 0 */
	FIN_PRUNED,      /* /b is gone and not owned, /a untouched; exit 0 */
	FIN_ROLLED_BACK, /* /a runs v1 healthy again, v2 is held; exit 1 */
	FIN_RESTARTED,   /* /a runs v2 (never healthy), restarted once; exit 1 */
	FIN_UNDONE,      /* /a runs v1 healthy, /z is gone, not owned, held; exit 1: the
	                    group is not left half applied, by a crash or the next run */
	FIN_RESTORED,    /* /a runs v1 healthy and is reported suspended; exit 0 */
	FIN_UNTOUCHED,   /* the killed command changed nothing durable: /a runs v2; exit 0 */
};

/* Inline strings: Criterion copies the parameters into the test's process. */
struct crash_case {
	char point[24]; /* PACER_CRASH_AT: name or name:n */
	enum action action;
	enum final final;
};

#define CREATE(p) {p, ACT_CREATE, FIN_CONVERGED}
#define UPDATE(p) {p, ACT_UPDATE, FIN_CONVERGED}
#define PRUNE(p) {p, ACT_PRUNE, FIN_PRUNED}
#define ROLLBACK(p) {p, ACT_ROLLBACK, FIN_ROLLED_BACK}
#define ATOMIC(p) {p, ACT_ATOMIC, FIN_UNDONE}
#define RESTART(p) {p, ACT_RESTART, FIN_RESTARTED}
#define RESTORE(p, f) {p, ACT_RESTORE, f}

/*
 * Every point each action reaches. The durable state writes of each run
 * (mid-state-write:n, as the temp file a crash there leaves shows):
 *   create:   cluster.json, cache, owned.json, journal intent, answer,
 *             history.json
 *   update:   cache, journal intent, answer, history.json
 *   prune:    cache, journal intent, answer, owned.json (forgotten),
 *             history.json
 *   rollback, restart: cache, intent, answer, the undo's or restart's
 *             entry, held.json, history.json
 *   --atomic: cache, /a's intent and answer, then /z's owned.json, intent,
 *             answer, atomic.json (the run failed), undo entry, owned.json
 *             (forgotten), held.json, /a's undo entry, history.json
 *   pacer rollback: suspended.json, journal intent, answer
 * (crash.table_lists_every_state_write fails when a run makes more.)
 */
static struct crash_case cases[] = {
	CREATE("after-own"), CREATE("after-intent"), CREATE("after-request"),
	CREATE("after-submitted"), CREATE("during-wait"),
	CREATE("mid-state-write:1"), CREATE("mid-state-write:2"), CREATE("mid-state-write:3"),
	CREATE("mid-state-write:4"), CREATE("mid-state-write:5"), CREATE("mid-state-write:6"),

	UPDATE("after-backup"), UPDATE("after-own"), UPDATE("after-intent"),
	UPDATE("after-request"), UPDATE("after-submitted"), UPDATE("during-wait"),
	UPDATE("mid-state-write:1"), UPDATE("mid-state-write:2"), UPDATE("mid-state-write:3"),
	UPDATE("mid-state-write:4"),

	PRUNE("after-backup"), PRUNE("after-own"), PRUNE("after-intent"),
	PRUNE("after-request"), PRUNE("after-submitted"), PRUNE("during-wait"),
	PRUNE("mid-state-write:1"), PRUNE("mid-state-write:2"), PRUNE("mid-state-write:3"),
	PRUNE("mid-state-write:4"), PRUNE("mid-state-write:5"),

	ROLLBACK("after-backup"), ROLLBACK("after-own"), ROLLBACK("after-intent"),
	ROLLBACK("after-request"), ROLLBACK("after-submitted"), ROLLBACK("during-wait"),
	ROLLBACK("before-undo"), ROLLBACK("during-undo"),
	ROLLBACK("mid-state-write:1"), ROLLBACK("mid-state-write:2"),
	ROLLBACK("mid-state-write:3"), ROLLBACK("mid-state-write:4"),
	ROLLBACK("mid-state-write:5"), ROLLBACK("mid-state-write:6"),

	/* :1 is /a's (updated, healthy), :2 /z's (created, failing). */
	ATOMIC("after-backup"), ATOMIC("after-own:1"), ATOMIC("after-own:2"),
	ATOMIC("after-intent:1"), ATOMIC("after-intent:2"),
	ATOMIC("after-request:1"), ATOMIC("after-request:2"),
	ATOMIC("after-submitted:1"), ATOMIC("after-submitted:2"),
	ATOMIC("during-wait:1"), ATOMIC("during-wait:2"),
	/* :1 removes /z (its own failure), :2 writes /a's backup back (--atomic). */
	ATOMIC("before-undo:1"), ATOMIC("before-undo:2"),
	ATOMIC("during-undo:1"), ATOMIC("during-undo:2"),
	ATOMIC("mid-state-write:1"), ATOMIC("mid-state-write:2"), ATOMIC("mid-state-write:3"),
	ATOMIC("mid-state-write:4"), ATOMIC("mid-state-write:5"), ATOMIC("mid-state-write:6"),
	ATOMIC("mid-state-write:7"), ATOMIC("mid-state-write:8"), ATOMIC("mid-state-write:9"),
	ATOMIC("mid-state-write:10"), ATOMIC("mid-state-write:11"), ATOMIC("mid-state-write:12"),

	RESTART("after-backup"), RESTART("after-own"), RESTART("after-intent"),
	RESTART("after-request"), RESTART("after-submitted"), RESTART("during-wait"),
	RESTART("after-restart"),
	RESTART("mid-state-write:1"), RESTART("mid-state-write:2"),
	RESTART("mid-state-write:3"), RESTART("mid-state-write:4"),
	RESTART("mid-state-write:5"), RESTART("mid-state-write:6"),

	/* Killed before the suspension or the intent is durable, `pacer
	 * rollback` changed nothing: there is nothing for the next run to
	 * finish. From the journalled intent on, the rollback must happen. */
	RESTORE("mid-state-write:1", FIN_UNTOUCHED), RESTORE("mid-state-write:2", FIN_UNTOUCHED),
	RESTORE("after-intent", FIN_RESTORED), RESTORE("during-wait", FIN_RESTORED),
	RESTORE("mid-state-write:3", FIN_RESTORED),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* The state before the run that is killed, and the source it applies. */
static const enum ct_scene action_scene[ACT_COUNT] = {
	[ACT_CREATE] = CT_SCENE_CREATE,
	[ACT_UPDATE] = CT_SCENE_UPDATE,
	[ACT_PRUNE] = CT_SCENE_PRUNE,
	[ACT_ROLLBACK] = CT_SCENE_FAILING_UPDATE,
	[ACT_ATOMIC] = CT_SCENE_ATOMIC,
	[ACT_RESTART] = CT_SCENE_FAILING_UPDATE,
	[ACT_RESTORE] = CT_SCENE_UPDATED,
};

/* The action's command (a sync, or `pacer rollback /a`) with PACER_CRASH_AT=crash_at. */
static struct ct_run run_action(struct ct *t, enum action a, const char *crash_at)
{
	char env[96];
	const char *envv[] = {env, NULL};

	snprintf(env, sizeof(env), "PACER_CRASH_AT=%s", crash_at);
	if (a == ACT_RESTORE) {
		const char *args[] = {
		    "rollback",     "/a",       "--marathon", t->sim.url, "--state-dir", t->state,
		    "--backup-dir", t->backups, "--timeout",  "10",       NULL};

		return ct_pacer(args, envv);
	}
	return ct_cmd_env(t, "sync", action_args[a], envv);
}

/* Run the action with PACER_CRASH_AT and assert that pacer died right there. */
static void run_killed(struct ct *t, const struct crash_case *c, const char *name)
{
	char line[128];
	size_t plen = strcspn(c->point, ":");
	struct ct_run r;

	snprintf(line, sizeof(line), "pacer: crash point %.*s reached", (int)plen, c->point);
	r = run_action(t, c->action, c->point);
	if (r.rc != KILLED || !ct_has(r.err, line))
		ct_run_dump("the run that should have been killed", &r);
	cr_assert_eq(r.rc, KILLED,
	             "[%s] pacer was not killed (exit %d): crash point %s was never reached, so "
	             "this case proves nothing",
	             name, r.rc, c->point);
	cr_assert(ct_has(r.err, line), "[%s] killed, but stderr lacks \"%s\"", name, line);
	ct_run_free(&r);
}

/* What one app must look like after the next run. */
struct want_app {
	const char *id;
	const char *k;        /* env K it runs; NULL: the app must be absent */
	const char *behavior; /* its SIM_BEHAVIOR, or NULL for none */
	int healthy;          /* every instance running and healthy, no deployment */
	int owned;            /* 1 owned, 0 not */
	int held;             /* 1 held, 0 not, -1 either */
	const char *outcomes; /* allowed printed outcomes, space separated; "-" = no row */
};

struct want {
	int rc;
	struct want_app apps[2];
	int restarts; /* ACT_RESTART: versions of /a (v1, v2, one restart) */
};

static struct want want_for(const struct crash_case *c)
{
	struct want w;

	memset(&w, 0, sizeof(w));
	switch (c->final) {
	case FIN_CONVERGED:
		w.apps[0] = (struct want_app){.id = "/a",
		                              .k = c->action == ACT_UPDATE ? "v2" : "v1",
		                              .healthy = 1,
		                              .owned = 1,
		                              .outcomes = "- created updated"};
		break;
	case FIN_PRUNED:
		w.apps[0] = (struct want_app){.id = "/a", .k = "v1", .healthy = 1, .owned = 1,
		                              .outcomes = "-"};
		w.apps[1] = (struct want_app){.id = "/b", .outcomes = "- pruned"};
		break;
	case FIN_ROLLED_BACK:
		w.rc = 1;
		w.apps[0] = (struct want_app){.id = "/a", .k = "v1", .healthy = 1, .owned = 1,
		                              .held = 1, .outcomes = "rolled_back held"};
		break;
	case FIN_RESTARTED:
		w.rc = 1;
		w.apps[0] = (struct want_app){.id = "/a", .k = "v2", .behavior = "unhealthy",
		                              .owned = 1, .held = -1,
		                              .outcomes = "restarted degraded progressing"};
		w.restarts = 3;
		break;
	case FIN_RESTORED:
		/* The rollback finished (by the next run if need be); git's v2 is
		 * reported as the drift of a suspended app, not applied. */
		w.apps[0] = (struct want_app){.id = "/a", .k = "v1", .healthy = 1, .owned = 1,
		                              .outcomes = "updated suspended"};
		break;
	case FIN_UNTOUCHED:
		w.apps[0] = (struct want_app){.id = "/a", .k = "v2", .healthy = 1, .owned = 1,
		                              .outcomes = "- suspended"};
		break;
	case FIN_UNDONE:
		w.rc = 1;
		/* "skipped": the undo was complete, and an --atomic run applies
		 * nothing while one of its apps is held. */
		w.apps[0] = (struct want_app){.id = "/a", .k = "v1", .healthy = 1, .owned = 1,
		                              .held = -1, .outcomes = "rolled_back held skipped"};
		w.apps[1] = (struct want_app){.id = "/z", .held = 1, .outcomes = "rolled_back held"};
		break;
	}
	return w;
}

/* 1 when every word of `got` (or "-" when it is empty) is one of `allowed`. */
static int outcomes_allowed(const char *got, const char *allowed)
{
	char word[32];
	const char *p = got;
	int n;

	if (!*got)
		p = "-";
	while (sscanf(p, "%31s%n", word, &n) == 1) {
		char padded[40];
		char all[128];

		snprintf(padded, sizeof(padded), " %s ", word);
		snprintf(all, sizeof(all), " %s ", allowed);
		if (!strstr(all, padded))
			return 0;
		p += n;
	}
	return 1;
}

/* Check one app; returns the number of problems (each reported with cr_expect). */
static int check_app(struct ct *t, const char *name, const struct want_app *w, const char *out)
{
	struct json_object *app = ct_app(t, w->id);
	char *got = ct_outcomes(out, w->id);
	int bad = 0, owned = ct_owned(t, w->id), held = ct_held(t, w->id);
	const char *k = app ? ct_str(app, "env.K") : NULL;
	const char *beh = app ? ct_str(app, "env.SIM_BEHAVIOR") : NULL;

#define EXPECT(cond, ...) CT_EXPECT_COUNT(bad, cond, __VA_ARGS__)

	if (!w->k) {
		EXPECT(!app, "[%s] %s must be gone from Marathon, but it runs K=%s", name, w->id,
		       k ? k : "?");
	} else {
		EXPECT(app, "[%s] %s must run K=%s, but Marathon has no such app", name, w->id,
		       w->k);
		EXPECT(!app || (k && !strcmp(k, w->k) && !beh == !w->behavior &&
		                (!beh || !strcmp(beh, w->behavior))),
		       "[%s] %s must run K=%s%s%s, Marathon runs K=%s SIM_BEHAVIOR=%s", name, w->id,
		       w->k, w->behavior ? " SIM_BEHAVIOR=" : "", w->behavior ? w->behavior : "",
		       k ? k : "(none)", beh ? beh : "(none)");
		if (app && w->healthy) {
			struct json_object *deps = NULL;

			json_object_object_get_ex(app, "deployments", &deps);
			EXPECT(ct_settled(app),
			       "[%s] %s must run healthy, settled, as the run reported: Marathon has "
			       "%lld of %lld instances healthy, %lld tasks running and %zu "
			       "deployment(s) of it still in flight",
			       name, w->id, ct_int(app, "tasksHealthy"), ct_int(app, "instances"),
			       ct_int(app, "tasksRunning"), deps ? json_object_array_length(deps) : 0);
		}
	}
	EXPECT(outcomes_allowed(got, w->outcomes),
	       "[%s] pacer printed \"%s\" for %s (Marathon runs %s%s); the uninterrupted run "
	       "ends with one of \"%s\" (\"-\": no row, i.e. unchanged)",
	       name, *got ? got : "-", w->id, app ? "K=" : "no such app", app && k ? k : "",
	       w->outcomes);
	EXPECT(owned == w->owned, "[%s] owned.json %s %s (expected %s: %s)", name,
	       owned > 0    ? "lists"
	       : owned == 0 ? "does not list"
	                    : "cannot be read for",
	       w->id, w->owned ? "owned" : "not owned",
	       w->owned ? "pacer created or applied it" : "it is confirmed gone");
	EXPECT(w->held < 0 || held == w->held, "[%s] held.json %s %s, expected %s", name,
	       held > 0    ? "holds"
	       : held == 0 ? "does not hold"
	                   : "cannot be read for",
	       w->id, w->held ? "a hold (the failed change is not deployed again)" : "none");
#undef EXPECT
	free(got);
	json_object_put(app);
	return bad;
}

static const char *const slow_tasks[] = {"--task-launch-ms", "400", NULL};
/* An undo's deployment outlasts the next run's first look (a poll, 500 ms). */
static const char *const slower_tasks[] = {"--task-launch-ms", "1000", NULL};

ParameterizedTestParameters(crash, matrix)
{
	return cr_make_param_array(struct crash_case, cases, NCASES);
}

ParameterizedTest(struct crash_case *c, crash, matrix, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	struct want w = want_for(c);
	char name[96];
	struct ct_run r;
	int bad = 0;

	snprintf(name, sizeof(name), "%s x %s", c->point, action_names[c->action]);
	/* At the points inside a deployment, tasks take long enough to start
	 * (as real ones do) that it is still in flight when the next run
	 * starts: that run must wait for it, not find it done. */
	ct_setup(&t, !strncmp(c->point, "during-wait", 11)   ? slow_tasks
	             : !strncmp(c->point, "during-undo", 11) ? slower_tasks
	                                                     : NULL);
	ct_prepare(&t, action_scene[c->action]);
	run_killed(&t, c, name);

	/* The next run, without a crash, with the same options. */
	r = ct_cmd(&t, "sync", action_args[c->action]);
	CT_EXPECT_COUNT(bad, r.rc == w.rc, "[%s] the next sync exited %d, expected %d", name, r.rc,
	                w.rc);
	for (size_t i = 0; i < 2 && w.apps[i].id; i++)
		bad += check_app(&t, name, &w.apps[i], r.out);
	if (w.restarts) {
		int v = ct_versions(&t, "/a");

		CT_EXPECT_COUNT(bad, v == w.restarts,
		                "[%s] /a has %d versions, expected %d (v1, v2, one restart): the "
		                "restart was %s",
		                name, v, w.restarts, v < w.restarts ? "never made" : "made twice");
	}
	bad += ct_expect_sound_state(&t, name);
	CT_EXPECT_COUNT(bad, ct_journal_count(&t) == 0,
	                "[%s] the run settled, yet the journal holds %d entr%s", name,
	                ct_journal_count(&t), ct_journal_count(&t) == 1 ? "y" : "ies");
	if (bad)
		ct_run_dump(name, &r);
	ct_run_free(&r);
	ct_teardown(&t);
}

/*
 * The table keeps up with the code: one state write past the last
 * mid-state-write:n that cases[] lists for an action must not be reached.
 */
struct coverage_case {
	enum action action;
};

static struct coverage_case coverage[] = {
	{ACT_CREATE}, {ACT_UPDATE}, {ACT_PRUNE}, {ACT_ROLLBACK},
	{ACT_ATOMIC}, {ACT_RESTART}, {ACT_RESTORE},
};

ParameterizedTestParameters(crash_table, lists_every_state_write)
{
	return cr_make_param_array(struct coverage_case, coverage,
	                           sizeof(coverage) / sizeof(coverage[0]));
}

ParameterizedTest(struct coverage_case *c, crash_table, lists_every_state_write, .timeout = 120,
                  .fini = ct_fini)
{
	static struct ct t;
	char point[32];
	struct ct_run r;
	int last = 0;

	for (size_t i = 0; i < NCASES; i++)
		if (cases[i].action == c->action && !strncmp(cases[i].point, "mid-state-write:", 16) &&
		    atoi(cases[i].point + 16) > last)
			last = atoi(cases[i].point + 16);
	snprintf(point, sizeof(point), "mid-state-write:%d", last + 1);
	ct_setup(&t, NULL);
	ct_prepare(&t, action_scene[c->action]);
	r = run_action(&t, c->action, point);
	if (r.rc == KILLED)
		ct_run_dump("the run that went past the writes the table lists", &r);
	cr_expect_neq(r.rc, KILLED,
	              "[%s] the run makes a durable state write past mid-state-write:%d, the last "
	              "that the crash table lists for it: add a case for %s (see the temp file "
	              "it left to name the write)",
	              action_names[c->action], last, point);
	ct_run_free(&r);
	ct_teardown(&t);
}

/* The figure for the README: crash points x actions, and how many converged. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	struct criterion_suite_stats *ss = stats->suites;
	int points = 0, actions = 0;

	while (ss && strcmp(ss->suite->name, "crash"))
		ss = ss->next;
	for (size_t i = 0; i < NCASES; i++) {
		size_t len = strcspn(cases[i].point, ":");
		int seen_point = 0, seen_action = 0;

		for (size_t j = 0; j < i; j++) {
			seen_point |= strcspn(cases[j].point, ":") == len &&
			              !strncmp(cases[j].point, cases[i].point, len);
			seen_action |= cases[j].action == cases[i].action;
		}
		points += !seen_point;
		actions += !seen_action;
	}
	fprintf(stderr,
	        "crash matrix: %zu cases over %d crash points x %d actions (every point each "
	        "action reaches, every hit of a point reached more than once): %zu converged or "
	        "rolled back as the uninterrupted run would have, %zu did not\n",
	        NCASES, points, actions, ss ? ss->tests_passed : 0,
	        ss ? ss->tests_failed + ss->tests_crashed : 0);
}

/*
 * A run resumes /a's update with nothing left of its deadline (one look),
 * then undoes it because /z failed (--atomic): the undo is a deployment of
 * its own and gets the whole --timeout, not what was left of the earlier
 * one. /a's tasks take 1.5 s to start: 1 s is too short, 5 s is not.
 */
Test(crash, an_undo_after_a_resume_gets_the_whole_timeout, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	static const char *const launch[] = {"--task-launch-ms", "1500", NULL};
	const char *args[] = {"--timeout", "5", "--atomic", "--parallel", "1", NULL};
	const char *envv[] = {"PACER_CRASH_AT=after-submitted:1", NULL};
	struct json_object *a;
	struct ct_run r;
	char *got;

	ct_setup(&t, launch);
	ct_prepare(&t, action_scene[ACT_ATOMIC]);
	r = ct_cmd_env(&t, "sync", args, envv);
	cr_assert_eq(r.rc, KILLED, "pacer was not killed after /a's update (exit %d)\n%s", r.rc, r.err);
	ct_run_free(&r);
	sleep(6); /* /a's deadline passes */
	r = ct_cmd(&t, "sync", args);
	got = ct_outcomes(r.out, "/a");
	cr_expect_eq(r.rc, 1, "exit %d\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(got, "rolled_back"), "/a: \"%s\"\n%s%s", got, r.out, r.err);
	free(got);
	ct_run_free(&r);
	a = ct_app(&t, "/a");
	cr_assert(a);
	cr_expect_str_eq(ct_str(a, "env.K"), "v1");
	cr_expect(ct_settled(a), "/a runs v1 healthy");
	json_object_put(a);
	cr_expect_not(ct_has_app(&t, "/z"));
	ct_teardown(&t);
}
