/*
 * pacer serve end to end: a real pacer process on an ephemeral port, a real
 * marathon-sim, a temp git repository, and real signed GitHub push
 * webhooks (HMAC-SHA256 computed here with OpenSSL).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/watchtest.h"

#define SECRET "hook-secret-4711"

static struct wt w; /* static: the .fini may run after the test frame is gone */

static void fini(void)
{
	wt_fini(&w);
}

static void expect_log(const char *needle, int n, int timeout_ms)
{
	lr_expect_log(&w.p, "pacer serve", needle, n, timeout_ms);
}

/* The port from "serve: listening on ... (port N)". */
static int server_port(void)
{
	int port;

	expect_log("(port ", 1, 15000);
	port = lr_port(&w.p);
	cr_assert(port > 0, "no port in the log");
	return port;
}

/* GitHub's push event for `sha` on main, signed with key (NULL = unsigned). */
static int post_push(int port, const char *sha, const char *key, char **resp)
{
	char *body = NULL, *url = NULL, sig[80] = "sha256=", hdr[128];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *headers[4] = {"Content-Type: application/json", "X-GitHub-Event: push", NULL,
	                          NULL};
	int status = 0;

	cr_assert(
	    asprintf(&body,
	             "{\"ref\":\"refs/heads/main\",\"before\":\"%040d\",\"after\":\"%s\","
	             "\"repository\":{\"full_name\":\"team/apps\",\"default_branch\":\"main\"},"
	             "\"head_commit\":{\"id\":\"%s\"}}",
	             0, sha, sha) >= 0);
	if (key) {
		cr_assert(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
		               strlen(body), md, &mdlen));
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(sig + 7 + 2 * i, 3, "%02x", md[i]);
		snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: %s", sig);
		headers[2] = hdr;
	}
	cr_assert(asprintf(&url, "http://127.0.0.1:%d/hooks/github", port) >= 0);
	test_http("POST", url, body, headers, &status, resp);
	free(body);
	free(url);
	return status;
}

/* GET /status must answer 200 and name commit as the last sync's. */
static void expect_status_commit(int port, const char *commit)
{
	char *url = NULL, *resp = NULL;
	struct json_object *st, *commit_of_last;
	int status = 0;

	cr_assert(asprintf(&url, "http://127.0.0.1:%d/status", port) >= 0);
	test_http("GET", url, NULL, NULL, &status, &resp);
	cr_assert_eq(status, 200);
	st = resp ? json_tokener_parse(resp) : NULL;
	commit_of_last = test_json_get(st, "last_sync.commit");
	cr_assert_str_eq(commit_of_last ? json_object_get_string(commit_of_last) : "(none)",
	                 commit);
	json_object_put(st);
	free(url);
	free(resp);
}

/* pacer serve on an ephemeral port over url, signed with SECRET, log in w.t.dir/serve.log. */
static void start_server(const char *url, const char *timeout)
{
	const char *env[] = {"PACER_WEBHOOK_SECRET=" SECRET, NULL};
	const char *extra[] = {"--listen",  "127.0.0.1:0", "--interval",  "0",    "--ref", "main",
	                       "--timeout", timeout,       "--log-level", "info", NULL};

	wt_start_cmd(&w, "serve", url, env, extra);
}

Test(serve_cli, refuses_to_start_without_a_secret, .timeout = 30, .fini = fini)
{
	char *out = NULL, *err = NULL;
	const char *argv[] = {
	    test_pacer_bin(), "serve",       "--source", "file:///nonexistent/x.git",
	    "--listen",       "127.0.0.1:0", NULL};
	const char *env[] = {"PACER_WEBHOOK_SECRET=", NULL};
	int rc = test_run(argv, NULL, &out, &err, 20);

	cr_assert_eq(rc, 64, "pacer serve without a secret exited %d:\n%s", rc, err);
	cr_assert(strstr(err, "PACER_WEBHOOK_SECRET"), "the message must name the variable: %s",
	          err);
	free(out);
	free(err);
	/* An empty secret is refused too. */
	rc = test_run(argv, env, &out, &err, 20);
	cr_assert_neq(rc, 0, "an empty secret was accepted");
	free(out);
	free(err);
}

Test(serve_cli, signed_push_syncs_the_new_commit, .timeout = 90, .fini = fini)
{
	char *work = NULL, *url = NULL, *c1, *c2, *resp = NULL, line[160];
	int port, status, syncs, rc;

	ct_setup(&w.t, NULL);
	url = lr_git_remote(w.t.dir, &work);
	wt_write_app(work, "web.json", "/web", 32);
	c1 = lr_git_commit(work, "first");
	start_server(url, "600");
	port = server_port();
	snprintf(line, sizeof(line), "serve: sync=1 finished result=converged commit=%s", c1);
	expect_log(line, 1, 20000);
	cr_assert_eq(wt_sim_mem(&w, "/web"), 32);
	expect_status_commit(port, c1);

	wt_write_app(work, "web.json", "/web", 96);
	c2 = lr_git_commit(work, "second");

	/* A wrong signature: 401 and nothing synced. */
	status = post_push(port, c2, "not-the-secret", NULL);
	cr_assert_eq(status, 401);
	status = post_push(port, c2, NULL, NULL);
	cr_assert_eq(status, 401, "an unsigned hook was accepted");
	lr_sleep_ms(1000);
	syncs = lr_count(&w.p, "sync start reason=");
	cr_assert_eq(syncs, 1, "a rejected hook triggered a sync");
	cr_assert_eq(wt_sim_mem(&w, "/web"), 32);

	/* The real thing. */
	status = post_push(port, c2, SECRET, &resp);
	cr_assert_eq(status, 202, "signed push answered %d: %s", status, resp);
	cr_assert(strstr(resp, "queued"), "%s", resp);
	snprintf(line, sizeof(line), "finished result=converged commit=%s", c2);
	expect_log(line, 1, 20000);
	cr_assert_eq(wt_sim_mem(&w, "/web"), 96);
	expect_status_commit(port, c2);

	{
		char *murl = NULL, *metrics = NULL;

		cr_assert(asprintf(&murl, "http://127.0.0.1:%d/metrics", port) >= 0);
		test_http("GET", murl, NULL, NULL, &status, &metrics);
		cr_assert_eq(status, 200);
		cr_assert(metrics && strstr(metrics, "pacer_syncs_total{result=\"converged\"} 2"),
		          "metrics: %s", metrics ? metrics : "(none)");
		free(murl);
		free(metrics);
	}

	cr_assert_eq(lr_count(&w.p, SECRET), 0, "the webhook secret appeared in the log");
	rc = lr_stop(&w.p, SIGTERM, 10000);
	cr_assert_eq(rc, 0, "pacer serve exited %d on SIGTERM", rc);
	free(resp);
	free(c1);
	free(c2);
	free(url);
	free(work);
	ct_teardown(&w.t);
}

/*
 * Newest commit wins: commit 2 never gets healthy (its sync would wait
 * 120 s for it); the push of commit 3, which fixes it, ends that wait at
 * once (no rollback) and commit 3 is applied.
 */
Test(serve_cli, a_push_supersedes_a_stuck_sync, .timeout = 90, .fini = fini)
{
	char *work = NULL, *url = NULL, *c1, *c2, *c3, line[160];
	long long t0;
	int port, status;

	ct_setup(&w.t, NULL);
	url = lr_git_remote(w.t.dir, &work);
	wt_write_checked_app(work, "web.json", "/web", 32, 0);
	c1 = lr_git_commit(work, "first");
	start_server(url, "120");
	port = server_port();
	snprintf(line, sizeof(line), "serve: sync=1 finished result=converged commit=%s", c1);
	expect_log(line, 1, 20000);

	wt_write_checked_app(work, "web.json", "/web", 48, 1);
	c2 = lr_git_commit(work, "stuck");
	cr_assert_eq(post_push(port, c2, SECRET, NULL), 202);
	expect_log("serve: sync=2 started", 1, 10000);
	lr_sleep_ms(1500); /* sync 2 is now waiting for a deployment that never ends */
	cr_assert_eq(lr_count(&w.p, "serve: sync=2 finished"), 0);

	wt_write_checked_app(work, "web.json", "/web", 96, 0);
	c3 = lr_git_commit(work, "fix");
	t0 = lr_now_ms();
	status = post_push(port, c3, SECRET, NULL);
	cr_assert_eq(status, 202);
	expect_log("serve: sync=2 finished result=abandoned", 1, 10000);
	snprintf(line, sizeof(line), "serve: sync=3 finished result=converged commit=%s", c3);
	expect_log(line, 1, 20000);
	cr_assert_lt(lr_now_ms() - t0, 20000, "the newer commit waited for the stuck one");
	if (wt_sim_mem(&w, "/web") != 96 || lr_count(&w.p, "event=rollback") != 0)
		lr_dump(&w.p, "pacer serve");
	cr_assert_eq(wt_sim_mem(&w, "/web"), 96);
	cr_assert_eq(lr_count(&w.p, "event=rollback"), 0, "the stuck commit was rolled back");
	cr_assert_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	free(c1);
	free(c2);
	free(c3);
	free(url);
	free(work);
	ct_teardown(&w.t);
}

/*
 * --request-timeout and --rate-limit reach the server: a client trickling
 * its request head is disconnected at the deadline, and unsigned hooks
 * beyond the rate get 429 with Retry-After.
 */
Test(serve_cli, request_deadline_and_rate_limit_flags, .timeout = 60, .fini = fini)
{
	const char *env[] = {"PACER_WEBHOOK_SECRET=" SECRET, NULL};
	const char *extra[] = {
	    "--listen",          "127.0.0.1:0", "--interval",   "0", "--ref", "main",
	    "--request-timeout", "1",           "--rate-limit", "1", NULL};
	struct sockaddr_in to = {.sin_family = AF_INET};
	char *work = NULL, *url = NULL, *resp = NULL;
	long long t0, closed_after = -1;
	int port, fd, limited = 0;

	ct_setup(&w.t, NULL);
	url = lr_git_remote(w.t.dir, &work);
	wt_write_app(work, "web.json", "/web", 32);
	free(lr_git_commit(work, "first"));
	wt_start_cmd(&w, "serve", url, env, extra);
	port = server_port();

	fd = socket(AF_INET, SOCK_STREAM, 0);
	to.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	t0 = lr_now_ms();
	while (closed_after < 0 && lr_now_ms() - t0 < 5000) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (send(fd, "X", 1, MSG_NOSIGNAL) != 1 || poll(&p, 1, 250) > 0)
			closed_after = lr_now_ms() - t0;
	}
	close(fd);
	cr_assert(closed_after >= 900 && closed_after < 3000,
	          "a trickling client was cut after %lld ms, not at the 1 s deadline",
	          closed_after);

	/* Unsigned hooks count against the rate (1/s, bursts of 2). */
	for (int i = 0; i < 6; i++) {
		int st = post_push(port, "0123456789abcdef0123456789abcdef01234567", NULL, &resp);

		cr_assert(st == 401 || st == 429, "%d %s", st, resp);
		limited += st == 429;
		free(resp);
		resp = NULL;
	}
	cr_assert_geq(limited, 3, "only %d of 6 hooks over a burst of 2 were refused", limited);
	free(work);
	free(url);
}
