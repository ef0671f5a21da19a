/*
 * sender.h: deliver notifications (notify.h) to one sink without ever
 * holding up a sync: a bounded queue in front of one worker thread that
 * POSTs each document with libcurl, retrying with backoff.
 *
 * One sender per sink (commit status, webhook, Slack), so that a dead sink
 * delays only its own messages; within a sink the order is kept (a
 * commit's "pending" before its "success").
 *
 * A delivery is retried when the connection fails, the request times out,
 * or the sink answers 5xx or 429: after retry_min_ms, doubling up to
 * retry_max_ms, attempts times in all. Any other answer but 2xx fails at
 * once. Each delivery ends as "sent", "failed" (logged at warn with the
 * sink, the caller's description of the message and the reason; never the
 * URL, which may hold a token, nor a header) or "dropped" (the queue was
 * full, or the sender was freed first): counted in
 * pacer_notifications_total{sink,result} when a metrics registry is given.
 *
 * Threads: every function may be called from any thread, except that
 * notify_sender_free() must not race the others.
 */
#ifndef PACER_NOTIFY_SENDER_H
#define PACER_NOTIFY_SENDER_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct metrics;
struct notify_sender;

struct notify_sender_options {
	unsigned version;
	const char *sink;          /* "slack": logs and the metric's label (copied); required */
	size_t queue_max;          /* messages waiting at most; 0: 64 */
	int attempts;              /* 0: 4 */
	long retry_min_ms;         /* 0: 500 */
	long retry_max_ms;         /* 0: 8000 */
	long timeout_ms;           /* one request, connection included; 0: 10000 */
	long connect_timeout_ms;   /* 0: 5000 */
	const char *user_agent;    /* copied; NULL: "pacer" */
	struct metrics *metrics;   /* borrowed, must outlive the sender; NULL: not counted */
};
#define NOTIFY_SENDER_OPTIONS_VERSION 1
#define NOTIFY_SENDER_OPTIONS_INIT                                                                 \
	{                                                                                          \
		.version = NOTIFY_SENDER_OPTIONS_VERSION                                           \
	}

/*
 * Start a sender (its worker thread runs until notify_sender_free()).
 * Returns 0 and *out, PACER_EINVALID for a wrong version or no sink, -1
 * when out of memory or the thread cannot start.
 */
int notify_sender_new(struct notify_sender **out, const struct notify_sender_options *o,
                      struct pacer_error **err);

/*
 * Queue one POST of body (JSON) to url with the extra header lines in
 * headers ("Name: value", NULL-terminated, may be NULL; they may hold
 * secrets: wiped when done). Everything is copied. what describes the
 * message in logs ("status success of 1a2b3c4d"). Returns 0, or PACER_EBUSY
 * when the queue is full (the message is dropped, counted and logged), -1
 * when out of memory.
 */
int notify_sender_post(struct notify_sender *s, const char *url, const char *const *headers,
                       const char *body, const char *what);

/*
 * Wait until every queued message is delivered or has failed, or until
 * deadline_ms on the monotonic clock (pacer_now_ms()). Returns the number
 * of messages still queued or in flight (0: all done).
 */
size_t notify_sender_drain(struct notify_sender *s, long long deadline_ms);

/*
 * Stop: a request in flight is aborted, what is still queued is dropped
 * (counted, and logged once with the number). NULL is a no-op.
 */
void notify_sender_free(struct notify_sender *s);

#endif
