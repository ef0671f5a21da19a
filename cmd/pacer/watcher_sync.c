/*
 * watcher_sync.c: pacer watch's worker thread (see watcher.h and
 * watcher_int.h). It is the only thread that syncs and the only one that
 * runs drift checks, one job at a time: what it runs first is decided
 * under the watcher's lock by next_job().
 */
#include "cmd/pacer/watcher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/sdnotify.h"
#include "reconcile/base/log.h"

#define RETRY_MIN_MS 1000L
#define RETRY_MAX_MS 60000L
/*
 * Checks of every app (a GET /v2/apps and a comparison each) start at
 * least this long apart: on a busy cluster every change may announce
 * itself as a group change.
 */
#define CHECK_GAP_MS 5000LL
/* One change out of band is several events (a group PUT: app_terminated_event,
 * deployment_info, group_change_success): gather them into one check. */
#define CHECK_GATHER_MS 250LL

enum job { JOB_QUIT, JOB_SYNC, JOB_CHECK };

struct worker {
	long backoff_ms;    /* the last transient failure's wait; 0: none */
	long long retry_at; /* when to retry it; 0: no retry planned */
	int ready;          /* systemd was told we started */
};

static int transient(int rc)
{
	return rc == PACER_EUNREACHABLE || rc == PACER_EIO || rc == PACER_EAUTH ||
	       rc == PACER_EHTTP || rc == PACER_ETIMEOUT || rc == PACER_ENOTFOUND ||
	       rc == PACER_EGENERIC || rc == PACER_ELOCKED;
}

/*
 * Under mu. A sync never reads a file that is being written; with --prune
 * it also waits for a burst of changes to end (without, the debounce's cap
 * may sync mid-burst: a half picture only updates apps, and the end of the
 * burst brings the rest). Checks read no files: they are never held.
 */
static int sync_held(const struct watcher *w)
{
	return w->writing || (w->so.prune && w->burst);
}

/*
 * Under mu: wait until a job may start. A check goes before a sync: it is
 * quick, and it reports what the sync is about to put right (a --self-heal
 * sync asked for by one drift also reverts the others of the same change,
 * which would otherwise never be named).
 */
static enum job next_job(struct watcher *w, struct worker *k)
{
	for (;;) {
		long long now = watcher__now_ms(), at = -1;

		if (w->quit)
			return JOB_QUIT;
		if (k->retry_at && now >= k->retry_at && !w->pending) {
			w->pending = 1;
			snprintf(w->reason, sizeof(w->reason), "retry");
		}
		if (k->retry_at && !w->pending)
			at = k->retry_at;
		if (w->check_pending) {
			long long start = w->check_asked_ms + CHECK_GATHER_MS;

			if (w->check.all && w->check_end_ms && w->check_end_ms + CHECK_GAP_MS > start)
				start = w->check_end_ms + CHECK_GAP_MS;
			if (now >= start)
				return JOB_CHECK;
			at = at < 0 || start < at ? start : at;
		}
		if (w->pending && !sync_held(w))
			return JOB_SYNC;
		watcher__wait(w, at);
	}
}

/* A dry run of the sync: how many apps it would prune, named in ids. -1: it failed. */
static int prune_plan(struct watcher *w, char *ids, size_t idslen)
{
	struct sync_options so = w->so;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	size_t used = 0;
	int n = -1;

	so.dry_run = 1;
	so.abandon = NULL;
	so.on_event = NULL;
	ids[0] = '\0';
	if (!sync_run(w->env->source, w->env->marathon, NULL, w->env->state, &so, &res, &err) &&
	    res->plan) {
		n = (int)res->plan->nprune;
		for (size_t i = 0; i < res->plan->n && used < idslen; i++)
			if (res->plan->items[i].action == PACER_ACT_PRUNE)
				used += (size_t)snprintf(ids + used, idslen - used, "%s%s",
				                         used ? ", " : "", res->plan->items[i].app_id);
	}
	sync_result_free(res);
	pacer_error_free(err);
	return n;
}

/*
 * Under mu; --prune with a directory that changed less than two debounce
 * windows ago. The first look is a dry run: a sync that would delete apps
 * waits until the files have been quiet for a second window, and runs only
 * if nothing changed meanwhile, so an app whose file is absent for a
 * moment (rm *.json, then the new files one by one, slower than the
 * debounce) is not deleted. Returns 1 to sync now, 0 to wait (the sync
 * stays queued; the next change ends a new burst and it is looked at
 * again).
 */
static int prune_confirmed(struct watcher *w)
{
	long long window = 2LL * w->o.debounce_ms, until;
	unsigned long gen = w->file_gen;
	char ids[512];
	int n;

	if (!w->so.prune || !w->is_dir || !w->last_file_ms ||
	    watcher__now_ms() >= w->last_file_ms + window)
		return 1;
	pthread_mutex_unlock(&w->mu);
	n = prune_plan(w, ids, sizeof(ids));
	pthread_mutex_lock(&w->mu);
	if (n > 0) {
		until = w->last_file_ms + window;
		PLOG_INFO("sync: the files changed %lld ms ago: deleting %d app%s (%s) waits "
		          "until the files have been quiet for %lld ms",
		          watcher__now_ms() - w->last_file_ms, n, n == 1 ? "" : "s", ids, window);
		while (!w->quit && w->file_gen == gen && watcher__now_ms() < until)
			watcher__wait(w, until);
	}
	if (w->quit)
		return 0;
	if (w->file_gen != gen) {
		if (n > 0)
			PLOG_INFO("sync: the files changed again; looking again once they are quiet");
		return 0;
	}
	return 1;
}

/* Under mu: what a sync's result means for the next ones. */
static void after_sync(struct watcher *w, struct worker *k, int rc)
{
	*w->o.abandon = 0;
	if (rc == PACER_ECLUSTER)
		watcher__set_foreign(w, 1, "the sync refused it");
	else if (!rc || rc == PACER_EFAILED || rc == PACER_ECANCELLED)
		watcher__set_foreign(w, 0, NULL);
	/* Everything was compared and put right where it could be: drift
	 * seen from now on is new. */
	watcher__notes_clear(w);
	k->retry_at = 0;
	if (rc && transient(rc) && !*w->o.stop) {
		k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : RETRY_MIN_MS;
		if (k->backoff_ms > RETRY_MAX_MS)
			k->backoff_ms = RETRY_MAX_MS;
		k->retry_at = watcher__now_ms() + k->backoff_ms;
		PLOG_WARN("sync failed (%s); retrying in %ld s", pacer_code_name(rc),
		          k->backoff_ms / 1000);
	} else {
		k->backoff_ms = 0;
	}
}

/* Under mu (released while the sync runs). */
static void run_sync(struct watcher *w, struct worker *k)
{
	char reason[sizeof(w->reason)];
	int rc;

	if (!prune_confirmed(w))
		return;
	w->pending = 0;
	w->running = 1;
	*w->o.abandon = 0;
	memcpy(reason, w->reason, sizeof(reason));
	pthread_mutex_unlock(&w->mu);

	rc = runner_sync(w->runner, reason, NULL);
	/* Type=notify: started once the first sync has returned, however it went. */
	if (!k->ready)
		sdnotify_ready();
	k->ready = 1;

	pthread_mutex_lock(&w->mu);
	w->running = 0;
	after_sync(w, k, rc);
}

/* Under mu (released while the check runs). */
static void run_check(struct watcher *w)
{
	struct watcher_check c = w->check;

	memset(&w->check, 0, sizeof(w->check));
	w->check_pending = 0;
	pthread_mutex_unlock(&w->mu);
	watcher__check(w, &c);
	watcher__check_release(&c);
	pthread_mutex_lock(&w->mu);
	if (c.all)
		w->check_end_ms = watcher__now_ms();
}

void *watcher__worker(void *arg)
{
	struct watcher *w = arg;
	struct worker k = {0, 0, 0};
	enum job j;

	pthread_mutex_lock(&w->mu);
	while ((j = next_job(w, &k)) != JOB_QUIT) {
		if (j == JOB_SYNC)
			run_sync(w, &k);
		else
			run_check(w);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}
