/*
 * Notifications end to end: pacer sync and watch against a marathon-sim
 * and a git remote, telling local HTTP sinks (tests/notify/recorder.py)
 * that record every request. What each forge's API receives (path, auth
 * header, body), the webhook's signature, Slack's payload, retries on 5xx,
 * no storm for a held app across timer runs, and a dead sink that holds
 * pacer sync up no longer than --notify-timeout.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <signal.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/clitest.h"
#include "tests/lib/longrun.h"
#include "tests/lib/watchtest.h"

#define TOKEN "tok-forge-5eCr3t"
#define SECRET "hook-key-9876"

/* One recording sink. */
struct rec {
	struct lr_proc p;
	char *log;  /* the requests, one JSON object per line */
	char url[64];
};

/* Everything a test holds (static: the .fini may run after the test's frame is gone). */
static struct wt W;
static struct rec R;
static char *origin, *work;

static void rec_start(struct rec *r, const char *dir, int fail)
{
	char *script = test_source_path("tests/notify/recorder.py"), *out = NULL, nfail[16];
	const char *argv[] = {"/usr/bin/python3", script, "--log", NULL, "--fail", nfail, NULL};
	int port;

	snprintf(nfail, sizeof(nfail), "%d", fail);
	cr_assert(asprintf(&r->log, "%s/requests.jsonl", dir) >= 0);
	cr_assert(asprintf(&out, "%s/recorder.out", dir) >= 0);
	argv[3] = r->log;
	lr_start(&r->p, argv, NULL, out);
	lr_expect_log(&r->p, "recorder", "recorder listening", 1, 10000);
	port = lr_port(&r->p);
	cr_assert(port > 0);
	snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%d", port);
	free(out);
	free(script);
}

/* The requests so far, as a JSON array (caller puts). */
static struct json_object *rec_requests(const struct rec *r)
{
	struct json_object *a = json_object_new_array();
	char *text = test_read_file(r->log, NULL), *save = NULL;

	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
		json_object_array_add(a, json_tokener_parse(l));
	free(text);
	return a;
}

/* How many requests went to a path starting with prefix. */
static int rec_count(const struct rec *r, const char *prefix)
{
	struct json_object *a = rec_requests(r);
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(a); i++)
		n += !strncmp(ct_str(json_object_array_get_idx(a, i), "path"), prefix,
		              strlen(prefix));
	json_object_put(a);
	return n;
}

/* The i-th request to a path starting with prefix (borrowed from *all, which the caller puts). */
static struct json_object *rec_nth(const struct rec *r, const char *prefix, int i,
                                   struct json_object **all)
{
	*all = rec_requests(r);
	for (size_t k = 0; k < json_object_array_length(*all); k++) {
		struct json_object *q = json_object_array_get_idx(*all, k);

		if (!strncmp(ct_str(q, "path"), prefix, strlen(prefix)) && i-- == 0)
			return q;
	}
	cr_assert_fail("no request %d to %s", i, prefix);
	return NULL;
}

static const char *header(struct json_object *q, const char *name)
{
	struct json_object *h = json_object_object_get(q, "headers"),
	                   *v = json_object_object_get(h, name);

	return v ? json_object_get_string(v) : NULL;
}

/* A field of the request's JSON body (a string), copied. */
static char *body_field(struct json_object *q, const char *key)
{
	struct json_object *b = json_tokener_parse(ct_str(q, "body")), *v;
	char *s;

	cr_assert_not_null(b, "body is not JSON: %s", ct_str(q, "body"));
	v = json_object_object_get(b, key);
	s = strdup(v ? json_object_get_string(v) : "(none)");
	json_object_put(b);
	return s;
}

/* A sim, a git remote whose clone is the fixture's src/, and a recorder. */
static void setup(int fail)
{
	memset(&W, 0, sizeof(W));
	memset(&R, 0, sizeof(R));
	ct_setup(&W.t, NULL);
	origin = lr_git_remote(W.t.dir, &work);
	free(W.t.src);
	W.t.src = strdup(work); /* ct_write_*() write into the clone */
	rec_start(&R, W.t.dir, fail);
}

static void fini(void)
{
	if (R.p.pid)
		lr_stop(&R.p, SIGKILL, 5000);
	free(R.log);
	R.log = NULL;
	wt_fini(&W);
	free(origin);
	free(work);
	origin = work = NULL;
}

/* pacer sync of the git remote with extra args; returns the run (caller frees). */
static struct ct_run sync_git(const char *const *extra, const char *const *env)
{
	const char *args[48] = {"sync",         "--source",   origin,        "--marathon",
	                        W.t.sim.url,    "--state-dir", W.t.state,     "--backup-dir",
	                        W.t.backups,    "--cluster-name", "prod"};
	size_t n = 11;

	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return ct_pacer(args, env);
}

static const char *const tokens_env[] = {"PACER_COMMIT_STATUS_TOKEN=" TOKEN,
                                         "PACER_NOTIFY_WEBHOOK_SECRET=" SECRET, NULL};

/* Every sink: GitHub statuses under /gh, the webhook at /hook, Slack at /slack. */
static void all_sinks(char api[96], char hook[96], char slack[96])
{
	snprintf(api, 96, "%s/gh", R.url);
	snprintf(hook, 96, "%s/hook", R.url);
	snprintf(slack, 96, "%s/slack", R.url);
}

static void expect_status(int i, const char *path_prefix, const char *sha, const char *state)
{
	struct json_object *all, *q = rec_nth(&R, path_prefix, i, &all);
	char *path = NULL, *st = body_field(q, "state");

	cr_assert(asprintf(&path, "%s%s", path_prefix, sha) >= 0);
	cr_expect_str_eq(ct_str(q, "path"), path);
	cr_expect_str_eq(st, state, "status %d", i);
	free(path);
	free(st);
	json_object_put(all);
}

Test(notify, github_status_of_each_commit, .fini = fini, .timeout = 60)
{
	char api[96], hook[96], slack[96], *sha, *ctx, *desc;
	struct json_object *all, *q;
	struct ct_run r;

	setup(0);
	all_sinks(api, hook, slack);
	ct_write_app(&W.t, "web.json", "/web", 32, "v1");
	sha = lr_git_commit(work, "web");
	{
		const char *extra[] = {"--commit-status", "github", "--commit-status-api", api,
		                       "--commit-status-repo", "acme/apps", "--notify-webhook", hook,
		                       "--notify-slack", slack, NULL};

		r = sync_git(extra, tokens_env);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		ct_run_free(&r);
		cr_assert_eq(rec_count(&R, "/gh/"), 2, "pending, then success");
		expect_status(0, "/gh/repos/acme/apps/statuses/", sha, "pending");
		expect_status(1, "/gh/repos/acme/apps/statuses/", sha, "success");
		q = rec_nth(&R, "/gh/", 1, &all);
		cr_expect_str_eq(header(q, "authorization"), "Bearer " TOKEN);
		cr_expect_str_eq(header(q, "content-type"), "application/json");
		ctx = body_field(q, "context");
		desc = body_field(q, "description");
		cr_expect_str_eq(ctx, "pacer/prod");
		cr_expect_str_eq(desc, "1 created");
		free(ctx);
		free(desc);
		json_object_put(all);
		/* A first sync that converged is nothing to page anyone about. */
		cr_expect_eq(rec_count(&R, "/hook"), 0);
		cr_expect_eq(rec_count(&R, "/slack"), 0);

		/* The timer's next run of the same commit: nothing new to say. */
		r = sync_git(extra, tokens_env);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		cr_expect_null(strstr(r.err, TOKEN), "the token is never printed");
		ct_run_free(&r);
		cr_expect_eq(json_object_array_length(all = rec_requests(&R)), 2);
		json_object_put(all);
	}
	free(sha);
}

Test(notify, gitlab_project_path_and_private_token, .fini = fini, .timeout = 60)
{
	char api[96], *sha, *name;
	struct json_object *all, *q;
	struct ct_run r;

	setup(0);
	snprintf(api, sizeof(api), "%s/api/v4", R.url);
	ct_write_app(&W.t, "web.json", "/web", 32, "v1");
	sha = lr_git_commit(work, "web");
	{
		const char *extra[] = {"--commit-status", "gitlab", "--commit-status-api", api,
		                       "--commit-status-repo", "platform/marathon/apps", NULL};
		const char *env[] = {"PACER_COMMIT_STATUS_TOKEN=" TOKEN, NULL};

		r = sync_git(extra, env);
	}
	cr_assert_eq(r.rc, 0, "%s", r.err);
	ct_run_free(&r);
	cr_assert_eq(rec_count(&R, "/api/v4/"), 2);
	expect_status(0, "/api/v4/projects/platform%2Fmarathon%2Fapps/statuses/", sha, "pending");
	expect_status(1, "/api/v4/projects/platform%2Fmarathon%2Fapps/statuses/", sha, "success");
	q = rec_nth(&R, "/api/v4/", 1, &all);
	cr_expect_str_eq(header(q, "private-token"), TOKEN);
	cr_expect_null(header(q, "authorization"));
	name = body_field(q, "name");
	cr_expect_str_eq(name, "pacer/prod");
	free(name);
	json_object_put(all);
	free(sha);
}

/* HMAC-SHA256(SECRET, body) in hex, with OpenSSL rather than pacer's code. */
static void expect_signed(struct json_object *q)
{
	const char *body = ct_str(q, "body"), *sig = header(q, "x-pacer-signature");
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 8] = "sha256=";

	cr_assert_not_null(sig, "no X-Pacer-Signature");
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body, strlen(body),
	     mac, &n);
	for (unsigned int i = 0; i < n; i++)
		sprintf(hex + 7 + 2 * i, "%02x", mac[i]);
	cr_expect_str_eq(sig, hex, "the webhook's signature does not verify");
}

Test(notify, gitea_failure_webhook_slack_then_held_then_recovery, .fini = fini, .timeout = 120)
{
	char api[96], hook[96], slack[96], slack_file[600], *sha1, *sha2, *s;
	struct json_object *all, *q, *doc;
	struct ct_run r;
	const char *extra[] = {"--commit-status", "gitea", "--commit-status-api", api,
	                       "--commit-status-repo", "ops/apps", "--notify-webhook", hook, NULL};
	/* The Slack URL is a credential: here from a file. */
	const char *env[] = {"PACER_COMMIT_STATUS_TOKEN=" TOKEN,
	                     "PACER_NOTIFY_WEBHOOK_SECRET=" SECRET, slack_file, NULL};

	setup(0);
	snprintf(api, sizeof(api), "%s/api/v1", R.url);
	snprintf(hook, sizeof(hook), "%s/hook", R.url);
	snprintf(slack, sizeof(slack), "%s/slack", R.url);
	snprintf(slack_file, sizeof(slack_file), "PACER_NOTIFY_SLACK_FILE=%s/slack-url", W.t.dir);
	cr_assert_eq(test_write_file(strchr(slack_file, '=') + 1, slack), 0);
	ct_write_app(&W.t, "a.json", "/a", 32, "v1");
	ct_write_checked_app(&W.t, "/z", "v1", "unhealthy", 1); /* fails after 1 s */
	sha1 = lr_git_commit(work, "a and z");
	r = sync_git(extra, env);
	cr_assert_eq(r.rc, 1, "a failed app: %s", r.err);
	ct_run_free(&r);

	cr_assert_eq(rec_count(&R, "/api/v1/"), 2);
	expect_status(0, "/api/v1/repos/ops/apps/statuses/", sha1, "pending");
	expect_status(1, "/api/v1/repos/ops/apps/statuses/", sha1, "failure");
	q = rec_nth(&R, "/api/v1/", 1, &all);
	cr_expect_str_eq(header(q, "authorization"), "token " TOKEN);
	s = body_field(q, "description");
	cr_expect(strstr(s, "1 created") && strstr(s, "/z"), "description: %s", s);
	free(s);
	json_object_put(all);

	/* The webhook: signed, the shape of sync --output json plus what happened. */
	cr_assert_eq(rec_count(&R, "/hook"), 1);
	q = rec_nth(&R, "/hook", 0, &all);
	expect_signed(q);
	cr_expect_eq(strlen(header(q, "x-pacer-delivery") ? header(q, "x-pacer-delivery") : ""), 32,
	             "a delivery id for the receiver to tell retries apart");
	doc = json_tokener_parse(ct_str(q, "body"));
	cr_expect_str_eq(ct_str(doc, "trigger"), "cli");
	cr_expect_str_eq(ct_str(doc, "commit"), sha1);
	cr_expect_str_eq(ct_str(doc, "cluster"), "prod");
	cr_expect_str_eq(ct_str(doc, "result"), "failed");
	cr_expect_str_eq(ct_str(doc, "event"), "problem");
	cr_expect(json_object_object_get_ex(doc, "apps", NULL));
	cr_expect(json_object_object_get_ex(doc, "plan", NULL));
	json_object_put(doc);
	json_object_put(all);

	/* Slack: one short text naming the app. */
	cr_assert_eq(rec_count(&R, "/slack"), 1);
	q = rec_nth(&R, "/slack", 0, &all);
	doc = json_tokener_parse(ct_str(q, "body"));
	cr_expect_eq(json_object_object_length(doc), 1, "only text: %s", ct_str(q, "body"));
	s = strdup(ct_str(doc, "text"));
	cr_expect(!strncmp(s, "pacer/prod: sync failed at ", 27), "%s", s);
	cr_expect(strstr(s, "\xe2\x80\xa2 /z "), "%s", s);
	cr_expect_null(strstr(s, "/a "), "a healthy app is not listed: %s", s);
	free(s);
	json_object_put(doc);
	json_object_put(all);

	/* Timer runs of the same commit: /z is held; nobody hears of it again. */
	for (int i = 0; i < 2; i++) {
		r = sync_git(extra, env);
		cr_assert_eq(r.rc, 1, "held: %s", r.err);
		ct_run_free(&r);
	}
	cr_expect_eq(json_object_array_length(all = rec_requests(&R)), 4, "no repeat");
	json_object_put(all);

	/* Fixed in git: a new commit's status, and a recovery for the people. */
	ct_write_checked_app(&W.t, "/z", "v2", NULL, 0);
	sha2 = lr_git_commit(work, "z fixed");
	r = sync_git(extra, env);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	ct_run_free(&r);
	cr_assert_eq(rec_count(&R, "/api/v1/"), 4);
	expect_status(2, "/api/v1/repos/ops/apps/statuses/", sha2, "pending");
	expect_status(3, "/api/v1/repos/ops/apps/statuses/", sha2, "success");
	cr_assert_eq(rec_count(&R, "/hook"), 2);
	q = rec_nth(&R, "/hook", 1, &all);
	expect_signed(q);
	doc = json_tokener_parse(ct_str(q, "body"));
	cr_expect_str_eq(ct_str(doc, "event"), "recovery");
	cr_expect_str_eq(ct_str(doc, "result"), "converged");
	json_object_put(doc);
	json_object_put(all);
	cr_assert_eq(rec_count(&R, "/slack"), 2);
	q = rec_nth(&R, "/slack", 1, &all);
	cr_expect(strstr(ct_str(q, "body"), "pacer/prod: recovered at "), "%s", ct_str(q, "body"));
	json_object_put(all);
	free(sha1);
	free(sha2);
}

/* The value of one pacer_notifications_total series in a metrics file. */
static double notified(const char *file, const char *sink, const char *result)
{
	char *text = test_read_file(file, NULL), *needle = NULL, *at;
	double v = -1;

	cr_assert(asprintf(&needle, "pacer_notifications_total{sink=\"%s\",result=\"%s\"} ", sink,
	                   result) >= 0);
	if (text && (at = strstr(text, needle)))
		v = strtod(at + strlen(needle), NULL);
	free(needle);
	free(text);
	return v;
}

Test(notify, retried_on_5xx_and_counted, .fini = fini, .timeout = 60)
{
	char api[96], *sha, *metrics = NULL;
	struct json_object *all;
	struct ct_run r;

	setup(2); /* the first two requests get 500 */
	snprintf(api, sizeof(api), "%s/gh", R.url);
	cr_assert(asprintf(&metrics, "%s/pacer.prom", W.t.dir) >= 0);
	ct_write_app(&W.t, "web.json", "/web", 32, "v1");
	sha = lr_git_commit(work, "web");
	{
		const char *extra[] = {"--commit-status", "github", "--commit-status-api", api,
		                       "--commit-status-repo", "acme/apps", "--metrics-file",
		                       metrics, NULL};

		r = sync_git(extra, tokens_env);
	}
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect(ct_has(r.err, "attempt 2 of 4"), "the retry is logged: %s", r.err);
	ct_run_free(&r);
	all = rec_requests(&R);
	cr_assert_eq(json_object_array_length(all), 4, "500, 500, then pending and success");
	cr_expect_eq(ct_int(json_object_array_get_idx(all, 0), "status"), 500);
	cr_expect_eq(ct_int(json_object_array_get_idx(all, 1), "status"), 500);
	json_object_put(all);
	expect_status(2, "/gh/repos/acme/apps/statuses/", sha, "pending");
	expect_status(3, "/gh/repos/acme/apps/statuses/", sha, "success");
	cr_expect_eq(notified(metrics, "commit_status", "sent"), 2);
	cr_expect_eq(notified(metrics, "commit_status", "failed"), 0);
	cr_expect_eq(notified(metrics, "slack", "sent"), 0);
	free(metrics);
	free(sha);
}

/* A port that takes connections (the kernel's backlog) and never answers. */
static int black_hole(int *port)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

Test(notify, dead_sinks_hold_sync_up_no_longer_than_the_bound, .fini = fini, .timeout = 90)
{
	char api[96], hook[96], slack[96], *metrics = NULL;
	int port, fd = -1;
	long long t0, ms;
	struct ct_run r;
	struct json_object *out;
	double sync_s;

	setup(0);
	fd = black_hole(&port);
	snprintf(api, sizeof(api), "http://127.0.0.1:%d/gh", port);
	snprintf(hook, sizeof(hook), "http://127.0.0.1:%d/hook", port);
	snprintf(slack, sizeof(slack), "http://127.0.0.1:%d/slack", test_closed_port());
	cr_assert(asprintf(&metrics, "%s/pacer.prom", W.t.dir) >= 0);
	ct_write_checked_app(&W.t, "/z", "v1", "unhealthy", 1);
	free(lr_git_commit(work, "z"));
	{
		const char *extra[] = {"--commit-status", "github", "--commit-status-api", api,
		                       "--commit-status-repo", "acme/apps", "--notify-webhook", hook,
		                       "--notify-slack", slack, "--notify-timeout", "2",
		                       "--metrics-file", metrics, "-o", "json", NULL};

		t0 = lr_now_ms();
		r = sync_git(extra, tokens_env);
		ms = lr_now_ms() - t0;
	}
	/* The sync's own outcome, untouched by the sinks. */
	cr_assert_eq(r.rc, 1, "%s", r.err);
	out = json_tokener_parse(r.out);
	cr_assert_not_null(out, "%s", r.out);
	sync_s = json_object_get_double(json_object_object_get(out, "seconds"));
	json_object_put(out);
	cr_expect(ct_has(r.err, "not delivered within 2s"), "%s", r.err);
	cr_expect_null(strstr(r.err, slack), "a Slack URL is a secret: %s", r.err);
	ct_run_free(&r);
	/* It waited for the sinks, but no longer than the bound (plus start-up and slack). */
	cr_expect(ms - (long long)(sync_s * 1000) >= 1500, "waited %lld ms beyond the sync", ms);
	cr_expect(ms - (long long)(sync_s * 1000) < 2000 + 4000,
	          "pacer sync took %lld ms for a %.1f s sync: the dead sinks held it up", ms, sync_s);
	/* What was not delivered is counted, not lost silently. */
	cr_expect_gt(notified(metrics, "commit_status", "dropped"), 0);
	cr_expect_gt(notified(metrics, "slack", "dropped") + notified(metrics, "slack", "failed"),
	             0);
	close(fd);
	free(metrics);
}

Test(notify, watch_tells_a_held_app_once, .fini = fini, .timeout = 120)
{
	char api[96], hook[96], slack[96], *sha;
	struct json_object *all;
	const char *extra[] = {"--debounce", "100", "--interval", "1", "--resync-interval", "1",
	                       "--log-level", "info", "--cluster-name", "prod",
	                       "--commit-status", "github", "--commit-status-api", api,
	                       "--commit-status-repo", "acme/apps", "--notify-webhook", hook,
	                       "--notify-slack", slack, NULL};

	setup(0);
	all_sinks(api, hook, slack);
	ct_write_app(&W.t, "a.json", "/a", 32, "v1");
	ct_write_checked_app(&W.t, "/z", "v1", "unhealthy", 1);
	sha = lr_git_commit(work, "a and z");
	wt_start_cmd(&W, "watch", origin, tokens_env, extra);
	/* The startup sync and five resyncs of the same commit. */
	lr_expect_log(&W.p, "pacer watch", "sync result=", 6, 60000);
	lr_sleep_ms(300); /* the last one's deliveries */
	cr_expect_eq(rec_count(&R, "/hook"), 1, "one webhook for the failure, none per timer run");
	cr_expect_eq(rec_count(&R, "/slack"), 1, "one Slack message, not six");
	cr_expect_eq(rec_count(&R, "/gh/"), 2, "pending and failure, once");
	expect_status(0, "/gh/repos/acme/apps/statuses/", sha, "pending");
	expect_status(1, "/gh/repos/acme/apps/statuses/", sha, "failure");
	all = rec_requests(&R);
	cr_expect_eq(json_object_array_length(all), 4);
	json_object_put(all);
	wt_stop(&W);
	free(sha);
}

Test(notify, serve_tells_a_held_app_once_and_counts_it, .fini = fini, .timeout = 120)
{
	char api[96], hook[96], slack[96], *sha, *metrics = NULL, *url = NULL;
	const char *env[] = {"PACER_COMMIT_STATUS_TOKEN=" TOKEN,
	                     "PACER_NOTIFY_WEBHOOK_SECRET=" SECRET,
	                     "PACER_WEBHOOK_SECRET=serve-hook-secret", NULL};
	const char *extra[] = {"--listen", "127.0.0.1:0", "--interval", "1", "--resync-interval",
	                       "1", "--ref", "main", "--log-level", "info", "--cluster-name",
	                       "prod", "--commit-status", "github", "--commit-status-api", api,
	                       "--commit-status-repo", "acme/apps", "--notify-webhook", hook,
	                       "--notify-slack", slack, NULL};
	int port, status;

	setup(0);
	all_sinks(api, hook, slack);
	ct_write_app(&W.t, "a.json", "/a", 32, "v1");
	ct_write_checked_app(&W.t, "/z", "v1", "unhealthy", 1);
	sha = lr_git_commit(work, "a and z");
	wt_start_cmd(&W, "serve", origin, env, extra);
	lr_expect_log(&W.p, "pacer serve", "(port ", 1, 15000);
	port = lr_port(&W.p);
	/* The startup sync and five more of the same commit, by the interval. */
	lr_expect_log(&W.p, "pacer serve", "sync result=", 6, 60000);
	lr_sleep_ms(300);
	cr_expect_eq(rec_count(&R, "/hook"), 1, "one webhook, not one per sync");
	cr_expect_eq(rec_count(&R, "/slack"), 1, "one Slack message, not one per sync");
	cr_expect_eq(rec_count(&R, "/gh/"), 2, "pending and failure, once");
	expect_status(1, "/gh/repos/acme/apps/statuses/", sha, "failure");
	/* Deliveries are counted in serve's /metrics. */
	cr_assert(asprintf(&url, "http://127.0.0.1:%d/metrics", port) >= 0);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &metrics), 0);
	cr_assert_eq(status, 200);
	cr_expect(ct_has(metrics, "pacer_notifications_total{sink=\"slack\",result=\"sent\"} 1\n"),
	          "%s", metrics);
	cr_expect(ct_has(metrics,
	                 "pacer_notifications_total{sink=\"commit_status\",result=\"sent\"} 2\n"),
	          "%s", metrics);
	wt_stop(&W);
	free(metrics);
	free(url);
	free(sha);
}

Test(notify, refuses_settings_it_cannot_honour, .fini = fini, .timeout = 60)
{
	static const struct {
		const char *args[8];
		const char *env[3];
		const char *says;
	} cases[] = {
	    {{"--commit-status", "github", "--commit-status-repo", "acme/apps", NULL},
	     {NULL},
	     "PACER_COMMIT_STATUS_TOKEN"},
	    /* A file:// remote names no forge repository. */
	    {{"--commit-status", "gitlab", NULL},
	     {"PACER_COMMIT_STATUS_TOKEN=" TOKEN, NULL},
	     "--commit-status-repo"},
	    {{"--commit-status", "bitbucket", NULL},
	     {"PACER_COMMIT_STATUS_TOKEN=" TOKEN, NULL},
	     "github, gitlab or gitea"},
	    {{"--notify-webhook", "http://127.0.0.1:9/hook", NULL},
	     {NULL},
	     "PACER_NOTIFY_WEBHOOK_SECRET"},
	};

	setup(0);
	ct_write_app(&W.t, "web.json", "/web", 32, "v1");
	free(lr_git_commit(work, "web"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ct_run r = sync_git(cases[i].args, cases[i].env);

		cr_expect_eq(r.rc, 64, "case %zu: exit %d: %s", i, r.rc, r.err);
		cr_expect(ct_has(r.err, cases[i].says), "case %zu must say %s: %s", i, cases[i].says,
		          r.err);
		ct_run_free(&r);
	}
	cr_expect_not(ct_has_app(&W.t, "/web"), "nothing is deployed when notifications are wrong");
}

/* A directory source has no commit: the run says no status will be posted, and posts none. */
Test(notify, commit_status_of_a_directory_source_says_it_posts_nothing, .fini = fini, .timeout = 60)
{
	char api[96];
	const char *extra[] = {"--commit-status", "github", "--commit-status-api", api,
	                       "--commit-status-repo", "acme/apps", NULL};
	const char *env[] = {"PACER_COMMIT_STATUS_TOKEN=" TOKEN, NULL};
	struct ct_run r;

	setup(0);
	snprintf(api, sizeof(api), "%s", R.url);
	ct_write_app(&W.t, "web.json", "/web", 32, "v1");
	r = ct_cmd_env(&W.t, "sync", extra, env);
	cr_expect_eq(r.rc, 0, "exit %d: %s", r.rc, r.err);
	cr_expect(ct_has(r.err, "is a directory, which has none: no commit status will be posted"),
	          "%s", r.err);
	ct_run_free(&r);
	cr_expect_eq(rec_count(&R, "/repos/"), 0, "a status without a commit was posted");
}
