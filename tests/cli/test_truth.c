/*
 * pacer tells the truth when a run is interrupted or a reply is lost: the
 * intent journal, unknown outcomes read back, "converged" meaning the
 * submitted definition runs healthy, ownership that follows what Marathon
 * runs and which cluster it is, held failures, degraded apps. Each test is
 * one of the defects these mechanisms exist for, reproduced end to end
 * against marathon-sim with real pacer processes (killed for real at named
 * crash points, reconcile/crash.h).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

#define KILLED 137 /* 128 + SIGKILL */

/* Run sync and let it die at crash point `point`; asserts it really did. */
static void sync_killed_at(struct ct *t, const char *const *extra, const char *point)
{
	char env[96];
	const char *envv[] = {env, NULL};
	struct ct_run r;

	snprintf(env, sizeof(env), "PACER_CRASH_AT=%s", point);
	r = ct_cmd_env(t, "sync", extra, envv);
	if (r.rc != KILLED)
		ct_run_dump("sync that should have been killed", &r);
	cr_assert_eq(r.rc, KILLED, "pacer was not killed at %s", point);
	cr_assert(ct_has(r.err, "crash point"), "%s", r.err);
	ct_run_free(&r);
}

static const char *live_k(struct ct *t, const char *id, char *buf, size_t len)
{
	struct json_object *app = ct_app(t, id);

	snprintf(buf, len, "%s", app && ct_str(app, "env.K") ? ct_str(app, "env.K") : "(none)");
	json_object_put(app);
	return buf;
}

/*
 * Defects 1 and 8: a sync killed while a failing deployment runs. The next
 * run finishes it (waits out the original deadline, rolls back) instead of
 * calling it converged; the runs after that hold the change instead of
 * deploying it again and again.
 */
Test(truth, killed_sync_is_finished_and_the_failure_held, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *timeout[] = {"--timeout", "4", NULL};
	char k[64];
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_prepare(&t, CT_SCENE_FAILING_UPDATE);
	sync_killed_at(&t, timeout, "during-wait");

	r = ct_cmd(&t, "sync", timeout);
	cr_expect_eq(r.rc, 1, "the resumed change failed: exit 1, got %d", r.rc);
	cr_expect(ct_has(r.out, "rolled_back") && ct_has(r.out, "earlier run"), "%s", r.out);
	cr_expect_not(ct_has(r.out, "converged"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_str_eq(live_k(&t, "/a", k, sizeof(k)), "v1", "the old version runs again");

	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", timeout);
	cr_expect_eq(r.rc, 1, "a held change keeps the run failing");
	cr_expect(ct_has(r.out, "held") && ct_has(r.out, "--retry-failed"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0, "a held change is not deployed again");

	r = ct_cmd(&t, "diff", NULL);
	cr_expect(ct_has(r.out, "held"), "diff shows the held app: %s", r.out);
	ct_run_free(&r);

	/* A new definition is tried normally. */
	ct_write_checked_app(&t, "/a", "v3", NULL, 0);
	ct_sync_expect(&t, timeout, 0, "sync of a fixed definition");
	cr_expect_str_eq(live_k(&t, "/a", k, sizeof(k)), "v3");
	ct_teardown(&t);
}

/*
 * A run without a cache reads the app list before the files (to compare
 * each app as it is loaded); when it then resumes an earlier run's change,
 * which changes Marathon, that list is read again before the plan.
 */
Test(truth, a_list_read_ahead_is_read_again_after_a_resume, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *timeout[] = {"--timeout", "4", NULL};
	const char *extra[] = {"--timeout", "4", "--log-level", "debug", NULL};
	const char *nocache[] = {"PACER_NO_CACHE=1", NULL};
	char k[64];
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_prepare(&t, CT_SCENE_FAILING_UPDATE);
	sync_killed_at(&t, timeout, "during-wait");

	r = ct_cmd_env(&t, "sync", extra, nocache);
	cr_expect_eq(r.rc, 1, "the resumed change failed: exit 1, got %d", r.rc);
	cr_expect(ct_has(r.out, "rolled_back") && ct_has(r.out, "earlier run"), "%s", r.out);
	cr_expect(ct_has(r.err, "the app list read ahead is read again"), "%s", r.err);
	ct_run_free(&r);
	cr_expect_str_eq(live_k(&t, "/a", k, sizeof(k)), "v1", "the old version runs again");
	ct_teardown(&t);
}

/* --retry-failed deploys a held change again. */
Test(truth, retry_failed_tries_a_held_change_again, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *timeout[] = {"--timeout", "3", NULL};
	const char *retry[] = {"--timeout", "3", "--retry-failed", NULL};

	ct_setup(&t, NULL);
	ct_prepare(&t, CT_SCENE_FAILING_UPDATE);
	ct_sync_expect(&t, timeout, 1, "failing sync");
	ct_clear_requests(&t);
	ct_sync_expect(&t, retry, 1, "retried failing sync");
	cr_expect_geq(ct_count_requests(&t, "PUT", "/v2/apps/a"), 1, "--retry-failed deploys it");
	ct_teardown(&t);
}

/* Defect 2: a PUT whose reply times out is read back, not called refused. */
Test(truth, timed_out_put_is_read_back, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *fast[] = {"--marathon-timeout", "1", NULL};
	char k[64];
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_prepare(&t, CT_SCENE_UPDATE);
	ct_inject(&t, "{\"path\": \"/v2/apps/a\", \"method\": \"PUT\", \"count\": 1, "
	              "\"latency_ms\": 2500, \"when\": \"after\"}");
	ct_clear_requests(&t);
	r = ct_sync_run(&t, fast, 0, "a sync with a lost PUT reply (it was applied: converged)");
	cr_expect(ct_has(r.out, "updated"), "%s", r.out);
	cr_expect_not(ct_has(r.out, "refused") || ct_has(r.err, "refused"), "%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/a"), 1,
	             "a PUT that may have been applied is never sent again blindly");
	cr_expect_str_eq(live_k(&t, "/a", k, sizeof(k)), "v2");
	ct_teardown(&t);
}

/* Defect 3: a create whose reply is lost is read back and stays owned. */
Test(truth, lost_create_reply_is_read_back_and_owned, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *prune[] = {"--prune", "--force-prune", NULL};
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write_checked_app(&t, "/keep", "v1", NULL, 0);
	ct_write_checked_app(&t, "/new", "v1", NULL, 0);
	ct_inject(&t, "{\"path\": \"/v2/apps\", \"method\": \"POST\", \"count\": 1, "
	              "\"drop\": true, \"when\": \"after\"}");
	r = ct_sync_run(&t, NULL, 0, "a sync with a lost POST reply (both apps were created)");
	ct_run_free(&r);
	cr_expect_eq(ct_count_requests(&t, "POST", "/v2/apps"), 2,
	             "the create whose reply was lost was not sent again");
	ct_unlink(&t, "new.json");
	ct_sync_expect(&t, prune, 0, "prune");
	cr_expect_not(ct_has_app(&t, "/new"),
	              "an app pacer created (reply lost) is owned and pruned");
	ct_teardown(&t);
}

/* Defect 4: an app pacer applied is owned from the request on, not from success. */
Test(truth, applied_app_is_owned_even_if_the_run_is_killed, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *hand = "{\"id\": \"/hand\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	                   "\"instances\": 1}";
	const char *prune[] = {"--prune", "--force-prune", NULL};

	ct_setup(&t, NULL);
	cr_assert_eq(ct_http(&t, "POST", "/v2/apps", hand, NULL), 201);
	cr_assert(ct_wait_idle(&t, 10000));
	ct_write_checked_app(&t, "/hand", "v2", NULL, 0);
	ct_write_checked_app(&t, "/other", "v1", NULL, 0);
	sync_killed_at(&t, NULL, "after-submitted");
	ct_sync_expect(&t, NULL, 0, "the next run finishes the update");
	ct_unlink(&t, "hand.json");
	ct_sync_expect(&t, prune, 0, "prune");
	cr_expect_not(ct_has_app(&t, "/hand"), "pacer applied /hand, so it owns and prunes it");
	ct_teardown(&t);
}

/* Defect 5: an --atomic undo of a create forgets ownership; another team's app survives. */
Test(truth, atomic_undo_forgets_the_created_app, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *atomic[] = {"--atomic", "--timeout", "3", NULL};
	const char *prune[] = {"--prune", "--force-prune", NULL};
	const char *theirs = "{\"id\": \"/ok\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	                     "\"instances\": 1}";

	ct_setup(&t, NULL);
	ct_write_checked_app(&t, "/ok", "v1", NULL, 0);
	ct_write_checked_app(&t, "/bad", "v1", "unhealthy", 0);
	ct_sync_expect(&t, atomic, 1, "atomic run with a failing app");
	cr_expect_not(ct_has_app(&t, "/ok"), "the atomic run removed what it created");
	ct_unlink(&t, "ok.json");
	ct_unlink(&t, "bad.json");
	ct_write_checked_app(&t, "/other", "v1", NULL, 0);
	cr_assert_eq(ct_http(&t, "POST", "/v2/apps", theirs, NULL), 201);
	cr_assert(ct_wait_idle(&t, 10000));
	ct_sync_expect(&t, prune, 0, "prune");
	cr_expect(ct_has_app(&t, "/ok"), "another team's /ok is not pacer's to prune");
	ct_teardown(&t);
}

/* Defect 6: a state directory is bound to its cluster. */
Test(truth, state_of_another_cluster_is_refused, .timeout = 120, .fini = ct_fini)
{
	static struct ct a, b;
	const char *args[16];
	struct ct_run r;

	ct_setup(&a, NULL);
	ct_setup(&b, NULL);
	ct_write_checked_app(&a, "/x", "v1", NULL, 0);
	ct_sync_expect(&a, NULL, 0, "sync against cluster A");
	/* Same state directory, cluster B. */
	args[0] = "sync";
	args[1] = "--source";
	args[2] = a.src;
	args[3] = "--marathon";
	args[4] = b.sim.url;
	args[5] = "--state-dir";
	args[6] = a.state;
	args[7] = "--backup-dir";
	args[8] = a.backups;
	args[9] = "--prune";
	args[10] = NULL;
	ct_clear_requests(&b);
	r = ct_pacer(args, NULL);
	cr_expect_eq(r.rc, 7, "another cluster's state directory: exit 7, got %d", r.rc);
	cr_expect(ct_has(r.err, "frameworkId"), "%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&b), 0, "nothing was changed on cluster B");

	/* A wiped cluster (new identity) is refused the same way. */
	cr_assert_eq(ct_http(&a, "POST", "/_sim/reset", "{\"new_framework_id\": true}", NULL), 200);
	r = ct_cmd(&a, "sync", NULL);
	cr_expect_eq(r.rc, 7, "a wiped cluster: exit 7, got %d", r.rc);
	ct_run_free(&r);
	ct_teardown(&b);
	ct_teardown(&a);
}

/* Cancels the first deployment it sees, as an operator would (Marathon rolls back). */
struct canceller {
	const char *url;
	int done;
};

static void *cancel_main(void *p)
{
	struct canceller *c = p;

	for (int i = 0; i < 100 && !c->done; i++) {
		char url[256], *resp = NULL;
		struct json_object *deps;
		int status = 0;

		ct_sleep_ms(100);
		snprintf(url, sizeof(url), "%s/v2/deployments", c->url);
		test_http("GET", url, NULL, NULL, &status, &resp);
		deps = resp ? json_tokener_parse(resp) : NULL;
		free(resp);
		if (json_object_array_length(deps) > 0) {
			const char *id = ct_str(json_object_array_get_idx(deps, 0), "id");

			ct_sleep_ms(500);
			snprintf(url, sizeof(url), "%s/v2/deployments/%s", c->url, id);
			test_http("DELETE", url, NULL, NULL, &status, NULL);
			c->done = status == 200 || status == 202;
		}
		json_object_put(deps);
	}
	return NULL;
}

/* Defect 7: a deployment someone cancelled (Marathon rolls back) is not "updated". */
Test(truth, cancelled_deployment_is_a_failure, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *timeout[] = {"--timeout", "20", NULL};
	struct canceller c = {0};
	pthread_t th;
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_prepare(&t, CT_SCENE_FAILING_UPDATE);
	c.url = t.sim.url;
	cr_assert_eq(pthread_create(&th, NULL, cancel_main, &c), 0);
	r = ct_cmd(&t, "sync", timeout);
	pthread_join(th, NULL);
	cr_assert(c.done, "the deployment was cancelled");
	cr_expect_eq(r.rc, 1, "a cancelled deployment is a failure: exit 1, got %d", r.rc);
	cr_expect_not(ct_has(r.out, "updated "), "%s", r.out);
	cr_expect(ct_has(r.out, "does not run the definition pacer submitted"), "%s", r.out);
	ct_run_free(&r);
	ct_teardown(&t);
}

/* Defect 9: a crash-looping app in sync with git is degraded, not converged. */
Test(truth, crash_looping_app_is_degraded, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	char metrics[512], *text;
	const char *mf[] = {"--metrics-file", metrics, NULL};
	struct ct_run r;

	ct_setup(&t, NULL);
	snprintf(metrics, sizeof(metrics), "%s/pacer.prom", t.dir);
	ct_write_checked_app(&t, "/c", "v1", NULL, 0);
	ct_sync_expect(&t, NULL, 0, "first sync");
	cr_assert_eq(ct_http(&t, "POST", "/_sim/apps/c/behavior", "{\"behavior\": \"crash\"}", NULL),
	             200);
	ct_sleep_ms(2500);
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", mf);
	cr_expect_eq(r.rc, 1, "a degraded app fails the run: exit %d", r.rc);
	cr_expect(ct_has(r.out, "degraded") && ct_has(r.out, "/c"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0, "pacer does not redeploy what it did not break");
	text = test_read_file(metrics, NULL);
	cr_assert(text, "no metrics file %s", metrics);
	cr_expect(ct_has(text, "pacer_apps{state=\"degraded\"} 1"), "%s", text);
	free(text);
	ct_teardown(&t);
}

/* Point 10: sync --prune -n reads the existing state directory and changes nothing. */
Test(truth, prune_dry_run_reads_the_state, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *dry[] = {"--prune", "-n", NULL};
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_prepare(&t, CT_SCENE_PRUNE);
	ct_clear_requests(&t);
	r = ct_cmd(&t, "sync", dry);
	if (r.rc == 64 || ct_has(r.err, "needs a state directory"))
		ct_run_dump("sync --prune -n", &r);
	cr_expect_not(ct_has(r.err, "needs a state directory"), "%s", r.err);
	cr_expect(ct_has(r.out, "/b"), "the plan names the prune: %s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0);
	cr_expect(ct_has_app(&t, "/b"));
	ct_teardown(&t);
}

/* Ownership of an app that is neither desired nor in Marathon expires. */
Test(truth, ownership_of_a_gone_app_expires, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	char path[512], *owned;

	ct_setup(&t, NULL);
	ct_write_checked_app(&t, "/x", "v1", NULL, 0);
	ct_write_checked_app(&t, "/y", "v1", NULL, 0);
	ct_sync_expect(&t, NULL, 0, "first sync");
	snprintf(path, sizeof(path), "%s/owned.json", t.state);
	owned = test_read_file(path, NULL);
	cr_assert(owned && strstr(owned, "\"/x\""), "%s", owned ? owned : "(none)");
	free(owned);
	/* Someone deletes /x in Marathon, and its file goes too. */
	cr_assert_eq(ct_http(&t, "DELETE", "/v2/apps/x?force=true", NULL, NULL), 200);
	cr_assert(ct_wait_idle(&t, 10000));
	ct_unlink(&t, "x.json");
	ct_sync_expect(&t, NULL, 0, "sync after /x is gone");
	owned = test_read_file(path, NULL);
	cr_expect(owned && !strstr(owned, "\"/x\"") && strstr(owned, "\"/y\""), "%s",
	          owned ? owned : "(none)");
	free(owned);
	ct_teardown(&t);
}
