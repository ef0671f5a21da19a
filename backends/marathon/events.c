/*
 * events.c: GET /v2/events as Server-Sent Events. See events.h and client.h.
 *
 * The parser is a byte-at-a-time state machine over whatever chunks curl
 * hands over: a line, a \r\n or an event may be split anywhere, so nothing
 * is assumed about chunk boundaries. Following a stream rides on http.c's
 * stream mode: bytes and once-a-second ticks come to follow_feed(), which
 * owns the silence deadline (curl's own timeouts cannot tell a quiet
 * Marathon from a dead connection).
 */
#include "backends/marathon/events.h"
#include "backends/marathon/http.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* All three buffers have the line cap: an event's type or data is never
 * longer than the lines it came in, so one cap bounds the parser. */
void marathon_sse_init(struct marathon_sse *p, marathon_event_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	pacer_buf_init(&p->line, MARATHON_SSE_LINE_CAP);
	pacer_buf_init(&p->event, MARATHON_SSE_LINE_CAP);
	pacer_buf_init(&p->data, MARATHON_SSE_LINE_CAP);
	p->cb = cb;
	p->ctx = ctx;
}

void marathon_sse_release(struct marathon_sse *p)
{
	pacer_buf_release(&p->line);
	pacer_buf_release(&p->event);
	pacer_buf_release(&p->data);
}

/* A blank line: hand the event over. */
static int dispatch(struct marathon_sse *p)
{
	struct json_object *data;
	const char *type = p->event.len ? pacer_buf_cstr(&p->event) : "message";
	int rc = 0;

	if (!p->has_data)
		goto done;
	data = json_tokener_parse(pacer_buf_cstr(&p->data));
	if (!data) {
		/* One bad frame should not cost the whole stream. */
		p->skipped++;
		PLOG_WARN("marathon: skipping event %s whose data is not JSON", type);
		goto done;
	}
	rc = p->cb(p->ctx, type, data) ? 1 : 0;
	json_object_put(data);
done:
	pacer_buf_reset(&p->event);
	pacer_buf_reset(&p->data);
	p->has_data = 0;
	return rc;
}

/* Whether the field name line[0..len) is `name`. */
static int field_is(const char *line, size_t len, const char *name)
{
	return len == strlen(name) && !memcmp(line, name, len);
}

static int process_line(struct marathon_sse *p, struct pacer_error **err)
{
	const char *line = pacer_buf_cstr(&p->line), *colon, *value;
	size_t name_len;
	int rc = 0;

	if (!p->line.len)
		return dispatch(p);
	if (line[0] == ':')
		return 0; /* a comment */
	/* "name: value"; a line without a colon is a name with an empty value,
	 * and one space after the colon is not part of the value (SSE spec). */
	colon = strchr(line, ':');
	name_len = colon ? (size_t)(colon - line) : p->line.len;
	value = colon ? colon + 1 : "";
	if (*value == ' ')
		value++;
	/* Other fields (id, retry) are ignored: this client never resumes a
	 * stream from an event id, and reconnecting is its caller's. */
	if (field_is(line, name_len, "event")) {
		pacer_buf_reset(&p->event);
		rc = pacer_buf_puts(&p->event, value);
	} else if (field_is(line, name_len, "data")) {
		if (p->has_data)
			rc = pacer_buf_putc(&p->data, '\n');
		if (!rc)
			rc = pacer_buf_puts(&p->data, value);
		p->has_data = 1;
	}
	if (rc)
		return pacer_error_set(err, rc, "event stream: an event is larger than %zu MiB",
		                       MARATHON_SSE_LINE_CAP >> 20);
	return 0;
}

int marathon_sse_feed(struct marathon_sse *p, const char *data, size_t len,
                      struct pacer_error **err)
{
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		int rc;

		/* A '\r' ends a line at once, so a "\r\n" split between two chunks
		 * must not end a second, empty line (which would dispatch). */
		if (p->last_cr) {
			p->last_cr = 0;
			if (ch == '\n') /* the second half of a \r\n */
				continue;
		}
		if (ch == '\r' || ch == '\n') {
			p->last_cr = ch == '\r';
			rc = process_line(p, err);
			pacer_buf_reset(&p->line);
			if (rc)
				return rc;
			continue;
		}
		if (pacer_buf_putc(&p->line, ch))
			return pacer_error_set(err, PACER_EINVALID,
			                       "event stream: a line is longer than %zu MiB",
			                       MARATHON_SSE_LINE_CAP >> 20);
	}
	return 0;
}

/* ---- following the stream ---- */

const char *const marathon_definition_events[] = {
    "event_stream_attached", "api_post_event",  "app_terminated_event",
    "group_change_success",  "deployment_info", NULL,
};

/* One connection: the parser, the silence deadline and what the caller learns. */
struct follow {
	struct marathon_sse sse;
	marathon_event_cb cb;
	void *ctx;
	struct marathon_stream_info *info;
	long long last_rx_ms;
	long idle_ms;
};

static int follow_event(void *ctx, const char *type, struct json_object *data)
{
	struct follow *f = ctx;

	f->info->events++;
	if (!strcmp(type, "event_stream_attached"))
		f->info->attached = 1;
	return f->cb(f->ctx, type, data);
}

/*
 * Bytes, or a tick (data NULL) from http.c about once a second. Any byte
 * counts as life, a heartbeat included: the deadline is about silence, not
 * about a rate, since an idle Marathon sends 2 bytes every 10 s.
 */
static int follow_feed(void *ctx, const char *data, size_t len, struct pacer_error **err)
{
	struct follow *f = ctx;
	long long now = pacer_now_ms();

	if (len) {
		f->last_rx_ms = now;
		f->info->bytes += len;
		return marathon_sse_feed(&f->sse, data, len, err);
	}
	if (now - f->last_rx_ms < f->idle_ms)
		return 0;
	return pacer_error_set(err, PACER_ETIMEOUT,
	                       "nothing came for %lld s, not even Marathon's heartbeat (every "
	                       "10 s): the connection is dead",
	                       (now - f->last_rx_ms) / 1000);
}

/*
 * Whether a filtered stream asks for event_stream_attached too. Marathon
 * filters that event like any other (SPEC 5.1), so a follower, which must
 * know when the stream is open, adds it; marathon_events_open() sends the
 * filter as given.
 */
enum attached_filter {
	ATTACHED_AS_GIVEN,
	ATTACHED_ALWAYS,
};

/* "/v2/events?event_type=a&event_type=b", with event_stream_attached as asked. */
static int events_path(struct pacer_buf *path, const char *const *types,
                       enum attached_filter attached, struct pacer_error **err)
{
	size_t n = 0;
	int rc = pacer_buf_puts(path, "/v2/events");

	for (size_t i = 0; !rc && types && types[i]; i++) {
		if (!strcmp(types[i], "event_stream_attached"))
			attached = ATTACHED_AS_GIVEN; /* already there */
		pacer_buf_puts(path, n++ ? "&event_type=" : "?event_type=");
		rc = marathon__append_id(path, types[i], "event type", MARATHON__ID_READABLE, err);
	}
	/* Without a filter every event comes, event_stream_attached included. */
	if (!rc && types && types[0] && attached == ATTACHED_ALWAYS) {
		pacer_buf_puts(path, "&event_type=");
		rc = marathon__append_id(path, "event_stream_attached", "event type",
		                         MARATHON__ID_READABLE, err);
	}
	return rc;
}

static int events_run(struct pacer_marathon *m, const struct marathon_events_options *o,
                      enum attached_filter attached, struct marathon_stream_info *info,
                      struct pacer_error **err)
{
	struct follow f = {.cb = o->cb, .ctx = o->ctx, .info = info};
	struct marathon_request rq = {"GET", NULL,        NULL, "text/event-stream",
	                              NULL,  follow_feed, &f,   o->stop};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	struct pacer_buf path = PACER_BUF_INIT;
	struct marathon_client *c = marathon__client(m, err);
	long long t0 = pacer_now_ms();
	int rc;

	memset(info, 0, sizeof(*info));
	if (!c)
		return PACER_EINVALID;
	marathon_sse_init(&f.sse, follow_event, &f);
	f.idle_ms = o->idle_ms > 0 ? o->idle_ms : MARATHON_STREAM_IDLE_MS;
	f.last_rx_ms = t0;
	if ((rc = events_path(&path, o->event_types, attached, err)))
		goto done;
	rq.path = pacer_buf_cstr(&path);
	rc = marathon__request(c, &rq, &resp, err);
	if (!rc)
		PLOG_DEBUG("marathon: event stream from %s ended after %lld ms (%llu bytes, %lu "
		           "events)",
		           resp.url ? resp.url : "?", pacer_now_ms() - t0, info->bytes,
		           info->events);
done:
	info->ms = pacer_now_ms() - t0;
	marathon__response_release(&resp);
	marathon_sse_release(&f.sse);
	pacer_buf_release(&path);
	return rc;
}

int marathon_events_follow(struct pacer_marathon *m, const struct marathon_events_options *o,
                           struct marathon_stream_info *info, struct pacer_error **err)
{
	struct marathon_stream_info ignored;

	return events_run(m, o, ATTACHED_ALWAYS, info ? info : &ignored, err);
}

int marathon_events_open(struct pacer_marathon *m, const char *const *event_types,
                         marathon_event_cb cb, void *ctx, volatile sig_atomic_t *stop,
                         struct pacer_error **err)
{
	struct marathon_events_options o = {event_types, 0, cb, ctx, stop};
	struct marathon_stream_info info;

	return events_run(m, &o, ATTACHED_AS_GIVEN, &info, err);
}

/* ---- what an event says about app definitions ---- */

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Add id once (a deployment names an app in several steps). A linear scan:
 * a deployment touches a handful of apps, rarely more. */
static int add_id(struct marathon_event_info *e, const char *id)
{
	const char **v;

	for (size_t i = 0; i < e->nids; i++)
		if (!strcmp(e->ids[i], id))
			return 0;
	v = realloc(e->ids, (e->nids + 1) * sizeof(*v));
	if (!v)
		return -1;
	e->ids = v;
	e->ids[e->nids++] = id;
	return 0;
}

/* deployment_info: plan.steps[].actions[].app, every app the deployment touches. */
static int plan_apps(struct marathon_event_info *e, struct json_object *data)
{
	struct json_object *plan, *steps;

	if (!json_object_object_get_ex(data, "plan", &plan) ||
	    !json_object_object_get_ex(plan, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		struct json_object *actions;

		if (!json_object_object_get_ex(json_object_array_get_idx(steps, i), "actions",
		                               &actions) ||
		    !json_object_is_type(actions, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(actions); k++) {
			const char *app = str_member(json_object_array_get_idx(actions, k), "app");

			if (app && add_id(e, app))
				return -1;
		}
	}
	return 0;
}

int marathon_event_classify(const char *type, struct json_object *data,
                            struct marathon_event_info *out)
{
	struct json_object *def;
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!strcmp(type, "event_stream_attached")) {
		out->kind = MARATHON_EVK_ATTACHED;
	} else if (!strcmp(type, "api_post_event")) {
		if (json_object_object_get_ex(data, "appDefinition", &def) &&
		    str_member(def, "id")) {
			out->kind = MARATHON_EVK_APP_DEF;
			out->def = def;
		}
	} else if (!strcmp(type, "app_terminated_event")) {
		if ((s = str_member(data, "appId"))) {
			if (add_id(out, s))
				return -1;
			out->kind = MARATHON_EVK_APP_GONE;
		}
	} else if (!strcmp(type, "deployment_info")) {
		if (plan_apps(out, data)) {
			marathon_event_info_release(out);
			return -1;
		}
		if (out->nids)
			out->kind = MARATHON_EVK_APPS;
	} else if (!strcmp(type, "group_change_success")) {
		if ((out->group = str_member(data, "groupId")))
			out->kind = MARATHON_EVK_GROUP;
	}
	return 0;
}

void marathon_event_info_release(struct marathon_event_info *e)
{
	free(e->ids);
	memset(e, 0, sizeof(*e));
}
