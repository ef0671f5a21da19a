/*
 * cluster.h: which Marathon cluster a state directory belongs to.
 *
 * Ownership, the journal and held failures only mean something for the
 * cluster they were recorded against: an app "/api" that pacer owns on
 * cluster A is somebody else's "/api" on cluster B. A state directory is
 * bound to a cluster's identity, the frameworkId of GET /v2/info (stable
 * for a Marathon installation's life, new when it is wiped), by the first
 * run that uses it, in the document "cluster.json". Any later run against
 * another identity is refused before anything is read or changed.
 */
#ifndef PACER_CLUSTER_H
#define PACER_CLUSTER_H

#include "reconcile/base/error.h"
#include "reconcile/marathon.h"
#include "reconcile/run.h"

/* Whether cluster_check() may record the identity of a state directory
 * that has none yet (a dry run must not). */
enum cluster_mode {
	CLUSTER_CHECK_ONLY = 0,
	CLUSTER_BIND = 1,
};

/*
 * Check (and with CLUSTER_BIND, on first use, record) that state belongs to the
 * cluster m answers for. Returns 0; PACER_ECLUSTER with a message naming
 * both identities; or Marathon's or the store's error. A store without
 * documents, or a Marathon that names no frameworkId (not yet registered
 * with Mesos), is accepted with a warning when nothing was bound yet, and
 * refused when something was (it cannot be checked).
 */
int cluster_check(struct pacer_marathon *m, struct pacer_state_store *state,
		  enum cluster_mode mode, struct pacer_error **err);

#endif
