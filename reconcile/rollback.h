/*
 * rollback.h: putting an app back the way it was before this run.
 *
 * Used by apply.c when an app fails with --on-failure rollback, and by
 * sync.c for --atomic (undo every change of the run, in reverse order).
 * Each function submits with force and then waits (through the run's
 * shared waiter) until the previous state is reached.
 */
#ifndef PACER_ROLLBACK_H
#define PACER_ROLLBACK_H

#include "reconcile/exec.h"

struct json_object;

/*
 * A copy of a live app definition (from GET) fit to be PUT back: the
 * server-owned fields (version, versionInfo, tasks*, deployments,
 * readinessCheckResults, lastTaskFailure, taskStats/tasksStats) removed.
 * Returns a new object (json_object_put()), or NULL when out of memory.
 */
struct json_object *rollback_strip_server_fields(struct json_object *live);

/*
 * Restore an updated app. When failed_deployment is a deployment id still
 * running, it is cancelled without force (Marathon then rolls back by
 * itself and names the rollback deployment); when that is not possible
 * (the deployment is over, or the cancel fails), the backup `previous`
 * (borrowed; as GET returned it) is PUT with force. Then waits until the
 * app runs healthy. 0 when the previous version runs healthy; otherwise a
 * negative code and *err saying what failed. *out_deployment (may be
 * NULL: not wanted) gets the rollback deployment id, which the caller frees
 * with free(); NULL when none was started.
 */
int rollback_update(const struct exec_ctx *ctx, const char *app_id,
		    const char *failed_deployment, struct json_object *previous, int timeout_s,
		    char **out_deployment, struct pacer_error **err);

/*
 * Undo a create: DELETE the app with force and wait until it is gone. 0
 * also when the app was gone already. *out_deployment as for
 * rollback_update(): caller frees with free(), NULL when none.
 */
int rollback_create(const struct exec_ctx *ctx, const char *app_id, int timeout_s,
		    char **out_deployment, struct pacer_error **err);

/*
 * Undo a prune: create the app again from `previous` (borrowed) and wait
 * until it runs healthy. *out_deployment as for rollback_update(): caller
 * frees with free(), NULL when none.
 */
int rollback_prune(const struct exec_ctx *ctx, const char *app_id, struct json_object *previous,
		   int timeout_s, char **out_deployment, struct pacer_error **err);

#endif
