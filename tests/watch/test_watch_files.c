/*
 * pacer watch and its source, end to end: the watched directory replaced
 * (a copy, renames, a symlink switched), bursts of writes with --prune, a
 * file still being written, and a git source's one cache. Real pacer, real
 * marathon-sim, real files.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/watchtest.h"

static struct wt w; /* static: the .fini may run after the test frame is gone */

static void fini(void)
{
	wt_fini(&w);
}

/* A path in the test's scratch directory (after ct_setup(): git commands run
 * in a path that is not set up would find the project's own repository). */
static char *at(const char *rel)
{
	char *p = NULL;

	cr_assert(w.t.dir && w.t.dir[0] == '/', "no scratch directory yet");
	cr_assert(asprintf(&p, "%s/%s", w.t.dir, rel) >= 0);
	return p;
}

/* ---- the directory replaced: after one sync, later edits are still seen ---- */

/* The replacement is synced, and so is an edit made after it. */
static void expect_followed(const char *dir_rel)
{
	char *dir = at(dir_rel);

	wt_expect_mem(&w, "/web", 48, 8000);
	wt_write_app(dir, "web.json", "/web", 64);
	wt_expect_mem(&w, "/web", 64, 5000);
	wt_write_app(dir, "team/api.json", "/team/api", 40);
	wt_expect_mem(&w, "/team/api", 40, 5000);
	free(dir);
}

/* The watched src/ replaced by next/ (web.json at mem 48) with a shell command. */
struct replace_case {
	char sh[48];
};

static struct replace_case replace_cases[] = {
    {"rm -rf src && cp -r next src"}, /* by a copy */
    {"mv src old && mv next src"},    /* swapped by renames */
};

ParameterizedTestParameters(watch_files, directory_replaced)
{
	return cr_make_param_array(struct replace_case, replace_cases,
	                           sizeof(replace_cases) / sizeof(replace_cases[0]));
}

ParameterizedTest(const struct replace_case *c, watch_files, directory_replaced, .timeout = 60,
                  .fini = fini)
{
	char *next;

	ct_setup(&w.t, NULL);
	next = at("next");
	wt_write_app(w.t.src, "web.json", "/web", 32);
	wt_write_app(next, "web.json", "/web", 48);
	wt_start_synced(&w, w.t.src, NULL);
	free(lr_sh(w.t.dir, "%s", c->sh));
	expect_followed("src");
	free(next);
	wt_stop(&w);
	ct_teardown(&w.t);
}

Test(watch_files, symlinked_source_switched, .timeout = 60, .fini = fini)
{
	char *v1, *v2, *current;

	ct_setup(&w.t, NULL);
	v1 = at("v1");
	v2 = at("v2");
	current = at("current");
	wt_write_app(v1, "web.json", "/web", 32);
	wt_write_app(v2, "web.json", "/web", 48);
	free(lr_sh(w.t.dir, "ln -s v1 current"));
	wt_start_synced(&w, current, NULL);
	free(lr_sh(w.t.dir, "ln -sfn v2 current.tmp && mv -T current.tmp current"));
	expect_followed("v2");
	free(v1);
	free(v2);
	free(current);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* ---- bursts, --prune, and files being written ---- */

/* app00.json... as /app00... with this mem, one every gap_ms (0: at once). */
static void write_apps(int n, int mem, int gap_ms)
{
	for (int i = 0; i < n; i++) {
		char rel[32], id[32];

		lr_sleep_ms(gap_ms);
		snprintf(rel, sizeof(rel), "app%02d.json", i);
		snprintf(id, sizeof(id), "/app%02d", i);
		wt_write_app(w.t.src, rel, id, mem);
	}
}

static void expect_all(int n, int mem)
{
	for (int i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof(id), "/app%02d", i);
		wt_expect_mem(&w, id, mem, 8000);
	}
}

static void start_pruning(int n)
{
	static const char *const extra[] = {"--prune", NULL};

	ct_setup(&w.t, NULL);
	write_apps(n, 32, 0);
	wt_start_synced(&w, w.t.src, extra);
	ct_clear_requests(&w.t);
}

/*
 * Every file deleted, then written again one by one every gap_ms, as they
 * were: a sync of the half picture has nothing to update, and goes
 * straight to pruning the apps whose files are not back yet. Nothing may
 * be deleted.
 */
struct rewrite_case {
	int n;
	int gap_ms;
	char why[96]; /* what went wrong when an app was pruned */
};

static struct rewrite_case rewrite_cases[] = {
    /* Faster than the debounce (--debounce 200) for longer than its old cap
     * (2 s): the sync forced at the cap pruned the apps whose files were not
     * written yet. */
    {16, 150, "an app was pruned in the middle of a burst"},
    /* Slower than the debounce: every gap is a quiet window, and once half
     * the files were back a prune of the rest was allowed. The second look
     * (2 x debounce without a change) is never given. */
    {8, 300, "an app was pruned while its file was being rewritten"},
};

ParameterizedTestParameters(watch_files, a_rewrite_with_prune_deletes_nothing)
{
	return cr_make_param_array(struct rewrite_case, rewrite_cases,
	                           sizeof(rewrite_cases) / sizeof(rewrite_cases[0]));
}

ParameterizedTest(const struct rewrite_case *c, watch_files, a_rewrite_with_prune_deletes_nothing,
                  .timeout = 60, .fini = fini)
{
	start_pruning(c->n);
	free(lr_sh(w.t.src, "rm -f *.json"));
	write_apps(c->n, 32, c->gap_ms);
	expect_all(c->n, 32);
	cr_assert_eq(ct_count_requests(&w.t, "DELETE", "/v2/apps"), 0, "%s", c->why);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* A file that is really gone is pruned, after the second look. */
Test(watch_files, a_deleted_file_is_pruned_after_a_second_look, .timeout = 60, .fini = fini)
{
	start_pruning(3);
	ct_unlink(&w.t, "app02.json");
	wt_expect_log(&w,
	              "deleting 1 app (/app02) waits until the files have been quiet for 400 ms", 1,
	              5000);
	wt_expect_mem(&w, "/app02", -1, 5000);
	cr_assert_eq(ct_count_requests(&w.t, "DELETE", "/v2/apps"), 1);
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* Half a file, then a pause longer than the debounce, then the rest. */
Test(watch_files, a_file_being_written_is_not_read_half_way, .timeout = 60, .fini = fini)
{
	char *p = NULL;
	FILE *f;

	wt_setup_web(&w, NULL);
	cr_assert(asprintf(&p, "%s/api.json", w.t.src) >= 0);
	f = fopen(p, "w");
	cr_assert(f);
	fputs("{\n  \"id\": \"/api\",\n  \"cmd\": \"sleep 1000\",\n", f);
	cr_assert_eq(fflush(f), 0);
	lr_sleep_ms(1200);
	fputs("  \"cpus\": 0.1,\n  \"mem\": 40,\n  \"instances\": 1\n}\n", f);
	cr_assert_eq(fclose(f), 0);
	free(p);
	wt_expect_mem(&w, "/api", 40, 5000);
	wt_expect_count(&w, "result=invalid", 0, "the half-written file was read");
	wt_stop(&w);
	ct_teardown(&w.t);
}

/* ---- a git source: one cache ---- */

Test(watch_files, a_git_source_has_one_cache, .timeout = 60, .fini = fini)
{
	char *url, *work = NULL, *old = NULL, *c2;
	struct stat st;

	ct_setup(&w.t, NULL);
	url = lr_git_remote(w.t.dir, &work);
	wt_write_app(work, "web.json", "/web", 32);
	free(lr_git_commit(work, "one"));
	/* What an earlier version left: a second clone for the polls. */
	cr_assert(asprintf(&old, "%s/git-poll/stale/HEAD", w.t.state) >= 0);
	cr_assert_eq(test_write_file(old, "ref: refs/heads/main\n"), 0);
	free(old);

	wt_start(&w, url, NULL);
	wt_expect_log(&w, "sync result=converged", 1, 20000);
	wt_write_app(work, "web.json", "/web", 96);
	c2 = lr_git_commit(work, "two");
	wt_expect_mem(&w, "/web", 96, 8000);
	cr_assert(asprintf(&old, "%s/git-poll", w.t.state) >= 0);
	cr_assert_neq(stat(old, &st), 0, "%s is still there: two caches", old);
	free(old);
	cr_assert(asprintf(&old, "%s/git", w.t.state) >= 0);
	cr_assert_eq(stat(old, &st), 0, "no %s", old);
	free(old);
	wt_expect_log(&w, "poll cache of earlier versions", 1, 1000);
	wt_stop(&w);
	free(c2);
	free(url);
	free(work);
	ct_teardown(&w.t);
}
