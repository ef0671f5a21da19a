/*
 * serve_guard.h: what keeps `pacer serve` answering under abusive
 * clients: a deadline for receiving each request, a cap on connections in
 * all and per source address that sheds the oldest unfinished request
 * instead of refusing new ones, and a token bucket per source address on
 * the paths that cost work (webhooks, the API).
 *
 * Why shed the oldest: a legitimate request (a health check, a webhook)
 * sends its head and body within milliseconds, so among the connections
 * still sending a request the oldest are the slow ones. When a cap is
 * reached the oldest unfinished connection (of that address, or of all)
 * is closed to make room; a new request is never refused for the cap, so
 * /healthz from an address that also holds hundreds of slow connections
 * (every test client is 127.0.0.1, and so are the load balancer and
 * Marathon's health check behind a proxy) is still answered. Connections
 * whose request is read (answered, or an API call running) are never shed.
 *
 * How a connection is cut: shutdown(2) of its socket (the fd that
 * libmicrohttpd reports, MHD_CONNECTION_INFO_CONNECTION_FD), which
 * libmicrohttpd then sees as a closed peer and cleans up as usual
 * (MHD_CONNECTION_NOTIFY_CLOSED, the request's completion callback).
 * The fd is never closed here.
 *
 * Addresses: IPv4 addresses count one by one, IPv6 addresses by their /64
 * (one host usually owns a whole /64).
 *
 * Threads: a guard is used by the thread that runs libmicrohttpd
 * (serve_http.c's event loop, external-epoll mode) and by nothing else:
 * every entry point below runs on it, so there is no lock.
 */
#ifndef PACER_CMD_SERVE_GUARD_H
#define PACER_CMD_SERVE_GUARD_H

#include "reconcile/base/error.h"

struct MHD_Connection;
struct metrics;

/* The limits (serve_options.limits); 0 in a field means its default. */
struct serve_limits {
	/*
	 * A request's head and body must arrive within this many ms of the
	 * connection's opening, or of the previous answer on a kept-alive
	 * connection; else the connection is cut. Not an idle timeout: a
	 * byte now and then does not extend it. Default 10000.
	 */
	unsigned request_timeout_ms;
	/* Connections at once, in all; beyond, the oldest unfinished request is cut. Default 1024.
	 */
	unsigned max_connections;
	/* Connections still sending their request, per source address; beyond, its oldest is cut.
	 * Default 64. */
	unsigned max_client_pending;
	/*
	 * Requests a second per source address on /hooks/, /api/ and the
	 * console's POSTs (serve_guard_take(); a token bucket holding
	 * `rate_burst`); beyond, 429 with Retry-After, the body
	 * unread. A webhook whose signature verifies gives its token back, so
	 * a git host's own deliveries never use up its address's budget.
	 * Default 10; rate_burst default 2 * rate_per_s.
	 */
	unsigned rate_per_s;
	unsigned rate_burst;
	/* 1: no rate limit at all (rate_per_s 0 means the default). */
	int rate_off;
};
#define SERVE_LIMITS_INIT                                                                          \
	{                                                                                          \
		10000, 1024, 64, 10, 20, 0                                                         \
	}

struct serve_guard;

/*
 * A guard with these limits (defaults for 0 fields), counting what it
 * rejects in m (borrowed, must outlive the guard; the family
 * pacer_http_rejected_total{reason} is defined in it, see below). Raises
 * the soft limit of open files (RLIMIT_NOFILE) towards the hard one when
 * it is too low for max_connections. Returns 0 and *out (free with
 * serve_guard_free()), or -1 when out of memory or the family cannot be
 * defined (*err says which).
 *
 * pacer_http_rejected_total{reason="deadline|client_limit|
 *   connection_limit|rate_limited"}: connections cut for their deadline,
 *   for the per-address or the total cap, and requests answered 429.
 */
int serve_guard_new(struct serve_guard **out, const struct serve_limits *limits, struct metrics *m,
                    struct pacer_error **err);

/* NULL is a no-op. Call after libmicrohttpd has stopped. */
void serve_guard_free(struct serve_guard *g);

/* What to give libmicrohttpd as MHD_OPTION_CONNECTION_LIMIT: room above max_connections for the cut
 * ones to close. */
unsigned serve_guard_mhd_limit(const struct serve_guard *g);

/*
 * libmicrohttpd opened c (MHD_CONNECTION_NOTIFY_STARTED; socket_context
 * is its argument of that name): track it, and cut the oldest unfinished
 * requests when a cap is exceeded.
 */
void serve_guard_started(struct serve_guard *g, struct MHD_Connection *c, void **socket_context);

/* libmicrohttpd closed the connection (MHD_CONNECTION_NOTIFY_CLOSED): forget it. */
void serve_guard_closed(struct serve_guard *g, void **socket_context);

/*
 * The request on c is read (its answer is queued, or its body is in): the
 * deadline no longer applies, and c is no longer sheddable, until the
 * answer is sent.
 */
void serve_guard_request_read(struct serve_guard *g, struct MHD_Connection *c);

/* The answer on c is sent (MHD_OPTION_NOTIFY_COMPLETED): its next request's deadline starts now. */
void serve_guard_request_done(struct serve_guard *g, struct MHD_Connection *c);

/*
 * Take one token of c's address. Returns 0 when the request may go on,
 * else the seconds (>= 1) after which it may be retried: answer 429 with
 * that Retry-After.
 */
unsigned serve_guard_take(struct serve_guard *g, struct MHD_Connection *c);

/* Give back the token serve_guard_take() took for c's request (a verified webhook). */
void serve_guard_give_back(struct serve_guard *g, struct MHD_Connection *c);

/* Cut the connections past their deadline (call every loop tick; now: pacer_now_ms()). */
void serve_guard_sweep(struct serve_guard *g, long long now_ms);

/* Connections tracked now, and of them still sending their request (tests, logs). */
void serve_guard_counts(const struct serve_guard *g, unsigned *connections, unsigned *pending);

#endif
