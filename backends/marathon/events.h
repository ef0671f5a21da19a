/*
 * events.h: Marathon's event stream (GET /v2/events, SPEC 5.1): following
 * it with a deadline for silence (marathon_events_follow()), what an event
 * says about app definitions (marathon_event_classify()), and the
 * Server-Sent Events parser behind both and behind marathon_events_open()
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

#include <signal.h>
#include <stddef.h>

#include "backends/marathon/client.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"

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

/* ---- following the stream ---- */

/*
 * Marathon writes a bare "\r\n" heartbeat every 10 s on an idle stream:
 * three missed in a row means the connection is dead (a peer gone without
 * a FIN, a proxy that stopped forwarding), however quiet the cluster is.
 */
#define MARATHON_STREAM_IDLE_MS 30000L

struct marathon_events_options {
	const char *const *event_types; /* NULL-terminated filter; NULL: every event */
	long idle_ms;                   /* 0: MARATHON_STREAM_IDLE_MS */
	marathon_event_cb cb;           /* as for marathon_events_open() */
	void *ctx;
	volatile sig_atomic_t *stop; /* may be NULL */
};

/* How one connection went, for the caller's backoff and log. */
struct marathon_stream_info {
	int attached;             /* event_stream_attached came: Marathon was streaming */
	unsigned long long bytes; /* body bytes, heartbeats included */
	unsigned long events;     /* events handed to cb, event_stream_attached included */
	long long ms;             /* from the request to the end */
};

/*
 * One connection to the event stream, as marathon_events_open() but:
 * event_stream_attached is always asked for (added to a filter) and handed
 * to cb, so the caller knows when the stream is open; the stream ends with
 * PACER_ETIMEOUT ("nothing came for N s, not even Marathon's heartbeat")
 * once no byte came for idle_ms, however long it lived before; *info
 * (may be NULL) says how it went, whatever the result. A reply that ends at
 * once without a frame (a proxy that buffers or closes the stream) returns
 * 0 with info->attached 0: the caller must not reconnect in a tight loop.
 */
int marathon_events_follow(struct pacer_marathon *m, const struct marathon_events_options *o,
                           struct marathon_stream_info *info, struct pacer_error **err);

/* ---- what an event says about app definitions ---- */

/*
 * The events that can change an app's definition or remove an app
 * (SPEC 5.1), plus event_stream_attached: a filter for
 * marathon_events_follow(). NULL-terminated, static.
 */
extern const char *const marathon_definition_events[];

enum marathon_event_kind {
	MARATHON_EVK_OTHER = 0, /* nothing about definitions (tasks, health, ...) */
	MARATHON_EVK_ATTACHED,  /* event_stream_attached: the stream is open */
	MARATHON_EVK_APP_DEF,   /* api_post_event: `def` is the app as posted */
	MARATHON_EVK_APP_GONE,  /* app_terminated_event: ids[0] was removed */
	MARATHON_EVK_APPS,      /* deployment_info: the apps in ids may have changed or gone */
	MARATHON_EVK_GROUP,     /* group_change_success: any app below `group` may have */
};

struct marathon_event_info {
	enum marathon_event_kind kind;
	struct json_object *def; /* APP_DEF: borrowed from the event's data */
	const char *group;       /* GROUP: borrowed from the event's data */
	const char **ids;        /* APP_GONE, APPS: the array is owned, its strings borrowed */
	size_t nids;
};

/*
 * Sort one event (its type and parsed data, borrowed) into *out; what out
 * points to is borrowed from data, valid while data is. An event whose data
 * lacks what its kind needs is MARATHON_EVK_OTHER. Returns 0, or -1 when
 * out of memory. Release with marathon_event_info_release().
 */
int marathon_event_classify(const char *type, struct json_object *data,
                            struct marathon_event_info *out);
void marathon_event_info_release(struct marathon_event_info *e);

#endif
