/*
 * guard.c: a deadline for receiving each request, so that no client can
 * hold the simulator's connections by sending its request slowly (or not
 * at all) and wedge the tests that share it.
 *
 * Every connection libmicrohttpd opens is tracked from its opening (or its
 * previous answer, when kept alive) until its request has been read
 * whole; the ticker sweeps the list, oldest first, and shuts down the
 * socket of a connection still sending its request after
 * --request-timeout. libmicrohttpd then sees a gone peer and closes it as
 * usual. An answer that takes long (a fault's latency, the event stream)
 * is not limited: its request was read. The socket is only shut down while
 * the connection is tracked, under gmu, and libmicrohttpd tells that it
 * closes a connection (NOTIFY_CLOSED, which takes gmu) before it closes
 * the socket, so a reused descriptor is never touched.
 */
#include "cmd/marathon-sim/sim.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "reconcile/base/clock.h"

struct sim_gconn {
	struct sim_gconn *prev, *next; /* in the pending list, while pending */
	int fd;
	long long since_ms; /* when its current request began to be awaited */
	int pending;
};

/* Under gmu. */
static void pending_enter(struct sim *s, struct sim_gconn *gc)
{
	if (gc->pending || gc->fd < 0)
		return;
	gc->pending = 1;
	gc->since_ms = pacer_now_ms();
	gc->prev = s->gtail;
	gc->next = NULL;
	if (s->gtail)
		s->gtail->next = gc;
	else
		s->ghead = gc;
	s->gtail = gc;
}

/* Under gmu. */
static void pending_leave(struct sim *s, struct sim_gconn *gc)
{
	if (!gc->pending)
		return;
	if (gc->prev)
		gc->prev->next = gc->next;
	else
		s->ghead = gc->next;
	if (gc->next)
		gc->next->prev = gc->prev;
	else
		s->gtail = gc->prev;
	gc->prev = gc->next = NULL;
	gc->pending = 0;
}

void guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		  enum MHD_ConnectionNotificationCode toe)
{
	struct sim *s = cls;
	struct sim_gconn *gc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		gc = calloc(1, sizeof(*gc));
		if (!gc)
			return;
		gc->fd = ci ? ci->connect_fd : -1;
		pthread_mutex_lock(&s->gmu);
		pending_enter(s, gc);
		pthread_mutex_unlock(&s->gmu);
		*socket_context = gc;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && gc) {
		pthread_mutex_lock(&s->gmu);
		pending_leave(s, gc);
		pthread_mutex_unlock(&s->gmu);
		free(gc);
		*socket_context = NULL;
	}
}

/* read: the request on c is read (1), or its answer is sent and the next one awaited (0). */
void guard_request(struct sim *s, struct MHD_Connection *c, int read)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct sim_gconn *gc = ci ? ci->socket_context : NULL;

	if (!gc)
		return;
	pthread_mutex_lock(&s->gmu);
	if (read)
		pending_leave(s, gc);
	else
		pending_enter(s, gc);
	pthread_mutex_unlock(&s->gmu);
}

void guard_sweep(struct sim *s)
{
	long long now = pacer_now_ms();
	int cut = 0;

	if (s->cfg.request_timeout_ms <= 0)
		return;
	pthread_mutex_lock(&s->gmu);
	while (s->ghead && now - s->ghead->since_ms >= s->cfg.request_timeout_ms) {
		struct sim_gconn *gc = s->ghead;

		pending_leave(s, gc);
		shutdown(gc->fd, SHUT_RDWR);
		cut++;
	}
	pthread_mutex_unlock(&s->gmu);
	if (cut)
		fprintf(stderr, "marathon-sim: closed %d connection%s that did not send a whole request within %d ms\n",
			cut, cut == 1 ? "" : "s", s->cfg.request_timeout_ms);
}
