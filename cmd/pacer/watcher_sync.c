/*
 * watcher_sync.c: what pacer watch adds to the runner's worker (see
 * watcher.h, watcher_int.h and runner.h's hooks): drift checks run
 * between syncs, a sync that would prune is confirmed with a second look,
 * and a sync's result decides whether Marathon is another cluster. The
 * runner's worker is the only thread that syncs and the only one that
 * runs drift checks, one job at a time.
 */
#include "cmd/pacer/watcher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/sdnotify.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

/*
 * Checks of every app (a GET /v2/apps and a comparison each) start at
 * least this long apart: on a busy cluster every change may announce
 * itself as a group change.
 */
#define CHECK_GAP_MS 5000LL
/* One change out of band is several events (a group PUT: app_terminated_event,
 * deployment_info, group_change_success): gather them into one check. */
#define CHECK_GATHER_MS 250LL
/* The ids a prune's dry run names in its log line (cut beyond). */
#define PRUNE_IDS_MAX 512

/*
 * hooks.task_due, under the runner's lock: when the pending drift check
 * may start (-1: none). A check goes before a sync: it is quick, and it
 * reports what the sync is about to put right (a --self-heal sync asked
 * for by one drift also reverts the others of the same change, which
 * would otherwise never be named).
 */
static long long check_due(void *ctx)
{
	struct watcher *w = ctx;
	long long start = -1;

	pthread_mutex_lock(&w->mu);
	if (w->check_pending) {
		start = w->check_asked_ms + CHECK_GATHER_MS;
		if (w->check.all && w->check_end_ms && w->check_end_ms + CHECK_GAP_MS > start)
			start = w->check_end_ms + CHECK_GAP_MS;
	}
	pthread_mutex_unlock(&w->mu);
	return start;
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
				used +=
				    (size_t)snprintf(ids + used, idslen - used, "%s%s",
				                     used ? ", " : "", res->plan->items[i].app_id);
	}
	sync_result_free(res);
	pacer_error_free(err);
	return n;
}

/*
 * hooks.confirm: --prune with a directory that changed less than two
 * debounce windows ago. The first look is a dry run: a sync that would
 * delete apps waits until the files have been quiet for a second window,
 * and runs only if nothing changed meanwhile, so an app whose file is
 * absent for a moment (rm *.json, then the new files one by one, slower
 * than the debounce) is not deleted. Returns 1 to sync now, 0 to wait (the
 * sync stays queued; the next change ends a new burst, holding the runner
 * meanwhile, and it is looked at again).
 */
static int prune_confirmed(void *ctx)
{
	struct watcher *w = ctx;
	long long window = 2LL * w->o.debounce_ms, until;
	char ids[PRUNE_IDS_MAX];
	unsigned long gen;
	int n, go = 1;

	pthread_mutex_lock(&w->mu);
	gen = w->file_gen;
	if (!w->so.prune || !w->is_dir || !w->last_file_ms ||
	    pacer_now_ms() >= w->last_file_ms + window)
		goto done;
	pthread_mutex_unlock(&w->mu);
	n = prune_plan(w, ids, sizeof(ids));
	pthread_mutex_lock(&w->mu);
	if (n > 0) {
		until = w->last_file_ms + window;
		PLOG_INFO("sync: the files changed %lld ms ago: deleting %d app%s (%s) waits "
		          "until the files have been quiet for %lld ms",
		          pacer_now_ms() - w->last_file_ms, n, n == 1 ? "" : "s", ids, window);
		while (!w->quit && w->file_gen == gen && pacer_now_ms() < until)
			watcher__wait(w, until);
	}
	if (w->quit)
		go = 0;
	else if (w->file_gen != gen) {
		if (n > 0)
			PLOG_INFO(
			    "sync: the files changed again; looking again once they are quiet");
		go = 0;
	}
done:
	pthread_mutex_unlock(&w->mu);
	return go;
}

/* hooks.done: what a sync's result means for Marathon's identity and the drift reported. */
static void after_sync(void *ctx, const struct runner_result *res)
{
	struct watcher *w = ctx;
	int rc = res->rc;

	/* Type=notify: started once the first sync has returned, however it went. */
	if (!w->ready)
		sdnotify_ready();
	w->ready = 1;
	pthread_mutex_lock(&w->mu);
	if (rc == PACER_ECLUSTER)
		watcher__set_foreign(w, 1, "the sync refused it");
	else if (!rc || rc == PACER_EFAILED || rc == PACER_ECANCELLED)
		watcher__set_foreign(w, 0, NULL);
	/* Everything was compared and put right where it could be: drift
	 * seen from now on is new. */
	watcher__notes_clear(w);
	pthread_mutex_unlock(&w->mu);
}

/* hooks.task_run: the pending drift check. */
static void run_check(void *ctx)
{
	struct watcher *w = ctx;
	struct watcher_check c;

	pthread_mutex_lock(&w->mu);
	c = w->check;
	memset(&w->check, 0, sizeof(w->check));
	w->check_pending = 0;
	pthread_mutex_unlock(&w->mu);
	watcher__check(w, &c);
	watcher__check_release(&c);
	pthread_mutex_lock(&w->mu);
	if (c.all)
		w->check_end_ms = pacer_now_ms();
	pthread_mutex_unlock(&w->mu);
}

void watcher__hooks(struct watcher *w, struct runner_hooks *hooks)
{
	memset(hooks, 0, sizeof(*hooks));
	hooks->ctx = w;
	hooks->task_due = check_due;
	hooks->task_run = run_check;
	hooks->confirm = prune_confirmed;
	hooks->done = after_sync;
}
