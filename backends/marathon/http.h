/*
 * http.h: internal to backends/marathon. One HTTP request to Marathon with
 * failover across URLs, retries with backoff, auth, TLS options, manual
 * redirect following and a body cap; plus the client struct every file of
 * the module shares. The behaviour is described in client.h.
 */
#ifndef PACER_MARATHON_HTTP_H
#define PACER_MARATHON_HTTP_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"
#include "reconcile/marathon.h"

#define MARATHON__POOL_MAX 16

struct marathon_client {
	struct pacer_marathon base; /* first: marathon_new() hands out &base */
	char **urls;                /* base URLs without credentials or trailing '/', owned */
	size_t nurls;
	char *user, *password, *token, *ca_file; /* owned, may be NULL */
	char *auth_header;                       /* "Authorization: token=...", owned */
	int insecure;
	long connect_timeout_ms, timeout_ms, backoff_ms;
	int retries;
	size_t max_body;

	pthread_mutex_t lock;           /* guards everything below */
	size_t current;                 /* index of the URL that answered last */
	void *idle[MARATHON__POOL_MAX]; /* idle CURL handles (keep their connections) */
	size_t nidle;
	uint64_t rng; /* jitter */
};

/* Feed streamed bytes (2xx replies in stream mode). Also called with data
 * NULL and len 0 about once a second for as long as the request runs, bytes
 * or not: a clock tick, so that the stream's owner can end a stream that
 * went silent. Return 0 to go on, 1 to stop the transfer quietly, negative
 * to fail with *err set. */
typedef int (*marathon__data_fn)(void *ctx, const char *data, size_t len, struct pacer_error **err);

struct marathon_request {
	const char *method; /* "GET", "PUT", ... */
	const char *path;   /* "/v2/apps/a?x=y", already percent-encoded */
	const char *body;   /* JSON text or NULL */
	const char *accept; /* NULL: application/json */
	const char *app_id; /* for the error context, or NULL */
	/* Stream mode (SSE): no total timeout (on_data's ticks watch for silence),
	 * no retries, 2xx bodies go to on_data. */
	marathon__data_fn on_data;
	void *ctx;
	volatile sig_atomic_t *stop; /* may be NULL */
};

struct marathon_response {
	long status;
	struct pacer_buf body; /* the reply body (empty in stream mode on 2xx) */
	char *url;             /* the URL that answered (no credentials), owned: freed by
	                          marathon__response_release() */
};

#define MARATHON_RESPONSE_INIT                                                                     \
	{                                                                                          \
		0, PACER_BUF_INIT, NULL                                                            \
	}

/*
 * Send rq, with the failover, retries and redirects client.h describes.
 * Returns 0 when a 2xx reply was received (resp filled), else a negative
 * code per reconcile/marathon.h with *err set (resp is still filled with
 * whatever came back). In stream mode 0 also means the stream ended or was
 * stopped. rq and what it points to are borrowed for the call. resp must
 * start as MARATHON_RESPONSE_INIT; the caller releases it with
 * marathon__response_release(), whatever the result.
 */
int marathon__request(struct marathon_client *c, const struct marathon_request *rq,
                      struct marathon_response *resp, struct pacer_error **err);
void marathon__response_release(struct marathon_response *r);

/* Which bytes of an id marathon__append_id() keeps as they are. */
enum marathon__id_style {
	MARATHON__ID_STRICT,   /* app ids: [a-z0-9.-/] only */
	MARATHON__ID_READABLE, /* task, deployment and version ids, event types: A-Z _ ~ : too */
};

/*
 * Append an id to b as URL path segments: leading '/' dropped, every byte
 * that `style` does not keep percent-encoded. `what` names the id in the
 * error: PACER_EINVALID for an empty id.
 */
int marathon__append_id(struct pacer_buf *b, const char *id, const char *what,
                        enum marathon__id_style style, struct pacer_error **err);

/* Check that m came from marathon_new() (its free slot is marathon__free);
 * returns the client (borrowed: it is m), or NULL with *err set. */
struct marathon_client *marathon__client(struct pacer_marathon *m, struct pacer_error **err);
void marathon__free(struct pacer_marathon *m);

/* Put back / drop the pooled curl handles (marathon__free). */
void marathon__pool_clear(struct marathon_client *c);

/*
 * Parse an http(s) URL, hand back any user:password in it (*user and
 * *password, caller frees with free(), may stay NULL; pass NULL to discard)
 * and return the URL without them and without a trailing '/' (caller frees
 * with free()). NULL when it is not a valid http(s) URL.
 */
char *marathon__url_clean(const char *url, char **user, char **password);

#endif
