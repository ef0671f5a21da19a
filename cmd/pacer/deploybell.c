/*
 * deploybell.c: the event stream that rings a run's waiter (deploybell.h).
 */
#include "cmd/pacer/deploybell.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/evstream.h"
#include "reconcile/base/log.h"
#include "reconcile/wait.h"

struct deploybell {
	struct waiter_bell *bell;
	struct evstream *stream; /* opened by the first waiter */
	struct pacer_marathon *m;
	/* Ends the stream: set by deploybell_free(); a signal ends the run first. */
	volatile sig_atomic_t stop;
};

static const char *const deployment_events[] = {"deployment_success", "deployment_failed", NULL};

/*
 * Ring on every deployment end, and when the stream (re)attaches: whatever
 * ended while it was not open is then read back at once.
 */
static int on_event(void *ctx, const char *type, struct json_object *data)
{
	struct deploybell *db = ctx;

	(void)data;
	if (type && (!strcmp(type, "deployment_success") || !strcmp(type, "deployment_failed") ||
	             !strcmp(type, "event_stream_attached")))
		waiter_bell_ring(db->bell);
	return 0;
}

/* The first waiter attached: the run waits for deployments, open the stream. */
static void open_stream(void *ctx)
{
	struct deploybell *db = ctx;
	struct evstream_options eo = {0};
	struct pacer_error *err = NULL;

	eo.marathon = db->m;
	eo.event_types = deployment_events;
	eo.cb = on_event;
	eo.ctx = db;
	eo.stop = &db->stop;
	eo.quiet = 1;
	eo.down_note = "; deployments are polled meanwhile";
	if (evstream_start(&db->stream, &eo, &err)) {
		PLOG_DEBUG("cannot follow deployment events (%s); polling only",
		           err ? err->message : "?");
		pacer_error_free(err);
	}
}

int deploybell_new(struct deploybell **out, struct pacer_marathon *m, struct pacer_error **err)
{
	struct deploybell *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	db->m = m;
	if (waiter_bell_new(&db->bell, open_stream, db, err)) {
		free(db);
		return -1;
	}
	*out = db;
	return 0;
}

struct waiter_bell *deploybell_bell(struct deploybell *db)
{
	return db ? db->bell : NULL;
}

unsigned long deploybell_events(struct deploybell *db)
{
	return db ? waiter_bell_rings(db->bell) : 0;
}

void deploybell_free(struct deploybell *db)
{
	if (!db)
		return;
	db->stop = 1;
	evstream_free(db->stream);
	waiter_bell_free(db->bell);
	free(db);
}
