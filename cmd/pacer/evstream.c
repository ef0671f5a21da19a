/*
 * evstream.c: the event stream thread of watch and serve (contract in
 * evstream.h): reconnects, their backoff and the outage log lines.
 */
#include "cmd/pacer/evstream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/marathon/events.h"
#include "cmd/pacer/runner.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/thread.h"
#include "reconcile/base/log.h"

/* Reconnects of the event stream: the first after 0.5 s, doubling up to 30 s. */
#define STREAM_RETRY_MIN_MS 500L
#define STREAM_RETRY_MAX_MS 30000L
/* A connection that lived this long (a heartbeat is due every 10 s) was
 * not the problem: the next reconnect starts from STREAM_RETRY_MIN_MS again. */
#define HEALTHY_MS 10000LL
/* An outage is logged when it begins, then this often. */
#define OUTAGE_LOG_EVERY_MS 300000LL

struct evstream {
	struct evstream_options o;

	/* The stream's health, kept by the thread alone. */
	struct runner_backoff backoff; /* the wait before the next reconnect */
	long long outage_ms;           /* when the current outage began; 0: none */
	unsigned long failures;        /* connections that failed in this outage */
	long long warned_ms;           /* the outage's last warning */
	int said_back;                 /* this outage's attach was logged */
	int ever_attached;

	struct pacer_worker worker; /* its cv wakes the wait between connections */
};

/* info, or debug for a quiet stream; warn, or debug. */
#define INFO_LEVEL(es) ((es)->o.quiet ? PACER_LOG_DEBUG : PACER_LOG_INFO)
#define WARN_LEVEL(es) ((es)->o.quiet ? PACER_LOG_DEBUG : PACER_LOG_WARN)

static const char *note(const char *s)
{
	return s ? s : "";
}

/* The stream is open: say so once per outage, then hand the event on. */
static int on_event(void *ctx, const char *type, struct json_object *data)
{
	struct evstream *es = ctx;

	if (type && !strcmp(type, "event_stream_attached")) {
		if (es->outage_ms && !es->said_back)
			PLOG(INFO_LEVEL(es), "events: the Marathon event stream is back after %lld s%s",
			          (pacer_now_ms() - es->outage_ms) / 1000, note(es->o.back_note));
		else if (!es->ever_attached)
			PLOG(INFO_LEVEL(es), "events: following Marathon's event stream");
		es->said_back = es->outage_ms != 0;
		es->ever_attached = 1;
	}
	return es->o.cb ? es->o.cb(es->o.ctx, type, data) : 0;
}

/* Why the connection ended, for the log; caller frees. */
static char *why_ended(int rc, const struct marathon_stream_info *info,
                       const struct pacer_error *err)
{
	char *s = NULL;

	if (rc)
		return pacer_error_format(err);
	if (!info->attached)
		return strdup("the reply ended before the stream's first event, as when a proxy "
		              "in front of Marathon buffers or cuts streams");
	if (asprintf(&s, "closed by Marathon after %lld s", info->ms / 1000) < 0)
		s = NULL;
	return s;
}

/* Log a connection's end, and decide the wait before the next. */
static void ended(struct evstream *es, int rc, const struct marathon_stream_info *info,
                  const struct pacer_error *err)
{
	long long now = pacer_now_ms();
	int healthy = info->attached && info->ms >= HEALTHY_MS;
	char *why = why_ended(rc, info, err);

	if (healthy) /* a new outage, however the last one went */
		es->outage_ms = 0;
	if (!es->outage_ms)
		runner_backoff_reset(&es->backoff);
	runner_backoff_next(&es->backoff);
	if (!es->outage_ms) {
		es->outage_ms = es->warned_ms = now;
		es->failures = 0;
		es->said_back = 0;
		PLOG(WARN_LEVEL(es), "events: the Marathon event stream %s (%s); reconnecting with backoff "
		          "(%ld ms, doubling up to %ld s)%s",
		          info->attached ? "ended" : "cannot be followed", why ? why : "?",
		          es->backoff.ms, es->backoff.max_ms / 1000, note(es->o.down_note));
	} else if (now - es->warned_ms >= OUTAGE_LOG_EVERY_MS) {
		es->warned_ms = now;
		PLOG(WARN_LEVEL(es), "events: the Marathon event stream is still down after %lld s and %lu "
		          "attempts (last: %s)",
		          (now - es->outage_ms) / 1000, es->failures + 1, why ? why : "?");
	} else {
		PLOG_DEBUG("events: the event stream failed again (%s); next try in %ld ms",
		           why ? why : "?", es->backoff.ms);
	}
	es->failures++;
	free(why);
	if (es->o.down)
		es->o.down(es->o.ctx, es->outage_ms);
}

static int stopping(struct evstream *es)
{
	int q;

	pthread_mutex_lock(&es->worker.mu);
	q = es->worker.quit || (es->o.stop && *es->o.stop);
	pthread_mutex_unlock(&es->worker.mu);
	return q;
}

static void *follow(void *arg)
{
	struct evstream *es = arg;
	struct marathon_events_options eo = {es->o.event_types, 0, on_event, es, es->o.stop};

	runner_backoff_next(&es->backoff);
	while (!stopping(es)) {
		struct marathon_stream_info info;
		struct pacer_error *err = NULL;
		int rc = marathon_events_follow(es->o.marathon, &eo, &info, &err);
		long long at;

		if (!stopping(es))
			ended(es, rc, &info, err);
		pacer_error_free(err);
		/* Wait, waking at once when asked to stop. */
		pthread_mutex_lock(&es->worker.mu);
		at = pacer_now_ms() + es->backoff.ms;
		while (!es->worker.quit && !(es->o.stop && *es->o.stop) && pacer_now_ms() < at)
			runner_wait_until(&es->worker.cv, &es->worker.mu, at);
		pthread_mutex_unlock(&es->worker.mu);
	}
	return NULL;
}

int evstream_start(struct evstream **out, const struct evstream_options *opts,
                   struct pacer_error **err)
{
	struct evstream *es = calloc(1, sizeof(*es));
	int rc;

	*out = NULL;
	if (!es)
		return pacer_error_set(err, -1, "out of memory");
	es->o = *opts;
	es->backoff =
	    (struct runner_backoff)RUNNER_BACKOFF_INIT(STREAM_RETRY_MIN_MS, STREAM_RETRY_MAX_MS);
	if ((rc = pacer_worker_start(&es->worker, follow, es)) != 0) {
		free(es);
		return pacer_error_set(err, -1, "cannot start the event stream thread: %s",
		                       strerror(rc));
	}
	*out = es;
	return 0;
}

void evstream_free(struct evstream *es)
{
	if (!es)
		return;
	pacer_worker_stop(&es->worker);
	free(es);
}
