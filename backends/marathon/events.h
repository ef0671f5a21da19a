/*
 * events.h: the Server-Sent Events parser behind marathon_events_open()
 * (client.h), exposed so it can be tested byte by byte.
 *
 * Frames per the SSE spec as Marathon writes them: "event: <type>" and
 * "data: <json>" lines ended by \r\n, \n or \r, a blank line ends an event;
 * several data lines are joined with '\n'; lines starting with ':' and
 * unknown fields are ignored; an event without data is dropped (Marathon's
 * heartbeat is a bare blank line). A line longer than MARATHON_SSE_LINE_CAP
 * is an error.
 *
 * Ownership: the caller owns the struct; release with marathon_sse_release().
 */
#ifndef PACER_MARATHON_EVENTS_H
#define PACER_MARATHON_EVENTS_H

#include <stddef.h>

#include "backends/marathon/client.h"
#include "reconcile/buf.h"
#include "reconcile/error.h"

#define MARATHON_SSE_LINE_CAP ((size_t)16 << 20)

struct marathon_sse {
	struct pacer_buf line;  /* the line being read */
	struct pacer_buf event; /* "event:" of the current event */
	struct pacer_buf data;  /* "data:" lines of the current event */
	int has_data;
	int last_cr; /* the previous chunk ended in '\r' (a '\n' may follow) */
	marathon_event_cb cb;
	void *ctx;
	unsigned long skipped; /* events whose data was not JSON */
};

void marathon_sse_init(struct marathon_sse *p, marathon_event_cb cb, void *ctx);
void marathon_sse_release(struct marathon_sse *p);

/*
 * Feed bytes as they come. Calls cb for each complete event. Returns 0 to
 * go on, 1 when cb asked to stop (the rest of the chunk is not parsed), or
 * a negative code with *err set.
 */
int marathon_sse_feed(struct marathon_sse *p, const char *data, size_t len,
                      struct pacer_error **err);

#endif
