/*
 * apply.c: one app: back up, journal, submit with force, wait, judge,
 * apply the failure policy.
 *
 * Order matters and is the point of this file:
 * - an update is backed up before anything is sent: a failed backup means
 *   the app is not touched at all;
 * - ownership is recorded before the PUT or POST, so a crash between the
 *   two can never leave an app pacer changed but does not know about;
 * - the intent is journalled before the request and the answer after it,
 *   so a run killed at any point is finished by the next one
 *   (reconcile/resume.c), and a rollback is journalled the same way;
 * - "converged" means the submitted definition runs healthy: the app the
 *   waiter last saw is compared with the body, so a deployment that ended
 *   because someone cancelled or replaced it is a failure;
 * - a change Marathon refused (4xx) changed nothing, so it is never
 *   "rolled back": rolling back would itself be a change.
 */
#include "reconcile/apply.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/clock.h"
#include "reconcile/base/crash.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"
#include "reconcile/bluegreen.h"
#include "reconcile/bluegreen_run.h"
#include "reconcile/converge.h"
#include "reconcile/held.h"
#include "reconcile/rollback.h"

/* The body without "version"/"versionInfo": with them a PUT would be read as
 * a rollback to that version. Returns a new reference. */
static struct json_object *submit_body(struct json_object *body)
{
	struct json_object *copy = NULL;

	if (!json_object_object_get_ex(body, "version", NULL) &&
	    !json_object_object_get_ex(body, "versionInfo", NULL))
		return json_object_get(body);
	if (json_object_deep_copy(body, &copy, NULL) || !copy)
		return NULL;
	json_object_object_del(copy, "version");
	json_object_object_del(copy, "versionInfo");
	return copy;
}

static void set_error(struct sync_app_result *res, struct pacer_error *e)
{
	if (e && !e->app_id)
		pacer_error_set_app(e, res->app_id);
	if (res->error)
		pacer_error_free(res->error);
	res->error = e;
}

/*
 * A submission Marathon answered with an error. 4xx: nothing changed.
 * Unreachable: the run stops starting new work.
 */
static void submit_failed(const struct exec_ctx *ctx, struct sync_app_result *res, int rc,
			  struct pacer_error *e, const char *what)
{
	switch (rc) {
	case PACER_EUNREACHABLE:
		pacer_error_wrap(&e, rc,
				 "could not %s app %s: Marathon is unreachable; the run stops "
				 "starting new apps; run the sync again once Marathon answers",
				 what, res->app_id);
		if (ctx->unreachable)
			*ctx->unreachable = 1;
		break;
	case PACER_EHTTP:
		pacer_error_wrap(&e, rc,
				 "could not %s app %s: Marathon answered with an error; the change "
				 "was most likely not applied (check with 'pacer diff')",
				 what, res->app_id);
		break;
	case PACER_ELOCKED:
		pacer_error_wrap(&e, rc,
				 "could not %s app %s: it is locked by a deployment Marathon is "
				 "running; nothing was changed; wait for that deployment (or cancel "
				 "it with 'pacer cancel %s') and run again",
				 what, res->app_id, res->app_id);
		break;
	case PACER_EAUTH:
		pacer_error_wrap(&e, rc,
				 "could not %s app %s: Marathon refused pacer's credentials or "
				 "permissions; nothing was changed; check PACER_MARATHON_USER/"
				 "PASSWORD or PACER_MARATHON_TOKEN",
				 what, res->app_id);
		break;
	case PACER_ECONFLICT:
	case PACER_ENOTFOUND:
		pacer_error_wrap(&e, rc,
				 "could not %s app %s: Marathon answered that it %s; nothing was "
				 "changed; run the sync again to compare afresh",
				 what, res->app_id,
				 rc == PACER_ECONFLICT ? "already exists" : "does not exist");
		break;
	default:
		pacer_error_wrap(&e, rc,
				 "Marathon refused to %s app %s; nothing was changed on Marathon, "
				 "so there is nothing to roll back; fix the definition and run again",
				 what, res->app_id);
		break;
	}
	set_error(res, e);
	res->outcome = SYNC_OUT_FAILED;
}


/* ---- ownership and the journal ------------------------------------------ */

/* What own() does to the app's ownership. */
enum own_change {
	OWN_RECORD, /* pacer made or changed it: it may be pruned later */
	OWN_FORGET, /* gone, or never made: not pacer's */
};

/* Record or forget ownership; 0, or the store's error. */
static int own(const struct exec_ctx *ctx, const char *id, enum own_change change,
	       struct pacer_error **err)
{
	const char *ids[1] = {id};

	if (!ctx->state)
		return 0;
	return change == OWN_RECORD ? ctx->state->add_owned(ctx->state, ids, 1, err)
		   : ctx->state->remove_owned(ctx->state, ids, 1, err);
}

/* The same where a failure only costs a later prune, and is logged. */
static void own_quiet(const struct exec_ctx *ctx, const char *id, enum own_change change)
{
	struct pacer_error *e = NULL;

	if (own(ctx, id, change, &e)) {
		PLOG_WARN("app=%s could not %s ownership: %s", id,
			  change == OWN_RECORD ? "record" : "forget",
			  e ? e->message : "?");
		pacer_error_free(e);
	}
}

static void journal_clear_quiet(const struct exec_ctx *ctx, const char *id)
{
	struct pacer_error *e = NULL;

	if (journal_clear(ctx->state, id, &e)) {
		PLOG_WARN("app=%s %s (the next run reads the app back and settles it)", id,
			  e ? e->message : "cannot clear the journal entry");
		pacer_error_free(e);
	}
}

/*
 * A journal entry of this run for item. Its strings are borrowed (from
 * ctx, item and the caller): it is written, never released.
 */
static void entry_init(struct journal_entry *je, const struct exec_ctx *ctx,
		       const struct pacer_plan_item *item, enum journal_action action,
		       struct json_object *body, const char *digest, const char *backup)
{
	int timeout = exec_timeout(ctx, item);

	memset(je, 0, sizeof(*je));
	je->app_id = item->app_id;
	je->action = action;
	je->phase = JOURNAL_INTENT;
	je->body = body;
	if (digest)
		snprintf(je->digest, sizeof(je->digest), "%s", digest);
	je->backup = (char *)backup;
	je->commit = (char *)ctx->revision;
	je->started = (long long)time(NULL);
	je->deadline = je->started + timeout;
	je->timeout_s = timeout;
	je->on_failure = ctx->opts->on_failure;
}

/* Record Marathon's answer (or that there was none) in the app's entry. */
static void entry_answer(const struct exec_ctx *ctx, struct journal_entry *je,
			 enum journal_phase phase, const struct pacer_deploy_ref *ref)
{
	struct pacer_error *e = NULL;

	je->phase = phase;
	je->deployment = ref && ref->deployment_id[0] ? (char *)ref->deployment_id : NULL;
	je->version = ref && ref->version[0] ? (char *)ref->version : NULL;
	if (journal_write(ctx->state, je, &e)) {
		/* The intent is on disk already: a later run still reads the app back. */
		PLOG_WARN("app=%s %s", je->app_id, e ? e->message : "cannot update the journal");
		pacer_error_free(e);
	}
}



/* ---- undoing ------------------------------------------------------------ */

int apply_undo(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
	       const char *failed_deployment, struct json_object *previous, const char *backup,
	       const char *digest, char **out_deployment, struct pacer_error **err)
{
	struct journal_entry je;
	struct json_object *body = NULL;
	int timeout = exec_timeout(ctx, item), rc;

	*out_deployment = NULL;
	/* A blue/green app goes back without downtime, as it went forward. */
	if (item->action != PACER_ACT_PRUNE && bluegreen_enabled(item->body))
		return bluegreen_undo(ctx, item, previous, backup, err);
	if (item->action != PACER_ACT_CREATE && !(body = rollback_strip_server_fields(previous)))
		return pacer_error_set(err, PACER_EGENERIC,
				       "no previous definition of app %s to restore", item->app_id);
	entry_init(&je, ctx, item, JOURNAL_UNDO, body, digest, backup);
	je.undo = item->action == PACER_ACT_CREATE   ? JOURNAL_CREATE
		  : item->action == PACER_ACT_PRUNE ? JOURNAL_PRUNE
						    : JOURNAL_UPDATE;
	if ((rc = journal_write(ctx->state, &je, err)))
		goto done;
	CRASH_POINT("before-undo");
	switch (item->action) {
	case PACER_ACT_CREATE:
		rc = rollback_create(ctx, item->app_id, timeout, out_deployment, err);
		break;
	case PACER_ACT_PRUNE:
		own_quiet(ctx, item->app_id, OWN_RECORD); /* it comes back: pacer made it */
		rc = rollback_prune(ctx, item->app_id, body, timeout, out_deployment, err);
		break;
	default:
		rc = rollback_update(ctx, item->app_id, failed_deployment, body, timeout,
				     out_deployment, err);
		break;
	}
	if (rc == 0 && item->action == PACER_ACT_CREATE)
		own_quiet(ctx, item->app_id, OWN_FORGET); /* confirmed gone: not pacer's any more */
	/* Settled either way, unless nobody knows how it ended: then the entry
	 * stays and the next run finishes the undo. */
	if (rc != PACER_ECANCELLED && rc != PACER_EUNKNOWN && rc != PACER_EUNREACHABLE)
		journal_clear_quiet(ctx, item->app_id);
done:
	json_object_put(body);
	return rc;
}

/* ---- waiting and judging ------------------------------------------------ */

/* Whether a code leaves the outcome open (the journal entry is kept). */
static int open_code(int rc)
{
	return rc == PACER_ECANCELLED || rc == PACER_EUNKNOWN || rc == PACER_EUNREACHABLE;
}

static void open_outcome(const struct exec_ctx *ctx, struct sync_app_result *res, int rc,
			 struct pacer_error *e)
{
	if (rc == PACER_EUNREACHABLE && ctx->unreachable)
		*ctx->unreachable = 1;
	if (rc == PACER_EUNREACHABLE)
		pacer_error_wrap(&e, PACER_EUNKNOWN,
				 "app %s: Marathon stopped answering while pacer waited; the "
				 "outcome is unknown and the next run reads it back",
				 res->app_id);
	res->outcome = rc == PACER_ECANCELLED ? SYNC_OUT_INTERRUPTED : SYNC_OUT_UNKNOWN;
	set_error(res, e);
}

/* Hold a failed change so that later runs do not deploy it again. */
static void hold(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		 const struct sync_app_result *res, const char *digest)
{
	struct pacer_error *e = NULL;
	char *why;

	if (item->action == PACER_ACT_PRUNE || !digest || !*digest)
		return;
	why = res->error ? pacer_error_format(res->error) : NULL;
	if (held_put(ctx->held, item->app_id, digest, ctx->revision, res->outcome, why, &e)) {
		PLOG_WARN("app=%s %s", item->app_id, e ? e->message : "cannot hold the change");
		pacer_error_free(e);
	}
	free(why);
}

/* --on-failure restart: journalled, as every request that changes Marathon. */
/* The app's version into out ("" when it cannot be read). */
static void app_version(const struct exec_ctx *ctx, const char *id, char *out, size_t len)
{
	struct json_object *app = NULL;
	struct pacer_error *e = NULL;
	const char *v;

	out[0] = '\0';
	if (ctx->m->get_app(ctx->m, id, &app, &e) == 0 &&
	    (v = json_object_get_string(jsonutil_get(app, "version"))))
		snprintf(out, len, "%s", v);
	pacer_error_free(e);
	json_object_put(app);
}

static int restart(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		   const char *digest, struct pacer_deploy_ref *ref, struct pacer_error **err)
{
	struct journal_entry je;
	char before[64], after[64];
	int rc;

	entry_init(&je, ctx, item, JOURNAL_RESTART, NULL, digest, NULL);
	if ((rc = journal_write(ctx->state, &je, err)))
		return rc;
	app_version(ctx, item->app_id, before, sizeof(before));
	rc = ctx->m->restart_app(ctx->m, item->app_id, PACER_MF_FORCE, ref, err);
	CRASH_POINT("after-restart");
	/*
	 * The reply was lost: a restart that happened gives the app a new
	 * version. A restart is not idempotent (a second one replaces the tasks
	 * again), so it is never sent twice: pacer looks a few times, and if the
	 * version never moves the outcome stays unknown.
	 */
	for (int n = 1; rc == PACER_EUNKNOWN && before[0] && n <= EXEC_MAX_SUBMITS; n++) {
		pacer_sleep_ms(n * 1000LL);
		app_version(ctx, item->app_id, after, sizeof(after));
		if (after[0] && strcmp(before, after)) {
			pacer_error_clear(err);
			rc = 0;
		}
	}
	if (!open_code(rc))
		journal_clear_quiet(ctx, item->app_id);
	return rc;
}

/*
 * --on-failure rollback: undo the change (journalled, apply_undo()). 0 when
 * settled (res->outcome set, *e rewrapped with what happened, *rdep the
 * undo's deployment or NULL); 1 when the undo's own outcome is open: res
 * is filled as interrupted or unknown and *e consumed.
 */
static int fail_rollback(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			 const char *digest, struct sync_app_result *res, struct pacer_error **e,
			 char **rdep)
{
	struct pacer_error *rerr = NULL;
	const char *backup = res->backup_path;
	struct json_object *previous;
	char *rwhy;
	int rc;

	exec_emit(ctx, SYNC_EV_ROLLBACK, res->app_id, res->deployment_id,
		  *e ? (*e)->message : "failed", SYNC_OUT_FAILED, 0);
	previous = exec_previous(ctx, item, &backup);
	rc = apply_undo(ctx, item, res->deployment_id, previous, backup, digest, rdep, &rerr);
	if (open_code(rc)) {
		pacer_error_free(*e);
		*e = NULL;
		open_outcome(ctx, res, rc, rerr);
		return 1;
	}
	if (rc == 0) {
		pacer_error_wrap(e, PACER_EFAILED,
				 "app %s did not converge and was rolled back: %s", res->app_id,
				 item->action == PACER_ACT_CREATE
					 ? "the app this run created was removed"
					 : "the previous definition runs healthy again");
		res->outcome = SYNC_OUT_ROLLED_BACK;
		return 0;
	}
	rwhy = pacer_error_format(rerr);
	pacer_error_wrap(e, PACER_EFAILED,
			 "app %s did not converge and rolling it back failed too (%s); "
			 "check it in Marathon and restore it with 'pacer rollback %s'",
			 res->app_id, rwhy ? rwhy : "unknown error", res->app_id);
	free(rwhy);
	pacer_error_free(rerr);
	res->outcome = SYNC_OUT_ROLLBACK_FAILED;
	return 0;
}

/* --on-failure restart: res->outcome set and *e rewrapped with what happened. */
static void fail_restart(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			 const char *digest, struct sync_app_result *res, struct pacer_error **e)
{
	struct pacer_error *rerr = NULL;
	struct pacer_deploy_ref ref;
	char *rwhy;

	if (restart(ctx, item, digest, &ref, &rerr) == 0) {
		exec_emit(ctx, SYNC_EV_SUBMIT, res->app_id, ref.deployment_id, "restart",
			  SYNC_OUT_RESTARTED, 0);
		pacer_error_wrap(e, PACER_EFAILED,
				 "app %s did not converge; it was restarted (deployment %s) "
				 "as --on-failure restart asks",
				 res->app_id, ref.deployment_id[0] ? ref.deployment_id : "-");
		res->outcome = SYNC_OUT_RESTARTED;
		return;
	}
	rwhy = pacer_error_format(rerr);
	pacer_error_wrap(e, PACER_EFAILED, "app %s did not converge and restarting it failed (%s)",
			 res->app_id, rwhy ? rwhy : "unknown error");
	free(rwhy);
	pacer_error_free(rerr);
	res->outcome = SYNC_OUT_FAILED;
}

/*
 * The change failed after Marathon accepted it: apply --on-failure (the
 * entry's policy when resuming), then hold the change. `e` is the reason
 * (owned).
 */
static void deploy_failed(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			  enum sync_on_failure policy, const char *digest,
			  struct sync_app_result *res, struct pacer_error *e)
{
	char *rdep = NULL;

	/* Before anything is held or undone: this --atomic run has failed. */
	if (ctx->opts->atomic)
		journal_atomic_failed(ctx->state, item->app_id);
	switch (policy) {
	case SYNC_ON_FAILURE_ROLLBACK:
		if (fail_rollback(ctx, item, digest, res, &e, &rdep)) {
			free(rdep);
			return;
		}
		break;
	case SYNC_ON_FAILURE_RESTART:
		fail_restart(ctx, item, digest, res, &e);
		break;
	case SYNC_ON_FAILURE_NONE:
	default:
		pacer_error_wrap(&e, PACER_EFAILED,
				 "app %s did not converge; left as it is (--on-failure none)",
				 res->app_id);
		res->outcome = SYNC_OUT_FAILED;
		journal_clear_quiet(ctx, item->app_id);
		break;
	}
	set_error(res, e);
	hold(ctx, item, res, digest);
	if (rdep) {
		free(res->deployment_id);
		res->deployment_id = rdep;
	}
}

/*
 * Wait for the change of item (submitted: deployment dep), check that the
 * submitted body is what runs, and settle: converged, failed (policy), or
 * open (interrupted / unknown, journal kept).
 */
static void wait_and_settle(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			    enum sync_on_failure policy, const char *digest, const char *dep,
			    struct sync_app_result *res)
{
	struct exec_progress pctx = {ctx, pacer_now_s()};
	struct json_object *app = NULL;
	struct pacer_error *e = NULL;
	int prune = item->action == PACER_ACT_PRUNE, equal = 1, rc;

	CRASH_POINT("during-wait");
	rc = waiter_wait_app(ctx->waiter, item->app_id, dep, prune ? WAITER_GONE : WAITER_HEALTHY,
			     exec_timeout(ctx, item), exec_on_progress, &pctx, &app, &e);
	if (rc == 0 && !prune && item->body &&
	    (!app || (rc = converge_matches(item->body, app, ctx->opts->ignore_instances, &equal,
						 &e)) == 0) && !equal)
		rc = pacer_error_set(&e, PACER_EFAILED,
				     "deployment %s of app %s ended, but the app does not run the "
				     "definition pacer submitted: the deployment was cancelled "
				     "(Marathon rolled it back) or replaced by another change",
				     dep && *dep ? dep : "(none)", item->app_id);
	json_object_put(app);
	if (open_code(rc)) {
		open_outcome(ctx, res, rc, e);
		return;
	}
	if (rc) {
		deploy_failed(ctx, item, policy, digest, res, e);
		return;
	}
	pacer_error_free(e);
	if (prune)
		own_quiet(ctx, item->app_id, OWN_FORGET);
	else
		held_drop(ctx->held, item->app_id, NULL);
	/* An --atomic run keeps the entry until the whole run is settled: killed
	 * later, the next run must still be able to undo this change too. */
	if (!ctx->opts->atomic)
		journal_clear_quiet(ctx, item->app_id);
	res->outcome = item->action == PACER_ACT_CREATE   ? SYNC_OUT_CREATED
		       : item->action == PACER_ACT_UPDATE ? SYNC_OUT_UPDATED
							  : SYNC_OUT_PRUNED;
}

/* ---- one app ------------------------------------------------------------ */

/* Back up (update, prune) and record ownership (create, update): 0 or why not. */
static int prepare(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		   struct sync_app_result *res, struct pacer_error **err)
{
	const char *id = item->app_id;
	int rc;

	if (item->action == PACER_ACT_UPDATE || item->action == PACER_ACT_PRUNE) {
		if (!ctx->backups)
			return pacer_error_set(err, PACER_EINVALID,
					       "app %s was not touched: no backup store configured",
					       id);
		rc = ctx->backups->save(ctx->backups, id, item->live, &res->backup_path, err);
		if (rc)
			return pacer_error_wrap(err, rc,
						"app %s was not touched: its live definition could "
						"not be backed up; fix the backup directory (space, "
						"permissions) and run again",
						id);
		exec_emit(ctx, SYNC_EV_BACKUP, id, NULL, res->backup_path, SYNC_OUT_UNCHANGED, 0);
		CRASH_POINT("after-backup");
	}
	if (item->action != PACER_ACT_PRUNE && (rc = own(ctx, id, OWN_RECORD, err)))
		return pacer_error_wrap(err, rc,
					"app %s was not touched: pacer could not record that it "
					"owns it; fix the state directory and run again",
					id);
	CRASH_POINT("after-own");
	return 0;
}

/* The verb of item's request in messages. */
static const char *action_verb(enum pacer_action a)
{
	return a == PACER_ACT_CREATE ? "create" : a == PACER_ACT_PRUNE ? "delete" : "update";
}

/*
 * Everything before the request: the body to send (*body, caller puts;
 * NULL for a prune), the backup and ownership (prepare()), the journalled
 * intent je (borrowing body, digest and res->backup_path). 0, or why the
 * app was left untouched.
 */
static int start_change(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			struct sync_app_result *res, struct json_object **body, char *digest,
			struct journal_entry *je, struct pacer_error **err)
{
	static const enum journal_action actions[] = {JOURNAL_UPDATE, JOURNAL_CREATE,
						      JOURNAL_UPDATE, JOURNAL_PRUNE};
	const char *backup;

	if (item->action != PACER_ACT_PRUNE) {
		if (!(*body = submit_body(item->body)))
			return pacer_error_set(err, PACER_EGENERIC,
					       "out of memory preparing app %s", item->app_id);
		converge_digest(item->body, digest);
	}
	if (prepare(ctx, item, res, err))
		return -1;
	/* The rollback target: what ran before this change, or before an
	 * earlier run's unfinished change this one supersedes. */
	backup = res->backup_path;
	exec_previous(ctx, item, &backup);
	entry_init(je, ctx, item, actions[item->action], *body, digest, backup);
	return journal_write(ctx->state, je, err);
}

/* The prune's DELETE found no app: someone deleted it since the plan was
 * made, so it is pruned already. */
static void already_pruned(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			   struct sync_app_result *res)
{
	own_quiet(ctx, item->app_id, OWN_FORGET);
	journal_clear_quiet(ctx, item->app_id);
	res->outcome = SYNC_OUT_PRUNED;
}

/* Marathon refused the request: nothing changed, and a refused create made
 * nothing to own. e (owned) is the refusal. */
static void refused(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		    struct sync_app_result *res, int rc, struct pacer_error *e)
{
	if (item->action == PACER_ACT_CREATE)
		own_quiet(ctx, item->app_id, OWN_FORGET);
	journal_clear_quiet(ctx, item->app_id);
	submit_failed(ctx, res, rc, e, action_verb(item->action));
}

/*
 * Settle a request by Marathon's answer rc: already pruned, unknown (it
 * may have happened: --atomic must look at it, the journal keeps it),
 * refused, or accepted and then waited for. e (owned) is the error of rc.
 */
static void settle_submission(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
			      struct journal_entry *je, int rc, const struct pacer_deploy_ref *ref,
			      struct pacer_error *e, struct sync_app_result *res, int *changed,
			      double t0)
{
	if (rc == PACER_ENOTFOUND && item->action == PACER_ACT_PRUNE) {
		pacer_error_free(e);
		already_pruned(ctx, item, res);
		return;
	}
	if (rc == PACER_EUNKNOWN) {
		*changed = 1;
		entry_answer(ctx, je, JOURNAL_UNKNOWN, NULL);
		open_outcome(ctx, res, rc, e);
		return;
	}
	if (rc) {
		refused(ctx, item, res, rc, e);
		return;
	}
	pacer_error_free(e);
	*changed = 1;
	res->deployment_id = strdup(ref->deployment_id);
	entry_answer(ctx, je, JOURNAL_SUBMITTED, ref);
	CRASH_POINT("after-submitted");
	exec_emit(ctx, SYNC_EV_SUBMIT, item->app_id, ref->deployment_id,
		  plan_action_name(item->action), SYNC_OUT_UNCHANGED, pacer_now_s() - t0);
	wait_and_settle(ctx, item, ctx->opts->on_failure, je->digest, ref->deployment_id, res);
}

void apply_item(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		struct sync_app_result *res, int *changed)
{
	struct journal_entry je;
	struct pacer_deploy_ref ref;
	struct pacer_error *e = NULL;
	struct json_object *body = NULL;
	char digest[33] = "";
	double t0 = pacer_now_s();
	int rc;

	*changed = 0;
	if (item->action == PACER_ACT_UNCHANGED) {
		res->outcome = SYNC_OUT_UNCHANGED;
		return;
	}
	if (item->action != PACER_ACT_PRUNE && bluegreen_enabled(item->body)) {
		bluegreen_apply(ctx, item, res, changed);
		return;
	}
	if (start_change(ctx, item, res, &body, digest, &je, &e)) {
		set_error(res, e);
		res->outcome = SYNC_OUT_FAILED;
	} else {
		CRASH_POINT("after-intent");
		rc = exec_submit_resolved(ctx, item, body, &ref, &e);
		settle_submission(ctx, item, &je, rc, &ref, e, res, changed, t0);
	}
	res->seconds = pacer_now_s() - t0;
	exec_emit(ctx, SYNC_EV_DONE, item->app_id, res->deployment_id,
		  res->error ? res->error->message : NULL, res->outcome, res->seconds);
	json_object_put(body);
}

void apply_continue(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		    const struct journal_entry *entry, const char *deployment_id,
		    struct sync_app_result *res)
{
	double t0 = pacer_now_s();

	res->resumed = 1;
	if (deployment_id && *deployment_id && !res->deployment_id)
		res->deployment_id = strdup(deployment_id);
	if (!res->backup_path && entry->backup)
		res->backup_path = strdup(entry->backup);
	wait_and_settle(ctx, item, entry->on_failure, entry->digest, deployment_id, res);
	res->seconds = pacer_now_s() - t0;
	exec_emit(ctx, SYNC_EV_DONE, item->app_id, res->deployment_id,
		   res->error ? res->error->message : NULL, res->outcome, res->seconds);
}
