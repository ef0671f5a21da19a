/*
 * marathon-sim as a Marathon standby (cmd/marathon-sim/standby.c, SPEC.md
 * §1.4): by default it proxies every REST request to the leader and
 * redirects only the event stream (302); --standby-mode redirect (or
 * MARATHON_SIM_STANDBY_MODE=redirect) answers 307 for every path instead.
 */
#include "tests/sim/simtest.h"

TestSuite(standby, .fini = st_cleanup);

/* Start a leader, and a standby of it with extra flags (may be NULL). */
static void start_pair(struct test_sim *leader, struct test_sim *standby, const char *const *extra)
{
	const char *args[8] = {"--standby-of", NULL};
	size_t n = 2;

	st_sim_start(leader, NULL);
	args[1] = leader->url;
	for (size_t i = 0; extra && extra[i] && n < 7; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	st_sim_start(standby, args);
}

/* The newest request the leader logged for method and path (a new reference), or NULL. */
static struct json_object *leader_saw(struct test_sim *leader, const char *method, const char *path)
{
	struct st_resp r = st_req(leader, "GET", "/_sim/requests", NULL);
	struct json_object *reqs = test_json_get(r.json, "requests"), *found = NULL;

	for (size_t i = 0; reqs && i < json_object_array_length(reqs); i++) {
		struct json_object *q = json_object_array_get_idx(reqs, i);
		if (!strcmp(st_str_or_empty(q, "method"), method) && !strcmp(st_str_or_empty(q, "path"), path))
			found = q;
	}
	json_object_get(found);
	st_free(&r);
	return found;
}

Test(standby, spec_1_4_a_standby_proxies_rest_requests_to_the_leader)
{
	struct test_sim leader, standby;
	struct st_resp r;
	struct json_object *seen;
	char hdr[256], want[256];

	start_pair(&leader, &standby, NULL);
	r = st_req(&standby, "PUT", "/v2/apps/px?force=true", "{\"cmd\":\"xx\",\"instances\":1}");
	cr_assert_eq(r.status, 201, "the leader's status: %s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"), "the leader's body: %s", r.body);
	cr_assert(st_header(&r, "Marathon-Deployment-Id", hdr, sizeof(hdr)), "the leader's headers: %s", r.headers);
	cr_assert_str_eq(hdr, st_str(r.json, "deploymentId"));
	cr_assert(st_header(&r, "Location", hdr, sizeof(hdr)));
	cr_assert(st_header(&r, "X-Marathon-Leader", hdr, sizeof(hdr)));
	cr_assert_str_eq(hdr, leader.url);
	cr_assert(st_header(&r, "X-Marathon-Via", hdr, sizeof(hdr)), "%s", r.headers);
	snprintf(want, sizeof(want), "1.1 127.0.0.1:%d", standby.port);
	cr_assert_str_eq(hdr, want);
	st_free(&r);

	seen = leader_saw(&leader, "PUT", "/v2/apps/px");
	cr_assert_not_null(seen, "the leader got the PUT");
	cr_assert_str_eq(st_str_or_empty(seen, "query"), "force=true");
	cr_assert_str_eq(st_str_or_empty(seen, "headers.x-marathon-via"), want);
	cr_assert_str_eq(st_str_or_empty(seen, "headers.x-forwarded-for"), "127.0.0.1");
	cr_assert_str_eq(st_str_or_empty(seen, "headers.content-type"), "application/json");
	json_object_put(seen);
	test_sim_expect(&leader, "GET", "/v2/apps/px", NULL, 200, NULL, "the body reached the leader");

	/* Every path, errors included, answered by the leader. */
	test_sim_expect(&standby, "GET", "/v2/apps/nope", NULL, 404, "{\"message\":\"App '/nope' does not exist\"}", NULL);
	test_sim_expect(&standby, "GET", "/ping", NULL, 200, "pong", NULL);
	r = st_req(&standby, "GET", "/v2/info", NULL);
	cr_assert_eq(st_int(r.json, "http_config.http_port"), leader.port, "%s", r.body);
	st_free(&r);
	test_sim_expect(&standby, "DELETE", "/v2/apps/px", NULL, 200, NULL, NULL);
	test_sim_expect(&leader, "GET", "/v2/apps/px", NULL, 404, NULL, NULL);
	st_sim_stop(&standby);
	st_sim_stop(&leader);
}

Test(standby, spec_1_4_the_event_stream_is_redirected_with_302)
{
	struct test_sim leader, standby;
	struct st_resp r;
	char url[256], hdr[256], want[256];
	const char *accept[] = {"Accept: text/event-stream", NULL};

	start_pair(&leader, &standby, NULL);
	snprintf(url, sizeof(url), "%s/v2/events?event_type=deployment_success", standby.url);
	r = st_http("GET", url, NULL, accept);
	cr_assert_eq(r.status, 302, "%s", r.body);
	cr_assert(st_header(&r, "Location", hdr, sizeof(hdr)));
	snprintf(want, sizeof(want), "%s/v2/events?event_type=deployment_success", leader.url);
	cr_assert_str_eq(hdr, want);
	st_free(&r);
	st_sim_stop(&standby);
	st_sim_stop(&leader);
}

Test(standby, spec_1_4_loops_and_an_unreachable_leader_are_502)
{
	struct test_sim leader, standby;
	struct st_resp r;
	char url[256], via[128];
	const char *hdrs[] = {via, NULL};

	start_pair(&leader, &standby, NULL);
	snprintf(url, sizeof(url), "%s/v2/apps", standby.url);
	snprintf(via, sizeof(via), "X-Marathon-Via: 1.1 10.0.0.9:8080, 1.1 127.0.0.1:%d", standby.port);
	r = st_http("GET", url, NULL, hdrs);
	cr_assert_eq(r.status, 502);
	cr_assert_str_eq(st_str_or_empty(r.json, "message"), "Detected proxying loop.");
	st_free(&r);
	st_sim_stop(&leader);
	test_sim_expect(&standby, "GET", "/v2/apps", NULL, 502, "{\"message\":\"Connection to leader refused.\"}", NULL);
	st_sim_stop(&standby);
}

Test(standby, a_standby_checks_credentials_and_passes_them_on)
{
	struct test_sim leader, standby;
	char *dir = test_tmpdir("simstandby"), path[512], url[256];
	const char *leader_args[] = {"--http-credentials-file", path, NULL};
	const char *standby_args[] = {"--standby-of", NULL, "--http-credentials-file", path, NULL};
	const char *good[] = {"Authorization: Basic dXNlcjpwYXNz", NULL}; /* user:pass */
	struct st_resp r;

	snprintf(path, sizeof(path), "%s/creds", dir);
	cr_assert_eq(test_write_file(path, "user:pass\n"), 0);
	st_sim_start(&leader, leader_args);
	standby_args[1] = leader.url;
	st_sim_start(&standby, standby_args);
	test_sim_expect(&standby, "GET", "/v2/apps", NULL, 401, NULL, "the standby asks for credentials itself");
	snprintf(url, sizeof(url), "%s/v2/apps", standby.url);
	r = st_http("GET", url, NULL, good);
	cr_assert_eq(r.status, 200, "and the leader accepts them: %s", r.body);
	st_free(&r);
	st_sim_stop(&standby);
	st_sim_stop(&leader);
	test_rmrf(dir);
	free(dir);
}

/* A standby in redirect mode: 307 to the same URI on the leader, whatever the path. */
static void expect_redirects(struct test_sim *leader, struct test_sim *standby)
{
	static const char *const paths[] = {"/v2/apps?embed=apps.tasks", "/ping", "/v2/events"};
	char hdr[256], want[256];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct st_resp r = st_req(standby, "GET", paths[i], NULL);
		cr_assert_eq(r.status, 307, "%s: %d", paths[i], r.status);
		cr_assert(st_header(&r, "Location", hdr, sizeof(hdr)));
		snprintf(want, sizeof(want), "%s%s", leader->url, paths[i]);
		cr_assert_str_eq(hdr, want);
		st_free(&r);
	}
}

Test(standby, redirect_mode_answers_307_for_every_path)
{
	struct test_sim leader, standby;
	const char *mode[] = {"--standby-mode", "redirect", NULL};

	start_pair(&leader, &standby, mode);
	expect_redirects(&leader, &standby);
	st_sim_stop(&standby);
	st_sim_stop(&leader);
	/* The older flag name and the environment do the same. */
	cr_assert_eq(setenv("MARATHON_SIM_STANDBY_MODE", "redirect", 1), 0);
	{
		const char *args[] = {"--standby-redirect", NULL, NULL};
		st_sim_start(&leader, NULL);
		args[1] = leader.url;
		st_sim_start(&standby, args);
	}
	unsetenv("MARATHON_SIM_STANDBY_MODE");
	expect_redirects(&leader, &standby);
	st_sim_stop(&standby);
	st_sim_stop(&leader);
}

Test(standby, a_bad_mode_or_url_is_refused_at_start)
{
	const char *mode[] = {test_sim_bin(), "--listen", "127.0.0.1:0", "--standby-of", "http://127.0.0.1:1", "--standby-mode",
			      "sometimes", NULL};
	const char *url[] = {test_sim_bin(), "--listen", "127.0.0.1:0", "--standby-of", "127.0.0.1:8080", NULL};
	char *err = NULL;

	cr_assert_eq(test_run(mode, NULL, NULL, &err, 10), 1);
	cr_assert(strstr(err, "--standby-mode"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(test_run(url, NULL, NULL, &err, 10), 1);
	cr_assert(strstr(err, "--standby-of"), "%s", err);
	free(err);
}
