/*
 * watcher.c: the event loop of pacer watch (contract in watcher.h; what
 * it adds to the runner's worker is in watcher_sync.c, the event stream's
 * meaning in watcher_drift.c, its thread in evstream.c).
 *
 * One poll() over the inotify fd (directory source) and a self-pipe that
 * the SIGTERM/SIGINT handler and the other threads write to, with timers:
 * the debounce, the lost root's retry, a writer's hold, the git poll, the
 * full resync and the watchdog. Nothing but a signal ends the loop.
 */
#include "cmd/pacer/watcher_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/fs/watch.h"
#include "backends/git/source.h"
#include "cmd/pacer/filestamp.h"
#include "cmd/pacer/sdnotify.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

/*
 * A file open for writing holds the syncs back for as long as it is being
 * written, and this long after its last write: a writer that keeps a file
 * open without writing (a leaked descriptor) must not stop pacer for ever.
 */
#define WRITE_HOLD_MS 30000LL
/* While the event stream is down, resync this much more often, and at least this often. */
#define DOWN_RESYNC_FACTOR 5
#define DOWN_RESYNC_MAX_S 60
/* A commit id as gitsrc_resolve() writes it: 40 hex digits of SHA-1 and the NUL. */
#define COMMIT_ID_SIZE (GITSRC_OID_HEXSZ + 1)

/* How often the suspensions file is looked at (pacer suspend/resume take effect at once). */
#define SUSPEND_LOOK_MS 1000

void watcher__wake_loop(struct watcher *w)
{
	if (write(w->pipe_w, "w", 1) < 0) {
		/* full: the loop wakes anyway */
	}
}

void watcher__wait(struct watcher *w, long long at_ms)
{
	runner_wait_until(&w->cv, &w->mu, at_ms);
}

void watcher__trigger(struct watcher *w, const char *reason, int newer)
{
	runner_trigger(w->runner, reason, newer ? RUNNER_SUPERSEDE : 0, NULL);
}

void watcher__check_release(struct watcher_check *c)
{
	for (size_t i = 0; i < c->nids; i++)
		free(c->ids[i]);
	free(c->ids);
	memset(c, 0, sizeof(*c));
}

/* Under mu: one more app for the pending check (a failed allocation widens it to all). */
static void check_add(struct watcher_check *c, const char *id)
{
	char **v;

	for (size_t i = 0; i < c->nids; i++)
		if (!strcmp(c->ids[i], id))
			return;
	v = realloc(c->ids, (c->nids + 1) * sizeof(*v));
	if (!v || !(v[c->nids] = strdup(id))) {
		if (v)
			c->ids = v;
		c->all = 1;
		return;
	}
	c->ids = v;
	c->nids++;
}

void watcher__request_check(struct watcher *w, const char *const *ids, size_t n, const char *reason)
{
	pthread_mutex_lock(&w->mu);
	if (!w->check_pending) {
		snprintf(w->check.reason, sizeof(w->check.reason), "%s", reason);
		w->check_asked_ms = pacer_now_ms();
	}
	w->check_pending = 1;
	if (!ids)
		w->check.all = 1;
	for (size_t i = 0; ids && !w->check.all && i < n; i++)
		check_add(&w->check, ids[i]);
	pthread_mutex_unlock(&w->mu);
	/* After mu: the runner's lock comes first (watcher_int.h). */
	runner_wake(w->runner);
}

void watcher__set_foreign(struct watcher *w, int foreign, const char *why)
{
	if (foreign && !w->foreign)
		PLOG_ERROR("Marathon answers as another cluster than the one %s belongs to (%s): "
		           "pacer watch goes on, but refuses every sync and reports no drift until "
		           "that cluster answers again; if the cluster was replaced on purpose, "
		           "see Reliability in the README",
		           w->env->state_dir ? w->env->state_dir : "the state directory",
		           why ? why : "?");
	else if (!foreign && w->foreign)
		PLOG_INFO("Marathon answers as the state directory's cluster again");
	w->foreign = foreign;
}

/* ---- git: one cache for the polls and the syncs ---- */

/*
 * The source the runner reads, in front of the git source: read() takes
 * git_mu, so a sync's fetch and a poll's fetch never run at once on the
 * one bare clone (libgit2 locks refs, but two fetches racing for them
 * fail). load() is made for other threads (source.h) and needs no turn.
 */
struct shared_source {
	struct pacer_source base;
	struct watcher *w;
};

static int shared_read(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
                       struct pacer_error **err)
{
	struct watcher *w = ((struct shared_source *)s)->w;
	int rc;

	pthread_mutex_lock(&w->git_mu);
	rc = w->git_inner->read(w->git_inner, cb, ctx, err);
	pthread_mutex_unlock(&w->git_mu);
	return rc;
}

static int shared_read_lazy(struct pacer_source *s, pacer_source_want_cb want,
                            pacer_source_file_cb cb, void *ctx, struct pacer_error **err)
{
	struct watcher *w = ((struct shared_source *)s)->w;
	int rc;

	pthread_mutex_lock(&w->git_mu);
	rc = w->git_inner->read_lazy(w->git_inner, want, cb, ctx, err);
	pthread_mutex_unlock(&w->git_mu);
	return rc;
}

static int shared_load(struct pacer_source *s, const char *path, const char *key, char **data,
                       size_t *len, struct pacer_error **err)
{
	struct pacer_source *in = ((struct shared_source *)s)->w->git_inner;

	return in->load(in, path, key, data, len, err);
}

static const char *shared_describe(struct pacer_source *s)
{
	struct pacer_source *in = ((struct shared_source *)s)->w->git_inner;

	return in->describe(in);
}

static const char *shared_revision(struct pacer_source *s)
{
	struct pacer_source *in = ((struct shared_source *)s)->w->git_inner;

	return in->revision(in);
}

static void shared_free(struct pacer_source *s)
{
	free(s);
}

static int share_git_source(struct watcher *w, struct pacer_error **err)
{
	struct shared_source *s = calloc(1, sizeof(*s));
	struct pacer_source *in = w->env->source;

	if (!s)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	s->w = w;
	s->base.read = shared_read;
	s->base.read_lazy = in->read_lazy ? shared_read_lazy : NULL;
	s->base.load = in->load ? shared_load : NULL;
	s->base.describe = shared_describe;
	s->base.revision = shared_revision;
	s->base.free = shared_free;
	w->git_inner = in;
	w->env->source = &s->base;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Earlier versions polled through a second clone: 2 x the disk for nothing. */
static void remove_poll_cache(const struct watcher *w)
{
	char *old = NULL;
	struct stat st;

	if (!w->env->state_dir || asprintf(&old, "%s/git-poll", w->env->state_dir) < 0)
		return;
	if (!lstat(old, &st)) {
		if (nftw(old, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
			PLOG_WARN("git: cannot remove %s, the poll cache of earlier versions: %s",
			          old, strerror(errno));
		else
			PLOG_INFO("git: removed %s, the poll cache of earlier versions (polls use "
			          "%s/git now)",
			          old, w->env->state_dir);
	}
	free(old);
}

/*
 * Poll the git ref; a new commit is a sync that supersedes the running
 * one. A sync fetching right now gets the newest commit itself: the poll
 * then waits for the next interval rather than for the fetch.
 */
static void poll_git(struct watcher *w, char last[COMMIT_ID_SIZE])
{
	char head[COMMIT_ID_SIZE];
	int rc;

	if (pthread_mutex_trylock(&w->git_mu)) {
		PLOG_DEBUG("git: a sync is fetching; polling again in %d s", w->o.interval_s);
		return;
	}
	rc = envsync_git_head(w->git_inner, head, *w->o.stop);
	pthread_mutex_unlock(&w->git_mu);
	if (!rc && strcmp(head, last)) {
		char reason[RUNNER_REASON_MAX];

		snprintf(reason, sizeof(reason), "commit %.12s", head);
		if (*last)
			PLOG_INFO("git: new commit %s (was %.12s)", head, last);
		memcpy(last, head, COMMIT_ID_SIZE);
		watcher__trigger(w, reason, 1);
	}
}

/* ---- the loop ---- */

struct loop {
	struct fswatch *fw;
	struct debounce db;
	long long now;
	long long poll_at;     /* next git poll; -1: none */
	long long resync_base; /* the last resync, or the start */
	long long watchdog_at; /* -1: no watchdog */
	long watchdog_ms;
	long long hold_until; /* a writer's hold ends; -1: none */
	int hold_warned;
	char last[COMMIT_ID_SIZE]; /* the last commit seen by a poll */
	char *susp_path;           /* <state-dir>/suspended.json (owned), or NULL */
	struct filestamp susp;     /* its last look */
};

/* Read inotify; a change starts or extends a burst. */
static void read_files(struct watcher *w, struct loop *l)
{
	struct pacer_error *err = NULL;
	int changed = 0, overflow = 0;

	/* Not fatal: the next event, the lost root's retry or the resync catches up. */
	if (fswatch_read(l->fw, &changed, &overflow, &err)) {
		char *msg = pacer_error_format(err);

		PLOG_WARN("watch: %s", msg ? msg : "?");
		free(msg);
	}
	pacer_error_free(err);
	if (!changed && !overflow)
		return;
	debounce_note(&l->db, l->now);
	pthread_mutex_lock(&w->mu);
	w->file_gen++;
	w->last_file_ms = l->now;
	pthread_mutex_unlock(&w->mu);
}

/* Is a definition being written? Until when that holds the syncs back. */
static int files_writing(struct watcher *w, struct loop *l)
{
	long long latest = 0;
	const char *path = NULL;

	l->hold_until = -1;
	if (!fswatch_writing(l->fw, &latest, &path))
		return 0;
	if (l->now < latest + WRITE_HOLD_MS) {
		l->hold_until = latest + WRITE_HOLD_MS;
		l->hold_warned = 0;
		return 1;
	}
	if (!l->hold_warned)
		PLOG_WARN("watch: %s is still open for writing, with nothing written for %lld s; "
		          "reading the files without waiting for it",
		          path, WRITE_HOLD_MS / 1000);
	l->hold_warned = 1;
	return 0;
}

/*
 * Fire a quiet burst, and hold the runner while the files are not ready:
 * a sync never reads a file that is being written; with --prune it also
 * waits for a burst of changes to end (without, the debounce's cap may
 * sync mid-burst: a half picture only updates apps, and the end of the
 * burst brings the rest). Drift checks read no files: the hold keeps only
 * syncs back.
 */
static void publish_files(struct watcher *w, struct loop *l)
{
	int due = debounce_due(&l->db, l->now), writing = files_writing(w, l);
	int held = writing || (w->so.prune && l->db.pending);

	if (due)
		watcher__trigger(w, "files changed", 1);
	if (held != w->held) {
		w->held = held;
		runner_hold(w->runner, held);
	}
}

/* The next full resync: more often while the event stream is down. */
static long long resync_at(struct watcher *w, const struct loop *l, int *down)
{
	long long period = (long long)w->o.resync_interval_s * 1000, since, fast;

	pthread_mutex_lock(&w->mu);
	since = w->stream_down_ms;
	pthread_mutex_unlock(&w->mu);
	*down = since != 0;
	if (period <= 0)
		return -1;
	if (!*down)
		return l->resync_base + period;
	fast = period / DOWN_RESYNC_FACTOR;
	if (fast > DOWN_RESYNC_MAX_S * 1000LL)
		fast = DOWN_RESYNC_MAX_S * 1000LL;
	if (fast < 1000)
		fast = 1000;
	return (since > l->resync_base ? since : l->resync_base) + fast;
}

static int until(long long at, long long now, int cur)
{
	int t;

	if (at < 0)
		return cur;
	t = at <= now ? 0 : (at - now > 86400000LL ? 86400000 : (int)(at - now));
	return cur < 0 || t < cur ? t : cur;
}

/* Everything due now. */
static void run_timers(struct watcher *w, struct loop *l)
{
	int down;
	long long rs;

	if (l->fw)
		publish_files(w, l);
	if (l->poll_at >= 0 && l->now >= l->poll_at) {
		poll_git(w, l->last);
		l->now = pacer_now_ms();
		l->poll_at = l->now + (long long)w->o.interval_s * 1000;
	}
	rs = resync_at(w, l, &down);
	if (rs >= 0 && l->now >= rs) {
		watcher__trigger(w, down ? "resync (event stream down)" : "resync", 0);
		l->resync_base = l->now;
	}
	if (l->watchdog_at >= 0 && l->now >= l->watchdog_at) {
		sdnotify_watchdog();
		l->watchdog_at = l->now + l->watchdog_ms;
	}
}

static int next_timeout(struct watcher *w, struct loop *l)
{
	int down, t = -1;

	if (l->fw) {
		t = debounce_timeout_ms(&l->db, l->now);
		t = until(fswatch_timeout_ms(l->fw) < 0 ? -1 : l->now + fswatch_timeout_ms(l->fw),
		          l->now, t);
		t = until(l->hold_until, l->now, t);
	}
	t = until(l->poll_at, l->now, t);
	t = until(resync_at(w, l, &down), l->now, t);
	return until(l->watchdog_at, l->now, t);
}

static int loop_start(struct watcher *w, struct loop *l, struct pacer_error **err)
{
	int rc;

	memset(l, 0, sizeof(*l));
	/* pacer suspend/resume change this file: a sync at once, not at the next resync. */
	if (w->env && w->env->state_dir &&
	    asprintf(&l->susp_path, "%s/suspended.json", w->env->state_dir) < 0)
		l->susp_path = NULL;
	filestamp_changed(l->susp_path, &l->susp); /* as it is now: only later changes */
	l->now = l->resync_base = pacer_now_ms();
	l->poll_at = l->hold_until = -1;
	/* WatchdogSec=: the loop pings systemd; one that stops turning gets restarted. */
	l->watchdog_ms = sdnotify_watchdog_ms();
	l->watchdog_at = l->watchdog_ms ? l->now : -1;
	debounce_init(&l->db, w->o.debounce_ms);
	/* With --prune an endless burst is never read mid-way: no cap. */
	if (w->so.prune)
		debounce_set_max_wait(&l->db, -1);
	if (w->is_dir)
		return fswatch_new(&l->fw, w->o.source, err);
	remove_poll_cache(w);
	if ((rc = share_git_source(w, err)))
		return rc;
	poll_git(w, l->last); /* the startup sync covers this commit */
	l->poll_at = pacer_now_ms() + (long long)w->o.interval_s * 1000;
	return 0;
}

int watcher_run(struct watcher *w, struct pacer_error **err)
{
	struct loop l;
	int rc = loop_start(w, &l, err);

	if (rc)
		goto done;
	if (!*l.last) /* else the first poll's commit is the startup sync */
		watcher__trigger(w, "startup", 0);
	if (w->o.resync_interval_s > 0)
		PLOG_INFO("watching %s (%s); resync every %d s", w->o.source,
		          w->is_dir ? "inotify" : "git poll", w->o.resync_interval_s);
	else
		PLOG_INFO("watching %s (%s); periodic resync off (--resync-interval 0)",
		          w->o.source, w->is_dir ? "inotify" : "git poll");

	while (!*w->o.stop) {
		struct pollfd pfd[2] = {{w->pipe_r, POLLIN, 0},
		                        {l.fw ? fswatch_fd(l.fw) : -1, POLLIN, 0}};
		char drain[64];
		int timeout = next_timeout(w, &l);

		/* Look at the suspensions at least once a second. */
		if (timeout < 0 || timeout > SUSPEND_LOOK_MS)
			timeout = SUSPEND_LOOK_MS;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			rc = pacer_error_set(err, PACER_EIO, "poll failed: %s", strerror(errno));
			goto done;
		}
		l.now = pacer_now_ms();
		if (*w->o.stop)
			break;
		if (pfd[0].revents & POLLIN)
			while (read(w->pipe_r, drain, sizeof(drain)) > 0)
				;
		/* A lost root is looked for on its own timer, events or not. */
		if (l.fw && ((pfd[1].revents & POLLIN) || fswatch_timeout_ms(l.fw) >= 0))
			read_files(w, &l);
		if (filestamp_changed(l.susp_path, &l.susp))
			watcher__trigger(w, "suspensions changed", 0);
		run_timers(w, &l);
	}
done:
	fswatch_free(l.fw);
	free(l.susp_path);
	return rc;
}

/* ---- life cycle ---- */

/*
 * The queue: envsync's syncs, retried with backoff, superseded by a newer
 * source (the supersede flag is the syncs' sync_options.abandon), with
 * watch's hooks (drift checks, the prune's second look). Then the threads:
 * the runner's worker, and the event stream (not fatal when it cannot start).
 */
static int start_threads(struct watcher *w, struct pacer_error **err)
{
	struct runner_options ro = RUNNER_OPTIONS_INIT;
	struct pacer_error *ev_err = NULL;
	int rc;

	ro.sync = envsync_run;
	ro.ctx = w->sync;
	ro.interrupt = envsync_interrupt;
	ro.supersede = w->o.supersede;
	ro.stop = w->o.stop;
	ro.retry = 1;
	watcher__hooks(w, &ro.hooks);
	if ((rc = runner_new(&w->runner, &ro, err)) || (rc = runner_start(w->runner, err)))
		return rc;
	if (watcher__events_start(w, &ev_err))
		PLOG_ERROR("events: %s; drift is only caught by --resync-interval",
		           ev_err->message);
	pacer_error_free(ev_err);
	return 0;
}

/* Signals: cli's handlers set the stop flag and wake poll() through the pipe. */
static int install_signals(struct watcher *w, struct pacer_error **err)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK))
		return pacer_error_set(err, -1, "cannot create a pipe: %s", strerror(errno));
	w->pipe_r = pfd[0];
	w->pipe_w = pfd[1];
	cli_signals_wake(w->pipe_w);
	return 0;
}

int watcher_new(struct watcher **out, const struct watcher_options *opts, struct envsync *sync,
                struct cli_env *env, struct pacer_error **err)
{
	struct watcher *w = calloc(1, sizeof(*w));
	struct sync_options defaults = SYNC_OPTIONS_INIT;
	struct stat st;
	int rc;

	*out = NULL;
	if (!w)
		return pacer_error_set(err, -1, "out of memory");
	w->o = *opts;
	w->so = opts->sync ? *opts->sync : defaults;
	w->sync = sync;
	w->env = env;
	w->pipe_r = w->pipe_w = -1;
	w->is_dir = !stat(opts->source, &st) && S_ISDIR(st.st_mode) && !strstr(opts->source, "://");
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->git_mu, NULL);
	pacer_cond_init(&w->cv);
	if ((rc = install_signals(w, err)) || (rc = start_threads(w, err)))
		goto fail;
	*out = w;
	return 0;
fail:
	runner_free(w->runner);
	cli_signals_wake(-1);
	if (w->pipe_r >= 0)
		close(w->pipe_r);
	if (w->pipe_w >= 0)
		close(w->pipe_w);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->git_mu);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return rc;
}

void watcher_free(struct watcher *w)
{
	if (!w)
		return;
	/* Stop: abandon the wait in flight (no rollback), let the worker finish. */
	*w->o.stop = 1;
	sdnotify_stopping();
	PLOG_INFO("stopping: waiting for the sync in flight");
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);

	runner_stop(w->runner, RUNNER_SUPERSEDE);
	evstream_free(w->events);
	runner_free(w->runner);
	if (w->git_inner) { /* the syncs read env->source no more */
		pacer_source_free(w->env->source);
		w->env->source = w->git_inner;
	}
	watcher__check_release(&w->check);
	watcher__notes_clear(w);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->git_mu);
	pthread_mutex_destroy(&w->mu);
	cli_signals_wake(-1);
	close(w->pipe_r);
	close(w->pipe_w);
	free(w);
}
