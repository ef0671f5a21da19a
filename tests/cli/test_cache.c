/*
 * The run-to-run cache in the state directory, end to end against a real
 * marathon-sim: a second sync of the same files and the same Marathon parses
 * nothing, yet a change made in Marathon behind pacer's back, an edited
 * file, a corrupt cache file and PACER_NO_CACHE all behave as if there were
 * no cache at all.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/clitest.h"
#include "tests/lib/longrun.h"

/* A sync that must succeed, at debug level; the run is the caller's. */
static struct ct_run sync_debug(struct ct *t)
{
	const char *extra[] = {"--log-level", "debug", NULL};
	struct ct_run r = ct_cmd(t, "sync", extra);

	if (r.rc != 0)
		ct_run_dump("pacer sync", &r);
	cr_assert_eq(r.rc, 0, "pacer sync exited %d, expected 0", r.rc);
	return r;
}

static char *cache_path(struct ct *t)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/cache", t->state) > 0);
	return p;
}

Test(cache, second_sync_parses_nothing_and_still_sees_every_change, .timeout = 120,
     .fini = ct_fini)
{
	static struct ct t;
	struct json_object *app;
	struct ct_run r;
	char *path;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/c/a", 32, "v1");
	ct_write_app(&t, "b.json", "/c/b", 32, "v1");
	r = sync_debug(&t);
	ct_run_free(&r);
	cr_assert(ct_wait_idle(&t, 20000));
	path = cache_path(&t);
	cr_assert_eq(access(path, F_OK), 0, "the sync wrote %s", path);

	/* Settled and unchanged: both apps known from the cache. */
	r = sync_debug(&t); /* the first listing after the deployments ended */
	ct_run_free(&r);
	ct_clear_requests(&t);
	r = sync_debug(&t);
	cr_expect(ct_has(r.err, "2 listed, 0 parsed, 2 known equal"),
		  "nothing parsed on a repeat run:\n%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0);

	/* pacer diff (no lock, no --prune) reads the same cache. */
	{
		const char *extra[] = {"--log-level", "debug", NULL};

		r = ct_cmd(&t, "diff", extra);
		cr_expect_eq(r.rc, 0, "diff in sync exits 0, got %d:\n%s", r.rc, r.err);
		cr_expect(ct_has(r.err, "2 listed, 0 parsed, 2 known equal"), "%s", r.err);
		ct_run_free(&r);
	}

	/* Someone changes /c/a in Marathon: the next sync puts it back. */
	ct_put_app(&t, "/c/a", 48, "v1");
	r = sync_debug(&t);
	cr_expect(ct_has(r.out, "/c/a"), "the drifted app is updated:\n%s", r.out);
	ct_run_free(&r);
	app = ct_app(&t, "/c/a");
	cr_expect_eq(ct_int(app, "mem"), 32, "mem put back to the file's value");
	json_object_put(app);
	cr_assert(ct_wait_idle(&t, 20000));

	/* An edited file is applied. */
	ct_write_app(&t, "b.json", "/c/b", 32, "v2");
	r = sync_debug(&t);
	ct_run_free(&r);
	app = ct_app(&t, "/c/b");
	cr_expect_str_eq(ct_str(app, "env.K"), "v2");
	json_object_put(app);
	cr_assert(ct_wait_idle(&t, 20000));

	/* A corrupt cache is ignored and rewritten. */
	cr_assert_eq(
	    test_write_file(path, "pacer-cache 1 not-this-program\nP junk\t\n\x01\x02 garbage"), 0);
	r = sync_debug(&t);
	cr_expect(ct_has(r.err, "2 listed, 2 parsed, 2 known equal"), "%s", r.err);
	ct_run_free(&r);
	r = sync_debug(&t);
	cr_expect(ct_has(r.err, "2 listed, 0 parsed"), "the cache was rewritten:\n%s", r.err);
	ct_run_free(&r);

	/* PACER_NO_CACHE: no cache read or written. */
	cr_assert_eq(unlink(path), 0);
	{
		const char *args[] = {"sync",        "--source", t.src,         "--marathon", t.sim.url,
				      "--state-dir", t.state,    "--backup-dir", t.backups,   "--log-level",
				      "debug",       NULL};
		const char *env[] = {"PACER_NO_CACHE=1", NULL};

		r = ct_pacer(args, env);
		cr_expect_eq(r.rc, 0, "%s", r.err);
		cr_expect(ct_has(r.err, "2 listed, 2 parsed"), "%s", r.err);
		ct_run_free(&r);
		cr_expect_neq(access(path, F_OK), 0, "PACER_NO_CACHE writes no cache");
	}
	free(path);
	ct_teardown(&t);
}

/*
 * A git source: files the cache knows are not even read from the object
 * database, and are read by blob id when an app needs its definition after
 * all (here: it was changed in Marathon behind pacer's back).
 */
Test(cache, git_source_reads_known_blobs_only_when_needed, .timeout = 120, .fini = ct_fini)
{
	static struct ct t;
	const char *extra[] = {"--log-level", "debug", NULL};
	char *work = NULL, *url = NULL, *src;
	struct json_object *app;
	struct ct_run r;

	ct_setup(&t, NULL);
	free(lr_sh(t.dir, "git init -q --bare -b main remote.git && git init -q -b main work && "
			  "git -C work remote add origin ../remote.git"));
	cr_assert(asprintf(&work, "%s/work", t.dir) >= 0);
	cr_assert(asprintf(&url, "file://%s/remote.git", t.dir) >= 0);
	src = t.src;
	t.src = work; /* ct_write_app writes below t.src */
	ct_write_app(&t, "a.json", "/g/a", 32, "v1");
	ct_write_app(&t, "b.json", "/g/b", 32, "v1");
	t.src = src;
	free(lr_sh(work, "git add -A && git commit -q -m first && git push -q origin HEAD:main"));

	{
		const char *args[] = {"sync",         "--source", url,       "--marathon",
				      t.sim.url,      "--state-dir", t.state, "--backup-dir",
				      t.backups,      "--log-level", "debug", NULL};

		for (int i = 0; i < 3; i++) {
			r = ct_pacer(args, NULL);
			if (r.rc != 0)
				ct_run_dump("pacer sync", &r);
			cr_assert_eq(r.rc, 0);
			if (i < 2) {
				ct_run_free(&r);
				cr_assert(ct_wait_idle(&t, 20000));
			}
		}
		cr_expect(ct_has(r.err, "2 listed, 0 parsed, 2 known equal"), "%s", r.err);
		ct_run_free(&r);

		/* Drift in Marathon: /g/a's file is read again by blob id and applied. */
		ct_put_app(&t, "/g/a", 48, "v1");
		r = ct_pacer(args, NULL);
		cr_expect_eq(r.rc, 0, "%s", r.err);
		cr_expect(ct_has(r.out, "/g/a"), "%s", r.out);
		ct_run_free(&r);
		app = ct_app(&t, "/g/a");
		cr_expect_eq(ct_int(app, "mem"), 32);
		json_object_put(app);
	}
	(void)extra;
	free(work);
	free(url);
	ct_teardown(&t);
}

/* A cache that cannot be read or written costs speed, never the sync. */
Test(cache, an_unusable_cache_file_only_warns, .timeout = 60, .fini = ct_fini)
{
	static struct ct t;
	struct ct_run r;
	char *path, *inner = NULL;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/u/a", 32, "v1");
	path = cache_path(&t);
	cr_assert(asprintf(&inner, "%s/x", path) > 0);
	/* A directory where the cache file belongs: reading and replacing it fail. */
	cr_assert_eq(test_write_file(inner, "x"), 0);
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 0, "the sync itself must succeed:\n%s", r.err);
	cr_expect(ct_has(r.err, "cannot read the cache") && ct_has(r.err, "cannot write the cache"),
		  "both problems are reported:\n%s", r.err);
	ct_run_free(&r);
	{
		struct json_object *app = ct_app(&t, "/u/a");

		cr_expect_eq(ct_int(app, "mem"), 32);
		json_object_put(app);
	}
	free(inner);
	free(path);
	ct_teardown(&t);
}
