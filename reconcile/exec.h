/*
 * exec.h: the execution context of the steps that change Marathon, and
 * what they share: apply (one app of a run), rollback (undoing one app's
 * change) and restore (`pacer rollback APP`).
 *
 * It sits below those steps, so that apply can call rollback and both use
 * the same context without including each other. Nothing here owns
 * anything: the context only borrows the run's backends and options.
 */
#ifndef PACER_EXEC_H
#define PACER_EXEC_H

#include <signal.h>
#include <stddef.h>

#include "reconcile/backup.h"
#include "reconcile/marathon.h"
#include "reconcile/run.h"
#include "reconcile/wait.h"

struct held;
struct suspend;

/* Submissions of one change when Marathon's answers keep getting lost
 * (and looks at a restarted app's version when its reply was lost). */
#define EXEC_MAX_SUBMITS 3

/*
 * A change an earlier run left in the journal that this run supersedes
 * with a newer definition of the same app: the rollback target stays the
 * definition that ran before the earlier change, not the half-deployed one.
 */
struct exec_inherit {
	const char *app_id;           /* borrowed from the journal entry */
	const char *backup;           /* its backup path, or NULL */
	struct json_object *previous; /* owned: the backup's definition, or NULL */
};

/* What every step of one run shares. All borrowed. */
struct exec_ctx {
	struct pacer_marathon *m;
	struct pacer_backup_store *backups;
	struct pacer_state_store *state; /* may be NULL: ownership is then not recorded */
	struct waiter *waiter;
	const struct sync_options *opts;    /* never NULL */
	const char *revision;               /* for log lines, may be NULL */
	struct held *held;                  /* may be NULL: failures are then not held */
	struct suspend *suspend;            /* may be NULL: nothing suspended */
	const struct exec_inherit *inherit; /* sorted by app id; may be NULL */
	size_t ninherit;
	/* Set by apply_item() when Marathon became unreachable: the run must
	 * stop starting new work. Read and written under the run's lock by
	 * sync.c; the steps only set it (a plain store of 1 is fine). */
	volatile sig_atomic_t *unreachable;
};

/*
 * Emit one progress event: to opts->on_event and as one log line with the
 * keys app, deployment, commit and event (reconcile/base/log.h). The level
 * follows the outcome: error for a failure, warn for a rollback and for
 * an app left rolled back, restarted, skipped, held, degraded, progressing,
 * unknown or interrupted, info otherwise. Strings are borrowed for the call.
 */
void exec_emit(const struct exec_ctx *ctx, enum sync_event_kind kind, const char *app_id,
               const char *deployment_id, const char *detail, enum sync_outcome outcome,
               double elapsed_s);

/*
 * The waiter's progress reports of one app as SYNC_EV_PROGRESS events:
 * pass exec_on_progress with a struct exec_progress (caller's, borrowed
 * for the wait) to waiter_wait(). t0 is when the app started
 * (pacer_now_s()), for the elapsed time.
 */
struct exec_progress {
	const struct exec_ctx *ctx;
	double t0;
};
void exec_on_progress(void *progress, const char *app_id, const char *deployment_id, int healthy,
                      int running, int total);

/* Whether an outcome means the app reached its desired state. */
int exec_outcome_ok(enum sync_outcome o);

/* The per-app timeout: the item's label, else the run's option, else 600. */
int exec_timeout(const struct exec_ctx *ctx, const struct pacer_plan_item *item);

/*
 * The definition to restore for item: an inherited one (its backup path
 * in *backup, borrowed from ctx), else item->live (*backup untouched).
 * Borrowed from ctx or item.
 */
struct json_object *exec_previous(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
                                  const char **backup);

/*
 * Send item's request (PUT body for an update, POST for a create, DELETE
 * for a prune), and when its outcome is unknown read the app back before
 * anything else: applied -> as if answered (ref from the app), not applied
 * -> sent again, at most EXEC_MAX_SUBMITS times in all. Returns 0,
 * PACER_EUNKNOWN, or Marathon's refusal. Used by apply, by rollback for
 * its own requests and by restore. body is borrowed.
 */
int exec_submit_resolved(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
                         struct json_object *body, struct pacer_deploy_ref *ref,
                         struct pacer_error **err);

#endif
