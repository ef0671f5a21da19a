/*
 * watcher.c: the event loop of pacer watch (contract in watcher.h).
 *
 * One poll() over the inotify fd (directory source) and a self-pipe that
 * the SIGTERM/SIGINT handler writes to, with three timers: the debounce,
 * the git poll and the full resync. Syncs run in a worker thread so the
 * loop stays responsive; a drift thread reads Marathon's event stream and
 * warns when an app is changed outside pacer. Transient failures (Marathon
 * down, git unreachable) are retried with backoff; nothing but a signal
 * ends the loop.
 */
#include "cmd/pacer/watcher.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/fs/watch.h"
#include "backends/git/source.h"
#include "backends/marathon/client.h"
#include "cmd/pacer/sdnotify.h"
#include "reconcile/log.h"

/* The sync queue: at most one sync pending behind the running one. */
struct watcher {
	struct watcher_options o;
	struct runner *runner;
	struct cli_env *env;
	int pipe_r, pipe_w; /* the self-pipe: the signal handler wakes poll() */
	pthread_t worker, events;
	int has_events; /* the drift thread started */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending, quit;
	int running; /* the worker runs a sync taken before now */
	char reason[160];
};

/* For the signal handler, which gets no context: one watcher per process. */
static volatile sig_atomic_t *sig_stop;
static int sig_pipe_w = -1;

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	*sig_stop = 1;
	if (sig_pipe_w >= 0 && write(sig_pipe_w, "x", 1) < 0) {
		/* the pipe is full: the loop wakes anyway */
	}
	errno = saved;
}

/* Queue a sync. newer: the source changed, so a sync still waiting is abandoned. */
static void watcher_trigger(struct watcher *w, const char *reason, int newer)
{
	pthread_mutex_lock(&w->mu);
	if (!w->pending)
		snprintf(w->reason, sizeof(w->reason), "%s", reason);
	w->pending = 1;
	/* Under the lock: the sync running now was taken before this change. */
	if (newer && w->running)
		*w->o.abandon = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int transient(int rc)
{
	return rc == PACER_EUNREACHABLE || rc == PACER_EIO || rc == PACER_EAUTH ||
	       rc == PACER_EHTTP || rc == PACER_ETIMEOUT || rc == PACER_ENOTFOUND ||
	       rc == PACER_EGENERIC || rc == PACER_ELOCKED;
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* The sync worker: runs queued syncs; retries transient failures with backoff. */
static void *watcher_worker(void *arg)
{
	struct watcher *w = arg;
	long backoff_ms = 0;
	char reason[160];
	int ready = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (backoff_ms && !w->pending && !w->quit) {
			struct timespec ts;

			deadline_in(&ts, backoff_ms);
			if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT &&
			    !w->pending) {
				w->pending = 1;
				snprintf(w->reason, sizeof(w->reason), "retry");
			}
			continue;
		}
		while (!w->pending && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		w->pending = 0;
		w->running = 1;
		*w->o.abandon = 0;
		memcpy(reason, w->reason, sizeof(reason));
		pthread_mutex_unlock(&w->mu);

		int rc = runner_sync(w->runner, reason, NULL);

		/* Type=notify: started once the first sync has returned, however it went. */
		if (!ready)
			sdnotify_ready();
		ready = 1;
		pthread_mutex_lock(&w->mu);
		w->running = 0;
		*w->o.abandon = 0;
		if (rc && transient(rc) && !*w->o.stop) {
			backoff_ms = backoff_ms ? backoff_ms * 2 : 1000;
			if (backoff_ms > 60000)
				backoff_ms = 60000;
			PLOG_WARN("sync failed (%s); retrying in %ld s", pacer_code_name(rc),
			          backoff_ms / 1000);
		} else {
			backoff_ms = 0;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* An api_post_event: warn when it moved an app away from the desired state. */
static int on_marathon_event(void *ctx, const char *type, struct json_object *data)
{
	struct watcher *w = ctx;
	struct json_object *def;
	char *id = NULL, *paths = NULL;

	if (strcmp(type, "api_post_event") ||
	    !json_object_object_get_ex(data, "appDefinition", &def))
		return 0;
	/*
	 * While a sync runs, the PUTs are pacer's own (or its rollbacks), made
	 * for a desired state the runner does not hold yet: skip them. Once it
	 * has ended, its desired state is the reference, and a late event for
	 * one of its PUTs matches it. Drift missed meanwhile: --resync-interval.
	 */
	if (runner_busy(w->runner)) {
		PLOG_DEBUG("drift: event during a sync ignored");
		return 0;
	}
	if (runner_drift(w->runner, def, &id, &paths) == 1) {
		PLOG_WARN("drift: app=%s changed outside pacer (%s)%s", id, paths,
		          w->o.self_heal ? "; reverting (--self-heal)"
		                         : "; the next sync reverts it (or use --self-heal)");
		if (w->o.self_heal)
			watcher_trigger(w, "drift", 0);
	}
	free(id);
	free(paths);
	return 0;
}

/* The drift thread: follow /v2/events, reconnecting with backoff. */
static void *watcher_events(void *arg)
{
	static const char *const types[] = {"api_post_event", NULL};
	struct watcher *w = arg;
	long backoff_ms = 500;

	while (!*w->o.stop) {
		struct pacer_error *err = NULL;
		int rc = marathon_events_open(w->env->marathon, types, on_marathon_event, w,
		                              w->o.stop, &err);

		if (*w->o.stop)
			break;
		if (rc) {
			char *msg = pacer_error_format(err);

			PLOG_WARN("drift: the Marathon event stream failed (%s); reconnecting in "
			          "%ld ms",
			          msg ? msg : "?", backoff_ms);
			free(msg);
		}
		pacer_error_free(err);
		/* Wait, waking at once on a stop. */
		for (long waited = 0; waited < backoff_ms && !*w->o.stop; waited += 100) {
			struct timespec ts = {0, 100 * 1000000L};

			nanosleep(&ts, NULL);
		}
		backoff_ms = rc ? (backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2) : 500;
	}
	return NULL;
}

/* A second git source with its own cache, so polls never race the sync's reads. */
static int open_poller(struct pacer_source **out, const struct watcher *w, struct pacer_error **err)
{
	struct gitsrc_options go = GITSRC_OPTIONS_INIT;
	char *cache = NULL;
	int rc = -1;

	if (asprintf(&cache, "%s/git-poll", w->env->state_dir) < 0) {
		cache = NULL;
		goto done;
	}
	mkdir(cache, 0700);
	go.url = w->o.source;
	go.ref = w->o.ref;
	go.path = w->o.path;
	go.cache_dir = cache;
	go.cancel = (const volatile int *)w->o.stop;
	rc = gitsrc_options_from_env(&go, err);
	if (!rc)
		rc = gitsrc_new(out, &go, err);
done:
	gitsrc_options_release(&go);
	free(cache);
	return rc;
}

/* Poll the git ref; a new commit is a sync that supersedes the running one. */
static void poll_git(struct watcher *w, struct pacer_source *poller, char last[41])
{
	struct pacer_error *err = NULL;
	char head[41];

	if (gitsrc_resolve(poller, head, &err)) {
		char *msg = pacer_error_format(err);

		if (!*w->o.stop)
			PLOG_WARN("git poll failed: %s; trying again at the next interval",
			          msg ? msg : "?");
		free(msg);
	} else if (strcmp(head, last)) {
		char reason[80];

		snprintf(reason, sizeof(reason), "commit %.12s", head);
		if (*last)
			PLOG_INFO("git: new commit %s (was %.12s)", head, last);
		memcpy(last, head, 41);
		watcher_trigger(w, reason, 1);
	}
	pacer_error_free(err);
}

static long long next_at(long long now, int seconds)
{
	return seconds > 0 ? now + (long long)seconds * 1000 : -1;
}

static int until(long long at, long long now, int cur)
{
	int t;

	if (at < 0)
		return cur;
	t = at <= now ? 0 : (int)(at - now);
	return cur < 0 || t < cur ? t : cur;
}

int watcher_new(struct watcher **out, const struct watcher_options *opts, struct runner *runner,
                struct cli_env *env, struct pacer_error **err)
{
	struct watcher *w = calloc(1, sizeof(*w));
	struct sigaction sa;
	int pfd[2], rc;

	*out = NULL;
	if (!w)
		return pacer_error_set(err, -1, "out of memory");
	w->o = *opts;
	w->runner = runner;
	w->env = env;
	w->pipe_r = w->pipe_w = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);

	/* Signals: the handler sets the shared stop flag and wakes poll(). */
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK)) {
		rc = pacer_error_set(err, -1, "cannot create a pipe: %s", strerror(errno));
		goto fail;
	}
	w->pipe_r = pfd[0];
	w->pipe_w = pfd[1];
	sig_stop = w->o.stop;
	sig_pipe_w = w->pipe_w;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if ((rc = pthread_create(&w->worker, NULL, watcher_worker, w)) != 0) {
		rc = pacer_error_set(err, -1, "cannot start the sync thread: %s", strerror(rc));
		goto fail;
	}
	if ((rc = pthread_create(&w->events, NULL, watcher_events, w)) != 0)
		PLOG_ERROR("drift: cannot start the event stream thread (%s); drift is only "
		           "caught by --resync-interval",
		           strerror(rc));
	else
		w->has_events = 1;
	*out = w;
	return 0;
fail:
	sig_pipe_w = -1;
	if (w->pipe_r >= 0)
		close(w->pipe_r);
	if (w->pipe_w >= 0)
		close(w->pipe_w);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return rc;
}

int watcher_run(struct watcher *w, struct pacer_error **err)
{
	struct fswatch *fw = NULL;
	struct pacer_source *poller = NULL;
	struct debounce db;
	struct stat st;
	char last[41] = "";
	long long now = debounce_now_ms(), poll_at = -1, resync_at;
	/* WatchdogSec=: the loop pings systemd; one that stops turning gets restarted. */
	long watchdog_ms = sdnotify_watchdog_ms();
	long long watchdog_at = watchdog_ms ? now : -1;
	int is_dir = !stat(w->o.source, &st) && S_ISDIR(st.st_mode) && !strstr(w->o.source, "://");
	int rc = 0;

	debounce_init(&db, w->o.debounce_ms);
	if (is_dir) {
		rc = fswatch_new(&fw, w->o.source, err);
	} else {
		rc = open_poller(&poller, w, err);
		if (!rc)
			poll_git(w, poller, last); /* the startup sync covers this commit */
		poll_at = next_at(now, w->o.interval_s);
	}
	if (rc)
		goto done;
	if (!*last) /* else the first poll's commit is the startup sync */
		watcher_trigger(w, "startup", 0);
	resync_at = next_at(now, w->o.resync_interval_s);
	PLOG_INFO("watching %s (%s); resync every %d s", w->o.source,
	          is_dir ? "inotify" : "git poll", w->o.resync_interval_s);

	while (!*w->o.stop) {
		struct pollfd pfd[2] = {{w->pipe_r, POLLIN, 0},
		                        {fw ? fswatch_fd(fw) : -1, POLLIN, 0}};
		int timeout = debounce_timeout_ms(&db, now);

		timeout = until(poll_at, now, timeout);
		timeout = until(resync_at, now, timeout);
		timeout = until(watchdog_at, now, timeout);
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			rc = pacer_error_set(err, PACER_EIO, "poll failed: %s", strerror(errno));
			goto done;
		}
		now = debounce_now_ms();
		if (*w->o.stop)
			break;
		if (fw && (pfd[1].revents & POLLIN)) {
			struct pacer_error *rerr = NULL;
			int changed = 0, overflow = 0;

			/* Not fatal: the next event or the resync catches up. */
			if (fswatch_read(fw, &changed, &overflow, &rerr)) {
				char *msg = pacer_error_format(rerr);

				PLOG_WARN("watch: %s", msg ? msg : "?");
				free(msg);
			}
			pacer_error_free(rerr);
			if (changed || overflow)
				debounce_note(&db, now);
		}
		if (debounce_due(&db, now))
			watcher_trigger(w, "files changed", 1);
		if (poll_at >= 0 && now >= poll_at) {
			poll_git(w, poller, last);
			now = debounce_now_ms();
			poll_at = next_at(now, w->o.interval_s);
		}
		if (resync_at >= 0 && now >= resync_at) {
			watcher_trigger(w, "resync", 0);
			resync_at = next_at(now, w->o.resync_interval_s);
		}
		if (watchdog_at >= 0 && now >= watchdog_at) {
			sdnotify_watchdog();
			watchdog_at = now + watchdog_ms;
		}
	}
done:
	fswatch_free(fw);
	pacer_source_free(poller);
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
	if (w->running)
		*w->o.abandon = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);

	pthread_join(w->worker, NULL);
	if (w->has_events)
		pthread_join(w->events, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	sig_pipe_w = -1;
	close(w->pipe_r);
	close(w->pipe_w);
	free(w);
}
