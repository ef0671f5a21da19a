/*
 * apply.c: one app: back up, submit with force, wait, apply the failure
 * policy.
 *
 * Order matters and is the point of this file:
 * - an update is backed up before anything is sent: a failed backup means
 *   the app is not touched at all;
 * - ownership of a new app is recorded before the POST, so a crash between
 *   the two can never leave an app pacer made but does not know about;
 * - a change Marathon refused (4xx) changed nothing, so it is never
 *   "rolled back": rolling back would itself be a change.
 */
#include "reconcile/apply.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/log.h"
#include "reconcile/rollback.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *event_name(enum sync_event_kind k)
{
	switch (k) {
	case SYNC_EV_BACKUP:
		return "backup";
	case SYNC_EV_SUBMIT:
		return "submit";
	case SYNC_EV_PROGRESS:
		return "progress";
	case SYNC_EV_DONE:
		return "done";
	case SYNC_EV_ROLLBACK:
		return "rollback";
	}
	return "?";
}

static void emit_full(const struct apply_ctx *ctx, struct sync_event *ev)
{
	const char *dep = ev->deployment_id && *ev->deployment_id ? ev->deployment_id : "-";
	const char *rev = ctx->revision ? ctx->revision : "-";

	if (ev->kind == SYNC_EV_PROGRESS)
		PLOG_INFO("app=%s deployment=%s commit=%s event=progress healthy=%d running=%d "
			  "instances=%d elapsed=%.1fs",
			  ev->app_id, dep, rev, ev->tasks_healthy, ev->tasks_running,
			  ev->tasks_total, ev->elapsed_s);
	else if (ev->kind == SYNC_EV_DONE)
		PLOG_INFO("app=%s deployment=%s commit=%s event=done outcome=%s elapsed=%.1fs%s%s",
			  ev->app_id, dep, rev, sync_outcome_name(ev->outcome), ev->elapsed_s,
			  ev->detail ? " " : "", ev->detail ? ev->detail : "");
	else
		PLOG_INFO("app=%s deployment=%s commit=%s event=%s%s%s", ev->app_id, dep, rev,
			  event_name(ev->kind), ev->detail ? " " : "", ev->detail ? ev->detail : "");
	if (ctx->opts->on_event)
		ctx->opts->on_event(ctx->opts->event_ctx, ev);
}

void apply_emit(const struct apply_ctx *ctx, enum sync_event_kind kind, const char *app_id,
		const char *deployment_id, const char *detail, enum sync_outcome outcome,
		double elapsed_s)
{
	struct sync_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.app_id = app_id;
	ev.deployment_id = deployment_id && *deployment_id ? deployment_id : NULL;
	ev.detail = detail;
	ev.outcome = outcome;
	ev.elapsed_s = elapsed_s;
	emit_full(ctx, &ev);
}

int apply_outcome_ok(enum sync_outcome o)
{
	return o == SYNC_OUT_UNCHANGED || o == SYNC_OUT_CREATED || o == SYNC_OUT_UPDATED ||
	       o == SYNC_OUT_PRUNED;
}

int apply_timeout(const struct apply_ctx *ctx, const struct pacer_plan_item *item)
{
	if (item->timeout_s > 0)
		return item->timeout_s;
	if (ctx->opts->timeout_s > 0)
		return ctx->opts->timeout_s;
	return 600;
}

/* Waiter progress -> SYNC_EV_PROGRESS for this app. */
struct progress_ctx {
	const struct apply_ctx *ctx;
	double t0;
};

static void on_progress(void *arg, const char *app_id, const char *deployment_id, int healthy,
			int running, int total)
{
	struct progress_ctx *p = arg;
	struct sync_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SYNC_EV_PROGRESS;
	ev.app_id = app_id;
	ev.deployment_id = deployment_id && *deployment_id ? deployment_id : NULL;
	ev.tasks_healthy = healthy;
	ev.tasks_running = running;
	ev.tasks_total = total;
	ev.elapsed_s = now_s() - p->t0;
	emit_full(p->ctx, &ev);
}

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
static void submit_failed(const struct apply_ctx *ctx, struct sync_app_result *res, int rc,
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

/* The deployment failed or timed out: apply --on-failure. `e` is the reason (owned). */
static void deploy_failed(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
			  struct sync_app_result *res, struct pacer_error *e)
{
	struct pacer_error *rerr = NULL;
	struct pacer_deploy_ref ref;
	char *rdep = NULL;
	int timeout = apply_timeout(ctx, item), rc;

	memset(&ref, 0, sizeof(ref));
	switch (ctx->opts->on_failure) {
	case SYNC_ON_FAILURE_ROLLBACK:
		apply_emit(ctx, SYNC_EV_ROLLBACK, res->app_id, res->deployment_id,
			   e ? e->message : "failed", SYNC_OUT_FAILED, 0);
		if (item->action == PACER_ACT_CREATE) {
			rc = rollback_create(ctx, res->app_id, timeout, &rdep, &rerr);
			if (rc == 0 && ctx->state) {
				const char *ids[1] = {res->app_id};
				struct pacer_error *serr = NULL;

				if (ctx->state->remove_owned(ctx->state, ids, 1, &serr)) {
					PLOG_WARN("app=%s could not forget ownership after removing "
						  "it: %s", res->app_id, serr ? serr->message : "?");
					pacer_error_free(serr);
				}
			}
		} else if (item->action == PACER_ACT_PRUNE) {
			rc = rollback_prune(ctx, res->app_id, item->live, timeout, &rdep, &rerr);
		} else {
			rc = rollback_update(ctx, res->app_id, res->deployment_id, item->live,
					     timeout, &rdep, &rerr);
		}
		if (rc == 0) {
			pacer_error_wrap(&e, PACER_EFAILED,
					 "app %s did not converge and was rolled back: %s",
					 res->app_id,
					 item->action == PACER_ACT_CREATE
						 ? "the app this run created was removed"
						 : "the previous definition runs healthy again");
			res->outcome = SYNC_OUT_ROLLED_BACK;
		} else {
			char *rwhy = pacer_error_format(rerr);

			pacer_error_wrap(&e, PACER_EFAILED,
					 "app %s did not converge and rolling it back failed too (%s); "
					 "check it in Marathon and restore it with 'pacer rollback %s'",
					 res->app_id, rwhy ? rwhy : "unknown error", res->app_id);
			free(rwhy);
			res->outcome = SYNC_OUT_ROLLBACK_FAILED;
		}
		break;
	case SYNC_ON_FAILURE_RESTART:
		rc = ctx->m->restart_app(ctx->m, res->app_id, PACER_MF_FORCE, &ref, &rerr);
		if (rc == 0) {
			apply_emit(ctx, SYNC_EV_SUBMIT, res->app_id, ref.deployment_id, "restart",
				   SYNC_OUT_RESTARTED, 0);
			pacer_error_wrap(&e, PACER_EFAILED,
					 "app %s did not converge; it was restarted (deployment %s) "
					 "as --on-failure restart asks",
					 res->app_id, ref.deployment_id[0] ? ref.deployment_id : "-");
			res->outcome = SYNC_OUT_RESTARTED;
		} else {
			char *rwhy = pacer_error_format(rerr);

			pacer_error_wrap(&e, PACER_EFAILED,
					 "app %s did not converge and restarting it failed (%s)",
					 res->app_id, rwhy ? rwhy : "unknown error");
			free(rwhy);
			res->outcome = SYNC_OUT_FAILED;
		}
		break;
	case SYNC_ON_FAILURE_NONE:
	default:
		pacer_error_wrap(&e, PACER_EFAILED,
				 "app %s did not converge; left as it is (--on-failure none)",
				 res->app_id);
		res->outcome = SYNC_OUT_FAILED;
		break;
	}
	pacer_error_free(rerr);
	free(rdep);
	set_error(res, e);
}

static void record_owned(const struct apply_ctx *ctx, const char *app_id)
{
	const char *ids[1] = {app_id};
	struct pacer_error *e = NULL;

	if (ctx->state && ctx->state->add_owned(ctx->state, ids, 1, &e)) {
		PLOG_WARN("app=%s could not record ownership (it will not be pruned by pacer): %s",
			  app_id, e ? e->message : "?");
		pacer_error_free(e);
	}
}

void apply_item(const struct apply_ctx *ctx, const struct pacer_plan_item *item,
		struct sync_app_result *res, int *changed)
{
	struct progress_ctx pctx = {ctx, now_s()};
	struct pacer_deploy_ref ref;
	struct pacer_error *e = NULL;
	struct json_object *body = NULL;
	const char *id = item->app_id;
	const char *what = "update";
	int rc;

	*changed = 0;
	memset(&ref, 0, sizeof(ref));

	/* 1. Durable backup (update, prune) or ownership (create) first. */
	if (item->action == PACER_ACT_UPDATE || item->action == PACER_ACT_PRUNE) {
		if (!ctx->backups) {
			rc = pacer_error_set(&e, PACER_EINVALID,
					     "app %s was not touched: no backup store configured", id);
			goto fail_untouched;
		}
		rc = ctx->backups->save(ctx->backups, id, item->live, &res->backup_path, &e);
		if (rc) {
			pacer_error_wrap(&e, rc,
					 "app %s was not touched: its live definition could not be "
					 "backed up; fix the backup directory (space, permissions) and "
					 "run again",
					 id);
			goto fail_untouched;
		}
		apply_emit(ctx, SYNC_EV_BACKUP, id, NULL, res->backup_path, SYNC_OUT_UNCHANGED, 0);
	} else if (item->action == PACER_ACT_CREATE && ctx->state) {
		const char *ids[1] = {id};

		rc = ctx->state->add_owned(ctx->state, ids, 1, &e);
		if (rc) {
			pacer_error_wrap(&e, rc,
					 "app %s was not created: pacer could not record that it "
					 "owns it; fix the state directory and run again",
					 id);
			goto fail_untouched;
		}
	}

	/* 2. Submit with force. */
	switch (item->action) {
	case PACER_ACT_UPDATE:
	case PACER_ACT_CREATE:
		body = submit_body(item->body);
		if (!body) {
			rc = pacer_error_set(&e, PACER_EGENERIC, "out of memory preparing app %s", id);
			goto fail_untouched;
		}
		if (item->action == PACER_ACT_UPDATE) {
			rc = ctx->m->put_app(ctx->m, id, body, PACER_MF_FORCE, &ref, &e);
		} else {
			what = "create";
			rc = ctx->m->create_app(ctx->m, body, PACER_MF_FORCE, &ref, &e);
		}
		break;
	case PACER_ACT_PRUNE:
		what = "delete";
		rc = ctx->m->delete_app(ctx->m, id, PACER_MF_FORCE, &ref, &e);
		break;
	default:
		res->outcome = SYNC_OUT_UNCHANGED;
		goto done;
	}
	if (rc == PACER_ENOTFOUND && item->action == PACER_ACT_PRUNE) {
		/* Someone deleted it since the plan was made: already pruned. */
		const char *ids[1] = {id};

		pacer_error_clear(&e);
		res->outcome = SYNC_OUT_PRUNED;
		if (ctx->state && ctx->state->remove_owned(ctx->state, ids, 1, &e))
			pacer_error_clear(&e);
		goto finish;
	}
	if (rc) {
		/* A refused create made nothing: forget the ownership recorded
		 * for it. When the answer is unknown (unreachable, 5xx, timeout)
		 * the app may exist, so pacer keeps owning it. */
		if (item->action == PACER_ACT_CREATE && ctx->state && rc != PACER_EUNREACHABLE &&
		    rc != PACER_EHTTP && rc != PACER_ETIMEOUT && rc != PACER_EGENERIC) {
			const char *ids[1] = {id};
			struct pacer_error *serr = NULL;

			if (ctx->state->remove_owned(ctx->state, ids, 1, &serr))
				pacer_error_free(serr);
		}
		submit_failed(ctx, res, rc, e, what);
		e = NULL;
		goto finish;
	}
	*changed = 1;
	res->deployment_id = strdup(ref.deployment_id);
	apply_emit(ctx, SYNC_EV_SUBMIT, id, ref.deployment_id, what, SYNC_OUT_UNCHANGED,
		   now_s() - pctx.t0);

	/* 3. Wait for the deployment. */
	rc = waiter_wait(ctx->waiter, id, ref.deployment_id,
			 item->action == PACER_ACT_PRUNE ? WAITER_GONE : WAITER_HEALTHY,
			 apply_timeout(ctx, item), on_progress, &pctx, &e);
	if (rc == PACER_ECANCELLED && ctx->opts->abandon && *ctx->opts->abandon) {
		/* Abandoned for a newer run that supersedes this deployment:
		 * no rollback, which would undo what the newer run applies. */
		res->outcome = SYNC_OUT_SKIPPED;
		res->error = e;
		e = NULL;
		goto finish;
	}
	if (rc) {
		if (rc == PACER_EUNREACHABLE && ctx->unreachable)
			*ctx->unreachable = 1;
		deploy_failed(ctx, item, res, e);
		e = NULL;
		goto finish;
	}

	/* 4. Converged. */
	switch (item->action) {
	case PACER_ACT_UPDATE:
		record_owned(ctx, id);
		res->outcome = SYNC_OUT_UPDATED;
		break;
	case PACER_ACT_CREATE:
		res->outcome = SYNC_OUT_CREATED;
		break;
	default: {
		const char *ids[1] = {id};

		res->outcome = SYNC_OUT_PRUNED;
		if (ctx->state && ctx->state->remove_owned(ctx->state, ids, 1, &e)) {
			PLOG_WARN("app=%s pruned but its ownership could not be forgotten: %s", id,
				  e ? e->message : "?");
			pacer_error_clear(&e);
		}
		break;
	}
	}
	goto finish;

fail_untouched:
	set_error(res, e);
	e = NULL;
	res->outcome = SYNC_OUT_FAILED;
finish:
	res->seconds = now_s() - pctx.t0;
	apply_emit(ctx, SYNC_EV_DONE, id, res->deployment_id,
		   res->error ? res->error->message : NULL, res->outcome, res->seconds);
done:
	pacer_error_free(e);
	json_object_put(body);
}
