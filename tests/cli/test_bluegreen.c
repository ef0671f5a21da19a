/*
 * Blue/green releases end to end against marathon-sim: a sampler reads
 * GET /v2/apps every 50 ms while pacer releases a 6-instance app and checks
 * that the healthy tasks across both colours never drop below 6 nor exceed
 * 6 + one step (3), for a release that works, one that fails (reverted),
 * and runs killed at each step (the next run finishes or reverts).
 *
 * No Criterion .timeout: Criterion 2.4's runner leaks (and LeakSanitizer
 * fails the program) when more timed tests than workers share a program;
 * CTest's timeout bounds the whole program instead.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/clitest.h"

#define TARGET 6
#define STEP 3

/* /shop/web at version k, 6 instances; behavior "unhealthy" never gets healthy. */
static void write_web(struct ct *t, const char *k, const char *behavior, const char *timeout)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{\"id\": \"/shop/web\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32,\n"
		 " \"instances\": %d,\n"
		 " \"env\": {\"K\": \"%s\"%s%s%s},\n"
		 " \"portDefinitions\": [{\"port\": 10080, \"name\": \"http\"}],\n"
		 " \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"},\n"
		 "   \"gracePeriodSeconds\": 300, \"intervalSeconds\": 1, \"maxConsecutiveFailures\": 0}],\n"
		 " \"labels\": {\"pacer.strategy\": \"blue-green\",\n"
		 "   \"HAPROXY_DEPLOYMENT_GROUP\": \"shop-web\", \"HAPROXY_DEPLOYMENT_ALT_PORT\": \"10081\",\n"
		 "   \"HAPROXY_GROUP\": \"external\", \"pacer.bluegreen.drain-seconds\": \"0\"%s%s%s}}\n",
		 TARGET, k, behavior ? ", \"SIM_BEHAVIOR\": \"" : "", behavior ? behavior : "",
		 behavior ? "\"" : "", timeout ? ", \"pacer.timeout\": \"" : "",
		 timeout ? timeout : "", timeout ? "\"" : "");
	ct_write(t, "web.json", buf);
}

/* ---- the sampler -------------------------------------------------------- */

struct sampler {
	struct ct *t;
	pthread_t th;
	volatile int stop;
	int min, max, samples, failed_reads;
};

/* Healthy tasks of every colour of /shop/web, or -1 when Marathon could not be read. */
static int healthy_across(struct ct *t)
{
	struct json_object *list = ct_get_json(t, "/v2/apps"), *apps;
	int sum = 0;

	if (!list || !json_object_object_get_ex(list, "apps", &apps)) {
		json_object_put(list);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i), *v;
		const char *id = json_object_get_string(json_object_object_get(a, "id"));

		if (id && !strncmp(id, "/shop/web-", 10) &&
		    json_object_object_get_ex(a, "tasksHealthy", &v))
			sum += json_object_get_int(v);
	}
	json_object_put(list);
	return sum;
}

static void *sample(void *p)
{
	struct sampler *s = p;

	while (!s->stop) {
		int h = healthy_across(s->t);

		if (h < 0) {
			s->failed_reads++;
		} else {
			if (h < s->min)
				s->min = h;
			if (h > s->max)
				s->max = h;
			s->samples++;
		}
		usleep(50 * 1000);
	}
	return NULL;
}

static void sampler_start(struct sampler *s, struct ct *t)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->min = 1 << 30;
	s->max = -1;
	cr_assert_eq(pthread_create(&s->th, NULL, sample, s), 0);
}

static void sampler_stop(struct sampler *s, const char *what)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	cr_expect_gt(s->samples, 3, "%s: too few samples (%d) to say anything", what, s->samples);
	cr_expect_eq(s->failed_reads, 0, "%s: GET /v2/apps failed %d times", what, s->failed_reads);
	cr_expect_geq(s->min, TARGET, "%s: healthy across colours dropped to %d (< %d)", what,
		      s->min, TARGET);
	cr_expect_leq(s->max, TARGET + STEP, "%s: healthy across colours reached %d (> %d + %d)",
		      what, s->max, TARGET, STEP);
	fprintf(stderr, "%s: %d samples, healthy across colours min %d max %d\n", what, s->samples,
		s->min, s->max);
}

/* ---- checks ------------------------------------------------------------- */

static const char *label_of(struct json_object *app, const char *k)
{
	struct json_object *l = json_object_object_get(app, "labels");

	return json_object_get_string(json_object_object_get(l, k));
}

/* Only colour `colour` of /shop/web runs, at version k, 6 healthy, with zdd's labels. */
static void expect_only(struct ct *t, const char *colour, const char *k, long port)
{
	char id[64], other[64];
	struct json_object *a;

	snprintf(id, sizeof(id), "/shop/web-%s", colour);
	snprintf(other, sizeof(other), "/shop/web-%s", strcmp(colour, "blue") ? "blue" : "green");
	a = ct_app(t, id);
	cr_assert(a, "%s does not run", id);
	cr_expect_eq(json_object_get_int(json_object_object_get(a, "tasksHealthy")), TARGET);
	cr_expect_eq(json_object_get_int(json_object_object_get(a, "instances")), TARGET);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(
				 json_object_object_get(a, "env"), "K")), k);
	cr_expect_str_eq(label_of(a, "HAPROXY_APP_ID"), "/shop/web");
	cr_expect_str_eq(label_of(a, "HAPROXY_DEPLOYMENT_COLOUR"), colour);
	cr_expect_str_eq(label_of(a, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES"), "6");
	cr_expect_str_eq(label_of(a, "HAPROXY_0_PORT"), "10080");
	cr_expect_str_eq(label_of(a, "HAPROXY_DEPLOYMENT_GROUP"), "shop-web");
	cr_expect(label_of(a, "HAPROXY_DEPLOYMENT_STARTED_AT"));
	cr_expect_eq(json_object_get_int(json_object_object_get(json_object_array_get_idx(
			 json_object_object_get(a, "portDefinitions"), 0), "port")), port);
	json_object_put(a);
	cr_expect_not(ct_has_app(t, other), "%s still runs", other);
	cr_expect_not(ct_has_app(t, "/shop/web"), "/shop/web itself must never run");
}

/* Blue v1 running, owned, after one sync; a second sync changes nothing. */
static void blue_v1(struct ct *t)
{
	struct ct_run r;

	ct_setup(t, NULL);
	write_web(t, "v1", NULL, NULL);
	ct_sync_ok(t, "first sync creates the blue colour");
	expect_only(t, "blue", "v1", 10080);
	r = ct_sync_run(t, NULL, 0, "second sync: unchanged");
	cr_expect(strstr(r.out, "unchanged"), "%s", r.out);
	ct_run_free(&r);
}



Test(bluegreen, release_keeps_the_target_healthy, .fini = ct_fini)
{
	static struct ct t;
	struct sampler s;
	struct ct_run r;

	blue_v1(&t);
	write_web(&t, "v2", NULL, NULL);
	sampler_start(&s, &t);
	r = ct_sync_run(&t, NULL, 0, "release v2 as green");
	sampler_stop(&s, "release");
	cr_expect(strstr(r.out, "/shop/web"), "%s", r.out);
	ct_run_free(&r);
	expect_only(&t, "green", "v2", 10081);
	/* Unchanged whichever colour runs; and back to blue with the next change. */
	r = ct_sync_run(&t, NULL, 0, "sync after the release: unchanged");
	cr_expect(strstr(r.out, "unchanged"), "%s", r.out);
	ct_run_free(&r);
	write_web(&t, "v3", NULL, NULL);
	sampler_start(&s, &t);
	ct_sync_ok(&t, "release v3 as blue");
	sampler_stop(&s, "second release");
	expect_only(&t, "blue", "v3", 10080);
	ct_teardown(&t);
}

Test(bluegreen, failing_release_is_reverted, .fini = ct_fini)
{
	static struct ct t;
	struct sampler s;
	struct ct_run r;

	blue_v1(&t);
	write_web(&t, "v2", "unhealthy", "2");
	sampler_start(&s, &t);
	r = ct_sync_run(&t, NULL, 1, "a release that never gets healthy");
	sampler_stop(&s, "failing release");
	cr_expect(strstr(r.out, "rolled_back") || strstr(r.out, "rolled back"), "%s\n%s", r.out,
		  r.err);
	ct_run_free(&r);
	expect_only(&t, "blue", "v1", 10080);
	/* Held: the next run does not try the same definition again. */
	r = ct_sync_run(&t, NULL, 1, "the failed definition is held");
	cr_expect(strstr(r.out, "held"), "%s", r.out);
	ct_run_free(&r);
	cr_expect_not(ct_has_app(&t, "/shop/web-green"));
	ct_teardown(&t);
}

/* Killed at the n-th hit of point: the next run finishes the release forward. */
static void killed_then_resumed(const char *point, const char *behavior, const char *forward)
{
	static struct ct t;
	struct sampler s;
	struct ct_run r;
	char env[64];
	const char *envv[] = {env, NULL};

	blue_v1(&t);
	write_web(&t, "v2", behavior, behavior ? "2" : NULL);
	snprintf(env, sizeof(env), "PACER_CRASH_AT=%s", point);
	sampler_start(&s, &t);
	r = ct_cmd_env(&t, "sync", NULL, envv);
	cr_expect_eq(r.rc, 137, "%s: pacer did not die there (exit %d)\n%s", point, r.rc, r.err);
	cr_expect(strstr(r.err, "crash point"), "%s", r.err);
	ct_run_free(&r);
	r = ct_cmd(&t, "sync", NULL);
	sampler_stop(&s, point);
	cr_expect_eq(r.rc, forward ? 0 : 1, "%s: the next run exited %d\n%s\n%s", point, r.rc,
		     r.out, r.err);
	ct_run_free(&r);
	if (forward)
		expect_only(&t, "green", "v2", 10081);
	else
		expect_only(&t, "blue", "v1", 10080);
	ct_teardown(&t);
}

Test(bluegreen, killed_after_first_step_is_finished, .fini = ct_fini)
{
	killed_then_resumed("bluegreen-step:1", NULL, "forward");
}

Test(bluegreen, killed_while_waiting_for_new_colour_is_finished, .fini = ct_fini)
{
	killed_then_resumed("during-wait:1", NULL, "forward");
}

Test(bluegreen, killed_while_scaling_old_colour_down_is_finished, .fini = ct_fini)
{
	killed_then_resumed("during-wait:2", NULL, "forward");
}

Test(bluegreen, killed_at_second_step_is_finished, .fini = ct_fini)
{
	killed_then_resumed("during-wait:3", NULL, "forward");
}

Test(bluegreen, killed_before_deleting_old_colour_is_finished, .fini = ct_fini)
{
	killed_then_resumed("bluegreen-step:2", NULL, "forward");
}

Test(bluegreen, killed_while_scaling_old_colour_to_zero_is_finished, .fini = ct_fini)
{
	killed_then_resumed("during-wait:4", NULL, "forward");
}

Test(bluegreen, killed_while_deleting_old_colour_is_finished, .fini = ct_fini)
{
	killed_then_resumed("during-wait:5", NULL, "forward");
}

Test(bluegreen, killed_while_reverting_is_reverted, .fini = ct_fini)
{
	killed_then_resumed("during-undo:1", "unhealthy", NULL);
}

Test(bluegreen, killed_while_new_colour_is_unhealthy_is_reverted, .fini = ct_fini)
{
	killed_then_resumed("during-wait:1", "unhealthy", NULL);
}

/* A run of `pacer CMD` with the usual arguments. */
static struct ct_run run_cmd(struct ct *t, const char *cmd)
{
	return ct_cmd(t, cmd, NULL);
}

Test(bluegreen, diff_status_drift_and_rollback_name_the_colours, .fini = ct_fini)
{
	static struct ct t;
	struct sampler s;
	struct ct_run r;
	int status;

	blue_v1(&t);
	write_web(&t, "v2", NULL, NULL);
	r = run_cmd(&t, "diff");
	cr_expect_eq(r.rc, 2, "diff exit %d\n%s", r.rc, r.err);
	cr_expect(strstr(r.out, "~ /shop/web (web.json) [blue -> green]"), "%s", r.out);
	cr_expect(strstr(r.out, "/env/K: \"v1\" -> \"v2\""), "%s", r.out);
	ct_run_free(&r);
	ct_sync_ok(&t, "release v2 as green");
	r = run_cmd(&t, "status");
	cr_expect_eq(r.rc, 0, "status exit %d\n%s%s", r.rc, r.out, r.err);
	cr_expect(strstr(r.out, "synced       /shop/web (green)"), "%s", r.out);
	ct_run_free(&r);
	/* Someone changes the live colour behind pacer's back: drift, like any app. */
	status = ct_http(&t, "PUT", "/v2/apps/shop/web-green?force=true",
			 "{\"env\": {\"K\": \"by hand\"}}", NULL);
	cr_assert_eq(status, 200, "PUT behind pacer's back: HTTP %d", status);
	cr_assert(ct_wait_idle(&t, 20000));
	r = run_cmd(&t, "diff");
	cr_expect_eq(r.rc, 2, "diff exit %d\n%s", r.rc, r.err);
	cr_expect(strstr(r.out, "[green -> blue]") && strstr(r.out, "\"by hand\" -> \"v2\""),
		  "%s", r.out);
	ct_run_free(&r);
	/* pacer rollback: the previous colour's definition, without downtime. */
	sampler_start(&s, &t);
	{
		const char *args[] = {"rollback", "/shop/web", "--marathon", t.sim.url,
				      "--state-dir", t.state, "--backup-dir", t.backups, NULL};

		r = ct_pacer(args, NULL);
	}
	sampler_stop(&s, "rollback");
	cr_expect_eq(r.rc, 0, "rollback exit %d\n%s%s", r.rc, r.out, r.err);
	cr_expect(strstr(r.out, "shop~web-blue_"), "restored from blue's backup: %s", r.out);
	ct_run_free(&r);
	expect_only(&t, "blue", "v1", 10080);
	r = run_cmd(&t, "status");
	cr_expect(strstr(r.out, "suspended    /shop/web (blue)"), "%s", r.out);
	ct_run_free(&r);
	ct_teardown(&t);
}

Test(bluegreen, prune_removes_both_colours_of_a_pair_whose_file_is_gone, .fini = ct_fini)
{
	static struct ct t;
	const char *env[] = {"PACER_CRASH_AT=bluegreen-step:1", NULL};
	const char *prune[] = {"--prune", "--force-prune", NULL};
	struct ct_run r;

	blue_v1(&t);
	write_web(&t, "v2", NULL, NULL);
	r = ct_cmd_env(&t, "sync", NULL, env);
	cr_assert_eq(r.rc, 137, "pacer did not die at the first step (exit %d)\n%s", r.rc, r.err);
	ct_run_free(&r);
	cr_assert(ct_has_app(&t, "/shop/web-blue") && ct_has_app(&t, "/shop/web-green"),
		  "both colours run after a release killed half-way");
	ct_unlink(&t, "web.json");
	ct_write_app(&t, "other.json", "/other", 32, "v1");
	r = ct_cmd(&t, "sync", prune);
	cr_expect_eq(r.rc, 0, "sync --prune exit %d\n%s%s", r.rc, r.out, r.err);
	ct_run_free(&r);
	cr_expect_not(ct_has_app(&t, "/shop/web-blue"));
	cr_expect_not(ct_has_app(&t, "/shop/web-green"));
	cr_expect(ct_has_app(&t, "/other"));
	ct_teardown(&t);
}

/*
 * Replies lost during a release (the create of the new colour and a
 * scale-down of the old one are applied, their connections dropped): each
 * is read back, never sent again, and the release ends as it would have.
 */
Test(bluegreen, lost_replies_are_read_back_not_repeated, .fini = ct_fini)
{
	static struct ct t;
	struct sampler s;
	struct ct_run r;

	blue_v1(&t);
	cr_assert_eq(ct_http(&t, "POST", "/_sim/faults",
			     "{\"drop\": true, \"when\": \"after\", \"count\": 1, \"path\": "
			     "\"/v2/apps\", \"method\": \"POST\"}",
			     NULL),
		     201);
	cr_assert_eq(ct_http(&t, "POST", "/_sim/faults",
			     "{\"drop\": true, \"when\": \"after\", \"count\": 1, \"path\": "
			     "\"/v2/apps/shop/web-blue\", \"method\": \"PUT\"}",
			     NULL),
		     201);
	write_web(&t, "v2", NULL, NULL);
	sampler_start(&s, &t);
	r = ct_sync_run(&t, NULL, 0, "a release whose replies are lost");
	sampler_stop(&s, "lost replies");
	cr_expect(strstr(r.err, "reading the app back"), "%s", r.err);
	ct_run_free(&r);
	expect_only(&t, "green", "v2", 10081);
	cr_expect_eq(ct_count_requests(&t, "POST", "/v2/apps"), 2,
		     "one create per colour (blue's first deploy, green's), none repeated");
	cr_expect_eq(ct_count_requests(&t, "PUT", "/v2/apps/shop/web-blue"), 2,
		     "two scale-downs of blue (3, 0), none repeated");
	ct_teardown(&t);
}

/* `pacer ACTION /shop/web ...` against the state of t. */
static struct ct_run action(struct ct *t, const char *cmd, const char *arg)
{
	const char *args[] = {cmd, "/shop/web", arg ? arg : "--timeout", arg ? "--timeout" : "60",
			      arg ? "60" : NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	size_t n = arg ? 5 : 4;

	args[n++] = "--marathon";
	args[n++] = t->sim.url;
	args[n++] = "--state-dir";
	args[n++] = t->state;
	args[n++] = "--backup-dir";
	args[n++] = t->backups;
	return ct_pacer(args, NULL);
}

/*
 * The operator names the app as git does (/shop/web): an action acts on its
 * live colour, backs that colour up and suspends /shop/web. While both
 * colours run (a release), every action is refused and nothing is touched.
 */
Test(bluegreen, operator_actions_act_on_the_live_colour, .fini = ct_fini)
{
	static struct ct t;
	struct json_object *a;
	struct ct_run r;
	int status;

	blue_v1(&t);
	r = action(&t, "scale", "2");
	cr_expect_eq(r.rc, 0, "scale exit %d\n%s%s", r.rc, r.out, r.err);
	cr_expect(strstr(r.out, "scale /shop/web (live as /shop/web-blue): done"), "%s", r.out);
	cr_expect(strstr(r.out, "shop~web-blue_"), "the colour is backed up: %s", r.out);
	ct_run_free(&r);
	a = ct_app(&t, "/shop/web-blue");
	cr_assert(a);
	cr_expect_eq(json_object_get_int(json_object_object_get(a, "instances")), 2);
	json_object_put(a);
	cr_expect_not(ct_has_app(&t, "/shop/web"), "/shop/web itself must never run");
	r = run_cmd(&t, "status");
	cr_expect(strstr(r.out, "suspended    /shop/web (blue)"), "%s", r.out);
	ct_run_free(&r);
	r = action(&t, "restart", NULL);
	cr_expect_eq(r.rc, 0, "restart exit %d\n%s%s", r.rc, r.out, r.err);
	cr_expect(strstr(r.out, "restart /shop/web (live as /shop/web-blue): done"), "%s", r.out);
	ct_run_free(&r);
	/* Both colours run, as during a release: refused, the colours untouched. */
	status = ct_http(&t, "POST", "/v2/apps",
			 "{\"id\": \"/shop/web-green\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, "
			 "\"mem\": 32, \"instances\": 1, \"portDefinitions\": [{\"port\": 10081}], "
			 "\"labels\": {\"pacer.strategy\": \"blue-green\", "
			 "\"HAPROXY_APP_ID\": \"/shop/web\", \"HAPROXY_DEPLOYMENT_COLOUR\": \"green\"}}",
			 NULL);
	cr_assert_eq(status, 201, "POST /shop/web-green: HTTP %d", status);
	cr_assert(ct_wait_idle(&t, 20000));
	r = action(&t, "stop", NULL);
	cr_expect_eq(r.rc, 1, "stop exit %d\n%s%s", r.rc, r.out, r.err);
	cr_expect(strstr(r.err, "app /shop/web is being released blue/green (both /shop/web-blue "
				"and /shop/web-green run)"),
		  "%s", r.err);
	ct_run_free(&r);
	a = ct_app(&t, "/shop/web-green");
	cr_assert(a);
	cr_expect_eq(json_object_get_int(json_object_object_get(a, "instances")), 1);
	json_object_put(a);
	a = ct_app(&t, "/shop/web-blue");
	cr_assert(a);
	cr_expect_eq(json_object_get_int(json_object_object_get(a, "instances")), 2);
	json_object_put(a);
	ct_teardown(&t);
}
