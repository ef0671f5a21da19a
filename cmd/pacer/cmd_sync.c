/*
 * pacer sync: one reconciliation run, for people, cron and systemd timers.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/progress.h"
#include "cmd/pacer/remote.h"
#include "cmd/pacer/report.h"

struct sync_cli {
	struct cli_common c;
	int dry_run;
	struct cli_apply a;
	const char *metrics_file;
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
	OPT_ROW_END,
};

int cmd_sync(int argc, char **argv)
{
	struct sync_cli o = {.a = CLI_APPLY_INIT};
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct cli_env env;
	struct progress prog;
	struct report_gate gate;
	struct report_opts ro = {0, 0, 0};
	char *pos[256], **ids = NULL;
	int npos, rc, code;

	rc = opt_parse("sync", "[APP_ID...] --source DIR|URL [--marathon URL[,URL...]] [options]",
		       sync_options, &o, argc, argv, pos, 256, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	/* Only these apps, and what they depend on (the plan keeps the order). */
	if (!(ids = cli_app_ids("sync", pos, npos)))
		return PACER_EXIT_USAGE;
	/* --server: the running service syncs (queued, answered at once). */
	if (o.c.server) {
		code = remote_sync(&o.c, (const char *const *)ids, (size_t)npos);
		pacer_strv_free(ids);
		return code;
	}
	if (cli_apply_options(&o.a, &so)) {
		fprintf(stderr, "pacer sync: --on-failure must be rollback, restart or none\n");
		pacer_strv_free(ids);
		return PACER_EXIT_USAGE;
	}
	code = cli_env_open(&env, &o.c, CLI_NEED_SOURCE | CLI_NEED_MARATHON |
					   (o.dry_run ? CLI_READ_STATE : CLI_NEED_STATE));
	if (code) {
		pacer_strv_free(ids);
		return code;
	}

	progress_init(&prog, o.c.quiet || (o.c.output && !strcmp(o.c.output, "json")));
	so.dry_run = o.dry_run;
	so.trigger = "cli";
	so.flags = &env.flags;
	so.only = npos ? (const char *const *)ids : NULL;
	so.nonly = (size_t)npos;
	so.cache_tag = cli_cache_tag();
	so.stop = cli_install_signals();
	so.on_event = progress_event;
	so.event_ctx = &prog;

	/* The plan is printed before the first app is touched (report.h). */
	report_gate_init(&gate, &o.c, env.state, env.backups, &res);
	rc = sync_run(env.source, env.marathon, env.backups ? &gate.backups : NULL,
		      env.state ? &gate.state : NULL, &so, &res, &err);
	progress_finish(&prog);
	ro.dry_run = o.dry_run;
	ro.plan_shown = gate.shown;
	report_gate_release(&gate);
	code = report_sync_opts("sync", &o.c, res, rc, err, &ro);
	if (o.metrics_file)
		report_metrics_file("sync", o.metrics_file, res, rc);

	sync_result_free(res);
	pacer_error_free(err);
	cli_env_release(&env);
	pacer_strv_free(ids);
	return code;
}
