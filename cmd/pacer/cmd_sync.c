/*
 * pacer sync: one reconciliation run, for people, cron and systemd timers.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/deploybell.h"
#include "cmd/pacer/notifier.h"
#include "cmd/pacer/progress.h"
#include "cmd/pacer/remote.h"
#include "cmd/pacer/report.h"
#include "reconcile/metrics.h"

struct sync_cli {
	struct cli_common c;
	int dry_run;
	struct cli_apply a;
	const char *metrics_file;
	struct cli_notify n;
	struct sync_options so; /* from a, by sync_prepare() */
};

static const struct opt_spec sync_options[] = {
	CLI_SOURCE_ROWS(struct sync_cli),
	CLI_MARATHON_ROWS(struct sync_cli),
	CLI_STATE_ROWS(struct sync_cli),
	CLI_OUTPUT_ROWS(struct sync_cli),
	CLI_APPLY_ROWS(struct sync_cli),
	CLI_SERVER_ROWS(struct sync_cli),
	{"dry-run", 'n', OPT_BOOL, offsetof(struct sync_cli, dry_run), NULL,
	 "show the plan, change nothing; exit like diff (0 in sync, 2 changes pending)", NULL},
	{"metrics-file", 0, OPT_STRING, offsetof(struct sync_cli, metrics_file), "PATH",
	 "write Prometheus metrics for node_exporter's textfile collector", "PACER_METRICS_FILE"},
	CLI_NOTIFY_ROWS(struct sync_cli),
	OPT_ROW_END,
};

static const struct sync_cli sync_defaults = {
    .a = CLI_APPLY_INIT, .n = CLI_NOTIFY_INIT, .so = SYNC_OPTIONS_INIT};

/*
 * The notifier of a run that may change something (a dry run tells
 * nobody), and the registry counting its deliveries for --metrics-file,
 * carried over from the file. Returns 0 or the exit code.
 */
static int sync_notifier(struct sync_cli *o, struct cli_env *env, struct notifier **nt,
                         struct metrics **nm)
{
	struct pacer_error *err = NULL;
	int rc;

	if (o->dry_run)
		return 0;
	if (o->metrics_file && !metrics_new_pacer(nm, NULL))
		report_metrics_seed(o->metrics_file, *nm);
	rc = notifier_open(nt, &o->n, &o->c, env->state, *nm, &err);
	if (!rc)
		return 0;
	cli_print_error("sync", err);
	pacer_error_free(err);
	return rc == PACER_EINVALID ? PACER_EXIT_USAGE : PACER_EXIT_FAILED;
}

/* The apply options are checked before anything is opened; a dry run only reads the state. */
static int sync_prepare(struct cmd_ctx *ctx)
{
	struct sync_cli *o = ctx->opts;

	if (ctx->remote)
		return 0;
	if (cli_apply_options(&o->a, &o->so)) {
		fprintf(stderr, "pacer sync: --on-failure must be rollback, restart or none\n");
		return PACER_EXIT_USAGE;
	}
	if (o->dry_run)
		ctx->needs = (ctx->needs & ~(unsigned)CLI_NEED_STATE) | CLI_READ_STATE;
	return 0;
}

static int sync_cmd(struct cmd_ctx *ctx)
{
	struct sync_cli *o = ctx->opts;
	struct sync_options *so = &o->so;
	struct cli_env *env = &ctx->env;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct progress prog;
	struct report_gate gate;
	struct report_opts ro = {0, 0, 0};
	struct notifier *nt = NULL;
	struct metrics *nm = NULL;
	struct deploybell *bell = NULL;
	int rc, code;

	/* --server: the running service syncs (queued, answered at once). */
	if (ctx->remote)
		return remote_sync(&o->c, (const char *const *)ctx->ids, (size_t)ctx->nargs);
	progress_init(&prog, o->c.quiet || (o->c.output && !strcmp(o->c.output, "json"))
				     ? PROGRESS_QUIET
				     : PROGRESS_SHOW);
	so->dry_run = o->dry_run;
	so->trigger = "cli";
	so->flags = &env->flags;
	/* Only these apps, and what they depend on (the plan keeps the order). */
	so->only = ctx->nargs ? (const char *const *)ctx->ids : NULL;
	so->nonly = (size_t)ctx->nargs;
	so->cache_tag = cli_cache_tag();
	so->stop = cli_install_signals();
	so->on_event = progress_event;
	so->event_ctx = &prog;
	if ((code = sync_notifier(o, env, &nt, &nm)))
		return code;
	if (!ctx->nargs) { /* a sync of some apps posts no commit status */
		so->on_revision = notifier_revision;
		so->revision_ctx = nt;
	}
	/* Deployment events make the waits end as soon as Marathon is done. */
	if (!o->dry_run && !deploybell_new(&bell, env->marathon, NULL))
		so->bell = deploybell_bell(bell);

	/* The plan is printed before the first app is touched (report.h). */
	report_gate_init(&gate, &o->c, env->state, env->backups, &res);
	rc = sync_run(env->source, env->marathon, env->backups ? &gate.backups : NULL,
		      env->state ? &gate.state : NULL, so, &res, &err);
	progress_finish(&prog);
	deploybell_free(bell);
	so->bell = NULL;
	ro.dry_run = o->dry_run;
	ro.plan_shown = gate.shown;
	report_gate_release(&gate);
	code = report_sync_opts("sync", &o->c, res, rc, err, &ro);
	/* Told before the exit, waiting --notify-timeout at most: a dead sink
	 * delays the timer's next run by that much, never fails this one. */
	notifier_finished(nt, res, rc, err, so->trigger, ctx->nargs > 0);
	notifier_drain(nt);
	notifier_free(nt);
	if (o->metrics_file)
		report_metrics_file("sync", o->metrics_file, res, rc, nm);
	metrics_free(nm);
	sync_result_free(res);
	pacer_error_free(err);
	return code;
}

const struct cmd_spec cmd_sync_spec = CMD_SPEC(
    struct sync_cli, sync_options,
    "[APP_ID...] --source DIR|URL [--marathon URL[,URL...]] [options]", .defaults = &sync_defaults,
    .max_args = CMD_ANY_ARGS, .prepare = sync_prepare, .run = sync_cmd);
