/*
 * replay.h: the ids of recent webhook deliveries, so that a validly signed
 * delivery sent again (a replay by whoever recorded it, or a git host's
 * redelivery) is recognised and triggers nothing.
 *
 * A delivery is known by its provider, its event name and its delivery id
 * (webhook_delivery_id()); they are kept as a 128-bit digest (SHA-256,
 * truncated), so an id of any length costs the same. Memory is bounded:
 * the last `capacity` deliveries are remembered, the oldest forgotten first.
 * Nothing is persisted: the set lives as long as the process.
 *
 * Not thread-safe: one thread (pacer serve's event loop) uses a set.
 */
#ifndef PACER_WEBHOOK_REPLAY_H
#define PACER_WEBHOOK_REPLAY_H

#include <stddef.h>

#include "backends/webhook/webhook.h"

struct webhook_replay;

/* A set remembering `capacity` (> 0) deliveries. 0 and *out (free with webhook_replay_free()), or
 * -1 when out of memory. */
int webhook_replay_new(struct webhook_replay **out, size_t capacity);

/* NULL is a no-op. */
void webhook_replay_free(struct webhook_replay *r);

/*
 * Was this delivery seen before? Returns 1 when it was (the set is left as
 * it is), 0 when not: it is remembered from now on (evicting the oldest
 * when full). event may be NULL; id must not be. -1 when OpenSSL fails.
 */
int webhook_replay_check(struct webhook_replay *r, enum webhook_provider provider,
                         const char *event, const char *id);

/* How many deliveries are remembered (at most the capacity). */
size_t webhook_replay_count(const struct webhook_replay *r);

#endif
