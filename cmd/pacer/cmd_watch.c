/*
 * pacer watch: keep Marathon equal to the desired state for as long as it
 * runs. Options, then the wiring: the environment (cli.h), what a sync is
 * (envsync.h) and the event loop (watcher.h: inotify or git polling, drift
 * from Marathon's event stream, debounce, resync, newest wins), which feeds
 * the sync queue (runner.h).
 * Exits 0 on SIGTERM/SIGINT once the sync in flight has returned.
 */
#include <stdio.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/envsync.h"
#include "cmd/pacer/notifier.h"
#include "cmd/pacer/report.h"
#include "cmd/pacer/watcher.h"
#include "reconcile/base/log.h"
#include "reconcile/metrics.h"

struct watch_cli {
	struct cli_common c;
	struct watcher_options w;
	const char *metrics_file;
	struct cli_apply a;
	struct cli_notify n;
};

static const struct opt_spec watch_options[] = {
    CLI_SOURCE_ROWS(struct watch_cli),
    CLI_MARATHON_ROWS(struct watch_cli),
    CLI_STATE_ROWS(struct watch_cli),
    CLI_OUTPUT_ROWS(struct watch_cli),
    {"debounce", 0, OPT_INT, offsetof(struct watch_cli, w.debounce_ms), "MS",
     "sync once file changes have stopped for MS milliseconds (default 500)", "PACER_DEBOUNCE"},
    {"interval", 0, OPT_INT, offsetof(struct watch_cli, w.interval_s), "SECONDS",
     "how often to look for a new commit of a git source (default 60)", "PACER_INTERVAL"},
    {"resync-interval", 0, OPT_INT, offsetof(struct watch_cli, w.resync_interval_s), "SECONDS",
     "full sync this often, catching what the event stream missed (default 300, 0 = off)",
     "PACER_RESYNC_INTERVAL"},
    {"self-heal", 0, OPT_BOOL, offsetof(struct watch_cli, w.self_heal), NULL,
     "revert apps changed outside pacer at once (default: only warn)", "PACER_SELF_HEAL"},
    {"metrics-file", 0, OPT_STRING, offsetof(struct watch_cli, metrics_file), "PATH",
     "after every sync, write Prometheus metrics for node_exporter's textfile collector",
     "PACER_METRICS_FILE"},
    CLI_APPLY_ROWS(struct watch_cli),
    CLI_NOTIFY_ROWS(struct watch_cli),
    OPT_ROW_END,
};

static const struct watch_cli watch_defaults = {
    .w = WATCHER_OPTIONS_INIT, .a = CLI_APPLY_INIT, .n = CLI_NOTIFY_INIT};

static int watch_prepare(struct cmd_ctx *ctx)
{
	const struct watch_cli *o = ctx->opts;
	struct sync_options so = SYNC_OPTIONS_INIT;

	if (cli_apply_options(&o->a, &so) || o->w.debounce_ms < 0 || o->w.interval_s < 1 ||
	    o->w.resync_interval_s < 0) {
		fprintf(stderr, "pacer watch: --on-failure must be rollback, restart or none; "
		                "--debounce >= 0, --interval >= 1, --resync-interval >= 0\n");
		return PACER_EXIT_USAGE;
	}
	return 0;
}

static int watch_cmd(struct cmd_ctx *ctx)
{
	/* Newest wins: the watcher's runner sets it to end an older sync's wait. */
	static volatile sig_atomic_t supersede;
	struct watch_cli *o = ctx->opts;
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct pacer_error *err = NULL;
	struct envsync *es = NULL;
	struct watcher *w = NULL;
	struct notifier *nt = NULL;
	struct metrics *nm = NULL;
	int code = PACER_EXIT_FAILED;

	cli_apply_options(&o->a, &so); /* checked by watch_prepare() */
	so.flags = &ctx->env.flags;
	so.cache_tag = cli_cache_tag();
	so.stop = o->w.stop = cli_install_signals();
	so.abandon = o->w.supersede = &supersede;
	o->w.sync = &so;
	o->w.source = o->c.source;
	o->w.ref = o->c.ref;
	o->w.path = o->c.path;
	if (envsync_new(&es, &ctx->env, &so, &err))
		goto done;
	if (o->metrics_file) {
		envsync_set_metrics_file(es, "watch", o->metrics_file);
		/* Deliveries are counted here, from the file's counts on. */
		if (!metrics_new_pacer(&nm, NULL))
			report_metrics_seed(o->metrics_file, nm);
	}
	if (notifier_open(&nt, &o->n, &o->c, ctx->env.state, nm, &err)) {
		if (err && err->code == PACER_EINVALID)
			code = PACER_EXIT_USAGE;
		goto done;
	}
	envsync_set_notifier(es, nt, nm);
	if (watcher_new(&w, &o->w, es, &ctx->env, &err))
		goto done;
	code = watcher_run(w, &err) ? PACER_EXIT_FAILED : PACER_EXIT_OK;
done:
	if (code)
		cli_print_error("watch", err);
	watcher_free(w); /* waits for the sync in flight */
	notifier_drain(nt);
	notifier_free(nt);
	metrics_free(nm);
	if (!code)
		PLOG_INFO("stopped");
	envsync_free(es);
	pacer_error_free(err);
	return code;
}

const struct cmd_spec cmd_watch_spec = CMD_SPEC(
    struct watch_cli, watch_options, "--source DIR|URL [--marathon URL] [--self-heal] [options]",
    .defaults = &watch_defaults, .prepare = watch_prepare, .run = watch_cmd);
