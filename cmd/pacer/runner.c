/*
 * runner.c: one sync at a time for watch and serve, remembering the last
 * result (see runner.h).
 */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/pacer/runner.h"

#include "backends/fs/lock.h"
#include "cmd/pacer/report.h"
#include "cmd/pacer/sdnotify.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/log.h"
#include "reconcile/desired.h"
#include "reconcile/diff.h"
#include "reconcile/metrics.h"
#include "reconcile/normalize.h"

struct runner {
	struct cli_env *env;
	struct sync_options so;
	struct metrics *metrics;
	const char *metrics_cmd, *metrics_file; /* borrowed; NULL = no file */

	struct fslock *lock; /* held during a sync only (worker thread) */

	pthread_mutex_t mu; /* guards everything below */
	int busy;
	long long last_end_ms;
	struct json_object *last_status;
	/* The desired state of the last sync that loaded one without errors:
	 * kept for drift checks (the drift thread reads it under mu). */
	struct pacer_desired *desired;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int runner_new(struct runner **out, struct cli_env *env, const struct sync_options *so,
               struct metrics *metrics, struct pacer_error **err)
{
	struct runner *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return pacer_error_set(err, -1, "out of memory");
	r->env = env;
	r->so = *so;
	r->metrics = metrics;
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return 0;
}

void runner_set_metrics_file(struct runner *r, const char *cmd, const char *path)
{
	r->metrics_cmd = cmd;
	r->metrics_file = path;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	json_object_put(r->last_status);
	desired_free(r->desired);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int runner_busy(struct runner *r)
{
	int b;

	pthread_mutex_lock(&r->mu);
	b = r->busy;
	pthread_mutex_unlock(&r->mu);
	return b;
}

long long runner_last_end_ms(struct runner *r)
{
	long long t;

	pthread_mutex_lock(&r->mu);
	t = r->last_end_ms;
	pthread_mutex_unlock(&r->mu);
	return t;
}

struct json_object *runner_last_status(struct runner *r)
{
	struct json_object *o;

	pthread_mutex_lock(&r->mu);
	o = json_object_get(r->last_status);
	pthread_mutex_unlock(&r->mu);
	return o;
}

/* One line per result, with the commit, for operators and tests. */
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

/* systemctl status shows the last result (sdnotify.h; nothing outside systemd). */
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

/*
 * The state directory's lock is held for one sync, not for the service's
 * life, so that `pacer rollback`, `scale`, `suspend`... work while watch or
 * serve runs. A run that holds it (an operator's action) is waited for,
 * polling, so that a stop request is seen within a tick.
 */
static int runner_lock(struct runner *r, struct pacer_error **err)
{
	int said = 0;

	if (!r->env->state_dir || r->env->lock)
		return 0; /* the command holds it for its life */
	for (;;) {
		struct pacer_error *e = NULL;
		int rc = fslock_acquire(r->env->state_dir, 0, &r->lock, &e);

		if (rc != PACER_EBUSY) {
			if (rc && err && !*err)
				*err = e;
			else
				pacer_error_free(e);
			return rc;
		}
		if (!said++)
			PLOG_INFO("waiting for another pacer run to finish: %s", e ? e->message : "");
		pacer_error_free(e);
		if (r->so.stop && *r->so.stop)
			return pacer_error_set(err, PACER_ECANCELLED,
			                       "stopped while waiting for the state directory's lock");
		{
			struct timespec ts = {0, 100 * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
}

int runner_sync(void *ctx, const char *reason, struct json_object **status_out)
{
	return runner_sync_only(ctx, reason, NULL, status_out);
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

int runner_sync_only(void *ctx, const char *reason, const char *const *only,
		     struct json_object **status_out)
{
	struct runner *r = ctx;
	struct sync_options so = r->so;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct json_object *status = NULL;
	struct timespec now;
	int rc;

	if (status_out)
		*status_out = NULL;
	pthread_mutex_lock(&r->mu);
	r->busy = 1;
	pthread_mutex_unlock(&r->mu);

	PLOG_INFO("sync start reason=\"%s\"", reason);
	sdnotify_status("syncing (%s)", reason);
	rc = runner_lock(r, &err);
	if (!rc) {
		so.only = only;
		for (so.nonly = 0; only && only[so.nonly];)
			so.nonly++;
		rc = sync_run(r->env->source, r->env->marathon, r->env->backups, r->env->state,
		              &so, &res, &err);
		fslock_release(r->lock);
		r->lock = NULL;
	}
	if (rc == 0 && res && !res->converged)
		rc = r->so.abandon && *r->so.abandon ? PACER_ECANCELLED : PACER_EFAILED;
	log_result(reason, rc, res, err);
	notify_result(reason, rc, res);

	if (res) {
		status = sync_result_to_json(res);
		if (status) {
			json_object_object_add(status, "commit",
			                       res->revision ? json_object_new_string(res->revision)
			                                     : NULL);
			json_object_object_add(status, "reason", json_object_new_string(reason));
			/* A partial run says so: metrics keep the other apps' series. */
			if (only)
				json_object_object_add(status, "only", only_json(only));
		}
	}
	if (r->metrics) {
		struct pacer_error *merr = NULL;

		clock_gettime(CLOCK_REALTIME, &now);
		if (metrics_record_sync(r->metrics, rc, status, res ? res->seconds : 0,
		                        (double)now.tv_sec + now.tv_nsec / 1e9, &merr))
			PLOG_WARN("metrics: the sync could not be recorded");
		pacer_error_free(merr);
	}
	if (r->metrics_file)
		report_metrics_file(r->metrics_cmd, r->metrics_file, res, rc);

	pthread_mutex_lock(&r->mu);
	r->busy = 0;
	r->last_end_ms = mono_ms();
	json_object_put(r->last_status);
	r->last_status = json_object_get(status);
	/* Keep a desired state that loaded cleanly, for drift checks. */
	if (res && res->desired && !res->desired->nerrors && !only) {
		desired_free(r->desired);
		r->desired = res->desired;
		res->desired = NULL;
	}
	pthread_mutex_unlock(&r->mu);

	if (status_out)
		*status_out = status;
	else
		json_object_put(status);
	sync_result_free(res);
	pacer_error_free(err);
	return rc;
}

/* The file does not own instances: label pacer.instances=unmanaged. */
static int instances_unmanaged(struct json_object *def)
{
	struct json_object *labels, *v;

	return json_object_object_get_ex(def, "labels", &labels) &&
	       json_object_object_get_ex(labels, "pacer.instances", &v) &&
	       json_object_is_type(v, json_type_string) &&
	       !strcmp(json_object_get_string(v), "unmanaged");
}

int runner_drift(struct runner *r, struct json_object *live, char **app_id, char **paths)
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
	pthread_mutex_lock(&r->mu);
	da = r->desired ? desired_find(r->desired, json_object_get_string(idv)) : NULL;
	/* An app served from the cache is parsed now (desired_app_def changes it: under mu). */
	if (da && (desired_app_def((struct pacer_desired_app *)da, &err) ||
	           json_object_deep_copy(da->def, &raw, NULL)))
		raw = NULL;
	pthread_mutex_unlock(&r->mu);
	if (!da) {
		ret = 0;
		goto done;
	}
	if (!raw)
		goto done;

	no.flags = r->so.flags;
	if (normalize_app(raw, &no, &dn, &err) || normalize_app(live, &no, &ln, &err))
		goto done;
	if (normalize_adopt_live(
	        raw, dn, ln,
	        r->so.ignore_instances || instances_unmanaged(raw) ? NORMALIZE_ADOPT_INSTANCES : 0))
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
