/*
 * conn.h: pacer's ZooKeeper session (libzookeeper-mt), shared by the state
 * store (state.h), the backup store (backup.h), the election (election.h)
 * and the queue to the leader (queue.h).
 *
 * Credentials: digest auth "user:password" (from PACER_HA_AUTH or the file
 * PACER_HA_AUTH_FILE; cmd/ reads them, never argv). With credentials every
 * node pacer creates carries the ACL "creator all" (auth,,cdrwa): only the
 * same identity can read or change pacer's state; without, nodes are open
 * (world,anyone,cdrwa) and zkconn_new() logs a warning.
 *
 * The lease: a leader must stop acting before another replica can be
 * elected. ZooKeeper expires a session no earlier than the session timeout
 * after the last request it received from it. A thread pings every sixth
 * of the timeout; the lease holds while the last ping that was answered was
 * sent less than half the timeout ago (and the session is not expired), so
 * the lease ends at least half a timeout before the session can expire,
 * however the network fails.
 *
 * Fencing: zkconn_set_fence() names a node (the leader's election node)
 * that every change of a value checks in the same transaction (a multi
 * with a check op): a replica whose node is gone writes nothing.
 *
 * Threads: every function may be called from any thread.
 */
#ifndef PACER_ZK_CONN_H
#define PACER_ZK_CONN_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct zkconn;

struct zkconn_options {
	const char *url;  /* zk://h1:2181,h2:2181/pacer (layout.h) */
	const char *auth; /* "user:password" or NULL (borrowed; never logged) */
	int session_ms;   /* asked session timeout; 0 = 10000 */
	int connect_ms;   /* how long zkconn_new() waits for a session; 0 = 15000 */
};

/*
 * Connect, authenticate and create the root's folders. Returns 0 and *out
 * (free with zkconn_free()), PACER_EINVALID for a bad URL,
 * PACER_EUNREACHABLE when no server answered in connect_ms, PACER_EAUTH when
 * the credentials are refused or the root belongs to someone else.
 */
int zkconn_new(struct zkconn **out, const struct zkconn_options *o, struct pacer_error **err);

/* Close the session (its ephemeral nodes go at once). NULL is a no-op. */
void zkconn_free(struct zkconn *c);

/* The root path ("/pacer"), borrowed. */
const char *zkconn_root(const struct zkconn *c);

/* The session timeout the servers granted, in ms. */
int zkconn_session_ms(struct zkconn *c);

/* 1 while the lease holds (see above). */
int zkconn_lease_ok(struct zkconn *c);

/* 1 once the session expired or authentication failed: nothing works any more. */
int zkconn_dead(struct zkconn *c);

/* Fence every later change with path (copied; NULL: no fence). */
int zkconn_set_fence(struct zkconn *c, const char *path);

/*
 * What the subtree at <root>/<rel> ("" = the root) holds: *bytes of data
 * in *nodes znodes, the largest *max_node bytes (any may be NULL). For
 * the README's numbers and the tests' checks of the layout.
 */
int zkconn_tree_size(struct zkconn *c, const char *rel, size_t *bytes, size_t *nodes,
		     size_t *max_node, struct pacer_error **err);

#endif
