/*
 * bluegreen_run.h: the zero-downtime release of a blue/green app
 * (definitions in reconcile/bluegreen.h), as marathon-lb's zdd does it.
 *
 * A change of /svc, live as /svc-blue, is released as /svc-green:
 *   1. back up /svc-blue (durably; no backup, no release), record /svc-green
 *      as owned, journal the release (one entry for the pair, reconcile/
 *      journal.h JOURNAL_BLUEGREEN, rewritten before every request);
 *   2. create /svc-green with `step` instances, wait until they are healthy;
 *      scale /svc-blue down by the same number, wait; scale /svc-green up
 *      by another step, wait; ... until green runs the target and blue 0;
 *   3. wait drain-seconds, delete /svc-blue, wait until it is gone.
 * Healthy tasks across both colours never drop below the target and never
 * exceed target + step (when the old colour ran the target healthy).
 *
 * A step that fails (timeout, unhealthy, refused) reverts: the old colour
 * back to the instances it ran, wait healthy, back up and delete the new
 * colour; the app ends SYNC_OUT_ROLLED_BACK and the change is held. A run
 * stopped or superseded mid-way, or whose request outcome is unknown,
 * ends INTERRUPTED / UNKNOWN with the journal entry kept: the next run
 * resumes it (bluegreen_resume()): forward when the new colour is healthy,
 * else back. Both colours live without an entry (a release made by zdd, or
 * a lost journal) are settled the same way, the newer
 * HAPROXY_DEPLOYMENT_STARTED_AT being the new colour.
 *
 * Every request goes through exec_submit_resolved() (an unknown outcome is
 * read back, never blindly repeated) and the run's shared waiter.
 */
#ifndef PACER_BLUEGREEN_RUN_H
#define PACER_BLUEGREEN_RUN_H

#include "reconcile/exec.h"
#include "reconcile/journal.h"
#include "reconcile/restore.h"

/*
 * Release item (a plan item of a blue/green app: app_id the pair's id,
 * body its definition as written, live the colour that runs or NULL) and
 * fill res like apply_item(). *changed is 1 once Marathon accepted a
 * request. Never fails as a call.
 */
void bluegreen_apply(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		     struct sync_app_result *res, int *changed);

/*
 * Finish or revert the release an earlier run journalled (entry e,
 * borrowed). res is filled (res->app_id set by the caller) and *settled
 * set to 1 when there is something to report; 0 when the release never
 * started (nothing to finish: the plan decides).
 */
void bluegreen_resume(const struct exec_ctx *ctx, const struct journal_entry *e,
		      struct sync_app_result *res, int *settled);

/*
 * Undo a blue/green change of this run or of an earlier one (--atomic, or
 * apply_undo() of such an item): an update is undone by releasing the
 * previous definition (previous, a colour as it ran, borrowed; or when
 * NULL the colour the backup file holds) through the same procedure; a
 * first deploy by deleting the colour it created. 0 when the previous
 * state runs; PACER_ECANCELLED / PACER_EUNKNOWN when that is open (the
 * journal keeps it); another code when it failed.
 */
int bluegreen_undo(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		   struct json_object *previous, const char *backup, struct pacer_error **err);

/*
 * The colours of blue/green app base (absolute) that Marathon runs, each
 * read with GET /v2/apps/{base}-blue and -green: *blue and *green (owned)
 * are NULL when absent. Returns 0, or the failing read's code with *err
 * set (then both are NULL).
 */
int bluegreen_read_colours(struct pacer_marathon *m, const char *base, struct json_object **blue,
			   struct json_object **green, struct pacer_error **err);

/*
 * Whether app_id (absolute) is a blue/green pair on Marathon: no app of
 * that id, but a colour of it (GET /v2/apps/{id}-blue or -green).
 */
int bluegreen_is_pair(struct pacer_marathon *m, const char *app_id);

/*
 * `pacer rollback APP` of a blue/green pair: the previous colour's
 * definition (the newest backup of the colour that does not run, or
 * opts->backup_path, a backup of either colour) released through the same
 * procedure as a change from git: zero downtime, reverted if it fails.
 * Returns 0 when it runs healthy, PACER_ENOTFOUND without such a backup,
 * PACER_EFAILED when it failed (reverted: the current colour runs), or an
 * error; out as restore_app() fills it.
 */
int bluegreen_restore(struct pacer_marathon *m, struct pacer_backup_store *backups,
		      const char *app_id, const struct restore_options *opts,
		      struct restore_result *out, struct pacer_error **err);

#endif
