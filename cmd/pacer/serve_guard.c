/*
 * serve_guard.c: deadlines, connection caps and rate limits of
 * serve_guard.h.
 *
 * State: every connection libmicrohttpd has open (struct gconn, its
 * socket context), every source address seen recently (struct gclient,
 * in a chained hash table), and the connections still sending their
 * request in one list ordered by when they began to (oldest first): the
 * deadline sweep looks at its head only, and shedding takes from it.
 */
#include "cmd/pacer/serve_guard.h"

#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/metrics.h"

#define GUARD_BUCKETS 1024
#define GUARD_MAX_CLIENTS 65536 /* addresses remembered; beyond, idle ones are forgotten */
#define GUARD_PRUNE_MS 1000     /* how often idle addresses with full buckets are forgotten */
#define GUARD_REPORT_MS 10000   /* at most one log line about cut connections this often */
#define KEY_LEN 9               /* family, then 4 (IPv4) or 8 (IPv6 /64) bytes */

#define REJECTED "pacer_http_rejected_total"
enum reject { R_DEADLINE = 0, R_CLIENT, R_TOTAL, R_RATE, R_COUNT };
static const char *const reject_names[R_COUNT] = {"deadline", "client_limit", "connection_limit",
                                                  "rate_limited"};

struct gclient {
	struct gclient *next; /* hash chain */
	unsigned char key[KEY_LEN];
	unsigned conns;   /* connections open */
	unsigned pending; /* of them still sending their request */
	double tokens;    /* the rate bucket */
	long long refilled_ms;
};

struct gconn {
	struct gconn *prev, *next; /* in the pending list while pending */
	struct gclient *client;
	int fd;
	long long since_ms; /* when its current request began to be awaited */
	int pending;
	int cut; /* shut down; libmicrohttpd has yet to close it */
};

struct serve_guard {
	struct serve_limits l;
	struct metrics *m;
	struct gclient *table[GUARD_BUCKETS];
	unsigned nclients;
	struct gconn *head, *tail; /* pending connections, oldest first */
	unsigned live, pending;    /* connections open and not cut; of them pending */
	long long pruned_ms, reported_ms;
	unsigned long rejected[R_COUNT], reported[R_COUNT];
};

/* ---- addresses and their buckets ---------------------------------------- */

static int client_key(struct MHD_Connection *c, unsigned char key[KEY_LEN])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	memset(key, 0, KEY_LEN);
	if (sa && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		/* An IPv4 client on a dual-stack socket is that IPv4 address. */
		key[0] = IN6_IS_ADDR_V4MAPPED(a) ? 4 : 6;
		memcpy(key + 1, key[0] == 4 ? a->s6_addr + 12 : a->s6_addr, key[0] == 4 ? 4 : 8);
	}
	return 0;
}

static unsigned key_hash(const unsigned char key[KEY_LEN])
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % GUARD_BUCKETS;
}

static unsigned burst(const struct serve_guard *g)
{
	return g->l.rate_burst;
}

/* Refill cl's bucket for the time since it was last refilled. */
static void refill(const struct serve_guard *g, struct gclient *cl, long long now)
{
	cl->tokens += (double)(now - cl->refilled_ms) * g->l.rate_per_s / 1000.0;
	if (cl->tokens > burst(g))
		cl->tokens = burst(g);
	cl->refilled_ms = now;
}

/* Forget the addresses with no connection whose bucket is full again (all idle ones when forced).
 */
static void prune(struct serve_guard *g, long long now, int force)
{
	for (unsigned b = 0; b < GUARD_BUCKETS; b++) {
		struct gclient **pp = &g->table[b];

		while (*pp) {
			struct gclient *cl = *pp;

			refill(g, cl, now);
			if (cl->conns == 0 && (force || cl->tokens >= burst(g))) {
				*pp = cl->next;
				free(cl);
				g->nclients--;
			} else {
				pp = &cl->next;
			}
		}
	}
	g->pruned_ms = now;
}

/* c's address, made when new. NULL when out of memory. */
static struct gclient *client_get(struct serve_guard *g, struct MHD_Connection *c)
{
	unsigned char key[KEY_LEN];
	struct gclient *cl;
	unsigned b;

	client_key(c, key);
	b = key_hash(key);
	for (cl = g->table[b]; cl; cl = cl->next)
		if (memcmp(cl->key, key, KEY_LEN) == 0)
			return cl;
	if (g->nclients >= GUARD_MAX_CLIENTS)
		prune(g, pacer_now_ms(), 1);
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return NULL;
	memcpy(cl->key, key, KEY_LEN);
	cl->tokens = burst(g);
	cl->refilled_ms = pacer_now_ms();
	cl->next = g->table[b];
	g->table[b] = cl;
	g->nclients++;
	return cl;
}

/* ---- connections -------------------------------------------------------- */

static void count(struct serve_guard *g, enum reject why)
{
	const char *labels[] = {"reason", reject_names[why], NULL};

	g->rejected[why]++;
	if (g->m)
		metrics_add(g->m, REJECTED, labels, 1, NULL);
}

static void pending_enter(struct serve_guard *g, struct gconn *gc, long long now)
{
	if (gc->pending || gc->cut)
		return;
	gc->pending = 1;
	gc->since_ms = now;
	gc->prev = g->tail;
	gc->next = NULL;
	if (g->tail)
		g->tail->next = gc;
	else
		g->head = gc;
	g->tail = gc;
	g->pending++;
	gc->client->pending++;
}

static void pending_leave(struct serve_guard *g, struct gconn *gc)
{
	if (!gc->pending)
		return;
	if (gc->prev)
		gc->prev->next = gc->next;
	else
		g->head = gc->next;
	if (gc->next)
		gc->next->prev = gc->prev;
	else
		g->tail = gc->prev;
	gc->prev = gc->next = NULL;
	gc->pending = 0;
	g->pending--;
	gc->client->pending--;
}

/*
 * Cut gc: shut its socket down both ways. libmicrohttpd sees the peer gone
 * at its next look and closes the connection, which ends its request.
 */
static void cut(struct serve_guard *g, struct gconn *gc, enum reject why)
{
	if (gc->cut)
		return;
	pending_leave(g, gc);
	gc->cut = 1;
	g->live--;
	if (gc->fd >= 0)
		shutdown(gc->fd, SHUT_RDWR);
	count(g, why);
}

/* The oldest pending connection of cl (NULL: of anyone), other than except. */
static struct gconn *oldest_pending(struct serve_guard *g, const struct gclient *cl,
                                    const struct gconn *except)
{
	for (struct gconn *gc = g->head; gc; gc = gc->next)
		if (gc != except && (!cl || gc->client == cl))
			return gc;
	return NULL;
}

/* A new connection: make room under the caps by cutting the oldest unfinished requests. */
static void shed(struct serve_guard *g, struct gconn *fresh)
{
	struct gclient *cl = fresh->client;
	struct gconn *victim;

	while (cl->pending > g->l.max_client_pending &&
	       (victim = oldest_pending(g, cl, fresh)) != NULL)
		cut(g, victim, R_CLIENT);
	while (g->live > g->l.max_connections && (victim = oldest_pending(g, NULL, fresh)) != NULL)
		cut(g, victim, R_TOTAL);
}

void serve_guard_started(struct serve_guard *g, struct MHD_Connection *c, void **ctx)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct gconn *gc = calloc(1, sizeof(*gc));

	*ctx = NULL;
	if (!gc)
		return;
	gc->client = client_get(g, c);
	if (!gc->client) {
		free(gc);
		return;
	}
	gc->fd = ci ? ci->connect_fd : -1;
	gc->client->conns++;
	g->live++;
	pending_enter(g, gc, pacer_now_ms());
	*ctx = gc;
	shed(g, gc);
}

void serve_guard_closed(struct serve_guard *g, void **ctx)
{
	struct gconn *gc = *ctx;

	if (!gc)
		return;
	pending_leave(g, gc);
	if (!gc->cut)
		g->live--;
	gc->client->conns--;
	free(gc);
	*ctx = NULL;
}

/* c's record, or NULL (not tracked: out of memory when it opened). */
static struct gconn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void serve_guard_request_read(struct serve_guard *g, struct MHD_Connection *c)
{
	struct gconn *gc = conn_of(c);

	if (gc)
		pending_leave(g, gc);
}

void serve_guard_request_done(struct serve_guard *g, struct MHD_Connection *c)
{
	struct gconn *gc = conn_of(c);

	if (gc)
		pending_enter(g, gc, pacer_now_ms());
}

/* ---- rate --------------------------------------------------------------- */

unsigned serve_guard_take(struct serve_guard *g, struct MHD_Connection *c)
{
	struct gconn *gc = conn_of(c);
	struct gclient *cl = gc ? gc->client : client_get(g, c);
	double wait;

	if (g->l.rate_off || !cl)
		return 0;
	refill(g, cl, pacer_now_ms());
	if (cl->tokens >= 1.0) {
		cl->tokens -= 1.0;
		return 0;
	}
	count(g, R_RATE);
	wait = ceil((1.0 - cl->tokens) / g->l.rate_per_s);
	return wait < 1 ? 1 : (unsigned)wait;
}

void serve_guard_give_back(struct serve_guard *g, struct MHD_Connection *c)
{
	struct gconn *gc = conn_of(c);

	if (g->l.rate_off || !gc)
		return;
	gc->client->tokens += 1.0;
	if (gc->client->tokens > burst(g))
		gc->client->tokens = burst(g);
}

/* ---- the sweep ---------------------------------------------------------- */

/* One line now and then while connections are being cut: an operator should know. */
static void report(struct serve_guard *g, long long now)
{
	unsigned long d[R_COUNT];
	int any = 0;

	if (now - g->reported_ms < GUARD_REPORT_MS)
		return;
	for (int i = 0; i < R_COUNT; i++) {
		d[i] = g->rejected[i] - g->reported[i];
		g->reported[i] = g->rejected[i];
		any |= d[i] > 0;
	}
	g->reported_ms = now;
	if (any)
		PLOG_WARN("serve: refused slow or excess clients in the last %d s: %lu past the "
		          "request deadline, %lu over the per-address cap, %lu over the "
		          "connection cap, %lu rate-limited (429)",
		          GUARD_REPORT_MS / 1000, d[R_DEADLINE], d[R_CLIENT], d[R_TOTAL],
		          d[R_RATE]);
}

void serve_guard_sweep(struct serve_guard *g, long long now)
{
	while (g->head && now - g->head->since_ms >= (long long)g->l.request_timeout_ms)
		cut(g, g->head, R_DEADLINE);
	if (now - g->pruned_ms >= GUARD_PRUNE_MS)
		prune(g, now, 0);
	report(g, now);
}

void serve_guard_counts(const struct serve_guard *g, unsigned *connections, unsigned *pending)
{
	*connections = g->live;
	*pending = g->pending;
}

/* ---- setup -------------------------------------------------------------- */

unsigned serve_guard_mhd_limit(const struct serve_guard *g)
{
	return g->l.max_connections + g->l.max_connections / 4 + 16;
}

/* Enough open files for every connection, the listening socket, Marathon and git. */
static void raise_nofile(const struct serve_guard *g)
{
	rlim_t need = (rlim_t)serve_guard_mhd_limit(g) + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
		PLOG_WARN("serve: the open-file limit (%llu) is below what %u connections need "
		          "(%llu): raise it (systemd LimitNOFILE=) or lower --max-connections",
		          (unsigned long long)rl.rlim_cur, g->l.max_connections,
		          (unsigned long long)need);
}

static void apply_defaults(struct serve_limits *l, const struct serve_limits *in)
{
	static const struct serve_limits d = SERVE_LIMITS_INIT;

	*l = in ? *in : d;
	if (!l->request_timeout_ms)
		l->request_timeout_ms = d.request_timeout_ms;
	if (!l->max_connections)
		l->max_connections = d.max_connections;
	if (!l->max_client_pending)
		l->max_client_pending = d.max_client_pending;
	if (!l->rate_per_s)
		l->rate_per_s = d.rate_per_s;
	if (!l->rate_burst)
		l->rate_burst = 2 * l->rate_per_s;
}

static int define_metrics(struct metrics *m, struct pacer_error **err)
{
	int rc = metrics_define(m, REJECTED, METRICS_COUNTER,
	                        "Connections cut (past the request deadline, over the per-address "
	                        "or the total cap) and requests refused with 429, by reason.",
	                        NULL, 0, err);

	for (int i = 0; i < R_COUNT && rc == 0; i++) {
		const char *labels[] = {"reason", reject_names[i], NULL};

		rc = metrics_add(m, REJECTED, labels, 0, err);
	}
	return rc;
}

int serve_guard_new(struct serve_guard **out, const struct serve_limits *limits, struct metrics *m,
                    struct pacer_error **err)
{
	struct serve_guard *g;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return pacer_error_set(err, PACER_EGENERIC, "serve: out of memory");
	apply_defaults(&g->l, limits);
	g->m = m;
	if (m && define_metrics(m, err)) {
		free(g);
		return -1;
	}
	g->pruned_ms = g->reported_ms = pacer_now_ms();
	raise_nofile(g);
	*out = g;
	return 0;
}

void serve_guard_free(struct serve_guard *g)
{
	if (!g)
		return;
	/* libmicrohttpd has closed every connection (NOTIFY_CLOSED): only addresses remain. */
	for (unsigned b = 0; b < GUARD_BUCKETS; b++)
		while (g->table[b]) {
			struct gclient *cl = g->table[b];

			g->table[b] = cl->next;
			free(cl);
		}
	free(g);
}
