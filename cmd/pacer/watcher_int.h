/*
 * watcher_int.h: what the three files of pacer watch's event loop share
 * (the contract is in watcher.h). Not for other files.
 *
 *   watcher.c        the loop (files, git polls, resyncs, the watchdog),
 *                    signals, one git cache for polls and syncs
 *   watcher_sync.c   what watch adds to the runner's worker (runner.h
 *                    hooks): drift checks between syncs, a prune confirmed
 *                    with a second look, what a sync's result means
 *   watcher_drift.c  what each event of the stream means (the stream thread,
 *                    its reconnects and health, is evstream.c) and the drift
 *                    checks
 *
 * The sync queue itself (coalescing, supersede, retries) is the runner's.
 *
 * Locking: everything under "shared" is guarded by mu; cv is broadcast on
 * every change a waiting thread may care about (the runner's worker in a
 * prune's second look, the stream thread). The runner's lock comes before
 * mu (runner.h): nothing calls the runner while holding mu. The loop
 * thread owns the fswatch and the debounce.
 */
#ifndef PACER_CMD_WATCHER_INT_H
#define PACER_CMD_WATCHER_INT_H

#include <pthread.h>

#include "cmd/pacer/envsync.h"
#include "cmd/pacer/evstream.h"
#include "cmd/pacer/runner.h"
#include "cmd/pacer/watcher.h"
#include "reconcile/source.h"
#include "reconcile/sync.h"

/* A drift check asked for: every app, or the apps named in ids. */
struct watcher_check {
	int all;
	char **ids; /* owned */
	size_t nids;
	char reason[80];
};

/* A drift already reported, so that it is said once. */
struct watcher_note {
	char *id;   /* owned */
	char *what; /* the changed fields, or "" for a deleted app; owned */
};

struct watcher {
	struct watcher_options o;
	struct sync_options so; /* copy of *o.sync (its pointers borrowed) */
	struct envsync *sync;   /* borrowed: what a sync is, and drift */
	struct runner *runner;  /* owned: the queue, fed by the loop and the stream */
	struct cli_env *env;
	int is_dir;              /* a directory source, else git */
	int pipe_r, pipe_w;      /* wakes the loop: signals and the other threads */
	struct evstream *events; /* the event stream (evstream.h); NULL: not followed */
	int ready;               /* systemd was told we started (the runner's worker only) */

	/* git: the source the syncs read, wrapped so polls share its cache. */
	pthread_mutex_t git_mu; /* held by whoever fetches */
	struct pacer_source *git_inner;

	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int quit;
	int check_pending; /* a drift check waits (it goes before a sync) */
	struct watcher_check check;
	long long check_asked_ms; /* when the pending check was asked for */
	long long check_end_ms;   /* when the last check over every app ended */
	int held;                 /* the runner is held (the loop thread's view) */
	unsigned long file_gen;   /* bumped by every change of the files */
	long long last_file_ms;   /* the latest change; 0: none yet */
	long long stream_down_ms; /* the stream is down since; 0: up or unknown */
	int foreign;              /* Marathon answered as another cluster */
	struct watcher_note *notes;
	size_t nnotes;
};

/* Queue a sync (runner_trigger()). newer: the source changed, so it supersedes the running one. */
void watcher__trigger(struct watcher *w, const char *reason, int newer);
/* Queue a drift check of ids (NULL: every app). */
void watcher__request_check(struct watcher *w, const char *const *ids, size_t n,
                            const char *reason);
/* Make the loop recompute its timers. Any thread. */
void watcher__wake_loop(struct watcher *w);
/* Under mu: wait on cv until at_ms (monotonic; < 0: no deadline). */
void watcher__wait(struct watcher *w, long long at_ms);

/* The loud line for Marathon answering as another cluster; under mu, once per episode. */
void watcher__set_foreign(struct watcher *w, int foreign, const char *why);

/* The runner's hooks (watcher_sync.c); opts->hooks.ctx is w. */
void watcher__hooks(struct watcher *w, struct runner_hooks *hooks);
/* Follow the event stream (watcher_drift.c): sets w->events. */
int watcher__events_start(struct watcher *w, struct pacer_error **err);
/* The last sync's status JSON (a deep copy, caller puts), NULL before the first. */
struct json_object *watcher__last_status(struct watcher *w);
/* Run a drift check in the worker (watcher_drift.c); not under mu. */
void watcher__check(struct watcher *w, const struct watcher_check *c);
/* Under mu: forget the drift reported (a sync has just compared everything). */
void watcher__notes_clear(struct watcher *w);
void watcher__check_release(struct watcher_check *c);

#endif
