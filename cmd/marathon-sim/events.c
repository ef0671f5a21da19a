/*
 * events.c: the Server-Sent Events hub behind GET /v2/events.
 *
 * Published events are kept serialised in a ring of RING_SIZE frames with a
 * sequence number. Each subscriber remembers the next sequence it wants, so
 * publishing never copies per subscriber and never blocks on a slow client.
 * A subscriber that falls a whole ring behind is disconnected, as Marathon
 * 1.8+ drops slow consumers. Readers block on a condition variable (MHD runs
 * one thread per connection) and send a bare "\r\n" heartbeat every 10 s.
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/base/clock.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_SIZE 8192
#define HEARTBEAT_MS 10000

struct frame {
	char *type;
	char *text; /* "event: x\r\ndata: {...}\r\n\r\n" */
};

struct sim_events {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct frame ring[RING_SIZE];
	uint64_t next_seq; /* sequence of the next published event */
	int shutdown;
};

struct sim_sub {
	struct sim_events *ev;
	char **types;
	size_t ntypes;
	uint64_t seq;       /* next event to deliver */
	char *pending;      /* frame being written */
	size_t pending_off;
	int done;
};

struct sim_events *events_new(void)
{
	struct sim_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	pthread_mutex_init(&ev->mu, NULL);
	/* Heartbeat deadlines are on the monotonic clock (events_read). */
	if (pacer_cond_init(&ev->cond)) {
		pthread_mutex_destroy(&ev->mu);
		free(ev);
		return NULL;
	}
	return ev;
}

void events_free(struct sim_events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < RING_SIZE; i++) {
		free(ev->ring[i].type);
		free(ev->ring[i].text);
	}
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}

void events_emit(struct sim_events *ev, const char *type, struct json_object *payload)
{
	char ts[32];
	const char *data;
	char *text;
	size_t len;
	struct frame *f;

	sim_timestamp(ts);
	json_object_object_add(payload, "eventType", json_object_new_string(type));
	json_object_object_add(payload, "timestamp", json_object_new_string(ts));
	data = sim_json_text(payload);
	len = strlen(type) + strlen(data) + 32;
	text = malloc(len);
	if (text)
		snprintf(text, len, "event: %s\r\ndata: %s\r\n\r\n", type, data);
	json_object_put(payload);
	if (!text)
		return;
	pthread_mutex_lock(&ev->mu);
	f = &ev->ring[ev->next_seq % RING_SIZE];
	free(f->type);
	free(f->text);
	f->type = strdup(type);
	f->text = text;
	ev->next_seq++;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
}

void events_shutdown(struct sim_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	ev->shutdown = 1;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
}

/* ?event_type= filters every event, event_stream_attached included, as in Marathon 1.10. */
static int wanted(struct sim_sub *sub, const char *type)
{
	if (!sub->ntypes)
		return 1;
	for (size_t i = 0; i < sub->ntypes; i++)
		if (sub->types[i] && !strcmp(sub->types[i], type))
			return 1;
	return 0;
}

struct sim_sub *events_subscribe(struct sim_events *ev, const char *const *types, const char *remote)
{
	struct sim_sub *sub = calloc(1, sizeof(*sub));
	struct json_object *o;
	char ts[32];
	const char *data;
	size_t n = 0, len;

	if (!sub)
		return NULL;
	sub->ev = ev;
	while (types && types[n])
		n++;
	if (n) {
		sub->types = calloc(n, sizeof(char *));
		for (size_t i = 0; sub->types && i < n; i++)
			sub->types[i] = strdup(types[i]);
		sub->ntypes = sub->types ? n : 0;
	}
	pthread_mutex_lock(&ev->mu);
	sub->seq = ev->next_seq;
	pthread_mutex_unlock(&ev->mu);
	/* The first frame of every stream, as Marathon sends it, when the
	 * event_type filter lets it through: Marathon filters it like any other. */
	if (!wanted(sub, "event_stream_attached"))
		return sub;
	sim_timestamp(ts);
	o = json_object_new_object();
	json_object_object_add(o, "remoteAddress", json_object_new_string(remote));
	json_object_object_add(o, "eventType", json_object_new_string("event_stream_attached"));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	data = sim_json_text(o);
	len = strlen(data) + 64;
	sub->pending = malloc(len);
	if (sub->pending)
		snprintf(sub->pending, len, "event: event_stream_attached\r\ndata: %s\r\n\r\n", data);
	json_object_put(o);
	return sub;
}

void events_unsubscribe(void *p)
{
	struct sim_sub *sub = p;

	if (!sub)
		return;
	for (size_t i = 0; i < sub->ntypes; i++)
		free(sub->types[i]);
	free(sub->types);
	free(sub->pending);
	free(sub);
}

ssize_t events_read(void *p, uint64_t pos, char *buf, size_t max)
{
	struct sim_sub *sub = p;
	struct sim_events *ev = sub->ev;
	struct timespec deadline;
	size_t n;

	(void)pos;
	if (sub->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	pthread_mutex_lock(&ev->mu);
	deadline = pacer_deadline_ms(HEARTBEAT_MS);
	while (!sub->pending) {
		if (ev->shutdown) {
			pthread_mutex_unlock(&ev->mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (ev->next_seq - sub->seq > RING_SIZE) {
			/* Fell a whole ring behind: drop the slow consumer. */
			pthread_mutex_unlock(&ev->mu);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		while (sub->seq < ev->next_seq) {
			struct frame *f = &ev->ring[sub->seq % RING_SIZE];
			sub->seq++;
			if (f->text && wanted(sub, f->type)) {
				sub->pending = strdup(f->text);
				break;
			}
		}
		if (sub->pending)
			break;
		if (pthread_cond_timedwait(&ev->cond, &ev->mu, &deadline) == ETIMEDOUT) {
			sub->pending = strdup("\r\n");
			break;
		}
	}
	pthread_mutex_unlock(&ev->mu);
	if (!sub->pending)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = strlen(sub->pending + sub->pending_off);
	if (n > max)
		n = max;
	memcpy(buf, sub->pending + sub->pending_off, n);
	sub->pending_off += n;
	if (!sub->pending[sub->pending_off]) {
		free(sub->pending);
		sub->pending = NULL;
		sub->pending_off = 0;
	}
	return (ssize_t)n;
}
