/*
 * action.c: an operator's action on one app (contract in action.h).
 *
 * Order, as for every change pacer makes: back up and suspend (scale,
 * delete) -> journal -> request -> journal the answer -> wait -> clear.
 * The suspension comes before the request so that a sync of a running
 * watch or serve, which may start the moment the lock is released, never
 * undoes the action.
 */
#include "reconcile/action.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/crash.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"
#include "reconcile/bluegreen.h"
#include "reconcile/bluegreen_run.h"
#include "reconcile/journal.h"
#include "reconcile/suspend.h"
#include "reconcile/wait.h"

const char *action_name(enum action_kind k)
{
	static const char *const names[] = {"restart", "cancel", "scale", "delete"};

	return (unsigned)k < sizeof(names) / sizeof(*names) ? names[k] : "?";
}

void action_result_release(struct action_result *r)
{
	free(r->live_id);
	free(r->deployment_id);
	free(r->backup_path);
	memset(r, 0, sizeof(*r));
}

/* Whether colour (a live app; NULL-safe) is a colour of blue/green app id. */
static int colour_of(struct json_object *colour, const char *id)
{
	const char *of = colour ? bluegreen_label(colour, "HAPROXY_APP_ID") : NULL;

	return of && !strcmp(of, id) && bluegreen_enabled(colour);
}

/* Hand e on to the caller (err may be NULL). */
static void pass_error(struct pacer_error **err, struct pacer_error *e)
{
	if (err && !*err)
		*err = e;
	else
		pacer_error_free(e);
}

/* out->live_id = id followed by suffix ("" or a colour's "-blue"). */
static int set_live(struct action_result *out, const char *id, const char *suffix,
		    struct pacer_error **err)
{
	size_t n = strlen(id), k = strlen(suffix);

	if (!(out->live_id = malloc(n + k + 1)))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	memcpy(out->live_id, id, n);
	memcpy(out->live_id + n, suffix, k + 1);
	return 0;
}

/*
 * The live app an action on id acts on (out->live_id): id itself, or the
 * one colour of blue/green app id that runs. Returns 0, PACER_ENOTFOUND,
 * PACER_ELOCKED when both colours run (a release), or the failing call's code.
 */
static int resolve_live(struct pacer_marathon *m, const char *id, struct action_result *out,
			struct pacer_error **err)
{
	struct json_object *app = NULL, *blue = NULL, *green = NULL;
	struct pacer_error *missing = NULL;
	int rc = m->get_app(m, id, &app, &missing), b, g;

	json_object_put(app);
	if (rc != PACER_ENOTFOUND) { /* the app itself, or why it could not be read */
		pass_error(err, missing);
		return rc ? rc : set_live(out, id, "", err);
	}
	if ((rc = bluegreen_read_colours(m, id, &blue, &green, err))) {
		pacer_error_free(missing);
		return rc;
	}
	b = colour_of(blue, id);
	g = colour_of(green, id);
	json_object_put(blue);
	json_object_put(green);
	if (!b && !g) {
		pass_error(err, missing);
		return PACER_ENOTFOUND;
	}
	pacer_error_free(missing);
	if (b && g)
		return pacer_error_set(err, PACER_ELOCKED,
				       "app %s is being released blue/green (both %s-blue and %s-green "
				       "run); wait for the release to end (pacer status %s), or name "
				       "one colour",
				       id, id, id, id);
	return set_live(out, id, b ? "-blue" : "-green", err);
}

/*
 * Scale and delete: the live definition is saved and the app suspended
 * first (the live app `live` is backed up; the suspension is id's, as
 * the sync knows it).
 */
static int prepare(struct pacer_marathon *m, const char *id, const char *live_id,
		   const struct action_options *o, struct action_result *out,
		   struct pacer_error **err)
{
	struct json_object *live = NULL;
	struct suspend *sp = NULL;
	char why[96];
	int rc;

	if ((rc = m->get_app(m, live_id, &live, err)))
		goto done;
	if (o->backups &&
	    (rc = o->backups->save(o->backups, live_id, live, &out->backup_path, err))) {
		pacer_error_wrap(err, rc, "app %s was not touched: it could not be backed up first",
				 live_id);
		goto done;
	}
	if (!o->state)
		goto done;
	if (o->kind == ACTION_SCALE)
		snprintf(why, sizeof(why), "scaled to %d", o->instances);
	else
		snprintf(why, sizeof(why), "deleted");
	if (!(rc = suspend_open(o->state, &sp, err)) &&
	    !(rc = suspend_put(sp, id, o->by, why, err)))
		out->suspended = 1;
done:
	suspend_free(sp);
	json_object_put(live);
	return rc;
}

/* The id of the app's running deployment, or PACER_ENOTFOUND. */
static int app_deployment(struct pacer_marathon *m, const char *id, char *out, size_t len,
			  struct pacer_error **err)
{
	struct json_object *app = NULL;
	const char *dep;
	int rc = m->get_app(m, id, &app, err);

	if (rc)
		return rc;
	dep = json_object_get_string(jsonutil_get(
		json_object_array_get_idx(jsonutil_get(app, "deployments"), 0), "id"));
	if (dep)
		snprintf(out, len, "%s", dep);
	else
		rc = pacer_error_set(err, PACER_ENOTFOUND,
				     "app %s has no deployment in progress: nothing to cancel", id);
	json_object_put(app);
	return rc;
}

static int request(struct pacer_marathon *m, const char *id, const struct action_options *o,
		   struct pacer_deploy_ref *ref, struct pacer_error **err)
{
	struct json_object *body;
	char dep[64];
	int rc;

	memset(ref, 0, sizeof(*ref));
	switch (o->kind) {
	case ACTION_RESTART:
		return m->restart_app(m, id, PACER_MF_FORCE, ref, err);
	case ACTION_CANCEL:
		if ((rc = app_deployment(m, id, dep, sizeof(dep), err)))
			return rc;
		return m->delete_deployment(m, dep, o->force ? PACER_MF_FORCE : 0, ref, err);
	case ACTION_SCALE:
		body = json_object_new_object();
		json_object_object_add(body, "instances", json_object_new_int(o->instances));
		rc = m->put_app(m, id, body, PACER_MF_FORCE | PACER_MF_PARTIAL, ref, err);
		json_object_put(body);
		return rc;
	case ACTION_DELETE:
		return m->delete_app(m, id, PACER_MF_FORCE, ref, err);
	}
	return pacer_error_set(err, PACER_EINVALID, "unknown action");
}

static int wait_done(struct pacer_marathon *m, const char *id, const struct action_options *o,
		     const struct pacer_deploy_ref *ref, struct pacer_error **err)
{
	struct waiter *w = NULL;
	int rc;

	/* A forced cancel leaves the app as it is: nothing to wait for. */
	if (o->kind == ACTION_CANCEL && o->force)
		return 0;
	if ((rc = waiter_new(m, o->poll_ms, &w, err)))
		return rc;
	waiter_set_stop(w, o->stop);
	rc = waiter_wait(w, id, ref->deployment_id,
			 o->kind == ACTION_DELETE ? WAITER_GONE : WAITER_HEALTHY, o->timeout_s, NULL,
			 NULL, err);
	waiter_free(w);
	return rc;
}

int action_run(struct pacer_marathon *m, const char *id, const struct action_options *o,
	       struct action_result *out, struct pacer_error **err)
{
	struct journal_entry je;
	struct pacer_deploy_ref ref;
	const char *live;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&je, 0, sizeof(je));
	if ((rc = resolve_live(m, id, out, err)))
		goto done;
	live = out->live_id;
	if ((o->kind == ACTION_SCALE || o->kind == ACTION_DELETE) &&
	    (rc = prepare(m, id, live, o, out, err)))
		goto done;
	je.app_id = (char *)live;
	je.action = JOURNAL_OPERATOR;
	je.backup = out->backup_path;
	je.started = (long long)time(NULL);
	je.timeout_s = o->timeout_s > 0 ? o->timeout_s : WAITER_DEFAULT_TIMEOUT_S;
	je.deadline = je.started + je.timeout_s;
	je.on_failure = SYNC_ON_FAILURE_NONE;
	if ((rc = journal_write(o->state, &je, err)))
		goto done;
	CRASH_POINT("after-intent");
	rc = request(m, live, o, &ref, err);
	if (rc) {
		/* Unknown: the next run reads it back; anything else changed nothing. */
		if (rc != PACER_EUNKNOWN)
			journal_clear(o->state, live, NULL);
		goto done;
	}
	out->deployment_id = ref.deployment_id[0] ? strdup(ref.deployment_id) : NULL;
	je.phase = JOURNAL_SUBMITTED;
	je.deployment = ref.deployment_id;
	journal_write(o->state, &je, NULL);
	PLOG_INFO("app=%s deployment=%s event=%s by=%s", live,
		  ref.deployment_id[0] ? ref.deployment_id : "-", action_name(o->kind),
		  o->by ? o->by : "-");
	CRASH_POINT("during-wait");
	rc = wait_done(m, live, o, &ref, err);
	if (rc != PACER_ECANCELLED && rc != PACER_EUNREACHABLE)
		journal_clear(o->state, live, NULL);
done:
	if (rc && err && *err && !(*err)->app_id)
		pacer_error_set_app(*err, id);
	return rc;
}
