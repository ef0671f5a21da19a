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

#include <signal.h>

#include "reconcile/held.h"
#include "reconcile/journal.h"
#include "reconcile/plan.h"
#include "reconcile/sync.h"
#include "reconcile/wait.h"

/*
 * A change an earlier run left in the journal that this run supersedes
 * with a newer definition of the same app: the rollback target stays the
 * definition that ran before the earlier change, not the half-deployed one.
 */
struct suspend;

struct apply_inherit {
	const char *app_id;           /* borrowed from the journal entry */
	const char *backup;           /* its backup path, or NULL */
	struct json_object *previous; /* owned: the backup's definition, or NULL */
};

/* What every apply of one run shares. All borrowed. */
struct apply_ctx {
	struct pacer_marathon *m;
	struct pacer_backup_store *backups;
	struct pacer_state_store *state; /* may be NULL: ownership is then not recorded */
	struct waiter *waiter;
	const struct sync_options *opts; /* never NULL */
	const char *revision;            /* for log lines, may be NULL */
	struct held *held;               /* may be NULL: failures are then not held */
	struct suspend *suspend;         /* may be NULL: nothing suspended */
	const struct apply_inherit *inherit; /* sorted by app id; may be NULL */
	size_t ninherit;
	/* Set by apply_item() when Marathon became unreachable: the run must
	 * stop starting new work. Read and written under the run's lock by
	 * sync.c; apply only sets it (a plain store of 1 is fine). */
	volatile sig_atomic_t *unreachable;
};

/*
 * Apply one plan item (CREATE, UPDATE or PRUNE) and fill res: outcome,
 * deployment_id, backup_path, error (res->app_id and res->action are set
 * by the caller). *changed is set to 1 when Marathon accepted a change for
 * this app (so that --atomic knows what to undo). Never fails as a call:
 * every failure is an outcome in res.
 */
void apply_item(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
		struct sync_app_result *res, int *changed);

/* The per-app timeout: the item's label, else the run's option, else 600. */
int apply_timeout(const struct apply_ctx *ctx, const struct pacer_plan_item *item);

/*
 * Emit one progress event: to opts->on_event and as one log line with the
 * keys app, deployment, commit and event (reconcile/log.h). The level
 * follows the outcome: error for a failure, warn for a rollback and for
 * an app left rolled back, restarted, skipped, held, degraded, progressing,
 * unknown or interrupted, info otherwise.
 */
void apply_emit(const struct apply_ctx *ctx, enum sync_event_kind kind, const char *app_id,
		const char *deployment_id, const char *detail, enum sync_outcome outcome,
		double elapsed_s);

/* Whether an outcome means the app reached its desired state. */
int apply_outcome_ok(enum sync_outcome o);

/*
 * Go on with a change an earlier run submitted (reconcile/resume.c): item
 * describes it as a plan item would (action, app_id, body, live = the
 * definition before the change, timeout_s = seconds left of its original
 * deadline), deployment_id is the deployment to wait for ("" = judge the
 * app by its state). Waits, checks that `item->body` is what runs, and on
 * failure applies the entry's policy; fills res like apply_item().
 */
void apply_continue(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
		    const struct journal_entry *entry, const char *deployment_id,
		    struct sync_app_result *res);

/*
 * Undo a change of this run (or of an earlier one): journalled, then
 * rollback_update/create/prune; ownership follows (a removed create is
 * forgotten, a restored prune owned again). previous (borrowed) is the
 * definition to restore. 0 when the previous state runs.
 */
int apply_undo(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
	       const char *failed_deployment, struct json_object *previous, const char *backup,
	       const char *digest, char **out_deployment, struct pacer_error **err);

/*
 * Send item's request (PUT body for an update, POST for a create, DELETE
 * for a prune), and when its outcome is unknown read the app back before
 * anything else: applied -> as if answered (ref from the app), not applied
 * -> sent again, at most 3 times in all. Returns 0, PACER_EUNKNOWN, or
 * Marathon's refusal. Used by apply and by rollback for its own requests.
 */
int apply_submit_resolved(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
			  struct json_object *body, struct pacer_deploy_ref *ref,
			  struct pacer_error **err);

/* The definition to restore for item: an inherited one, else item->live. Borrowed. */
struct json_object *apply_previous(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
				   const char **backup);

#endif
