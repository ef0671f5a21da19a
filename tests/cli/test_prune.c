/*
 * pacer sync --prune end to end against marathon-sim: only apps pacer owns
 * are pruned, each after a backup, and the guards that refuse a prune
 * (exit 3, nothing written): a file that fails to load, a source with no
 * apps, more than half of the owned apps without --force-prune.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

static const char *const prune[] = {"--prune", NULL};
static const char *const force[] = {"--prune", "--force-prune", NULL};

/*
 * `pacer sync args` must be refused before any write: exit 3, stderr holding
 * every one of says (NULL-terminated), Marathon still running its napps
 * apps. why names the guard in the failures.
 */
static void expect_refused(struct ct *t, const char *const *args, const char *const *says,
                           int napps, const char *why)
{
	struct ct_run r;

	ct_clear_requests(t);
	r = ct_cmd(t, "sync", args);
	cr_expect_eq(r.rc, 3, "%s must be refused (exit 3), got %d:\n%s%s", why, r.rc, r.out,
	             r.err);
	for (size_t i = 0; says[i]; i++)
		cr_expect(ct_has(r.err, says[i]), "%s: the message says \"%s\":\n%s", why, says[i],
		          r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(t), 0, "%s: nothing may be written to Marathon", why);
	cr_expect_eq(ct_napps(t), napps, "%s: no app may be deleted", why);
}

/* 1 when Marathon runs app id. */
static int present(struct ct *t, const char *id)
{
	struct json_object *app = ct_app(t, id);

	json_object_put(app);
	return app != NULL;
}

Test(prune, removes_only_owned_apps, .timeout = 60, .fini = ct_fini)
{
	const char *ext = "{\"id\": \"/p/external\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, "
	                  "\"mem\": 16, \"instances\": 1}";
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;
	char *resp = NULL;

	ct_setup_synced(&t, "p", 4);
	/* An app created by someone else, never known to pacer. */
	cr_assert_eq(ct_http(&t, "POST", "/v2/apps", ext, &resp), 201, "POST /v2/apps: %s", resp);
	free(resp);
	cr_assert(ct_wait_idle(&t, 5000));
	cr_assert(present(&t, "/p/c"));

	ct_unlink(&t, "c.json");
	/* Without --prune, an app gone from the source is left alone. */
	ct_sync_ok(&t, "a sync without --prune");
	cr_expect(present(&t, "/p/c"), "without --prune nothing is deleted");

	ct_clear_requests(&t);
	r = ct_sync_run(&t, prune, 0, "sync --prune");
	cr_expect(ct_has(r.out, "0 to create, 0 to update, 1 to prune, 3 unchanged"),
	          "the external app is not in the prune plan:\n%s", r.out);
	ct_run_free(&r);

	cr_expect(!present(&t, "/p/c"), "the owned app gone from the source is pruned");
	cr_expect_eq(ct_count_requests(&t, "DELETE", "/v2/apps/p/c"), 1);
	cr_expect_eq(ct_count_requests(&t, "DELETE", "/v2/apps/p/external"), 0);
	cr_expect(present(&t, "/p/external"), "an app created outside pacer is never pruned");
	cr_expect(present(&t, "/p/a"));
	cr_expect_eq(ct_napps(&t), 4);

	/* The pruned app was backed up first: pacer backups lists it. */
	{
		const char *args[] = {"backups", "/p/c", "--backup-dir", t.backups, NULL};

		r = ct_pacer(args, NULL);
		cr_expect_eq(r.rc, 0);
		cr_expect(ct_has(r.out, "/p/c"), "a backup of the pruned app:\n%s%s", r.out, r.err);
		ct_run_free(&r);
	}
	ct_teardown(&t);
}

Test(prune, refused_when_a_file_fails_to_load, .timeout = 60, .fini = ct_fini)
{
	static const char *const says[] = {"broken.json", NULL};
	static struct ct t; /* static: ct_fini may run after the test frame is gone */

	ct_setup_synced(&t, "q", 2);
	ct_unlink(&t, "b.json");
	ct_write(&t, "broken.json", "{\"id\": \"/q/broken\", \"cmd\": \"x\",,}\n");
	expect_refused(&t, prune, says, 2, "a prune while a file fails to load");
	ct_teardown(&t);
}

Test(prune, refused_when_the_source_is_empty, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */

	ct_setup_synced(&t, "e", 2);
	ct_unlink(&t, "a.json");
	ct_unlink(&t, "b.json");
	{
		const char *says[] = {"no apps", t.src, NULL};

		expect_refused(&t, prune, says, 2, "a prune of an empty source");
		/* Even with --force-prune an empty source deletes nothing. */
		expect_refused(&t, force, says, 2, "a forced prune of an empty source");
	}
	ct_teardown(&t);
}

Test(prune, more_than_half_needs_force_prune, .timeout = 60, .fini = ct_fini)
{
	static const char *const says[] = {"--force-prune", NULL};
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup_synced(&t, "h", 3);
	ct_unlink(&t, "b.json");
	ct_unlink(&t, "c.json");
	expect_refused(&t, prune, says, 3, "pruning 2 of 3 owned apps");

	r = ct_sync_run(&t, force, 0, "sync --prune --force-prune");
	ct_run_free(&r);
	cr_expect_eq(ct_napps(&t), 1, "with --force-prune both apps go");
	cr_expect(present(&t, "/h/a"));
	ct_teardown(&t);
}
