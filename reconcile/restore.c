/*
 * restore.c: `pacer rollback APP` (restore.h).
 *
 * A restore is journalled and owned like any change of a sync, so that a
 * killed restore is finished by the next run; it sends its PUT through the
 * same submit as apply (exec.h), so a lost reply is read back rather than
 * sent again blindly. It has no failure policy of its own: a restore that
 * does not converge is reported, never undone.
 */
#include "reconcile/restore.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/crash.h"
#include "reconcile/base/log.h"
#include "reconcile/bluegreen_run.h"
#include "reconcile/exec.h"
#include "reconcile/journal.h"
#include "reconcile/model/appid.h"
#include "reconcile/rollback.h"
#include "reconcile/wait.h"

void restore_result_release(struct restore_result *r)
{
	if (!r)
		return;
	free(r->restored_from);
	free(r->backup_path);
	free(r->deployment_id);
	memset(r, 0, sizeof(*r));
}

/* The newest backup of app_id; *out is owned by the caller. */
static int latest_backup(struct pacer_backup_store *backups, const char *app_id, char **out,
			 struct pacer_error **err)
{
	struct pacer_backup_entry *v = NULL;
	size_t n = 0;
	int rc;

	rc = backups->list(backups, app_id, &v, &n, err);
	if (rc)
		return rc;
	if (n == 0) {
		rc = pacer_error_set(err, PACER_ENOTFOUND,
				     "no backup of %s: pacer backs an app up before it changes it, "
				     "and this one was never changed by pacer ('pacer backups' lists "
				     "what there is)",
				     app_id);
		goto done;
	}
	/* list() is oldest first. */
	*out = strdup(v[n - 1].path);
	rc = *out ? 0 : -1;
done:
	pacer_backup_entries_free(v, n);
	return rc;
}

/*
 * PUT body (a create when the app is gone: PUT makes an unknown id) with
 * force through the one submit of every change (reconcile/exec.h): a lost
 * reply is read back before anything is sent again. The context holds only
 * what the submit reads: Marathon and the default options.
 */
static int submit_restore(struct pacer_marathon *m, const char *id, struct json_object *body,
			  struct pacer_deploy_ref *ref, struct pacer_error **err)
{
	struct sync_options defaults = SYNC_OPTIONS_INIT;
	struct exec_ctx ctx;
	struct pacer_plan_item it;

	memset(&ctx, 0, sizeof(ctx));
	ctx.m = m;
	ctx.opts = &defaults;
	memset(&it, 0, sizeof(it));
	it.action = PACER_ACT_UPDATE;
	it.app_id = (char *)id;
	it.body = body;
	return exec_submit_resolved(&ctx, &it, body, ref, err);
}

/*
 * The backup to restore (named, or the app's newest) into out->restored_from
 * and its definition into *def (caller puts). A named backup must be of
 * this app: restoring /a's file onto /b is a typo.
 */
static int load_backup(struct pacer_backup_store *backups, const char *id,
		       const struct restore_options *opts, struct restore_result *out,
		       struct json_object **def, struct pacer_error **err)
{
	struct json_object *idval = NULL;
	int rc;

	if (opts->backup_path)
		out->restored_from = strdup(opts->backup_path);
	else if ((rc = latest_backup(backups, id, &out->restored_from, err)))
		return rc;
	if (!out->restored_from)
		return -1;
	if ((rc = backups->load(backups, out->restored_from, def, err)))
		return rc;
	if (!json_object_object_get_ex(*def, "id", &idval) ||
	    !json_object_is_type(idval, json_type_string) ||
	    strcmp(json_object_get_string(idval), id))
		return pacer_error_set(err, PACER_EINVALID, "%s is a backup of %s, not of %s",
				       out->restored_from,
				       idval ? json_object_get_string(idval) : "(no id)", id);
	return 0;
}

/* Back up what is live now: a rollback can be rolled back too. An app that
 * is gone is created (out->created) and has nothing to back up. */
static int backup_live(struct pacer_marathon *m, struct pacer_backup_store *backups,
		       const char *id, struct restore_result *out, struct pacer_error **err)
{
	struct json_object *live = NULL;
	int rc = m->get_app(m, id, &live, err);

	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		out->created = 1;
		return 0;
	}
	if (rc == 0 && (rc = backups->save(backups, id, live, &out->backup_path, err)))
		pacer_error_wrap(err, rc,
				 "not restoring %s: the live definition could not be backed up first",
				 id);
	json_object_put(live);
	return rc;
}

/*
 * Journalled as an update with no failure policy: a later run finishes the
 * wait and reports the outcome, it does not undo the restore. The entry
 * borrows id, body and out's strings. Ownership first, as for every change.
 */
static int write_intent(const struct restore_options *opts, const char *id,
			struct json_object *body, const struct restore_result *out,
			struct journal_entry *entry, struct pacer_error **err)
{
	const char *ids[1] = {id};
	int rc;

	memset(entry, 0, sizeof(*entry));
	entry->app_id = (char *)id;
	entry->action = out->created ? JOURNAL_CREATE : JOURNAL_UPDATE;
	entry->body = body;
	entry->backup = out->backup_path;
	entry->started = (long long)time(NULL);
	entry->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : WAITER_DEFAULT_TIMEOUT_S;
	entry->deadline = entry->started + entry->timeout_s;
	entry->on_failure = SYNC_ON_FAILURE_NONE;
	if (!opts->state)
		return 0;
	if ((rc = opts->state->add_owned(opts->state, ids, 1, err)))
		return rc;
	return journal_write(opts->state, entry, err);
}

/* Wait for the restore's deployment with a waiter of its own, then settle
 * the journal entry unless the outcome stays open. */
static int wait_restored(struct pacer_marathon *m, const struct restore_options *opts,
			 const char *id, const char *deployment_id, struct pacer_error **err)
{
	struct waiter *w = NULL;
	int rc = waiter_new(m, opts->poll_ms, &w, err);

	if (rc)
		return rc;
	rc = waiter_wait(w, id, deployment_id, WAITER_HEALTHY, opts->timeout_s, NULL, NULL, err);
	/* Settled either way: success, or a failure reported to the operator. */
	if (rc != PACER_ECANCELLED && rc != PACER_EUNREACHABLE)
		journal_clear(opts->state, id, NULL);
	waiter_free(w);
	return rc;
}

int restore_app(struct pacer_marathon *m, struct pacer_backup_store *backups, const char *app_id,
		const struct restore_options *opts, struct restore_result *out,
		struct pacer_error **err)
{
	struct restore_options defaults = RESTORE_OPTIONS_INIT;
	struct json_object *def = NULL, *body = NULL;
	struct pacer_deploy_ref ref;
	struct journal_entry entry;
	char *id = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	id = appid_resolve("/", app_id);
	if (!id)
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not an app id", app_id);
	/* A blue/green pair goes back to its previous colour without downtime. */
	if (bluegreen_is_pair(m, id)) {
		rc = bluegreen_restore(m, backups, id, opts, out, err);
		free(id);
		return rc;
	}
	if ((rc = load_backup(backups, id, opts, out, &def, err)) ||
	    (rc = backup_live(m, backups, id, out, err)))
		goto done;
	if (!(body = rollback_strip_server_fields(def))) {
		rc = -1;
		goto done;
	}
	if ((rc = write_intent(opts, id, body, out, &entry, err)))
		goto done;
	CRASH_POINT("after-intent");
	/* A lost reply is read back the way every change's is: only what has
	 * not taken effect is sent again. */
	if ((rc = submit_restore(m, id, body, &ref, err))) {
		/* Refused: nothing changed. Unknown: the next run reads it back. */
		if (rc != PACER_EUNKNOWN)
			journal_clear(opts->state, id, NULL);
		goto done;
	}
	entry.phase = JOURNAL_SUBMITTED;
	entry.deployment = ref.deployment_id;
	journal_write(opts->state, &entry, NULL);
	CRASH_POINT("during-wait");
	out->deployment_id = ref.deployment_id[0] ? strdup(ref.deployment_id) : NULL;
	PLOG_INFO("app=%s deployment=%s event=restore from=%s", id,
		  ref.deployment_id[0] ? ref.deployment_id : "-", out->restored_from);
	rc = wait_restored(m, opts, id, ref.deployment_id, err);
done:
	if (rc && err && *err)
		pacer_error_set_app(*err, id);
	json_object_put(def);
	json_object_put(body);
	free(id);
	return rc;
}
