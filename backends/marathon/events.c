/*
 * events.c: GET /v2/events as Server-Sent Events. See events.h and client.h.
 */
#include "backends/marathon/events.h"
#include "backends/marathon/http.h"
#include "reconcile/log.h"

#include <json-c/json.h>
#include <string.h>

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

static int process_line(struct marathon_sse *p, struct pacer_error **err)
{
	const char *line = pacer_buf_cstr(&p->line), *colon, *value;
	size_t name_len;
	int rc = 0;

	if (!p->line.len)
		return dispatch(p);
	if (line[0] == ':')
		return 0;
	colon = strchr(line, ':');
	name_len = colon ? (size_t)(colon - line) : p->line.len;
	value = colon ? colon + 1 : "";
	if (*value == ' ')
		value++;
	if (name_len == 5 && !memcmp(line, "event", 5)) {
		pacer_buf_reset(&p->event);
		rc = pacer_buf_puts(&p->event, value);
	} else if (name_len == 4 && !memcmp(line, "data", 4)) {
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

static int feed(void *ctx, const char *data, size_t len, struct pacer_error **err)
{
	return marathon_sse_feed(ctx, data, len, err);
}

int marathon_events_open(struct pacer_marathon *m, const char *const *event_types,
                         marathon_event_cb cb, void *ctx, volatile sig_atomic_t *stop,
                         struct pacer_error **err)
{
	struct marathon_request rq = {"GET", NULL, NULL, "text/event-stream",
	                              NULL,  feed, NULL, stop};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	struct pacer_buf path = PACER_BUF_INIT;
	struct marathon_sse sse;
	struct marathon_client *c = marathon__client(m, err);
	int rc;

	if (!c)
		return PACER_EINVALID;
	marathon_sse_init(&sse, cb, ctx);
	pacer_buf_puts(&path, "/v2/events");
	for (size_t i = 0; event_types && event_types[i]; i++) {
		pacer_buf_puts(&path, i ? "&event_type=" : "?event_type=");
		if ((rc = marathon__append_id(&path, event_types[i], "event type", 0, err)))
			goto done;
	}
	rq.path = pacer_buf_cstr(&path);
	rq.ctx = &sse;
	rc = marathon__request(c, &rq, &resp, err);
	if (!rc)
		PLOG_DEBUG("marathon: event stream from %s ended", resp.url ? resp.url : "?");
done:
	marathon__response_release(&resp);
	marathon_sse_release(&sse);
	pacer_buf_release(&path);
	return rc;
}
