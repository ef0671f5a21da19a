/*
 * state.h: pacer's state store (struct pacer_state_store of
 * reconcile/run.h) in ZooKeeper, for replicas of `pacer serve --ha`:
 * owned set, last revision and the documents (intent journal, held
 * failures, suspensions, history, cluster identity) live under
 * <root>/state (layout.h), as blobs that are replaced whole: a reader sees
 * the old value or the new one. Every change is fenced (conn.h): once the
 * replica is not the leader, it writes nothing (PACER_ECANCELLED).
 *
 * The run-to-run cache stays local: load_cache/save_cache go to `local`
 * (the fs store of the state directory), which the store takes over.
 *
 * Also the leader's last status (zk_status_save/_load), for followers'
 * /status.
 *
 * Thread-safe: add_owned/remove_owned are serialised by a mutex (one
 * leader writes; the fence keeps a deposed one out).
 */
#ifndef PACER_ZK_STATE_H
#define PACER_ZK_STATE_H

#include "backends/zk/conn.h"
#include "reconcile/run.h"

/*
 * A store over c (borrowed: it must outlive the store) that keeps the
 * cache in local (owned from now on, also on failure; may be NULL: no
 * cache). *out: pacer_state_store_free().
 */
int zk_state_new(struct pacer_state_store **out, struct zkconn *c,
		 struct pacer_state_store *local, struct pacer_error **err);

/* The leader's last status JSON text (replaced whole; fenced). */
int zk_status_save(struct zkconn *c, const char *json, struct pacer_error **err);
/*
 * The status, read only when it changed since *seen (a version this
 * function keeps there; start with 0): *changed 1 and *json (caller frees;
 * NULL when none was saved yet), or *changed 0 and *json NULL.
 */
int zk_status_load(struct zkconn *c, long long *seen, int *changed, char **json,
		   struct pacer_error **err);

#endif
