/*
 * resume.c: finish what the journal holds (contract in resume.h).
 *
 * Recovery is ordinary code that runs at the start of every run, not a
 * rare path: an empty journal costs one directory listing. Each entry is
 * turned back into the plan item it came from (action, id, the submitted
 * body, the definition before the change read from its backup, the time
 * left until its original deadline) and handed to the same apply code
 * that the interrupted run was executing, so a resumed change is judged,
 * rolled back and held exactly as an uninterrupted one.
 */
#include "reconcile/resume.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/log.h"
#include "reconcile/bluegreen_run.h"
#include "reconcile/converge.h"
#include "reconcile/held.h"
#include "reconcile/suspend.h"

struct job {
	const struct exec_ctx *ctx;
	struct journal_entry *e;
	struct sync_app_result *res;
	struct pacer_plan_item *item; /* the change as a plan item, kept for --atomic */
	int settled; /* res holds a row to report */
	int started; /* thread created, to be joined */
	pthread_t thread;
};

/* The definition the entry's backup holds (the app before the change), or NULL. */
static struct json_object *load_previous(const struct exec_ctx *ctx, const char *backup)
{
	struct json_object *def = NULL;
	struct pacer_error *e = NULL;

	if (!backup || !ctx->backups)
		return NULL;
	if (ctx->backups->load(ctx->backups, backup, &def, &e)) {
		PLOG_WARN("cannot read the backup %s named by the journal: %s", backup,
			  e ? e->message : "?");
		pacer_error_free(e);
		return NULL;
	}
	return def;
}

static enum pacer_action plan_action(enum journal_action a)
{
	return a == JOURNAL_CREATE ? PACER_ACT_CREATE
	       : a == JOURNAL_PRUNE ? PACER_ACT_PRUNE
				    : PACER_ACT_UPDATE;
}

/* Seconds left of the entry's original deadline; at least 1 (one look). */
static int time_left(const struct journal_entry *e)
{
	long long left = e->deadline - (long long)time(NULL);

	return left < 1 ? 1 : (int)(left > 86400 ? 86400 : left);
}

/* An undo that did not finish: do it again, then hold the change. */
static void redo_undo(struct job *j, struct pacer_plan_item *it)
{
	struct pacer_error *e = NULL;
	char *dep = NULL;
	int rc;

	it->action = plan_action(j->e->undo);
	it->live = j->e->body;
	PLOG_INFO("app=%s commit=%s resuming the rollback an earlier run started", it->app_id,
		  j->e->commit ? j->e->commit : "-");
	rc = apply_undo(j->ctx, it, NULL, j->e->body, j->e->backup, j->e->digest, &dep, &e);
	j->res->deployment_id = dep;
	if (rc == PACER_ECANCELLED || rc == PACER_EUNKNOWN || rc == PACER_EUNREACHABLE) {
		j->res->outcome = rc == PACER_ECANCELLED ? SYNC_OUT_INTERRUPTED : SYNC_OUT_UNKNOWN;
	} else {
		j->res->outcome = rc ? SYNC_OUT_ROLLBACK_FAILED : SYNC_OUT_ROLLED_BACK;
		if (!rc)
			pacer_error_set(&e, PACER_EFAILED,
					"app %s: the change an earlier run made failed and was "
					"rolled back (finished by this run)",
					it->app_id);
		if (j->e->digest[0] && it->action != PACER_ACT_PRUNE)
			held_put(j->ctx->held, it->app_id, j->e->digest, j->e->commit,
				 j->res->outcome, e ? e->message : NULL, NULL);
	}
	j->res->error = e;
	j->settled = 1;
	it->live = NULL;
}

/*
 * A change intended but not applied, for an app the plan will not touch
 * because it is suspended (`pacer rollback` suspends before restoring): no
 * later run would do it, so it is done now, as the operator asked. 0 when
 * submitted (dep gets its deployment).
 */
static int resubmit(struct job *j, struct pacer_plan_item *it, char *dep, size_t len)
{
	struct pacer_deploy_ref ref;
	struct pacer_error *e = NULL;
	int rc;

	if (!it->body || !suspend_find(j->ctx->suspend, it->app_id) ||
	    (it->action != PACER_ACT_UPDATE && it->action != PACER_ACT_CREATE))
		return -1;
	PLOG_INFO("app=%s finishing the %s an earlier process intended (the app is suspended: "
		  "no sync would)",
		  it->app_id, journal_action_name(j->e->action));
	rc = j->ctx->m->put_app(j->ctx->m, it->app_id, it->body, PACER_MF_FORCE, &ref, &e);
	pacer_error_free(e);
	if (rc)
		return rc;
	snprintf(dep, len, "%s", ref.deployment_id);
	return 0;
}

/* A create/update/prune: wait for it, or read it back first. */
static void resume_change(struct job *j, struct pacer_plan_item *it)
{
	struct pacer_error *e = NULL;
	struct json_object *app = NULL;
	const char *dep = j->e->deployment;
	char first[64] = "";
	int rc, applied = 0;

	it->action = plan_action(j->e->action);
	if (j->e->phase != JOURNAL_SUBMITTED) {
		/* Maybe sent, maybe applied: Marathon says. */
		rc = j->ctx->m->get_app(j->ctx->m, it->app_id, &app, &e);
		if (rc == PACER_ENOTFOUND) {
			applied = it->action == PACER_ACT_PRUNE;
			pacer_error_clear(&e);
		} else if (rc) {
			j->res->outcome = SYNC_OUT_UNKNOWN;
			pacer_error_wrap(&e, PACER_EUNKNOWN,
					 "app %s: an earlier run's %s has an unknown outcome and the "
					 "app cannot be read back now; the next run tries again",
					 it->app_id, journal_action_name(j->e->action));
			j->res->error = e;
			j->settled = 1;
			return;
		} else {
			const char *d = json_object_get_string(json_object_object_get(
				json_object_array_get_idx(json_object_object_get(app, "deployments"),
							  0),
				"id"));

			snprintf(first, sizeof(first), "%s", d ? d : "");
			if (it->action == PACER_ACT_PRUNE)
				applied = first[0] != '\0';
			else if (it->body && converge_matches(it->body, app, j->ctx->opts->ignore_instances, &applied,
						       &e))
				pacer_error_clear(&e);
		}
		json_object_put(app);
		if (!applied && resubmit(j, it, first, sizeof(first)) == 0)
			applied = 1;
		if (!applied) {
			/* It never took effect: nothing to finish, the plan decides. */
			PLOG_INFO("app=%s the %s an earlier run intended did not take effect",
				  it->app_id, journal_action_name(j->e->action));
			journal_clear(j->ctx->state, it->app_id, NULL);
			return;
		}
		dep = first;
	}
	it->live = load_previous(j->ctx, j->e->backup);
	it->timeout_s = time_left(j->e);
	PLOG_INFO("app=%s deployment=%s commit=%s resuming the %s an earlier run started "
		  "(%d s left of its deadline)",
		  it->app_id, dep && *dep ? dep : "-", j->e->commit ? j->e->commit : "-",
		  journal_action_name(j->e->action), it->timeout_s);
	apply_continue(j->ctx, it, j->e, dep ? dep : "", j->res);
	/*
	 * Only the deployment in flight is bound by the earlier deadline: an
	 * undo this run submits later (--atomic) is a deployment of its own,
	 * with the change's whole timeout.
	 */
	it->timeout_s = j->e->timeout_s > 0 ? j->e->timeout_s : 0;
	j->settled = 1; /* it->live stays: an --atomic run may have to restore it */
}

/*
 * An operator's action an earlier process started (pacer restart, scale,
 * cancel, delete): wait for the app's deployment until the original
 * deadline and report how it ended; nothing is undone.
 */
static void resume_operator(struct job *j)
{
	struct json_object *app = NULL;
	struct pacer_error *e = NULL;
	const char *dep = NULL;
	int rc = j->ctx->m->get_app(j->ctx->m, j->e->app_id, &app, &e);

	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(&e);
		journal_clear(j->ctx->state, j->e->app_id, NULL);
		return; /* a delete that finished, or an app gone: nothing to wait for */
	}
	if (!rc)
		dep = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(json_object_object_get(app, "deployments"), 0),
			"id"));
	if (!rc && dep)
		rc = waiter_wait(j->ctx->waiter, j->e->app_id, dep, WAITER_HEALTHY, time_left(j->e),
				 NULL, NULL, &e);
	json_object_put(app);
	if (rc == PACER_ECANCELLED || rc == PACER_EUNREACHABLE) {
		j->res->outcome = rc == PACER_ECANCELLED ? SYNC_OUT_INTERRUPTED : SYNC_OUT_UNKNOWN;
		j->res->error = e;
		j->settled = 1;
		return;
	}
	journal_clear(j->ctx->state, j->e->app_id, NULL);
	if (!rc) {
		pacer_error_free(e);
		return; /* finished well: nothing to report */
	}
	j->res->outcome = SYNC_OUT_FAILED;
	pacer_error_wrap(&e, PACER_EFAILED,
			 "app %s: an operator's action an earlier process started did not "
			 "finish healthy",
			 j->e->app_id);
	j->res->error = e;
	j->settled = 1;
}

static void *job_main(void *p)
{
	struct job *j = p;
	struct pacer_plan_item *itp = j->item;

	itp->app_id = j->e->app_id;
	itp->body = j->e->body;
	j->res->app_id = strdup(j->e->app_id);
	j->res->tasks_healthy = j->res->tasks_running = j->res->instances = -1;
	j->res->action = plan_action(j->e->action == JOURNAL_UNDO ? j->e->undo : j->e->action);
	j->res->resumed = 1;
	switch (j->e->action) {
	case JOURNAL_UNDO:
		redo_undo(j, itp);
		break;
	case JOURNAL_OPERATOR:
		resume_operator(j);
		break;
	case JOURNAL_BLUEGREEN:
		bluegreen_resume(j->ctx, j->e, j->res, &j->settled);
		break;
	case JOURNAL_RESTART:
		/* The change failed and was restarted: only the hold may be missing. */
		if (j->e->digest[0])
			held_put(j->ctx->held, itp->app_id, j->e->digest, j->e->commit, SYNC_OUT_RESTARTED,
				 "the change failed and the app was restarted (--on-failure "
				 "restart)",
				 NULL);
		journal_clear(j->ctx->state, itp->app_id, NULL);
		j->res->outcome = SYNC_OUT_RESTARTED;
		j->res->error = pacer_error_new(PACER_EFAILED,
						"app %s did not converge and was restarted by an "
						"earlier run",
						itp->app_id);
		j->settled = 1;
		break;
	default:
		resume_change(j, itp);
		break;
	}
	return NULL;
}

/*
 * Whether a newer definition of the entry's app is desired now: the entry
 * is then superseded, not waited for (newest commit wins).
 */
static int superseded(const struct exec_ctx *ctx, struct pacer_desired *desired,
		      const struct journal_entry *e, int ignore_instances)
{
	struct pacer_desired_app *d;
	struct pacer_error *err = NULL;
	int equal = 1;

	/* A suspended app is not the source's to supersede (pacer rollback). */
	if ((e->action != JOURNAL_CREATE && e->action != JOURNAL_UPDATE) || !e->body ||
	    suspend_find(ctx->suspend, e->app_id))
		return 0;
	d = (struct pacer_desired_app *)desired_find(desired, e->app_id);
	if (!d || desired_app_def(d, &err) || converge_matches(d->def, e->body, ignore_instances, &equal, &err)) {
		pacer_error_free(err);
		return 0;
	}
	return !equal;
}

static int add_inherit(const struct exec_ctx *ctx, struct resume_result *out,
		       const struct journal_entry *e)
{
	struct exec_inherit *in = &out->inherit[out->ninherit++];

	in->app_id = e->app_id;
	in->backup = e->backup;
	in->previous = load_previous(ctx, e->backup);
	PLOG_INFO("app=%s commit=%s an earlier run's unfinished %s is superseded by this run's "
		  "definition",
		  e->app_id, e->commit ? e->commit : "-", journal_action_name(e->action));
	return 0;
}

/* Run jobs [0, n) at most `limit` at a time. */
static void run_jobs(struct job *jobs, size_t n, int limit)
{
	size_t at = 0;

	if (limit <= 0)
		limit = 64;
	while (at < n) {
		size_t end = at + (size_t)limit < n ? at + (size_t)limit : n;

		for (size_t i = at; i < end; i++) {
			if (pthread_create(&jobs[i].thread, NULL, job_main, &jobs[i]))
				job_main(&jobs[i]); /* no thread: do it here */
			else
				jobs[i].started = 1;
		}
		for (size_t i = at; i < end; i++)
			if (jobs[i].started)
				pthread_join(jobs[i].thread, NULL);
		at = end;
	}
}

int resume_run(const struct exec_ctx *ctx, struct pacer_desired *desired,
	       struct resume_result *out, struct pacer_error **err)
{
	struct job *jobs = NULL;
	size_t njobs = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = journal_load(ctx->state, &out->entries, &out->nentries, err)) ||
	    !out->nentries)
		return rc;
	PLOG_INFO("journal: %zu change%s an earlier run left unfinished", out->nentries,
		  out->nentries == 1 ? "" : "s");
	out->inherit = calloc(out->nentries, sizeof(*out->inherit));
	out->apps = calloc(out->nentries, sizeof(*out->apps));
	out->items = calloc(out->nentries, sizeof(*out->items));
	jobs = calloc(out->nentries, sizeof(*jobs));
	if (!out->inherit || !out->apps || !out->items || !jobs) {
		free(jobs);
		return pacer_error_set(err, PACER_EGENERIC, "out of memory reading the journal");
	}
	for (size_t i = 0; i < out->nentries; i++) {
		struct journal_entry *e = &out->entries[i];

		if (superseded(ctx, desired, e, ctx->opts->ignore_instances)) {
			add_inherit(ctx, out, e);
			continue;
		}
		jobs[njobs].ctx = ctx;
		jobs[njobs].e = e;
		jobs[njobs].res = &out->apps[njobs];
		jobs[njobs].item = &out->items[njobs];
		njobs++;
	}
	run_jobs(jobs, njobs, ctx->opts->parallel);
	/* Keep the rows of settled entries, in entry (app id) order. */
	for (size_t i = 0; i < njobs; i++) {
		if (jobs[i].settled) {
			if (out->napps != i) {
				out->apps[out->napps] = out->apps[i];
				out->items[out->napps] = out->items[i];
				memset(&out->items[i], 0, sizeof(out->items[i]));
			}
			out->napps++;
		} else {
			sync_app_result_release(&out->apps[i]);
			json_object_put(out->items[i].live);
			memset(&out->items[i], 0, sizeof(out->items[i]));
		}
	}
	free(jobs);
	return 0;
}

void resume_release(struct resume_result *r)
{
	for (size_t i = 0; i < r->napps; i++)
		sync_app_result_release(&r->apps[i]);
	free(r->apps);
	for (size_t i = 0; r->items && i < r->nentries; i++)
		json_object_put(r->items[i].live);
	free(r->items);
	for (size_t i = 0; i < r->ninherit; i++)
		json_object_put(r->inherit[i].previous);
	free(r->inherit);
	journal_entries_free(r->entries, r->nentries);
	memset(r, 0, sizeof(*r));
}
