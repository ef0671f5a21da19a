/*
 * Integration tests for cmd/pacer/serve_http.c: a real server on an
 * ephemeral loopback port, driven with real HTTP requests (libcurl through
 * test_http), and a sync callback that counts its calls, sleeps a little
 * and checks that two syncs never overlap.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/pacer/serve_http.h"
#include "reconcile/base/log.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

#define SECRET "integration-secret-42"

struct counter {
	pthread_mutex_t mu;
	int calls;
	int interval_calls;
	int active, max_active;
	int sleep_ms;
	int rc; /* what the sync returns */
	long long last_start_ms;
	char last_reason[256];
};

struct fixture {
	struct serve *s;
	pthread_t th;
	int started;
	volatile sig_atomic_t stop;
	int run_rc;
	struct counter c;
	char base[64];
};

/*
 * The running fixture. A failed assertion leaves the test function without
 * running fx_stop(); the suite's .fini stops the server then, so the
 * process exits cleanly instead of racing a live server thread.
 */
static struct fixture *current;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int counting_sync(void *ctx, const char *reason, struct json_object **status_out)
{
	struct counter *c = ctx;
	int rc, ms;

	pthread_mutex_lock(&c->mu);
	c->calls++;
	if (strcmp(reason, "interval") == 0)
		c->interval_calls++;
	c->active++;
	if (c->active > c->max_active)
		c->max_active = c->active;
	c->last_start_ms = now_ms();
	snprintf(c->last_reason, sizeof(c->last_reason), "%s", reason);
	rc = c->rc;
	ms = c->sleep_ms;
	pthread_mutex_unlock(&c->mu);

	sleep_ms(ms);
	*status_out = json_tokener_parse(
	    rc == 0 ? "{\"converged\": true, \"revision\": \"0d1a26e67d8f\", \"plan\": {}, \"apps\": ["
	              "{\"id\": \"/prod/web\", \"outcome\": \"updated\"},"
	              "{\"id\": \"/prod/api\", \"outcome\": \"unchanged\"}]}"
	            : "{\"converged\": false, \"revision\": \"0d1a26e67d8f\", \"plan\": {}, \"apps\": ["
	              "{\"id\": \"/prod/web\", \"outcome\": \"rolled_back\"}]}");

	pthread_mutex_lock(&c->mu);
	c->active--;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static void *run_thread(void *arg)
{
	struct fixture *f = arg;

	f->run_rc = serve_run(f->s, &f->stop);
	return NULL;
}

/* Create the server; fx_run() starts its loop (and the startup sync). */
static void fx_new(struct fixture *f, struct serve_options *o)
{
	struct pacer_error *err = NULL;
	int rc;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->c.mu, NULL);
	f->c.sleep_ms = 50;
	/* Never the real default port: tests run in parallel with other services. */
	if (!o->listen || strcmp(o->listen, "127.0.0.1:8090") == 0)
		o->listen = "127.0.0.1:0";
	rc = serve_new(&f->s, o, counting_sync, &f->c, &err);
	cr_assert_eq(rc, 0, "serve_new: %s", err ? err->message : "");
	cr_assert_gt(serve_port(f->s), 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", serve_port(f->s));
}

static void fx_run(struct fixture *f)
{
	cr_assert_eq(pthread_create(&f->th, NULL, run_thread, f), 0);
	f->started = 1;
	current = f;
}

static void fx_start(struct fixture *f, struct serve_options *o)
{
	fx_new(f, o);
	fx_run(f);
}

static void set_sleep(struct fixture *f, int ms)
{
	pthread_mutex_lock(&f->c.mu);
	f->c.sleep_ms = ms;
	pthread_mutex_unlock(&f->c.mu);
}

static void fx_stop(struct fixture *f)
{
	current = NULL;
	if (f->started) {
		f->stop = 1;
		pthread_join(f->th, NULL);
		cr_assert_eq(f->run_rc, 0);
	}
	serve_free(f->s);
	f->s = NULL;
	pthread_mutex_destroy(&f->c.mu);
}

/* Every line of a Prometheus text exposition is a comment or `name{labels} value`. */
static void check_exposition(const char *text)
{
	regex_t re;
	const char *p = text;
	int samples = 0;

	cr_assert_eq(
	    regcomp(&re,
	            "^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|"
	            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
	            ",?)*\\})? (-?[0-9.e+-]+|[+-]Inf|NaN))$",
	            REG_EXTENDED | REG_NOSUB),
	    0);
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[512];
		size_t n;

		cr_assert_not_null(nl, "last line without a newline: %s", p);
		n = (size_t)(nl - p);
		cr_assert_lt(n, sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		cr_assert_eq(regexec(&re, line, 0, NULL, 0), 0, "not Prometheus text: '%s'", line);
		if (line[0] != '#')
			samples++;
		p = nl + 1;
	}
	cr_assert_gt(samples, 20);
	regfree(&re);
}

static void fx_fini(void)
{
	if (current) {
		current->stop = 1;
		if (current->started)
			pthread_join(current->th, NULL);
		serve_free(current->s);
		current = NULL;
	}
}

TestSuite(serve, .fini = fx_fini);

static int calls(struct fixture *f)
{
	int n;

	pthread_mutex_lock(&f->c.mu);
	n = f->c.calls;
	pthread_mutex_unlock(&f->c.mu);
	return n;
}

static struct json_object *get_json(struct fixture *f, const char *path)
{
	char url[128], *resp = NULL;
	int status = 0;
	struct json_object *o;

	snprintf(url, sizeof(url), "%s%s", f->base, path);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0, "GET %s failed", url);
	cr_assert_eq(status, 200, "GET %s: %d %s", url, status, resp);
	o = json_tokener_parse(resp);
	cr_assert_not_null(o, "GET %s: not JSON: %s", url, resp);
	free(resp);
	return o;
}

static int jbool(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, k, &v), "no key %s", k);
	return json_object_get_boolean(v);
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, k, &v), "no key %s", k);
	return json_object_get_int64(v);
}

/* Wait until no sync runs or is queued and at least `min_syncs` ran. */
static void wait_idle(struct fixture *f, int min_syncs)
{
	long long deadline = now_ms() + 10000;

	for (;;) {
		struct json_object *st = get_json(f, "/status");
		int idle =
		    !jbool(st, "running") && !jbool(st, "queued") && jint(st, "syncs") >= min_syncs;

		json_object_put(st);
		if (idle)
			return;
		cr_assert_lt(now_ms(), deadline, "server did not become idle");
		sleep_ms(20);
	}
}

static char *payload(const char *name)
{
	char rel[128], *path, *body;
	size_t len;

	snprintf(rel, sizeof(rel), "testdata/webhooks/%s", name);
	path = test_source_path(rel);
	body = test_read_file(path, &len);
	cr_assert_not_null(body, "cannot read %s", path);
	free(path);
	return body;
}

static void hmac_hex(const char *key, const char *body, char out[65])
{
	unsigned char mac[32];
	unsigned int n = 0;

	cr_assert_not_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
	                        strlen(body), mac, &n));
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
}

enum sig { SIG_GOOD, SIG_BAD, SIG_NONE };

struct hook {
	char provider[10];
	char file[48];
	char event[48]; /* the whole event header line, "" = none */
};

/* POST a payload to /hooks/<provider>, signed as the provider signs, with one more header line (or NULL). */
static int post_hook_with(struct fixture *f, const struct hook *h, enum sig sig, const char *body,
                          const char *extra, char **resp)
{
	char url[128], sigline[160], hex[65];
	const char *headers[6] = {"Content-Type: application/json", extra, NULL, NULL, NULL, NULL};
	size_t n = extra ? 2 : 1;
	int status = 0;

	snprintf(url, sizeof(url), "%s/hooks/%s", f->base, h->provider);
	hmac_hex(sig == SIG_BAD ? "wrong-secret" : SECRET, body, hex);
	if (strcmp(h->provider, "github") == 0)
		snprintf(sigline, sizeof(sigline), "X-Hub-Signature-256: sha256=%s", hex);
	else if (strcmp(h->provider, "gitea") == 0)
		snprintf(sigline, sizeof(sigline), "X-Gitea-Signature: %s", hex);
	else if (strcmp(h->provider, "generic") == 0)
		snprintf(sigline, sizeof(sigline), "X-Pacer-Signature: sha256=%s", hex);
	else
		snprintf(sigline, sizeof(sigline), "X-Gitlab-Token: %s",
		         sig == SIG_BAD ? "wrong-secret" : SECRET);
	if (sig != SIG_NONE)
		headers[n++] = sigline;
	if (h->event[0])
		headers[n++] = h->event;
	cr_assert_eq(test_http("POST", url, body, headers, &status, resp), 0, "POST %s failed",
	             url);
	return status;
}

static int post_hook(struct fixture *f, const struct hook *h, enum sig sig, const char *body,
                     char **resp)
{
	return post_hook_with(f, h, sig, body, NULL, resp);
}

/*
 * POST h's payload, signed with the right secret: the answer must have status
 * want and contain needle. Returns the answer's body (caller frees).
 */
static char *post_expect(struct fixture *f, const struct hook *h, int want, const char *needle)
{
	char *body = payload(h->file), *resp = NULL;
	int status = post_hook(f, h, SIG_GOOD, body, &resp);

	cr_assert_eq(status, want, "%s (%s): %d %s", h->file, h->event, status, resp);
	cr_assert_not_null(strstr(resp, needle), "%s", resp);
	free(body);
	return resp;
}

static const struct hook hooks[] = {
    {"github", "github_push.json", "X-GitHub-Event: push"},
    {"github", "github_pull_request_merged.json", "X-GitHub-Event: pull_request"},
    {"gitlab", "gitlab_push.json", "X-Gitlab-Event: Push Hook"},
    {"gitlab", "gitlab_merge_request_merged.json", "X-Gitlab-Event: Merge Request Hook"},
    {"gitea", "gitea_push.json", "X-Gitea-Event: push"},
    {"generic", "generic.json", ""},
};

ParameterizedTestParameters(serve, signatures)
{
	return cr_make_param_array(struct hook, hooks, sizeof(hooks) / sizeof(hooks[0]));
}

/* For every provider: wrong and missing signatures get 401 and sync nothing; a good one syncs. */
ParameterizedTest(const struct hook *h, serve, signatures)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	struct json_object *r, *v = NULL;
	char *body = payload(h->file), *resp = NULL;
	int status, before;

	o.secret = SECRET;
	o.branch = "main";
	fx_start(&f, &o);
	wait_idle(&f, 1); /* the startup sync */
	before = calls(&f);

	status = post_hook(&f, h, SIG_BAD, body, &resp);
	cr_assert_eq(status, 401, "%s wrong signature: %d %s", h->file, status, resp);
	cr_assert_not_null(strstr(resp, "unauthorized"), "%s", resp);
	cr_assert_null(strstr(resp, SECRET));
	/* An unauthenticated caller learns nothing of the server's settings. */
	cr_assert_null(strstr(resp, "PACER_"), "%s", resp);
	cr_assert_null(strstr(resp, "--"), "%s", resp);
	free(resp);
	status = post_hook(&f, h, SIG_NONE, body, &resp);
	cr_assert_eq(status, 401, "%s missing signature: %d %s", h->file, status, resp);
	cr_assert_null(strstr(resp, "PACER_"), "%s", resp);
	free(resp);
	sleep_ms(150);
	cr_assert_eq(calls(&f), before, "a rejected webhook triggered a sync");

	status = post_hook(&f, h, SIG_GOOD, body, &resp);
	cr_assert_eq(status, 202, "%s good signature: %d %s", h->file, status, resp);
	r = json_tokener_parse(resp);
	cr_assert_not_null(r, "%s", resp);
	cr_assert(json_object_object_get_ex(r, "status", &v));
	cr_assert_str_eq(json_object_get_string(v), "queued");
	cr_assert_eq(jint(r, "sync_id"), 2);
	json_object_put(r);
	free(resp);
	wait_idle(&f, 2);
	cr_assert_eq(calls(&f), before + 1);
	pthread_mutex_lock(&f.c.mu);
	cr_assert_not_null(strstr(f.c.last_reason, h->provider), "reason %s", f.c.last_reason);
	pthread_mutex_unlock(&f.c.mu);
	free(body);
	fx_stop(&f);
}

Test(serve, ignored_events_sync_nothing)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	static const struct hook other = {"github", "github_push_other_branch.json",
	                                  "X-GitHub-Event: push"};
	static const struct hook unmerged = {"github", "github_pull_request_closed_unmerged.json",
	                                     "X-GitHub-Event: pull_request"};
	static const struct hook opened = {"gitlab", "gitlab_merge_request_opened.json",
	                                   "X-Gitlab-Event: Merge Request Hook"};
	static const struct hook ping = {"github", "github_ping.json", "X-GitHub-Event: ping"};
	static const struct hook noevent = {"github", "github_push.json", ""};
	const struct hook *ignored[] = {&other, &unmerged, &opened};
	char *resp;
	int before;

	o.secret = SECRET;
	o.branch = "main";
	fx_start(&f, &o);
	wait_idle(&f, 1);
	before = calls(&f);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		resp = post_expect(&f, ignored[i], 202, "\"status\":\"ignored\"");
		cr_assert_not_null(strstr(resp, "\"reason\":"), "%s", resp);
		free(resp);
	}
	free(post_expect(&f, &ping, 200, "pong"));
	free(post_expect(&f, &noevent, 400, "X-GitHub-Event"));
	sleep_ms(200);
	cr_assert_eq(calls(&f), before);
	fx_stop(&f);
}

Test(serve, too_large)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	static const struct hook h = {"github", "github_push.json", "X-GitHub-Event: push"};
	char *body = payload(h.file), *resp = NULL, url[128], sigline[100], hex[65];
	const char *chunked[] = {"Content-Type: application/json", "X-GitHub-Event: push", sigline,
	                         "Transfer-Encoding: chunked", NULL};
	int status, before;

	o.secret = SECRET;
	o.max_body = 1024; /* the push payload is ~2.5 KiB */
	fx_start(&f, &o);
	wait_idle(&f, 1);
	before = calls(&f);
	cr_assert_gt(strlen(body), 1024);

	/* Announced by Content-Length. */
	status = post_hook(&f, &h, SIG_GOOD, body, &resp);
	cr_assert_eq(status, 413, "%d %s", status, resp);
	cr_assert_not_null(strstr(resp, "1024"), "%s", resp);
	free(resp);

	/* Streamed without a length: counted as it arrives. */
	hmac_hex(SECRET, body, hex);
	snprintf(sigline, sizeof(sigline), "X-Hub-Signature-256: sha256=%s", hex);
	snprintf(url, sizeof(url), "%s/hooks/github", f.base);
	cr_assert_eq(test_http("POST", url, body, chunked, &status, &resp), 0);
	cr_assert_eq(status, 413, "chunked: %d %s", status, resp);
	free(resp);

	/* A small body still goes through, chunked too. */
	{
		const char *small = "{\"ref\":\"refs/heads/main\",\"after\":\"abc\"}";

		hmac_hex(SECRET, small, hex);
		snprintf(sigline, sizeof(sigline), "X-Hub-Signature-256: sha256=%s", hex);
		cr_assert_eq(test_http("POST", url, small, chunked, &status, &resp), 0);
		cr_assert_eq(status, 202, "small chunked: %d %s", status, resp);
		free(resp);
	}
	wait_idle(&f, 2);
	cr_assert_eq(calls(&f), before + 1);
	free(body);
	fx_stop(&f);
}

/*
 * How long a sync lasts while a burst of hooks arrives: longer than the
 * burst takes even on a busy machine under the sanitizers, so that every
 * hook but the first lands while that sync runs.
 */
#define BURST_SYNC_MS 1500

Test(serve, burst_coalesces)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	static const struct hook h = {"gitea", "gitea_push.json", "X-Gitea-Event: push"};
	char *body = payload(h.file);
	long long last_sent = 0;
	int64_t first_id = -1, max_id = -1;
	int before, after;

	o.secret = SECRET;
	fx_start(&f, &o);
	wait_idle(&f, 1);
	before = calls(&f);
	set_sleep(&f, BURST_SYNC_MS);

	for (int i = 0; i < 50; i++) {
		char *resp = NULL;
		struct json_object *r;
		int status;

		last_sent = now_ms();
		status = post_hook(&f, &h, SIG_GOOD, body, &resp);
		cr_assert_eq(status, 202, "hook %d: %d %s", i, status, resp);
		r = json_tokener_parse(resp);
		cr_assert_not_null(r);
		if (first_id < 0)
			first_id = jint(r, "sync_id");
		if (jint(r, "sync_id") > max_id)
			max_id = jint(r, "sync_id");
		json_object_put(r);
		free(resp);
	}
	{
		/* The burst took less than one BURST_SYNC_MS sync: one runs, one may be queued. */
		struct json_object *st = get_json(&f, "/status"), *v = NULL;

		cr_assert(jbool(st, "running") || jbool(st, "queued"));
		if (jbool(st, "queued")) {
			cr_assert(json_object_object_get_ex(st, "queued_sync_id", &v));
			cr_assert_eq(json_object_get_int64(v), max_id);
		}
		json_object_put(st);
	}
	wait_idle(&f, before + 1);
	after = calls(&f) - before;
	cr_assert_geq(after, 1);
	cr_assert_leq(after, 2, "50 hooks made %d syncs", after);
	cr_assert_leq(max_id - first_id, 1, "sync ids %ld..%ld", (long)first_id, (long)max_id);
	pthread_mutex_lock(&f.c.mu);
	cr_assert_eq(f.c.max_active, 1, "two syncs ran at once");
	/* Never a lost trigger: the last sync started after the last hook was sent. */
	cr_assert_geq(f.c.last_start_ms, last_sent);
	pthread_mutex_unlock(&f.c.mu);
	free(body);
	fx_stop(&f);
}

static void *burst_thread(void *arg)
{
	struct fixture *f = arg;
	static const struct hook h = {"generic", "generic.json", ""};
	char *body = payload(h.file);

	for (int i = 0; i < 25; i++) {
		char *resp = NULL;

		cr_assert_eq(post_hook(f, &h, SIG_GOOD, body, &resp), 202);
		free(resp);
	}
	free(body);
	return NULL;
}

/* Concurrent clients: still never two syncs at once, at most one follow-up. */
Test(serve, concurrent_burst)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	pthread_t t[2];
	int before, after;

	o.secret = SECRET;
	fx_start(&f, &o);
	wait_idle(&f, 1);
	before = calls(&f);
	set_sleep(&f, BURST_SYNC_MS);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, burst_thread, &f);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	wait_idle(&f, before + 1);
	after = calls(&f) - before;
	cr_assert(after >= 1 && after <= 2, "50 hooks made %d syncs", after);
	cr_assert_eq(f.c.max_active, 1);
	fx_stop(&f);
}

Test(serve, healthz_status_metrics)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	struct json_object *st, *last = NULL, *apps = NULL, *v = NULL;
	static const struct hook bad = {"gitlab", "gitlab_push.json", "X-Gitlab-Event: Push Hook"};
	char url[128], *resp = NULL, *body = payload(bad.file);
	int status;

	o.secret = SECRET;
	o.interval_s = 3600;
	fx_start(&f, &o);
	wait_idle(&f, 1);

	snprintf(url, sizeof(url), "%s/healthz", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(resp, "ok\n");
	free(resp);
	snprintf(url, sizeof(url), "%s/nope", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_eq(status, 404);
	free(resp);
	snprintf(url, sizeof(url), "%s/hooks/github", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_eq(status, 405);
	free(resp);
	snprintf(url, sizeof(url), "%s/hooks/bitbucket", f.base);
	cr_assert_eq(test_http("POST", url, "{}", NULL, &status, &resp), 0);
	cr_assert_eq(status, 404);
	free(resp);
	cr_assert_eq(post_hook(&f, &bad, SIG_BAD, body, &resp), 401);
	free(resp);

	st = get_json(&f, "/status");
	cr_assert_eq(jbool(st, "running"), 0);
	cr_assert_eq(jbool(st, "queued"), 0);
	cr_assert_eq(jint(st, "syncs"), 1);
	cr_assert_eq(jint(st, "interval_seconds"), 3600);
	cr_assert(json_object_object_get_ex(st, "next_run", &v) &&
	          json_object_is_type(v, json_type_string));
	cr_assert_eq(strlen(json_object_get_string(v)), 20); /* 2026-11-27T18:30:57Z */
	cr_assert(json_object_object_get_ex(st, "last_success", &v) &&
	          json_object_is_type(v, json_type_string));
	cr_assert(json_object_object_get_ex(st, "last_sync", &last) &&
	          json_object_is_type(last, json_type_object));
	cr_assert_eq(jint(last, "id"), 1);
	cr_assert_eq(jbool(last, "converged"), 1);
	cr_assert(json_object_object_get_ex(last, "result", &v));
	cr_assert_str_eq(json_object_get_string(v), "converged");
	cr_assert(json_object_object_get_ex(last, "reason", &v));
	cr_assert_str_eq(json_object_get_string(v), "startup");
	cr_assert(json_object_object_get_ex(last, "commit", &v));
	cr_assert_str_eq(json_object_get_string(v), "0d1a26e67d8f");
	cr_assert(json_object_object_get_ex(last, "started", &v) &&
	          json_object_is_type(v, json_type_string));
	cr_assert(json_object_object_get_ex(last, "finished", &v) &&
	          json_object_is_type(v, json_type_string));
	cr_assert(json_object_object_get_ex(last, "duration_seconds", &v));
	cr_assert_geq(json_object_get_double(v), 0.04);
	cr_assert(json_object_object_get_ex(last, "apps", &apps) &&
	          json_object_array_length(apps) == 2);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(apps, 0), "outcome", &v));
	cr_assert_str_eq(json_object_get_string(v), "updated");
	json_object_put(st);

	snprintf(url, sizeof(url), "%s/metrics", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_eq(status, 200);
	check_exposition(resp);
	cr_assert_not_null(strstr(resp, "# TYPE pacer_syncs_total counter\n"), "%s", resp);
	cr_assert_not_null(strstr(resp, "\npacer_syncs_total{result=\"converged\"} 1\n"), "%s",
	                   resp);
	cr_assert_not_null(strstr(resp, "\npacer_syncs_total{result=\"failed\"} 0\n"), "%s", resp);
	cr_assert_not_null(strstr(resp, "\npacer_apps{state=\"in_sync\"} 2\n"), "%s", resp);
	cr_assert_not_null(strstr(resp, "\npacer_sync_duration_seconds_count 1\n"), "%s", resp);
	cr_assert_not_null(
	    strstr(resp, "\npacer_webhooks_total{provider=\"gitlab\",result=\"unauthorized\"} 1\n"),
	    "%s", resp);
	{
		/* The last-success gauge is a plausible unix time. */
		const char *p = strstr(resp, "\npacer_last_success_timestamp_seconds ");
		double t;

		cr_assert_not_null(p);
		t = strtod(p + strlen("\npacer_last_success_timestamp_seconds "), NULL);
		cr_assert(t > (double)time(NULL) - 60 && t <= (double)time(NULL) + 1, "%f", t);
	}
	free(resp);
	free(body);
	fx_stop(&f);
}

Test(serve, failed_sync_is_reported)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	struct json_object *st, *last = NULL, *v = NULL;
	char url[128], *resp = NULL;
	int status;

	o.secret = SECRET;
	fx_new(&f, &o);
	f.c.rc = PACER_EFAILED; /* before the loop (and its startup sync) runs */
	fx_run(&f);
	wait_idle(&f, 1);
	st = get_json(&f, "/status");
	cr_assert(json_object_object_get_ex(st, "last_sync", &last));
	cr_assert(json_object_object_get_ex(last, "result", &v));
	cr_assert_str_eq(json_object_get_string(v), "failed");
	cr_assert_eq(jbool(last, "converged"), 0);
	cr_assert(json_object_object_get_ex(st, "last_success", &v));
	cr_assert_null(v);
	snprintf(url, sizeof(url), "%s/metrics", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_not_null(strstr(resp, "\npacer_syncs_total{result=\"failed\"} 1\n"), "%s", resp);
	cr_assert_not_null(strstr(resp, "\npacer_syncs_total{result=\"converged\"} 0\n"), "%s",
	                   resp);
	cr_assert_not_null(strstr(resp, "\npacer_apps{state=\"failed\"} 1\n"), "%s", resp);
	cr_assert_not_null(strstr(resp, "\npacer_last_success_timestamp_seconds 0\n"), "%s", resp);
	free(resp);
	json_object_put(st);
	fx_stop(&f);
}

Test(serve, interval_poll)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	long long deadline;

	o.secret = SECRET;
	o.interval_s = 1;
	fx_start(&f, &o);
	deadline = now_ms() + 5000;
	for (;;) {
		int n;

		pthread_mutex_lock(&f.c.mu);
		n = f.c.interval_calls;
		pthread_mutex_unlock(&f.c.mu);
		if (n >= 2)
			break;
		cr_assert_lt(now_ms(), deadline, "only %d interval syncs in 5 s", n);
		sleep_ms(50);
	}
	/* startup + two ticks, and no more than the clock allows. */
	cr_assert_geq(calls(&f), 3);
	cr_assert_leq(calls(&f), 6);
	fx_stop(&f);
}

Test(serve, no_interval_means_only_startup)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	struct json_object *st, *v = NULL;

	o.secret = SECRET;
	fx_start(&f, &o);
	wait_idle(&f, 1);
	sleep_ms(1200);
	cr_assert_eq(calls(&f), 1);
	st = get_json(&f, "/status");
	cr_assert(json_object_object_get_ex(st, "next_run", &v));
	cr_assert_null(v);
	json_object_put(st);
	fx_stop(&f);
}

Test(serve, refuses_without_secret)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	struct serve *s = NULL;
	struct pacer_error *err = NULL;
	struct counter c = {.sleep_ms = 0};

	o.listen = "127.0.0.1:0";
	cr_assert_eq(serve_new(&s, &o, counting_sync, &c, &err), PACER_EINVALID);
	cr_assert_null(s);
	cr_assert_not_null(strstr(err->message, "PACER_WEBHOOK_SECRET"), "%s", err->message);
	cr_assert_not_null(strstr(err->message, "PACER_WEBHOOK_SECRET_FILE"), "%s", err->message);
	cr_assert_not_null(strstr(err->message, "--insecure-no-webhook-secret"), "%s",
	                   err->message);
	pacer_error_clear(&err);
	o.secret = "";
	cr_assert_eq(serve_new(&s, &o, counting_sync, &c, &err), PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(serve_new(&s, NULL, counting_sync, &c, &err), PACER_EINVALID);
	pacer_error_clear(&err);
}

Test(serve, insecure_accepts_unsigned)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	static const struct hook h = {"github", "github_push.json", "X-GitHub-Event: push"};
	char *body = payload(h.file), *resp = NULL;

	o.insecure_no_secret = 1;
	fx_start(&f, &o);
	wait_idle(&f, 1);
	cr_assert_eq(post_hook(&f, &h, SIG_NONE, body, &resp), 202, "%s", resp);
	free(resp);
	wait_idle(&f, 2);
	free(body);
	fx_stop(&f);
}

Test(serve, listen_addresses)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	struct serve *s = NULL, *s2 = NULL;
	struct pacer_error *err = NULL;
	struct counter c = {.sleep_ms = 0};
	static const char *const bad[] = {
	    "8090", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "[::1]8090",
	    "[::1", ":8090",     "::1:8090",   "127.0.0.1:80x"};
	char addr[64];

	o.secret = SECRET;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.listen = bad[i];
		cr_assert_eq(serve_new(&s, &o, counting_sync, &c, &err), PACER_EINVALID, "%s",
		             bad[i]);
		cr_assert_not_null(strstr(err->message, bad[i]), "%s", err->message);
		pacer_error_clear(&err);
	}
	o.listen = "0.0.0.0:0";
	cr_assert_eq(serve_new(&s, &o, counting_sync, &c, &err), 0, "%s", err ? err->message : "");
	/* The same port again: in use, a clear error. */
	snprintf(addr, sizeof(addr), "0.0.0.0:%d", serve_port(s));
	o.listen = addr;
	cr_assert_eq(serve_new(&s2, &o, counting_sync, &c, &err), PACER_EIO);
	cr_assert_not_null(strstr(err->message, addr), "%s", err->message);
	pacer_error_clear(&err);
	serve_free(s);
}

Test(serve, ipv6_serves)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	struct pacer_error *err = NULL;
	struct serve *probe = NULL;
	char url[64], *resp = NULL;
	int status = 0;

	o.secret = SECRET;
	o.listen = "[::1]:0";
	if (access("/proc/net/if_inet6", F_OK) != 0 ||
	    serve_new(&probe, &o, counting_sync, NULL, &err) != 0) {
		cr_log_warn("skipping: no IPv6 loopback (%s)", err ? err->message : "");
		pacer_error_free(err);
		return;
	}
	serve_free(probe);
	fx_start(&f, &o);
	snprintf(url, sizeof(url), "http://[::1]:%d/healthz", serve_port(f.s));
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_eq(status, 200);
	free(resp);
	fx_stop(&f);
}

/* Stop while a sync runs: serve_run returns once the sync returned, not before. */
Test(serve, stop_waits_for_running_sync)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	long long t0;

	o.secret = SECRET;
	fx_new(&f, &o);
	f.c.sleep_ms = 300;
	fx_run(&f);
	while (calls(&f) == 0)
		sleep_ms(5);
	t0 = now_ms();
	f.stop = 1;
	pthread_join(f.th, NULL);
	f.started = 0;
	cr_assert_eq(f.run_rc, 0);
	pthread_mutex_lock(&f.c.mu);
	cr_assert_eq(f.c.active, 0, "serve_run returned while a sync was running");
	pthread_mutex_unlock(&f.c.mu);
	cr_assert_lt(now_ms() - t0, 2000);
	fx_stop(&f);
}

Test(serve, secret_from_env)
{
	char *dir = test_tmpdir("pacer-serve-secret"), path[512], *s = NULL;
	struct pacer_error *err = NULL;

	unsetenv("PACER_WEBHOOK_SECRET");
	unsetenv("PACER_WEBHOOK_SECRET_FILE");
	cr_assert_eq(serve_secret_from_env(&s, &err), 0);
	cr_assert_null(s);

	setenv("PACER_WEBHOOK_SECRET", "from-env-123", 1);
	cr_assert_eq(serve_secret_from_env(&s, &err), 0);
	cr_assert_str_eq(s, "from-env-123");
	free(s);
	s = NULL;
	{
		char *red = pacer_log_redact("token from-env-123 here");

		cr_assert_str_eq(red, "token *** here");
		free(red);
	}

	snprintf(path, sizeof(path), "%s/secret", dir);
	cr_assert_eq(test_write_file(path, "from-file-456\n"), 0);
	setenv("PACER_WEBHOOK_SECRET_FILE", path, 1);
	cr_assert_eq(serve_secret_from_env(&s, &err), PACER_EINVALID); /* both set */
	cr_assert_not_null(strstr(err->message, "only one"), "%s", err->message);
	pacer_error_clear(&err);

	unsetenv("PACER_WEBHOOK_SECRET");
	cr_assert_eq(serve_secret_from_env(&s, &err), 0, "%s", err ? err->message : "");
	cr_assert_str_eq(s, "from-file-456");
	free(s);
	s = NULL;

	cr_assert_eq(test_write_file(path, "\n"), 0);
	cr_assert_eq(serve_secret_from_env(&s, &err), PACER_EINVALID);
	cr_assert_not_null(strstr(err->message, path), "%s", err->message);
	pacer_error_clear(&err);

	snprintf(path, sizeof(path), "%s/missing", dir);
	setenv("PACER_WEBHOOK_SECRET_FILE", path, 1);
	cr_assert_eq(serve_secret_from_env(&s, &err), PACER_EIO);
	cr_assert_not_null(strstr(err->message, path), "%s", err->message);
	pacer_error_clear(&err);
	unsetenv("PACER_WEBHOOK_SECRET_FILE");
	test_rmrf(dir);
	free(dir);
}

/* The log names events but never the secret or a signature. */
Test(serve, log_has_no_secrets)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	static const struct hook gl = {"gitlab", "gitlab_push.json", "X-Gitlab-Event: Push Hook"};
	static const struct hook gh = {"github", "github_push.json", "X-GitHub-Event: push"};
	char *dir = test_tmpdir("pacer-serve-log"), path[512], hex[65], *log, *resp = NULL;
	char *glbody = payload(gl.file), *ghbody = payload(gh.file);
	int saved, fd;

	snprintf(path, sizeof(path), "%s/log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	pacer_log_set_level(PACER_LOG_DEBUG);

	o.secret = SECRET;
	fx_start(&f, &o);
	wait_idle(&f, 1);
	cr_assert_eq(post_hook(&f, &gl, SIG_GOOD, glbody, &resp), 202);
	free(resp);
	cr_assert_eq(post_hook(&f, &gl, SIG_BAD, glbody, &resp), 401);
	free(resp);
	cr_assert_eq(post_hook(&f, &gh, SIG_BAD, ghbody, &resp), 401);
	free(resp);
	wait_idle(&f, 2);
	fx_stop(&f);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log = test_read_file(path, NULL);
	cr_assert_not_null(log);
	cr_assert_not_null(strstr(log, "provider=gitlab"), "%s", log);
	cr_assert_not_null(strstr(log, "X-Hub-Signature-256 does not match"), "%s", log);
	cr_assert_null(strstr(log, SECRET), "secret in log:\n%s", log);
	cr_assert_null(strstr(log, "wrong-secret"), "GitLab token in log:\n%s", log);
	hmac_hex("wrong-secret", ghbody, hex);
	cr_assert_null(strstr(log, hex), "signature in log:\n%s", log);
	free(log);
	free(glbody);
	free(ghbody);
	test_rmrf(dir);
	free(dir);
}

/* One delivery id per provider, with the header its git host sends it in. */
struct replay_case {
	struct hook h;
	char id_header[64];
};

static const struct replay_case replay_cases[] = {
    {{"github", "github_push.json", "X-GitHub-Event: push"}, "X-GitHub-Delivery"},
    {{"gitlab", "gitlab_push.json", "X-Gitlab-Event: Push Hook"}, "Idempotency-Key"},
    {{"gitlab", "gitlab_push.json", "X-Gitlab-Event: Push Hook"}, "X-Gitlab-Event-UUID"},
    {{"gitea", "gitea_push.json", "X-Gitea-Event: push"}, "X-Gitea-Delivery"},
    {{"generic", "generic.json", ""}, "X-Pacer-Delivery"},
};

ParameterizedTestParameters(serve, replay)
{
	return cr_make_param_array(struct replay_case, replay_cases,
	                           sizeof(replay_cases) / sizeof(replay_cases[0]));
}

/* POST rc's payload with delivery id `id`; the answer must be `want` with `needle`. */
static void post_delivery(struct fixture *f, const struct replay_case *rc, enum sig sig,
                          const char *id, int want, const char *needle)
{
	char line[160], *body = payload(rc->h.file), *resp = NULL;
	int status;

	snprintf(line, sizeof(line), "%s: %s", rc->id_header, id);
	status = post_hook_with(f, &rc->h, sig, body, line, &resp);
	cr_assert_eq(status, want, "%s %s: %d %s", rc->id_header, id, status, resp);
	cr_assert_not_null(strstr(resp, needle), "%s", resp);
	free(resp);
	free(body);
}

/*
 * A signed delivery sent again is answered 202 "duplicate" and syncs
 * nothing; another id syncs; a forged request cannot use up an id that a
 * real delivery will bring later.
 */
ParameterizedTest(const struct replay_case *rc, serve, replay)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	char url[128], *resp = NULL;
	int status = 0;

	o.secret = SECRET;
	o.branch = "main";
	fx_start(&f, &o);
	wait_idle(&f, 1);

	post_delivery(&f, rc, SIG_GOOD, "d-0001", 202, "\"queued\"");
	wait_idle(&f, 2);
	post_delivery(&f, rc, SIG_GOOD, "d-0001", 202, "\"duplicate\"");
	post_delivery(&f, rc, SIG_GOOD, "d-0001", 202, "\"d-0001\"");
	sleep_ms(150);
	cr_assert_eq(calls(&f), 2, "a replayed delivery synced again");
	/* Forged first: 401, and the id stays unused for the real one. */
	post_delivery(&f, rc, SIG_BAD, "d-0002", 401, "unauthorized");
	post_delivery(&f, rc, SIG_GOOD, "d-0002", 202, "\"queued\"");
	wait_idle(&f, 3);
	cr_assert_eq(calls(&f), 3);

	snprintf(url, sizeof(url), "%s/metrics", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_not_null(strstr(resp, "result=\"duplicate\"} 2\n"), "%s", resp);
	free(resp);
	fx_stop(&f);
}

/* Without tokens the API is not there, and a caller is not told how to turn it on. */
Test(serve, api_off_names_no_setting)
{
	struct serve_options o = SERVE_OPTIONS_INIT;
	static struct fixture f; /* static: outlives a failed assertion (see fx_fini) */
	char url[128], *resp = NULL;
	int status = 0;

	o.secret = SECRET;
	fx_start(&f, &o);
	snprintf(url, sizeof(url), "%s/api/v1/apps", f.base);
	cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &resp), 0);
	cr_assert_eq(status, 404, "%d %s", status, resp);
	cr_assert_null(strstr(resp, "PACER_"), "%s", resp);
	cr_assert_null(strstr(resp, "--tokens"), "%s", resp);
	cr_assert_null(strstr(resp, "credential"), "%s", resp);
	free(resp);
	fx_stop(&f);
}
