/*
 * pacer sync: one reconciliation run, for people, cron and systemd timers.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/progress.h"
#include "cmd/pacer/report.h"

struct sync_cli {
	struct cli_common c;
	int dry_run, prune, force_prune, parallel, timeout, atomic, ignore_instances;
	const char *on_failure;
	const char *metrics_file;
};

static const struct opt_spec sync_options[] = {
	CLI_SOURCE_ROWS(struct sync_cli),
	CLI_MARATHON_ROWS(struct sync_cli),
	CLI_STATE_ROWS(struct sync_cli),
	CLI_OUTPUT_ROWS(struct sync_cli),
	{"dry-run", 'n', OPT_BOOL, offsetof(struct sync_cli, dry_run), NULL,
	 "show the plan, change nothing", NULL},
	{"prune", 0, OPT_BOOL, offsetof(struct sync_cli, prune), NULL,
	 "delete apps pacer owns that are gone from the source (backed up first)", "PACER_PRUNE"},
	{"force-prune", 0, OPT_BOOL, offsetof(struct sync_cli, force_prune), NULL,
	 "allow a prune of more than half of the owned apps", NULL},
	{"parallel", 'j', OPT_INT, offsetof(struct sync_cli, parallel), "N",
	 "deployments in flight at once, 0 = unbounded (default 8)", "PACER_PARALLEL"},
	{"timeout", 't', OPT_INT, offsetof(struct sync_cli, timeout), "SECONDS",
	 "per-app deployment timeout (default 600; label pacer.timeout overrides)",
	 "PACER_TIMEOUT"},
	{"on-failure", 0, OPT_STRING, offsetof(struct sync_cli, on_failure),
	 "rollback|restart|none", "what to do with an app that fails (default rollback)",
	 "PACER_ON_FAILURE"},
	{"atomic", 0, OPT_BOOL, offsetof(struct sync_cli, atomic), NULL,
	 "if any app fails, roll back every app this run changed", "PACER_ATOMIC"},
	{"ignore-instances", 0, OPT_BOOL, offsetof(struct sync_cli, ignore_instances), NULL,
	 "never change instances (an autoscaler owns them)", "PACER_IGNORE_INSTANCES"},
	{"metrics-file", 0, OPT_STRING, offsetof(struct sync_cli, metrics_file), "PATH",
	 "write Prometheus metrics for node_exporter's textfile collector", "PACER_METRICS_FILE"},
	OPT_ROW_END,
};

int cli_parse_on_failure(const char *s, enum sync_on_failure *out)
{
	if (!s || !strcmp(s, "rollback"))
		*out = SYNC_ON_FAILURE_ROLLBACK;
	else if (!strcmp(s, "restart"))
		*out = SYNC_ON_FAILURE_RESTART;
	else if (!strcmp(s, "none"))
		*out = SYNC_ON_FAILURE_NONE;
	else
		return -1;
	return 0;
}

int cmd_sync(int argc, char **argv)
{
	struct sync_cli o = {.parallel = 8, .timeout = 600};
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct cli_env env;
	struct progress prog;
	int npos, rc, code;

	rc = opt_parse("sync", "--source DIR|URL [--marathon URL[,URL...]] [options]",
		       sync_options, &o, argc, argv, NULL, 0, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (cli_parse_on_failure(o.on_failure, &so.on_failure)) {
		fprintf(stderr, "pacer sync: --on-failure must be rollback, restart or none\n");
		return PACER_EXIT_USAGE;
	}
	code = cli_env_open(&env, &o.c, CLI_NEED_SOURCE | CLI_NEED_MARATHON |
					   (o.dry_run ? 0 : CLI_NEED_STATE));
	if (code)
		return code;

	progress_init(&prog, o.c.quiet || (o.c.output && !strcmp(o.c.output, "json")));
	so.dry_run = o.dry_run;
	so.prune = o.prune;
	so.force_prune = o.force_prune;
	so.parallel = o.parallel;
	so.timeout_s = o.timeout;
	so.atomic = o.atomic;
	so.ignore_instances = o.ignore_instances;
	so.flags = &env.flags;
	so.stop = cli_install_signals();
	so.on_event = progress_event;
	so.event_ctx = &prog;

	rc = sync_run(env.source, env.marathon, env.backups, env.state, &so, &res, &err);
	progress_finish(&prog);
	code = report_sync("sync", &o.c, res, rc, err, 0);
	if (o.metrics_file)
		report_metrics_file("sync", o.metrics_file, res, rc);

	sync_result_free(res);
	pacer_error_free(err);
	cli_env_release(&env);
	return code;
}
