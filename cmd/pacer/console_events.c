/*
 * console_events.c: the overview's Server-Sent Events (console_events.h).
 *
 * MHD calls a stream's reader on the event loop; with nothing to send it
 * suspends the connection and returns 0 (libmicrohttpd's way to wait
 * without busy looping), and the thread resumes it once it has queued an
 * event. The thread resumes connections outside the hub's mutex, having
 * marked them not suspended under it: a suspended connection cannot end,
 * so it is still there when resumed.
 */
#include "cmd/pacer/console_events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/console_int.h"
#include "cmd/pacer/serve_http_int.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

#define TICK_MS 500
#define KEEPALIVE_S 15
#define STREAM_MAX (4u << 20) /* pending bytes of a stream that does not read */

struct stream {
	struct console_events *hub;
	struct MHD_Connection *conn;
	struct pacer_buf out; /* bytes not yet handed to MHD */
	int suspended, closed;
	struct stream *next;
};

struct console_events {
	struct serve *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct stream *streams;
	size_t n;
	int quit, poked, started, stopped;
	pthread_t thread;
};

static void *hub_main(void *arg);

int console_events_new(struct console_events **out, struct serve *s)
{
	struct console_events *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return -1;
	e->s = s;
	pthread_mutex_init(&e->mu, NULL);
	pacer_cond_init(&e->cv);
	if (pthread_create(&e->thread, NULL, hub_main, e)) {
		pthread_cond_destroy(&e->cv);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return -1;
	}
	e->started = 1;
	*out = e;
	return 0;
}

/* Queue text on every stream (NULL: close them); returns the ones to resume. Under mu. */
static size_t queue_all(struct console_events *e, const char *text, struct MHD_Connection **wake,
                        size_t max)
{
	size_t nw = 0;

	for (struct stream *st = e->streams; st; st = st->next) {
		if (st->closed)
			continue;
		if (!text || pacer_buf_puts(&st->out, text))
			st->closed = 1; /* the service stops, or a client that does not read */
		if (st->suspended && nw < max) {
			st->suspended = 0;
			wake[nw++] = st->conn;
		}
	}
	return nw;
}

/* Send text (NULL: end every stream), resuming the suspended ones outside mu. */
static void broadcast(struct console_events *e, const char *text)
{
	struct MHD_Connection *wake[CONSOLE_EVENTS_MAX];
	size_t nw;

	pthread_mutex_lock(&e->mu);
	nw = queue_all(e, text, wake, CONSOLE_EVENTS_MAX);
	pthread_mutex_unlock(&e->mu);
	for (size_t i = 0; i < nw; i++)
		MHD_resume_connection(wake[i]);
}

/* The overview's live part as one SSE event (new string), or NULL when the read failed. */
static char *render(struct console_events *e)
{
	struct serve *s = e->s;
	struct json_object *body = json_object_new_object(), *reply = NULL;
	struct serve_api_call call = {SERVE_API_APPS, NULL, body, "console", "console"};
	struct console_syncs sy;
	struct pacer_buf ev = PACER_BUF_INIT;
	struct page p;
	unsigned status;
	char *out = NULL;

	/* While a sync holds the state: the last list read, marked as such. */
	json_object_object_add(body, "lock_wait", json_object_new_int(1));
	json_object_object_add(body, "stale_ok", json_object_new_boolean(1));
	status = s->api_fn ? s->api_fn(s->api_ctx, &call, &reply) : 501;
	json_object_put(body);

	if (status == 200) {
		page_init(&p);
		console_syncs_get(s, &sy);
		console_overview_live(&p, reply, &sy, NULL, NULL);
		runner_status_release(&sy.st);
		/* SSE data is line by line: each line of the markup its own "data:". */
		if (!p.err && !pacer_buf_puts(&ev, "event: overview\n")) {
			const char *line = pacer_buf_cstr(&p.b);

			while (line) {
				const char *nl = strchr(line, '\n');
				size_t len = nl ? (size_t)(nl - line) : strlen(line);

				pacer_buf_printf(&ev, "data: %.*s\n", (int)len, line);
				line = nl ? nl + 1 : NULL;
			}
			if (!pacer_buf_puts(&ev, "\n"))
				out = pacer_buf_detach(&ev);
		}
		page_release(&p);
	}
	pacer_buf_release(&ev);
	json_object_put(reply);
	return out;
}

/* Is something new: a sync started or ended since last time? */
static int syncs_moved(struct console_events *e, unsigned long *seen)
{
	struct runner_status st;
	unsigned long now;

	runner_status_get(e->s->runner, 0, &st);
	now = st.nsyncs * 2 + (unsigned long)(st.running != 0);
	runner_status_release(&st);
	if (now == *seen)
		return 0;
	*seen = now;
	return 1;
}

static int stopping(struct serve *s)
{
	int v;

	pthread_mutex_lock(&s->mu);
	v = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return v;
}

static void *hub_main(void *arg)
{
	struct console_events *e = arg;
	long long next = 0, alive = pacer_now_ms() + KEEPALIVE_S * 1000LL;
	unsigned long seen = 0;

	pthread_mutex_lock(&e->mu);
	while (!e->quit) {
		struct timespec dl = pacer_deadline_ms(TICK_MS);
		int due, moved;
		char *ev;

		pthread_cond_timedwait(&e->cv, &e->mu, &dl);
		if (e->quit)
			break;
		pthread_mutex_unlock(&e->mu);
		if (stopping(e->s)) {
			broadcast(e, NULL);
			pthread_mutex_lock(&e->mu);
			e->stopped = 1;
			continue;
		}
		moved = syncs_moved(e, &seen);
		pthread_mutex_lock(&e->mu);
		due = e->n > 0 && (e->poked || moved || pacer_now_ms() >= next);
		e->poked = 0;
		pthread_mutex_unlock(&e->mu);
		if (due && (ev = render(e))) {
			broadcast(e, ev);
			free(ev);
			next = pacer_now_ms() + CONSOLE_EVENTS_EVERY_S * 1000LL;
			alive = pacer_now_ms() + KEEPALIVE_S * 1000LL;
		} else if (pacer_now_ms() >= alive) {
			broadcast(e, ": keepalive\n\n");
			alive = pacer_now_ms() + KEEPALIVE_S * 1000LL;
		}
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	broadcast(e, NULL);
	return NULL;
}

void console_events_poke(struct console_events *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->poked = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void console_events_stop(struct console_events *e)
{
	if (!e || !e->started)
		return;
	pthread_mutex_lock(&e->mu);
	e->quit = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	e->started = 0;
}

void console_events_free(struct console_events *e)
{
	if (!e)
		return;
	console_events_stop(e);
	/* Streams still listed belong to connections MHD frees with their responses. */
	pthread_mutex_lock(&e->mu);
	for (struct stream *st = e->streams; st; st = st->next)
		st->hub = NULL;
	pthread_mutex_unlock(&e->mu);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* MHD's reader (event loop): what is queued, the end, or suspend until there is more. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	struct console_events *e = st->hub;
	ssize_t n = 0;

	(void)pos;
	if (!e)
		return MHD_CONTENT_READER_END_OF_STREAM;
	pthread_mutex_lock(&e->mu);
	if (st->out.len) {
		n = (ssize_t)(st->out.len < max ? st->out.len : max);
		memcpy(buf, st->out.ptr, (size_t)n);
		memmove(st->out.ptr, st->out.ptr + n, st->out.len - (size_t)n + 1);
		st->out.len -= (size_t)n;
	} else if (st->closed) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		st->suspended = 1;
		MHD_suspend_connection(st->conn);
	}
	pthread_mutex_unlock(&e->mu);
	return n;
}

/* The response is gone (connection closed): forget the stream. */
static void stream_free(void *cls)
{
	struct stream *st = cls;
	struct console_events *e = st->hub;

	if (e) {
		pthread_mutex_lock(&e->mu);
		for (struct stream **pp = &e->streams; *pp; pp = &(*pp)->next)
			if (*pp == st) {
				*pp = st->next;
				e->n--;
				break;
			}
		pthread_mutex_unlock(&e->mu);
	}
	pacer_buf_release(&st->out);
	free(st);
}

enum MHD_Result console_events_open(struct console_events *e, struct MHD_Connection *c)
{
	struct stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *r;
	enum MHD_Result ret;
	int full;

	if (!st)
		return MHD_NO;
	st->hub = e;
	st->conn = c;
	pacer_buf_init(&st->out, STREAM_MAX);
	/* The browser reconnects 3 s after a stream ends. */
	pacer_buf_puts(&st->out, "retry: 3000\n\n");
	pthread_mutex_lock(&e->mu);
	full = e->n >= CONSOLE_EVENTS_MAX || e->stopped || e->quit;
	if (!full) {
		st->next = e->streams;
		e->streams = st;
		e->n++;
		e->poked = 1; /* the newcomer gets the overview at once */
		pthread_cond_broadcast(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
	if (full) {
		pacer_buf_release(&st->out);
		free(st);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
		MHD_destroy_response(r);
		return ret;
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st,
	                                      stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
