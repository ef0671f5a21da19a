/*
 * sync.c: one whole run. Loads, plans, guards, then schedules the applies
 * (reconcile/apply.c) on worker threads, at most opts->parallel at a time
 * and in dependency order, and finally undoes the run when --atomic and
 * something failed.
 *
 * Scheduling is one loop on the calling thread under one mutex: it starts
 * every item whose dependencies converged while there is a free slot, and
 * sleeps on a condition variable that each worker signals when it ends.
 * Prunes start only after every create/update ended, so an app is never
 * deleted while something it serves is still being deployed.
 */
#include "reconcile/sync.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/apply.h"
#include "reconcile/cache.h"
#include "reconcile/live.h"
#include "reconcile/log.h"
#include "reconcile/rollback.h"
#include "reconcile/wait.h"

/* Upper bound on worker threads when parallel is 0 ("unbounded"). */
#define SYNC_MAX_THREADS 256

enum item_state { ITEM_PENDING = 0, ITEM_RUNNING, ITEM_DONE };

struct run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct apply_ctx ctx;
	const struct pacer_plan *plan;
	struct sync_app_result *res;
	enum item_state *st;
	int *changed;
	pthread_t *threads;
	int *started;          /* thread created, must be joined */
	size_t *order;         /* items that changed Marathon, in completion order */
	size_t norder;
	int inflight;
	volatile sig_atomic_t unreachable;
};

struct worker_arg {
	struct run *run;
	size_t idx;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *p)
{
	struct worker_arg *a = p;
	struct run *run = a->run;
	size_t i = a->idx;
	int changed = 0;

	free(a);
	apply_item(&run->ctx, &run->plan->items[i], &run->res[i], &changed);
	pthread_mutex_lock(&run->mu);
	run->st[i] = ITEM_DONE;
	run->changed[i] = changed;
	if (changed)
		run->order[run->norder++] = i;
	run->inflight--;
	pthread_cond_signal(&run->cv);
	pthread_mutex_unlock(&run->mu);
	return NULL;
}

static long find_item(const struct pacer_plan *plan, const char *id)
{
	for (size_t i = 0; i < plan->n; i++)
		if (!strcmp(plan->items[i].app_id, id))
			return (long)i;
	return -1;
}

static void skip(struct run *run, size_t i, struct pacer_error *e)
{
	if (e && !e->app_id)
		pacer_error_set_app(e, run->plan->items[i].app_id);
	run->res[i].outcome = SYNC_OUT_SKIPPED;
	run->res[i].error = e;
	run->st[i] = ITEM_DONE;
	apply_emit(&run->ctx, SYNC_EV_DONE, run->plan->items[i].app_id, NULL,
		   e ? e->message : NULL, SYNC_OUT_SKIPPED, 0);
}

/*
 * 1 = may start, 0 = not yet, -1 = skipped (already marked). Called with
 * the lock held.
 */
static int item_ready(struct run *run, size_t i, int others_pending)
{
	const struct pacer_plan_item *it = &run->plan->items[i];
	int abandoned = run->ctx.opts->abandon && *run->ctx.opts->abandon;
	int stop = (run->ctx.opts->stop && *run->ctx.opts->stop) || run->unreachable || abandoned;

	if (stop) {
		skip(run, i,
		     pacer_error_new(PACER_ECANCELLED,
				     "app %s was not started: %s; run the sync again to apply it",
				     it->app_id,
				     run->unreachable ? "Marathon became unreachable during the run"
				     : abandoned      ? "a newer sync superseded this one"
						      : "the run was stopped by a signal"));
		return -1;
	}
	if (it->action == PACER_ACT_PRUNE) {
		/* Prunes come last, and not at all in an atomic run that failed. */
		if (others_pending)
			return 0;
		if (run->ctx.opts->atomic) {
			for (size_t j = 0; j < run->plan->n; j++) {
				if (run->st[j] == ITEM_DONE && !apply_outcome_ok(run->res[j].outcome)) {
					skip(run, i,
					     pacer_error_new(PACER_ECANCELLED,
							     "app %s was not pruned: app %s failed and "
							     "the run is --atomic",
							     it->app_id, run->plan->items[j].app_id));
					return -1;
				}
			}
		}
		return 1;
	}
	for (size_t d = 0; d < it->ndeps; d++) {
		long j = find_item(run->plan, it->depends_on[d]);

		if (j < 0 || (size_t)j == i)
			continue; /* not part of this run: nothing to wait for */
		if (run->st[j] != ITEM_DONE)
			return 0;
		if (!apply_outcome_ok(run->res[j].outcome)) {
			skip(run, i,
			     pacer_error_new(PACER_EFAILED,
					     "app %s was not started: it depends on app %s, which "
					     "did not converge (%s)",
					     it->app_id, it->depends_on[d],
					     sync_outcome_name(run->res[j].outcome)));
			return -1;
		}
	}
	return 1;
}

static int start_worker(struct run *run, size_t i)
{
	struct worker_arg *a = malloc(sizeof(*a));

	if (!a)
		return -1;
	a->run = run;
	a->idx = i;
	run->st[i] = ITEM_RUNNING;
	run->inflight++;
	if (pthread_create(&run->threads[i], NULL, worker_main, a)) {
		free(a);
		run->st[i] = ITEM_PENDING;
		run->inflight--;
		return -1;
	}
	run->started[i] = 1;
	return 0;
}

/* Run every changed item; returns when all are DONE. */
static void schedule(struct run *run)
{
	int limit = run->ctx.opts->parallel > 0 ? run->ctx.opts->parallel : SYNC_MAX_THREADS;

	pthread_mutex_lock(&run->mu);
	for (;;) {
		int active = 0, others_pending = 0, progressed = 0;

		for (size_t i = 0; i < run->plan->n; i++)
			if (run->st[i] != ITEM_DONE && run->plan->items[i].action != PACER_ACT_PRUNE)
				others_pending = 1;
		for (size_t i = 0; i < run->plan->n; i++) {
			int r;

			if (run->st[i] != ITEM_PENDING)
				continue;
			r = item_ready(run, i, others_pending);
			if (r < 0) {
				progressed = 1;
				continue;
			}
			if (r == 0 || run->inflight >= limit)
				continue;
			if (start_worker(run, i)) {
				if (run->inflight > 0)
					continue; /* retry when a slot frees */
				run->res[i].outcome = SYNC_OUT_FAILED;
				run->res[i].error = pacer_error_new(
					PACER_EGENERIC, "app %s was not started: cannot create a thread: %s",
					run->plan->items[i].app_id, strerror(errno));
				pacer_error_set_app(run->res[i].error, run->plan->items[i].app_id);
				run->st[i] = ITEM_DONE;
				progressed = 1;
			}
		}
		for (size_t i = 0; i < run->plan->n; i++)
			if (run->st[i] != ITEM_DONE)
				active = 1;
		if (!active)
			break;
		if (progressed)
			continue; /* a skip may unblock or skip others */
		pthread_cond_wait(&run->cv, &run->mu);
	}
	pthread_mutex_unlock(&run->mu);
	for (size_t i = 0; i < run->plan->n; i++)
		if (run->started[i])
			pthread_join(run->threads[i], NULL);
}

/* --atomic: undo every change of the run, newest first. */
static void undo_run(struct run *run, const char *failed_app)
{
	for (size_t k = run->norder; k-- > 0;) {
		size_t i = run->order[k];
		const struct pacer_plan_item *it = &run->plan->items[i];
		struct sync_app_result *res = &run->res[i];
		struct pacer_error *e = NULL;
		char *dep = NULL;
		int rc, timeout = apply_timeout(&run->ctx, it);
		double t0 = now_s();

		if (res->outcome == SYNC_OUT_ROLLED_BACK)
			continue; /* its own failure already undid it */
		apply_emit(&run->ctx, SYNC_EV_ROLLBACK, it->app_id, NULL,
			   "--atomic: another app failed", res->outcome, 0);
		if (it->action == PACER_ACT_CREATE)
			rc = rollback_create(&run->ctx, it->app_id, timeout, &dep, &e);
		else if (it->action == PACER_ACT_PRUNE)
			rc = rollback_prune(&run->ctx, it->app_id, it->live, timeout, &dep, &e);
		else
			rc = rollback_update(&run->ctx, it->app_id, NULL, it->live, timeout, &dep, &e);
		if (rc == 0) {
			pacer_error_free(e);
			e = NULL;
			if (!res->error)
				pacer_error_set(&e, PACER_EFAILED,
						"app %s was rolled back because app %s failed and the "
						"run is --atomic",
						it->app_id, failed_app);
			else {
				e = res->error;
				pacer_error_wrap(&e, PACER_EFAILED,
						 "app %s was rolled back (--atomic)", it->app_id);
			}
			res->error = e;
			res->outcome = SYNC_OUT_ROLLED_BACK;
		} else {
			char *why = pacer_error_format(e);
			struct pacer_error *outer = res->error;

			pacer_error_free(e);
			pacer_error_wrap(&outer, PACER_EFAILED,
					 "app %s could not be rolled back after app %s failed in this "
					 "--atomic run (%s); restore it with 'pacer rollback %s'",
					 it->app_id, failed_app, why ? why : "unknown error", it->app_id);
			free(why);
			res->error = outer;
			res->outcome = SYNC_OUT_ROLLBACK_FAILED;
		}
		if (res->error && !res->error->app_id)
			pacer_error_set_app(res->error, it->app_id);
		if (dep) {
			free(res->deployment_id);
			res->deployment_id = dep;
		}
		res->seconds += now_s() - t0;
		apply_emit(&run->ctx, SYNC_EV_DONE, it->app_id, res->deployment_id,
			   res->error ? res->error->message : NULL, res->outcome, now_s() - t0);
	}
}

static int count_strv(char **v)
{
	int n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void run_release(struct run *run)
{
	free(run->st);
	free(run->changed);
	free(run->threads);
	free(run->started);
	free(run->order);
	pthread_mutex_destroy(&run->mu);
	pthread_cond_destroy(&run->cv);
}

/* The run-to-run cache, when the state store keeps one; NULL otherwise. */
static struct pacer_cache *cache_open(struct pacer_state_store *state,
				      const struct sync_options *opts)
{
	struct pacer_error *e = NULL;
	struct pacer_cache *c;
	char *data = NULL;
	size_t len = 0;

	if (!opts->cache_tag || !state || !state->load_cache || !state->save_cache)
		return NULL;
	if (!(c = cache_new()))
		return NULL;
	if (state->load_cache(state, &data, &len, &e)) {
		PLOG_WARN("cannot read the cache, so every file is parsed again: %s",
			  e ? e->message : "?");
		pacer_error_free(e);
	} else if (data && cache_load(c, opts->cache_tag, data, len)) {
		cache_free(c);
		c = NULL;
	}
	free(data);
	return c;
}

/* Write what this run learnt back; a failure costs only speed. */
static void cache_close(struct pacer_cache *c, struct pacer_state_store *state,
			const struct sync_options *opts)
{
	struct pacer_error *e = NULL;
	size_t hits, misses, len;
	char *data = NULL;

	if (!c)
		return;
	cache_stats(c, &hits, &misses);
	PLOG_DEBUG("cache: %zu hits, %zu misses", hits, misses);
	if (cache_dump(c, opts->cache_tag, &data, &len) == 0 &&
	    state->save_cache(state, data, len, &e)) {
		PLOG_WARN("cannot write the cache (the next run parses every file again): %s",
			  e ? e->message : "?");
		pacer_error_free(e);
	}
	free(data);
}

int sync_run(struct pacer_source *src, struct pacer_marathon *m,
	     struct pacer_backup_store *backups, struct pacer_state_store *state,
	     const struct sync_options *opts_in, struct sync_result **out, struct pacer_error **err)
{
	static const struct sync_options defaults = SYNC_OPTIONS_INIT;
	struct desired_options dopts = DESIRED_OPTIONS_INIT;
	struct plan_options popts = PLAN_OPTIONS_INIT;
	const struct sync_options *opts = opts_in ? opts_in : &defaults;
	struct sync_result *r = NULL;
	struct pacer_cache *cache = NULL;
	struct live_set live;
	struct waiter *waiter = NULL;
	char **owned = NULL;
	const char *failed_app = NULL;
	struct run run;
	int rc = 0, nowned = 0, run_init = 0;
	double t0 = now_s();

	*out = NULL;
	memset(&run, 0, sizeof(run));
	memset(&live, 0, sizeof(live));
	if (opts->version != SYNC_OPTIONS_VERSION)
		return pacer_error_set(err, PACER_EINVALID,
				       "sync options version %u is not supported (expected %u)",
				       opts->version, SYNC_OPTIONS_VERSION);
	r = calloc(1, sizeof(*r));
	if (!r)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	*out = r;

	/* 1. Desired state; any error stops the run before anything is read. */
	cache = cache_open(state, opts);
	dopts.flags = opts->flags;
	dopts.cache = cache;
	rc = desired_load(src, &dopts, &r->desired, err);
	if (rc) {
		pacer_error_wrap(err, rc, "cannot read the desired state from %s; nothing was applied",
				 src->describe ? src->describe(src) : "the source");
		goto done;
	}
	if (r->desired->revision)
		r->revision = strdup(r->desired->revision);
	else if (src->revision && src->revision(src))
		r->revision = strdup(src->revision(src));
	if (r->desired->nerrors > 0) {
		rc = pacer_error_set(err, PACER_EINVALID,
				     "the desired state in %s has %zu error%s; nothing was applied: fix "
				     "every file listed and run again",
				     src->describe ? src->describe(src) : "the source",
				     r->desired->nerrors, r->desired->nerrors == 1 ? "" : "s");
		goto done;
	}
	if (opts->prune && !state) {
		rc = pacer_error_set(err, PACER_EINVALID,
				     "--prune needs a state directory (pacer prunes only apps it "
				     "owns); pass --state-dir; nothing was applied");
		goto done;
	}
	if (opts->prune && r->desired->napps == 0) {
		rc = pacer_error_set(err, PACER_EINVALID,
				     "refusing to --prune: the source %s holds no apps, which would "
				     "delete every app pacer owns; nothing was applied. Check the "
				     "source path",
				     src->describe ? src->describe(src) : "");
		goto done;
	}

	/* 2. Which apps pacer owns, so that the live list keeps prune candidates. */
	if (opts->prune) {
		rc = state->load_owned(state, &owned, err);
		if (rc) {
			pacer_error_wrap(err, rc,
					 "cannot read which apps pacer owns; nothing was applied");
			goto done;
		}
		nowned = count_strv(owned);
		popts.owned = (const char *const *)owned;
		popts.nowned = (size_t)nowned;
	}
	popts.ignore_instances = opts->ignore_instances;

	/* 3. One GET /v2/apps, each app compared as it arrives. */
	rc = live_read(m, r->desired, &popts, cache, &live, err);
	if (rc) {
		/* An app that cannot be compared names its file; the rest is Marathon's. */
		pacer_error_wrap(err, rc,
				 err && *err && (*err)->file
					 ? "cannot plan the sync; nothing was applied"
					 : "cannot read the live apps from Marathon; nothing was applied");
		goto done;
	}
	PLOG_DEBUG("live apps: %zu listed, %zu parsed, %zu known equal", live.nlive, live.nparsed,
		   live.nunchanged);

	/* 4. Plan. */
	popts.unchanged = (const char *const *)live.unchanged;
	popts.nunchanged = live.nunchanged;
	rc = plan_build(r->desired, live.kept, &popts, &r->plan, err);
	live_release(&live);
	cache_close(cache, state, opts);
	if (rc) {
		pacer_error_wrap(err, rc, "cannot plan the sync; nothing was applied");
		goto done;
	}
	if (opts->prune && r->plan->nprune > 0 && !opts->force_prune &&
	    r->plan->nprune * 2 > (size_t)nowned) {
		rc = pacer_error_set(err, PACER_EINVALID,
				     "refusing to prune %zu of the %d apps pacer owns (more than "
				     "half); nothing was applied. If this is intended, pass "
				     "--force-prune",
				     r->plan->nprune, nowned);
		goto done;
	}

	/* 5. Results in plan order. */
	r->napps = r->plan->n;
	r->apps = calloc(r->napps ? r->napps : 1, sizeof(*r->apps));
	if (!r->apps) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < r->napps; i++) {
		const struct pacer_plan_item *it = &r->plan->items[i];

		r->apps[i].app_id = strdup(it->app_id);
		r->apps[i].action = it->action;
		r->apps[i].outcome = it->action == PACER_ACT_UNCHANGED ? SYNC_OUT_UNCHANGED
				      : opts->dry_run                  ? SYNC_OUT_PLANNED
								       : SYNC_OUT_SKIPPED;
		if (!r->apps[i].app_id) {
			rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
			goto done;
		}
	}
	if (opts->dry_run || r->plan->ncreate + r->plan->nupdate + r->plan->nprune == 0)
		goto tally;
	if (!backups && r->plan->nupdate + r->plan->nprune > 0) {
		rc = pacer_error_set(err, PACER_EINVALID,
				     "no backup store: pacer never changes an app it cannot back up "
				     "first; pass --backup-dir");
		goto done;
	}

	/* 6. Apply. */
	rc = waiter_new(m, opts->poll_ms, &waiter, err);
	if (rc)
		goto done;
	waiter_set_abandon(waiter, opts->abandon);
	pthread_mutex_init(&run.mu, NULL);
	pthread_cond_init(&run.cv, NULL);
	run_init = 1;
	run.plan = r->plan;
	run.res = r->apps;
	run.ctx.m = m;
	run.ctx.backups = backups;
	run.ctx.state = state;
	run.ctx.waiter = waiter;
	run.ctx.opts = opts;
	run.ctx.revision = r->revision;
	run.ctx.unreachable = &run.unreachable;
	run.st = calloc(r->napps, sizeof(*run.st));
	run.changed = calloc(r->napps, sizeof(*run.changed));
	run.threads = calloc(r->napps, sizeof(*run.threads));
	run.started = calloc(r->napps, sizeof(*run.started));
	run.order = calloc(r->napps, sizeof(*run.order));
	if (!run.st || !run.changed || !run.threads || !run.started || !run.order) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < r->napps; i++)
		if (r->plan->items[i].action == PACER_ACT_UNCHANGED)
			run.st[i] = ITEM_DONE;
	PLOG_INFO("commit=%s sync starting: %zu to create, %zu to update, %zu to prune, "
		  "%zu unchanged",
		  r->revision ? r->revision : "-", r->plan->ncreate, r->plan->nupdate,
		  r->plan->nprune, r->plan->nunchanged);
	schedule(&run);

	/* 7. --atomic: all or nothing. */
	for (size_t i = 0; i < r->napps; i++) {
		if (!apply_outcome_ok(r->apps[i].outcome)) {
			failed_app = r->apps[i].app_id;
			break;
		}
	}
	if (opts->atomic && failed_app && run.norder > 0 && !(opts->abandon && *opts->abandon))
		undo_run(&run, failed_app);

tally:
	for (size_t i = 0; i < r->napps; i++) {
		switch (r->apps[i].outcome) {
		case SYNC_OUT_FAILED:
		case SYNC_OUT_ROLLED_BACK:
		case SYNC_OUT_RESTARTED:
		case SYNC_OUT_ROLLBACK_FAILED:
		case SYNC_OUT_SKIPPED:
			r->nfailed++;
			break;
		default:
			break;
		}
	}
	r->converged = r->nfailed == 0;
	if (r->converged && !opts->dry_run && state && r->revision) {
		struct pacer_error *serr = NULL;

		if (state->save_last_revision(state, r->revision, &serr)) {
			PLOG_WARN("commit=%s could not record the last applied revision: %s",
				  r->revision, serr ? serr->message : "?");
			pacer_error_free(serr);
		}
	}
	rc = 0;
done:
	if (r)
		r->seconds = now_s() - t0;
	if (r && r->plan && !opts->dry_run && rc == 0)
		PLOG_INFO("commit=%s sync finished: %s, %zu app%s failed, %.1fs",
			  r->revision ? r->revision : "-",
			  r->converged ? "converged" : "not converged", r->nfailed,
			  r->nfailed == 1 ? "" : "s", r->seconds);
	waiter_free(waiter);
	if (run_init)
		run_release(&run);
	live_release(&live);
	cache_free(cache);
	pacer_strv_free(owned);
	return rc;
}

void sync_result_free(struct sync_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->napps; i++) {
		free(r->apps[i].app_id);
		free(r->apps[i].deployment_id);
		free(r->apps[i].backup_path);
		pacer_error_free(r->apps[i].error);
	}
	free(r->apps);
	if (r->desired)
		desired_free(r->desired);
	if (r->plan)
		plan_free(r->plan);
	free(r->revision);
	free(r);
}
