/*
 * election.c: the leader election recipe (election.h).
 */
#include "backends/zk/election.h"
#include "backends/zk/layout.h"
#include "backends/zk/zk_int.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zk_election {
	struct zkconn *c;
	char *dir;  /* <root>/leader */
	char *mine; /* full path of our node */
	void (*change)(void *ctx, int leading);
	void *ctx;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	volatile sig_atomic_t stop; /* set by zk_election_free() */
	/* Under mu. */
	int leading, lost;
};

static void set_leading(struct zk_election *e, int on)
{
	int was;

	pthread_mutex_lock(&e->mu);
	was = e->leading;
	e->leading = on;
	pthread_mutex_unlock(&e->mu);
	if (was == on)
		return;
	if (on)
		zkconn_set_fence(e->c, e->mine);
	PLOG_INFO("ha: %s (node %s)", on ? "leading" : "not leading any more", e->mine);
	if (e->change)
		e->change(e->ctx, on);
}

/*
 * One look at the election: 1 when we lead, 0 when a watch on the node
 * below ours is set, -1 when our node is gone, -2 on a ZooKeeper error
 * (look again later).
 */
static int look(struct zk_election *e)
{
	struct pacer_strvec kids;
	const char *leader, *pred, *me = strrchr(e->mine, '/') + 1;
	char *pp = NULL;
	struct Stat st;
	int rc, zrc;

	if (zk__children(e->c, e->dir, &kids, NULL))
		return -2;
	rc = zk_election_order(kids.v, kids.n, me, &leader, &pred);
	if (rc < 0) {
		pacer_strvec_release(&kids);
		return -1;
	}
	if (!pred) {
		pacer_strvec_release(&kids);
		/* Watch our own node: deleted by hand, we stop at once. */
		zrc = zoo_wexists(zkconn__zh(e->c), e->mine, zk__watcher, e->c, &st);
		return zrc == ZOK ? 1 : zrc == ZNONODE ? -1 : -2;
	}
	rc = asprintf(&pp, "%s/%s", e->dir, pred) < 0 ? -2 : 0;
	pacer_strvec_release(&kids);
	if (rc)
		return rc;
	zrc = zoo_wexists(zkconn__zh(e->c), pp, zk__watcher, e->c, &st);
	free(pp);
	if (zrc == ZNONODE) {
		/* Gone between the listing and the watch: look again at once. */
		zk__wake(e->c);
		return 0;
	}
	return zrc == ZOK ? 0 : -2;
}

static void *election_main(void *arg)
{
	struct zk_election *e = arg;

	while (!e->stop) {
		unsigned long seen = zk__events(e->c);
		int r = zkconn_dead(e->c) ? -1 : look(e);

		if (r == -1) {
			set_leading(e, 0);
			pthread_mutex_lock(&e->mu);
			e->lost = 1;
			pthread_mutex_unlock(&e->mu);
			PLOG_ERROR("ha: this replica's election node %s is gone (ZooKeeper session "
				   "expired?): it will not lead again",
				   e->mine);
			break;
		}
		if (r >= 0)
			set_leading(e, r == 1);
		/* Watches wake us; the periodic look also notices the lease. */
		zk__wait_event(e->c, seen, r == -2 ? 200 : 1000, &e->stop);
	}
	return NULL;
}

int zk_election_join(struct zk_election **out, struct zkconn *c, const char *name,
		     void (*change)(void *ctx, int leading), void *ctx, struct pacer_error **err)
{
	struct zk_election *e = calloc(1, sizeof(*e));
	char made[512], *prefix = NULL;
	int zrc;

	*out = NULL;
	if (!e)
		return pacer_error_set(err, -1, "out of memory");
	e->c = c;
	e->change = change;
	e->ctx = ctx;
	pthread_mutex_init(&e->mu, NULL);
	if (!(e->dir = zk__path(c, "leader")) || asprintf(&prefix, "%s/n_", e->dir) < 0) {
		zk_election_free(e);
		return pacer_error_set(err, -1, "out of memory");
	}
	zrc = zoo_create(zkconn__zh(c), prefix, name, (int)strlen(name), zkconn__acl(c),
			 ZOO_EPHEMERAL_SEQUENTIAL, made, sizeof(made));
	free(prefix);
	if (zrc != ZOK) {
		int rc = zk__fail(err, zrc, "cannot join the election in", e->dir);

		zk_election_free(e);
		return rc;
	}
	if (!(e->mine = strdup(made)) || pthread_create(&e->thread, NULL, election_main, e)) {
		zk_election_free(e);
		return pacer_error_set(err, -1, "cannot start the election");
	}
	e->started = 1;
	PLOG_INFO("ha: joined the election as %s (%s)", made, name);
	*out = e;
	return 0;
}

int zk_election_leading(struct zk_election *e)
{
	int on;

	pthread_mutex_lock(&e->mu);
	on = e->leading && !e->lost;
	pthread_mutex_unlock(&e->mu);
	return on && zkconn_lease_ok(e->c);
}

int zk_election_lost(struct zk_election *e)
{
	int lost;

	pthread_mutex_lock(&e->mu);
	lost = e->lost;
	pthread_mutex_unlock(&e->mu);
	return lost || zkconn_dead(e->c);
}

char *zk_election_leader(struct zk_election *e)
{
	struct pacer_strvec kids;
	const char *leader = NULL;
	char *path = NULL, *data = NULL;
	size_t len = 0;
	long long best = -1;

	if (zk__children(e->c, e->dir, &kids, NULL))
		return NULL;
	for (size_t i = 0; i < kids.n; i++) {
		long long s = zk_seq_of(kids.v[i], "n_");

		if (s >= 0 && (best < 0 || s < best)) {
			best = s;
			leader = kids.v[i];
		}
	}
	if (leader && asprintf(&path, "%s/%s", e->dir, leader) >= 0 &&
	    zk__get(e->c, path, &data, &len, NULL, NULL))
		data = NULL;
	free(path);
	pacer_strvec_release(&kids);
	return data;
}

void zk_election_free(struct zk_election *e)
{
	if (!e)
		return;
	if (e->started) {
		e->stop = 1;
		zk__wake(e->c);
		pthread_join(e->thread, NULL);
	}
	/* Leaving at once hands over without waiting for the session to expire. */
	if (e->mine && !zkconn_dead(e->c))
		zoo_delete(zkconn__zh(e->c), e->mine, -1);
	free(e->dir);
	free(e->mine);
	pthread_mutex_destroy(&e->mu);
	free(e);
}
