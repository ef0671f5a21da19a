/*
 * watchtest.c: pacer watch in the background for tests/watch/ (see
 * watchtest.h).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/watchtest.h"

void wt_start_cmd(struct wt *w, const char *cmd, const char *source, const char *const *env_extra,
                  const char *const *extra)
{
	const char *argv[52] = {test_pacer_bin(), cmd,          "--source",    source,
	                        "--marathon",     w->t.sim.url, "--state-dir", w->t.state,
	                        "--backup-dir",   w->t.backups};
	size_t n = 10;
	char *log = NULL;

	for (size_t i = 0; extra && extra[i]; i++) {
		cr_assert(n < 51, "too many arguments for pacer %s", cmd);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	cr_assert(asprintf(&log, "%s/%s.log", w->t.dir, cmd) >= 0);
	lr_start(&w->p, argv, env_extra, log);
	free(log);
}

void wt_start(struct wt *w, const char *source, const char *const *extra)
{
	const char *args[48] = {"--debounce", "200", "--interval", "1", "--log-level", "info"};
	size_t n = 6;

	for (size_t i = 0; extra && extra[i]; i++) {
		cr_assert(n < 47, "too many arguments for pacer watch");
		args[n++] = extra[i];
	}
	args[n] = NULL;
	wt_start_cmd(w, "watch", source, NULL, args);
}

void wt_start_synced(struct wt *w, const char *source, const char *const *extra)
{
	wt_start(w, source, extra);
	wt_expect_log(w, "sync result=converged reason=\"startup\"", 1, 15000);
}

void wt_setup_web(struct wt *w, const char *const *extra)
{
	ct_setup(&w->t, NULL);
	wt_write_app(w->t.src, "web.json", "/web", 32);
	wt_start_synced(w, w->t.src, extra);
}

void wt_stop(struct wt *w)
{
	char *log = lr_log(&w->p);
	int rc = lr_stop(&w->p, SIGTERM, 10000);

	if (rc != 0)
		fprintf(stderr, "----- pacer watch log -----\n%s\n", log);
	free(log);
	cr_assert_eq(rc, 0, "pacer watch exited %d on SIGTERM, expected 0", rc);
}

void wt_fini(struct wt *w)
{
	if (w->p.pid)
		lr_stop(&w->p, SIGKILL, 2000);
	ct_fini();
}

void wt_expect_log(struct wt *w, const char *needle, int n, int timeout_ms)
{
	lr_expect_log(&w->p, "pacer watch", needle, n, timeout_ms);
}

void wt_expect_count(struct wt *w, const char *needle, int n, const char *why)
{
	int got = lr_count(&w->p, needle);

	if (got != n) {
		lr_dump(&w->p, "pacer watch");
		cr_assert_fail("'%s' logged %d times, expected %d: %s", needle, got, n, why);
	}
}

void wt_expect_stream(struct wt *w, int n, int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;

	while (ct_count_requests(&w->t, "GET", "/v2/events") < n) {
		if (lr_now_ms() >= end) {
			lr_dump(&w->p, "pacer watch");
			cr_assert_fail(
			    "pacer watch did not ask for /v2/events %d times within %d ms", n,
			    timeout_ms);
		}
		lr_sleep_ms(50);
	}
	/* The request is logged before it is answered: let the stream attach. */
	lr_sleep_ms(300);
}

char *wt_app_json(const char *id, int mem, const char *extra)
{
	char *s = NULL;

	cr_assert(asprintf(&s,
	                   "{\n  \"id\": \"%s\",\n  \"cmd\": \"sleep 1000\",\n  \"cpus\": 0.1,\n"
	                   "  \"mem\": %d,\n  \"instances\": 1%s\n}\n",
	                   id, mem, extra ? extra : "") >= 0);
	return s;
}

/* dir/rel holding wt_app_json(id, mem, extra). */
static void write_app_json(const char *dir, const char *rel, const char *id, int mem,
                           const char *extra)
{
	char *p = NULL, *s = wt_app_json(id, mem, extra);

	cr_assert(asprintf(&p, "%s/%s", dir, rel) >= 0);
	cr_assert_eq(test_write_file(p, s), 0, "cannot write %s", p);
	free(p);
	free(s);
}

void wt_write_app(const char *dir, const char *rel, const char *id, int mem)
{
	write_app_json(dir, rel, id, mem, NULL);
}

/* A command health check: the simulator passes it unless SIM_BEHAVIOR says otherwise. */
#define HEALTH_CHECK                                                                               \
	",\n  \"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"}}]"

void wt_write_checked_app(const char *dir, const char *rel, const char *id, int mem, int stuck)
{
	write_app_json(dir, rel, id, mem,
	               stuck ? ",\n  \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"}" HEALTH_CHECK
	                     : HEALTH_CHECK);
}

int wt_sim_mem(struct wt *w, const char *id)
{
	struct json_object *app = ct_app(&w->t, id), *v;
	int mem = -1;

	if (app && json_object_object_get_ex(app, "mem", &v))
		mem = json_object_get_int(v);
	json_object_put(app);
	return mem;
}

void wt_expect_mem(struct wt *w, const char *id, int mem, int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;

	while (wt_sim_mem(w, id) != mem) {
		if (lr_now_ms() >= end) {
			lr_dump(&w->p, "pacer watch");
			cr_assert_fail(
			    "app %s: mem is %d in the simulator, expected %d within %d ms", id,
			    wt_sim_mem(w, id), mem, timeout_ms);
		}
		lr_sleep_ms(50);
	}
}

void wt_put_mem(struct wt *w, const char *id, int mem)
{
	char *body = wt_app_json(id, mem, NULL), *path = NULL;
	int st;

	cr_assert(asprintf(&path, "/v2/apps%s", id) >= 0);
	st = ct_http(&w->t, "PUT", path, body, NULL);
	cr_assert(st == 200 || st == 201, "PUT %s answered %d", path, st);
	free(body);
	free(path);
}
