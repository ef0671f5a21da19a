/*
 * The inotify watcher on real files in a temp dir, and the debounce helper
 * on a fake clock.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/fs/watch.h"
#include "tests/lib/testlib.h"

struct env {
	char *dir;
	struct fswatch *w;
};

static void env_init(struct env *e)
{
	struct pacer_error *err = NULL;

	e->dir = test_tmpdir("pacer-watch");
	cr_assert(e->dir);
	cr_assert_eq(fswatch_new(&e->w, e->dir, &err), 0, "%s", err ? err->message : "");
}

static void env_release(struct env *e)
{
	fswatch_free(e->w);
	test_rmrf(e->dir);
	free(e->dir);
}

static char *path_of(struct env *e, const char *rel)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", e->dir, rel) >= 0);
	return p;
}

static void write_rel(struct env *e, const char *rel, const char *content)
{
	char *p = path_of(e, rel);

	cr_assert_eq(test_write_file(p, content), 0, "cannot write %s", p);
	free(p);
}

/*
 * Wait up to timeout_ms for events and drain them all; returns changed,
 * and *overflow. Stops early once something relevant was seen, after a
 * short grace period so related events land in the same read.
 */
static int wait_changes(struct env *e, int timeout_ms, int *overflow_out)
{
	long long deadline = pacer_now_ms() + timeout_ms;
	int any = 0, ovf = 0;

	for (;;) {
		struct pollfd p = {fswatch_fd(e->w), POLLIN, 0};
		long long left = deadline - pacer_now_ms();
		struct pacer_error *err = NULL;
		int changed = 0, overflow = 0;

		if (left <= 0)
			break;
		if (poll(&p, 1, any ? 50 : (int)left) <= 0) {
			if (any)
				break;
			continue;
		}
		cr_assert_eq(fswatch_read(e->w, &changed, &overflow, &err), 0, "%s",
		             err ? err->message : "");
		any |= changed;
		ovf |= overflow;
	}
	if (overflow_out)
		*overflow_out = ovf;
	return any;
}

static void expect_change(struct env *e, const char *what)
{
	int ovf = 0;

	cr_assert(wait_changes(e, 3000, &ovf), "no change reported for: %s", what);
	cr_assert_eq(ovf, 0, "unexpected overflow for: %s", what);
}

static void expect_quiet(struct env *e, const char *what)
{
	cr_assert_not(wait_changes(e, 300, NULL), "change reported for: %s", what);
}

Test(fswatch, create_modify_delete)
{
	struct env e;
	char *p;

	env_init(&e);
	write_rel(&e, "web.json", "{}");
	expect_change(&e, "create");
	write_rel(&e, "web.json", "{\"x\":1}");
	expect_change(&e, "modify");
	p = path_of(&e, "web.json");
	cr_assert_eq(unlink(p), 0);
	expect_change(&e, "delete");
	free(p);
	env_release(&e);
}

Test(fswatch, atomic_save_via_rename)
{
	struct env e;
	char *tmp, *dst;

	env_init(&e);
	write_rel(&e, "web.json", "{}");
	expect_change(&e, "create");
	/* What editors do: write a hidden temp file, rename it over the original. */
	write_rel(&e, ".web.json.swp", "{\"x\":2}");
	expect_quiet(&e, "hidden temp file");
	tmp = path_of(&e, ".web.json.swp");
	dst = path_of(&e, "web.json");
	cr_assert_eq(rename(tmp, dst), 0);
	expect_change(&e, "rename over");
	/* Renamed away to a non-json name: the definition is gone. */
	free(tmp);
	tmp = path_of(&e, "web.json.bak");
	cr_assert_eq(rename(dst, tmp), 0);
	expect_change(&e, "rename away");
	free(tmp);
	free(dst);
	env_release(&e);
}

Test(fswatch, irrelevant_files_are_ignored)
{
	struct env e;

	env_init(&e);
	write_rel(&e, "notes.txt", "x");
	write_rel(&e, "web.json~", "x");
	write_rel(&e, "4913", "x");
	write_rel(&e, ".git/index.json", "x"); /* hidden folder, even with a .json inside */
	expect_quiet(&e, "non-json and hidden files");
	write_rel(&e, ".git/objects/x.json", "x");
	expect_quiet(&e, "inside a hidden folder");
	env_release(&e);
}

Test(fswatch, new_subdirectories_are_watched)
{
	struct env e;
	char *d;
	int before;

	env_init(&e);
	before = fswatch_count(e.w);
	/* mkdir -p and files written at once, before the watcher could add its watches. */
	d = path_of(&e, "team/a/b");
	cr_assert_eq(test_write_file(d, ""), 0); /* creates team/a, then a file b */
	cr_assert_eq(unlink(d), 0);
	cr_assert_eq(mkdir(d, 0755), 0);
	write_rel(&e, "team/a/b/api.json", "{}");
	expect_change(&e, "file in a new nested directory");
	cr_assert_eq(fswatch_count(e.w), before + 3, "team, team/a, team/a/b watched");
	/* And the new directories report later changes. */
	write_rel(&e, "team/a/b/api.json", "{\"v\":2}");
	expect_change(&e, "modify in the new directory");
	write_rel(&e, "team/a/other.json", "{}");
	expect_change(&e, "create in the new directory");
	/* An empty new directory is not a change by itself. */
	free(d);
	d = path_of(&e, "empty");
	cr_assert_eq(mkdir(d, 0755), 0);
	expect_quiet(&e, "empty directory");
	free(d);
	env_release(&e);
}

Test(fswatch, directories_moved_in_and_deleted)
{
	struct env e;
	char *outside = test_tmpdir("pacer-watch-out"), *src = NULL, *dst;

	env_init(&e);
	/* A tree prepared elsewhere and moved in (same file system: /tmp). */
	cr_assert(asprintf(&src, "%s/pack", outside) >= 0);
	{
		char *f = NULL;

		cr_assert(asprintf(&f, "%s/sub/x.json", src) >= 0);
		cr_assert_eq(test_write_file(f, "{}"), 0);
		free(f);
	}
	dst = path_of(&e, "pack");
	cr_assert_eq(rename(src, dst), 0);
	expect_change(&e, "directory with files moved in");
	write_rel(&e, "pack/sub/y.json", "{}");
	expect_change(&e, "create inside the moved-in tree");
	/* Moved out again, then deleted. */
	cr_assert_eq(rename(dst, src), 0);
	expect_change(&e, "directory moved out");
	write_rel(&e, "gone/z.json", "{}");
	expect_change(&e, "another tree");
	free(dst);
	dst = path_of(&e, "gone");
	cr_assert_eq(test_rmrf(dst), 0);
	expect_change(&e, "directory deleted");
	/* The moved-out tree is no longer watched. */
	{
		char *f = NULL;

		cr_assert(asprintf(&f, "%s/sub/w.json", src) >= 0);
		cr_assert_eq(test_write_file(f, "{}"), 0);
		free(f);
	}
	expect_quiet(&e, "file in a tree moved outside");
	cr_assert_eq(fswatch_count(e.w), 1, "only the root is left");
	free(dst);
	free(src);
	test_rmrf(outside);
	free(outside);
	env_release(&e);
}

Test(fswatch, root_deleted_and_recreated)
{
	struct env e;
	struct pacer_error *err = NULL;
	int changed = 0, overflow = 0;

	env_init(&e);
	write_rel(&e, "a.json", "{}");
	expect_change(&e, "create");
	cr_assert_eq(test_rmrf(e.dir), 0);
	cr_assert(wait_changes(&e, 3000, &overflow));
	cr_assert_eq(overflow, 1, "losing the root means resync everything");
	/* Back again: the next read re-establishes the watches. */
	write_rel(&e, "b.json", "{}");
	cr_assert_eq(fswatch_read(e.w, &changed, &overflow, &err), 0);
	cr_assert_eq(changed, 1);
	cr_assert_eq(overflow, 1);
	write_rel(&e, "b.json", "{\"v\":1}");
	expect_change(&e, "write after the root came back");
	env_release(&e);
}

Test(fswatch, queue_overflow_sets_the_flag)
{
	struct env e;
	char *limit = test_read_file("/proc/sys/fs/inotify/max_queued_events", NULL);
	long max = limit ? strtol(limit, NULL, 10) : 0;
	int ovf = 0;

	free(limit);
	if (max <= 0 || max > 40000)
		cr_skip_test("max_queued_events is %ld; overflowing it would take too long", max);
	env_init(&e);
	/* Two events per file (create, close-write), none read: the queue overflows. */
	for (long i = 0; i < max / 2 + 200; i++) {
		char name[64];
		int fd;
		char *p;

		snprintf(name, sizeof(name), "f%ld.json", i);
		p = path_of(&e, name);
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		cr_assert(fd >= 0);
		close(fd);
		free(p);
	}
	cr_assert(wait_changes(&e, 3000, &ovf));
	cr_assert_eq(ovf, 1, "IN_Q_OVERFLOW must set overflow");
	/* The watcher keeps working afterwards. */
	write_rel(&e, "after.json", "{}");
	expect_change(&e, "write after the overflow");
	env_release(&e);
}

Test(fswatch, errors_name_the_directory)
{
	struct fswatch *w = NULL;
	struct pacer_error *err = NULL;
	char *dir = test_tmpdir("pacer-watch"), *file = NULL;

	cr_assert_eq(fswatch_new(&w, "/nonexistent/pacer-apps", &err), PACER_ENOTFOUND);
	cr_assert(strstr(err->message, "/nonexistent/pacer-apps"));
	pacer_error_clear(&err);
	cr_assert(asprintf(&file, "%s/f.json", dir) >= 0);
	test_write_file(file, "{}");
	cr_assert_eq(fswatch_new(&w, file, &err), PACER_EINVALID);
	cr_assert(strstr(err->message, "not a directory"));
	pacer_error_free(err);
	cr_assert_null(w);
	test_rmrf(dir);
	free(dir);
	free(file);
}

/* What the event loop does when the watcher is readable: 1 when a change was noted. */
static int read_and_note(struct env *e, struct debounce *d)
{
	struct pacer_error *err = NULL;
	int changed = 0, overflow = 0;

	cr_assert_eq(fswatch_read(e->w, &changed, &overflow, &err), 0);
	if (!changed && !overflow)
		return 0;
	debounce_note(d, pacer_now_ms());
	return 1;
}

/* A burst (git checkout touching 200 files) becomes one sync, on the real clock. */
Test(fswatch, burst_of_200_files_is_one_due_event)
{
	struct env e;
	struct debounce d;
	int fires = 0, notes = 0;
	long long end;

	env_init(&e);
	debounce_init(&d, 1000); /* generous: the machine may be loaded */
	for (int i = 0; i < 200; i++) {
		char name[64];

		snprintf(name, sizeof(name), "apps/app%03d.json", i);
		write_rel(&e, name, "{}");
		if (i % 25 == 0) { /* the event loop gets to run now and then during the burst */
			notes += read_and_note(&e, &d);
			cr_assert_eq(debounce_due(&d, pacer_now_ms()), 0, "fired mid-burst");
		}
	}
	/* The event loop proper, for 3 s after the burst. */
	end = pacer_now_ms() + 3000;
	while (pacer_now_ms() < end) {
		struct pollfd p = {fswatch_fd(e.w), POLLIN, 0};
		int t = debounce_timeout_ms(&d, pacer_now_ms());
		long long left = end - pacer_now_ms();

		if (t < 0 || t > left)
			t = (int)(left > 0 ? left : 0);
		if (poll(&p, 1, t) > 0)
			notes += read_and_note(&e, &d);
		if (debounce_due(&d, pacer_now_ms()))
			fires++;
	}
	cr_assert_gt(notes, 1, "the burst was seen as several reads");
	cr_assert_eq(fires, 1, "a burst must fire exactly once, fired %d times", fires);
	env_release(&e);
}

/* ---- the root replaced: by a copy, by a rename, by switching a symlink ---- */

static void sh(const char *dir, const char *cmd)
{
	char *full = NULL;
	const char *argv[] = {"sh", "-c", NULL, NULL};

	cr_assert(asprintf(&full, "cd '%s' && %s", dir, cmd) >= 0);
	argv[2] = full;
	cr_assert_eq(test_run(argv, NULL, NULL, NULL, 30), 0, "%s", cmd);
	free(full);
}

/* A watch on parent/<name>, where name is "apps" or a symlink to a sibling. */
struct tree {
	struct env e; /* e.dir: the parent */
	char *root;   /* what fswatch_new() was given */
};

static void tree_init(struct tree *t, const char *root_rel, const char *link_to)
{
	struct pacer_error *err = NULL;
	char *target = NULL;

	t->e.dir = test_tmpdir("pacer-watch");
	cr_assert(t->e.dir);
	t->root = path_of(&t->e, root_rel);
	if (link_to) {
		target = path_of(&t->e, link_to);
		cr_assert_eq(mkdir(target, 0755), 0);
		cr_assert_eq(symlink(link_to, t->root), 0);
	} else {
		char *cmd = NULL;

		cr_assert(asprintf(&cmd, "mkdir -p '%s'", root_rel) >= 0);
		sh(t->e.dir, cmd);
		free(cmd);
	}
	cr_assert_eq(fswatch_new(&t->e.w, t->root, &err), 0, "%s", err ? err->message : "");
	free(target);
}

static void tree_release(struct tree *t)
{
	env_release(&t->e);
	free(t->root);
}

static void expect_resync(struct env *e, const char *what)
{
	int ovf = 0;

	cr_assert(wait_changes(e, 3000, &ovf), "no change reported for: %s", what);
	cr_assert_eq(ovf, 1, "%s: the whole tree must be read again (overflow)", what);
}

/*
 * A root replaced, one case a row: the tree watched (root, and the target
 * when root is a symlink), then steps, each a file written (or none) and
 * what the watcher must report then. A resync step runs its command in the
 * parent first: the root is replaced, the whole tree must be read again.
 */
enum expect { NOTHING_YET, CHANGED, QUIET, RESYNC };

struct step {
	const char *rel; /* a file written with text, or NULL */
	const char *text;
	enum expect expect;
	const char *what; /* for RESYNC, the command that replaces the root */
};

struct replace_case {
	char name[32];
	const char *root, *link_to;
	int watched; /* directories watched after a resync, or 0 to leave unchecked */
	struct step steps[12];
};

static const struct replace_case replace_cases[] = {
    {"by a copy",
     "apps",
     NULL,
     2,
     {
         {"new/web.json", "{}", NOTHING_YET, NULL},
         {"new/team/api.json", "{}", NOTHING_YET, NULL},
         {"apps/web.json", "{}", CHANGED, "create"},
         {NULL, NULL, RESYNC, "rm -rf apps && cp -r new apps"},
         {"apps/team/api.json", "{\"v\":2}", CHANGED, "an edit in the copy"},
         {"new/web.json", "{\"v\":2}", QUIET, "the copy's source is not watched"},
     }},
    {"by renames",
     "apps",
     NULL,
     0,
     {
         {"next/web.json", "{}", NOTHING_YET, NULL},
         {NULL, NULL, RESYNC, "mv apps old && mv next apps"},
         {"apps/web.json", "{\"v\":2}", CHANGED, "an edit in the directory now named apps"},
         {"old/web.json", "{}", QUIET, "the old directory, renamed away"},
     }},
    {"by switching a symlink",
     "current",
     "v1",
     0,
     {
         {"v1/web.json", "{}", CHANGED, "a file through the symlink"},
         {"v2/web.json", "{}", QUIET, "the other target"},
         {NULL, NULL, RESYNC, "ln -sfn v2 current.tmp && mv -T current.tmp current"},
         {"v2/web.json", "{\"v\":2}", CHANGED, "an edit in the new target"},
         {"v1/web.json", "{\"v\":2}", QUIET, "the old target"},
         /* Replaced in place (unlink, then symlink) works too. */
         {NULL, NULL, RESYNC, "mkdir v3 && ln -sfn v3 current"},
         {"v3/web.json", "{}", CHANGED, "a file in the third target"},
     }},
};

ParameterizedTestParameters(fswatch, root_replaced)
{
	static int idx[sizeof(replace_cases) / sizeof(replace_cases[0])];

	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(int *i, fswatch, root_replaced)
{
	const struct replace_case *c = &replace_cases[*i];
	struct tree t;

	tree_init(&t, c->root, c->link_to);
	for (const struct step *s = c->steps; s->rel || s->what; s++) {
		if (s->rel)
			write_rel(&t.e, s->rel, s->text);
		if (s->expect == RESYNC) {
			sh(t.e.dir, s->what);
			expect_resync(&t.e, s->what);
			if (c->watched)
				cr_assert_eq(fswatch_count(t.e.w), c->watched,
				             "%s: all watched again", c->name);
		} else if (s->expect == CHANGED) {
			expect_change(&t.e, s->what);
		} else if (s->expect == QUIET) {
			expect_quiet(&t.e, s->what);
		}
	}
	tree_release(&t);
}

/* The parent goes too: nothing can tell when it is back but a look on a timer. */
Test(fswatch, root_and_parent_gone_then_back)
{
	struct tree t;
	char *parent;
	int changed = 0, overflow = 0;
	struct pacer_error *err = NULL;

	tree_init(&t, "site/apps", NULL);
	parent = path_of(&t.e, "site");
	cr_assert_eq(fswatch_timeout_ms(t.e.w), -1, "no timer while the root is there");
	cr_assert_eq(test_rmrf(parent), 0);
	expect_resync(&t.e, "the parent deleted");
	cr_assert_gt(fswatch_timeout_ms(t.e.w), 0, "a lost root is looked for on a timer");
	write_rel(&t.e, "site/apps/web.json", "{}");
	cr_assert_eq(fswatch_read(t.e.w, &changed, &overflow, &err), 0);
	cr_assert(changed && overflow, "the root back: read everything again");
	cr_assert_eq(fswatch_timeout_ms(t.e.w), -1);
	write_rel(&t.e, "site/apps/web.json", "{\"v\":2}");
	expect_change(&t.e, "an edit once it is back");
	free(parent);
	tree_release(&t);
}

/* ---- files being written ---- */

Test(fswatch, a_file_open_for_writing_is_being_written)
{
	struct env e;
	long long latest = 0;
	const char *path = NULL;
	char *p, *other = NULL;
	FILE *f;

	env_init(&e);
	p = path_of(&e, "web.json");
	f = fopen(p, "w");
	cr_assert(f);
	cr_assert_eq(fputs("{\"id\": \"/web\",", f) >= 0, 1);
	cr_assert_eq(fflush(f), 0);
	cr_assert(wait_changes(&e, 3000, NULL));
	cr_assert_eq(fswatch_writing(e.w, &latest, &path), 1, "created and written, not closed");
	cr_assert_str_eq(path, p);
	cr_assert_gt(latest, 0);
	cr_assert_eq(fputs(" \"mem\": 32}", f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
	expect_change(&e, "closed");
	cr_assert_eq(fswatch_writing(e.w, NULL, NULL), 0, "closed after writing");
	/* A hard link or a symlink is complete as soon as it exists. */
	other = path_of(&e, "api.json");
	cr_assert_eq(link(p, other), 0);
	expect_change(&e, "hard link");
	cr_assert_eq(fswatch_writing(e.w, NULL, NULL), 0, "a hard link is not being written");
	free(other);
	other = path_of(&e, "db.json");
	cr_assert_eq(symlink("web.json", other), 0);
	expect_change(&e, "symlink");
	cr_assert_eq(fswatch_writing(e.w, NULL, NULL), 0, "a symlink is not being written");
	/* Deleted while open: not waited for. */
	f = fopen(p, "w");
	cr_assert(f);
	cr_assert(wait_changes(&e, 3000, NULL));
	cr_assert_eq(fswatch_writing(e.w, NULL, NULL), 1);
	cr_assert_eq(unlink(p), 0);
	cr_assert(wait_changes(&e, 3000, NULL));
	cr_assert_eq(fswatch_writing(e.w, NULL, NULL), 0, "a deleted file is not waited for");
	fclose(f);
	free(other);
	free(p);
	env_release(&e);
}

/* ---- debounce on a fake clock ---- */

Test(debounce, waits_for_quiet)
{
	struct debounce d;

	debounce_init(&d, 500);
	cr_assert_eq(debounce_timeout_ms(&d, 0), -1, "nothing pending: block forever");
	cr_assert_eq(debounce_due(&d, 10000), 0);
	debounce_note(&d, 1000);
	cr_assert_eq(debounce_timeout_ms(&d, 1000), 500);
	cr_assert_eq(debounce_due(&d, 1499), 0);
	debounce_note(&d, 1400); /* another change restarts the quiet period */
	cr_assert_eq(debounce_timeout_ms(&d, 1450), 450);
	cr_assert_eq(debounce_due(&d, 1899), 0);
	cr_assert_eq(debounce_due(&d, 1900), 1);
	/* Fires once per burst. */
	cr_assert_eq(debounce_due(&d, 1901), 0);
	cr_assert_eq(debounce_timeout_ms(&d, 1901), -1);
}

Test(debounce, burst_of_200_notes_fires_once)
{
	struct debounce d;
	int fires = 0;

	debounce_init(&d, 500);
	for (long long t = 0; t < 200 * 3; t += 3) { /* 200 events, 3 ms apart */
		debounce_note(&d, t);
		fires += debounce_due(&d, t);
	}
	for (long long t = 600; t < 5000; t += 10)
		fires += debounce_due(&d, t);
	cr_assert_eq(fires, 1);
}

Test(debounce, endless_changes_still_fire_at_max_wait)
{
	struct debounce d;
	int fires = 0;
	long long first_fire = -1;

	debounce_init(&d, 500); /* max wait 5 s */
	for (long long t = 0; t <= 12000; t += 100) {
		debounce_note(&d, t);
		if (debounce_due(&d, t)) {
			if (first_fire < 0)
				first_fire = t;
			fires++;
		}
	}
	cr_assert_eq(first_fire, 5000);
	cr_assert_eq(fires, 2, "every max_wait while changes never stop");
	cr_assert_eq(debounce_timeout_ms(&d, 12000), 500);
}

Test(debounce, without_a_cap_only_quiet_fires)
{
	struct debounce d;
	int fires = 0;

	debounce_init(&d, 500);
	debounce_set_max_wait(&d, -1); /* pacer watch --prune */
	for (long long t = 0; t <= 12000; t += 100) {
		debounce_note(&d, t);
		fires += debounce_due(&d, t);
	}
	cr_assert_eq(fires, 0, "an endless burst never fires without a cap");
	cr_assert_eq(debounce_timeout_ms(&d, 12000), 500);
	cr_assert_eq(debounce_due(&d, 12500), 1);
}

Test(debounce, overdue_timeout_is_zero)
{
	struct debounce d;

	debounce_init(&d, 0);
	debounce_note(&d, 100);
	cr_assert_eq(debounce_timeout_ms(&d, 50000), 0);
	cr_assert_eq(debounce_due(&d, 100), 1);
}
