/*
 * pacer's errors end to end: invalid desired state (exit 3, file:line:col,
 * Marathon untouched), Marathon unreachable (4), usage errors (64),
 * concurrent runs on one state directory (6, or --wait-lock), and secrets
 * that must never reach the output.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/clitest.h"

static int matches(const char *text, const char *pattern)
{
	regex_t re;
	int ok;

	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "bad regex %s", pattern);
	ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

Test(invalid, malformed_file_leaves_marathon_untouched, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct json_object *a;
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write_app(&t, "good.json", "/m/good", 32, "v1");
	ct_sync_ok(&t, "pacer sync");
	ct_clear_requests(&t);

	/* A change that must not be applied, next to a broken file (missing comma, line 3). */
	ct_write_app(&t, "good.json", "/m/good", 64, "v1");
	ct_write_app(&t, "new.json", "/m/new", 32, "v1");
	ct_write(&t, "team/bad.json",
	         "{\n  \"id\": \"/m/bad\",\n  \"cmd\": \"sleep 1\"\n  \"cpus\": 1\n}\n");
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 3, "a malformed file must exit 3, got %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(matches(r.err, "team/bad\\.json:[34]:[0-9]+"),
	          "the error names file:line:col of the syntax error:\n%s", r.err);
	cr_expect(ct_has(r.err, "nothing was applied"), "%s", r.err);
	ct_run_free(&r);

	cr_expect_eq(ct_count_writes(&t), 0,
	             "no PUT/POST/DELETE when the desired state is invalid");
	a = ct_app(&t, "/m/good");
	cr_expect_eq(ct_int(a, "mem"), 32, "the good app was not updated");
	json_object_put(a);
	cr_expect_eq(ct_napps(&t), 1, "the new app was not created");

	/* pacer diff says the same, with the same exit code. */
	r = ct_cmd(&t, "diff", NULL);
	cr_expect_eq(r.rc, 3, "diff of an invalid desired state exits 3, got %d", r.rc);
	ct_run_free(&r);
	ct_teardown(&t);
}

Test(invalid, duplicate_app_id_names_both_files, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write_app(&t, "one.json", "/dup/app", 32, "v1");
	ct_write_app(&t, "sub/two.json", "/dup/app", 64, "v1");
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 3, "a duplicate app id must exit 3, got %d:\n%s%s", r.rc, r.out, r.err);
	cr_expect(ct_has(r.err, "one.json") && ct_has(r.err, "sub/two.json"),
	          "both files are named:\n%s", r.err);
	cr_expect(ct_has(r.err, "/dup/app"), "the app id is named:\n%s", r.err);
	cr_expect(matches(r.err, "\\.json:[0-9]+:[0-9]+"), "with line:col:\n%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_count_writes(&t), 0);
	cr_expect_eq(ct_napps(&t), 0);
	ct_teardown(&t);
}

Test(errors, marathon_unreachable_exits_4, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	char url[64];
	struct ct_run r;

	ct_setup(&t, CT_NO_SIM);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", test_closed_port());
	ct_write_app(&t, "a.json", "/u/a", 32, "v1");
	{
		const char *args[] = {"sync", "--source",    t.src,   "--marathon",
		                      url,    "--state-dir", t.state, NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 4, "unreachable Marathon must exit 4, got %d:\n%s%s", r.rc, r.out,
	             r.err);
	cr_expect(ct_has(r.err, url + 7), "the message names the URL %s:\n%s", url, r.err);
	ct_run_free(&r);
	{
		const char *args[] = {"diff", "--source", t.src, "--marathon", url, NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 4, "diff too, got %d:\n%s", r.rc, r.err);
	ct_run_free(&r);
	ct_teardown(&t);
}

/*
 * A command line pacer must refuse with exit 64, and what the message must
 * name. Inline strings ("" for no argument): Criterion copies the parameters
 * into the test's process, where a pointer of the runner's means nothing.
 */
struct usage_case {
	char args[3][24];
	char names[24];
};

static const struct usage_case usage_cases[] = {
	{{"sync", "--bogus-flag", ""}, "--bogus-flag"},
	{{"diff", "--no-such", ""}, "--no-such"},
	{{"sync", "--on-failure", "sometimes"}, "--on-failure"},
	{{"sync", "--timeout", "soon"}, "--timeout"},
	{{"diff", "--log-format", "xml"}, "--log-format"},
	{{"frobnicate", "", ""}, "frobnicate"},
	{{"validate", "", ""}, "validate"},
	{{"rollback", "", ""}, "rollback"},
};

ParameterizedTestParameters(errors, usage_errors_exit_64)
{
	return cr_make_param_array(struct usage_case, usage_cases,
	                           sizeof(usage_cases) / sizeof(usage_cases[0]));
}

ParameterizedTest(const struct usage_case *c, errors, usage_errors_exit_64, .timeout = 60)
{
	const char *args[4] = {NULL};
	struct ct_run r;

	for (size_t i = 0, n = 0; i < 3; i++)
		if (c->args[i][0])
			args[n++] = c->args[i];
	r = ct_pacer(args, NULL);
	cr_expect_eq(r.rc, 64, "pacer %s %s %s: expected exit 64, got %d:\n%s", c->args[0],
	             c->args[1], c->args[2], r.rc, r.err);
	cr_expect(ct_has(r.err, c->names), "the message names '%s':\n%s", c->names, r.err);
	ct_run_free(&r);
}

Test(errors, help_exits_0, .timeout = 60)
{
	const char *args[] = {"sync", "--help", NULL};
	struct ct_run r = ct_pacer(args, NULL);

	cr_expect_eq(r.rc, 0);
	cr_expect(ct_has(r.out, "--on-failure") && ct_has(r.out, "--prune"), "%s", r.out);
	ct_run_free(&r);
}

/* Start `pacer sync` in a child process; returns its pid. Exit status = pacer's. */
static pid_t sync_in_background(struct ct *t)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		const char *args[] = {test_pacer_bin(), "sync",       "--source",
		                      t->src,           "--marathon", t->sim.url,
		                      "--state-dir",    t->state,     NULL};
		int rc = test_run(args, NULL, NULL, NULL, 60);

		_exit(rc < 0 ? 255 : rc);
	}
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Wait until the sim saw a write: the first run then holds the lock. */
static void wait_first_write(struct ct *t)
{
	for (int i = 0; i < 500 && ct_count_writes(t) == 0; i++)
		ct_sleep_ms(20);
	cr_assert(ct_count_writes(t) > 0, "the first pacer run never wrote to Marathon");
}

/*
 * A simulator whose tasks take launch_ms to start, and a first `pacer sync`
 * of app id in the background, holding the lock: returns its pid once it
 * wrote to Marathon.
 */
static pid_t start_first_run(struct ct *t, const char *launch_ms, const char *id)
{
	const char *slow[] = {"--task-launch-ms", launch_ms, NULL};
	pid_t first;

	ct_setup(t, slow);
	ct_write_app(t, "a.json", id, 32, "v1");
	first = sync_in_background(t);
	wait_first_write(t);
	return first;
}

Test(lock, concurrent_run_exits_6, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	pid_t first = start_first_run(&t, "1500", "/lock/a");
	struct ct_run r;

	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 6, "a second run on the same state dir must exit 6, got %d:\n%s%s", r.rc,
	             r.out, r.err);
	cr_expect(ct_has(r.err, "lock") || ct_has(r.err, "another pacer"),
	          "the message says another run holds the lock:\n%s", r.err);
	cr_expect(ct_has(r.err, "--wait-lock"), "and how to wait for it:\n%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(wait_child(first), 0, "the first run is not disturbed");
	cr_expect_eq(ct_count_requests(&t, "POST", "/v2/apps"), 1, "only the first run created");
	ct_teardown(&t);
}

Test(lock, wait_lock_lets_both_succeed, .timeout = 60, .fini = ct_fini)
{
	static const char *const wait[] = {"--wait-lock", NULL};
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	pid_t first = start_first_run(&t, "1000", "/lock/b");
	struct ct_run r;

	r = ct_cmd(&t, "sync", wait);
	cr_expect_eq(r.rc, 0, "with --wait-lock the second run waits and succeeds, got %d:\n%s%s",
	             r.rc, r.out, r.err);
	/* It ran after the first one finished, so it found nothing to do. */
	cr_expect(ct_has(r.out, "0 to create, 0 to update, 0 to prune, 1 unchanged"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_eq(wait_child(first), 0);
	cr_expect_eq(ct_count_writes(&t), 1);
	ct_teardown(&t);
}

#define SECRET "S3cr3t-Pa55-zz9"
/* base64("pacer:" SECRET) */
#define SECRET_B64 "cGFjZXI6UzNjcjN0LVBhNTUteno5"

static void expect_no_secret(const struct ct_run *r, const char *what)
{
	cr_expect(!ct_has(r->out, SECRET) && !ct_has(r->err, SECRET),
	          "%s: the password appears in the output:\n%s%s", what, r->out, r->err);
	cr_expect(!ct_has(r->out, SECRET_B64) && !ct_has(r->err, SECRET_B64),
	          "%s: the encoded credentials appear in the output", what);
}

Test(secrets, password_never_in_output, .timeout = 60, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	const char *env_ok[] = {"PACER_MARATHON_USER=pacer", "PACER_MARATHON_PASSWORD=" SECRET,
	                        NULL};
	const char *env_bad[] = {"PACER_MARATHON_USER=pacer",
	                         "PACER_MARATHON_PASSWORD=" SECRET "-wrong", NULL};
	const char *auth[] = {"Authorization: Basic " SECRET_B64, NULL};
	const char *sim_args[4] = {"--http-credentials-file", NULL, NULL};
	char *cred = NULL, *url = NULL, *body = NULL;
	struct ct_run r;
	int status = 0;

	/* The credentials file lives outside the scratch dir made by ct_setup. */
	{
		char *dir = test_tmpdir("pacer-cred");

		cr_assert(dir);
		cr_assert(asprintf(&cred, "%s/cred", dir) >= 0);
		free(dir);
	}
	cr_assert_eq(test_write_file(cred, "pacer:" SECRET "\n"), 0);
	sim_args[1] = cred;
	ct_setup(&t, sim_args);
	ct_write_app(&t, "a.json", "/sec/a", 32, "v1");

	{
		const char *args[] = {"sync",    "--source",    t.src,   "--marathon",
		                      t.sim.url, "--state-dir", t.state, "--log-level",
		                      "debug",   NULL};

		r = ct_pacer(args, env_ok);
		cr_expect_eq(r.rc, 0, "sync with basic auth from the environment, got %d:\n%s",
		             r.rc, r.err);
		expect_no_secret(&r, "sync --log-level debug");
		ct_run_free(&r);
	}
	cr_assert(asprintf(&url, "%s/v2/apps/sec/a", t.sim.url) >= 0);
	test_http("GET", url, NULL, auth, &status, &body);
	cr_expect_eq(status, 200, "the app was created with the credentials");
	free(body);
	free(url);

	{
		const char *args[] = {"diff",    "--source", t.src,  "--marathon",
		                      t.sim.url, "--output", "json", "--log-level",
		                      "debug",   NULL};

		r = ct_pacer(args, env_ok);
		cr_expect_eq(r.rc, 0, "diff in sync, got %d:\n%s", r.rc, r.err);
		expect_no_secret(&r, "diff --output json");
		ct_run_free(&r);
	}
	{
		const char *args[] = {"sync",    "--source",    t.src,   "--marathon",
		                      t.sim.url, "--state-dir", t.state, "--log-level",
		                      "debug",   NULL};

		r = ct_pacer(args, env_bad);
		cr_expect_neq(r.rc, 0, "a wrong password must fail");
		cr_expect(ct_has(r.err, "401") || ct_has(r.err, "auth") ||
		              ct_has(r.err, "credential"),
		          "the message says authentication failed:\n%s", r.err);
		cr_expect(!ct_has(r.out, SECRET) && !ct_has(r.err, SECRET), "%s", r.err);
		ct_run_free(&r);
	}
	{
		/* Unreachable with the secret set: the error names the URL, not the secret. */
		char dead[64];
		const char *args[] = {"sync", "--source",    t.src,   "--marathon",
		                      dead,   "--state-dir", t.state, NULL};

		snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", test_closed_port());
		r = ct_pacer(args, env_ok);
		cr_expect_eq(r.rc, 4);
		expect_no_secret(&r, "unreachable");
		ct_run_free(&r);
	}
	ct_teardown(&t);
	{
		char *dir = strdup(cred);

		*strrchr(dir, '/') = '\0';
		test_rmrf(dir);
		free(dir);
	}
	free(cred);
}

/*
 * Messages name the command that failed, not an internal step; a missing
 * --source or a source directory that is not there is a usage error (64),
 * said once, and nothing is created for a command that cannot run.
 */
Test(errors, a_bad_source_is_a_usage_error_and_creates_nothing, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	char *cmd = NULL, *out = NULL, *err = NULL, *missing = NULL, *pacer_dir = NULL;
	const char *sh[] = {"sh", "-c", NULL, NULL};
	struct ct_run r;
	int rc;

	ct_setup(&t, NULL);
	/* No --source, run in an empty directory: exit 64 and no ./.pacer made. */
	cr_assert(asprintf(&cmd, "cd %s && exec env -u PACER_SOURCE %s sync --marathon %s", t.dir,
	                   test_pacer_bin(), t.sim.url) > 0);
	sh[2] = cmd;
	rc = test_run(sh, NULL, &out, &err, 60);
	cr_expect_eq(rc, 64, "a missing --source exits 64, got %d:\n%s", rc, err);
	cr_expect(ct_has(err, "pacer sync: no desired state"), "%s", err);
	cr_assert(asprintf(&pacer_dir, "%s/.pacer", t.dir) > 0);
	cr_expect(access(pacer_dir, F_OK) != 0, "%s was created", pacer_dir);
	free(out);
	free(err);

	/* A local directory that is not there: 64, the cause said once, no "git". */
	cr_assert(asprintf(&missing, "%s/no-such-dir", t.dir) > 0);
	{
		const char *args[] = {"diff", "--source", missing, "--marathon", t.sim.url, NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 64, "a missing source directory exits 64, got %d:\n%s", r.rc, r.err);
	cr_expect(ct_has(r.err, "pacer diff: the source directory") &&
	              ct_has(r.err, "does not exist"),
	          "%s", r.err);
	cr_expect(!ct_has(r.err, "caused by") && !ct_has(r.err, "git"), "%s", r.err);
	cr_expect(!ct_has(r.err, "pacer setup"), "%s", r.err);
	ct_run_free(&r);
	free(missing);
	free(pacer_dir);
	free(cmd);
	ct_teardown(&t);
}

/* A read-only command never claims that "nothing was applied": it never applies. */
Test(errors, diff_does_not_say_nothing_was_applied, .fini = ct_fini)
{
	static struct ct t;
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write(&t, "bad.json", "{\"id\": \"/m/bad\", \"cmd\": \"x\" \"cpus\": 1}\n");
	r = ct_cmd(&t, "diff", NULL);
	cr_expect_eq(r.rc, 3, "%s", r.err);
	cr_expect(ct_has(r.err, "pacer diff: ") && !ct_has(r.err, "nothing was applied"), "%s",
	          r.err);
	ct_run_free(&r);
	r = ct_cmd(&t, "sync", NULL);
	cr_expect_eq(r.rc, 3, "%s", r.err);
	cr_expect(ct_has(r.err, "nothing was applied"), "sync still says it: %s", r.err);
	ct_run_free(&r);
	ct_teardown(&t);
}

/* Marathon unavailable (503 after retries) exits 4 like unreachable; 401 has its own code. */
Test(errors, marathon_503_exits_4_and_401_exits_8, .fini = ct_fini)
{
	static struct ct t; /* static: ct_fini may run after the test frame is gone */
	const char *sim_args[] = {"--http-credentials-file", NULL, NULL};
	const char *env_ok[] = {"PACER_MARATHON_USER=pacer", "PACER_MARATHON_PASSWORD=right-one",
	                        NULL};
	const char *env_bad[] = {"PACER_MARATHON_USER=pacer", "PACER_MARATHON_PASSWORD=wrong-one",
	                         NULL};
	const char *auth[] = {"Authorization: Basic cGFjZXI6cmlnaHQtb25l", NULL};
	char *dir = test_tmpdir("pacer-cred"), *cred = NULL, *url = NULL;
	struct ct_run r;
	int status = 0;

	cr_assert(dir && asprintf(&cred, "%s/cred", dir) > 0);
	cr_assert_eq(test_write_file(cred, "pacer:right-one\n"), 0);
	sim_args[1] = cred;
	ct_setup(&t, sim_args);
	ct_write_app(&t, "a.json", "/u/a", 32, "v1");

	r = ct_cmd_env(&t, "sync", NULL, env_bad);
	cr_expect_eq(r.rc, 8, "401 exits 8, got %d:\n%s", r.rc, r.err);
	cr_expect(ct_has(r.err, "401"), "%s", r.err);
	ct_run_free(&r);

	cr_assert(asprintf(&url, "%s/_sim/faults", t.sim.url) > 0);
	test_http("POST", url, "{\"status\": 503, \"count\": 1000, \"path\": \"/v2\"}", auth,
	          &status, NULL);
	cr_assert_eq(status, 201);
	r = ct_cmd_env(&t, "diff", NULL, env_ok);
	cr_expect_eq(r.rc, 4, "503 exits 4, got %d:\n%s", r.rc, r.err);
	cr_expect(ct_has(r.err, "503"), "%s", r.err);
	ct_run_free(&r);
	free(url);
	ct_teardown(&t);
	test_rmrf(dir);
	free(dir);
	free(cred);
}

/* "http://host:8080/v2" is Marathon's API root as its docs write it: it works. */
Test(errors, a_url_ending_in_v2_is_the_base, .fini = ct_fini)
{
	static struct ct t;
	char *url = NULL;
	struct ct_run r;

	ct_setup(&t, NULL);
	ct_write_app(&t, "a.json", "/u/a", 32, "v1");
	cr_assert(asprintf(&url, "%s/v2/", t.sim.url) > 0);
	{
		const char *args[] = {"sync",      "--source", t.src, "--marathon", url,
		                      "--state-dir", t.state,  NULL};

		r = ct_pacer(args, NULL);
	}
	cr_expect_eq(r.rc, 0, "got %d:\n%s", r.rc, r.err);
	cr_expect(!ct_has(r.err, "/v2/v2"), "%s", r.err);
	cr_expect(ct_has(r.err, "pacer adds /v2 itself"), "the user is told:\n%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(ct_napps(&t), 1);
	free(url);
	ct_teardown(&t);
}
