/*
 * watcher.h: the event loop of `pacer watch`. It keeps Marathon equal to
 * the desired state for as long as it runs, by asking a runner (runner.h)
 * for syncs.
 *
 * What triggers a sync (the reason in the runner's log line):
 *   "startup"        once, when the loop starts (for a git source: the
 *                    first poll's "commit <sha>" instead);
 *   "files changed"  a directory source changed (inotify, backends/fs/
 *                    watch.h) and then stayed quiet for debounce_ms;
 *   "commit <sha>"   a git source's ref moved (polled every interval_s);
 *   "resync"         every resync_interval_s, catching drift the event
 *                    stream missed;
 *   "drift"          with self_heal, an app changed outside pacer
 *                    (Marathon's /v2/events api_post_event); without it
 *                    the drift is only logged;
 *   "retry"          a transient failure (Marathon or git unreachable,
 *                    HTTP, auth, timeout, lock) is retried with backoff
 *                    from 1 s, doubling up to 60 s.
 * At most one sync runs and one waits behind it; further triggers join the
 * waiting one. Newest wins: a change of the source (files or commit) that
 * arrives while a sync is still waiting for its deployments sets *abandon,
 * so that sync stops waiting (no rollback) and the next one starts at once;
 * its PUT with force supersedes the stuck deployment.
 *
 * Usage (cmd_watch.c):
 *
 *   so.stop = wo.stop = cli_install_signals();
 *   so.abandon = wo.abandon = &flag;
 *   runner_new(&runner, &env, &so, NULL, &err);
 *   watcher_new(&w, &wo, runner, &env, &err);   starts the threads
 *   watcher_run(w, &err);                       until SIGTERM/SIGINT
 *   watcher_free(w);                            waits for the sync in flight
 *
 * Threads: watcher_new() starts two threads, joined by watcher_free(): the
 * sync worker (the only caller of runner_sync()) and the drift thread
 * (reads Marathon's event stream through env->marathon, calls
 * runner_busy() and runner_drift()). watcher_run() runs the loop in the
 * calling thread. One watcher per process: it installs the SIGINT/SIGTERM
 * handlers.
 */
#ifndef PACER_CMD_WATCHER_H
#define PACER_CMD_WATCHER_H

#include <signal.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/runner.h"

struct watcher;

struct watcher_options {
	/* What to watch: an existing directory (inotify), else a git URL with
	 * ref and path (may be NULL) that is polled. Borrowed. */
	const char *source, *ref, *path;
	int debounce_ms;       /* quiet time after a file change, >= 0 */
	int interval_s;        /* git poll interval, >= 1 */
	int resync_interval_s; /* full sync this often; 0 = off */
	int self_heal;         /* drift triggers a sync, not only a warning */
	/*
	 * Borrowed flags. *stop ends everything (the loop, the event stream,
	 * git fetches, the sync's wait); the watcher's signal handler sets it
	 * and wakes the loop. *abandon is the runner's sync_options.abandon:
	 * the watcher alone sets and clears it (under its lock).
	 */
	volatile sig_atomic_t *stop, *abandon;
};
#define WATCHER_OPTIONS_INIT                                                                       \
	{                                                                                          \
		.debounce_ms = 500, .interval_s = 60, .resync_interval_s = 300                     \
	}

/*
 * Install the SIGINT/SIGTERM handlers (set *opts->stop, wake the loop) and
 * start the sync worker and the drift thread; nothing is synced before
 * watcher_run(). opts is copied (its pointers are borrowed); runner and env
 * are borrowed and must outlive the watcher. A drift thread that cannot
 * start is logged, not fatal (drift is then only caught by the resync).
 * Returns 0 and *out (free with watcher_free()), or -1 when the wake-up
 * pipe or the worker thread cannot be created or memory runs out.
 */
int watcher_new(struct watcher **out, const struct watcher_options *opts, struct runner *runner,
                struct cli_env *env, struct pacer_error **err);

/*
 * Run the event loop in the calling thread. Returns 0 once *stop is set,
 * or a negative code and *err when it cannot go on: the directory cannot
 * be watched (fswatch_new()), the git source cannot be opened for polling
 * (gitsrc_new()), poll() fails (PACER_EIO). Transient failures inside the
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
