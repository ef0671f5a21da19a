/*
 * apply.h: one app of a sync run, start to end.
 *
 *   update: back up the live definition (durably) -> PUT with force and
 *           partialUpdate=false -> wait until healthy -> record ownership
 *   create: record ownership -> POST with force -> wait until healthy
 *   prune:  back up -> DELETE with force -> wait until gone -> forget
 *           ownership
 * and on failure (timeout, never healthy, deployment cancelled) the policy
 * of sync_options.on_failure (reconcile/rollback.h does the rolling back).
 * A change Marathon refuses (4xx) changed nothing: the app is FAILED with
 * Marathon's message and nothing is rolled back.
 *
 * sync.c runs apply_item() on worker threads; everything here is
 * thread-safe as long as the backends are.
 */
#ifndef PACER_APPLY_H
#define PACER_APPLY_H

#include <signal.h>

#include "reconcile/plan.h"
#include "reconcile/sync.h"
#include "reconcile/wait.h"

/* What every apply of one run shares. All borrowed. */
struct apply_ctx {
	struct pacer_marathon *m;
	struct pacer_backup_store *backups;
	struct pacer_state_store *state; /* may be NULL: ownership is then not recorded */
	struct waiter *waiter;
	const struct sync_options *opts; /* never NULL */
	const char *revision;            /* for log lines, may be NULL */
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
 * Emit one progress event: to opts->on_event and as one PLOG_INFO line
 * with app=, deployment= and commit= fields.
 */
void apply_emit(const struct apply_ctx *ctx, enum sync_event_kind kind, const char *app_id,
		const char *deployment_id, const char *detail, enum sync_outcome outcome,
		double elapsed_s);

/* Whether an outcome means the app reached its desired state. */
int apply_outcome_ok(enum sync_outcome o);

#endif
