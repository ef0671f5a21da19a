/*
 * converge.c: does the live app run what was submitted, and is it healthy.
 *
 * The health of an app is judged from a handful of top-level members. For
 * the no-op path they are read from the reply's bytes in one pass over the
 * app's members (json_pos skips every other value whole), never by parsing
 * the app: at 10,000 apps that pass costs a few tens of milliseconds,
 * parsing would cost seconds.
 */
#include "reconcile/converge.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/json_pos.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/cache.h"
#include "reconcile/diff.h"
#include "reconcile/normalize.h"

static int owns_instances(struct json_object *body)
{
	const char *v = json_object_get_string(
		jsonutil_get(jsonutil_get(body, "labels"), "pacer.instances"));

	return !(v && !strcmp(v, "unmanaged"));
}

int converge_matches(struct json_object *body, struct json_object *live, int ignore_instances,
		     int *equal, struct pacer_error **err)
{
	struct normalize_options no = NORMALIZE_OPTIONS_INIT;
	struct json_object *bn = NULL, *ln = NULL;
	struct pacer_field_change *ch = NULL;
	size_t nch = 0;
	int rc;

	*equal = 0;
	if ((rc = normalize_app(body, &no, &bn, err)) || (rc = normalize_app(live, &no, &ln, err)))
		goto done;
	if (normalize_adopt_live(body, bn, ln, !ignore_instances && owns_instances(body) ? 0
								: NORMALIZE_ADOPT_INSTANCES) ||
	    diff_apps(bn, ln, &ch, &nch)) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory comparing apps");
		goto done;
	}
	*equal = nch == 0;
done:
	diff_changes_free(ch, nch);
	json_object_put(bn);
	json_object_put(ln);
	return rc;
}

/* Compact JSON with every object's keys in strcmp order. */
static void canonical(struct pacer_buf *b, struct json_object *o)
{
	const char **keys = NULL;
	size_t n = 0;

	if (json_object_is_type(o, json_type_object) && !jsonutil_sorted_keys(o, &keys, &n)) {
		pacer_buf_putc(b, '{');
		for (size_t i = 0; i < n; i++) {
			struct json_object *k = json_object_new_string(keys[i]);

			pacer_buf_puts(b, i ? "," : "");
			pacer_buf_puts(b, json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
			pacer_buf_putc(b, ':');
			canonical(b, jsonutil_get(o, keys[i]));
			json_object_put(k);
		}
		pacer_buf_putc(b, '}');
		free(keys);
	} else if (json_object_is_type(o, json_type_array)) {
		pacer_buf_putc(b, '[');
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			pacer_buf_puts(b, i ? "," : "");
			canonical(b, json_object_array_get_idx(o, i));
		}
		pacer_buf_putc(b, ']');
	} else {
		pacer_buf_puts(b, o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)
				    : "null");
	}
}

void converge_digest(struct json_object *body, char out[33])
{
	struct pacer_buf b = PACER_BUF_INIT;

	canonical(&b, body);
	cache_digest(b.len ? pacer_buf_cstr(&b) : "", b.len, out);
	pacer_buf_release(&b);
}

const char *converge_health_name(enum converge_health h)
{
	/* In the order of the enum. */
	static const char *const names[] = {"healthy", "progressing", "degraded"};

	return (unsigned)h < sizeof(names) / sizeof(*names) ? names[h] : "?";
}

/* What health is judged by, however it was read. */
struct health_facts {
	long instances, running, healthy;
	int has_checks, has_deployments;
	char deployment[64];
	char failure_at[40];     /* lastTaskFailure.timestamp */
	char failure_msg[120];   /* lastTaskFailure.message */
	char config_at[40];      /* versionInfo.lastConfigChangeAt */
	char version[40];        /* version */
};

static void tasks_out(const struct health_facts *f, struct converge_tasks *t)
{
	if (!t)
		return;
	t->instances = f->instances;
	t->running = f->running;
	t->healthy = f->healthy;
	snprintf(t->version, sizeof(t->version), "%s", f->config_at[0] ? f->config_at : f->version);
}

/* "2026-12-02T14:25:08.123Z" -> Unix seconds; -1 when not a timestamp. */
static long long parse_iso(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	return (long long)timegm(&tm);
}

static enum converge_health judge(const struct health_facts *f, long long now, char *reason,
				  size_t rlen)
{
	long long failed = parse_iso(f->failure_at), changed = parse_iso(f->config_at);
	char dummy[8];

	if (!reason) {
		reason = dummy;
		rlen = sizeof(dummy);
	}
	reason[0] = '\0';
	if (f->has_deployments) {
		snprintf(reason, rlen, "deployment %s in progress",
			 f->deployment[0] ? f->deployment : "(unknown)");
		return CONVERGE_PROGRESSING;
	}
	if (f->instances > 0 && f->running < f->instances) {
		snprintf(reason, rlen, "%ld of %ld instances running", f->running, f->instances);
		return CONVERGE_DEGRADED;
	}
	if (f->instances > 0 && f->has_checks && f->healthy < f->instances) {
		snprintf(reason, rlen, "%ld of %ld instances healthy", f->healthy, f->instances);
		return CONVERGE_DEGRADED;
	}
	/* A task failed recently, under the current definition: crash-looping
	 * tasks can look fully running between two relaunches. */
	if (failed >= 0 && now - failed <= CONVERGE_FAILURE_WINDOW_S && failed >= changed) {
		snprintf(reason, rlen, "tasks are failing (last at %s: %s)", f->failure_at,
			 f->failure_msg[0] ? f->failure_msg : "no message");
		return CONVERGE_DEGRADED;
	}
	return CONVERGE_HEALTHY;
}

enum converge_health converge_health(struct json_object *app, long long now, char *reason,
				     size_t reason_len, struct converge_tasks *tasks)
{
	struct json_object *deps = jsonutil_get(app, "deployments");
	struct json_object *hc = jsonutil_get(app, "healthChecks");
	struct json_object *ltf = jsonutil_get(app, "lastTaskFailure");
	struct json_object *vi = jsonutil_get(app, "versionInfo");
	struct health_facts f;
	const char *s;

	memset(&f, 0, sizeof(f));
	f.instances = json_object_get_int64(jsonutil_get(app, "instances"));
	f.running = json_object_get_int64(jsonutil_get(app, "tasksRunning"));
	f.healthy = json_object_get_int64(jsonutil_get(app, "tasksHealthy"));
	f.has_checks = json_object_is_type(hc, json_type_array) && json_object_array_length(hc);
	f.has_deployments =
		json_object_is_type(deps, json_type_array) && json_object_array_length(deps);
	if (f.has_deployments &&
	    (s = json_object_get_string(jsonutil_get(json_object_array_get_idx(deps, 0), "id"))))
		snprintf(f.deployment, sizeof(f.deployment), "%s", s);
	if ((s = json_object_get_string(jsonutil_get(ltf, "timestamp"))))
		snprintf(f.failure_at, sizeof(f.failure_at), "%s", s);
	if ((s = json_object_get_string(jsonutil_get(ltf, "message"))))
		snprintf(f.failure_msg, sizeof(f.failure_msg), "%s", s);
	if ((s = json_object_get_string(jsonutil_get(vi, "lastConfigChangeAt"))))
		snprintf(f.config_at, sizeof(f.config_at), "%s", s);
	if ((s = json_object_get_string(jsonutil_get(app, "version"))))
		snprintf(f.version, sizeof(f.version), "%s", s);
	tasks_out(&f, tasks);
	return judge(&f, now, reason, reason_len);
}

/* A JSON string's raw bytes (no unescaping: the values read here have none). */
static void raw_string(const char *json, size_t len, size_t off, char *out, size_t outlen)
{
	size_t end = json_pos_skip_value(json, len, off);

	out[0] = '\0';
	if (off >= len || json[off] != '"' || end < off + 2)
		return;
	snprintf(out, outlen, "%.*s", (int)(end - off - 2), json + off + 1);
}

static long raw_long(const char *json, size_t len, size_t off)
{
	char num[24];
	size_t end = json_pos_skip_value(json, len, off);

	if (end <= off || end - off >= sizeof(num))
		return 0;
	memcpy(num, json + off, end - off);
	num[end - off] = '\0';
	return strtol(num, NULL, 10);
}

/* Whether the value at off is an array with at least one element. */
static int raw_nonempty_array(const char *json, size_t len, size_t off)
{
	size_t q;

	if (off >= len || json[off] != '[')
		return 0;
	q = json_pos_skip_ws(json, len, off + 1);
	return q < len && json[q] != ']';
}

static void raw_member(struct health_facts *f, const char *json, size_t len, const char *key,
		       size_t klen, size_t v)
{
	size_t m;

#define KEY(s) (klen == sizeof(s) - 1 && !memcmp(key, s, klen))
	if (KEY("instances"))
		f->instances = raw_long(json, len, v);
	else if (KEY("tasksRunning"))
		f->running = raw_long(json, len, v);
	else if (KEY("tasksHealthy"))
		f->healthy = raw_long(json, len, v);
	else if (KEY("version"))
		raw_string(json, len, v, f->version, sizeof(f->version));
	else if (KEY("healthChecks"))
		f->has_checks = raw_nonempty_array(json, len, v);
	else if (KEY("deployments")) {
		f->has_deployments = raw_nonempty_array(json, len, v);
		if (f->has_deployments &&
		    !json_pos_member(json, len, json_pos_skip_ws(json, len, v + 1), "id", &m))
			raw_string(json, len, m, f->deployment, sizeof(f->deployment));
	} else if (KEY("lastTaskFailure") && v < len && json[v] == '{') {
		if (!json_pos_member(json, len, v, "timestamp", &m))
			raw_string(json, len, m, f->failure_at, sizeof(f->failure_at));
		if (!json_pos_member(json, len, v, "message", &m))
			raw_string(json, len, m, f->failure_msg, sizeof(f->failure_msg));
	} else if (KEY("versionInfo") && v < len && json[v] == '{') {
		if (!json_pos_member(json, len, v, "lastConfigChangeAt", &m))
			raw_string(json, len, m, f->config_at, sizeof(f->config_at));
	}
#undef KEY
}

enum converge_health converge_health_raw(const char *json, size_t len, long long now,
					 char *reason, size_t reason_len,
					 struct converge_tasks *tasks)
{
	struct health_facts f;
	size_t p = json_pos_skip_ws(json, len, 0);

	memset(&f, 0, sizeof(f));
	if (p >= len || json[p] != '{') {
		tasks_out(&f, tasks);
		return judge(&f, now, reason, reason_len);
	}
	p = json_pos_skip_ws(json, len, p + 1);
	/* One pass over the members: "key" ws : ws value ws , ... */
	while (p < len && json[p] == '"') {
		size_t kend = json_pos_skip_value(json, len, p), v;

		if (kend <= p + 1 || kend > len)
			break;
		v = json_pos_skip_ws(json, len, kend);
		if (v >= len || json[v] != ':')
			break;
		v = json_pos_skip_ws(json, len, v + 1);
		if (v >= len)
			break;
		raw_member(&f, json, len, json + p + 1, kend - p - 2, v);
		p = json_pos_skip_ws(json, len, json_pos_skip_value(json, len, v));
		if (p >= len || json[p] != ',')
			break;
		p = json_pos_skip_ws(json, len, p + 1);
	}
	tasks_out(&f, tasks);
	return judge(&f, now, reason, reason_len);
}
