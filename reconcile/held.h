/*
 * held.h: changes that failed and are not tried again.
 *
 * A change that was deployed and failed (rolled back, restarted, timed out
 * with --on-failure none, or its rollback failed) is held: later runs do
 * not deploy the same definition again — which would take capacity and
 * roll back again on every cron tick — but report the app as held, with
 * when, which commit and why, and exit 1. A new desired definition (the
 * file changed, so the digest of the body differs) is tried normally;
 * --retry-failed tries held changes again. The hold is dropped once the app
 * runs its desired definition (applied by pacer or by hand) or is no longer
 * desired.
 *
 * Kept in the state store's document "held.json":
 *   {"/shop/api": {"digest": "...", "commit": "3f2a...", "time": 1764690000,
 *                  "outcome": "rolled_back", "reason": "..."}}
 */
#ifndef PACER_HELD_H
#define PACER_HELD_H

#include "reconcile/base/error.h"
#include "reconcile/run.h"

struct held;
struct json_object;

/*
 * Read the held changes (none when the store keeps no documents). *out is
 * freed with held_free(). A corrupt held.json is an error naming it.
 */
int held_open(struct pacer_state_store *s, struct held **out, struct pacer_error **err);
void held_free(struct held *h);

/*
 * The app's hold when it holds exactly this digest, else NULL. Borrowed,
 * valid until the next held_put()/held_drop() of that app. Thread-safe.
 */
struct json_object *held_find(struct held *h, const char *app_id, const char *digest);

/* The app's hold whatever its digest, or NULL (borrowed, as held_find()). */
struct json_object *held_get(struct held *h, const char *app_id);

/* Hold the app's change durably. Thread-safe. */
int held_put(struct held *h, const char *app_id, const char *digest, const char *commit,
	     enum sync_outcome outcome, const char *reason, struct pacer_error **err);

/* Drop the app's hold, if any, durably. Thread-safe. */
int held_drop(struct held *h, const char *app_id, struct pacer_error **err);

/*
 * Drop the holds of apps for which keep(ctx, app_id) returns 0 (apps no
 * longer desired), durably, in one write.
 */
int held_prune(struct held *h, int (*keep)(void *ctx, const char *app_id), void *ctx,
	       struct pacer_error **err);

/* The held apps' ids (sorted; free with pacer_strv_free()), NULL when out of memory. */
char **held_ids(struct held *h);

#endif
