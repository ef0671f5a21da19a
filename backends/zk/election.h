/*
 * election.h: one leader among the replicas, with ZooKeeper's recipe
 * (https://zookeeper.apache.org/doc/current/recipes.html#sc_leaderElection):
 * every replica creates an ephemeral sequential node <root>/leader/n_
 * holding its name; the lowest number leads; every other replica watches
 * only the node just below its own, so a replica that goes away wakes one
 * other (no herd). A leader leads while its node exists and the session's
 * lease holds (conn.h); from the moment it leads, its node fences every
 * change it writes to ZooKeeper (zkconn_set_fence()).
 *
 * Threads: the election runs on a thread of its own; the functions below
 * may be called from any thread.
 */
#ifndef PACER_ZK_ELECTION_H
#define PACER_ZK_ELECTION_H

#include "backends/zk/conn.h"

struct zk_election;

/*
 * Join with name (the replica's "host:port", shown to operators). change
 * (may be NULL) is called on the election's thread when this replica
 * starts (1) or stops (0) leading. c is borrowed and must outlive the
 * election. Returns 0 and *out (zk_election_free()).
 */
int zk_election_join(struct zk_election **out, struct zkconn *c, const char *name,
		     void (*change)(void *ctx, int leading), void *ctx, struct pacer_error **err);

/* 1 while this replica leads: its node is the lowest and the lease holds. */
int zk_election_leading(struct zk_election *e);

/* 1 once this replica's node is gone for good (session expired): it never leads again. */
int zk_election_lost(struct zk_election *e);

/* The leader's name, read now (caller frees), or NULL when none is known. */
char *zk_election_leader(struct zk_election *e);

/* Leave (delete our node) and stop the thread. NULL is a no-op. */
void zk_election_free(struct zk_election *e);

#endif
