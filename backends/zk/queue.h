/*
 * queue.h: requests a follower hands to the leader through ZooKeeper (a
 * webhook's sync, an API action), and the leader's answers.
 *
 *   <root>/queue/q-0000000042     a request (JSON text), persistent
 *                                 sequential: served oldest first
 *   <root>/queue/r-0000000042     its answer, written by the leader in the
 *                                 same transaction that deletes the request
 *
 * A request outlives the follower that made it (persistent node): a leader
 * that takes over serves what its predecessor left. An answer nobody
 * collects (its follower died waiting) is deleted by the leader's next
 * look at the queue once older than ZK_QUEUE_ANSWER_TTL_MS.
 */
#ifndef PACER_ZK_QUEUE_H
#define PACER_ZK_QUEUE_H

#include <signal.h>

#include "backends/zk/conn.h"

#define ZK_QUEUE_ANSWER_TTL_MS 600000

/* Queue json (a follower; not fenced). *id (caller frees; may be NULL): the request's name. */
int zk_queue_put(struct zkconn *c, const char *json, char **id, struct pacer_error **err);

/*
 * The oldest request: *id and *json (caller frees both); PACER_ENOTFOUND
 * when the queue is empty. Sets a watch: zk_queue_wait() returns when a
 * request arrives.
 */
int zk_queue_next(struct zkconn *c, char **id, char **json, struct pacer_error **err);

/* Wait up to ms for the queue to change (or *stop; see zk__wait_event). */
void zk_queue_wait(struct zkconn *c, int ms, const volatile sig_atomic_t *stop);

/* Wake every zk_queue_wait() of c (after setting its stop flag). */
void zk_queue_wake(struct zkconn *c);

/* Answer request id with json and delete it, in one fenced transaction. */
int zk_queue_answer(struct zkconn *c, const char *id, const char *json,
		    struct pacer_error **err);

/* Wait up to ms for the answer to id: *json (caller frees), PACER_ETIMEOUT when none came. */
int zk_queue_await(struct zkconn *c, const char *id, int ms, char **json,
		   struct pacer_error **err);

#endif
