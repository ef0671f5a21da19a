/*
 * marathon-sim: its own control API (/_sim/ faults, request log, reset,
 * behaviour), auth, --load, the framework id, groups, /v2/info, /v2/leader,
 * /ping, and the 10,000-app scale requirement. Standbys: test_standby.c.
 */
#include "tests/sim/simtest.h"

#include <sys/time.h>


TestSuite(control, .fini = st_cleanup);

Test(control, faults_answer_status_count_times_then_stop)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	r = st_req(&sim, "POST", "/_sim/faults", "{\"status\":503,\"count\":2,\"path\":\"/v2/apps\",\"method\":\"GET\"}");
	cr_assert_eq(r.status, 201);
	cr_assert_eq(st_int(r.json, "id"), 1);
	st_free(&r);
	test_sim_expect(&sim, "POST", "/v2/apps", "{\"id\":\"x\",\"cmd\":\"yy\"}", 201, NULL,
	                "method did not match");
	test_sim_expect(&sim, "GET", "/v2/info", NULL, 200, NULL, "path did not match");
	for (int i = 0; i < 2; i++) {
		test_sim_expect(&sim, "GET", "/v2/apps/x", NULL, 503, "{\"message\":\"injected\"}",
		                NULL);
	}
	test_sim_expect(&sim, "GET", "/v2/apps/x", NULL, 200, NULL, "count 2 means two requests");
	test_sim_request(
	    &sim, "POST", "/_sim/faults",
	    "{\"status\":500,\"count\":-1,\"body\":\"{\\\"message\\\":\\\"boom\\\"}\"}", NULL);
	for (int i = 0; i < 3; i++) {
		test_sim_expect(&sim, "GET", "/ping", NULL, 500, "{\"message\":\"boom\"}", NULL);
	}
	test_sim_request(&sim, "DELETE", "/_sim/faults", NULL, NULL);
	test_sim_expect(&sim, "GET", "/ping", NULL, 200, "pong", NULL);
	st_sim_stop(&sim);
}

Test(control, latency_and_drop)
{
	struct test_sim sim;
	struct st_resp r;
	struct timeval a, b;
	long ms;

	st_sim_start(&sim, NULL);
	test_sim_request(&sim, "POST", "/_sim/faults",
	                 "{\"latency_ms\":300,\"count\":1,\"path\":\"/v2/info\"}", NULL);
	gettimeofday(&a, NULL);
	r = st_req(&sim, "GET", "/v2/info", NULL);
	gettimeofday(&b, NULL);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_usec - a.tv_usec) / 1000;
	cr_assert_eq(r.status, 200, "latency alone delays, then answers normally");
	cr_assert_geq(ms, 280, "took %ld ms", ms);
	st_free(&r);
	test_sim_request(&sim, "POST", "/_sim/faults",
	                 "{\"drop\":true,\"count\":1,\"path\":\"/v2/leader\"}", NULL);
	test_sim_expect(&sim, "GET", "/v2/leader", NULL, 0, NULL, "the connection was dropped");
	r = st_req(&sim, "GET", "/v2/leader", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(st_str(r.json, "leader"));
	st_free(&r);
	st_sim_stop(&sim);
}

Test(control, request_log_and_reset)
{
	struct test_sim sim;
	struct st_resp r;
	char url[256];
	const char *h[] = {"Authorization: token=abc", "Content-Type: application/json", NULL};

	st_sim_start(&sim, NULL);
	snprintf(url, sizeof(url), "%s/v2/apps?embed=apps.tasks", sim.url);
	r = st_http("GET", url, NULL, h);
	st_free(&r);
	test_sim_request(&sim, "PUT", "/v2/apps/logged", "{\"cmd\":\"xx\"}", NULL);
	r = st_req(&sim, "GET", "/_sim/requests", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "requests")), 2, "/_sim/ calls are not logged: %s", r.body);
	cr_assert_str_eq(st_str(r.json, "requests.0.method"), "GET");
	cr_assert_str_eq(st_str(r.json, "requests.0.path"), "/v2/apps");
	cr_assert_str_eq(st_str(r.json, "requests.0.query"), "embed=apps.tasks");
	cr_assert_str_eq(st_str(r.json, "requests.0.headers.authorization"), "token=abc");
	cr_assert_str_eq(st_str(r.json, "requests.1.headers.content-type"), "application/json");
	st_free(&r);
	test_sim_request(&sim, "DELETE", "/_sim/requests", NULL, NULL);
	r = st_req(&sim, "GET", "/_sim/requests", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "requests")), 0);
	st_free(&r);
	test_sim_expect(&sim, "POST", "/_sim/reset", NULL, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/apps", NULL);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 0, "reset forgets apps");
	st_free(&r);
	st_sim_stop(&sim);
}

Test(control, behavior_override_turns_a_running_app_unhealthy)
{
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, NULL);
	test_sim_request(
	    &sim, "PUT", "/v2/apps/drift",
	    /* maxConsecutiveFailures 0: not killed, so they stay running and unhealthy */
	    "{\"cmd\":\"xx\",\"instances\":2,\"healthChecks\":[{\"protocol\":\"HTTP\",\"maxConsecutiveFailures\":0}]}",
	    NULL);
	cr_assert(st_wait_idle(&sim, 5000));
	test_sim_expect(&sim, "POST", "/_sim/apps/drift/behavior", "{\"behavior\":\"unhealthy\"}",
	                200, NULL, NULL);
	st_sleep_ms(100);
	r = st_req(&sim, "GET", "/v2/apps/drift", NULL);
	cr_assert_eq(st_int(r.json, "app.tasksUnhealthy"), 2, "%s", r.body);
	cr_assert_eq(st_ndeploys(&sim), 0, "no deployment was made");
	st_free(&r);
	test_sim_expect(&sim, "POST", "/_sim/apps/none/behavior", "{\"behavior\":\"crash\"}", 404,
	                NULL, NULL);
	st_sim_stop(&sim);
}

/* Start sim with `flag FILE`, FILE holding content; returns its temp dir (remove, free). */
static char *start_with_secret_file(struct test_sim *sim, const char *flag, const char *content)
{
	char *dir = test_tmpdir("simsecret"), path[512];
	const char *args[] = {flag, path, NULL};

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/secret", dir);
	cr_assert_eq(test_write_file(path, content), 0, "cannot write %s", path);
	st_sim_start(sim, args);
	return dir;
}

/* GET url with headers (may be NULL) answers want. */
static void expect_get(const char *url, const char *const *headers, int want)
{
	struct st_resp r = st_http("GET", url, NULL, headers);

	cr_assert_eq(r.status, want, "GET %s answered %d, want %d: %s", url, r.status, want,
	             r.body);
	st_free(&r);
}

Test(control, basic_auth)
{
	struct test_sim sim;
	struct st_resp r;
	char url[256], hdr[128];
	char *dir = start_with_secret_file(&sim, "--http-credentials-file", "user:pass\n");
	const char *good[] = {"Authorization: Basic dXNlcjpwYXNz", NULL}; /* user:pass */
	const char *bad[] = {"Authorization: Basic dXNlcjp3cm9uZw==", NULL};

	snprintf(url, sizeof(url), "%s/ping", sim.url);
	r = st_http("GET", url, NULL, NULL);
	cr_assert_eq(r.status, 401);
	cr_assert(st_header(&r, "WWW-Authenticate", hdr, sizeof(hdr)));
	cr_assert_str_eq(hdr, "basic realm=\"Mesosphere\"");
	st_free(&r);
	expect_get(url, bad, 401);
	expect_get(url, good, 200);
	st_sim_stop(&sim);
	test_rmrf(dir);
	free(dir);
}

Test(control, token_auth)
{
	struct test_sim sim;
	char url[256];
	char *dir = start_with_secret_file(&sim, "--token-file", "s3cr3t-token\n");
	const char *good[] = {"Authorization: token=s3cr3t-token", NULL};

	snprintf(url, sizeof(url), "%s/v2/apps", sim.url);
	test_sim_expect(&sim, "GET", "/v2/apps", NULL, 401,
	                "{\"message\":\"Invalid username or password.\"}", NULL);
	expect_get(url, good, 200);
	st_sim_stop(&sim);
	test_rmrf(dir);
	free(dir);
}

Test(control, info_leader_ping_and_groups)
{
	struct test_sim sim;
	struct st_resp r;
	const char *args[] = {"--mesos-role", "slave_public", "--enable-features", "secrets,vips", NULL};

	st_sim_start(&sim, args);
	r = st_req(&sim, "GET", "/v2/info", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(st_str(r.json, "marathon_config.mesos_role"), "slave_public");
	cr_assert_str_eq(st_str(r.json, "marathon_config.features.0"), "secrets");
	cr_assert_not_null(test_json_get(r.json, "zookeeper_config"));
	cr_assert_eq(st_int(r.json, "http_config.http_port"), sim.port);
	st_free(&r);
	r = st_req(&sim, "POST", "/v2/groups",
		   "{\"id\":\"/shop\",\"apps\":[{\"id\":\"web\",\"cmd\":\"aa\"}],\"groups\":[{\"id\":\"back\",\"apps\":[{\"id\":\"db\",\"cmd\":\"bb\"}]}]}");
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"));
	st_free(&r);
	test_sim_expect(
	    &sim, "POST", "/v2/groups", "{\"id\":\"/shop\"}", 409,
	    "{\"message\":\"Group /shop is already created. Use PUT to change this group.\"}",
	    NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/shop/back/db", NULL, 200, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/groups/shop", NULL);
	cr_assert_str_eq(st_str(r.json, "apps.0.id"), "/shop/web");
	cr_assert_str_eq(st_str(r.json, "groups.0.id"), "/shop/back");
	cr_assert_str_eq(st_str(r.json, "groups.0.apps.0.id"), "/shop/back/db");
	st_free(&r);
	/* A PUT listing "apps" removes the apps it no longer lists. */
	test_sim_expect(&sim, "PUT", "/v2/groups/shop?force=true",
	                "{\"apps\":[{\"id\":\"api\",\"cmd\":\"cc\"}]}", 200, NULL, NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/shop/web", NULL, 404, NULL, NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/shop/back/db", NULL, 200, NULL,
	                "groups absent from the body are kept");
	test_sim_expect(&sim, "DELETE", "/v2/groups/shop?force=true", NULL, 200, NULL, NULL);
	test_sim_expect(&sim, "GET", "/v2/groups/shop", NULL, 404,
	                "{\"message\":\"Group '/shop' does not exist\"}", NULL);
	st_sim_stop(&sim);
}

Test(control, load_and_ten_thousand_apps)
{
	struct test_sim sim;
	struct st_resp r;
	char *dir = test_tmpdir("simload"), path[512];
	FILE *f;
	const char *args[] = {"--load", path, NULL};
	struct timeval a, b;
	long ms;

	snprintf(path, sizeof(path), "%s/apps.json", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("{\"apps\":[", f);
	for (int i = 0; i < 10000; i++)
		fprintf(f, "%s{\"id\":\"/team%d/app%d\",\"cmd\":\"sleep 1000\",\"instances\":1,\"labels\":{\"n\":\"%d\"}}",
			i ? "," : "", i % 100, i, i);
	fputs("]}", f);
	cr_assert_eq(fclose(f), 0);
	st_sim_start(&sim, args);
	cr_assert(st_wait_idle(&sim, 60000), "the 10,000 apps deploy");
	r = st_req(&sim, "GET", "/v2/apps", NULL); /* warm the per-app caches */
	st_free(&r);
	{
		/* Time the HTTP exchange only (parsing 10,000 apps in the test is not the server's cost). */
		char url[256], *body = NULL;
		int status = 0;
		snprintf(url, sizeof(url), "%s/v2/apps", sim.url);
		gettimeofday(&a, NULL);
		cr_assert_eq(test_http("GET", url, NULL, NULL, &status, &body), 0);
		gettimeofday(&b, NULL);
		cr_assert_eq(status, 200);
		free(body);
	}
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_usec - a.tv_usec) / 1000;
	r = st_req(&sim, "GET", "/v2/apps", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(json_object_array_length(test_json_get(r.json, "apps")), 10000);
	cr_assert_lt(ms, 1000, "GET /v2/apps of 10,000 apps took %ld ms", ms);
	st_free(&r);
	test_sim_expect(&sim, "GET", "/v2/apps/team7/app107", NULL, 200, NULL, NULL);
	st_sim_stop(&sim);
	test_rmrf(dir);
	free(dir);
}

/* GET /v2/info's frameworkId into out[64] ("" when missing). */
static void framework_id(struct test_sim *sim, char out[64])
{
	struct st_resp r = st_req(sim, "GET", "/v2/info", NULL);

	cr_assert_eq(r.status, 200);
	snprintf(out, 64, "%s", st_str_or_empty(r.json, "frameworkId"));
	st_free(&r);
}

/* Shaped like a Mesos framework id: a UUID, then "-0000". */
static int mesos_shaped(const char *id)
{
	if (strlen(id) != 41 || strcmp(id + 36, "-0000"))
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]))
			return 0;
	}
	return 1;
}

Test(control, spec_5_4_framework_id_is_one_per_simulated_cluster)
{
	struct test_sim a, b;
	char ida[64], idb[64], again[64];

	st_sim_start(&a, NULL);
	st_sim_start(&b, NULL);
	framework_id(&a, ida);
	framework_id(&b, idb);
	cr_assert(mesos_shaped(ida), "'%s' is not <uuid>-0000", ida);
	cr_assert(mesos_shaped(idb), "'%s' is not <uuid>-0000", idb);
	cr_assert_str_neq(ida, idb, "two simulated clusters share a framework id");
	framework_id(&a, again);
	cr_assert_str_eq(ida, again, "the id changes while the cluster lives");
	st_sim_stop(&b);
	st_sim_stop(&a);
}

Test(control, reset_keeps_the_framework_id_unless_asked_for_a_new_one)
{
	struct test_sim sim;
	char before[64], after[64], fresh[64];

	st_sim_start(&sim, NULL);
	framework_id(&sim, before);
	test_sim_request(&sim, "PUT", "/v2/apps/x", "{\"cmd\":\"xx\"}", NULL);
	test_sim_expect(&sim, "POST", "/_sim/reset", NULL, 200, NULL, NULL);
	test_sim_expect(&sim, "POST", "/_sim/reset", "{\"new_framework_id\":false}", 200, NULL, NULL);
	framework_id(&sim, after);
	cr_assert_str_eq(before, after, "a reset is the same cluster, emptied");
	test_sim_request(&sim, "PUT", "/v2/apps/x", "{\"cmd\":\"xx\"}", NULL);
	test_sim_expect(&sim, "POST", "/_sim/reset", "{\"new_framework_id\":true}", 200, NULL, NULL);
	framework_id(&sim, fresh);
	cr_assert(mesos_shaped(fresh), "%s", fresh);
	cr_assert_str_neq(before, fresh, "a wiped Marathon registers under a new id");
	test_sim_expect(&sim, "GET", "/v2/apps/x", NULL, 404, NULL, "and has no apps");
	test_sim_expect(&sim, "POST", "/_sim/reset", "[true]", 422, NULL, NULL);
	test_sim_expect(&sim, "POST", "/_sim/reset", "{oops", 400, NULL, NULL);
	st_sim_stop(&sim);
}

Test(control, framework_id_from_the_flag_or_the_loaded_state)
{
	struct test_sim sim;
	char *dir = test_tmpdir("simfwid"), path[512], id[64];
	const char *flag[] = {"--framework-id", "5a0c2f4e-0f1b-4c52-9d63-1a2b3c4d5e6f-0007", NULL};
	const char *load[] = {"--load", path, NULL};
	const char *both[] = {"--load", path, "--framework-id", "from-the-flag-0001", NULL};

	st_sim_start(&sim, flag);
	framework_id(&sim, id);
	cr_assert_str_eq(id, "5a0c2f4e-0f1b-4c52-9d63-1a2b3c4d5e6f-0007");
	st_sim_stop(&sim);
	/* A loaded state keeps its cluster's id, as a restarted Marathon does. */
	snprintf(path, sizeof(path), "%s/state.json", dir);
	cr_assert_eq(test_write_file(path, "{\"frameworkId\":\"kept-0003\",\"apps\":[{\"id\":\"/a\",\"cmd\":\"xx\"}]}"), 0);
	st_sim_start(&sim, load);
	framework_id(&sim, id);
	cr_assert_str_eq(id, "kept-0003");
	test_sim_expect(&sim, "GET", "/v2/apps/a", NULL, 200, NULL, "the apps load with it");
	st_sim_stop(&sim);
	st_sim_start(&sim, both);
	framework_id(&sim, id);
	cr_assert_str_eq(id, "from-the-flag-0001", "the flag wins over the file");
	st_sim_stop(&sim);
	cr_assert_eq(test_write_file(path, "{\"frameworkId\":\"only-0004\"}"), 0);
	st_sim_start(&sim, load);
	framework_id(&sim, id);
	cr_assert_str_eq(id, "only-0004", "a state without apps");
	st_sim_stop(&sim);
	test_rmrf(dir);
	free(dir);
}

Test(control, a_bad_framework_id_is_refused_at_start)
{
	const char *argv[] = {test_sim_bin(), "--listen", "127.0.0.1:0", "--framework-id", "has space", NULL};
	char *err = NULL;

	cr_assert_eq(test_run(argv, NULL, NULL, &err, 10), 1);
	cr_assert(strstr(err, "--framework-id"), "%s", err);
	free(err);
}

/*
 * A body over marathon-sim's cap (256 MiB): streamed by a read callback, so
 * the test never holds it. It starts like a JSON object so that a server
 * that parsed it anyway would not answer 413 by accident.
 */
#define OVERSIZE_BODY (((size_t)256 << 20) + 4096)

struct oversize_src {
	size_t sent;
};

static size_t oversize_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct oversize_src *src = ud;
	size_t n = size * nitems;

	if (n > OVERSIZE_BODY - src->sent)
		n = OVERSIZE_BODY - src->sent;
	memset(buf, 'a', n);
	if (src->sent == 0 && n >= 8)
		memcpy(buf, "{\"id\":\"", 7);
	src->sent += n;
	return n;
}

static int post_oversize(struct test_sim *sim, const char *path)
{
	struct oversize_src src = {0};
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	char url[256], *body = NULL;
	long code = 0;

	cr_assert(c && hl);
	/* No "Expect: 100-continue" round trip: the body goes at once. */
	hl = curl_slist_append(hl, "Expect:");
	snprintf(url, sizeof(url), "%s%s", sim->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, oversize_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &src);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)OVERSIZE_BODY);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, st_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	free(body);
	return (int)code;
}

Test(control, a_body_over_the_cap_is_413_on_control_and_api_routes, .timeout = 240)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	cr_expect_eq(post_oversize(&sim, "/_sim/faults"), 413, "/_sim/ routes check the size first");
	cr_expect_eq(post_oversize(&sim, "/v2/apps"), 413);
	/* Still serving, and nothing of either request was applied. */
	test_sim_expect(&sim, "GET", "/v2/apps", NULL, 200, "{\"apps\":[]}", NULL);
	test_sim_expect(&sim, "GET", "/v2/info", NULL, 200, NULL, "no fault was added");
	st_sim_stop(&sim);
}
