/*
 * action.h: an operator's action on one live app, as the action panel of
 * the scripts pacer replaces had them: restart, cancel its deployment,
 * scale to N (stop = scale to 0), delete.
 *
 * Each is a change like any other: journalled before the request
 * (JOURNAL_OPERATOR, so a later run waits for it and reports it), then
 * waited for until the app runs healthy (or is gone). Scale and delete
 * first back up the live definition and suspend the app (suspend.h, reason
 * "scaled to N by <user>"), so that the next sync does not undo what the
 * operator did; `pacer resume APP` hands it back to git.
 */
#ifndef PACER_ACTION_H
#define PACER_ACTION_H

#include <signal.h>

#include "reconcile/backup.h"
#include "reconcile/base/error.h"
#include "reconcile/marathon.h"
#include "reconcile/run.h"

enum action_kind {
	ACTION_RESTART = 0, /* POST /v2/apps/{id}/restart?force=true: new tasks, same definition */
	ACTION_CANCEL,      /* DELETE /v2/deployments/{id}: Marathon rolls back (force: just stop) */
	ACTION_SCALE,       /* PUT {"instances": N} with force (partial update) */
	ACTION_DELETE,      /* DELETE /v2/apps/{id}?force=true */
};

struct action_options {
	unsigned version;
	enum action_kind kind;
	int instances; /* ACTION_SCALE */
	int force;     /* ACTION_CANCEL: stop the deployment without rolling back */
	int timeout_s; /* <= 0: 600 */
	int poll_ms;   /* <= 0: 1000 */
	const char *by; /* who, for the suspension record; may be NULL */
	/* Borrowed; may be NULL: then nothing is journalled, backed up or suspended. */
	struct pacer_state_store *state;
	struct pacer_backup_store *backups;
	volatile sig_atomic_t *stop; /* stops the wait (the journal hands it on); may be NULL */
};
#define ACTION_OPTIONS_VERSION 1
#define ACTION_OPTIONS_INIT                                                                        \
	{ACTION_OPTIONS_VERSION, ACTION_RESTART, 0, 0, 600, 1000, NULL, NULL, NULL, NULL}

struct action_result {
	/*
	 * The live app acted on (owned, or NULL before it was known): the app
	 * itself, or the live colour of a blue/green app ("/svc-blue" for /svc).
	 */
	char *live_id;
	char *deployment_id; /* owned, or NULL (none started) */
	char *backup_path;   /* owned, or NULL */
	int suspended;       /* the app was suspended by this action */
};

/*
 * Run the action on app_id (absolute). Returns 0 once the app runs healthy
 * (or, for a delete, is gone); PACER_ENOTFOUND when there is no such app
 * (or, for cancel, no deployment to cancel); otherwise the failing call's
 * code with *err saying what happened. Release out with action_result_release().
 *
 * A blue/green app (reconcile/bluegreen.h) is acted on as its live colour
 * (backed up and journalled under the colour's id, suspended under
 * app_id); while a release runs both colours, the action is refused with
 * PACER_ELOCKED: the release owns them until it ends.
 */
int action_run(struct pacer_marathon *m, const char *app_id, const struct action_options *opts,
	       struct action_result *out, struct pacer_error **err);

void action_result_release(struct action_result *r);

/* "restart", "cancel", "scale", "delete": a static string. */
const char *action_name(enum action_kind k);

#endif
