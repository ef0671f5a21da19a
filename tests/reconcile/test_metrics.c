/*
 * Unit tests for reconcile/metrics.c: exact Prometheus text, escaping,
 * histogram arithmetic, refusals, and pacer's own families.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/metrics.h"

static char *render(struct metrics *m)
{
	struct pacer_buf b = PACER_BUF_INIT;

	cr_assert_eq(metrics_render(m, &b), 0);
	return pacer_buf_detach(&b);
}

Test(metrics, exact_text)
{
	struct metrics *m = NULL;
	struct pacer_error *err = NULL;
	static const double bounds[] = {0.5, 2};
	const char *l_ok[] = {"result", "ok", NULL};
	const char *l_weird[] = {"result", "a\"b\\c\nd", NULL};
	const char *l_h[] = {"app", "/prod/web", NULL};
	char *text;

	cr_assert_eq(metrics_new(&m, &err), 0);
	cr_assert_eq(metrics_define(m, "x_total", METRICS_COUNTER, "Things, with \\ and\nnewline.",
	                            NULL, 0, &err),
	             0);
	cr_assert_eq(metrics_define(m, "x_temp", METRICS_GAUGE, "A gauge.", NULL, 0, &err), 0);
	cr_assert_eq(
	    metrics_define(m, "x_seconds", METRICS_HISTOGRAM, "Durations.", bounds, 2, &err), 0);
	cr_assert_eq(metrics_add(m, "x_total", l_ok, 1, &err), 0);
	cr_assert_eq(metrics_add(m, "x_total", l_weird, 2, &err), 0);
	cr_assert_eq(metrics_add(m, "x_total", l_ok, 2, &err), 0);
	cr_assert_eq(metrics_set(m, "x_temp", NULL, 0.1, &err), 0);
	cr_assert_eq(metrics_add(m, "x_temp", NULL, -1, &err), 0);
	cr_assert_eq(metrics_observe(m, "x_seconds", l_h, 0.25, &err), 0);
	cr_assert_eq(metrics_observe(m, "x_seconds", l_h, 0.5, &err), 0); /* le is inclusive */
	cr_assert_eq(metrics_observe(m, "x_seconds", l_h, 1.5, &err), 0);
	cr_assert_eq(metrics_observe(m, "x_seconds", l_h, 100, &err), 0);
	cr_assert_null(err);

	text = render(m);
	cr_assert_str_eq(text, "# HELP x_total Things, with \\\\ and\\nnewline.\n"
	                       "# TYPE x_total counter\n"
	                       "x_total{result=\"ok\"} 3\n"
	                       "x_total{result=\"a\\\"b\\\\c\\nd\"} 2\n"
	                       "# HELP x_temp A gauge.\n"
	                       "# TYPE x_temp gauge\n"
	                       "x_temp -0.9\n"
	                       "# HELP x_seconds Durations.\n"
	                       "# TYPE x_seconds histogram\n"
	                       "x_seconds_bucket{app=\"/prod/web\",le=\"0.5\"} 2\n"
	                       "x_seconds_bucket{app=\"/prod/web\",le=\"2\"} 3\n"
	                       "x_seconds_bucket{app=\"/prod/web\",le=\"+Inf\"} 4\n"
	                       "x_seconds_sum{app=\"/prod/web\"} 102.25\n"
	                       "x_seconds_count{app=\"/prod/web\"} 4\n");
	free(text);
	metrics_free(m);
}

Test(metrics, histogram_without_labels_and_empty_family)
{
	struct metrics *m = NULL;
	static const double bounds[] = {1};
	char *text;

	cr_assert_eq(metrics_new(&m, NULL), 0);
	cr_assert_eq(metrics_define(m, "h", METRICS_HISTOGRAM, "H.", bounds, 1, NULL), 0);
	cr_assert_eq(
	    metrics_define(m, "unused_total", METRICS_COUNTER, "Never touched.", NULL, 0, NULL), 0);
	cr_assert_eq(metrics_observe(m, "h", NULL, 3, NULL), 0);
	text = render(m);
	cr_assert_str_eq(text, "# HELP h H.\n# TYPE h histogram\n"
	                       "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\n"
	                       "h_sum 3\nh_count 1\n"
	                       "# HELP unused_total Never touched.\n# TYPE unused_total counter\n");
	free(text);
	metrics_free(m);
}

struct number_case {
	double v;
	char want[24];
};

static const struct number_case number_cases[] = {
    {0, "0"},
    {3, "3"},
    {0.1, "0.1"},
    {1.0 / 3, "0.3333333333333333"},
    {-2.5, "-2.5"},
    {1e15, "1e+15"},
    {123456789, "123456789"},
    {1764268857, "1764268857"},
    {10, "10"},
    {30, "30"},
    {1800, "1800"},
    {120.5, "120.5"},
};

ParameterizedTestParameters(metrics, numbers)
{
	return cr_make_param_array(struct number_case, number_cases,
	                           sizeof(number_cases) / sizeof(number_cases[0]));
}

ParameterizedTest(const struct number_case *c, metrics, numbers)
{
	struct metrics *m = NULL;
	char *text, want[128];

	cr_assert_eq(metrics_new(&m, NULL), 0);
	cr_assert_eq(metrics_define(m, "g", METRICS_GAUGE, "G.", NULL, 0, NULL), 0);
	cr_assert_eq(metrics_set(m, "g", NULL, c->v, NULL), 0);
	text = render(m);
	snprintf(want, sizeof(want), "# HELP g G.\n# TYPE g gauge\ng %s\n", c->want);
	cr_assert_str_eq(text, want);
	/* The printed number reads back as the same double. */
	cr_assert_eq(strtod(strrchr(text, ' ') + 1, NULL), c->v);
	free(text);
	metrics_free(m);
}

Test(metrics, refusals)
{
	struct metrics *m = NULL;
	struct pacer_error *err = NULL;
	static const double bad_bounds[] = {2, 1};
	const char *bad_label[] = {"1abc", "x", NULL};
	const char *odd_label[] = {"a", NULL};
	double v = 0;

	cr_assert_eq(metrics_new(&m, NULL), 0);
	cr_assert_eq(metrics_define(m, "9bad", METRICS_COUNTER, "", NULL, 0, &err), PACER_EINVALID);
	cr_assert_not_null(strstr(err->message, "9bad"));
	pacer_error_clear(&err);
	cr_assert_eq(metrics_define(m, "h", METRICS_HISTOGRAM, "", bad_bounds, 2, &err),
	             PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(metrics_define(m, "c_total", METRICS_COUNTER, "", NULL, 0, NULL), 0);
	cr_assert_eq(metrics_define(m, "c_total", METRICS_GAUGE, "", NULL, 0, &err),
	             PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(metrics_add(m, "c_total", NULL, -1, &err), PACER_EINVALID);
	cr_assert_not_null(strstr(err->message, "only go up"));
	pacer_error_clear(&err);
	cr_assert_eq(metrics_set(m, "c_total", NULL, 1, &err), PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(metrics_observe(m, "c_total", NULL, 1, &err), PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(metrics_add(m, "nope", NULL, 1, &err), PACER_ENOTFOUND);
	pacer_error_clear(&err);
	cr_assert_eq(metrics_add(m, "c_total", bad_label, 1, &err), PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(metrics_add(m, "c_total", odd_label, 1, &err), PACER_EINVALID);
	pacer_error_clear(&err);
	/* Nothing above created a series. */
	cr_assert_eq(metrics_get(m, "c_total", NULL, &v), PACER_ENOTFOUND);
	metrics_free(m);
}

struct state_case {
	char outcome[24];
	char state[16]; /* "" = not counted */
};

static const struct state_case state_cases[] = {
    {"unchanged", "in_sync"},
    {"created", "in_sync"},
    {"updated", "in_sync"},
    {"planned", "out_of_sync"},
    {"skipped", "out_of_sync"},
    {"failed", "failed"},
    {"rolled_back", "failed"},
    {"restarted", "failed"},
    {"rollback_failed", "failed"},
    {"pruned", ""},
    {"bogus", ""},
};

ParameterizedTestParameters(metrics, app_state)
{
	return cr_make_param_array(struct state_case, state_cases,
	                           sizeof(state_cases) / sizeof(state_cases[0]));
}

ParameterizedTest(const struct state_case *c, metrics, app_state)
{
	const char *got = metrics_app_state(c->outcome);

	if (c->state[0])
		cr_assert(got && strcmp(got, c->state) == 0, "%s -> %s, want %s", c->outcome,
		          got ? got : "NULL", c->state);
	else
		cr_assert_null(got, "%s -> %s, want NULL", c->outcome, got);
}

Test(metrics, sync_result_names)
{
	cr_assert_str_eq(metrics_sync_result(0, 1), "converged");
	cr_assert_str_eq(metrics_sync_result(0, 0), "failed");
	cr_assert_str_eq(metrics_sync_result(PACER_EINVALID, 0), "invalid");
	cr_assert_str_eq(metrics_sync_result(PACER_EUNREACHABLE, 0), "unreachable");
	cr_assert_str_eq(metrics_sync_result(PACER_EFAILED, 0), "failed");
}

static double get(struct metrics *m, const char *name, const char *const *labels)
{
	double v = NAN;

	cr_assert_eq(metrics_get(m, name, labels, &v), 0, "%s missing", name);
	return v;
}

Test(metrics, pacer_families)
{
	struct metrics *m = NULL;
	struct pacer_error *err = NULL;
	struct json_object *st =
	    json_tokener_parse("{\"converged\": true, \"revision\": \"abc\", \"plan\": {}, \"apps\": ["
	                       "{\"id\": \"/a\", \"outcome\": \"unchanged\"},"
	                       "{\"id\": \"/b\", \"outcome\": \"updated\"},"
	                       "{\"id\": \"/c\", \"outcome\": \"pruned\"}]}");
	struct json_object *st2 =
	    json_tokener_parse("{\"converged\": false, \"plan\": {}, \"apps\": ["
	                       "{\"id\": \"/a\", \"outcome\": \"unchanged\"},"
	                       "{\"id\": \"/b\", \"outcome\": \"rolled_back\"},"
	                       "{\"id\": \"/d\", \"outcome\": \"skipped\"}]}");
	const char *conv[] = {"result", "converged", NULL};
	const char *failed[] = {"result", "failed", NULL};
	const char *invalid[] = {"result", "invalid", NULL};
	const char *in_sync[] = {"state", "in_sync", NULL};
	const char *out_sync[] = {"state", "out_of_sync", NULL};
	const char *app_failed[] = {"state", "failed", NULL};
	const char *hook[] = {"provider", "gitlab", "result", "unauthorized", NULL};
	char *text;

	cr_assert_eq(metrics_new_pacer(&m, &err), 0);
	/* Every known series exists at zero before anything happened. */
	text = render(m);
	cr_assert_not_null(strstr(text, "# TYPE pacer_syncs_total counter\n"
	                                "pacer_syncs_total{result=\"converged\"} 0\n"
	                                "pacer_syncs_total{result=\"failed\"} 0\n"
	                                "pacer_syncs_total{result=\"invalid\"} 0\n"
	                                "pacer_syncs_total{result=\"unreachable\"} 0\n"));
	cr_assert_not_null(strstr(text, "pacer_webhooks_total{provider=\"generic\",result="
	                                "\"bad_request\"} 0\n"));
	cr_assert_not_null(strstr(text, "pacer_last_success_timestamp_seconds 0\n"));
	free(text);

	cr_assert_eq(metrics_record_sync(m, 0, st, 0.7, 1764268800, &err), 0);
	cr_assert_eq(get(m, "pacer_syncs_total", conv), 1);
	cr_assert_eq(get(m, "pacer_apps", in_sync), 2);
	cr_assert_eq(get(m, "pacer_apps", app_failed), 0);
	cr_assert_eq(get(m, "pacer_last_success_timestamp_seconds", NULL), 1764268800);

	cr_assert_eq(metrics_record_sync(m, 0, st2, 31, 1764268900, &err), 0);
	cr_assert_eq(get(m, "pacer_syncs_total", failed), 1);
	cr_assert_eq(get(m, "pacer_apps", in_sync), 1);
	cr_assert_eq(get(m, "pacer_apps", out_sync), 1);
	cr_assert_eq(get(m, "pacer_apps", app_failed), 1);
	cr_assert_eq(get(m, "pacer_last_sync_timestamp_seconds", NULL), 1764268900);
	cr_assert_eq(get(m, "pacer_last_success_timestamp_seconds", NULL), 1764268800);

	cr_assert_eq(get(m, "pacer_apps_last_update_timestamp_seconds", NULL), 1764268900);

	/* No status: the code alone decides, the app gauges stay. */
	cr_assert_eq(metrics_record_sync(m, PACER_EINVALID, NULL, 0.1, 1764269000, &err), 0);
	cr_assert_eq(get(m, "pacer_syncs_total", invalid), 1);
	cr_assert_eq(get(m, "pacer_apps", app_failed), 1);


	cr_assert_eq(metrics_record_webhook(m, "gitlab", "unauthorized", &err), 0);
	cr_assert_eq(get(m, "pacer_webhooks_total", hook), 1);
	cr_assert_null(err);

	text = render(m);
	cr_assert_not_null(strstr(text, "pacer_sync_duration_seconds_bucket{le=\"0.5\"} 1\n"
	                                "pacer_sync_duration_seconds_bucket{le=\"1\"} 2\n"),
	                   "%s", text);
	cr_assert_not_null(strstr(text, "pacer_sync_duration_seconds_bucket{le=\"30\"} 2\n"
	                                "pacer_sync_duration_seconds_bucket{le=\"60\"} 3\n"));
	cr_assert_not_null(strstr(text, "pacer_sync_duration_seconds_bucket{le=\"+Inf\"} 3\n"
	                                "pacer_sync_duration_seconds_sum 31.8\n"
	                                "pacer_sync_duration_seconds_count 3\n"));
	free(text);

	/* Marathon could not be read (no plan): the gauges keep their last known
	 * values instead of dropping to 0, and their age shows. */
	{
		struct json_object *down =
		    json_tokener_parse("{\"converged\": false, \"plan\": null, \"apps\": []}");
		const char *unreach[] = {"result", "unreachable", NULL};

		cr_assert_eq(metrics_record_sync(m, PACER_EUNREACHABLE, down, 0.1, 1764269100, &err),
		             0);
		cr_assert_eq(get(m, "pacer_syncs_total", unreach), 1);
		cr_assert_eq(get(m, "pacer_apps", app_failed), 1);
		cr_assert_eq(get(m, "pacer_apps", in_sync), 1);
		cr_assert_eq(get(m, "pacer_apps_last_update_timestamp_seconds", NULL), 1764268900);
		json_object_put(down);
	}
	json_object_put(st);
	json_object_put(st2);
	metrics_free(m);
}

static void *bump(void *arg)
{
	for (int i = 0; i < 1000; i++)
		metrics_record_webhook(arg, "github", "accepted", NULL);
	return NULL;
}

Test(metrics, concurrent_updates)
{
	struct metrics *m = NULL;
	pthread_t t[4];
	const char *l[] = {"provider", "github", "result", "accepted", NULL};

	cr_assert_eq(metrics_new_pacer(&m, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bump, m);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(get(m, "pacer_webhooks_total", l), 4000);
	metrics_free(m);
}

Test(metrics, per_app_series_follow_the_apps)
{
	struct metrics *m = NULL;
	struct pacer_error *err = NULL;
	struct json_object *st1 = json_tokener_parse(
	    "{\"converged\": true, \"plan\": {}, \"apps\": ["
	    "{\"id\": \"/web\", \"outcome\": \"unchanged\", \"tasks\": {\"healthy\": 2, "
	    "\"running\": 2, \"instances\": 2}},"
	    "{\"id\": \"/gone\", \"outcome\": \"degraded\", \"tasks\": null}]}");
	struct json_object *st2 = json_tokener_parse(
	    "{\"converged\": true, \"plan\": {}, \"apps\": ["
	    "{\"id\": \"/web\", \"outcome\": \"suspended\", \"tasks\": {\"healthy\": 1, "
	    "\"running\": 1, \"instances\": 1}}]}");
	struct json_object *part = json_tokener_parse(
	    "{\"converged\": true, \"plan\": {}, \"only\": [\"/new\"], \"apps\": ["
	    "{\"id\": \"/new\", \"outcome\": \"created\", \"tasks\": null}]}");
	char *text;

	cr_assert_eq(metrics_new_pacer(&m, &err), 0);
	cr_assert_eq(metrics_set_build_info(m, "0.1.0", "abc123", &err), 0);
	cr_assert_eq(metrics_record_sync(m, 0, st1, 1, 1764268800, &err), 0);
	text = render(m);
	cr_assert(strstr(text, "pacer_build_info{version=\"0.1.0\",commit=\"abc123\"} 1\n"), "%s",
		  text);
	cr_assert(strstr(text, "pacer_app_status{app=\"/web\",status=\"synced\"} 1\n"), "%s", text);
	cr_assert(strstr(text, "pacer_app_status{app=\"/gone\",status=\"degraded\"} 1\n"), "%s",
		  text);
	cr_assert(strstr(text, "pacer_app_tasks{app=\"/web\",kind=\"healthy\"} 2\n"), "%s", text);
	free(text);

	/* The next whole sync: /gone is not listed any more, /web changed state. */
	cr_assert_eq(metrics_record_sync(m, 0, st2, 1, 1764268900, &err), 0);
	text = render(m);
	cr_assert(!strstr(text, "/gone"), "a gone app kept its series: %s", text);
	cr_assert(!strstr(text, "status=\"synced\""), "an old state kept its series: %s", text);
	cr_assert(strstr(text, "pacer_app_status{app=\"/web\",status=\"suspended\"} 1\n"), "%s",
		  text);
	cr_assert(strstr(text, "pacer_app_tasks{app=\"/web\",kind=\"instances\"} 1\n"), "%s", text);
	free(text);

	/* A sync of some apps keeps the series of the others. */
	cr_assert_eq(metrics_record_sync(m, 0, part, 1, 1764269000, &err), 0);
	text = render(m);
	cr_assert(strstr(text, "pacer_app_status{app=\"/web\",status=\"suspended\"} 1\n"), "%s",
		  text);
	cr_assert(strstr(text, "pacer_app_status{app=\"/new\",status=\"synced\"} 1\n"), "%s", text);
	free(text);
	{
		const char *l[] = {"app", "/new", "status", "synced", NULL};

		cr_assert_eq(metrics_remove(m, "pacer_app_status", l), 0);
		cr_assert_eq(metrics_remove(m, "pacer_app_status", l), PACER_ENOTFOUND);
	}
	json_object_put(st1);
	json_object_put(st2);
	json_object_put(part);
	metrics_free(m);
}
