/*
 * suspend.h: apps an operator took out of pacer's hands for a while.
 *
 * A suspended app is never changed by sync, watch or serve: its drift from
 * git is reported (outcome "suspended", with who, when and why), not
 * reverted, and it is never pruned. `pacer suspend APP` suspends one app,
 * `pacer suspend` the whole source (key "*"); `pacer resume` undoes it, and
 * the next sync applies git again. Actions that change a managed app by
 * hand (scale, stop, rollback, delete) suspend it so that the next sync
 * does not undo them.
 *
 * Kept in the state store's document "suspended.json":
 *   {"/shop/api": {"by": "alice", "time": 1764690000, "reason": "scaled to 0"},
 *    "*": {...}}
 */
#ifndef PACER_SUSPEND_H
#define PACER_SUSPEND_H

#include "reconcile/base/error.h"
#include "reconcile/run.h"

struct json_object;
struct suspend;

/* The key that suspends the whole source. */
#define SUSPEND_ALL "*"

/* Read the suspended apps; *out is freed with suspend_free(). */
int suspend_open(struct pacer_state_store *s, struct suspend **out, struct pacer_error **err);
void suspend_free(struct suspend *s);

/*
 * What suspends app_id: its own record, else the whole source's, else NULL
 * (borrowed until the next change). NULL-safe.
 */
struct json_object *suspend_find(struct suspend *s, const char *app_id);

/* Suspend app_id (NULL = the whole source) durably. by and reason may be NULL. */
int suspend_put(struct suspend *s, const char *app_id, const char *by, const char *reason,
		struct pacer_error **err);

/* Resume app_id (NULL = the whole source) durably; 0 also when it was not suspended. */
int suspend_drop(struct suspend *s, const char *app_id, struct pacer_error **err);

/* The suspended keys, sorted ("*" first); free with pacer_strv_free(). */
char **suspend_ids(struct suspend *s);

/* "by alice at 2026-12-02T14:25:08Z: scaled to 0" into out (a record of suspend_find()). */
void suspend_describe(struct json_object *rec, char *out, size_t len);

#endif
