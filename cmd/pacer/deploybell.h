/*
 * deploybell.h: Marathon's deployment events as a hint to a run's waiter.
 *
 * A run that waits for deployments polls GET /v2/deployments every
 * poll_ms; with a deploy bell in its sync_options (.bell), the first wait
 * also opens Marathon's event stream filtered to deployment_success and
 * deployment_failed (quiet: a stream that cannot be followed is logged at
 * debug level and the waiter simply polls), and every such event rings the
 * waiter, which reads the deployments back at once. The event is a hint;
 * what pacer reports is what the read-back shows (reconcile/wait.h).
 *
 * Threads: the stream's thread rings the bell; deploybell_free() stops it.
 */
#ifndef PACER_CMD_DEPLOYBELL_H
#define PACER_CMD_DEPLOYBELL_H

#include "reconcile/base/error.h"
#include "reconcile/marathon.h"

struct deploybell;
struct waiter_bell;

/*
 * A bell over m's event stream (m borrowed, must outlive it). Nothing is
 * opened until a waiter attaches. Returns 0 and *out, or -1 with *err when
 * out of memory.
 */
int deploybell_new(struct deploybell **out, struct pacer_marathon *m, struct pacer_error **err);
/* The bell for sync_options.bell (borrowed from db). */
struct waiter_bell *deploybell_bell(struct deploybell *db);
/* Deployment events seen so far (for logs). */
unsigned long deploybell_events(struct deploybell *db);
/* Close the stream and free; every run using the bell must have ended. NULL is a no-op. */
void deploybell_free(struct deploybell *db);

#endif
