/*
 * reconcile/bluegreen.c: the labels of a blue/green app (checked by the
 * loader with file:line:col), the step, colour ids and the colours as
 * rendered with zdd's labels and alternating service ports.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/bluegreen.h"
#include "reconcile/desired.h"

#define APP(labels)                                                                             \
	"{\"id\": \"/web\", \"cmd\": \"x\", \"instances\": 6,\n"                                \
	" \"portDefinitions\": [{\"port\": 10080}],\n"                                          \
	" \"labels\": {\"pacer.strategy\": \"blue-green\"" labels "}}\n"

static struct pacer_desired *load(const char *text)
{
	struct pacer_desired *d = desired_new();

	cr_assert(d);
	cr_assert_eq(desired_add_file(d, "web.json", text, strlen(text), NULL), 0);
	return d;
}

/* The only error of loading text: its message must hold needle, at line:col
 * (the labels object when a label is missing, else the label's value). */
static void expect_error(const char *text, const char *needle, int line, int col)
{
	struct pacer_desired *d = load(text);

	cr_assert_eq(d->nerrors, 1, "%zu errors for %s", d->nerrors, text);
	for (size_t i = 0; i < d->ndiags; i++) {
		const struct pacer_error *e = d->diags[i].error;

		if (!d->diags[i].is_error)
			continue;
		cr_expect(strstr(e->message, needle), "\"%s\" not in: %s", needle, e->message);
		cr_expect_eq(e->line, line, "%s: line %d, want %d", e->message, e->line, line);
		cr_expect_eq(e->col, col, "%s: col %d, want %d", e->message, e->col, col);
	}
	desired_free(d);
}

Test(bluegreen, loader_names_missing_and_bad_labels)
{
	expect_error(APP(""), "HAPROXY_DEPLOYMENT_GROUP", 3, 12);
	expect_error(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\""), "HAPROXY_DEPLOYMENT_ALT_PORT",
		     3, 12);
	expect_error(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", \"HAPROXY_DEPLOYMENT_ALT_PORT\": "
			 "\"99999\""),
		     "from 1 to 65535", 3, 109);
	expect_error(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", \"HAPROXY_DEPLOYMENT_ALT_PORT\": "
			 "\"10080\""),
		     "two different service ports", 3, 109);
	expect_error(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", \"HAPROXY_DEPLOYMENT_ALT_PORT\": "
			 "\"10081\", \"pacer.bluegreen.step\": \"0%\""),
		     "pacer.bluegreen.step", 3, 142);
	expect_error(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", \"HAPROXY_DEPLOYMENT_ALT_PORT\": "
			 "\"10081\", \"pacer.bluegreen.drain-seconds\": \"ten\""),
		     "pacer.bluegreen.drain-seconds", 3, 151);
}

Test(bluegreen, needs_a_fixed_service_port)
{
	expect_error("{\"id\": \"/web\", \"cmd\": \"x\",\n \"labels\": {\"pacer.strategy\": "
		     "\"blue-green\", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", "
		     "\"HAPROXY_DEPLOYMENT_ALT_PORT\": \"10081\"}}\n",
		     "fixed service port", 2, 12);
}

Test(bluegreen, a_valid_app_loads_and_others_are_not_looked_at)
{
	struct pacer_desired *d = load(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", "
					   "\"HAPROXY_DEPLOYMENT_ALT_PORT\": \"10081\""));

	cr_expect_eq(d->nerrors, 0);
	desired_free(d);
	d = load("{\"id\": \"/plain\", \"cmd\": \"x\", \"labels\": {\"pacer.strategy\": \"rolling\"}}");
	cr_expect_eq(d->nerrors, 0);
	desired_free(d);
}

static struct json_object *def_of(const char *labels)
{
	char text[1024];
	struct json_object *o;

	snprintf(text, sizeof(text), APP("%s"), labels);
	o = json_tokener_parse(text);
	cr_assert(o);
	return o;
}

Test(bluegreen, step_is_a_share_or_a_number_rounded_up)
{
	static const struct {
		const char *label;
		long step;
	} cases[] = {{"", 3}, {", \"pacer.bluegreen.step\": \"34%\"", 3},
		     {", \"pacer.bluegreen.step\": \"10%\"", 1},
		     {", \"pacer.bluegreen.step\": \"100%\"", 6},
		     {", \"pacer.bluegreen.step\": \"2\"", 2},
		     {", \"pacer.bluegreen.step\": \"20\"", 6}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char labels[256];
		struct bluegreen_conf c;
		struct json_object *def;

		snprintf(labels, sizeof(labels),
			 ", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", \"HAPROXY_DEPLOYMENT_ALT_PORT\": "
			 "\"10081\"%s",
			 cases[i].label);
		def = def_of(labels);
		cr_assert_eq(bluegreen_conf_read(def, &c, NULL, NULL), 0, "%s", cases[i].label);
		cr_expect_eq(bluegreen_step(&c), cases[i].step, "%s: step %ld", cases[i].label,
			     bluegreen_step(&c));
		cr_expect_eq(c.drain_s, 10);
		json_object_put(def);
	}
}

Test(bluegreen, colour_ids)
{
	char base[64];
	const char *colour = NULL;

	cr_assert_eq(bluegreen_split_id("/shop/web-green", base, sizeof(base), &colour), 0);
	cr_expect_str_eq(base, "/shop/web");
	cr_expect_str_eq(colour, "green");
	cr_assert_eq(bluegreen_split_id("/shop/web-blue", base, sizeof(base), &colour), 0);
	cr_expect_str_eq(colour, "blue");
	cr_expect_eq(bluegreen_split_id("/shop/web", base, sizeof(base), &colour), -1);
	cr_expect_eq(bluegreen_split_id("-blue", base, sizeof(base), &colour), -1);
	cr_expect_str_eq(bluegreen_other("blue"), "green");
	cr_expect_str_eq(bluegreen_other("green"), "blue");
}

static const char *label(struct json_object *app, const char *k)
{
	return json_object_get_string(
	    json_object_object_get(json_object_object_get(app, "labels"), k));
}

static long port0(struct json_object *app)
{
	return json_object_get_int64(json_object_object_get(
	    json_object_array_get_idx(json_object_object_get(app, "portDefinitions"), 0), "port"));
}

Test(bluegreen, colours_carry_zdd_labels_and_alternate_ports)
{
	struct json_object *def = def_of(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", "
					 "\"HAPROXY_DEPLOYMENT_ALT_PORT\": \"10081\"");
	struct json_object *blue = bluegreen_render(def, "/web", "blue", 3, "2026-12-03T03:00:00.000001");
	struct json_object *green = bluegreen_render(def, "/web", "green", 6, "x");
	struct bluegreen_conf c;

	cr_assert(blue && green);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(blue, "id")), "/web-blue");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(green, "id")), "/web-green");
	cr_expect_eq(json_object_get_int(json_object_object_get(blue, "instances")), 3);
	cr_expect_str_eq(label(blue, "HAPROXY_APP_ID"), "/web");
	cr_expect_str_eq(label(blue, "HAPROXY_DEPLOYMENT_COLOUR"), "blue");
	cr_expect_str_eq(label(green, "HAPROXY_DEPLOYMENT_COLOUR"), "green");
	cr_expect_str_eq(label(blue, "HAPROXY_DEPLOYMENT_STARTED_AT"), "2026-12-03T03:00:00.000001");
	cr_expect_str_eq(label(blue, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES"), "6");
	cr_expect_str_eq(label(green, "HAPROXY_0_PORT"), "10080");
	cr_expect_eq(port0(blue), 10080);
	cr_expect_eq(port0(green), 10081);
	/* A rendered colour reads back as the pair it belongs to. */
	cr_assert_eq(bluegreen_conf_read(green, &c, NULL, NULL), 0);
	cr_expect_eq(c.port, 10080);
	cr_expect_eq(c.alt_port, 10081);
	cr_expect_eq(c.target, 6);
	/* The definition itself is untouched. */
	cr_expect_str_eq(json_object_get_string(json_object_object_get(def, "id")), "/web");
	cr_expect_eq(port0(def), 10080);
	json_object_put(blue);
	json_object_put(green);
	json_object_put(def);
}

Test(bluegreen, an_app_with_a_colour_s_id_is_refused)
{
	struct pacer_desired *d = load(APP(", \"HAPROXY_DEPLOYMENT_GROUP\": \"w\", "
					   "\"HAPROXY_DEPLOYMENT_ALT_PORT\": \"10081\""));
	const char *other = "{\"id\": \"/web-green\", \"cmd\": \"y\"}\n";
	const char *fine = "{\"id\": \"/api-green\", \"cmd\": \"y\"}\n";

	cr_assert_eq(desired_add_file(d, "other.json", other, strlen(other), NULL), 0);
	cr_assert_eq(desired_add_file(d, "fine.json", fine, strlen(fine), NULL), 0);
	cr_assert_eq(desired_finish(d), 0);
	cr_assert_eq(d->nerrors, 1, "%zu errors", d->nerrors);
	for (size_t i = 0; i < d->ndiags; i++) {
		const struct pacer_error *e = d->diags[i].error;

		if (!d->diags[i].is_error)
			continue;
		cr_expect(strstr(e->message, "/web-green") && strstr(e->message, "web.json:1:1"),
			  "%s", e->message);
		cr_expect_str_eq(e->file, "other.json");
	}
	desired_free(d);
}
