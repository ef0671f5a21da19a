/*
 * bluegreen_run.c: a blue/green release, step by step (contract in
 * bluegreen_run.h).
 *
 * The release is one loop over two numbers, the instances of the new and
 * of the old colour, and every way into it (a fresh release, a resumed
 * one, a hybrid found live) only decides where the numbers start. The
 * order inside a step is the invariant: the new colour grows first and is
 * waited for healthy, then the old one shrinks by what was added, so the
 * healthy total never drops below the target and exceeds it by one step
 * at most. The journal entry of the pair is rewritten before each request
 * (intent) and after it (Marathon's answer), so a run killed anywhere is
 * found by the next one with the colours' labels telling the rest.
 */
#include "reconcile/bluegreen_run.h"

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
#include "reconcile/converge.h"
#include "reconcile/held.h"
#include "reconcile/rollback.h"

#define ID_MAX 600

struct release {
	const struct exec_ctx *ctx;
	struct sync_app_result *res;
	const char *base;
	long target, step, old_target, n_old, n_new;
	int drain_s, timeout_s, new_exists, old_exists, changed;
	char old_id[ID_MAX], new_id[ID_MAX];
	struct json_object *old_body, *new_body; /* owned: PUT-able colours */
	struct journal_entry je;                 /* strings borrowed */
};

static int open_code(int rc)
{
	return rc == PACER_ECANCELLED || rc == PACER_EUNKNOWN || rc == PACER_EUNREACHABLE;
}

static void journal_put(struct release *r, enum journal_phase phase, const char *dep)
{
	struct pacer_error *e = NULL;

	r->je.phase = phase;
	r->je.deployment = (char *)(dep && *dep ? dep : NULL);
	r->je.started = (long long)time(NULL);
	r->je.deadline = r->je.started + r->timeout_s;
	if (journal_write(r->ctx->state, &r->je, &e)) {
		PLOG_WARN("app=%s %s", r->base, e ? e->message : "cannot update the journal");
		pacer_error_free(e);
	}
}

static int own(struct release *r, const char *id, int record, struct pacer_error **err)
{
	const char *ids[1] = {id};
	struct pacer_state_store *s = r->ctx->state;

	if (!s)
		return 0;
	return record ? s->add_owned(s, ids, 1, err) : s->remove_owned(s, ids, 1, err);
}

/*
 * One request (create, update or delete of a colour), journalled before
 * and after, its outcome resolved by reading back; then waited for.
 */
static int request(struct release *r, const char *id, enum pacer_action act,
		   struct json_object *body, struct pacer_error **err)
{
	struct pacer_plan_item it;
	struct pacer_deploy_ref ref;
	struct exec_progress p = {r->ctx, pacer_now_s()};
	int rc;

	memset(&it, 0, sizeof(it));
	it.action = act;
	it.app_id = (char *)id;
	it.body = body;
	journal_put(r, JOURNAL_INTENT, NULL);
	CRASH_POINT("after-intent");
	rc = exec_submit_resolved(r->ctx, &it, body, &ref, err);
	if (rc == PACER_ENOTFOUND && act == PACER_ACT_PRUNE) {
		pacer_error_clear(err);
		return 0;
	}
	if (rc) {
		if (rc == PACER_EUNKNOWN)
			journal_put(r, JOURNAL_UNKNOWN, NULL);
		return rc;
	}
	r->changed = 1;
	journal_put(r, JOURNAL_SUBMITTED, ref.deployment_id);
	exec_emit(r->ctx, SYNC_EV_SUBMIT, id, ref.deployment_id, plan_action_name(act),
		  SYNC_OUT_UNCHANGED, 0);
	CRASH_POINT("during-wait");
	return waiter_wait(r->ctx->waiter, id, ref.deployment_id,
			   act == PACER_ACT_PRUNE ? WAITER_GONE : WAITER_HEALTHY, r->timeout_s,
			   exec_on_progress, &p, err);
}

/* Scale a colour to n instances (the new one is created by its first step). */
static int scale(struct release *r, int new_colour, long n, struct pacer_error **err)
{
	struct json_object *body = new_colour ? r->new_body : r->old_body;
	const char *id = new_colour ? r->new_id : r->old_id;
	enum pacer_action act = new_colour && !r->new_exists ? PACER_ACT_CREATE : PACER_ACT_UPDATE;
	int rc;

	json_object_object_add(body, "instances", json_object_new_int64(n));
	PLOG_INFO("app=%s blue/green: %s %s to %ld instance%s", r->base,
		  act == PACER_ACT_CREATE ? "creating" : "scaling", id, n, n == 1 ? "" : "s");
	rc = request(r, id, act, body, err);
	if (new_colour && (rc == 0 || rc == PACER_EFAILED || rc == PACER_ETIMEOUT))
		r->new_exists = 1;
	return rc;
}

/* Back up a colour's live definition (durably) before it is deleted or shrunk. */
static int backup(struct release *r, const char *id, struct json_object *live,
		  struct pacer_error **err)
{
	char *path = NULL;
	int rc;

	if (!r->ctx->backups)
		return pacer_error_set(err, PACER_EINVALID, "app %s: no backup store configured", id);
	if ((rc = r->ctx->backups->save(r->ctx->backups, id, live, &path, err)))
		return pacer_error_wrap(err, rc,
					"app %s was not touched: %s could not be backed up; fix "
					"the backup directory and run again",
					r->base, id);
	exec_emit(r->ctx, SYNC_EV_BACKUP, id, NULL, path, SYNC_OUT_UNCHANGED, 0);
	if (!r->res->backup_path)
		r->res->backup_path = path;
	else
		free(path);
	return 0;
}

/* Back up and delete a colour that runs no task any more; forget it. */
static int remove_colour(struct release *r, const char *id, struct pacer_error **err)
{
	struct json_object *live = NULL;
	int rc = r->ctx->m->get_app(r->ctx->m, id, &live, err);

	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		rc = 0; /* gone already */
	} else if (rc == 0 && (rc = backup(r, id, live, err)) == 0) {
		rc = request(r, id, PACER_ACT_PRUNE, NULL, err);
	}
	json_object_put(live);
	if (rc == 0)
		own(r, id, 0, NULL);
	return rc;
}

/* Sleep the drain time in slices, stopping at once when the run stops. */
static int drain(struct release *r, struct pacer_error **err)
{
	const struct sync_options *o = r->ctx->opts;

	for (long ms = 0; ms < r->drain_s * 1000L; ms += 100) {
		if ((o->stop && *o->stop) || (o->abandon && *o->abandon))
			return pacer_error_set(err, PACER_ECANCELLED,
					       "app %s: stopped while draining %s; the next run "
					       "finishes the release",
					       r->base, r->old_id);
		pacer_sleep_ms(100);
	}
	return 0;
}

/*
 * The release from where the numbers stand to its end. Each turn first
 * shrinks the old colour by what the new one runs beyond the target (so a
 * release resumed between the two halves of a step never grows further),
 * then grows the new colour by one step.
 */
static int forward(struct release *r, struct pacer_error **err)
{
	int rc;

	for (;;) {
		if (r->old_exists && r->n_old > 0 && r->n_old + r->n_new > r->target) {
			long n = r->target - r->n_new > 0 ? r->target - r->n_new : 0;

			if ((rc = scale(r, 0, n, err)))
				return rc;
			r->n_old = n;
			CRASH_POINT("bluegreen-step");
		}
		if (r->new_exists && r->n_new >= r->target)
			break;
		{
			long add = r->target - r->n_new < r->step ? r->target - r->n_new : r->step;

			if ((rc = scale(r, 1, r->n_new + (add > 0 ? add : 0), err)))
				return rc;
			r->n_new += add > 0 ? add : 0;
		}
	}
	if (!r->old_exists)
		return 0;
	if ((rc = drain(r, err)) || (rc = remove_colour(r, r->old_id, err)))
		return rc;
	r->old_exists = 0;
	return 0;
}

/* Back to the old colour: it runs what it ran, then the new one goes. */
static int revert(struct release *r, struct pacer_error **err)
{
	int rc;

	r->je.undo = JOURNAL_BLUEGREEN;
	exec_emit(r->ctx, SYNC_EV_ROLLBACK, r->base, NULL, "blue/green release failed",
		  SYNC_OUT_FAILED, 0);
	if (r->old_exists && (rc = scale(r, 0, r->old_target, err)))
		return rc;
	CRASH_POINT("during-undo");
	return remove_colour(r, r->new_id, err);
}

static void set_error(struct sync_app_result *res, struct pacer_error *e)
{
	if (e && !e->app_id)
		pacer_error_set_app(e, res->app_id);
	pacer_error_free(res->error);
	res->error = e;
}

static void hold(struct release *r, const char *why)
{
	if (r->je.digest[0])
		held_put(r->ctx->held, r->base, r->je.digest, r->ctx->revision,
			 r->res->outcome, why, NULL);
}

/* The row names the colour that runs at the end. */
static void colour_of(struct sync_app_result *res, const char *id)
{
	const char *colour = "";
	char base[ID_MAX];

	bluegreen_split_id(id, base, sizeof(base), &colour);
	snprintf(res->colour, sizeof(res->colour), "%s", colour);
}

/* rc of the forward part decides: done, open (journal kept), or revert. */
static void settle(struct release *r, int rc, struct pacer_error *e, enum sync_outcome ok)
{
	struct pacer_error *re = NULL;
	char *why;
	int rrc;

	if (rc == 0) {
		r->res->outcome = ok;
		colour_of(r->res, r->new_id);
		held_drop(r->ctx->held, r->base, NULL);
		journal_clear(r->ctx->state, r->base, NULL);
		pacer_error_free(e);
		return;
	}
	if (open_code(rc)) {
		r->res->outcome = rc == PACER_ECANCELLED ? SYNC_OUT_INTERRUPTED : SYNC_OUT_UNKNOWN;
		r->res->colour[0] = '\0'; /* both may run: the next run tells */
		set_error(r->res, e);
		return;
	}
	rrc = revert(r, &re);
	why = pacer_error_format(e);
	if (open_code(rrc)) {
		r->res->outcome = rrc == PACER_ECANCELLED ? SYNC_OUT_INTERRUPTED : SYNC_OUT_UNKNOWN;
		r->res->colour[0] = '\0';
		pacer_error_free(e);
		set_error(r->res, re);
		free(why);
		return;
	}
	r->res->outcome = rrc ? SYNC_OUT_ROLLBACK_FAILED : SYNC_OUT_ROLLED_BACK;
	if (!rrc)
		colour_of(r->res, r->old_id);
	else
		r->res->colour[0] = '\0';
	pacer_error_wrap(&e, PACER_EFAILED,
			 rrc ? "blue/green release of app %s failed and reverting it failed too; "
			       "check %s and %s in Marathon"
			     : "blue/green release of app %s failed and was reverted: %s runs "
			       "the previous definition healthy, %s was deleted",
			 r->base, r->old_id, r->new_id);
	pacer_error_free(re);
	set_error(r->res, e);
	hold(r, why);
	journal_clear(r->ctx->state, r->base, NULL);
	free(why);
}

static void release_free(struct release *r)
{
	json_object_put(r->old_body);
	json_object_put(r->new_body);
}

/* The instances an app object runs (its definition's). */
static long instances_of(struct json_object *app)
{
	struct json_object *v = jsonutil_get(app, "instances");

	return v ? (long)json_object_get_int64(v) : 0;
}

/* r's shared fields for the pair base, from a colour or desired def (borrowed). */
static int release_init(struct release *r, const struct exec_ctx *ctx,
			struct sync_app_result *res, const char *base, struct json_object *def,
			int timeout_s, struct pacer_error **err)
{
	struct bluegreen_conf c;
	int rc;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->res = res;
	r->base = base;
	r->timeout_s = timeout_s;
	if ((rc = bluegreen_conf_read(def, &c, NULL, err)))
		return rc;
	r->target = c.target;
	r->step = bluegreen_step(&c);
	r->drain_s = c.drain_s;
	r->je.app_id = (char *)base;
	r->je.action = JOURNAL_BLUEGREEN;
	r->je.commit = (char *)ctx->revision;
	r->je.timeout_s = timeout_s;
	r->je.on_failure = ctx->opts->on_failure;
	return 0;
}

/* Read one colour: 0 (*out set), 0 with *out NULL when absent, or an error. */
static int read_colour(struct pacer_marathon *m, const char *id, struct json_object **out,
		       struct pacer_error **err)
{
	int rc = m->get_app(m, id, out, err);

	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		*out = NULL;
		return 0;
	}
	return rc;
}

int bluegreen_read_colours(struct pacer_marathon *m, const char *base, struct json_object **blue,
			   struct json_object **green, struct pacer_error **err)
{
	char id[ID_MAX];
	int rc;

	*blue = *green = NULL;
	if (strlen(base) + sizeof("-green") > sizeof(id))
		return 0; /* no colour id of it fits: Marathon holds none */
	snprintf(id, sizeof(id), "%s-blue", base);
	if ((rc = read_colour(m, id, blue, err)))
		return rc;
	snprintf(id, sizeof(id), "%s-green", base);
	if ((rc = read_colour(m, id, green, err))) {
		json_object_put(*blue);
		*blue = NULL;
	}
	return rc;
}

/*
 * Both colours of base read from Marathon: which one is new (the journal's
 * body names it, else the newer start time). *old / *newer are owned.
 */
static int read_pair(const struct exec_ctx *ctx, const char *base, const char *new_colour,
		     struct json_object **old, struct json_object **newer,
		     struct pacer_error **err)
{
	struct json_object *blue, *green;
	int rc = bluegreen_read_colours(ctx->m, base, &blue, &green, err);

	if (rc)
		return rc;
	if (!new_colour) {
		const char *b = bluegreen_label(blue, "HAPROXY_DEPLOYMENT_STARTED_AT");
		const char *g = bluegreen_label(green, "HAPROXY_DEPLOYMENT_STARTED_AT");

		new_colour = !blue || (green && g && (!b || strcmp(g, b) > 0)) ? "green" : "blue";
	}
	*newer = strcmp(new_colour, "blue") ? green : blue;
	*old = strcmp(new_colour, "blue") ? blue : green;
	return 0;
}

/*
 * Continue a release whose colours are old and newer (both borrowed, may be
 * NULL): forward when the new colour runs healthy, else back. reverting:
 * the earlier run had decided to revert already.
 */
static void continue_pair(struct release *r, struct json_object *old, struct json_object *newer,
			  int reverting)
{
	struct pacer_error *e = NULL;
	int rc = 0, healthy = 0;

	r->new_exists = newer != NULL;
	r->old_exists = old != NULL;
	r->n_new = instances_of(newer);
	r->n_old = instances_of(old);
	r->old_target = old ? r->n_old : 0;
	if (old && bluegreen_label(old, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES"))
		r->old_target = atol(bluegreen_label(old, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES"));
	if (old && !(r->old_body = rollback_strip_server_fields(old)))
		rc = pacer_error_set(&e, PACER_EGENERIC, "out of memory");
	if (!rc && newer && !reverting) {
		rc = waiter_wait(r->ctx->waiter, r->new_id, "", WAITER_HEALTHY, r->timeout_s, NULL,
				 NULL, &e);
		healthy = rc == 0 && r->n_new > 0;
		if (rc == 0 && !healthy)
			rc = pacer_error_set(&e, PACER_EFAILED, "%s runs no task", r->new_id);
	}
	if (!rc && (!old || (!reverting && newer)))
		rc = forward(r, &e);
	else if (!rc && !newer)
		rc = 0; /* the new colour never started: nothing to finish */
	else if (!rc)
		rc = pacer_error_set(&e, PACER_EFAILED, "the release was being reverted");
	if (!rc && reverting)
		rc = pacer_error_set(&e, PACER_EFAILED, "the release was being reverted");
	settle(r, rc, e, SYNC_OUT_UPDATED);
}

void bluegreen_resume(const struct exec_ctx *ctx, const struct journal_entry *e,
		      struct sync_app_result *res, int *settled)
{
	struct release r;
	struct json_object *old = NULL, *newer = NULL;
	struct pacer_error *err = NULL;
	const char *nid = json_object_get_string(jsonutil_get(e->body, "id")), *colour = NULL;
	char base[ID_MAX];
	long long left = e->deadline - (long long)time(NULL);

	memset(&r, 0, sizeof(r));
	*settled = 1;
	res->resumed = 1;
	if (!nid || bluegreen_split_id(nid, base, sizeof(base), &colour) ||
	    release_init(&r, ctx, res, e->app_id, e->body, left < 1 ? 1 : (int)left, &err) ||
	    read_pair(ctx, e->app_id, colour, &old, &newer, &err)) {
		res->outcome = SYNC_OUT_UNKNOWN;
		pacer_error_wrap(&err, PACER_EUNKNOWN,
				 "app %s: the blue/green release an earlier run started cannot be "
				 "looked at now; the next run tries again",
				 e->app_id);
		set_error(res, err);
		return;
	}
	snprintf(r.new_id, sizeof(r.new_id), "%s", nid);
	snprintf(r.old_id, sizeof(r.old_id), "%s-%s", e->app_id, bluegreen_other(colour));
	memcpy(r.je.digest, e->digest, sizeof(r.je.digest));
	r.je.body = e->body;
	r.je.backup = e->backup;
	if (e->backup && !res->backup_path)
		res->backup_path = strdup(e->backup);
	if (!(r.new_body = rollback_strip_server_fields(e->body)))
		res->outcome = SYNC_OUT_UNKNOWN;
	else if (!newer && e->undo != JOURNAL_BLUEGREEN) {
		journal_clear(ctx->state, e->app_id, NULL); /* never started */
		*settled = 0;
	} else {
		PLOG_INFO("app=%s resuming the blue/green release an earlier run started (%s)",
			  e->app_id, e->undo == JOURNAL_BLUEGREEN ? "reverting" : "forward");
		continue_pair(&r, old, newer, e->undo == JOURNAL_BLUEGREEN);
	}
	json_object_put(old);
	json_object_put(newer);
	release_free(&r);
}

/*
 * A fresh release of item from the one colour that runs (old, borrowed),
 * or a first deploy when none does.
 */
static void release_from(struct release *r, const struct pacer_plan_item *item,
			 struct json_object *old, const char *old_colour)
{
	struct pacer_error *e = NULL;
	const char *colour = old ? bluegreen_other(old_colour) : "blue";
	char now[40];
	int rc;

	bluegreen_now(now);
	snprintf(r->new_id, sizeof(r->new_id), "%s-%s", r->base, colour);
	snprintf(r->old_id, sizeof(r->old_id), "%s-%s", r->base, bluegreen_other(colour));
	r->new_body = bluegreen_render(item->body, r->base, colour, r->target, now);
	r->old_body = old ? rollback_strip_server_fields(old) : NULL;
	r->old_exists = old != NULL;
	r->n_old = r->old_target = instances_of(old);
	converge_digest(item->body, r->je.digest);
	r->je.body = r->new_body;
	if (!r->new_body || (old && !r->old_body))
		rc = pacer_error_set(&e, PACER_EGENERIC, "out of memory preparing app %s", r->base);
	else if ((old && (rc = backup(r, r->old_id, old, &e))) ||
		 (rc = own(r, r->new_id, 1, &e))) {
		r->res->outcome = SYNC_OUT_FAILED;
		set_error(r->res, e);
		return;
	} else {
		r->je.backup = r->res->backup_path;
		if (!old)
			r->step = r->target; /* nothing to replace: one step */
		rc = forward(r, &e);
	}
	settle(r, rc, e, old ? SYNC_OUT_UPDATED : SYNC_OUT_CREATED);
}

void bluegreen_apply(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		     struct sync_app_result *res, int *changed)
{
	struct release r;
	struct json_object *old = NULL, *newer = NULL;
	struct pacer_error *e = NULL;
	double t0 = pacer_now_s();

	*changed = 0;
	if (release_init(&r, ctx, res, item->app_id, item->body, exec_timeout(ctx, item), &e) ||
	    read_pair(ctx, item->app_id, NULL, &old, &newer, &e)) {
		res->outcome = SYNC_OUT_FAILED;
		pacer_error_wrap(&e, e ? e->code : PACER_EGENERIC,
				 "app %s was not touched: its colours could not be read", item->app_id);
		set_error(res, e);
	} else if (old && newer) {
		/* Half-way without a journal entry: settle it; the next run releases. */
		snprintf(r.new_id, sizeof(r.new_id), "%s", json_object_get_string(jsonutil_get(newer, "id")));
		snprintf(r.old_id, sizeof(r.old_id), "%s", json_object_get_string(jsonutil_get(old, "id")));
		if (!(r.new_body = rollback_strip_server_fields(newer)))
			res->outcome = SYNC_OUT_UNKNOWN;
		else {
			r.je.body = r.new_body;
			continue_pair(&r, old, newer, 0);
		}
	} else {
		const char *colour = NULL, *inst = bluegreen_label(item->body, "pacer.instances");
		char base[ID_MAX];

		if (newer)
			bluegreen_split_id(json_object_get_string(jsonutil_get(newer, "id")), base,
					   sizeof(base), &colour);
		/* Instances owned by someone else (an autoscaler): the colour's stay. */
		if (newer && (ctx->opts->ignore_instances || (inst && !strcmp(inst, "unmanaged"))))
			r.target = instances_of(newer);
		release_from(&r, item, newer, colour);
	}
	*changed = r.changed;
	json_object_put(old);
	json_object_put(newer);
	release_free(&r);
	res->seconds = pacer_now_s() - t0;
	exec_emit(ctx, SYNC_EV_DONE, item->app_id, res->deployment_id,
		  res->error ? res->error->message : NULL, res->outcome, res->seconds);
}

int bluegreen_is_pair(struct pacer_marathon *m, const char *app_id)
{
	struct json_object *self = NULL, *blue = NULL, *green = NULL;
	struct pacer_error *e = NULL;
	int rc = m->get_app(m, app_id, &self, &e), pair;

	json_object_put(self);
	pacer_error_clear(&e);
	if (rc != PACER_ENOTFOUND || bluegreen_read_colours(m, app_id, &blue, &green, &e)) {
		pacer_error_free(e);
		return 0;
	}
	pair = blue || green;
	json_object_put(blue);
	json_object_put(green);
	return pair;
}

/* The backup to restore: named (of either colour of base), or the newest of `other`. */
static int restore_source(struct pacer_backup_store *backups, const char *base,
			  const char *other, const struct restore_options *opts,
			  struct restore_result *out, struct json_object **def,
			  struct pacer_error **err)
{
	struct pacer_backup_entry *v = NULL;
	struct json_object *colour = NULL;
	const char *app_of;
	size_t n = 0;
	int rc;

	if (opts->backup_path) {
		out->restored_from = strdup(opts->backup_path);
	} else {
		if ((rc = backups->list(backups, other, &v, &n, err)))
			return rc;
		if (n)
			out->restored_from = strdup(v[n - 1].path);
		pacer_backup_entries_free(v, n);
		if (!n)
			return pacer_error_set(err, PACER_ENOTFOUND,
					       "no backup of %s, the colour of %s that ran before: "
					       "there is no previous colour to go back to",
					       other, base);
	}
	if (!out->restored_from)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	if ((rc = backups->load(backups, out->restored_from, &colour, err)))
		return rc;
	app_of = bluegreen_label(colour, "HAPROXY_APP_ID");
	if (!app_of || strcmp(app_of, base) || !(*def = bluegreen_unrender(colour)))
		rc = pacer_error_set(err, PACER_EINVALID,
				     "%s is not a backup of a colour of the blue/green app %s",
				     out->restored_from, base);
	json_object_put(colour);
	return rc;
}

/* The release's row as restore_app() reports: 0 when it runs, else why not. */
static int restore_outcome(struct sync_app_result *res, struct restore_result *out,
			   struct pacer_error **err)
{
	if (res->backup_path)
		out->backup_path = strdup(res->backup_path);
	if (res->outcome == SYNC_OUT_UPDATED)
		return 0;
	if (err) {
		*err = res->error;
		res->error = NULL;
	}
	if (err && !*err)
		*err = pacer_error_new(PACER_EFAILED, "app %s: the rollback did not finish (%s)",
				       res->app_id, sync_outcome_name(res->outcome));
	return res->outcome == SYNC_OUT_UNKNOWN ? PACER_EUNKNOWN
	       : res->outcome == SYNC_OUT_INTERRUPTED ? PACER_ECANCELLED
						      : PACER_EFAILED;
}

int bluegreen_restore(struct pacer_marathon *m, struct pacer_backup_store *backups,
		      const char *app_id, const struct restore_options *opts,
		      struct restore_result *out, struct pacer_error **err)
{
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct sync_app_result res;
	struct pacer_plan_item item;
	struct json_object *cur = NULL, *gone = NULL, *def = NULL;
	struct exec_ctx ctx;
	const char *colour = NULL;
	char base[ID_MAX], other[ID_MAX];
	int rc, changed = 0;

	memset(&ctx, 0, sizeof(ctx));
	memset(&res, 0, sizeof(res));
	memset(&item, 0, sizeof(item));
	memset(out, 0, sizeof(*out));
	so.timeout_s = opts->timeout_s;
	ctx.m = m;
	ctx.opts = &so;
	ctx.backups = backups;
	ctx.state = opts->state;
	if ((rc = read_pair(&ctx, app_id, NULL, &gone, &cur, err)))
		return rc;
	if (!cur || bluegreen_split_id(json_object_get_string(jsonutil_get(cur, "id")), base,
				       sizeof(base), &colour)) {
		rc = pacer_error_set(err, PACER_ENOTFOUND, "no colour of %s runs", app_id);
		goto done;
	}
	snprintf(other, sizeof(other), "%s-%s", app_id, bluegreen_other(colour));
	if ((rc = restore_source(backups, app_id, other, opts, out, &def, err)) ||
	    (rc = waiter_new(m, opts->poll_ms, &ctx.waiter, err)))
		goto done;
	item.action = PACER_ACT_UPDATE;
	item.app_id = (char *)app_id;
	item.body = def;
	item.live = cur;
	item.timeout_s = opts->timeout_s;
	res.app_id = (char *)app_id;
	bluegreen_apply(&ctx, &item, &res, &changed);
	rc = restore_outcome(&res, out, err);
	res.app_id = NULL;
	sync_app_result_release(&res);
done:
	waiter_free(ctx.waiter);
	json_object_put(def);
	json_object_put(cur);
	json_object_put(gone);
	return rc;
}

/* Undo a first deploy: the colour it created goes (journalled as a revert). */
static int undo_create(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		       struct pacer_error **err)
{
	struct sync_app_result res;
	struct release r;
	char now[40];
	int rc;

	memset(&res, 0, sizeof(res));
	res.app_id = item->app_id;
	if ((rc = release_init(&r, ctx, &res, item->app_id, item->body, exec_timeout(ctx, item),
			       err)))
		return rc;
	bluegreen_now(now);
	snprintf(r.new_id, sizeof(r.new_id), "%s-blue", item->app_id);
	r.new_body = bluegreen_render(item->body, item->app_id, "blue", r.target, now);
	r.je.body = r.new_body;
	r.je.undo = JOURNAL_BLUEGREEN;
	r.new_exists = 1;
	if (!r.new_body)
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
	else if ((rc = remove_colour(&r, r.new_id, err)) == 0)
		journal_clear(ctx->state, item->app_id, NULL);
	res.app_id = NULL;
	sync_app_result_release(&res);
	release_free(&r);
	return rc;
}

int bluegreen_undo(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
		   struct json_object *previous, const char *backup, struct pacer_error **err)
{
	struct json_object *loaded = NULL, *def = NULL;
	struct sync_app_result res;
	struct pacer_plan_item it;
	int rc, changed = 0;

	if (item->action == PACER_ACT_CREATE)
		return undo_create(ctx, item, err);
	if (!previous && backup && ctx->backups &&
	    (rc = ctx->backups->load(ctx->backups, backup, &loaded, err)))
		return rc;
	if (!(def = bluegreen_unrender(previous ? previous : loaded))) {
		json_object_put(loaded);
		return pacer_error_set(err, PACER_EGENERIC,
				       "no previous colour of blue/green app %s to go back to",
				       item->app_id);
	}
	memset(&it, 0, sizeof(it));
	memset(&res, 0, sizeof(res));
	it.action = PACER_ACT_UPDATE;
	it.app_id = item->app_id;
	it.body = def;
	it.timeout_s = item->timeout_s;
	res.app_id = item->app_id;
	bluegreen_apply(ctx, &it, &res, &changed);
	rc = res.outcome == SYNC_OUT_UPDATED        ? 0
	     : res.outcome == SYNC_OUT_INTERRUPTED ? PACER_ECANCELLED
	     : res.outcome == SYNC_OUT_UNKNOWN     ? PACER_EUNKNOWN
						   : PACER_EFAILED;
	if (rc && err) {
		*err = res.error;
		res.error = NULL;
		if (!*err)
			pacer_error_set(err, rc, "app %s: going back to the previous colour ended %s",
					item->app_id, sync_outcome_name(res.outcome));
	}
	res.app_id = NULL;
	sync_app_result_release(&res);
	json_object_put(def);
	json_object_put(loaded);
	return rc;
}
