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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/apply.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/crash.h"
#include "reconcile/base/log.h"
#include "reconcile/bluegreen.h"
#include "reconcile/cache.h"
#include "reconcile/cluster.h"
#include "reconcile/converge.h"
#include "reconcile/held.h"
#include "reconcile/history.h"
#include "reconcile/live.h"
#include "reconcile/resume.h"
#include "reconcile/rollback.h"
#include "reconcile/suspend.h"
#include "reconcile/wait.h"

/* Upper bound on worker threads when parallel is 0 ("unbounded"). */
#define SYNC_MAX_THREADS 256

enum item_state { ITEM_PENDING = 0, ITEM_RUNNING, ITEM_DONE };

struct run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct exec_ctx ctx;
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
	exec_emit(&run->ctx, SYNC_EV_DONE, run->plan->items[i].app_id, NULL,
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
				if (run->st[j] == ITEM_DONE && !exec_outcome_ok(run->res[j].outcome)) {
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
		/* A dependency that runs its desired definition, however well, is
		 * no reason to hold back the apps that need it. */
		if (!exec_outcome_ok(run->res[j].outcome) &&
		    run->res[j].outcome != SYNC_OUT_DEGRADED &&
		    run->res[j].outcome != SYNC_OUT_PROGRESSING &&
		    run->res[j].outcome != SYNC_OUT_SUSPENDED) {
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
		int rc;
		double t0 = pacer_now_s();

		if (res->outcome == SYNC_OUT_ROLLED_BACK)
			continue; /* its own failure already undid it */
		exec_emit(&run->ctx, SYNC_EV_ROLLBACK, it->app_id, NULL,
			   "--atomic: another app failed", res->outcome, 0);
		{
			const char *backup = res->backup_path;
			struct json_object *previous = exec_previous(&run->ctx, it, &backup);
			char digest[33] = "";

			if (it->body)
				converge_digest(it->body, digest);
			rc = apply_undo(&run->ctx, it, NULL, previous, backup, digest, &dep, &e);
		}
		if (rc == PACER_EUNKNOWN || rc == PACER_ECANCELLED || rc == PACER_EUNREACHABLE) {
			/* Nobody knows how the undo ended: the journal keeps it. */
			pacer_error_free(res->error);
			res->error = e;
			res->outcome = rc == PACER_ECANCELLED ? SYNC_OUT_INTERRUPTED : SYNC_OUT_UNKNOWN;
		} else if (rc == 0) {
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
		res->seconds += pacer_now_s() - t0;
		exec_emit(&run->ctx, SYNC_EV_DONE, it->app_id, res->deployment_id,
			   res->error ? res->error->message : NULL, res->outcome, pacer_now_s() - t0);
	}
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_health_id(const void *a, const void *b)
{
	return strcmp(((const struct live_health *)a)->id, ((const struct live_health *)b)->id);
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

/* Everything one sync_run() holds, so that its steps can be functions. */
struct sync_state {
	struct pacer_source *src;
	struct pacer_marathon *m;
	struct pacer_backup_store *backups;
	struct pacer_state_store *state;
	const struct sync_options *opts;
	struct sync_result *r;
	struct pacer_cache *cache;
	struct held *held;
	struct suspend *suspend;
	struct waiter *waiter;
	struct resume_result resumed;
	struct live_set live;
	struct live_prefetch *prefetch; /* the app list read ahead, or NULL */
	char **owned;
	int nowned;
	struct run run;
	int run_init;
};

static const char *src_name(struct pacer_source *src)
{
	return src->describe ? src->describe(src) : "the source";
}

/*
 * With no cache to lean on (the first run, PACER_NO_CACHE), the app list
 * is read before the files, so that each desired app is compared as it is
 * loaded and only those that differ stay parsed (live.h). It is only a
 * read: when it fails, the run goes on as without it and reads the list
 * at its usual place (step 3), which reports the failure.
 */
static void prefetch_live(struct sync_state *ss)
{
	struct plan_options popts = PLAN_OPTIONS_INIT;
	struct pacer_error *e = NULL;

	if (cache_count(ss->cache) || !ss->m->list_apps_raw)
		return;
	popts.ignore_instances = ss->opts->ignore_instances;
	if (live_prefetch_read(ss->m, &popts, &ss->prefetch, &e)) {
		PLOG_DEBUG("the app list was not read ahead: %s", e && e->message ? e->message : "?");
		pacer_error_free(e);
	}
}

/* Step 1: the desired state; any error stops the run before anything is changed. */
static int load_desired(struct sync_state *ss, struct pacer_error **err)
{
	struct desired_options dopts = DESIRED_OPTIONS_INIT;
	struct sync_result *r = ss->r;
	int rc;

	ss->cache = cache_open(ss->state, ss->opts);
	prefetch_live(ss);
	dopts.flags = ss->opts->flags;
	dopts.cache = ss->cache;
	if (ss->prefetch) {
		dopts.visit = live_prefetch_visit;
		dopts.visit_ctx = ss->prefetch;
	}
	rc = desired_load(ss->src, &dopts, &r->desired, err);
	if (rc)
		return pacer_error_wrap(err, rc,
					"cannot read the desired state from %s; nothing was applied",
					src_name(ss->src));
	if (r->desired->revision)
		r->revision = strdup(r->desired->revision);
	else if (ss->src->revision && ss->src->revision(ss->src))
		r->revision = strdup(ss->src->revision(ss->src));
	if (ss->opts->on_revision && !ss->opts->dry_run)
		ss->opts->on_revision(ss->opts->revision_ctx, r->revision);
	if (r->desired->nerrors > 0)
		return pacer_error_set(err, PACER_EINVALID,
				       "the desired state in %s has %zu error%s; nothing was applied: "
				       "fix every file listed and run again",
				       src_name(ss->src), r->desired->nerrors,
				       r->desired->nerrors == 1 ? "" : "s");
	if (ss->opts->prune && !ss->state)
		return pacer_error_set(err, PACER_EINVALID,
				       "--prune needs a state directory (pacer prunes only apps it "
				       "owns); pass --state-dir; nothing was applied");
	if (ss->opts->prune && r->desired->napps == 0)
		return pacer_error_set(err, PACER_EINVALID,
				       "refusing to --prune: the source %s holds no apps, which would "
				       "delete every app pacer owns; nothing was applied. Check the "
				       "source path",
				       src_name(ss->src));
	return 0;
}

/* The shared waiter and apply context, made once per run that changes anything. */
static int start_apply(struct sync_state *ss, struct pacer_error **err)
{
	struct run *run = &ss->run;
	int rc;

	if (ss->waiter)
		return 0;
	if ((rc = waiter_new(ss->m, ss->opts->poll_ms, &ss->waiter, err)))
		return rc;
	waiter_set_abandon(ss->waiter, ss->opts->abandon);
	waiter_set_stop(ss->waiter, ss->opts->stop);
	waiter_set_bell(ss->waiter, ss->opts->bell);
	pthread_mutex_init(&run->mu, NULL);
	pthread_cond_init(&run->cv, NULL);
	ss->run_init = 1;
	run->ctx.m = ss->m;
	run->ctx.backups = ss->backups;
	run->ctx.state = ss->state;
	run->ctx.waiter = ss->waiter;
	run->ctx.opts = ss->opts;
	run->ctx.revision = ss->r->revision;
	run->ctx.unreachable = &run->unreachable;
	run->ctx.held = ss->held;
	run->ctx.suspend = ss->suspend;
	return 0;
}

/*
 * Step 2: whose state this is (cluster.h), the held changes, and what
 * earlier runs left in the journal (finished here, before the live apps
 * are read, so the plan sees their outcome).
 */
static int prepare_state(struct sync_state *ss, struct pacer_error **err)
{
	int rc;

	if (!ss->state)
		return 0;
	if ((rc = cluster_check(ss->m, ss->state,
				 ss->opts->dry_run ? CLUSTER_CHECK_ONLY : CLUSTER_BIND, err)) ||
	    (rc = held_open(ss->state, &ss->held, err)) ||
	    (rc = suspend_open(ss->state, &ss->suspend, err)))
		return rc;
	if (ss->opts->dry_run || !journal_supported(ss->state))
		return 0;
	if ((rc = start_apply(ss, err)))
		return rc;
	if ((rc = resume_run(&ss->run.ctx, ss->r->desired, &ss->resumed, err)))
		return pacer_error_wrap(err, rc, "cannot finish what an earlier run started; "
						 "nothing was applied");
	ss->run.ctx.inherit = ss->resumed.inherit;
	ss->run.ctx.ninherit = ss->resumed.ninherit;
	return 0;
}

/* Owned apps that are neither desired nor live are not pacer's any more. */
static void expire_owned(struct sync_state *ss)
{
	struct pacer_error *e = NULL;
	const char **gone;
	size_t n = 0;

	if (ss->opts->dry_run || !ss->nowned || !(gone = calloc((size_t)ss->nowned, sizeof(*gone))))
		return;
	for (int i = 0; i < ss->nowned; i++) {
		const char *id = ss->owned[i];

		if (desired_find(ss->r->desired, id) ||
		    (ss->live.ntracked &&
		     bsearch(&id, ss->live.tracked, ss->live.ntracked, sizeof(char *), cmp_strp)))
			continue;
		gone[n++] = id;
		PLOG_INFO("app=%s is neither desired nor in Marathon: pacer no longer owns it", id);
	}
	if (n && ss->state->remove_owned(ss->state, gone, n, &e)) {
		PLOG_WARN("cannot forget %zu apps that no longer exist: %s", n,
			  e ? e->message : "?");
		pacer_error_free(e);
	}
	ss->nowned -= (int)n;
	free(gone);
}

/* The apps of `pacer sync APP...`, and, transitively, what they depend on. */
struct selection {
	const struct pacer_plan *plan;
	char **ids; /* sorted, NULL-terminated */
	size_t n, cap;
};

static int selected(struct selection *sel, const char *id)
{
	return sel->n && bsearch(&id, sel->ids, sel->n, sizeof(char *), cmp_strp);
}

static int select_add(struct selection *sel, const char *id)
{
	char **v;

	if (selected(sel, id))
		return 0;
	/* Room for the id and the NULL after it. */
	if (!(v = pacer_array_grow(sel->ids, &sel->cap, sel->n + 2, sizeof(*v), 16)))
		return -1;
	sel->ids = v;
	if (!(sel->ids[sel->n] = strdup(id)))
		return -1;
	sel->ids[++sel->n] = NULL;
	qsort(sel->ids, sel->n, sizeof(*sel->ids), cmp_strp);
	return 0;
}

static int keep_selected(void *ctx, const struct pacer_plan_item *it)
{
	return selected(ctx, it->app_id);
}

static int select_only(struct sync_state *ss, struct pacer_error **err)
{
	struct selection sel = {ss->r->plan, NULL, 0, 0};
	const struct pacer_plan *p = ss->r->plan;
	size_t before;
	int rc = 0;

	for (size_t i = 0; i < ss->opts->nonly && !rc; i++)
		rc = select_add(&sel, ss->opts->only[i]);
	/* The dependencies of what is selected, until nothing more is added. */
	do {
		before = sel.n;
		for (size_t i = 0; i < p->n && !rc; i++)
			for (size_t d = 0; selected(&sel, p->items[i].app_id) &&
					   d < p->items[i].ndeps && !rc; d++)
				rc = select_add(&sel, p->items[i].depends_on[d]);
	} while (!rc && sel.n != before);
	if (rc)
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
	else
		plan_retain(ss->r->plan, keep_selected, &sel);
	pacer_strv_free(sel.ids);
	return rc;
}

/*
 * Step 3: the live apps. A list read ahead is what Marathon runs unless an
 * earlier run's journal was resumed since (step 2): then it is read again.
 */
static int read_live(struct sync_state *ss, const struct plan_options *popts,
		     struct pacer_error **err)
{
	const char *const *owned = (const char *const *)ss->owned;
	long long now = (long long)time(NULL);
	int rc;

	if (ss->prefetch && !ss->resumed.nentries) {
		rc = live_read_prefetched(ss->prefetch, ss->r->desired, popts, owned,
					  (size_t)ss->nowned, now, ss->cache, &ss->live, err);
	} else {
		if (ss->prefetch)
			PLOG_DEBUG("the app list read ahead is read again: an earlier run's "
				   "changes were resumed since");
		rc = live_read_tracked(ss->m, ss->r->desired, popts, owned, (size_t)ss->nowned,
				       now, ss->cache, &ss->live, err);
	}
	live_prefetch_free(ss->prefetch);
	ss->prefetch = NULL;
	return rc;
}

/* Steps 3 and 4: one GET /v2/apps, compared as it arrives, then the plan. */
static int read_and_plan(struct sync_state *ss, struct pacer_error **err)
{
	struct plan_options popts = PLAN_OPTIONS_INIT;
	struct sync_result *r = ss->r;
	int rc;

	if (ss->state) {
		if ((rc = ss->state->load_owned(ss->state, &ss->owned, err)))
			return pacer_error_wrap(err, rc, "cannot read which apps pacer owns; "
							 "nothing was applied");
		ss->nowned = count_strv(ss->owned);
	}
	if (ss->opts->prune) {
		popts.owned = (const char *const *)ss->owned;
		popts.nowned = (size_t)ss->nowned;
	}
	popts.ignore_instances = ss->opts->ignore_instances;
	rc = read_live(ss, &popts, err);
	if (rc)
		/* An app that cannot be compared names its file; the rest is Marathon's. */
		return pacer_error_wrap(err, rc,
					err && *err && (*err)->file
						? "cannot plan the sync; nothing was applied"
						: "cannot read the live apps from Marathon; nothing was "
						  "applied");
	PLOG_DEBUG("live apps: %zu listed, %zu parsed, %zu known equal", ss->live.nlive,
		   ss->live.nparsed, ss->live.nunchanged);
	expire_owned(ss);
	popts.unchanged = (const char *const *)ss->live.unchanged;
	popts.nunchanged = ss->live.nunchanged;
	rc = plan_build(r->desired, ss->live.kept, &popts, &r->plan, err);
	cache_close(ss->cache, ss->state, ss->opts);
	if (rc)
		return pacer_error_wrap(err, rc, "cannot plan the sync; nothing was applied");
	if (ss->opts->only && (rc = select_only(ss, err)))
		return rc;
	if (ss->opts->prune && r->plan->nprune > 0 && !ss->opts->force_prune &&
	    r->plan->nprune * 2 > (size_t)ss->nowned)
		return pacer_error_set(err, PACER_EINVALID,
				       "refusing to prune %zu of the %d apps pacer owns (more than "
				       "half); nothing was applied. If this is intended, pass "
				       "--force-prune",
				       r->plan->nprune, ss->nowned);
	return 0;
}

static const struct live_health *find_health(const struct live_set *l, const char *id)
{
	struct live_health key = {(char *)id, CONVERGE_HEALTHY, "", {0, 0, 0, ""}};

	return l->nhealth ? bsearch(&key, l->health, l->nhealth, sizeof(key), cmp_health_id)
			  : NULL;
}

/* A row's tasks and version: from the health read of an unchanged app, or its live object. */
static void fill_tasks(struct sync_state *ss, const struct pacer_plan_item *it,
		       struct sync_app_result *a)
{
	const struct live_health *h = find_health(&ss->live, it->app_id);
	struct converge_tasks t = {-1, -1, -1, ""};

	if (h)
		t = h->tasks;
	else if (it->live)
		converge_health(it->live, (long long)time(NULL), NULL, 0, &t);
	a->tasks_healthy = t.healthy;
	a->tasks_running = t.running;
	a->instances = t.instances;
	snprintf(a->version, sizeof(a->version), "%s", t.version);
	snprintf(a->colour, sizeof(a->colour), "%s", bluegreen_item_colour(it));
}

/*
 * An unchanged app is in sync only when it runs well: otherwise it is
 * degraded or progressing, with the reason. pacer does not redeploy it (it
 * did not cause it). Its hold, if any, is dropped: the desired definition
 * runs.
 */
static void judge_unchanged(struct sync_state *ss, const struct pacer_plan_item *it,
			    struct sync_app_result *a)
{
	const struct live_health *h = find_health(&ss->live, a->app_id);
	struct live_health own = {NULL, CONVERGE_HEALTHY, "", {0, 0, 0, ""}};

	if (!ss->opts->dry_run)
		held_drop(ss->held, a->app_id, NULL);
	/* Compared by the plan itself (a blue/green colour): judged from its live app. */
	if (!h && it->live) {
		own.health = converge_health(it->live, (long long)time(NULL), own.reason,
					     sizeof(own.reason), NULL);
		h = &own;
	}
	if (!h || h->health == CONVERGE_HEALTHY)
		return;
	a->outcome = h->health == CONVERGE_PROGRESSING ? SYNC_OUT_PROGRESSING : SYNC_OUT_DEGRADED;
	a->error = pacer_error_new(PACER_EFAILED, "app %s runs its desired definition but is %s: %s",
				   a->app_id, converge_health_name(h->health), h->reason);
	if (a->error)
		pacer_error_set_app(a->error, a->app_id);
}

/* An app an operator suspended is left alone, its drift reported (suspend.h). 1 = so. */
static int judge_suspended(struct sync_state *ss, const struct pacer_plan_item *it,
			   struct sync_app_result *a)
{
	struct json_object *rec = suspend_find(ss->suspend, it->app_id);
	char how[256];

	if (!rec)
		return 0;
	suspend_describe(rec, how, sizeof(how));
	a->outcome = SYNC_OUT_SUSPENDED;
	a->error = pacer_error_new(PACER_ECANCELLED,
				   "app %s differs from git but is suspended (%s): left as it is; "
				   "'pacer resume %s' hands it back to git",
				   it->app_id, how, it->app_id);
	if (a->error)
		pacer_error_set_app(a->error, it->app_id);
	return 1;
}

/* A change that failed before is not deployed again (held.h). 1 = held. */
static int judge_held(struct sync_state *ss, const struct pacer_plan_item *it,
		      struct sync_app_result *a)
{
	struct json_object *h;
	char digest[33];

	if (!it->body || ss->opts->retry_failed)
		return 0;
	converge_digest(it->body, digest);
	if (!(h = held_find(ss->held, it->app_id, digest)))
		return 0;
	a->outcome = SYNC_OUT_HELD;
	a->error = pacer_error_new(
		PACER_EFAILED,
		"app %s: this definition failed before (%s at commit %s: %s) and is held: pacer does "
		"not deploy it again until the file changes; pass --retry-failed to try it anyway",
		it->app_id, json_object_get_string(json_object_object_get(h, "outcome")),
		json_object_get_string(json_object_object_get(h, "commit"))
			? json_object_get_string(json_object_object_get(h, "commit"))
			: "-",
		json_object_get_string(json_object_object_get(h, "reason")));
	if (a->error)
		pacer_error_set_app(a->error, it->app_id);
	return 1;
}

/*
 * A row of a resumed change replaces the plan's row of the same app when
 * that says nothing more (unchanged or held); the others are appended.
 */
static int merge_resumed(struct sync_state *ss)
{
	struct sync_result *r = ss->r;
	struct sync_app_result *v;
	size_t extra = 0;

	for (size_t k = 0; k < ss->resumed.napps; k++) {
		struct sync_app_result *res = &ss->resumed.apps[k];
		size_t i;

		for (i = 0; i < r->plan->n; i++)
			if (!strcmp(r->apps[i].app_id, res->app_id))
				break;
		if (i < r->plan->n && (r->apps[i].outcome == SYNC_OUT_UNCHANGED ||
				       r->apps[i].outcome == SYNC_OUT_HELD)) {
			sync_app_result_release(&r->apps[i]);
			r->apps[i] = *res;
			r->apps[i].action = r->plan->items[i].action == PACER_ACT_UNCHANGED
						    ? res->action
						    : r->plan->items[i].action;
			memset(res, 0, sizeof(*res));
			continue;
		}
		extra++;
	}
	if (!extra)
		return 0;
	if (!(v = realloc(r->apps, (r->napps + extra) * sizeof(*v))))
		return -1;
	r->apps = v;
	for (size_t k = 0; k < ss->resumed.napps; k++) {
		if (!ss->resumed.apps[k].app_id)
			continue;
		r->apps[r->napps++] = ss->resumed.apps[k];
		memset(&ss->resumed.apps[k], 0, sizeof(ss->resumed.apps[k]));
	}
	return 0;
}

/* Step 5: one result row per plan item, in plan order; then resumed rows. */
static int build_results(struct sync_state *ss, struct pacer_error **err)
{
	struct sync_result *r = ss->r;

	r->napps = r->plan->n;
	r->apps = calloc(r->napps ? r->napps : 1, sizeof(*r->apps));
	if (!r->apps)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	for (size_t i = 0; i < r->napps; i++) {
		const struct pacer_plan_item *it = &r->plan->items[i];
		struct sync_app_result *a = &r->apps[i];

		a->action = it->action;
		a->outcome = it->action == PACER_ACT_UNCHANGED ? SYNC_OUT_UNCHANGED
			     : ss->opts->dry_run              ? SYNC_OUT_PLANNED
							      : SYNC_OUT_SKIPPED;
		if (!(a->app_id = strdup(it->app_id)))
			return pacer_error_set(err, PACER_EGENERIC, "out of memory");
		fill_tasks(ss, it, a);
		if (it->action == PACER_ACT_UNCHANGED)
			judge_unchanged(ss, it, a);
		else if (!judge_suspended(ss, it, a))
			judge_held(ss, it, a);
	}
	if (merge_resumed(ss))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	return 0;
}

/* Steps 6 and 7: apply what changes, in waves; --atomic undoes it all on failure. */
/* A row that stops an --atomic run: anything but success or a state pacer did not cause. */
static int atomic_failure(enum sync_outcome o)
{
	return !exec_outcome_ok(o) && o != SYNC_OUT_DEGRADED && o != SYNC_OUT_PROGRESSING &&
	       o != SYNC_OUT_SUSPENDED && o != SYNC_OUT_HELD;
}

/* --atomic also undoes what this run finished for an interrupted one (resume.h). */
static void undo_resumed(struct sync_state *ss, const char *failed_app)
{
	struct sync_result *r = ss->r;

	for (size_t k = ss->resumed.napps; k-- > 0;) {
		const struct pacer_plan_item *it = &ss->resumed.items[k];
		struct sync_app_result *row = NULL;
		struct pacer_error *e = NULL;
		char digest[33] = "", *dep = NULL;

		for (size_t i = 0; i < r->napps && !row; i++)
			if (r->apps[i].resumed && !strcmp(r->apps[i].app_id, it->app_id))
				row = &r->apps[i];
		if (!row || !it->app_id || (row->outcome != SYNC_OUT_CREATED &&
					    row->outcome != SYNC_OUT_UPDATED &&
					    row->outcome != SYNC_OUT_PRUNED))
			continue;
		if (it->body)
			converge_digest(it->body, digest);
		if (apply_undo(&ss->run.ctx, it, NULL, it->live, row->backup_path, digest, &dep, &e)) {
			row->outcome = SYNC_OUT_ROLLBACK_FAILED;
			pacer_error_wrap(&e, PACER_EFAILED,
					 "app %s could not be rolled back after app %s failed in this "
					 "--atomic run; restore it with 'pacer rollback %s'",
					 it->app_id, failed_app, it->app_id);
		} else {
			row->outcome = SYNC_OUT_ROLLED_BACK;
			pacer_error_free(e);
			e = pacer_error_new(PACER_EFAILED,
					    "app %s was rolled back because app %s failed and the run "
					    "is --atomic",
					    it->app_id, failed_app);
		}
		pacer_error_free(row->error);
		row->error = e;
		free(dep);
	}
}

/*
 * --atomic: all or nothing. The changes that converged kept their journal
 * entries (apply.c) until here: undone now if anything failed, cleared
 * once the run is settled. A stopped or superseded run leaves them to the
 * next run.
 */
static void settle_atomic(struct sync_state *ss)
{
	struct sync_result *r = ss->r;
	const char *failed_app = NULL;
	char *pending = NULL;

	if (!ss->opts->atomic || ss->opts->dry_run || (ss->opts->abandon && *ss->opts->abandon) ||
	    (ss->opts->stop && *ss->opts->stop))
		return;
	for (size_t i = 0; i < r->napps && !failed_app; i++)
		if (atomic_failure(r->apps[i].outcome))
			failed_app = r->apps[i].app_id;
	/* A killed --atomic run that was undoing: finish its undo. */
	if (!failed_app && (pending = journal_atomic_pending(ss->state)))
		failed_app = pending;
	if (failed_app && ss->run_init) {
		journal_atomic_failed(ss->state, failed_app);
		CRASH_POINT("during-atomic-undo");
		if (ss->run.norder > 0)
			undo_run(&ss->run, failed_app);
		undo_resumed(ss, failed_app);
	}
	for (size_t i = 0; i < r->napps; i++)
		if (exec_outcome_ok(r->apps[i].outcome) && r->apps[i].outcome != SYNC_OUT_UNCHANGED)
			journal_clear(ss->state, r->apps[i].app_id, NULL);
	journal_atomic_settled(ss->state);
	free(pending);
}

/*
 * --atomic and a held app: the commit cannot be applied as a whole (the
 * held definition is known to fail), so nothing of it is; this also keeps
 * the other apps from being deployed and undone again on every run.
 */
static void atomic_hold_all(struct sync_state *ss)
{
	struct sync_result *r = ss->r;
	const char *held = NULL;

	if (!ss->opts->atomic)
		return;
	for (size_t i = 0; i < r->plan->n && !held; i++)
		if (r->apps[i].outcome == SYNC_OUT_HELD)
			held = r->apps[i].app_id;
	for (size_t i = 0; held && i < r->plan->n; i++) {
		if (r->apps[i].outcome != SYNC_OUT_SKIPPED || r->apps[i].error)
			continue;
		r->apps[i].error = pacer_error_new(PACER_ECANCELLED,
						   "app %s was not applied: app %s is held (its "
						   "definition failed before) and the run is --atomic",
						   r->apps[i].app_id, held);
		if (r->apps[i].error)
			pacer_error_set_app(r->apps[i].error, r->apps[i].app_id);
	}
}

/* Steps 6 and 7: apply what changes, in waves; --atomic undoes it all on failure. */
static int execute(struct sync_state *ss, struct pacer_error **err)
{
	struct sync_result *r = ss->r;
	struct run *run = &ss->run;
	size_t n = r->plan->n, todo = 0;
	int rc;

	atomic_hold_all(ss);
	for (size_t i = 0; i < n; i++)
		todo += r->apps[i].outcome == SYNC_OUT_SKIPPED && !r->apps[i].error;
	if (ss->opts->dry_run || !todo)
		goto done;
	if (!ss->backups && r->plan->nupdate + r->plan->nprune > 0)
		return pacer_error_set(err, PACER_EINVALID,
				       "no backup store: pacer never changes an app it cannot back up "
				       "first; pass --backup-dir");
	if ((rc = start_apply(ss, err)))
		return rc;
	run->plan = r->plan;
	run->res = r->apps;
	run->st = calloc(n, sizeof(*run->st));
	run->changed = calloc(n, sizeof(*run->changed));
	run->threads = calloc(n, sizeof(*run->threads));
	run->started = calloc(n, sizeof(*run->started));
	run->order = calloc(n, sizeof(*run->order));
	if (!run->st || !run->changed || !run->threads || !run->started || !run->order)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	/* Only the rows still "skipped" without a reason are to be applied. */
	for (size_t i = 0; i < n; i++)
		if (r->apps[i].outcome != SYNC_OUT_SKIPPED || r->apps[i].error)
			run->st[i] = ITEM_DONE;
	PLOG_INFO("commit=%s sync starting: %zu to create, %zu to update, %zu to prune, "
		  "%zu unchanged",
		  r->revision ? r->revision : "-", r->plan->ncreate, r->plan->nupdate,
		  r->plan->nprune, r->plan->nunchanged);
	schedule(run);
done:
	settle_atomic(ss);
	return 0;
}

static int held_keep(void *ctx, const char *app_id)
{
	return desired_find(ctx, app_id) != NULL;
}

/* Step 8: count, remember the revision when all converged, forget old holds. */
static void tally(struct sync_state *ss)
{
	struct sync_result *r = ss->r;

	/* An operator's suspension is a decision, not a failure. */
	for (size_t i = 0; i < r->napps; i++)
		if (!exec_outcome_ok(r->apps[i].outcome) && r->apps[i].outcome != SYNC_OUT_PLANNED &&
		    r->apps[i].outcome != SYNC_OUT_SUSPENDED)
			r->nfailed++;
	r->converged = r->nfailed == 0;
	if (ss->opts->dry_run || !ss->state)
		return;
	held_prune(ss->held, held_keep, r->desired, NULL);
	if (r->converged && r->revision) {
		struct pacer_error *serr = NULL;

		if (ss->state->save_last_revision(ss->state, r->revision, &serr)) {
			PLOG_WARN("commit=%s could not record the last applied revision: %s",
				  r->revision, serr ? serr->message : "?");
			pacer_error_free(serr);
		}
	}
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every run that may change something is remembered (history.h); a dry run is not. */
static void record_history(struct sync_state *ss, int rc, double start)
{
	struct pacer_error *e = NULL;

	if (ss->opts->dry_run || !journal_supported(ss->state) || rc == PACER_ECLUSTER)
		return;
	if (history_append(ss->state, ss->r, rc, ss->opts->trigger, start, wall_s(), &e)) {
		PLOG_WARN("cannot record the run in the history: %s", e ? e->message : "?");
		pacer_error_free(e);
	}
}

int sync_run(struct pacer_source *src, struct pacer_marathon *m,
	     struct pacer_backup_store *backups, struct pacer_state_store *state,
	     const struct sync_options *opts_in, struct sync_result **out, struct pacer_error **err)
{
	static const struct sync_options defaults = SYNC_OPTIONS_INIT;
	const struct sync_options *opts = opts_in ? opts_in : &defaults;
	struct sync_state ss;
	int rc;
	double t0 = pacer_now_s(), start = wall_s();

	*out = NULL;
	memset(&ss, 0, sizeof(ss));
	if (opts->version != SYNC_OPTIONS_VERSION)
		return pacer_error_set(err, PACER_EINVALID,
				       "sync options version %u is not supported (expected %u)",
				       opts->version, SYNC_OPTIONS_VERSION);
	ss.src = src;
	ss.m = m;
	ss.backups = backups;
	ss.state = state;
	ss.opts = opts;
	if (!(ss.r = calloc(1, sizeof(*ss.r))))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	*out = ss.r;

	if ((rc = load_desired(&ss, err)) || (rc = prepare_state(&ss, err)) ||
	    (rc = read_and_plan(&ss, err)) || (rc = build_results(&ss, err)) ||
	    (rc = execute(&ss, err)))
		goto done;
	tally(&ss);
done:
	ss.r->seconds = pacer_now_s() - t0;
	if (ss.r->plan && !opts->dry_run && rc == 0)
		PLOG_INFO("commit=%s sync finished: %s, %zu app%s failed, %.1fs",
			  ss.r->revision ? ss.r->revision : "-",
			  ss.r->converged ? "converged" : "not converged", ss.r->nfailed,
			  ss.r->nfailed == 1 ? "" : "s", ss.r->seconds);
	record_history(&ss, rc, start);
	waiter_free(ss.waiter);
	if (ss.run_init)
		run_release(&ss.run);
	resume_release(&ss.resumed);
	live_release(&ss.live);
	live_prefetch_free(ss.prefetch);
	cache_free(ss.cache);
	held_free(ss.held);
	suspend_free(ss.suspend);
	pacer_strv_free(ss.owned);
	return rc;
}

void sync_app_result_release(struct sync_app_result *a)
{
	free(a->app_id);
	free(a->deployment_id);
	free(a->backup_path);
	pacer_error_free(a->error);
	memset(a, 0, sizeof(*a));
}

void sync_result_free(struct sync_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->napps; i++)
		sync_app_result_release(&r->apps[i]);
	free(r->apps);
	if (r->desired)
		desired_free(r->desired);
	if (r->plan)
		plan_free(r->plan);
	free(r->revision);
	free(r);
}
