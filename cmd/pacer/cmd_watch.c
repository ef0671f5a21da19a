/*
 * pacer watch: keep Marathon equal to the desired state for as long as it
 * runs. One event loop (poll) over the inotify fd (directory source), a
 * self-pipe for SIGTERM/SIGINT and three timers: the debounce, the git poll
 * (--interval) and the full resync (--resync-interval). Syncs run in a
 * worker thread (runner.h) so the loop stays responsive; a drift thread
 * reads Marathon's event stream and warns when an app is changed outside
 * pacer.
 *
 * Newest wins: a change that arrives while a sync is still waiting for its
 * deployments abandons that wait (no rollback) and a new sync starts at
 * once; its PUT with force supersedes the stuck deployment. Transient
 * failures (Marathon down, git unreachable) are retried with backoff;
 * nothing but a signal ends the loop.
 */
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
#include "cmd/pacer/cli.h"
#include "cmd/pacer/report.h"
#include "cmd/pacer/runner.h"
#include "reconcile/log.h"

struct watch_cli {
	struct cli_common c;
	int debounce, interval, resync_interval, self_heal;
	const char *metrics_file;
	struct cli_apply a;
};

static const struct opt_spec watch_options[] = {
    CLI_SOURCE_ROWS(struct watch_cli),
    CLI_MARATHON_ROWS(struct watch_cli),
    CLI_STATE_ROWS(struct watch_cli),
    CLI_OUTPUT_ROWS(struct watch_cli),
    {"debounce", 0, OPT_INT, offsetof(struct watch_cli, debounce), "MS",
     "sync once file changes have stopped for MS milliseconds (default 500)", "PACER_DEBOUNCE"},
    {"interval", 0, OPT_INT, offsetof(struct watch_cli, interval), "SECONDS",
     "how often to look for a new commit of a git source (default 60)", "PACER_INTERVAL"},
    {"resync-interval", 0, OPT_INT, offsetof(struct watch_cli, resync_interval), "SECONDS",
     "full sync this often, catching what the event stream missed (default 300, 0 = off)",
     "PACER_RESYNC_INTERVAL"},
    {"self-heal", 0, OPT_BOOL, offsetof(struct watch_cli, self_heal), NULL,
     "revert apps changed outside pacer at once (default: only warn)", "PACER_SELF_HEAL"},
    {"metrics-file", 0, OPT_STRING, offsetof(struct watch_cli, metrics_file), "PATH",
     "after every sync, write Prometheus metrics for node_exporter's textfile collector",
     "PACER_METRICS_FILE"},
    CLI_APPLY_ROWS(struct watch_cli),
    OPT_ROW_END,
};

/* The sync queue: at most one sync pending behind the running one. */
struct watch {
	struct runner *runner;
	struct cli_env *env;
	volatile sig_atomic_t *stop;
	int self_heal;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending, quit;
	int running;                   /* the worker runs a sync taken before now */
	volatile sig_atomic_t abandon; /* sync_options.abandon of the runner */
	char reason[160];
};

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
static void watch_trigger(struct watch *w, const char *reason, int newer)
{
	pthread_mutex_lock(&w->mu);
	if (!w->pending)
		snprintf(w->reason, sizeof(w->reason), "%s", reason);
	w->pending = 1;
	/* Under the lock: the sync running now was taken before this change. */
	if (newer && w->running)
		w->abandon = 1;
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
static void *watch_worker(void *arg)
{
	struct watch *w = arg;
	long backoff_ms = 0;
	char reason[160];

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
		w->abandon = 0;
		memcpy(reason, w->reason, sizeof(reason));
		pthread_mutex_unlock(&w->mu);

		int rc = runner_sync(w->runner, reason, NULL);

		pthread_mutex_lock(&w->mu);
		w->running = 0;
		w->abandon = 0;
		if (rc && transient(rc) && !*w->stop) {
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
	struct watch *w = ctx;
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
		          w->self_heal ? "; reverting (--self-heal)"
		                       : "; the next sync reverts it (or use --self-heal)");
		if (w->self_heal)
			watch_trigger(w, "drift", 0);
	}
	free(id);
	free(paths);
	return 0;
}

/* The drift thread: follow /v2/events, reconnecting with backoff. */
static void *watch_events(void *arg)
{
	static const char *const types[] = {"api_post_event", NULL};
	struct watch *w = arg;
	long backoff_ms = 500;

	while (!*w->stop) {
		struct pacer_error *err = NULL;
		int rc = marathon_events_open(w->env->marathon, types, on_marathon_event, w,
		                              w->stop, &err);

		if (*w->stop)
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
		for (long waited = 0; waited < backoff_ms && !*w->stop; waited += 100) {
			struct timespec ts = {0, 100 * 1000000L};

			nanosleep(&ts, NULL);
		}
		backoff_ms = rc ? (backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2) : 500;
	}
	return NULL;
}

/* A second git source with its own cache, so polls never race the sync's reads. */
static int open_poller(struct pacer_source **out, const struct cli_env *env,
                       const struct cli_common *c, struct pacer_error **err)
{
	struct gitsrc_options go = GITSRC_OPTIONS_INIT;
	char *cache = NULL;
	int rc = -1;

	if (asprintf(&cache, "%s/git-poll", env->state_dir) < 0) {
		cache = NULL;
		goto done;
	}
	mkdir(cache, 0700);
	go.url = c->source;
	go.ref = c->ref;
	go.path = c->path;
	go.cache_dir = cache;
	go.cancel = (const volatile int *)sig_stop;
	rc = gitsrc_options_from_env(&go, err);
	if (!rc)
		rc = gitsrc_new(out, &go, err);
done:
	gitsrc_options_release(&go);
	free(cache);
	return rc;
}

/* Poll the git ref; a new commit is a sync that supersedes the running one. */
static void poll_git(struct watch *w, struct pacer_source *poller, char last[41])
{
	struct pacer_error *err = NULL;
	char head[41];

	if (gitsrc_resolve(poller, head, &err)) {
		char *msg = pacer_error_format(err);

		if (!*w->stop)
			PLOG_WARN("git poll failed: %s; trying again at the next interval",
			          msg ? msg : "?");
		free(msg);
	} else if (strcmp(head, last)) {
		char reason[80];

		snprintf(reason, sizeof(reason), "commit %.12s", head);
		if (*last)
			PLOG_INFO("git: new commit %s (was %.12s)", head, last);
		memcpy(last, head, 41);
		watch_trigger(w, reason, 1);
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

/* The event loop; returns when a signal arrives. */
static int watch_loop(struct watch *w, const struct watch_cli *o, int pipe_r)
{
	struct fswatch *fw = NULL;
	struct pacer_source *poller = NULL;
	struct pacer_error *err = NULL;
	struct debounce db;
	struct stat st;
	char last[41] = "";
	long long now = debounce_now_ms(), poll_at = -1, resync_at;
	int is_dir = !stat(o->c.source, &st) && S_ISDIR(st.st_mode) && !strstr(o->c.source, "://");
	int rc = 0;

	debounce_init(&db, o->debounce);
	if (is_dir) {
		rc = fswatch_new(&fw, o->c.source, &err);
	} else {
		rc = open_poller(&poller, w->env, &o->c, &err);
		if (!rc)
			poll_git(w, poller, last); /* the startup sync covers this commit */
		poll_at = next_at(now, o->interval);
	}
	if (rc)
		goto done;
	if (!*last) /* else the first poll's commit is the startup sync */
		watch_trigger(w, "startup", 0);
	resync_at = next_at(now, o->resync_interval);
	PLOG_INFO("watching %s (%s); resync every %d s", o->c.source,
	          is_dir ? "inotify" : "git poll", o->resync_interval);

	while (!*w->stop) {
		struct pollfd pfd[2] = {{pipe_r, POLLIN, 0}, {fw ? fswatch_fd(fw) : -1, POLLIN, 0}};
		int timeout = debounce_timeout_ms(&db, now);

		timeout = until(poll_at, now, timeout);
		timeout = until(resync_at, now, timeout);
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			rc = pacer_error_set(&err, PACER_EIO, "poll failed: %s", strerror(errno));
			goto done;
		}
		now = debounce_now_ms();
		if (*w->stop)
			break;
		if (fw && (pfd[1].revents & POLLIN)) {
			int changed = 0, overflow = 0;

			if (fswatch_read(fw, &changed, &overflow, &err)) {
				char *msg = pacer_error_format(err);

				PLOG_WARN("watch: %s", msg ? msg : "?");
				free(msg);
				pacer_error_clear(&err);
			}
			if (changed || overflow)
				debounce_note(&db, now);
		}
		if (debounce_due(&db, now))
			watch_trigger(w, "files changed", 1);
		if (poll_at >= 0 && now >= poll_at) {
			poll_git(w, poller, last);
			now = debounce_now_ms();
			poll_at = next_at(now, o->interval);
		}
		if (resync_at >= 0 && now >= resync_at) {
			watch_trigger(w, "resync", 0);
			resync_at = next_at(now, o->resync_interval);
		}
	}
done:
	if (rc)
		cli_print_error("watch", err);
	pacer_error_free(err);
	fswatch_free(fw);
	pacer_source_free(poller);
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_cli o = {
	    .a = CLI_APPLY_INIT, .debounce = 500, .interval = 60, .resync_interval = 300};
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct pacer_error *err = NULL;
	struct watch w = {0};
	struct cli_env env;
	struct sigaction sa;
	pthread_t worker, events;
	int npos, rc, code, pfd[2] = {-1, -1}, started = 0;

	rc = opt_parse("watch", "--source DIR|URL [--marathon URL] [--self-heal] [options]",
	               watch_options, &o, argc, argv, NULL, 0, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (cli_apply_options(&o.a, &so) || o.debounce < 0 ||
	    o.interval < 1 || o.resync_interval < 0) {
		fprintf(stderr, "pacer watch: --on-failure must be rollback, restart or none; "
		                "--debounce >= 0, --interval >= 1, --resync-interval >= 0\n");
		return PACER_EXIT_USAGE;
	}
	code = cli_env_open(&env, &o.c, CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_NEED_STATE);
	if (code)
		return code;

	/* Signals: the handler sets the shared stop flag and wakes poll(). */
	sig_stop = cli_install_signals();
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, "pacer watch: cannot create a pipe: %s\n", strerror(errno));
		code = PACER_EXIT_FAILED;
		goto done;
	}
	sig_pipe_w = pfd[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	so.flags = &env.flags;
	so.cache_tag = cli_cache_tag();
	so.stop = sig_stop;
	so.abandon = &w.abandon;
	if (runner_new(&w.runner, &env, &so, NULL, &err)) {
		cli_print_error("watch", err);
		code = PACER_EXIT_FAILED;
		goto done;
	}
	if (o.metrics_file)
		runner_set_metrics_file(w.runner, "watch", o.metrics_file);
	w.env = &env;
	w.stop = sig_stop;
	w.self_heal = o.self_heal;
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	if (pthread_create(&worker, NULL, watch_worker, &w)) {
		code = PACER_EXIT_FAILED;
		goto done;
	}
	started = 1;
	if ((rc = pthread_create(&events, NULL, watch_events, &w)) != 0)
		PLOG_ERROR("drift: cannot start the event stream thread (%s); drift is only "
		           "caught by --resync-interval",
		           strerror(rc));
	else
		started = 2;

	code = watch_loop(&w, &o, pfd[0]) ? PACER_EXIT_FAILED : PACER_EXIT_OK;

	/* Stop: abandon the wait in flight (no rollback), let the worker finish. */
	*sig_stop = 1;
	PLOG_INFO("stopping: waiting for the sync in flight");
	pthread_mutex_lock(&w.mu);
	w.quit = 1;
	if (w.running)
		w.abandon = 1;
	pthread_cond_signal(&w.cv);
	pthread_mutex_unlock(&w.mu);
done:
	if (started) {
		pthread_join(worker, NULL);
		if (started == 2)
			pthread_join(events, NULL);
		pthread_cond_destroy(&w.cv);
		pthread_mutex_destroy(&w.mu);
	}
	if (!code)
		PLOG_INFO("stopped");
	sig_pipe_w = -1;
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	runner_free(w.runner);
	pacer_error_free(err);
	cli_env_release(&env);
	return code;
}
