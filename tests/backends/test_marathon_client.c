/*
 * backends/marathon against a real marathon-sim on a loopback port: every
 * endpoint, the error types, failover, leader redirects, retries (and none
 * on 4xx), timeouts, auth, concurrency and the event stream. Faults are
 * injected through the simulator's /_sim/ hooks, and what the client really
 * sent is read back from /_sim/requests.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/marathon/client.h"
#include "backends/marathon/http.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

static struct test_sim sim;

static void sim_up(void)
{
	cr_assert_eq(test_sim_start(&sim, NULL), 0, "cannot start marathon-sim");
}

static void sim_down(void)
{
	if (sim.pid > 0)
		test_sim_stop(&sim);
}

/* Simulators with special flags are started by the tests themselves. */
static struct test_sim extra[2];

static void extra_down(void)
{
	for (int i = 0; i < 2; i++)
		if (extra[i].pid > 0)
			test_sim_stop(&extra[i]);
}

static void start_extra(int i, const char *const *args)
{
	cr_assert_eq(test_sim_start(&extra[i], args), 0, "cannot start marathon-sim");
}

TestSuite(client, .init = sim_up, .fini = sim_down);
TestSuite(client_flags, .fini = extra_down);

/* ---- helpers ---------------------------------------------------------- */

static struct pacer_marathon *client_opts(const struct marathon_options *o)
{
	struct pacer_marathon *m = NULL;
	struct pacer_error *err = NULL;
	int rc = marathon_new(&m, o, &err);

	cr_assert_eq(rc, 0, "marathon_new: %s", err ? err->message : "?");
	return m;
}

static struct pacer_marathon *client_for(const char *urls, int retries, long timeout_ms)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;

	o.urls = urls;
	o.retries = retries;
	o.backoff_ms = 20;
	o.timeout_ms = timeout_ms;
	return client_opts(&o);
}

static struct json_object *app_json(const char *id, int instances, const char *cmd)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "instances", json_object_new_int(instances));
	json_object_object_add(o, "cpus", json_object_new_double(0.1));
	json_object_object_add(o, "mem", json_object_new_double(16));
	return o;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : -1;
}

/* A raw call to the simulator (for /_sim/ hooks and checks). */
static int raw(const struct test_sim *s, const char *method, const char *path, const char *body,
               char **resp)
{
	char url[512];
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	int status = 0;

	snprintf(url, sizeof(url), "%s%s", s->url, path);
	test_http(method, url, body, hdrs, &status, resp);
	return status;
}

static void inject(const struct test_sim *s, const char *fault)
{
	int st = raw(s, "POST", "/_sim/faults", fault, NULL);

	cr_assert(st >= 200 && st < 300, "POST /_sim/faults %s answered %d", fault, st);
}

static int array_has_app(struct json_object *apps, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		const char *v = jstr(json_object_array_get_idx(apps, i), "id");

		if (v && !strcmp(v, id))
			return 1;
	}
	return 0;
}

/* Run fn with the log at debug level and stderr captured; returns the text (caller frees). */
static char *capture_log(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/pacer-client-log-XXXXXX";
	int saved, fd, old_level = pacer_log_level;
	char *text;

	fflush(stderr);
	saved = dup(2);
	fd = mkstemp(path);
	cr_assert(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	pacer_log_set_level(PACER_LOG_DEBUG);
	fn(arg);
	pacer_log_set_level(old_level);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = test_read_file(path, NULL);
	unlink(path);
	cr_assert_not_null(text);
	return text;
}

static void five_infos(void *arg);

static int count_substr(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#define OK(call)                                                                                   \
	do {                                                                                       \
		struct pacer_error *e_ = NULL;                                                     \
		struct pacer_error **E = &e_;                                                      \
		int rc_ = (call);                                                                  \
		cr_assert_eq(rc_, 0, "%s: %d %s", #call, rc_, e_ ? e_->message : "(no error)");    \
		pacer_error_free(e_);                                                              \
	} while (0)

/* ---- endpoints -------------------------------------------------------- */

Test(client, every_endpoint)
{
	struct pacer_marathon *m = client_for(sim.url, 0, 10000);
	struct json_object *app = app_json("/test/web", 1, "sleep 1000"), *got = NULL, *req;
	struct json_object *list = NULL, *info = NULL, *versions = NULL, *old = NULL, *tasks = NULL;
	struct json_object *deps = NULL;
	struct pacer_deploy_ref ref;
	struct pacer_error *err = NULL;
	char *leader = NULL;
	const char *q;

	OK(m->create_app(m, app, 0, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0', "POST gave no deployment id");
	cr_assert_eq(ref.created, 1);
	req = bt_sim_last(&sim, "POST", "/v2/apps");
	cr_assert_not_null(req);
	cr_assert_str_eq(bt_header(req, "content-type"), "application/json");
	json_object_put(req);

	OK(m->get_app(m, "/test/web", &got, E));
	cr_assert_str_eq(jstr(got, "id"), "/test/web");
	cr_assert_eq(jint(got, "instances"), 1);
	json_object_put(got);

	/* One GET /v2/apps with the embeds the reconciler needs. */
	OK(m->list_apps(m, &list, E));
	cr_assert(json_object_is_type(list, json_type_array));
	cr_assert(array_has_app(list, "/test/web"));
	json_object_put(list);
	req = bt_sim_last(&sim, "GET", "/v2/apps");
	cr_assert_not_null(req);
	q = jstr(req, "query");
	cr_assert_not_null(q);
	cr_assert(strstr(q, "embed=apps.counts"), "%s", q);
	cr_assert(strstr(q, "embed=apps.deployments"), "%s", q);
	cr_assert(strstr(q, "embed=apps.lastTaskFailure"), "%s", q);
	json_object_put(req);

	/* PUT replace with force: an update, not a create. */
	json_object_object_add(app, "cmd", json_object_new_string("sleep 2000"));
	OK(m->put_app(m, "/test/web", app, PACER_MF_FORCE, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0');
	cr_assert_neq(ref.version[0], '\0');
	cr_assert_eq(ref.created, 0);
	req = bt_sim_last(&sim, "PUT", "/v2/apps/test/web");
	cr_assert_not_null(req);
	q = jstr(req, "query");
	cr_assert(q && strstr(q, "partialUpdate=false") && strstr(q, "force=true"), "%s", q);
	cr_assert_str_eq(bt_header(req, "content-type"), "application/json");
	json_object_put(req);

	/* PUT of an unknown id creates it (201). */
	{
		struct json_object *other = app_json("/test/other", 0, "sleep 1");

		OK(m->put_app(m, "/test/other", other, 0, &ref, E));
		cr_assert_eq(ref.created, 1);
		json_object_put(other);
	}

	/* Scale is a partial update: instances change, cmd stays. */
	OK(marathon_scale_app(m, "/test/web", 3, PACER_MF_FORCE, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0');
	OK(m->get_app(m, "/test/web", &got, E));
	cr_assert_eq(jint(got, "instances"), 3);
	cr_assert_str_eq(jstr(got, "cmd"), "sleep 2000");
	json_object_put(got);
	req = bt_sim_last(&sim, "PUT", "/v2/apps/test/web");
	q = jstr(req, "query");
	cr_assert(q && strstr(q, "partialUpdate=true"), "%s", q);
	json_object_put(req);

	OK(m->restart_app(m, "/test/web", PACER_MF_FORCE, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0');
	cr_assert_eq(bt_sim_count(&sim, "POST", "/v2/apps/test/web/restart"), 1);

	OK(m->list_deployments(m, &deps, E));
	cr_assert(json_object_is_type(deps, json_type_array));
	json_object_put(deps);

	OK(marathon_app_versions(m, "/test/web", &versions, E));
	cr_assert(json_object_array_length(versions) >= 2, "%s",
	          json_object_to_json_string(versions));
	for (size_t i = 0; i < json_object_array_length(versions); i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(versions, i));

		OK(marathon_app_version(m, "/test/web", v, &old, E));
		cr_assert_str_eq(jstr(old, "id"), "/test/web");
		json_object_put(old);
	}
	json_object_put(versions);
	cr_assert_eq(marathon_app_version(m, "/test/web", "2001-01-01T00:00:00.000Z", &old, &err),
	             PACER_ENOTFOUND, "%s", err ? err->message : "");
	pacer_error_clear(&err);

	OK(marathon_list_tasks(m, "/test/web", &tasks, E));
	cr_assert(json_object_is_type(tasks, json_type_array));
	json_object_put(tasks);

	OK(m->info(m, &info, E));
	cr_assert_str_eq(jstr(info, "name"), "marathon");
	json_object_put(info);
	OK(marathon_ping(m, E));
	OK(marathon_leader(m, &leader, E));
	cr_assert(leader && *leader);
	free(leader);

	OK(m->delete_app(m, "/test/web", PACER_MF_FORCE, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0');
	cr_assert_eq(m->get_app(m, "/test/web", &got, &err), PACER_ENOTFOUND);
	cr_assert_null(got);
	pacer_error_clear(&err);

	json_object_put(app);
	pacer_marathon_free(m);
}

/* ---- error types ------------------------------------------------------ */

/*
 * A call that returned rc must have failed with want, HTTP status, and a
 * message *err that names the method and says needle. *err is kept.
 */
static void expect_http_error(int rc, struct pacer_error **err, int want, int status,
                              const char *method, const char *needle)
{
	cr_assert_eq(rc, want, "%s", *err ? (*err)->message : "no error");
	cr_assert_eq((*err)->http_status, status);
	cr_assert(strstr((*err)->message, method), "%s", (*err)->message);
	cr_assert(strstr((*err)->message, needle), "%s", (*err)->message);
}

Test(client, not_found_names_url_and_app)
{
	struct pacer_marathon *m = client_for(sim.url, 0, 10000);
	struct pacer_error *err = NULL;
	struct json_object *got = NULL;
	struct pacer_deploy_ref ref;

	expect_http_error(m->get_app(m, "/no/such", &got, &err), &err, PACER_ENOTFOUND, 404, "GET ",
	                  "does not exist");
	cr_assert(!strncmp(err->url, sim.url, strlen(sim.url)), "%s", err->url);
	cr_assert(strstr(err->url, "/v2/apps/no/such"), "%s", err->url);
	cr_assert_str_eq(err->app_id, "/no/such");
	cr_assert(strstr(err->message, "404"), "%s", err->message);
	pacer_error_clear(&err);

	cr_assert_eq(m->delete_app(m, "/no/such", PACER_MF_FORCE, &ref, &err), PACER_ENOTFOUND);
	pacer_error_clear(&err);
	cr_assert_eq(m->restart_app(m, "/no/such", 0, &ref, &err), PACER_ENOTFOUND);
	pacer_error_clear(&err);
	cr_assert_eq(m->delete_deployment(m, "5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43", 0, &ref, &err),
	             PACER_ENOTFOUND);
	cr_assert(strstr(err->message, "/v2/deployments/5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43"),
	          "%s", err->message);
	pacer_error_clear(&err);
	cr_assert_eq(marathon_list_tasks(m, "/no/such", &got, &err), PACER_ENOTFOUND);
	pacer_error_clear(&err);
	cr_assert_eq(marathon_app_versions(m, "/no/such", &got, &err), PACER_ENOTFOUND);
	pacer_error_clear(&err);
	pacer_marathon_free(m);
}

Test(client, conflict_when_app_exists)
{
	struct pacer_marathon *m = client_for(sim.url, 0, 10000);
	struct json_object *app = app_json("/dup", 0, "sleep 1");
	struct pacer_error *err = NULL;
	struct pacer_deploy_ref ref;

	OK(m->create_app(m, app, 0, &ref, E));
	expect_http_error(m->create_app(m, app, 0, &ref, &err), &err, PACER_ECONFLICT, 409, "POST ",
	                  "already exists");
	pacer_error_clear(&err);
	json_object_put(app);
	pacer_marathon_free(m);
}

Test(client, invalid_definition_renders_details)
{
	struct pacer_marathon *m = client_for(sim.url, 3, 10000);
	struct json_object *app = app_json("/bad", 1, "sleep 1");
	struct pacer_error *err = NULL;
	struct pacer_deploy_ref ref;

	json_object_object_add(app, "cpus", json_object_new_double(-1));
	expect_http_error(m->put_app(m, "/bad", app, 0, &ref, &err), &err, PACER_EINVALID, 422,
	                  "PUT ", "/cpus"); /* the details rendered */
	cr_assert(strstr(err->message, "422"), "%s", err->message);
	cr_assert_str_eq(err->app_id, "/bad");
	/* 4xx is never retried. */
	cr_assert_eq(bt_sim_count(&sim, "PUT", "/v2/apps/bad"), 1);
	pacer_error_clear(&err);
	json_object_put(app);
	pacer_marathon_free(m);
}

/* A deployment that never finishes (tasks take minutes to launch) locks the app. */
Test(client_flags, locked_by_deployment_and_deployment_calls)
{
	const char *args[] = {"--task-launch-ms", "600000", NULL};
	struct pacer_marathon *m;
	struct json_object *app = app_json("/locked", 2, "sleep 1"), *deps = NULL;
	struct pacer_error *err = NULL;
	struct pacer_deploy_ref ref, again, rb;

	start_extra(0, args);
	m = client_for(extra[0].url, 0, 10000);
	OK(m->create_app(m, app, 0, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0');

	OK(m->list_deployments(m, &deps, E));
	cr_assert(json_object_array_length(deps) >= 1);
	cr_assert(strstr(json_object_to_json_string(deps), ref.deployment_id));
	json_object_put(deps);

	json_object_object_add(app, "cmd", json_object_new_string("sleep 2"));
	cr_assert_eq(m->put_app(m, "/locked", app, 0, &again, &err), PACER_ELOCKED, "%s",
	             err ? err->message : "");
	cr_assert_eq(err->http_status, 409);
	cr_assert(strstr(err->message, ref.deployment_id), "deployment id missing: %s",
	          err->message);
	pacer_error_clear(&err);
	cr_assert_eq(m->restart_app(m, "/locked", 0, &again, &err), PACER_ELOCKED);
	pacer_error_clear(&err);

	/* force cancels the running deployment and starts ours. */
	OK(m->put_app(m, "/locked", app, PACER_MF_FORCE, &again, E));
	cr_assert_neq(again.deployment_id[0], '\0');
	cr_assert_str_neq(again.deployment_id, ref.deployment_id);

	/* Without force, deleting a deployment starts a rollback; with force, 202. */
	OK(m->delete_deployment(m, again.deployment_id, 0, &rb, E));
	cr_assert_neq(rb.deployment_id[0], '\0', "no rollback deployment id");
	OK(m->delete_deployment(m, rb.deployment_id, PACER_MF_FORCE, &ref, E));
	cr_assert_eq(ref.deployment_id[0], '\0');
	cr_assert_eq(m->delete_deployment(m, rb.deployment_id, PACER_MF_FORCE, &ref, &err),
	             PACER_ENOTFOUND);
	pacer_error_clear(&err);

	json_object_put(app);
	pacer_marathon_free(m);
}

Test(client_flags, tasks_kill_and_scale)
{
	const char *args[] = {"--task-launch-ms", "20", "--health-ms", "20", NULL};
	struct pacer_marathon *m;
	struct json_object *app = app_json("/k/app", 2, "sleep 1000"), *tasks = NULL, *got = NULL;
	struct pacer_error *err = NULL;
	struct pacer_deploy_ref ref;
	char t1[256], t2[256];
	long long deadline = pacer_now_ms() + 15000;

	start_extra(0, args);
	m = client_for(extra[0].url, 0, 10000);
	OK(m->create_app(m, app, 0, &ref, E));
	for (;;) {
		OK(marathon_list_tasks(m, "/k/app", &tasks, E));
		if (json_object_array_length(tasks) >= 2)
			break;
		json_object_put(tasks);
		cr_assert(pacer_now_ms() < deadline, "tasks never launched");
		pacer_sleep_ms(50);
	}
	snprintf(t1, sizeof(t1), "%s", jstr(json_object_array_get_idx(tasks, 0), "id"));
	snprintf(t2, sizeof(t2), "%s", jstr(json_object_array_get_idx(tasks, 1), "id"));
	json_object_put(tasks);

	OK(marathon_kill_task(m, "/k/app", t1, 0, &ref, E));
	cr_assert_eq(ref.deployment_id[0], '\0');
	cr_assert_eq(marathon_kill_task(m, "/k/app", "k_app.instance-nope._app.1", 0, &ref, &err),
	             PACER_ENOTFOUND);
	pacer_error_clear(&err);

	OK(marathon_kill_task(m, "/k/app", t2, MARATHON_KILL_SCALE | PACER_MF_FORCE, &ref, E));
	cr_assert_neq(ref.deployment_id[0], '\0', "kill with scale gave no deployment");
	OK(m->get_app(m, "/k/app", &got, E));
	cr_assert_eq(jint(got, "instances"), 1);
	json_object_put(got);

	json_object_put(app);
	pacer_marathon_free(m);
}

/* ---- failover, redirects, retries, timeouts --------------------------- */

Test(client, fails_over_from_a_dead_url_and_remembers)
{
	char urls[512];
	struct pacer_marathon *m;
	struct json_object *info = NULL;
	struct marathon_client *c;

	snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,%s", test_closed_port(), sim.url);
	m = client_for(urls, 0, 10000);
	OK(m->info(m, &info, E));
	cr_assert_str_eq(jstr(info, "name"), "marathon");
	json_object_put(info);
	c = marathon__client(m, NULL);
	cr_assert_eq(c->current, 1, "the URL that answered is not remembered");
	OK(m->info(m, &info, E));
	json_object_put(info);
	pacer_marathon_free(m);
}

Test(client, unreachable_names_every_url)
{
	char urls[256], a[64], b[64];
	struct pacer_marathon *m;
	struct pacer_error *err = NULL;
	struct json_object *info = NULL;

	snprintf(a, sizeof(a), "http://127.0.0.1:%d", test_closed_port());
	snprintf(b, sizeof(b), "http://127.0.0.1:%d", test_closed_port());
	snprintf(urls, sizeof(urls), "%s,%s", a, b);
	m = client_for(urls, 2, 5000);
	cr_assert_eq(m->info(m, &info, &err), PACER_EUNREACHABLE);
	cr_assert_null(info);
	cr_assert(strstr(err->message, a), "%s", err->message);
	cr_assert(strstr(err->message, b), "%s", err->message);
	cr_assert(strstr(err->message, "PACER_MARATHON_URL"), "%s", err->message);
	cr_assert(strstr(err->message, "3 times"), "%s", err->message);
	pacer_error_clear(&err);
	pacer_marathon_free(m);
}

/*
 * GET /v2/info against a fault injected for it: what the client returns and
 * how many requests it sent. A fault left over is cleared at the end.
 */
struct retry_case {
	char name[40];
	char fault[96]; /* the fault's members other than path and method */
	int retries;
	int rc;          /* 0: the info came back */
	int http_status; /* of the error */
	char needle[16]; /* in the error message, or "" */
	int sent;        /* requests to /v2/info */
	int at_least;    /* 1: sent is a minimum (a dropped connection may be seen twice) */
};

static struct retry_case retry_cases[] = {
    {"503 is retried", "\"status\":503,\"count\":2", 4, 0, 0, "", 3, 0},
    {"a dropped connection is retried", "\"drop\":true,\"count\":1", 2, 0, 0, "", 2, 1},
    {"gives up after the retries", "\"status\":502,\"count\":10", 2, PACER_EHTTP, 502, "3 attempts",
     3, 0},
    {"400 is not retried", "\"status\":400,\"count\":5", 4, PACER_EINVALID, 400, "", 1, 0},
    {"422 is not retried", "\"status\":422,\"count\":5", 4, PACER_EINVALID, 422, "", 1, 0},
    {"403 is not retried", "\"status\":403,\"count\":5", 4, PACER_EAUTH, 403, "", 1, 0},
    {"500 is not retried", "\"status\":500,\"count\":5", 4, PACER_EHTTP, 500, "", 1, 0},
};

ParameterizedTestParameters(client, retries)
{
	return cr_make_param_array(struct retry_case, retry_cases,
	                           sizeof(retry_cases) / sizeof(retry_cases[0]));
}

ParameterizedTest(struct retry_case *c, client, retries)
{
	struct pacer_marathon *m = client_for(sim.url, c->retries, 10000);
	struct json_object *info = NULL;
	struct pacer_error *err = NULL;
	char fault[256];
	int before = bt_sim_count(&sim, "GET", "/v2/info"), sent;

	snprintf(fault, sizeof(fault), "{%s,\"path\":\"/v2/info\",\"method\":\"GET\"}", c->fault);
	inject(&sim, fault);
	cr_assert_eq(m->info(m, &info, &err), c->rc, "%s: %s", c->name, err ? err->message : "");
	if (c->rc == 0) {
		cr_assert_str_eq(jstr(info, "name"), "marathon", "%s", c->name);
	} else {
		cr_assert_null(info, "%s", c->name);
		cr_assert_eq(err->http_status, c->http_status, "%s", c->name);
		cr_assert(strstr(err->message, c->needle), "%s: %s", c->name, err->message);
	}
	sent = bt_sim_count(&sim, "GET", "/v2/info") - before;
	if (c->at_least)
		cr_assert_geq(sent, c->sent, "%s: %d requests", c->name, sent);
	else
		cr_assert_eq(sent, c->sent, "%s: %d requests", c->name, sent);
	json_object_put(info);
	pacer_error_clear(&err);
	cr_assert_eq(raw(&sim, "DELETE", "/_sim/faults", NULL, NULL) / 100, 2);
	pacer_marathon_free(m);
}

Test(client, times_out_on_a_slow_reply_without_retrying)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *m;
	struct json_object *info = NULL;
	struct pacer_error *err = NULL;
	int before = bt_sim_count(&sim, "GET", "/v2/info");
	long long t0;

	o.urls = sim.url;
	o.timeout_ms = 400;
	o.retries = 3;
	o.backoff_ms = 20;
	m = client_opts(&o);
	inject(&sim, "{\"latency_ms\":3000,\"count\":1,\"path\":\"/v2/info\",\"method\":\"GET\"}");
	t0 = pacer_now_ms();
	cr_assert_eq(m->info(m, &info, &err), PACER_ETIMEOUT, "%s", err ? err->message : "");
	cr_assert_lt(pacer_now_ms() - t0, 2500, "the timeout did not apply");
	cr_assert(strstr(err->message, "400 ms"), "%s", err->message);
	cr_assert(strstr(err->url, "/v2/info"), "%s", err->url);
	pacer_error_clear(&err);
	pacer_sleep_ms(3000); /* let the delayed request land in the log */
	cr_assert_eq(bt_sim_count(&sim, "GET", "/v2/info") - before, 1);
	/* The next call works. */
	OK(m->info(m, &info, E));
	json_object_put(info);
	pacer_marathon_free(m);
}

Test(client_flags, follows_the_standby_redirect_to_the_leader)
{
	const char *standby_args[3] = {"--standby-redirect", NULL, NULL};
	struct pacer_marathon *m, *direct;
	struct json_object *app = app_json("/r/app", 0, "sleep 1"), *got = NULL, *info = NULL;
	struct json_object *req;
	struct pacer_deploy_ref ref;

	start_extra(0, NULL);
	standby_args[1] = extra[0].url;
	start_extra(1, standby_args);
	m = client_for(extra[1].url, 0, 10000);
	direct = client_for(extra[0].url, 0, 10000);

	/* POST and PUT keep their method and body through the 307. */
	OK(m->create_app(m, app, 0, &ref, E));
	cr_assert_eq(ref.created, 1);
	OK(direct->get_app(direct, "/r/app", &got, E));
	json_object_put(got);
	json_object_object_add(app, "instances", json_object_new_int(1));
	OK(m->put_app(m, "/r/app", app, PACER_MF_FORCE, &ref, E));
	cr_assert_eq(ref.created, 0);
	OK(direct->get_app(direct, "/r/app", &got, E));
	cr_assert_eq(jint(got, "instances"), 1);
	json_object_put(got);
	req = bt_sim_last(&extra[0], "PUT", "/v2/apps/r/app");
	cr_assert_not_null(req, "the leader never saw the PUT");
	cr_assert_str_eq(bt_header(req, "content-type"), "application/json");
	json_object_put(req);
	OK(m->info(m, &info, E));
	json_object_put(info);
	OK(m->delete_app(m, "/r/app", PACER_MF_FORCE, &ref, E));
	cr_assert_eq(direct->get_app(direct, "/r/app", &got, NULL), PACER_ENOTFOUND);

	json_object_put(app);
	pacer_marathon_free(direct);
	pacer_marathon_free(m);
}

/* ---- auth ------------------------------------------------------------- */

static void secret_file(char **dir, char **path, const char *content)
{
	*dir = test_tmpdir("pacer-auth");
	cr_assert_not_null(*dir);
	cr_assert(asprintf(path, "%s/secret", *dir) > 0);
	cr_assert_eq(test_write_file(*path, content), 0);
}

static int info_with(const char *urls, const char *user, const char *password, const char *token,
                     struct pacer_error **err)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *m;
	struct json_object *info = NULL;
	int rc;

	o.urls = urls;
	o.user = user;
	o.password = password;
	o.token = token;
	o.retries = 0;
	m = client_opts(&o);
	rc = m->info(m, &info, err);
	json_object_put(info);
	pacer_marathon_free(m);
	return rc;
}

Test(client_flags, basic_auth)
{
	char *dir = NULL, *file = NULL, url[256];
	const char *args[3] = {"--http-credentials-file", NULL, NULL};
	struct pacer_error *err = NULL;
	struct json_object *req;

	secret_file(&dir, &file, "alice:s3cret-pw\n");
	args[1] = file;
	start_extra(0, args);

	cr_assert_eq(info_with(extra[0].url, NULL, NULL, NULL, &err), PACER_EAUTH);
	cr_assert_eq(err->http_status, 401);
	cr_assert(strstr(err->message, "PACER_MARATHON_USER"), "%s", err->message);
	pacer_error_clear(&err);

	cr_assert_eq(info_with(extra[0].url, "alice", "wrong-pw-777", NULL, &err), PACER_EAUTH);
	cr_assert_null(strstr(err->message, "wrong-pw-777"), "secret in message: %s", err->message);
	cr_assert_null(strstr(err->url, "wrong-pw-777"));
	pacer_error_clear(&err);

	cr_assert_eq(info_with(extra[0].url, "alice", "s3cret-pw", NULL, &err), 0, "%s",
	             err ? err->message : "");
	req = bt_sim_last(&extra[0], "GET", "/v2/info");
	cr_assert_not_null(req);
	cr_assert_str_eq(bt_header(req, "authorization"), "Basic YWxpY2U6czNjcmV0LXB3");
	json_object_put(req);

	/* user:password in the URL works and never shows in errors. */
	cr_assert_lt(snprintf(url, sizeof(url), "http://alice:s3cret-pw@%s",
	                      extra[0].url + strlen("http://")),
	             (int)sizeof(url));
	cr_assert_eq(info_with(url, NULL, NULL, NULL, &err), 0, "%s", err ? err->message : "");
	{
		struct marathon_options o = MARATHON_OPTIONS_INIT;
		struct pacer_marathon *m;
		struct json_object *got = NULL;
		char *text;

		o.urls = url;
		m = client_opts(&o);
		cr_assert_eq(m->get_app(m, "/nope", &got, &err), PACER_ENOTFOUND);
		text = pacer_error_format(err);
		cr_assert_null(strstr(text, "s3cret-pw"), "secret in error: %s", text);
		cr_assert_null(strstr(err->url, "s3cret-pw"), "secret in url: %s", err->url);
		free(text);
		pacer_error_clear(&err);
		pacer_marathon_free(m);
	}
	test_rmrf(dir);
	free(dir);
	free(file);
}

Test(client_flags, token_auth)
{
	char *dir = NULL, *file = NULL;
	const char *args[3] = {"--token-file", NULL, NULL};
	struct pacer_error *err = NULL;
	struct json_object *req;

	secret_file(&dir, &file, "tok-ABC123xyz\n");
	args[1] = file;
	start_extra(0, args);

	cr_assert_eq(info_with(extra[0].url, NULL, NULL, NULL, &err), PACER_EAUTH);
	pacer_error_clear(&err);
	cr_assert_eq(info_with(extra[0].url, NULL, NULL, "tok-wrong-0000", &err), PACER_EAUTH);
	cr_assert_null(strstr(err->message, "tok-wrong-0000"), "secret in message: %s",
	               err->message);
	pacer_error_clear(&err);
	cr_assert_eq(info_with(extra[0].url, NULL, NULL, "tok-ABC123xyz", &err), 0, "%s",
	             err ? err->message : "");
	req = bt_sim_last(&extra[0], "GET", "/v2/info");
	cr_assert_not_null(req);
	cr_assert_str_eq(bt_header(req, "authorization"), "token=tok-ABC123xyz");
	json_object_put(req);

	test_rmrf(dir);
	free(dir);
	free(file);
}

/* ---- concurrency ------------------------------------------------------ */

struct worker {
	struct pacer_marathon *m;
	int idx;
	int failures;
	char first_error[256];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char id[64];
	struct json_object *app;

	snprintf(id, sizeof(id), "/par/app-%d", w->idx);
	app = app_json(id, 0, "sleep 1");
	for (int i = 0; i < 15; i++) {
		struct pacer_error *err = NULL;
		struct json_object *out = NULL;
		struct pacer_deploy_ref ref;
		int rc;

		json_object_object_add(app, "instances", json_object_new_int(i % 2));
		rc = w->m->put_app(w->m, id, app, PACER_MF_FORCE, &ref, &err);
		if (!rc) {
			rc = w->m->get_app(w->m, id, &out, &err);
			json_object_put(out);
			out = NULL;
		}
		if (!rc) {
			rc = w->m->list_apps(w->m, &out, &err);
			json_object_put(out);
			out = NULL;
		}
		if (!rc) {
			rc = w->m->info(w->m, &out, &err);
			json_object_put(out);
		}
		if (rc) {
			if (!w->failures++)
				snprintf(w->first_error, sizeof(w->first_error), "%s",
				         err ? err->message : "?");
		}
		pacer_error_free(err);
	}
	json_object_put(app);
	return NULL;
}

Test(client, eight_threads_share_one_client)
{
	struct pacer_marathon *m = client_for(sim.url, 2, 20000);
	struct worker w[8];
	pthread_t t[8];
	struct json_object *apps = NULL;

	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){m, i, 0, ""};
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(w[i].failures, 0, "thread %d: %d failures, first: %s", i,
		             w[i].failures, w[i].first_error);
	OK(m->list_apps(m, &apps, E));
	for (int i = 0; i < 8; i++) {
		char id[64];

		snprintf(id, sizeof(id), "/par/app-%d", i);
		cr_assert(array_has_app(apps, id), "%s missing", id);
	}
	json_object_put(apps);
	pacer_marathon_free(m);
}

/* ---- events ----------------------------------------------------------- */

struct ev {
	struct pacer_marathon *m;
	const char *const *types;
	pthread_mutex_t mu;
	struct pacer_buf seen; /* "type id\n" lines */
	int attached, events;
	volatile sig_atomic_t stop;
	int rc, done;
	struct pacer_error *err;
};

static int on_event(void *ctx, const char *type, struct json_object *data)
{
	struct ev *e = ctx;
	const char *id = jstr(data, "id");

	pthread_mutex_lock(&e->mu);
	pacer_buf_printf(&e->seen, "%s %s\n", type, id ? id : "-");
	if (!strcmp(type, "event_stream_attached"))
		e->attached = 1;
	e->events++;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

static void *ev_thread(void *arg)
{
	struct ev *e = arg;
	int rc = marathon_events_open(e->m, e->types, on_event, e, &e->stop, &e->err);

	pthread_mutex_lock(&e->mu);
	e->rc = rc;
	e->done = 1;
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* Wait until `needle` was seen (or, with needle NULL, until attached). */
static int ev_wait(struct ev *e, const char *needle, long ms)
{
	long long deadline = pacer_now_ms() + ms;

	for (;;) {
		int hit;

		pthread_mutex_lock(&e->mu);
		hit = needle ? strstr(pacer_buf_cstr(&e->seen), needle) != NULL : e->attached;
		pthread_mutex_unlock(&e->mu);
		if (hit)
			return 1;
		if (pacer_now_ms() > deadline)
			return 0;
		pacer_sleep_ms(20);
	}
}

static void ev_run(const char *url, const char *const *types, int wait_attached)
{
	struct ev e = {.types = types, .seen = PACER_BUF_INIT};
	struct json_object *app = app_json("/ev/app", 1, "sleep 1000");
	struct pacer_deploy_ref ref;
	pthread_t t;
	char needle[128];

	pthread_mutex_init(&e.mu, NULL);
	e.m = client_for(url, 0, 10000);
	cr_assert_eq(pthread_create(&t, NULL, ev_thread, &e), 0);
	if (wait_attached)
		cr_assert(ev_wait(&e, NULL, 5000), "no event_stream_attached; saw: %s",
		          pacer_buf_cstr(&e.seen));
	else
		pacer_sleep_ms(500); /* filtered: nothing tells us we are attached */
	OK(e.m->create_app(e.m, app, 0, &ref, E));
	snprintf(needle, sizeof(needle), "deployment_success %s", ref.deployment_id);
	cr_assert(ev_wait(&e, needle, 15000), "no %s; saw: %s", needle, pacer_buf_cstr(&e.seen));
	e.stop = 1;
	pthread_join(t, NULL);
	cr_assert_eq(e.rc, 0, "events: %s", e.err ? e.err->message : "?");
	if (types) {
		cr_assert_null(strstr(pacer_buf_cstr(&e.seen), "api_post_event"),
		               "filter ignored: %s", pacer_buf_cstr(&e.seen));
	} else {
		cr_assert(strstr(pacer_buf_cstr(&e.seen), "api_post_event"), "%s",
		          pacer_buf_cstr(&e.seen));
	}
	pacer_error_free(e.err);
	pacer_buf_release(&e.seen);
	pthread_mutex_destroy(&e.mu);
	json_object_put(app);
	pacer_marathon_free(e.m);
}

Test(client_flags, event_stream)
{
	const char *args[] = {"--task-launch-ms", "20", "--health-ms", "20", NULL};

	start_extra(0, args);
	ev_run(extra[0].url, NULL, 1);
}

Test(client_flags, event_stream_filtered)
{
	const char *args[] = {"--task-launch-ms", "20", "--health-ms", "20", NULL};
	const char *types[] = {"deployment_success", "deployment_failed", NULL};

	start_extra(0, args);
	ev_run(extra[0].url, types, 0);
}

Test(client_flags, event_stream_through_a_standby)
{
	const char *args[] = {"--task-launch-ms", "20", "--health-ms", "20", NULL};
	const char *standby_args[3] = {"--standby-redirect", NULL, NULL};

	start_extra(0, args);
	standby_args[1] = extra[0].url;
	start_extra(1, standby_args);
	ev_run(extra[1].url, NULL, 1);
}

Test(client, event_stream_stops_on_flag_with_no_events)
{
	struct ev e = {.seen = PACER_BUF_INIT};
	pthread_t t;
	long long t0;

	pthread_mutex_init(&e.mu, NULL);
	e.m = client_for(sim.url, 0, 10000);
	cr_assert_eq(pthread_create(&t, NULL, ev_thread, &e), 0);
	cr_assert(ev_wait(&e, NULL, 5000), "no event_stream_attached");
	t0 = pacer_now_ms();
	e.stop = 1;
	pthread_join(t, NULL);
	cr_assert_lt(pacer_now_ms() - t0, 2500, "stop flag not noticed");
	cr_assert_eq(e.rc, 0);
	pacer_buf_release(&e.seen);
	pthread_mutex_destroy(&e.mu);
	pacer_marathon_free(e.m);
}

Test(client, refuses_a_reply_over_the_cap)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *big = client_for(sim.url, 0, 10000), *m;
	struct pacer_error *err = NULL;
	struct json_object *app, *list = NULL;
	struct pacer_deploy_ref ref;
	char cmd[4096];

	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	app = app_json("/big", 0, cmd);
	OK(big->create_app(big, app, 0, &ref, E));
	o.urls = sim.url;
	o.max_body = 1024;
	m = client_opts(&o);
	cr_assert_eq(m->list_apps(m, &list, &err), PACER_EHTTP);
	cr_assert_null(list);
	cr_assert(strstr(err->message, "larger than 1024 bytes"), "%s", err->message);
	pacer_error_clear(&err);
	/* The default cap takes it. */
	OK(big->list_apps(big, &list, E));
	cr_assert(array_has_app(list, "/big"));
	json_object_put(list);
	json_object_put(app);
	pacer_marathon_free(m);
	pacer_marathon_free(big);
}

static int count_app(void *ctx, const char *data, size_t len)
{
	(void)data;
	(void)len;
	(*(int *)ctx)++;
	return 0;
}

Test(client, a_2xx_that_is_not_marathon_json_is_refused)
{
	struct pacer_marathon *m = client_for(sim.url, 0, 10000);
	struct json_object *info = NULL;
	struct pacer_error *err = NULL;
	int apps = 0;

	/* A JSON value followed by something else is not a reply either. */
	inject(&sim, "{\"status\":200,\"count\":1,\"path\":\"/v2/info\",\"body\":\"{} <html>\"}");
	cr_assert_eq(m->info(m, &info, &err), PACER_EHTTP);
	cr_assert_null(info);
	cr_assert(strstr(err->message, "200 reply is not JSON"), "%s", err->message);
	cr_assert_eq(err->http_status, 200);
	cr_assert(strstr(err->url, "/v2/info"), "%s", err->url);
	pacer_error_clear(&err);

	inject(&sim,
	       "{\"status\":200,\"count\":1,\"path\":\"/v2/apps\",\"body\":\"{\\\"app\\\":[]}\"}");
	cr_assert_eq(m->list_apps_raw(m, count_app, &apps, &err), PACER_EHTTP);
	cr_assert(strstr(err->message, "not Marathon's app list"), "%s", err->message);
	cr_assert_eq(err->http_status, 200);
	cr_assert_eq(apps, 0);
	pacer_error_clear(&err);
	pacer_marathon_free(m);
}

static void five_infos(void *arg)
{
	struct pacer_marathon *m = arg;

	for (int i = 0; i < 5; i++) {
		struct json_object *info = NULL;

		OK(m->info(m, &info, E));
		json_object_put(info);
	}
}

Test(client, keeps_the_connection_alive)
{
	struct pacer_marathon *m = client_for(sim.url, 0, 10000);
	char *log = capture_log(five_infos, m);

	cr_assert_eq(count_substr(log, "GET "), 5, "%s", log);
	cr_assert_eq(count_substr(log, "(new connection)"), 1, "%s", log);
	cr_assert_eq(count_substr(log, "(reused connection)"), 4, "%s", log);
	free(log);
	pacer_marathon_free(m);
}

Test(client, https_to_a_plain_server_and_a_bad_ca_file_fail_clearly)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *m;
	struct pacer_error *err = NULL;
	struct json_object *info = NULL;
	char url[160];

	snprintf(url, sizeof(url), "https://%s", sim.url + strlen("http://"));
	o.urls = url;
	o.retries = 0;
	m = client_opts(&o);
	cr_assert_eq(m->info(m, &info, &err), PACER_EUNREACHABLE);
	cr_assert(strstr(err->message, url), "%s", err->message);
	pacer_error_clear(&err);
	pacer_marathon_free(m);

	o.ca_file = "/nonexistent/pacer-ca.pem";
	m = client_opts(&o);
	cr_assert_eq(m->info(m, &info, &err), PACER_EUNREACHABLE);
	cr_assert(strstr(err->message, "--marathon-ca-file"), "%s", err->message);
	pacer_error_clear(&err);
	pacer_marathon_free(m);
}

/* Replies as Marathon writes them (injected verbatim), and what the caller must get. */
struct reply_case {
	int status;
	char body[256];
	int code;
	char must[2][128];
};

static struct reply_case reply_cases[] = {
    {400,
     "{\"message\":\"Invalid JSON\",\"details\":\"Unexpected end-of-input\"}",
     PACER_EINVALID,
     {"400 Invalid JSON: Unexpected end-of-input", "GET http://"}},
    {422,
     "{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/cpus\",\"errors\":["
     "\"error.min\"]},{\"path\":\"/\",\"errors\":[\"a\",\"b\"]}]}",
     PACER_EINVALID,
     {"422 Object is not valid: /cpus: error.min; /: a, b", "/v2/info"}},
    {409,
     "{\"message\":\"App is locked by one or more deployments.\",\"deployments\":[{\"id\":"
     "\"d-1\"},{\"id\":\"d-2\"}]}",
     PACER_ELOCKED,
     {"409 App is locked", "(deployments: d-1, d-2)"}},
    {409,
     "{\"message\":\"An app with id [/x] already exists.\"}",
     PACER_ECONFLICT,
     {"409 An app with id [/x] already exists.", ""}},
    {404,
     "{\"message\":\"App '/x' does not exist\"}",
     PACER_ENOTFOUND,
     {"404 App '/x' does not exist", ""}},
    {401,
     "<html><body>Unauthorized</body></html>",
     PACER_EAUTH,
     {"401 Unauthorized", "PACER_MARATHON_TOKEN"}},
    {403,
     "{\"message\":\"Not Authorized to perform this action!\"}",
     PACER_EAUTH,
     {"403 Not Authorized to perform this action!", ""}},
    {500,
     "java.lang.NullPointerException at line 1",
     PACER_EHTTP,
     {"500 Internal Server Error: java.lang.NullPointerException", ""}},
    {418, "", PACER_EHTTP, {"418 unexpected status", ""}},
};

ParameterizedTestParameters(client, error_replies)
{
	return cr_make_param_array(struct reply_case, reply_cases,
	                           sizeof(reply_cases) / sizeof(reply_cases[0]));
}

ParameterizedTest(struct reply_case *c, client, error_replies)
{
	struct pacer_marathon *m = client_for(sim.url, 3, 10000);
	struct json_object *fault = json_object_new_object(), *info = NULL;
	struct pacer_error *err = NULL;
	int before = bt_sim_count(&sim, "GET", "/v2/info");

	json_object_object_add(fault, "status", json_object_new_int(c->status));
	json_object_object_add(fault, "count", json_object_new_int(1));
	json_object_object_add(fault, "path", json_object_new_string("/v2/info"));
	json_object_object_add(fault, "body", json_object_new_string(c->body));
	inject(&sim, json_object_to_json_string(fault));
	json_object_put(fault);
	cr_assert_eq(m->info(m, &info, &err), c->code, "status %d: %s", c->status,
	             err ? err->message : "");
	cr_assert_null(info);
	cr_assert_eq(err->http_status, c->status);
	cr_assert(strstr(err->url, "/v2/info"), "%s", err->url);
	for (int i = 0; i < 2; i++)
		cr_assert(strstr(err->message, c->must[i]), "'%s' lacks '%s'", err->message,
		          c->must[i]);
	cr_assert_eq(bt_sim_count(&sim, "GET", "/v2/info") - before, 1);
	pacer_error_clear(&err);
	pacer_marathon_free(m);
}
