/*
 * sync.h: one whole reconciliation run, the entry point of every trigger
 * (pacer sync, watch, serve).
 *
 *   load desired state (source) -> refuse if any file failed
 *   -> GET /v2/apps once -> plan -> for each change, with bounded
 *   parallelism and in dependency waves: back up (durably) -> PUT with
 *   force=true&partialUpdate=false (or POST) -> wait for the deployment
 *   (one GET /v2/deployments per poll for every app being waited on) ->
 *   on failure or timeout: roll back / restart / nothing, per policy
 *   -> prune (guarded) -> report every app's outcome.
 */
#ifndef PACER_SYNC_H
#define PACER_SYNC_H

#include "reconcile/backup.h"
#include "reconcile/base/error.h"
#include "reconcile/marathon.h"
#include "reconcile/run.h"
#include "reconcile/source.h"

/*
 * The values of a run (sync_options, sync_result, sync_app_result, the
 * outcomes, events and the state store) are in reconcile/run.h, so that the
 * steps below the run can use them without this header.
 */

/*
 * Run one sync. state may be NULL (then --prune is refused). backups must
 * not be NULL unless opts->dry_run. Returns 0 when the run happened (check
 * (*out)->converged), PACER_EINVALID when the desired state failed to load
 * (nothing applied; diagnostics in (*out)->desired), PACER_EUNREACHABLE
 * when Marathon could not be read, or another code. *out is set whenever
 * possible, even on failure; free with sync_result_free().
 */
int sync_run(struct pacer_source *src, struct pacer_marathon *m,
	     struct pacer_backup_store *backups, struct pacer_state_store *state,
	     const struct sync_options *opts, struct sync_result **out, struct pacer_error **err);

/* The result as JSON (plan + outcomes): a new object, the caller puts it. */
struct json_object *sync_result_to_json(const struct sync_result *r);

#endif
