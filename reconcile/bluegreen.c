/*
 * bluegreen.c: blue/green definitions (contract in bluegreen.h).
 *
 * The labels and ids follow marathon-lb's zdd so that marathon-lb (and an
 * operator used to zdd) reads the pair as it always has. One difference:
 * zdd picks a colour's service port by looking at the previous colour;
 * here blue always has the file's port and green the ALT port, so that
 * the same file renders the same colour identically every time and an
 * unchanged definition is unchanged whichever colour runs.
 */
#include "reconcile/bluegreen.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/plan.h"

static const char *const colours[] = {"blue", "green"};

const char *bluegreen_label(struct json_object *app, const char *key)
{
	struct json_object *v = jsonutil_get(jsonutil_get(app, "labels"), key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int bluegreen_enabled(struct json_object *def)
{
	const char *s = def ? bluegreen_label(def, BLUEGREEN_LABEL) : NULL;

	return s && !strcmp(s, BLUEGREEN_VALUE);
}

/* Digits only, at most max: -1 when s is not such a number. */
static long whole(const char *s, long max)
{
	long n = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && n <= max; p++)
		n = n * 10 + (*p - '0');
	return p == s || *p || n > max ? -1 : n;
}

static int nonempty(struct json_object *arr)
{
	return json_object_is_type(arr, json_type_array) && json_object_array_length(arr) > 0;
}

/*
 * The slot holding the first service port: container.portMappings[0],
 * container.docker.portMappings[0] (key servicePort), portDefinitions[0]
 * (key port) or the legacy ports array (*key NULL: the element itself).
 */
static struct json_object *port_slot(struct json_object *def, const char **key)
{
	struct json_object *c = jsonutil_get(def, "container"), *arr;

	*key = "servicePort";
	if (nonempty(arr = jsonutil_get(c, "portMappings")) ||
	    nonempty(arr = jsonutil_get(jsonutil_get(c, "docker"), "portMappings")))
		return json_object_array_get_idx(arr, 0);
	*key = "port";
	if (nonempty(arr = jsonutil_get(def, "portDefinitions")))
		return json_object_array_get_idx(arr, 0);
	*key = NULL;
	return nonempty(arr = jsonutil_get(def, "ports")) ? arr : NULL;
}

static long service_port(struct json_object *def)
{
	const char *key;
	struct json_object *slot = port_slot(def, &key), *v;

	if (!slot)
		return 0;
	v = key ? jsonutil_get(slot, key) : json_object_array_get_idx(slot, 0);
	return json_object_is_type(v, json_type_int) ? (long)json_object_get_int64(v) : 0;
}

static void set_service_port(struct json_object *def, long port)
{
	const char *key;
	struct json_object *slot = port_slot(def, &key);

	if (key && slot)
		json_object_object_add(slot, key, json_object_new_int64(port));
	else if (slot)
		json_object_array_put_idx(slot, 0, json_object_new_int64(port));
}

/* The step label: "50%" (1..100) or a whole number of instances (>= 1). */
static int read_step(const char *s, struct bluegreen_conf *out)
{
	size_t len = strlen(s);
	char num[16];
	long n;

	if (len && s[len - 1] == '%') {
		if (len - 1 >= sizeof(num))
			return -1;
		memcpy(num, s, len - 1);
		num[len - 1] = '\0';
		if ((n = whole(num, 100)) < 1)
			return -1;
		out->step_pct = (int)n;
		out->step_n = 0;
		return 0;
	}
	if ((n = whole(s, 1000000)) < 1)
		return -1;
	out->step_n = n;
	out->step_pct = 0;
	return 0;
}

static int bad(struct pacer_error **err, const char **bad_label, const char *label,
	       const char *msg)
{
	if (bad_label)
		*bad_label = label;
	return pacer_error_set(err, PACER_EINVALID, "%s", msg);
}

int bluegreen_conf_read(struct json_object *def, struct bluegreen_conf *out,
			const char **bad_label, struct pacer_error **err)
{
	const char *group = bluegreen_label(def, "HAPROXY_DEPLOYMENT_GROUP");
	const char *alt = bluegreen_label(def, "HAPROXY_DEPLOYMENT_ALT_PORT");
	const char *step = bluegreen_label(def, "pacer.bluegreen.step");
	const char *drain = bluegreen_label(def, "pacer.bluegreen.drain-seconds");
	struct json_object *inst = jsonutil_get(def, "instances");
	long n;

	memset(out, 0, sizeof(*out));
	out->step_pct = BLUEGREEN_DEFAULT_STEP_PCT;
	out->drain_s = BLUEGREEN_DEFAULT_DRAIN_S;
	out->target = inst ? (long)json_object_get_int64(inst) : 1;
	if (bad_label)
		*bad_label = NULL;
	if (!bluegreen_enabled(def))
		return bad(err, bad_label, BLUEGREEN_LABEL,
			   "label \"pacer.strategy\" must be \"blue-green\" for a blue/green app");
	if (!group || !*group)
		return bad(err, bad_label, group ? "HAPROXY_DEPLOYMENT_GROUP" : NULL,
			   "a blue/green app (\"pacer.strategy\": \"blue-green\") needs the label "
			   "\"HAPROXY_DEPLOYMENT_GROUP\": the name marathon-lb gives the pair, "
			   "e.g. \"shop-api\"");
	if (!alt)
		return bad(err, bad_label, NULL,
			   "a blue/green app (\"pacer.strategy\": \"blue-green\") needs the label "
			   "\"HAPROXY_DEPLOYMENT_ALT_PORT\": the service port of the second colour, "
			   "e.g. \"10081\"");
	if ((n = whole(alt, 65535)) < 1)
		return bad(err, bad_label, "HAPROXY_DEPLOYMENT_ALT_PORT",
			   "label \"HAPROXY_DEPLOYMENT_ALT_PORT\" must be a port number from 1 to "
			   "65535, e.g. \"10081\"");
	out->alt_port = n;
	out->port = service_port(def);
	/* A colour as deployed: its port is green's, the pair's is in zdd's labels. */
	if (bluegreen_label(def, "HAPROXY_DEPLOYMENT_COLOUR")) {
		const char *p0 = bluegreen_label(def, "HAPROXY_0_PORT");
		const char *t = bluegreen_label(def, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES");

		out->port = p0 ? whole(p0, 65535) : -1;
		if (t && whole(t, 1000000) >= 0)
			out->target = whole(t, 1000000);
	}
	if (out->port <= 0)
		return bad(err, bad_label, NULL,
			   "a blue/green app needs a fixed service port (portDefinitions[0].port or "
			   "container.portMappings[0].servicePort, not 0): marathon-lb serves the "
			   "pair there (HAPROXY_0_PORT)");
	if (out->port == out->alt_port)
		return bad(err, bad_label, "HAPROXY_DEPLOYMENT_ALT_PORT",
			   "label \"HAPROXY_DEPLOYMENT_ALT_PORT\" equals the app's service port: "
			   "the two colours need two different service ports");
	if (step && read_step(step, out))
		return bad(err, bad_label, "pacer.bluegreen.step",
			   "label \"pacer.bluegreen.step\" must be a share of the instances from "
			   "\"1%\" to \"100%\" or a whole number of instances, e.g. \"50%\" or \"2\"");
	if (drain && (n = whole(drain, BLUEGREEN_MAX_DRAIN_S)) < 0)
		return bad(err, bad_label, "pacer.bluegreen.drain-seconds",
			   "label \"pacer.bluegreen.drain-seconds\" must be a whole number of "
			   "seconds from 0 to 3600, e.g. \"10\"");
	if (drain)
		out->drain_s = (int)n;
	return 0;
}

long bluegreen_step(const struct bluegreen_conf *c)
{
	long s = c->step_n > 0 ? c->step_n : (c->target * c->step_pct + 99) / 100;

	if (s > c->target)
		s = c->target;
	return s < 1 ? 1 : s;
}

int bluegreen_split_id(const char *id, char *base, size_t len, const char **colour)
{
	size_t n = strlen(id);

	for (size_t i = 0; i < 2; i++) {
		size_t cl = strlen(colours[i]);

		if (n > cl + 1 && id[n - cl - 1] == '-' && !strcmp(id + n - cl, colours[i]) &&
		    n - cl - 1 < len) {
			memcpy(base, id, n - cl - 1);
			base[n - cl - 1] = '\0';
			if (colour)
				*colour = colours[i];
			return 0;
		}
	}
	return -1;
}

const char *bluegreen_other(const char *colour)
{
	return colour && !strcmp(colour, "blue") ? "green" : "blue";
}

static void set_label(struct json_object *labels, const char *k, const char *v)
{
	json_object_object_add(labels, k, json_object_new_string(v));
}

struct json_object *bluegreen_render(struct json_object *def, const char *base,
				     const char *colour, long instances, const char *started_at)
{
	struct bluegreen_conf c;
	struct json_object *out = NULL, *labels;
	char buf[32], *id = NULL;

	if (bluegreen_conf_read(def, &c, NULL, NULL) ||
	    json_object_deep_copy(def, &out, NULL) || !out ||
	    asprintf(&id, "%s-%s", base, colour) < 0)
		goto fail;
	json_object_object_del(out, "version");
	json_object_object_del(out, "versionInfo");
	json_object_object_add(out, "id", json_object_new_string(id));
	json_object_object_add(out, "instances", json_object_new_int64(instances));
	if (!(labels = jsonutil_get(out, "labels")))
		goto fail;
	set_label(labels, "HAPROXY_APP_ID", base);
	set_label(labels, "HAPROXY_DEPLOYMENT_COLOUR", colour);
	set_label(labels, "HAPROXY_DEPLOYMENT_STARTED_AT", started_at ? started_at : "");
	snprintf(buf, sizeof(buf), "%ld", c.target);
	set_label(labels, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES", buf);
	snprintf(buf, sizeof(buf), "%ld", c.port);
	set_label(labels, "HAPROXY_0_PORT", buf);
	set_service_port(out, strcmp(colour, "blue") ? c.alt_port : c.port);
	free(id);
	return out;
fail:
	free(id);
	json_object_put(out);
	return NULL;
}

struct json_object *bluegreen_render_like(struct json_object *def, const char *base,
					  struct json_object *live)
{
	const char *id = json_object_get_string(jsonutil_get(live, "id")), *colour = NULL;
	struct json_object *inst = jsonutil_get(def, "instances");
	char b[512];

	if (!id || bluegreen_split_id(id, b, sizeof(b), &colour) || strcmp(b, base))
		return NULL;
	return bluegreen_render(def, base, colour, inst ? (long)json_object_get_int64(inst) : 1,
				bluegreen_label(live, "HAPROXY_DEPLOYMENT_STARTED_AT"));
}

struct json_object *bluegreen_unrender(struct json_object *colour)
{
	static const char *const per_colour[] = {
	    "HAPROXY_APP_ID", "HAPROXY_DEPLOYMENT_COLOUR", "HAPROXY_DEPLOYMENT_STARTED_AT",
	    "HAPROXY_DEPLOYMENT_TARGET_INSTANCES", "HAPROXY_0_PORT"};
	const char *base = bluegreen_label(colour, "HAPROXY_APP_ID");
	struct bluegreen_conf c;
	struct json_object *out = NULL, *labels;

	if (!base || *base != '/' || !bluegreen_label(colour, "HAPROXY_DEPLOYMENT_COLOUR") ||
	    bluegreen_conf_read(colour, &c, NULL, NULL) ||
	    json_object_deep_copy(colour, &out, NULL) || !out)
		return NULL;
	json_object_object_add(out, "id", json_object_new_string(base));
	json_object_object_add(out, "instances", json_object_new_int64(c.target));
	set_service_port(out, c.port);
	labels = jsonutil_get(out, "labels");
	for (size_t i = 0; i < sizeof(per_colour) / sizeof(*per_colour); i++)
		json_object_object_del(labels, per_colour[i]);
	return out;
}

void bluegreen_now(char out[40])
{
	struct timeval tv;
	struct tm tm;
	char day[24];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06ld", day, (long)tv.tv_usec);
}

const char *bluegreen_item_colour(const struct pacer_plan_item *it)
{
	const char *id = it->live ? json_object_get_string(jsonutil_get(it->live, "id")) : NULL;
	const char *colour = NULL;
	char base[512];

	if (!id || !it->app_id || bluegreen_split_id(id, base, sizeof(base), &colour) ||
	    strcmp(base, it->app_id))
		return "";
	return colour;
}

struct pacer_desired_app *bluegreen_desired_of(struct pacer_desired *d, const char *live_id,
					       const char **colour)
{
	struct pacer_desired_app *a;
	struct pacer_error *e = NULL;
	char base[512];

	if (!d || bluegreen_split_id(live_id, base, sizeof(base), colour) ||
	    !(a = (struct pacer_desired_app *)desired_find(d, base)))
		return NULL;
	if (desired_app_def(a, &e)) {
		pacer_error_free(e);
		return NULL;
	}
	return bluegreen_enabled(a->def) ? a : NULL;
}
