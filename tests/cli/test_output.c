/*
 * What pacer prints for people and for machines: a diff a reviewer can
 * read (every changed leaf, whole values, set elements removed + added,
 * creates and prunes in full), the plan of a sync before it applies, sync
 * -n exiting like diff, logs as logfmt or JSON with their keys, levels that
 * journalctl -p can filter, and the priority prefix when stderr is the
 * journal.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/clitest.h"
#include "tests/lib/longrun.h"

/* An app with a health check, constraints and a long command line. */
static void write_rich(struct ct *t, int interval, const char *extra_constraint, const char *tail)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
	         "{\"id\": \"/o/api\", \"cmd\": \"sleep 1000 # %s\", \"cpus\": 0.1, \"mem\": 32,\n"
	         " \"instances\": 1,\n"
	         " \"constraints\": [[\"hostname\", \"UNIQUE\"]%s],\n"
	         " \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"},\n"
	         "                   \"gracePeriodSeconds\": 20, \"intervalSeconds\": %d}]}\n",
	         tail, extra_constraint, interval);
	ct_write(t, "api.json", buf);
}

Test(output, diff_shows_every_changed_leaf_whole, .fini = ct_fini)
{
	static struct ct t;
	const char *prune[] = {"--prune", NULL};
	char tail[201];
	struct ct_run r;

	memset(tail, 'x', 200);
	tail[200] = '\0';
	ct_setup(&t, NULL);
	write_rich(&t, 10, "", "short");
	ct_write_app(&t, "old.json", "/o/old", 32, "v1");
	ct_sync_ok(&t, "pacer sync");

	write_rich(&t, 30, ", [\"rack\", \"GROUP_BY\"]", tail);
	ct_unlink(&t, "old.json");
	ct_write_app(&t, "new.json", "/o/new", 48, "v1");
	r = ct_cmd(&t, "diff", prune);
	cr_expect_eq(r.rc, 2, "changes pending: exit 2, got %d\n%s%s", r.rc, r.out, r.err);
	/* The changed health check: the old one removed, the new one added, whole. */
	cr_expect(ct_has(r.out, "    - /healthChecks: {\"command\":{\"value\":\"true\"},") &&
	              ct_has(r.out, "\"gracePeriodSeconds\":20,\"intervalSeconds\":10,"),
	          "%s", r.out);
	cr_expect(ct_has(r.out, "    + /healthChecks: {\"command\":{\"value\":\"true\"},") &&
	              ct_has(r.out, "\"gracePeriodSeconds\":20,\"intervalSeconds\":30,"),
	          "%s", r.out);
	cr_expect(ct_has(r.out, "    + /constraints: [\"rack\",\"GROUP_BY\"]\n"), "%s", r.out);
	cr_expect(!ct_has(r.out, "UNIQUE"), "the unchanged constraint is not shown:\n%s", r.out);
	cr_expect(ct_has(r.out, tail), "the long command is shown whole:\n%s", r.out);
	cr_expect(!ct_has(r.out, "..."), "nothing is cut:\n%s", r.out);
	/* A create and a prune show their whole definition. */
	cr_expect(ct_has(r.out, "+ /o/new (new.json)\n"), "%s", r.out);
	cr_expect(ct_has(r.out, "    + /mem: 48\n") && ct_has(r.out, "    + /cmd: \"sleep 1000\"\n"),
	          "%s", r.out);
	cr_expect(ct_has(r.out, "- /o/old\n") && ct_has(r.out, "    - /mem: 32\n"), "%s", r.out);
	ct_run_free(&r);
	ct_teardown(&t);
}

Test(output, sync_dry_run_exits_like_diff, .fini = ct_fini)
{
	static struct ct t;
	const char *dry[] = {"-n", NULL};
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/o/a", 32, "v1");
	r = ct_cmd(&t, "sync", dry);
	cr_expect_eq(r.rc, 2, "sync -n with changes pending exits 2, got %d:\n%s%s", r.rc, r.out,
	             r.err);
	cr_expect(ct_has(r.out, "+ /o/a (a.json)"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0);
	ct_sync_ok(&t, "pacer sync");
	r = ct_cmd(&t, "sync", dry);
	cr_expect_eq(r.rc, 0, "sync -n in sync exits 0, got %d:\n%s%s", r.rc, r.out, r.err);
	ct_run_free(&r);
	ct_teardown(&t);
}

/*
 * With deployments that take seconds, the plan is on stdout while the sync
 * still waits for them: it was printed before anything was applied.
 */
Test(output, sync_prints_the_plan_before_it_applies, .fini = ct_fini)
{
	static struct ct t;
	const char *slow[] = {"--health-ms", "4000", NULL};
	struct lr_proc p = {0};
	char *log_path = NULL, *log;
	const char *argv[16];
	int n = 0;

	ct_setup(&t, slow);
	ct_write_app(&t, "a.json", "/o/a", 32, "v1");
	cr_assert(asprintf(&log_path, "%s/sync.log", t.dir) > 0);
	argv[n++] = test_pacer_bin();
	argv[n++] = "sync";
	argv[n++] = "--source";
	argv[n++] = t.src;
	argv[n++] = "--marathon";
	argv[n++] = t.sim.url;
	argv[n++] = "--state-dir";
	argv[n++] = t.state;
	argv[n++] = "--backup-dir";
	argv[n++] = t.backups;
	argv[n] = NULL;
	lr_start(&p, argv, NULL, log_path);
	/* The plan's line on stdout (the log line on stderr may come first). */
	cr_expect(lr_wait_log(&p, "+ /o/a (a.json)", 1, 3000), "no plan while the deployment runs");
	log = lr_log(&p);
	cr_expect(ct_has(log, "1 to create, 0 to update"), "%s", log);
	cr_expect(!ct_has(log, "created "), "the outcome came before the plan:\n%s", log);
	free(log);
	cr_expect(lr_wait_log(&p, "created ", 1, 20000));
	cr_expect_eq(lr_stop(&p, 0, 20000), 0);
	free(log_path);
	ct_teardown(&t);
}

/* Every line of text, split in place. */
static size_t lines_of(char *text, char **lines, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < max;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

Test(output, logfmt_lines_have_their_keys, .fini = ct_fini)
{
	static struct ct t;
	const char *args[] = {"--log-format", "logfmt", "--log-level", "info", NULL};
	char *lines[256];
	struct ct_run r;
	size_t n, done = 0;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/o/a", 32, "v1");
	r = ct_cmd(&t, "sync", args);
	cr_assert_eq(r.rc, 0, "%s%s", r.out, r.err);
	n = lines_of(r.err, lines, 256);
	cr_assert_gt(n, 2, "%zu log lines", n);
	for (size_t i = 0; i < n; i++) {
		cr_expect(!strncmp(lines[i], "ts=", 3) && strstr(lines[i], " level=") &&
		              strstr(lines[i], " msg="),
		          "not logfmt: %s", lines[i]);
		if (strstr(lines[i], " event=done")) {
			cr_expect(strstr(lines[i], " app=/o/a") && strstr(lines[i], " outcome=created") &&
			              strstr(lines[i], " level=info") && strstr(lines[i], " deployment="),
			          "%s", lines[i]);
			done++;
		}
	}
	cr_expect_eq(done, 1, "one done line for the app");
	ct_run_free(&r);
	ct_teardown(&t);
}

Test(output, json_logs_one_object_per_line, .fini = ct_fini)
{
	static struct ct t;
	const char *args[] = {"--log-level", "info", NULL};
	const char *env[] = {"PACER_LOG_FORMAT=json", "PACER_BOGUS=1", NULL};
	char *lines[256];
	struct ct_run r;
	size_t n, apps = 0, bogus = 0;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/o/a", 32, "v1");
	r = ct_cmd_env(&t, "sync", args, env);
	cr_assert_eq(r.rc, 0, "%s%s", r.out, r.err);
	n = lines_of(r.err, lines, 256);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_tokener_parse(lines[i]), *v;

		cr_assert(json_object_is_type(o, json_type_object), "not a JSON object: %s", lines[i]);
		cr_expect(json_object_object_get_ex(o, "ts", NULL) &&
		              json_object_object_get_ex(o, "level", NULL) &&
		              json_object_object_get_ex(o, "msg", NULL),
		          "%s", lines[i]);
		if (json_object_object_get_ex(o, "app", &v) && !strcmp(json_object_get_string(v), "/o/a"))
			apps++;
		/* The first warning, before the options are parsed, is JSON too. */
		bogus += strstr(lines[i], "PACER_BOGUS") != NULL;
		json_object_put(o);
	}
	cr_expect_gt(apps, 1, "the app id is a key of its own");
	cr_expect_eq(bogus, 1);
	ct_run_free(&r);
	ct_teardown(&t);
}

/* One instance with a command health check; "unhealthy" never gets healthy. */
static void write_checked(struct ct *t, const char *k, const char *behavior)
{
	const struct ct_def d = {.id = "/o/f", .k = k, .behavior = behavior, .instances = 1};

	ct_write_def(t, &d);
}

/* journalctl -p warning must show a rollback; -p err a failure. */
Test(output, rollbacks_warn_and_failures_are_errors, .fini = ct_fini)
{
	static struct ct t;
	const char *args[] = {"--log-format", "logfmt", "--timeout", "2", NULL};
	const char *none[] = {"--log-format", "logfmt", "--timeout", "2", "--on-failure", "none",
	                      NULL};
	char *lines[256];
	struct ct_run r;
	size_t n, seen = 0;

	ct_setup(&t, NULL);
	write_checked(&t, "v1", NULL);
	ct_sync_ok(&t, "pacer sync");
	cr_assert(ct_wait_idle(&t, 5000));
	write_checked(&t, "v2", "unhealthy");
	r = ct_cmd(&t, "sync", args);
	cr_expect_eq(r.rc, 1);
	n = lines_of(r.err, lines, 256);
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], " outcome=rolled_back") || strstr(lines[i], " event=rollback")) {
			cr_expect(strstr(lines[i], "level=warn "), "%s", lines[i]);
			seen++;
		}
	cr_expect_geq(seen, 2, "a rollback event and a rolled_back outcome");
	ct_run_free(&r);

	cr_assert(ct_wait_idle(&t, 10000));
	write_checked(&t, "v3", "unhealthy");
	r = ct_cmd(&t, "sync", none);
	cr_expect_eq(r.rc, 1);
	n = lines_of(r.err, lines, 256);
	seen = 0;
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], " outcome=failed")) {
			cr_expect(strstr(lines[i], "level=error "), "%s", lines[i]);
			seen++;
		}
	cr_expect_eq(seen, 1);
	ct_run_free(&r);
	ct_teardown(&t);
}

/* Under systemd, stderr is the journal: each line starts with its priority. */
Test(output, priority_prefix_when_stderr_is_the_journal, .fini = ct_fini)
{
	static struct ct t;
	char *cmd = NULL, *out = NULL, *err = NULL, *lines[256];
	const char *argv[] = {"sh", "-c", NULL, NULL};
	size_t n, info = 0;
	int rc;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/o/a", 32, "v1");
	/* JOURNAL_STREAM names stderr's device:inode, as systemd sets it. */
	cr_assert(asprintf(&cmd,
	                   "JOURNAL_STREAM=$(stat -L -c %%d:%%i /proc/self/fd/2) exec %s sync "
	                   "--source %s --marathon %s --state-dir %s --log-level info",
	                   test_pacer_bin(), t.src, t.sim.url, t.state) > 0);
	argv[2] = cmd;
	rc = test_run(argv, NULL, &out, &err, 60);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	n = lines_of(err, lines, 256);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		cr_expect(lines[i][0] == '<' && lines[i][2] == '>', "no priority: %s", lines[i]);
		info += !strncmp(lines[i], "<6>", 3);
	}
	cr_expect_gt(info, 0);
	free(out);
	free(err);
	/* A stderr that is not the journal (the variable is inherited) gets none. */
	free(cmd);
	cr_assert(asprintf(&cmd, "JOURNAL_STREAM=1:1 exec %s diff --source %s --marathon %s "
	                         "--log-level info --state-dir %s",
	                   test_pacer_bin(), t.src, t.sim.url, t.state) > 0);
	argv[2] = cmd;
	test_run(argv, NULL, &out, &err, 60);
	cr_expect(!strstr(err, "<6>"), "%s", err);
	free(out);
	free(err);
	free(cmd);
	ct_teardown(&t);
}

/* watch says that the periodic resync is off, not that it runs "every 0 s". */
Test(output, watch_says_when_the_resync_is_off, .fini = ct_fini)
{
	static struct ct t;
	struct lr_proc p = {0};
	char *log_path = NULL, *log;
	const char *argv[] = {test_pacer_bin(), "watch", "--source", NULL, "--marathon", NULL,
	                      "--state-dir", NULL, "--resync-interval", "0", "--log-level", "info",
	                      NULL};

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/o/a", 32, "v1");
	argv[3] = t.src;
	argv[5] = t.sim.url;
	argv[7] = t.state;
	cr_assert(asprintf(&log_path, "%s/watch.log", t.dir) > 0);
	lr_start(&p, argv, NULL, log_path);
	cr_expect(lr_wait_log(&p, "watching ", 1, 20000));
	log = lr_log(&p);
	cr_expect(ct_has(log, "periodic resync off") && !ct_has(log, "resync every 0"), "%s", log);
	free(log);
	cr_expect_eq(lr_stop(&p, SIGTERM, 20000), 0);
	free(log_path);
	ct_teardown(&t);
}
