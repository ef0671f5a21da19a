/*
 * evstream.h: following Marathon's event stream (GET /v2/events) for the
 * long-running commands, watch (drift checks) and serve (syncs of apps
 * changed outside pacer): one thread that keeps a connection open
 * (marathon_events_follow(), backends/marathon/events.h), reconnects with
 * backoff and logs outages. What an event means is the front end's: every
 * event is handed to its callback.
 *
 * A stream that stays silent for 30 s (not even a heartbeat) is
 * reconnected; reconnects back off from 0.5 s to 30 s, and start from 0.5 s
 * again after a connection that lived 10 s (a runner_backoff). An outage is
 * logged when it begins ("events: the Marathon event stream ended" or
 * "cannot be followed"), every 5 minutes while it lasts, and when the
 * stream is back ("events: the Marathon event stream is back after N s").
 *
 * Threads: evstream_start() starts the thread; the callbacks run on it.
 * evstream_free() stops and joins it.
 */
#ifndef PACER_CMD_EVSTREAM_H
#define PACER_CMD_EVSTREAM_H

#include <signal.h>

#include "backends/marathon/client.h"
#include "reconcile/base/error.h"

struct evstream;

struct evstream_options {
	struct pacer_marathon *marathon; /* borrowed; must outlive the evstream */
	const char *const *event_types;  /* NULL-terminated filter (borrowed); NULL: every event */
	/* Every event, event_stream_attached included (the stream is open:
	 * whatever happened while it was not is unknown); data borrowed. */
	marathon_event_cb cb;
	/* A connection ended; down_since is when the outage began (monotonic
	 * ms, pacer_now_ms()). May be NULL. */
	void (*down)(void *ctx, long long down_since);
	void *ctx;                   /* for cb and down */
	volatile sig_atomic_t *stop; /* borrowed; may be NULL: ends the stream too */
	/* The end of the "is back" line, e.g. "; comparing every app" (borrowed; may be NULL). */
	const char *back_note;
	/* The end of the outage line: what covers meanwhile (borrowed; may be NULL). */
	const char *down_note;
	/* Log the stream's start, outages and returns at debug level only: for
	 * a command to which the stream is only a hint (sync's deployment waits). */
	int quiet;
};

/*
 * Start following. opts is copied (its pointers borrowed). Returns 0 and
 * *out (free with evstream_free()), or -1 with *err when the thread cannot
 * start or memory runs out.
 */
int evstream_start(struct evstream **out, const struct evstream_options *opts,
                   struct pacer_error **err);

/* Stop following and join the thread (a connection in flight ends at once). NULL is a no-op. */
void evstream_free(struct evstream *es);

#endif
