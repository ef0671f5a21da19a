/*
 * backends/marathon/http.c: marathon__request() against a real marathon-sim
 * with injected faults. What is checked is the retry policy as Marathon
 * sees it: how many times each request reached the simulator (its request
 * log, /_sim/requests), and what the caller was told. Reads are sent again
 * on 502-504 and lost replies; a change that may have been applied never
 * is (PACER_EUNKNOWN); a refused connection moves on to the next URL; a
 * redirecting standby is followed with method, body and credentials;
 * credentials reach Marathon and never the log.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/marathon/client.h"
#include "backends/marathon/http.h"
#include "reconcile/base/log.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

#define APP_BODY "{\"id\":\"/h/x\",\"cmd\":\"sleep 100\",\"instances\":0,\"cpus\":0.1,\"mem\":16}"

/* standby: started by the test that needs it; both stop at the end of a
 * test, failed or not (a simulator left running keeps the runner waiting). */
static struct test_sim sim, standby;

static void sim_up(void)
{
	cr_assert_eq(test_sim_start(&sim, NULL), 0, "cannot start marathon-sim");
}

static void sim_down(void)
{
	if (standby.pid > 0)
		test_sim_stop(&standby);
	if (sim.pid > 0)
		test_sim_stop(&sim);
}

TestSuite(http, .init = sim_up, .fini = sim_down);

/* ---- helpers ---------------------------------------------------------- */

/* A client of urls; borrowed from *m, which the caller frees. */
static struct marathon_client *client(struct pacer_marathon **m, const char *urls, int retries,
                                      long timeout_ms, const char *token)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_error *err = NULL;

	o.urls = urls;
	o.retries = retries;
	o.backoff_ms = 20;
	o.timeout_ms = timeout_ms;
	o.token = token;
	cr_assert_eq(marathon_new(m, &o, &err), 0, "marathon_new: %s", err ? err->message : "");
	return marathon__client(*m, NULL);
}

/* The lower-case header `name` of the last request s saw (caller frees), or NULL. */
static char *last_header(const struct test_sim *s, const char *name)
{
	struct json_object *req = bt_sim_last(s, NULL, NULL);
	const char *v = bt_header(req, name);
	char *value = v ? strdup(v) : NULL;

	json_object_put(req);
	return value;
}

/* A stream callback: stop at the first byte (a 2xx stream is not what is tested). */
static int stop_at_once(void *ctx, const char *data, size_t len, struct pacer_error **err)
{
	(void)ctx;
	(void)err;
	return data && len ? 1 : 0;
}

/* ---- the retry policy, case by case ----------------------------------- */

enum urls {
	SIM_ONLY,   /* the simulator */
	DEAD_FIRST, /* a port nothing listens on, then the simulator */
	ALL_DEAD,   /* two such ports */
};

struct policy_case {
	char name[80];
	char method[8];
	char path[32];   /* also the fault's path */
	char fault[128]; /* the fault's other members; "" for none */
	int retries;
	long timeout_ms;
	enum urls urls;
	int stream;    /* send with on_data, as the event stream does */
	int want_rc;   /* what marathon__request() returns */
	int want_sent; /* how many times the simulator saw it */
	char want_msg[64];
};

static struct policy_case policy_cases[] = {
    {"a read gets through after two 503", "GET", "/v2/info", "\"status\":503,\"count\":2", 4, 10000,
     SIM_ONLY, 0, 0, 3, ""},
    {"a read gives up after every attempt got 502", "GET", "/v2/info",
     "\"status\":502,\"count\":-1", 2, 10000, SIM_ONLY, 0, PACER_EHTTP, 3,
     "gave up after 3 attempts"},
    {"a 500 is an answer, not sent again", "GET", "/v2/info", "\"status\":500,\"count\":-1", 4,
     10000, SIM_ONLY, 0, PACER_EHTTP, 1, "500 injected"},
    {"a read whose reply was lost is sent again", "GET", "/v2/info", "\"drop\":true,\"count\":1", 2,
     10000, SIM_ONLY, 0, 0, 2, ""},
    {"a read that timed out is not sent again", "GET", "/v2/info",
     "\"latency_ms\":1500,\"count\":1", 3, 300, SIM_ONLY, 0, PACER_ETIMEOUT, 1,
     "no reply within 300 ms"},
    {"a change whose reply was lost is unknown", "PUT", "/v2/apps/h/x",
     "\"drop\":true,\"count\":1,\"when\":\"after\"", 4, 10000, SIM_ONLY, 0, PACER_EUNKNOWN, 1,
     "may or may not have been applied"},
    {"a change answered 503 is unknown", "POST", "/v2/apps", "\"status\":503,\"count\":1", 4, 10000,
     SIM_ONLY, 0, PACER_EUNKNOWN, 1, "Marathon answered 503"},
    {"a change that timed out is unknown", "DELETE", "/v2/apps/h/x",
     "\"latency_ms\":1500,\"count\":1", 4, 300, SIM_ONLY, 0, PACER_EUNKNOWN, 1,
     "(no reply within 300 ms)"},
    {"a change whose connection was refused goes to the next URL", "PUT", "/v2/apps/h/x", "", 0,
     10000, DEAD_FIRST, 0, 0, 1, ""},
    {"a read whose connection was refused goes to the next URL", "GET", "/v2/info", "", 0, 10000,
     DEAD_FIRST, 0, 0, 1, ""},
    {"no URL answers", "GET", "/v2/info", "", 2, 10000, ALL_DEAD, 0, PACER_EUNREACHABLE, 0,
     "(tried each URL 3 times)"},
    {"a stream is never sent again", "GET", "/v2/events", "\"status\":503,\"count\":-1", 4, 10000,
     SIM_ONLY, 1, PACER_EHTTP, 1, "gave up after 1 attempt;"},
};

ParameterizedTestParameters(http, retry_policy)
{
	return cr_make_param_array(struct policy_case, policy_cases,
	                           sizeof(policy_cases) / sizeof(policy_cases[0]));
}

static void url_list(char *out, size_t size, enum urls urls)
{
	int a = test_closed_port(), b = test_closed_port();

	if (urls == SIM_ONLY)
		snprintf(out, size, "%s", sim.url);
	else if (urls == DEAD_FIRST)
		snprintf(out, size, "http://127.0.0.1:%d,%s", a, sim.url);
	else
		snprintf(out, size, "http://127.0.0.1:%d,http://127.0.0.1:%d", a, b);
}

ParameterizedTest(struct policy_case *t, http, retry_policy)
{
	struct marathon_request rq = {t->method, t->path, NULL, NULL, "/h/x", NULL, NULL, NULL};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	struct pacer_marathon *m = NULL;
	struct pacer_error *err = NULL;
	char urls[256], fault[256];
	struct marathon_client *c;
	int rc;

	url_list(urls, sizeof(urls), t->urls);
	c = client(&m, urls, t->retries, t->timeout_ms, NULL);
	if (!strcmp(t->method, "PUT") || !strcmp(t->method, "POST"))
		rq.body = APP_BODY;
	if (t->stream) {
		rq.accept = "text/event-stream";
		rq.on_data = stop_at_once;
	}
	if (t->fault[0]) {
		snprintf(fault, sizeof(fault), "{\"path\":\"%s\",\"method\":\"%s\",%s}", t->path,
		         t->method, t->fault);
		test_sim_expect(&sim, "POST", "/_sim/faults", fault, 201, NULL, t->name);
	}
	rc = marathon__request(c, &rq, &resp, &err);
	cr_assert_eq(rc, t->want_rc, "%s: rc %d: %s", t->name, rc, err ? err->message : "");
	if (t->want_msg[0])
		cr_assert(err && strstr(err->message, t->want_msg), "%s: '%s' lacks '%s'", t->name,
		          err ? err->message : "", t->want_msg);
	if (rc == 0 && t->urls == DEAD_FIRST)
		cr_assert_eq(c->current, 1, "%s: the URL that answered is not tried first next",
		             t->name);
	cr_assert_eq(bt_sim_count(&sim, t->method, t->path), t->want_sent, "%s", t->name);
	pacer_error_free(err);
	marathon__response_release(&resp);
	pacer_marathon_free(m);
}

/* ---- redirects -------------------------------------------------------- */

Test(http, a_redirecting_standby_is_followed_with_method_body_and_credentials)
{
	const char *standby_args[] = {"--standby-of", sim.url, "--standby-mode", "redirect", NULL};
	struct marathon_request rq = {"PUT",  "/v2/apps/h/x", APP_BODY, NULL,
	                              "/h/x", NULL,           NULL,     NULL};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	struct pacer_marathon *m = NULL;
	struct pacer_error *err = NULL;
	char *auth, *app = NULL;

	cr_assert_eq(test_sim_start(&standby, standby_args), 0, "cannot start the standby");
	cr_assert_eq(
	    marathon__request(client(&m, standby.url, 0, 10000, "tok-redirect"), &rq, &resp, &err),
	    0, "%s", err ? err->message : "");
	cr_assert(!strncmp(resp.url, sim.url, strlen(sim.url)), "answered by %s", resp.url);
	cr_assert_eq(bt_sim_count(&standby, "PUT", "/v2/apps/h/x"), 1);
	cr_assert_eq(bt_sim_count(&sim, "PUT", "/v2/apps/h/x"), 1, "the leader never saw the PUT");
	auth = last_header(&sim, "authorization");
	cr_assert(auth && !strcmp(auth, "token=tok-redirect"), "%s", auth ? auth : "(none)");
	free(auth);
	/* The body came along: the leader has the app as sent. */
	cr_assert_eq(test_sim_request(&sim, "GET", "/v2/apps/h/x", NULL, &app), 200);
	cr_assert(strstr(app, "sleep 100"), "%s", app);
	free(app);
	marathon__response_release(&resp);
	pacer_marathon_free(m);
}

/* ---- credentials ------------------------------------------------------ */

/* From here on this test's stderr, where the log goes, is the file at path. */
static void log_to_file(char *path)
{
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	fflush(stderr);
	cr_assert(dup2(fd, 2) >= 0);
	close(fd);
	pacer_log_set_level(PACER_LOG_DEBUG);
}

/* GET /v2/info, then a GET answered 401, with the log at debug level. */
static void two_requests(struct marathon_client *c)
{
	struct marathon_request ok = {"GET", "/v2/info", NULL, NULL, NULL, NULL, NULL, NULL};
	struct marathon_request denied = {"GET", "/v2/apps", NULL, NULL, NULL, NULL, NULL, NULL};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	struct pacer_error *err = NULL;

	cr_assert_eq(marathon__request(c, &ok, &resp, &err), 0, "%s", err ? err->message : "");
	marathon__response_release(&resp);
	test_sim_expect(&sim, "POST", "/_sim/faults",
	                "{\"path\":\"/v2/apps\",\"status\":401,\"count\":1}", 201, NULL, "a 401");
	cr_assert_eq(marathon__request(c, &denied, &resp, &err), PACER_EAUTH);
	pacer_error_free(err);
	marathon__response_release(&resp);
}

/*
 * The secrets are dropped from the log's redaction list after marathon_new()
 * registered them: what is checked is that http.c never writes them, not
 * that the log hides them.
 */
static char *log_of_two_requests(const char *urls, const char *token)
{
	char path[] = "/tmp/pacer-http-log-XXXXXX";
	struct pacer_marathon *m = NULL;
	struct marathon_client *c = client(&m, urls, 0, 10000, token);
	char *text;

	pacer_log_clear_secrets();
	log_to_file(path);
	two_requests(c);
	pacer_marathon_free(m);
	fflush(stderr);
	text = test_read_file(path, NULL);
	unlink(path);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "GET "), "nothing was logged: %s", text);
	return text;
}

Test(http, a_token_is_sent_and_never_logged)
{
	char *log = log_of_two_requests(sim.url, "tok-SECRET-7731");
	char *auth = last_header(&sim, "authorization");

	cr_assert(auth && !strcmp(auth, "token=tok-SECRET-7731"), "%s", auth ? auth : "(none)");
	cr_assert_null(strstr(log, "SECRET-7731"), "the token is in the log: %s", log);
	free(auth);
	free(log);
}

Test(http, basic_auth_from_the_url_is_sent_and_never_logged)
{
	char urls[256], *log, *auth;

	snprintf(urls, sizeof(urls), "http://alice:pw-SECRET-9@%s", sim.url + strlen("http://"));
	log = log_of_two_requests(urls, NULL);
	auth = last_header(&sim, "authorization");
	/* base64("alice:pw-SECRET-9") */
	cr_assert(auth && !strcmp(auth, "Basic YWxpY2U6cHctU0VDUkVULTk="), "%s",
	          auth ? auth : "(none)");
	cr_assert_null(strstr(log, "SECRET-9"), "the password is in the log: %s", log);
	cr_assert_null(strstr(log, "alice:"), "the credentials are in the log: %s", log);
	free(auth);
	free(log);
}
