/*
 * apply.h: one app of a sync run, start to end.
 *
 *   update: back up the live definition (durably) -> record ownership ->
 *           journal the intent -> PUT with force and partialUpdate=false ->
 *           journal the deployment -> wait until the submitted definition
 *           runs healthy -> clear the journal entry
 *   create: record ownership -> journal -> POST with force -> wait -> clear
 *   prune:  back up -> journal -> DELETE with force -> wait until gone ->
 *           forget ownership -> clear
 * and on failure (timeout, never healthy, deployment cancelled or replaced)
 * the policy of sync_options.on_failure (reconcile/rollback.h does the
 * rolling back, itself journalled), after which the change is held
 * (reconcile/held.h). A change Marathon refuses (4xx) changed nothing: the
 * app is FAILED with Marathon's message and nothing is rolled back.
 *
 * A request whose outcome is unknown (PACER_EUNKNOWN: timeout, lost reply,
 * 5xx) is never sent again blindly: the app is read back; if the change is
 * there it is waited for like any other, if it is not it is sent again
 * (a bounded number of times), and if Marathon cannot be read the app ends
 * SYNC_OUT_UNKNOWN with its journal entry kept for the next run.
 *
 * sync.c runs apply_item() on worker threads; everything here is
 * thread-safe as long as the backends are.
 */
#ifndef PACER_APPLY_H
#define PACER_APPLY_H

#include "reconcile/exec.h"
#include "reconcile/journal.h"

/*
 * Apply one plan item (CREATE, UPDATE or PRUNE) and fill res: outcome,
 * deployment_id, backup_path, error (res->app_id and res->action are set
 * by the caller). *changed is set to 1 when Marathon accepted a change for
 * this app (so that --atomic knows what to undo). Never fails as a call:
 * every failure is an outcome in res.
 */
void apply_item(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		struct sync_app_result *res, int *changed);

/*
 * Go on with a change an earlier run submitted (reconcile/resume.c): item
 * describes it as a plan item would (action, app_id, body, live = the
 * definition before the change, timeout_s = seconds left of its original
 * deadline), deployment_id is the deployment to wait for ("" = judge the
 * app by its state). Waits, checks that `item->body` is what runs, and on
 * failure applies the entry's policy; fills res like apply_item().
 */
void apply_continue(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		    const struct journal_entry *entry, const char *deployment_id,
		    struct sync_app_result *res);

/*
 * Undo a change of this run (or of an earlier one): journalled, then
 * rollback_update/create/prune; ownership follows (a removed create is
 * forgotten, a restored prune owned again). previous (borrowed) is the
 * definition to restore. 0 when the previous state runs. *out_deployment
 * is the undo's deployment id (caller frees with free()), or NULL.
 */
int apply_undo(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
	       const char *failed_deployment, struct json_object *previous, const char *backup,
	       const char *digest, char **out_deployment, struct pacer_error **err);

#endif
