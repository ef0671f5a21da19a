/*
 * envsync.c: one sync of watch and serve over the opened environment,
 * remembering the last desired state (see envsync.h).
 */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/pacer/envsync.h"

#include "backends/fs/lock.h"
#include "cmd/pacer/notifier.h"
#include "cmd/pacer/report.h"
#include "cmd/pacer/sdnotify.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/bluegreen.h"
#include "reconcile/desired.h"
#include "reconcile/diff.h"
#include "reconcile/metrics.h"
#include "reconcile/normalize.h"

/* How often a lock held by another pacer run is tried again. */
#define LOCK_RETRY_MS 100

struct envsync {
	struct cli_env *env;
	struct sync_options so;
	const char *metrics_cmd, *metrics_file; /* borrowed; NULL = no file */
	struct notifier *notifier;              /* borrowed; NULL = none */
	struct metrics *notify_metrics;         /* borrowed; NULL = from the file */

	struct fslock *lock; /* held during a sync only (the sync's thread) */

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* CLOCK_MONOTONIC: the lock wait, woken by envsync_interrupt() */
	int interrupted;
	/* The desired state of the last sync that loaded one without errors:
	 * kept for drift checks (the drift thread reads it under mu). */
	struct pacer_desired *desired;
};

int envsync_new(struct envsync **out, struct cli_env *env, const struct sync_options *so,
                struct pacer_error **err)
{
	struct envsync *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return pacer_error_set(err, -1, "out of memory");
	e->env = env;
	e->so = *so;
	pthread_mutex_init(&e->mu, NULL);
	pacer_cond_init(&e->cv);
	*out = e;
	return 0;
}

void envsync_set_metrics_file(struct envsync *e, const char *cmd, const char *path)
{
	e->metrics_cmd = cmd;
	e->metrics_file = path;
}

void envsync_set_notifier(struct envsync *e, struct notifier *n, struct metrics *counts)
{
	e->notifier = n;
	e->notify_metrics = counts;
	e->so.on_revision = n ? notifier_revision : NULL;
	e->so.revision_ctx = n;
}

void envsync_free(struct envsync *e)
{
	if (!e)
		return;
	desired_free(e->desired);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void envsync_interrupt(void *ctx)
{
	struct envsync *e = ctx;

	pthread_mutex_lock(&e->mu);
	e->interrupted = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/*
 * One line per result, with the commit, for operators and tests. A
 * cancelled sync (superseded or stopped) is not an error: info, like a
 * converged one. The desired state's diagnostics follow, one per line, so
 * that a file that did not load says why in the same log.
 */
static void log_result(const char *reason, int rc, const struct sync_result *res,
                       const struct pacer_error *err)
{
	size_t changed = 0;
	char *msg = NULL;
	const char *result = metrics_sync_result(rc, res && res->converged);

	for (size_t i = 0; res && i < res->napps; i++)
		if (res->apps[i].outcome != SYNC_OUT_UNCHANGED)
			changed++;
	if (err)
		msg = pacer_error_format(err);
	if (rc == 0 || rc == PACER_ECANCELLED)
		PLOG_INFO("sync result=%s reason=\"%s\" commit=%s apps=%zu changed=%zu failed=%zu "
		          "seconds=%.1f",
		          result, reason, res && res->revision ? res->revision : "-",
		          res && res->desired ? res->desired->napps : 0, changed,
		          res ? res->nfailed : 0, res ? res->seconds : 0.0);
	else
		PLOG_ERROR("sync result=%s reason=\"%s\" commit=%s apps=%zu changed=%zu failed=%zu "
		           "seconds=%.1f: %s",
		           result, reason, res && res->revision ? res->revision : "-",
		           res && res->desired ? res->desired->napps : 0, changed,
		           res ? res->nfailed : 0, res ? res->seconds : 0.0,
		           msg ? msg : "some apps did not converge (see the lines above)");
	if (res && res->desired && res->desired->nerrors)
		for (size_t i = 0; i < res->desired->ndiags; i++) {
			char *d = pacer_error_format(res->desired->diags[i].error);

			PLOG(res->desired->diags[i].is_error ? PACER_LOG_ERROR : PACER_LOG_WARN,
			     "%s", d ? d : "?");
			free(d);
		}
	free(msg);
}

/* systemctl status shows the last result (sdnotify.h; nothing outside systemd). The time is
 * UTC, as in the log lines, so that the two can be matched. */
static void notify_result(const char *reason, int rc, const struct sync_result *res)
{
	size_t changed = 0;
	time_t now = time(NULL);
	struct tm tm;
	char at[16] = "";

	for (size_t i = 0; res && i < res->napps; i++)
		if (res->apps[i].outcome != SYNC_OUT_UNCHANGED)
			changed++;
	if (gmtime_r(&now, &tm))
		strftime(at, sizeof(at), "%H:%M:%SZ", &tm);
	sdnotify_status("last sync %s at %s (%s): commit %s, %zu apps, %zu changed, %zu failed",
	                metrics_sync_result(rc, res && res->converged), at, reason,
	                res && res->revision ? res->revision : "-",
	                res && res->desired ? res->desired->napps : 0, changed,
	                res ? res->nfailed : 0);
}

/* Under e->mu: wait up to LOCK_RETRY_MS, or until envsync_interrupt(). */
static void lock_pause(struct envsync *e)
{
	struct timespec until = pacer_deadline_ms(LOCK_RETRY_MS);

	if (!e->interrupted)
		pthread_cond_timedwait(&e->cv, &e->mu, &until);
}

/*
 * The state directory's lock is held for one sync, not for the service's
 * life, so that `pacer rollback`, `scale`, `suspend`... work while watch or
 * serve runs. A run that holds it (an operator's action) is waited for:
 * flock(2) cannot be waited on with a deadline, so it is tried again every
 * LOCK_RETRY_MS, and a stop (the flag, or envsync_interrupt()) is seen
 * within one such pause.
 */
static int envsync_lock(struct envsync *e, struct pacer_error **err)
{
	int said = 0, rc;

	if (!e->env->state_dir || e->env->lock)
		return 0; /* the command holds it for its life */
	for (;;) {
		struct pacer_error *le = NULL;

		rc = fslock_acquire(e->env->state_dir, FSLOCK_NOWAIT, &e->lock, &le);
		if (rc != PACER_EBUSY) {
			if (rc && err && !*err)
				*err = le;
			else
				pacer_error_free(le);
			return rc;
		}
		if (!said++)
			PLOG_INFO("waiting for another pacer run to finish: %s",
			          le ? le->message : "");
		pacer_error_free(le);
		pthread_mutex_lock(&e->mu);
		if (!e->interrupted && !(e->so.stop && *e->so.stop))
			lock_pause(e);
		rc = e->interrupted || (e->so.stop && *e->so.stop);
		pthread_mutex_unlock(&e->mu);
		if (rc)
			return pacer_error_set(
			    err, PACER_ECANCELLED,
			    "stopped while waiting for the state directory's lock");
	}
}

int envsync_run_all(void *ctx, const char *reason, struct json_object **status_out)
{
	return envsync_run(ctx, reason, NULL, status_out);
}

/* The ids of a partial sync, for its status JSON ("only"); NULL for a whole one. */
static struct json_object *only_json(const char *const *only)
{
	struct json_object *a;

	if (!only)
		return NULL;
	a = json_object_new_array();
	for (size_t i = 0; a && only[i]; i++)
		json_object_array_add(a, json_object_new_string(only[i]));
	return a;
}

/* The status JSON of a run: sync_result_to_json() plus commit, reason and only. */
static struct json_object *status_json(const struct sync_result *res, const char *reason,
                                       const char *const *only)
{
	struct json_object *status = res ? sync_result_to_json(res) : NULL;

	if (!status)
		return NULL;
	json_object_object_add(status, "commit",
	                       res->revision ? json_object_new_string(res->revision) : NULL);
	json_object_object_add(status, "reason", json_object_new_string(reason));
	/* A partial run says so: metrics keep the other apps' series. */
	if (only)
		json_object_object_add(status, "only", only_json(only));
	return status;
}

/*
 * Under the lock: sync_run() of only (NULL: every app), and what it tells
 * (notifier.h: its memory is in the state directory, written under the
 * lock). A sync of some apps posts no commit status. The history names the
 * sync's reason as its trigger.
 */
static int sync_locked(struct envsync *e, const char *reason, const char *const *only,
                       struct sync_result **res, struct pacer_error **err)
{
	struct sync_options so = e->so;
	int rc;

	so.trigger = reason;
	so.only = only;
	for (so.nonly = 0; only && only[so.nonly];)
		so.nonly++;
	if (only)
		so.on_revision = NULL;
	rc = sync_run(e->env->source, e->env->marathon, e->env->backups, e->env->state, &so, res,
	              err);
	/* Not converged: abandoned for a newer run, or some app failed. */
	if (rc == 0 && *res && !(*res)->converged)
		rc = e->so.abandon && *e->so.abandon ? PACER_ECANCELLED : PACER_EFAILED;
	notifier_finished(e->notifier, *res, rc, *err, reason, only != NULL);
	fslock_release(e->lock);
	e->lock = NULL;
	return rc;
}

int envsync_run(void *ctx, const char *reason, const char *const *only,
                struct json_object **status_out)
{
	struct envsync *e = ctx;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct json_object *status;
	int rc;

	if (status_out)
		*status_out = NULL;
	PLOG_INFO("sync start reason=\"%s\"", reason);
	sdnotify_status("syncing (%s)", reason);
	rc = envsync_lock(e, &err);
	if (!rc)
		rc = sync_locked(e, reason, only, &res, &err);
	log_result(reason, rc, res, err);
	notify_result(reason, rc, res);
	status = status_json(res, reason, only);
	if (e->metrics_file)
		report_metrics_file(e->metrics_cmd, e->metrics_file, res, rc, e->notify_metrics);

	/* Keep a desired state that loaded cleanly, for drift checks. */
	pthread_mutex_lock(&e->mu);
	if (res && res->desired && !res->desired->nerrors && !only) {
		desired_free(e->desired);
		e->desired = res->desired;
		res->desired = NULL;
	}
	pthread_mutex_unlock(&e->mu);

	if (status_out)
		*status_out = status;
	else
		json_object_put(status);
	sync_result_free(res);
	pacer_error_free(err);
	return rc;
}

/* The file does not own instances: label pacer.instances=unmanaged. */
/* Scaling such an app outside pacer is expected, not drift. */
static int instances_unmanaged(struct json_object *def)
{
	struct json_object *labels, *v;

	return json_object_object_get_ex(def, "labels", &labels) &&
	       json_object_object_get_ex(labels, "pacer.instances", &v) &&
	       json_object_is_type(v, json_type_string) &&
	       !strcmp(json_object_get_string(v), "unmanaged");
}

int envsync_drift(struct envsync *e, struct json_object *live, char **app_id, char **paths)
{
	struct normalize_options no = NORMALIZE_OPTIONS_INIT;
	struct json_object *idv, *dn = NULL, *ln = NULL, *raw = NULL;
	struct pacer_field_change *ch = NULL;
	struct pacer_buf b = PACER_BUF_INIT;
	const struct pacer_desired_app *da;
	struct pacer_error *err = NULL;
	size_t n = 0;
	int ret = -1;

	*app_id = NULL;
	*paths = NULL;
	if (!json_object_is_type(live, json_type_object) ||
	    !json_object_object_get_ex(live, "id", &idv) ||
	    !json_object_is_type(idv, json_type_string))
		return -1;

	/* Copy what is needed out of the lock: normalising runs appdef checks. */
	pthread_mutex_lock(&e->mu);
	da = e->desired ? desired_find(e->desired, json_object_get_string(idv)) : NULL;
	/* An app served from the cache is parsed now (desired_app_def changes it: under mu). */
	if (da && (desired_app_def((struct pacer_desired_app *)da, &err) ||
	           json_object_deep_copy(da->def, &raw, NULL)))
		raw = NULL;
	/* A colour of a blue/green app: compared with the file rendered as that colour. */
	if (!da && e->desired &&
	    (da = bluegreen_desired_of(e->desired, json_object_get_string(idv), NULL)))
		raw = bluegreen_render_like(da->def, da->id, live);
	pthread_mutex_unlock(&e->mu);
	if (!da) {
		ret = 0;
		goto done;
	}
	if (!raw)
		goto done;

	/* Both sides normalised as a sync would, so that defaults Marathon fills
	 * in and fields pacer does not own are never reported as drift. */
	no.flags = e->so.flags;
	if (normalize_app(raw, &no, &dn, &err) || normalize_app(live, &no, &ln, &err))
		goto done;
	if (normalize_adopt_live(
	        raw, dn, ln,
	        e->so.ignore_instances || instances_unmanaged(raw) ? NORMALIZE_ADOPT_INSTANCES : 0))
		goto done;
	if (diff_apps(dn, ln, &ch, &n))
		goto done;
	ret = 0;
	if (!n)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (pacer_buf_printf(&b, "%s%s", i ? "," : "", ch[i].path))
			goto fail;
	*app_id = strdup(json_object_get_string(idv));
	*paths = strdup(b.ptr ? b.ptr : "");
	if (!*app_id || !*paths)
		goto fail;
	ret = 1;
	goto done;
fail:
	free(*app_id);
	free(*paths);
	*app_id = *paths = NULL;
	ret = -1;
done:
	diff_changes_free(ch, n);
	json_object_put(dn);
	json_object_put(ln);
	json_object_put(raw);
	pacer_buf_release(&b);
	pacer_error_free(err);
	return ret;
}

int envsync_desires(struct envsync *e, const char *id)
{
	int has;

	pthread_mutex_lock(&e->mu);
	has = e->desired && desired_find(e->desired, id) != NULL;
	pthread_mutex_unlock(&e->mu);
	return has;
}

int envsync_git_head(struct pacer_source *git, char head[GITSRC_OID_HEXSZ + 1], int stopping)
{
	struct pacer_error *err = NULL;
	char *msg;

	if (!gitsrc_resolve(git, head, &err))
		return 0;
	msg = pacer_error_format(err);
	if (!stopping)
		PLOG_WARN("git poll failed: %s; trying again at the next interval", msg ? msg : "?");
	free(msg);
	pacer_error_free(err);
	return -1;
}
