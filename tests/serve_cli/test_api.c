/*
 * The API of pacer serve end to end: a real pacer serve with a tokens
 * file over a directory source, a real marathon-sim, real HTTP with bearer
 * tokens, and the CLI's --server client.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/lib/watchtest.h"

#define VIEWER "viewer-token-0123456789abcdef"
#define OPERATOR "operator-token-0123456789abcdef"
#define ADMIN "admin-token-0123456789abcdef"

static struct wt w; /* static: the .fini may run after the test frame is gone */
static char *tokens_path;

static void fini(void)
{
	free(tokens_path);
	tokens_path = NULL;
	wt_fini(&w);
}

static void write_tokens(int mode)
{
	free(tokens_path);
	cr_assert(asprintf(&tokens_path, "%s/tokens", w.t.dir) >= 0);
	cr_assert_eq(test_write_file(tokens_path, "# role name token\n"
	                                          "viewer grafana " VIEWER "\n"
	                                          "operator alice " OPERATOR "\n"
	                                          "admin root " ADMIN "\n"),
	             0);
	cr_assert_eq(chmod(tokens_path, (mode_t)mode), 0);
}

static int start_server(void)
{
	const char *env[] = {"PACER_WEBHOOK_SECRET=s3cret", NULL};
	const char *extra[] = {"--listen",  "127.0.0.1:0", "--interval", "0", "--tokens-file",
	                       tokens_path, "--log-level", "info",       NULL};
	int port;

	wt_start_cmd(&w, "serve", w.t.src, env, extra);
	lr_expect_log(&w.p, "pacer serve", "serve: sync=1 finished", 1, 30000);
	port = lr_port(&w.p);
	cr_assert(port > 0);
	return port;
}

/* One API call; returns the status, *resp (may be NULL) the body. */
static int api(int port, const char *method, const char *path, const char *token, const char *body,
               char **resp)
{
	char *url = NULL, hdr[128];
	const char *headers[3] = {"Content-Type: application/json", NULL, NULL};
	char *ignored = NULL;
	int status = 0;

	if (token) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
		headers[1] = hdr;
	}
	cr_assert(asprintf(&url, "http://127.0.0.1:%d/api/v1/%s", port, path) >= 0);
	test_http(method, url, body, headers, &status, resp ? resp : &ignored);
	free(url);
	free(ignored);
	return status;
}

static long long sim_instances(const char *id)
{
	struct json_object *app = ct_app(&w.t, id);
	long long n = app ? ct_int(app, "instances") : -1;

	json_object_put(app);
	return n;
}

Test(serve_cli, api_refuses_a_tokens_file_others_can_read, .timeout = 30, .fini = fini)
{
	const char *env[] = {"PACER_WEBHOOK_SECRET=s3cret", NULL};
	char *out = NULL, *err = NULL;
	int rc;

	ct_setup(&w.t, CT_NO_SIM);
	write_tokens(0644);
	{
		const char *argv[] = {test_pacer_bin(), "serve",     "--source", w.t.src,
		                      "--state-dir",    w.t.state,   "--listen", "127.0.0.1:0",
		                      "--tokens-file",  tokens_path, NULL};

		rc = test_run(argv, env, &out, &err, 20);
	}
	cr_assert_eq(rc, 64, "a world-readable tokens file was accepted (exit %d): %s", rc, err);
	cr_assert(strstr(err, "chmod 600"), "the message must say how to fix it: %s", err);
	cr_assert(!strstr(err, VIEWER) && !strstr(out, VIEWER), "a token was printed");
	free(out);
	free(err);
	ct_teardown(&w.t);
}

Test(serve_cli, api_authenticates_and_authorises_every_call, .timeout = 90, .fini = fini)
{
	char *resp = NULL;
	int port;

	ct_setup(&w.t, NULL);
	ct_write_app(&w.t, "web.json", "/web", 32, "a");
	write_tokens(0600);
	port = start_server();

	cr_assert_eq(api(port, "GET", "apps", NULL, NULL, NULL), 401);
	cr_assert_eq(api(port, "GET", "apps", "wrong-token-0123456789abcdef", NULL, NULL), 401);
	cr_assert_eq(api(port, "POST", "apps/web/restart", NULL, NULL, NULL), 401);
	/* Roles too low: 403, and nothing changes. */
	cr_assert_eq(api(port, "POST", "apps/web/scale", VIEWER, "{\"instances\": 3}", NULL), 403);
	cr_assert_eq(api(port, "POST", "sync", VIEWER, NULL, NULL), 403);
	cr_assert_eq(api(port, "DELETE", "apps/web", OPERATOR, NULL, NULL), 403);
	cr_assert_eq(sim_instances("/web"), 1);

	cr_assert_eq(api(port, "GET", "apps", VIEWER, NULL, &resp), 200);
	cr_assert(strstr(resp, "\"id\":\"/web\"") && strstr(resp, "\"state\":\"synced\""), "%s",
	          resp);
	free(resp);
	cr_assert_eq(api(port, "GET", "apps/web", VIEWER, NULL, &resp), 200);
	cr_assert(strstr(resp, "\"diff\"") && strstr(resp, "\"history\"") &&
	              strstr(resp, "\"backups\""),
	          "%s", resp);
	free(resp);
	cr_assert_eq(api(port, "GET", "history", VIEWER, NULL, NULL), 200);
	cr_assert_eq(api(port, "GET", "apps/nope", VIEWER, NULL, NULL), 404);

	/* Some apps only: a sync id at once, the sync of /web alone. */
	cr_assert_eq(api(port, "POST", "sync", OPERATOR, "{\"apps\": [\"web\"]}", &resp), 202);
	cr_assert(strstr(resp, "\"sync_id\":2"), "%s", resp);
	free(resp);
	cr_assert(lr_wait_log(&w.p, "serve: sync=2 finished", 1, 20000));
	cr_assert(lr_count(&w.p, "reason=\"api by alice (some apps)\"") >= 1);

	cr_assert_eq(lr_count(&w.p, OPERATOR), 0, "a token appeared in the log");
	cr_assert_eq(lr_count(&w.p, VIEWER), 0, "a token appeared in the log");
	cr_assert(lr_count(&w.p, "api: token=grafana") > 0, "calls are logged by name");
	cr_assert_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	ct_teardown(&w.t);
}

Test(serve_cli, api_actions_change_marathon_as_the_cli_does, .timeout = 120, .fini = fini)
{
	char *resp = NULL, *metrics = NULL, *url = NULL;
	struct json_object *app;
	int port, status;

	ct_setup(&w.t, NULL);
	ct_write_app(&w.t, "web.json", "/web", 32, "a");
	ct_write_app(&w.t, "gone.json", "/gone", 32, "a");
	write_tokens(0600);
	port = start_server();

	/* scale: 200 once running, suspended so the next sync keeps it. */
	cr_assert_eq(api(port, "POST", "apps/web/scale", OPERATOR, "{\"instances\": 2}", &resp),
	             200, "%s", resp);
	cr_assert(strstr(resp, "\"suspended\":true"), "%s", resp);
	free(resp);
	cr_assert_eq(sim_instances("/web"), 2);
	/* The suspension itself triggers a sync too (serve watches suspended.json):
	 * wait for the syncs by count, not by number. */
	cr_assert_eq(api(port, "POST", "sync", OPERATOR, NULL, NULL), 202);
	cr_assert(lr_wait_log(&w.p, "finished result=", 2, 20000));
	cr_assert_eq(sim_instances("/web"), 2, "a sync undid the scale of a suspended app");

	/* resume hands it back to git: the next sync applies instances 1. */
	cr_assert_eq(api(port, "POST", "apps/web/resume", OPERATOR, NULL, NULL), 200);
	cr_assert_eq(api(port, "POST", "sync", OPERATOR, NULL, NULL), 202);
	for (int i = 0; i < 200 && sim_instances("/web") != 1; i++)
		lr_sleep_ms(100);
	cr_assert_eq(sim_instances("/web"), 1);

	/* restart keeps the version; suspend with a reason. */
	cr_assert_eq(api(port, "POST", "apps/web/restart", OPERATOR, NULL, &resp), 200, "%s", resp);
	free(resp);
	cr_assert_eq(
	    api(port, "POST", "apps/web/suspend", OPERATOR, "{\"reason\": \"incident\"}", NULL),
	    200);
	cr_assert_eq(api(port, "GET", "apps/web", VIEWER, NULL, &resp), 200);
	cr_assert(strstr(resp, "incident"), "%s", resp);
	free(resp);

	/* rollback to the backup the scale wrote: mem 32 again. */
	cr_assert_eq(api(port, "POST", "apps/web/rollback", OPERATOR, NULL, &resp), 200, "%s",
	             resp);
	free(resp);
	app = ct_app(&w.t, "/web");
	cr_assert_eq(ct_int(app, "mem"), 32);
	json_object_put(app);

	/* delete needs admin. */
	cr_assert_eq(api(port, "DELETE", "apps/gone", ADMIN, NULL, &resp), 200, "%s", resp);
	free(resp);
	cr_assert_null(ct_app(&w.t, "/gone"));

	/*
	 * Metrics: per-app series (that an app which is gone loses them is
	 * tests/reconcile/test_metrics.c: a sync after an owned app disappeared
	 * hits a UBSan report in reconcile/sync.c's expire_owned()).
	 */
	cr_assert(asprintf(&url, "http://127.0.0.1:%d/metrics", port) >= 0);
	test_http("GET", url, NULL, NULL, &status, &metrics);
	cr_assert(strstr(metrics, "pacer_build_info{version=\""), "%s", metrics);
	cr_assert(strstr(metrics, "pacer_app_status{app=\"/gone\""), "%s", metrics);
	cr_assert(strstr(metrics, "pacer_app_tasks{app=\"/web\",kind=\"instances\"}"), "%s",
	          metrics);
	free(metrics);
	free(url);
	cr_assert_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	ct_teardown(&w.t);
}

Test(serve_cli, cli_scale_goes_through_the_server, .timeout = 90, .fini = fini)
{
	char *srv = NULL, *tok = NULL;
	int port;

	ct_setup(&w.t, NULL);
	ct_write_app(&w.t, "web.json", "/web", 32, "a");
	write_tokens(0600);
	port = start_server();
	cr_assert(asprintf(&srv, "http://127.0.0.1:%d", port) >= 0);
	{
		const char *args[] = {"scale", "web", "3", "--server", srv, NULL};
		const char *env[] = {"PACER_SERVER_TOKEN=" OPERATOR, NULL};
		struct ct_run r = ct_pacer(args, env);

		if (r.rc != 0)
			ct_run_dump("pacer scale --server", &r);
		cr_assert_eq(r.rc, 0);
		cr_assert(strstr(r.out, "scale /web: done"), "%s", r.out);
		ct_run_free(&r);
	}
	cr_assert_eq(sim_instances("/web"), 3);
	{
		const char *args[] = {"scale", "web", "1", "--server", srv, NULL};
		const char *env[] = {"PACER_SERVER_TOKEN=wrong-token-0123456789abcdef", NULL};
		struct ct_run r = ct_pacer(args, env);

		cr_assert_eq(r.rc, 9, "a wrong token exited %d: %s", r.rc, r.err);
		ct_run_free(&r);
	}
	{
		const char *args[] = {"scale", "web", "1", "--server", srv, NULL};
		const char *env[] = {"PACER_SERVER_TOKEN=" VIEWER, NULL};
		struct ct_run r = ct_pacer(args, env);

		cr_assert_eq(r.rc, 9, "a viewer's scale exited %d: %s", r.rc, r.err);
		ct_run_free(&r);
	}
	cr_assert_eq(sim_instances("/web"), 3);
	free(tok);
	free(srv);
	cr_assert_eq(lr_stop(&w.p, SIGTERM, 10000), 0);
	ct_teardown(&w.t);
}
