/*
 * runner.c: the sync queue of watch and serve (contract in runner.h).
 *
 * State is "running" (a sync in progress) and "pending" (one more wanted
 * after it). A trigger sets pending, or joins the pending sync that is
 * already there. The worker takes pending -> running only when the
 * previous sync returned, so syncs never overlap, and any trigger that
 * arrives after a sync started makes another one, so none is lost.
 *
 * The worker waits on one condition variable (CLOCK_MONOTONIC, so a wall
 * clock jump neither fires nor delays a retry); every change a waiting
 * worker may care about broadcasts it: a trigger, a hold, a hook's task,
 * the quit.
 */
#include "cmd/pacer/runner.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/base/strv.h"

struct runner {
	struct runner_options o;
	pthread_t worker;
	int started; /* the worker thread exists (joined by runner_stop()) */

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* CLOCK_MONOTONIC */
	int quit, done;     /* asked to stop; the worker returned */
	int held;
	unsigned long last_id; /* the last sync id handed out */
	int running;
	unsigned long running_id;
	int pending;
	unsigned long pending_id;
	char pending_reason[RUNNER_REASON_MAX];
	char **pending_only; /* the pending sync's apps, NULL-terminated; NULL = every app */
	unsigned long nsyncs;
	struct runner_backoff backoff;
	long long retry_at; /* monotonic; 0: no retry planned */
	int have_last;
	struct runner_result last; /* last.status owned */
	double last_success;
	long long last_end_ms;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int runner_transient(int rc)
{
	return rc == PACER_EUNREACHABLE || rc == PACER_EIO || rc == PACER_EAUTH ||
	       rc == PACER_EHTTP || rc == PACER_ETIMEOUT || rc == PACER_ENOTFOUND ||
	       rc == PACER_EGENERIC || rc == PACER_ELOCKED;
}

long runner_backoff_next(struct runner_backoff *b)
{
	b->ms = b->ms ? b->ms * 2 : b->min_ms;
	if (b->ms > b->max_ms)
		b->ms = b->max_ms;
	return b->ms;
}

void runner_backoff_reset(struct runner_backoff *b)
{
	b->ms = 0;
}

int runner_new(struct runner **out, const struct runner_options *opts, struct pacer_error **err)
{
	struct runner *r;

	*out = NULL;
	if (!opts || opts->version != RUNNER_OPTIONS_VERSION || !opts->sync)
		return pacer_error_set(err, PACER_EINVALID,
		                       "runner: options version %u (this build knows %u) or no "
		                       "sync function",
		                       opts ? opts->version : 0, RUNNER_OPTIONS_VERSION);
	r = calloc(1, sizeof(*r));
	if (!r)
		return pacer_error_set(err, -1, "out of memory");
	r->o = *opts;
	r->backoff.min_ms = opts->retry_min_ms > 0 ? opts->retry_min_ms : RUNNER_RETRY_MIN_MS;
	r->backoff.max_ms = opts->retry_max_ms > 0 ? opts->retry_max_ms : RUNNER_RETRY_MAX_MS;
	pthread_mutex_init(&r->mu, NULL);
	pacer_cond_init(&r->cv);
	*out = r;
	return 0;
}

/* ---- the queue ---- */

/* The number of ids in a NULL-terminated list (NULL: none). */
static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/*
 * Under mu: the pending sync also covers only: the union of both lists, or
 * every app (NULL) when either is. Out of memory makes it every app: a sync
 * of more apps than asked is never wrong, a lost one would be.
 */
static void pending_add_only(struct runner *r, const char *const *only, int fresh)
{
	size_t n, k;
	char **v;

	if (!only || (!fresh && !r->pending_only))
		goto all;
	n = strv_len(r->pending_only);
	k = strv_len((char *const *)only);
	v = realloc(r->pending_only, (n + k + 1) * sizeof(*v));
	if (!v)
		goto all;
	r->pending_only = v;
	v[n] = NULL;
	for (size_t i = 0; i < k; i++) {
		size_t j = 0;

		while (j < n && strcmp(v[j], only[i]))
			j++;
		if (j < n)
			continue;
		if (!(v[n] = strdup(only[i])))
			goto all;
		v[++n] = NULL;
	}
	return;
all:
	pacer_strv_free(r->pending_only);
	r->pending_only = NULL;
}

/* Under mu: make a pending sync, or join the one there is. Returns its id. */
static unsigned long enqueue(struct runner *r, const char *reason, const char *const *only)
{
	if (!r->pending) {
		r->pending = 1;
		r->pending_id = ++r->last_id;
		snprintf(r->pending_reason, sizeof(r->pending_reason), "%s", reason);
		pending_add_only(r, only, 1);
		pthread_cond_broadcast(&r->cv);
	} else {
		pending_add_only(r, only, 0);
	}
	return r->pending_id;
}

unsigned long runner_trigger(struct runner *r, const char *reason, unsigned flags,
                             const char *const *only)
{
	unsigned long id = 0;

	pthread_mutex_lock(&r->mu);
	/* Under the lock: the sync running now was taken before this change. */
	if ((flags & RUNNER_SUPERSEDE) && r->running && r->o.supersede && !*r->o.supersede) {
		*r->o.supersede = 1;
		PLOG_INFO("sync=%lu superseded by a newer change: it stops waiting for its "
		          "deployments (no rollback); the next sync applies the change",
		          r->running_id);
	}
	if (!r->quit)
		id = enqueue(r, reason, only);
	pthread_mutex_unlock(&r->mu);
	return id;
}

void runner_hold(struct runner *r, int held)
{
	pthread_mutex_lock(&r->mu);
	if (r->held != !!held) {
		r->held = !!held;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

int runner_take_pending(struct runner *r, char reason[RUNNER_REASON_MAX], char ***only)
{
	int had;

	pthread_mutex_lock(&r->mu);
	had = r->pending;
	*only = NULL;
	if (had) {
		memcpy(reason, r->pending_reason, RUNNER_REASON_MAX);
		*only = r->pending_only;
		r->pending_only = NULL;
		r->pending = 0;
	}
	pthread_mutex_unlock(&r->mu);
	return had;
}

void runner_wake(struct runner *r)
{
	pthread_mutex_lock(&r->mu);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int runner_busy(struct runner *r)
{
	int b;

	pthread_mutex_lock(&r->mu);
	b = r->running;
	pthread_mutex_unlock(&r->mu);
	return b;
}

/* ---- the worker ---- */

enum job { JOB_QUIT, JOB_SYNC, JOB_TASK };

void runner_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, long long at_ms)
{
	struct timespec ts;

	if (at_ms < 0) {
		pthread_cond_wait(cv, mu);
		return;
	}
	ts = pacer_deadline_ms(at_ms - pacer_now_ms());
	pthread_cond_timedwait(cv, mu, &ts);
}

/*
 * Under mu: wait until a job may start. A hook's task goes before a sync:
 * it is quick, and (watch's drift check) it reports what the sync is about
 * to put right.
 */
static enum job next_job(struct runner *r)
{
	for (;;) {
		long long now = pacer_now_ms(), at = -1, due;

		if (r->quit)
			return JOB_QUIT;
		if (r->retry_at && now >= r->retry_at && !r->pending)
			enqueue(r, "retry", NULL);
		if (r->retry_at && !r->pending)
			at = r->retry_at;
		due = r->o.hooks.task_due ? r->o.hooks.task_due(r->o.hooks.ctx) : -1;
		if (due >= 0) {
			if (due <= now)
				return JOB_TASK;
			at = at < 0 || due < at ? due : at;
		}
		if (r->pending && !r->held)
			return JOB_SYNC;
		runner_wait_until(&r->cv, &r->mu, at);
	}
}

/* The status says whether the sync converged; without one, rc does. */
static int status_converged(struct json_object *st, int rc)
{
	struct json_object *v;

	if (st && json_object_object_get_ex(st, "converged", &v))
		return json_object_get_boolean(v) && rc == 0;
	return rc == 0;
}

/* Under mu: what a sync's result means for the next ones (retry with backoff, or not). */
static void plan_retry(struct runner *r, int rc)
{
	r->retry_at = 0;
	if (r->o.retry && rc && runner_transient(rc) && !(r->o.stop && *r->o.stop)) {
		long ms = runner_backoff_next(&r->backoff);

		r->retry_at = pacer_now_ms() + ms;
		PLOG_WARN("sync failed (%s); retrying in %ld s", pacer_code_name(rc), ms / 1000);
	} else {
		runner_backoff_reset(&r->backoff);
	}
}

/* Under mu: keep res as the last result (its status taken over). */
static void record(struct runner *r, struct runner_result *res)
{
	r->running = 0;
	r->nsyncs++;
	json_object_put(r->last.status);
	r->last = *res;
	r->have_last = 1;
	if (res->converged)
		r->last_success = res->finished;
	r->last_end_ms = pacer_now_ms();
	if (r->o.supersede)
		*r->o.supersede = 0;
	plan_retry(r, res->rc);
	pthread_cond_broadcast(&r->cv);
}

/* Outside mu: run the sync just taken, reporting through the hooks. */
static void run_taken(struct runner *r, struct runner_result *res, char **only)
{
	const struct runner_hooks *h = &r->o.hooks;
	double t0;

	if (h->started)
		h->started(h->ctx, res->id, res->reason, res->partial);
	res->started = wall_now();
	t0 = pacer_now_s();
	res->rc = r->o.sync(r->o.ctx, res->reason, (const char *const *)only, &res->status);
	res->finished = wall_now();
	res->seconds = pacer_now_s() - t0;
	res->converged = status_converged(res->status, res->rc);
	if (h->done)
		h->done(h->ctx, res);
}

/* Under mu (released while the sync runs). */
static void run_sync(struct runner *r)
{
	struct runner_result res;
	char **only;

	if (r->o.hooks.confirm) {
		int go;

		pthread_mutex_unlock(&r->mu);
		go = r->o.hooks.confirm(r->o.hooks.ctx);
		pthread_mutex_lock(&r->mu);
		if (!go || r->quit || !r->pending)
			return;
	}
	memset(&res, 0, sizeof(res));
	r->pending = 0;
	r->running = 1;
	res.id = r->running_id = r->pending_id;
	memcpy(res.reason, r->pending_reason, sizeof(res.reason));
	only = r->pending_only;
	r->pending_only = NULL;
	res.partial = only != NULL;
	if (r->o.supersede)
		*r->o.supersede = 0;
	pthread_mutex_unlock(&r->mu);

	run_taken(r, &res, only);
	pacer_strv_free(only);

	pthread_mutex_lock(&r->mu);
	record(r, &res);
}

static void *worker_main(void *arg)
{
	struct runner *r = arg;
	enum job j;

	pthread_mutex_lock(&r->mu);
	while ((j = next_job(r)) != JOB_QUIT) {
		if (j == JOB_SYNC) {
			run_sync(r);
			continue;
		}
		pthread_mutex_unlock(&r->mu);
		r->o.hooks.task_run(r->o.hooks.ctx);
		pthread_mutex_lock(&r->mu);
	}
	r->done = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int runner_start(struct runner *r, struct pacer_error **err)
{
	int rc;

	if (r->started)
		return pacer_error_set(err, PACER_EINVALID, "runner: started twice");
	if ((rc = pthread_create(&r->worker, NULL, worker_main, r)) != 0)
		return pacer_error_set(err, -1, "cannot start the sync thread: %s", strerror(rc));
	r->started = 1;
	return 0;
}

/* ---- status and life cycle ---- */

void runner_status_get(struct runner *r, int with_json, struct runner_status *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&r->mu);
	out->running = r->running;
	out->running_id = r->running ? r->running_id : 0;
	out->pending = r->pending;
	out->pending_id = r->pending ? r->pending_id : 0;
	if (r->pending)
		memcpy(out->pending_reason, r->pending_reason, sizeof(out->pending_reason));
	out->held = r->held;
	out->nsyncs = r->nsyncs;
	out->retry_at_ms = r->retry_at;
	out->backoff_ms = r->backoff.ms;
	out->have_last = r->have_last;
	out->last = r->last;
	out->last.status = NULL;
	/* A deep copy: json-c reference counts are not atomic, and the worker
	 * replaces the last status as soon as the lock is released. */
	if (with_json && r->last.status)
		json_object_deep_copy(r->last.status, &out->last.status, NULL);
	out->last_success = r->last_success;
	out->last_end_ms = r->last_end_ms;
	pthread_mutex_unlock(&r->mu);
}

void runner_status_release(struct runner_status *st)
{
	json_object_put(st->last.status);
	st->last.status = NULL;
}

void runner_quit(struct runner *r, unsigned flags)
{
	pthread_mutex_lock(&r->mu);
	r->quit = 1;
	if ((flags & RUNNER_SUPERSEDE) && r->running && r->o.supersede)
		*r->o.supersede = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->o.interrupt)
		r->o.interrupt(r->o.ctx);
}

int runner_stopped(struct runner *r)
{
	int d;

	pthread_mutex_lock(&r->mu);
	d = r->done || !r->started;
	pthread_mutex_unlock(&r->mu);
	return d;
}

void runner_stop(struct runner *r, unsigned flags)
{
	runner_quit(r, flags);
	if (r->started) {
		pthread_join(r->worker, NULL);
		r->started = 0;
	}
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	runner_stop(r, 0);
	pacer_strv_free(r->pending_only);
	json_object_put(r->last.status);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
