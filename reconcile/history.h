/*
 * history.h: what every run did, kept in the state store's document
 * "history.json" (a JSON array, oldest first, at most HISTORY_MAX runs: the
 * oldest are dropped). `pacer history [APP]` reads it.
 *
 *   {"start": 1764690000.1, "end": 1764690012.5, "trigger": "cli",
 *    "commit": "3f2a...", "result": "failed",
 *    "apps": [{"id": "/shop/api", "outcome": "rolled_back", "backup": "...",
 *              "deployment": "...", "error": "..."}]}
 *
 * Only apps whose outcome is not "unchanged" are listed, so a no-op run
 * costs one short entry.
 */
#ifndef PACER_HISTORY_H
#define PACER_HISTORY_H

#include "reconcile/base/error.h"
#include "reconcile/run.h"

struct json_object;

#define HISTORY_MAX 500

/*
 * Append the run r (may be NULL when nothing was loaded) whose sync_run()
 * returned rc. A failure to write only costs the history: the caller warns.
 */
int history_append(struct pacer_state_store *s, const struct sync_result *r, int rc,
		   const char *trigger, double start_unix, double end_unix,
		   struct pacer_error **err);

/*
 * Append an operator's action on one app (restart, scale, suspend, ...):
 * {"start", "end", "trigger" (who: "console by alice"), "action",
 *  "result": "done"|"failed", "apps": [{"id", "outcome": action or
 *  "failed", "error"}]}. error: why it failed, or NULL. Like
 * history_append(), a failure to write only costs the history.
 */
int history_append_action(struct pacer_state_store *s, const char *app_id, const char *action,
			  const char *trigger, const char *error, double start_unix,
			  double end_unix, struct pacer_error **err);

/*
 * The runs, oldest first; with app_id, only runs that did something to that
 * app, each with only that app's row. Every run has an "apps" array (an
 * empty one when the file's run had none); entries that are not objects
 * are skipped. At most `limit` (<= 0: all), the
 * newest. *out is a new array (json_object_put()).
 */
int history_load(struct pacer_state_store *s, const char *app_id, int limit,
		 struct json_object **out, struct pacer_error **err);

#endif
