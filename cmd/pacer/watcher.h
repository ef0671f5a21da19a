/*
 * watcher.h: the event loop of `pacer watch`. It keeps Marathon equal to
 * the desired state for as long as it runs, by feeding triggers to a
 * runner (runner.h: the sync queue) whose syncs are envsync_run()
 * (envsync.h).
 *
 * What triggers a sync (the reason in the runner's log line):
 *   "startup"        once, when the loop starts (for a git source: the
 *                    first poll's "commit <sha>" instead);
 *   "files changed"  a directory source changed (inotify, backends/fs/
 *                    watch.h) and then stayed quiet for debounce_ms (or,
 *                    without --prune, 10 x debounce_ms passed in an endless
 *                    burst); the directory replaced or a symlinked source
 *                    switched counts, and is watched again;
 *   "commit <sha>"   a git source's ref moved (polled every interval_s);
 *   "resync"         every resync_interval_s, catching drift the event
 *                    stream missed; "resync (event stream down)" five times
 *                    as often (at least every 60 s) while the stream is down;
 *   "drift"          with self_heal, an app changed or deleted outside
 *                    pacer; without it the drift is only logged, once;
 *   "retry"          a transient failure (Marathon or git unreachable,
 *                    HTTP, auth, timeout, lock) is retried with the
 *                    runner's backoff (RUNNER_RETRY_MIN_MS doubling up to
 *                    RUNNER_RETRY_MAX_MS).
 * At most one sync runs and one waits behind it; further triggers join the
 * waiting one (runner.h). Newest wins: a change of the source (files or
 * commit) that arrives while a sync is still waiting for its deployments
 * supersedes it (*supersede is set), so that sync stops waiting (no
 * rollback) and the next one starts at once; its PUT with force
 * supersedes the stuck deployment.
 *
 * A directory is never read half-way: no sync starts while a definition is
 * being written (created or written and not closed yet, for up to 30 s
 * without a write). With --prune (sync->prune), no sync starts until the
 * files have been quiet for debounce_ms, and one that would delete apps
 * less than 2 x debounce_ms after the last change waits for a second look:
 * it runs only if nothing changed in that second window.
 *
 * Drift (the drift thread): Marathon's event stream is followed for every
 * event that can change a definition or remove an app (api_post_event,
 * app_terminated_event, deployment_info, group_change_success: see
 * backends/marathon/events.h); apps the last sync left running as desired
 * are compared with Marathon (runner_drift()) and each difference is
 * logged once ("drift: app=..."). Every time the stream (re)attaches, every
 * app is compared, since events were missed meanwhile; that comparison is
 * also where Marathon answering as another cluster is noticed (cluster.h):
 * logged as an error, after which drift is not reported and every sync is
 * refused (by the sync itself) until the state directory's cluster answers
 * again. A stream that stays silent for 30 s (not even a heartbeat) is
 * reconnected; reconnects back off from 0.5 s to 30 s, and start from 0.5 s
 * again after a connection that lived 10 s (a runner_backoff); an outage is logged when it
 * begins, every 5 minutes while it lasts, and when the stream is back.
 * Events that arrive while a sync runs are not looked at (they are mostly
 * the sync's own).
 *
 * A git source is polled through the source the syncs read (one cache,
 * <state-dir>/git): a poll and a sync's fetch take turns.
 *
 * Usage (cmd_watch.c):
 *
 *   so.stop = wo.stop = cli_install_signals();
 *   so.abandon = wo.supersede = &flag;
 *   wo.sync = &so;
 *   envsync_new(&es, &env, &so, &err);
 *   watcher_new(&w, &wo, es, &env, &err);       starts the threads
 *   watcher_run(w, &err);                       until SIGTERM/SIGINT
 *   watcher_free(w);                            waits for the sync in flight
 *
 * Threads: watcher_new() starts two threads, joined by watcher_free(): the
 * runner's worker (the only caller of envsync_run(), and of the drift
 * checks) and the drift thread (reads Marathon's event stream through
 * env->marathon, calls runner_busy() and envsync_drift()). watcher_run()
 * runs the loop in the calling thread. One watcher per process: it installs
 * the SIGINT/SIGTERM handlers.
 */
#ifndef PACER_CMD_WATCHER_H
#define PACER_CMD_WATCHER_H

#include <signal.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/envsync.h"

struct watcher;

struct watcher_options {
	/* What to watch: an existing directory (inotify), else a git URL with
	 * ref and path (may be NULL) that is polled. Borrowed. */
	const char *source, *ref, *path;
	int debounce_ms;       /* quiet time after a file change, >= 0 */
	int interval_s;        /* git poll interval, >= 1 */
	int resync_interval_s; /* full sync this often; 0 = off */
	int self_heal;         /* drift triggers a sync, not only a warning */
	/* The runner's sync options (borrowed, copied by watcher_new()): prune
	 * decides how carefully a changing directory is read, and the second
	 * look at a prune is a dry run with them. NULL: the defaults. */
	const struct sync_options *sync;
	/*
	 * Borrowed flags. *stop ends everything (the loop, the event stream,
	 * git fetches, the sync's wait). It is cli_install_signals()'s flag:
	 * those handlers set it, and wake the loop while the watcher lives
	 * (cli_signals_wake()). *supersede is the syncs' sync_options.abandon:
	 * the watcher's runner alone sets and clears it.
	 */
	volatile sig_atomic_t *stop, *supersede;
};
#define WATCHER_OPTIONS_INIT                                                                       \
	{                                                                                          \
		.debounce_ms = 500, .interval_s = 60, .resync_interval_s = 300                     \
	}

/*
 * Have the signal handlers wake the loop (opts->stop is theirs) and
 * start the runner (its worker runs sync's syncs) and the drift thread;
 * nothing is synced before watcher_run(). opts is copied (its pointers are
 * borrowed); sync and env are borrowed and must outlive the watcher. For a
 * git source, watcher_run() replaces env->source with a wrapper that makes
 * the syncs' reads and the polls take turns on the one cache, and
 * watcher_free() puts the original back. A drift thread that cannot
 * start is logged, not fatal (drift is then only caught by the resync).
 * Returns 0 and *out (free with watcher_free()), or -1 when the wake-up
 * pipe or the worker thread cannot be created or memory runs out.
 */
int watcher_new(struct watcher **out, const struct watcher_options *opts, struct envsync *sync,
                struct cli_env *env, struct pacer_error **err);

/*
 * Run the event loop in the calling thread. Returns 0 once *stop is set,
 * or a negative code and *err when it cannot go on: the directory cannot
 * be watched (fswatch_new()), the git source cannot be shared for polling,
 * poll() fails (PACER_EIO). A "<state-dir>/git-poll" left by earlier
 * versions (a second cache) is removed. Transient failures inside the
 * loop (a failed git poll, an unreadable inotify queue, a failed sync) are
 * logged and retried. Call once; watcher_free() afterwards either way.
 */
int watcher_run(struct watcher *w, struct pacer_error **err);

/*
 * Stop and free: set *stop, abandon the deployment wait of the sync in
 * flight (no rollback), and join the threads, so this blocks until that
 * sync has returned. NULL is a no-op.
 */
void watcher_free(struct watcher *w);

#endif
