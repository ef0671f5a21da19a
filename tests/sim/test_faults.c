/*
 * marathon-sim: when an injected fault acts (POST /_sim/faults "when").
 * "before" (the default) stands in for the request: a 5xx or a dropped
 * connection means nothing was applied. "after" lets the request be applied
 * first (app created, changed or deleted, deployment started) and only then
 * drops the connection without a reply, delays the reply, or answers an
 * error: the lost or late reply a client must resolve by reading back.
 */
#include "tests/sim/simtest.h"

#include <criterion/parameterized.h>
#include <sys/time.h>

TestSuite(faults, .fini = st_cleanup);

/* One request with curl; the curl result (not the HTTP status) is what counts here. */
static CURLcode curl_result(struct test_sim *sim, const char *method, const char *path, const char *body,
			    long timeout_ms, long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	char url[512], *out = NULL;
	CURLcode rc;

	cr_assert(c);
	snprintf(url, sizeof(url), "%s%s", sim->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, st_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	free(out);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

/* PUT {"cmd":"xx"} to path, giving up after timeout_ms; returns the curl result. */
static CURLcode put_xx(struct test_sim *sim, const char *path, long timeout_ms)
{
	long status;

	return curl_result(sim, "PUT", path, "{\"cmd\":\"xx\"}", timeout_ms, &status);
}

static void inject(struct test_sim *sim, const char *fault)
{
	test_sim_expect(sim, "POST", "/_sim/faults", fault, 201, NULL, "the fault is accepted");
}

static long elapsed_ms(const struct timeval *a)
{
	struct timeval b;

	gettimeofday(&b, NULL);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_usec - a->tv_usec) / 1000;
}

/*
 * A change whose reply is lost: which request, and what GET /v2/apps/x shows
 * after it. Tasks take 5 s to launch here, so a deployment that starts one
 * is still running when the test looks.
 */
struct lost_case {
	/* Arrays, not pointers: Criterion copies the parameters into each test's process. */
	char name[24];
	char method[8];
	char path[16];
	char body[64];  /* "" = none */
	int existed;    /* /x (without instances) is created before the faulty request */
	int exists;     /* GET /v2/apps/x answers 200 after it */
	char cmd[16];   /* and shows this cmd, with a deployment running ("" = gone) */
};

static const struct lost_case lost_cases[] = {
    {"create by POST", "POST", "/v2/apps", "{\"id\":\"/x\",\"cmd\":\"new\"}", 0, 1, "new"},
    {"create by PUT", "PUT", "/v2/apps/x", "{\"cmd\":\"new\"}", 0, 1, "new"},
    {"update by PUT", "PUT", "/v2/apps/x", "{\"cmd\":\"changed\",\"instances\":1}", 1, 1, "changed"},
    {"delete", "DELETE", "/v2/apps/x", "", 1, 0, ""},
};

ParameterizedTestParameters(faults, after_drop_applies_then_sends_nothing)
{
	return cr_make_param_array(struct lost_case, lost_cases, sizeof(lost_cases) / sizeof(lost_cases[0]));
}

ParameterizedTest(const struct lost_case *c, faults, after_drop_applies_then_sends_nothing)
{
	struct test_sim sim;
	struct st_resp r;
	const char *args[] = {"--task-launch-ms", "5000", NULL};
	char fault[256];
	long status;

	st_sim_start(&sim, args);
	if (c->existed) {
		test_sim_expect(&sim, "PUT", "/v2/apps/x", "{\"cmd\":\"old\",\"instances\":0}", 201, NULL, c->name);
		cr_assert(st_wait_idle(&sim, 5000));
	}
	snprintf(fault, sizeof(fault), "{\"path\":\"%s\",\"method\":\"%s\",\"count\":1,\"drop\":true,\"when\":\"after\"}",
		 c->path, c->method);
	inject(&sim, fault);
	cr_assert_eq(curl_result(&sim, c->method, c->path, c->body[0] ? c->body : NULL, 10000, &status), CURLE_GOT_NOTHING,
		     "%s: curl sees an empty reply (status %ld)", c->name, status);
	r = st_req(&sim, "GET", "/v2/apps/x", NULL);
	cr_assert_eq(r.status, c->exists ? 200 : 404, "%s: the change was applied: %s", c->name, r.body);
	if (c->cmd[0]) {
		cr_assert_str_eq(st_str_or_empty(r.json, "app.cmd"), c->cmd, "%s", c->name);
		cr_assert_not_null(st_str(r.json, "app.deployments.0.id"), "%s: its deployment runs: %s", c->name, r.body);
	}
	st_free(&r);
	/* count 1: the next request is answered. */
	cr_assert_eq(curl_result(&sim, c->method, c->path, c->body[0] ? c->body : NULL, 10000, &status), CURLE_OK,
		     "%s", c->name);
	st_sim_stop(&sim);
}

Test(faults, after_latency_applies_then_answers_late)
{
	struct test_sim sim;
	struct st_resp r;
	struct timeval t0;

	st_sim_start(&sim, NULL);
	inject(&sim, "{\"path\":\"/v2/apps/slow\",\"method\":\"PUT\",\"latency_ms\":1500,\"when\":\"after\"}");
	/* The client gives up first; the change is there anyway. */
	cr_assert_eq(put_xx(&sim, "/v2/apps/slow", 300), CURLE_OPERATION_TIMEDOUT);
	test_sim_expect(&sim, "GET", "/v2/apps/slow", NULL, 200, NULL, "applied before the delay");
	/* A patient client gets the real answer, late. */
	inject(&sim, "{\"path\":\"/v2/apps/slow\",\"method\":\"PUT\",\"latency_ms\":400,\"when\":\"after\"}");
	gettimeofday(&t0, NULL);
	r = st_req(&sim, "PUT", "/v2/apps/slow?force=true", "{\"cmd\":\"yy\"}");
	cr_assert_geq(elapsed_ms(&t0), 380);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_not_null(st_str(r.json, "deploymentId"), "%s", r.body);
	st_free(&r);
	st_sim_stop(&sim);
}

Test(faults, before_latency_delays_the_change_itself)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	inject(&sim, "{\"path\":\"/v2/apps/late\",\"method\":\"PUT\",\"latency_ms\":1000}");
	cr_assert_eq(put_xx(&sim, "/v2/apps/late", 300), CURLE_OPERATION_TIMEDOUT);
	test_sim_expect(&sim, "GET", "/v2/apps/late", NULL, 404, NULL, "not applied during the delay");
	st_sim_stop(&sim);
}

Test(faults, before_5xx_and_drop_apply_nothing)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	inject(&sim, "{\"path\":\"/v2/apps/x\",\"method\":\"PUT\",\"status\":503,\"when\":\"before\"}");
	test_sim_expect(&sim, "PUT", "/v2/apps/x", "{\"cmd\":\"xx\"}", 503, "{\"message\":\"injected\"}", NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/x", NULL, 404, NULL, "a 5xx before handling applies nothing");
	inject(&sim, "{\"path\":\"/v2/apps/x\",\"method\":\"PUT\",\"drop\":true}");
	cr_assert_eq(put_xx(&sim, "/v2/apps/x", 10000), CURLE_GOT_NOTHING);
	test_sim_expect(&sim, "GET", "/v2/apps/x", NULL, 404, NULL, "a drop before handling applies nothing");
	cr_assert_eq(st_ndeploys(&sim), 0);
	st_sim_stop(&sim);
}

Test(faults, after_status_applies_and_answers_the_error)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	inject(&sim, "{\"path\":\"/v2/apps\",\"method\":\"POST\",\"status\":502,\"when\":\"after\","
		     "\"body\":{\"message\":\"proxy lost the leader\"}}");
	test_sim_expect(&sim, "POST", "/v2/apps", "{\"id\":\"x\",\"cmd\":\"xx\"}", 502,
			"{\"message\":\"proxy lost the leader\"}", NULL);
	test_sim_expect(&sim, "GET", "/v2/apps/x", NULL, 200, NULL, "applied, though answered 502");
	test_sim_expect(&sim, "POST", "/v2/apps", "{\"id\":\"x\",\"cmd\":\"xx\"}", 409, NULL,
			"a blind retry meets the app it created");
	st_sim_stop(&sim);
}

Test(faults, when_must_be_before_or_after)
{
	struct test_sim sim;

	st_sim_start(&sim, NULL);
	test_sim_expect(&sim, "POST", "/_sim/faults", "{\"drop\":true,\"when\":\"later\"}", 422, NULL, NULL);
	test_sim_expect(&sim, "POST", "/_sim/faults", "{\"drop\":true,\"when\":1}", 422, NULL, NULL);
	test_sim_expect(&sim, "POST", "/_sim/faults", "{\"drop\":true,\"when\":\"before\"}", 201, NULL, NULL);
	st_sim_stop(&sim);
}

Test(faults, stopping_cuts_a_long_delay_short)
{
	struct test_sim sim;
	struct timeval t0;

	st_sim_start(&sim, NULL);
	inject(&sim, "{\"path\":\"/v2/apps/x\",\"latency_ms\":60000,\"when\":\"after\"}");
	cr_assert_eq(put_xx(&sim, "/v2/apps/x", 300), CURLE_OPERATION_TIMEDOUT);
	gettimeofday(&t0, NULL);
	st_sim_stop(&sim);
	cr_assert_lt(elapsed_ms(&t0), 5000, "SIGTERM waited for the 60 s delay");
}
