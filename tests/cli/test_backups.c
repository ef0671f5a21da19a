/*
 * pacer backups and pacer rollback end to end: the backups a sync wrote are
 * listed (text and JSON), and rollback puts the previous definition back.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"

static struct ct_run backups(struct ct *t, const char *app, int json)
{
	const char *args[8] = {"backups", "--backup-dir", t->backups};
	size_t n = 3;

	if (app)
		args[n++] = app;
	if (json) {
		args[n++] = "--output";
		args[n++] = "json";
	}
	args[n] = NULL;
	return ct_pacer(args, NULL);
}

Test(backups, list_and_rollback, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct json_object *list, *app, *v1;
	struct ct_run r;

	ct_setup_synced(&t, "bk", 2);
	v1 = ct_app(&t, "/bk/a");
	cr_assert(v1);

	/* Nothing was updated yet: no backups. */
	r = backups(&t, NULL, 0);
	cr_expect_eq(r.rc, 0);
	cr_expect_str_empty(r.out, "no backups before any update:\n%s", r.out);
	cr_expect(ct_has(r.err, "no backups"), "%s", r.err);
	ct_run_free(&r);

	ct_write_app(&t, "a.json", "/bk/a", 32, "v2");
	ct_sync_ok(&t, "pacer sync");

	r = backups(&t, NULL, 0);
	cr_expect_eq(r.rc, 0, "%s", r.err);
	cr_expect(ct_has(r.out, "/bk/a"), "the backup of /bk/a is listed:\n%s", r.out);
	cr_expect(!ct_has(r.out, "/bk/b"), "/bk/b was never changed:\n%s", r.out);
	ct_run_free(&r);

	r = backups(&t, "/bk/a", 1);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	list = json_tokener_parse(r.out);
	cr_assert(list && json_object_is_type(list, json_type_array), "JSON list:\n%s", r.out);
	cr_expect_eq(json_object_array_length(list), 1);
	cr_expect_str_eq(ct_str(list, "0.app"), "/bk/a");
	{
		struct json_object *saved = json_object_from_file(ct_str(list, "0.path"));

		cr_expect(saved, "the listed path %s is a JSON backup", ct_str(list, "0.path"));
		cr_expect_str_eq(ct_str(saved, "env.K"), "v1",
		                 "the backup holds the old definition");
		json_object_put(saved);
	}
	json_object_put(list);
	ct_run_free(&r);

	/* Roll back: the v1 definition runs again. */
	{
		const char *args[] = {
		    "rollback",     "/bk/a",   "--marathon", t.sim.url, "--state-dir", t.state,
		    "--backup-dir", t.backups, "--timeout",  "20",      NULL};

		ct_clear_requests(&t);
		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 0, "rollback exited %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.out, "rolled back /bk/a"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/bk/a"), 1);
	app = ct_app(&t, "/bk/a");
	cr_assert(app);
	cr_expect_str_eq(ct_str(app, "env.K"), "v1", "rollback restores the previous definition");
	cr_expect_eq(ct_int(app, "tasksRunning"), 1);
	json_object_put(app);

	/* The rollback backed up the definition it replaced: two backups now. */
	r = backups(&t, "/bk/a", 1);
	list = json_tokener_parse(r.out);
	cr_expect(list && json_object_array_length(list) == 2, "%s", r.out);
	json_object_put(list);
	ct_run_free(&r);

	/* The source still says v2: diff shows the rollback as pending. */
	r = ct_cmd(&t, "diff", NULL);
	cr_expect_eq(r.rc, 2, "%s", r.out);
	ct_run_free(&r);
	json_object_put(v1);
	ct_teardown(&t);
}

Test(backups, rollback_without_backup_fails_clearly, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;
	const char *args[] = {"rollback", "/nothing/here", "--marathon", NULL, "--state-dir",
	                      NULL,       "--backup-dir",  NULL,         NULL};

	ct_setup(&t, NULL);
	args[3] = t.sim.url;
	args[5] = t.state;
	args[7] = t.backups;
	r = ct_pacer(args, NULL);
	cr_expect_eq(r.rc, 1, "no backup: exit 1, got %d:\n%s", r.rc, r.err);
	cr_expect(ct_has(r.err, "/nothing/here"), "the app is named:\n%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0);
	ct_teardown(&t);
}

/* A valid app id `len` bytes long: "/" + 63-byte segments, then "/" + tail. */
static void long_id(char *out, size_t len, const char *tail)
{
	size_t t = strlen(tail);

	for (size_t i = 0; i < len - t; i++)
		out[i] = i % 64 == 0 ? '/' : 'a';
	out[len - t - 2] = 'a';
	out[len - t - 1] = '/';
	memcpy(out + len - t, tail, t + 1);
}

/*
 * An app id too long for a plain backup file name (the temp file would pass
 * NAME_MAX) is updated, listed and rolled back like any other, and its
 * backups are kept apart from another long id with the same beginning.
 */
Test(backups, long_app_ids_are_backed_up_and_rolled_back, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	char a[401], b[401];
	struct json_object *list, *app;
	struct ct_run r;

	long_id(a, 400, "one");
	long_id(b, 400, "two");
	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", a, 32, "v1");
	ct_write_app(&t, "b.json", b, 32, "v1");
	ct_sync_ok(&t, "pacer sync");
	ct_write_app(&t, "a.json", a, 32, "v2");
	ct_write_app(&t, "b.json", b, 32, "v2");
	ct_sync_ok(&t, "pacer sync");
	app = ct_app(&t, a);
	cr_assert(app);
	cr_expect_str_eq(ct_str(app, "env.K"), "v2", "the long id was updated");
	json_object_put(app);

	r = backups(&t, a, 1);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	list = json_tokener_parse(r.out);
	cr_assert(list && json_object_array_length(list) == 1, "one backup of a:\n%s", r.out);
	cr_expect_str_eq(ct_str(list, "0.app"), a);
	json_object_put(list);
	ct_run_free(&r);
	/* All apps: both full ids, read back from the files. */
	r = backups(&t, NULL, 0);
	cr_expect(ct_has(r.out, a) && ct_has(r.out, b), "%s", r.out);
	ct_run_free(&r);

	{
		const char *args[] = {
		    "rollback",     a,         "--marathon", t.sim.url, "--state-dir", t.state,
		    "--backup-dir", t.backups, "--timeout",  "20",      NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 0, "rollback exited %d:\n%s%s", r.rc, r.out, r.err);
	ct_run_free(&r);
	app = ct_app(&t, a);
	cr_assert(app);
	cr_expect_str_eq(ct_str(app, "env.K"), "v1", "rollback restores a's previous definition");
	json_object_put(app);
	app = ct_app(&t, b);
	cr_assert(app);
	cr_expect_str_eq(ct_str(app, "env.K"), "v2", "b is untouched");
	json_object_put(app);
	r = backups(&t, b, 1);
	list = json_tokener_parse(r.out);
	cr_expect(list && json_object_array_length(list) == 1, "b has its one backup:\n%s", r.out);
	json_object_put(list);
	ct_run_free(&r);
	ct_teardown(&t);
}
