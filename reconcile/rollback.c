/*
 * rollback.c: undo one app's change.
 *
 * For an update the first choice is Marathon's own rollback
 * (DELETE /v2/deployments/{id} without force: it cancels the deployment
 * and deploys the previous definition), because it restores exactly what
 * Marathon had. Once the deployment is over there is nothing to cancel, so
 * the backup taken before the PUT is written back with force instead.
 */
#include "reconcile/rollback.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/crash.h"
#include "reconcile/base/log.h"

static const char *const server_fields[] = {
	"version", "versionInfo", "tasksStaged", "tasksRunning", "tasksHealthy",
	"tasksUnhealthy", "deployments", "tasks", "readinessCheckResults",
	"lastTaskFailure", "taskStats", "tasksStats",
};

struct json_object *rollback_strip_server_fields(struct json_object *live)
{
	struct json_object *copy = NULL;

	if (!live || json_object_deep_copy(live, &copy, NULL) || !copy)
		return NULL;
	for (size_t i = 0; i < sizeof(server_fields) / sizeof(server_fields[0]); i++)
		json_object_object_del(copy, server_fields[i]);
	return copy;
}

static char *dup_dep(const struct pacer_deploy_ref *ref)
{
	return strdup(ref->deployment_id);
}

/* PUT `previous` back with force and wait until healthy. */
static int restore_from_backup(const struct exec_ctx *ctx, const char *app_id,
			       struct json_object *previous, int timeout_s, char **out_deployment,
			       struct pacer_error **err)
{
	struct pacer_deploy_ref ref;
	struct json_object *body = NULL;
	int rc;

	memset(&ref, 0, sizeof(ref));
	if (!previous) {
		rc = pacer_error_set(err, PACER_EGENERIC,
				     "no previous definition of app %s to restore", app_id);
		goto done;
	}
	body = rollback_strip_server_fields(previous);
	if (!body) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory restoring app %s", app_id);
		goto done;
	}
	/* Like every change: a lost reply is read back, never resent blindly. */
	{
		struct pacer_plan_item it;

		memset(&it, 0, sizeof(it));
		it.action = PACER_ACT_UPDATE;
		it.app_id = (char *)app_id;
		it.body = body;
		rc = exec_submit_resolved(ctx, &it, body, &ref, err);
	}
	if (rc) {
		pacer_error_wrap(err, rc,
				 "could not write the previous definition of app %s back to "
				 "Marathon; restore it by hand with 'pacer rollback %s'",
				 app_id, app_id);
		goto done;
	}
	if (out_deployment && !*out_deployment)
		*out_deployment = dup_dep(&ref);
	CRASH_POINT("during-undo");
	exec_emit(ctx, SYNC_EV_SUBMIT, app_id, ref.deployment_id, "restore backup",
		   SYNC_OUT_UNCHANGED, 0);
	rc = waiter_wait(ctx->waiter, app_id, ref.deployment_id, WAITER_HEALTHY, timeout_s, NULL,
			 NULL, err);
	if (rc)
		pacer_error_wrap(err, rc,
				 "the previous definition of app %s was written back but does not "
				 "run healthy either",
				 app_id);
done:
	json_object_put(body);
	return rc;
}

int rollback_update(const struct exec_ctx *ctx, const char *app_id,
		    const char *failed_deployment, struct json_object *previous, int timeout_s,
		    char **out_deployment, struct pacer_error **err)
{
	struct pacer_deploy_ref ref;
	struct pacer_error *cerr = NULL;
	int rc;

	if (out_deployment)
		*out_deployment = NULL;
	memset(&ref, 0, sizeof(ref));
	if (failed_deployment && *failed_deployment) {
		rc = ctx->m->delete_deployment(ctx->m, failed_deployment, 0, &ref, &cerr);
		if (rc == 0 && ref.deployment_id[0]) {
			if (out_deployment)
				*out_deployment = dup_dep(&ref);
			CRASH_POINT("during-undo");
			exec_emit(ctx, SYNC_EV_SUBMIT, app_id, ref.deployment_id,
				   "Marathon rollback", SYNC_OUT_UNCHANGED, 0);
			rc = waiter_wait(ctx->waiter, app_id, ref.deployment_id, WAITER_HEALTHY,
					 timeout_s, NULL, NULL, err);
			if (rc)
				pacer_error_wrap(err, rc,
						 "Marathon's rollback deployment %s of app %s did not "
						 "bring the previous version back healthy",
						 ref.deployment_id, app_id);
			return rc;
		}
		/* Already over (404) or refused: fall back to the backup. */
		PLOG_INFO("app=%s deployment=%s commit=%s cannot cancel the deployment (%s); "
			  "restoring the backup instead",
			  app_id, failed_deployment, ctx->revision ? ctx->revision : "-",
			  cerr ? cerr->message : "no rollback deployment");
		pacer_error_free(cerr);
	}
	return restore_from_backup(ctx, app_id, previous, timeout_s, out_deployment, err);
}

int rollback_create(const struct exec_ctx *ctx, const char *app_id, int timeout_s,
		    char **out_deployment, struct pacer_error **err)
{
	struct pacer_deploy_ref ref;
	int rc;

	if (out_deployment)
		*out_deployment = NULL;
	memset(&ref, 0, sizeof(ref));
	{
		struct pacer_plan_item it;

		memset(&it, 0, sizeof(it));
		it.action = PACER_ACT_PRUNE;
		it.app_id = (char *)app_id;
		rc = exec_submit_resolved(ctx, &it, NULL, &ref, err);
	}
	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		return 0; /* nothing to remove */
	}
	if (rc)
		return pacer_error_wrap(err, rc,
					"could not remove the app %s this run created; delete it by "
					"hand (DELETE /v2/apps%s)",
					app_id, app_id);
	if (out_deployment)
		*out_deployment = dup_dep(&ref);
	CRASH_POINT("during-undo");
	exec_emit(ctx, SYNC_EV_SUBMIT, app_id, ref.deployment_id, "remove created app",
		   SYNC_OUT_UNCHANGED, 0);
	rc = waiter_wait(ctx->waiter, app_id, ref.deployment_id, WAITER_GONE, timeout_s, NULL, NULL,
			 err);
	if (rc)
		pacer_error_wrap(err, rc, "removing the app %s this run created did not finish",
				 app_id);
	return rc;
}

int rollback_prune(const struct exec_ctx *ctx, const char *app_id, struct json_object *previous,
		   int timeout_s, char **out_deployment, struct pacer_error **err)
{
	if (out_deployment)
		*out_deployment = NULL;
	/* PUT creates an unknown id (SPEC 3.4), with the id from the URL. */
	return restore_from_backup(ctx, app_id, previous, timeout_s, out_deployment, err);
}
