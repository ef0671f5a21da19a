/*
 * Zero false diffs on real definitions: every realworld/ file of the shared
 * corpus that Marathon accepts under DC/OS's flags is synced alone into a
 * marathon-sim started with those flags, then `pacer diff` must exit 0.
 *
 * Simulators are reset between files (POST /_sim/reset). Every sync waits
 * at least one deployment poll (1 s) and is mostly idle, so to keep the
 * suite fast the files are split between two tests that Criterion runs
 * side by side (--jobs 2), and each test drives two simulators ("lanes")
 * with one pacer sync in flight on each.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/clitest.h"

#define DCOS_ROLE "slave_public"
#define DCOS_FEATURES "secrets,external_volumes,gpu_resources"

#define LANES 2

struct lane {
	struct ct t;
	char *file; /* corpus file name being synced, or NULL */
	pid_t pid;
};

/* Run pacer sync in a child; its output goes to DIR/sync.log. */
static pid_t start_sync(struct ct *t)
{
	static const char *const flags[] = {"--mesos-role", DCOS_ROLE,    "--enable-features",
	                                    DCOS_FEATURES,  "--parallel", "0",
	                                    "--timeout",    "30"};
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		const char *argv[32] = {test_pacer_bin(), "sync",     "--source",    t->src,
		                        "--marathon",     t->sim.url, "--state-dir", t->state,
		                        "--backup-dir",   t->backups};
		size_t n = 10;
		char *out = NULL, *err = NULL, *log = NULL;
		int rc;

		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			argv[n++] = flags[i];
		argv[n] = NULL;
		rc = test_run(argv, NULL, &out, &err, 60);
		if (asprintf(&log, "%s/sync.log", t->dir) >= 0) {
			FILE *f = fopen(log, "w");

			if (f) {
				fprintf(f, "%s%s", out ? out : "", err ? err : "");
				fclose(f);
			}
		}
		_exit(rc < 0 ? 255 : rc);
	}
	return pid;
}

static void finish_lane(struct lane *l)
{
	static const char *const diff_args[] = {"--mesos-role", DCOS_ROLE, "--enable-features",
	                                        DCOS_FEATURES, NULL};
	struct ct_run r;
	int status = 0, rc;

	cr_assert_eq(waitpid(l->pid, &status, 0), l->pid);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (rc != 0) {
		char *log = NULL, *text;

		cr_assert(asprintf(&log, "%s/sync.log", l->t.dir) >= 0);
		text = test_read_file(log, NULL);
		cr_expect_eq(rc, 0, "%s: sync into a DC/OS-flagged Marathon exited %d:\n%s",
		             l->file, rc, text ? text : "(no log)");
		free(text);
		free(log);
	} else {
		r = ct_cmd(&l->t, "diff", diff_args);
		cr_expect_eq(r.rc, 0,
		             "%s: diff right after the sync must show nothing (exit %d):\n%s%s",
		             l->file, r.rc, r.out, r.err);
		ct_run_free(&r);
	}
	free(l->file);
	l->file = NULL;
}

static void sync_corpus_part(int part, int nparts)
{
	static const char *const sim_args[] = {"--mesos-role", DCOS_ROLE, "--enable-features",
	                                       DCOS_FEATURES, NULL};
	static struct lane lanes[LANES]; /* static: ct_fini may run after the test frame is gone */
	char *corpus = test_shared_path("corpus"), *verdicts = NULL, *text, *line, *save = NULL;
	int index = 0, done = 0;
	size_t busy = 0;

	if (!corpus)
		cr_skip_test("../shared/corpus is absent");
	cr_assert(asprintf(&verdicts, "%s/VERDICTS.tsv", corpus) >= 0);
	text = test_read_file(verdicts, NULL);
	cr_assert(text, "cannot read %s", verdicts);
	for (size_t i = 0; i < LANES; i++)
		ct_setup(&lanes[i].t, sim_args);

	/* Files go to the lanes in turn; a full round is started, then finished. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *last = strrchr(line, '\t'), *path = NULL, *def;
		struct lane *l;

		if (!tab || !last || strcmp(last + 1, "ACCEPT") || !strncmp(line, "file\t", 5))
			continue;
		if (index++ % nparts != part)
			continue;
		*tab = '\0';
		cr_assert(asprintf(&path, "%s/realworld/%s", corpus, line) >= 0);
		def = test_read_file(path, NULL);
		cr_assert(def, "cannot read %s", path);

		/* A clean Marathon and a source holding this file alone. */
		l = &lanes[busy++];
		cr_assert_eq(ct_http(&l->t, "POST", "/_sim/reset", "{}", NULL), 200);
		test_rmrf(l->t.src);
		test_rmrf(l->t.state);
		ct_write(&l->t, line, def);
		l->file = strdup(line);
		l->pid = start_sync(&l->t);
		free(def);
		free(path);
		done++;
		if (busy == LANES) {
			for (size_t i = 0; i < busy; i++)
				finish_lane(&lanes[i]);
			busy = 0;
		}
	}
	for (size_t i = 0; i < busy; i++)
		finish_lane(&lanes[i]);
	cr_expect_gt(done, 20, "only %d accepted files in part %d", done, part);
	free(text);
	free(verdicts);
	free(corpus);
	for (size_t i = 0; i < LANES; i++)
		ct_teardown(&lanes[i].t);
}

Test(corpus, sync_then_diff_is_clean_part1, .timeout = 180, .fini = ct_fini)
{
	sync_corpus_part(0, 2);
}

Test(corpus, sync_then_diff_is_clean_part2, .timeout = 180, .fini = ct_fini)
{
	sync_corpus_part(1, 2);
}
