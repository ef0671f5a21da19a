/*
 * pacer diff: what sync would change. Exit 0 when in sync, 2 when changes
 * are pending.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/fs/state.h"
#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/report.h"

struct diff_cli {
	struct cli_common c;
	int prune, ignore_instances, show_unchanged;
};

static const struct opt_spec diff_options[] = {
	CLI_SOURCE_ROWS(struct diff_cli),
	CLI_MARATHON_ROWS(struct diff_cli),
	CLI_STATE_ROWS(struct diff_cli),
	CLI_OUTPUT_ROWS(struct diff_cli),
	{"prune", 0, OPT_BOOL, offsetof(struct diff_cli, prune), NULL,
	 "also show the apps sync --prune would delete", "PACER_PRUNE"},
	{"ignore-instances", 0, OPT_BOOL, offsetof(struct diff_cli, ignore_instances), NULL,
	 "never report instances changes", "PACER_IGNORE_INSTANCES"},
	{"all", 'a', OPT_BOOL, offsetof(struct diff_cli, show_unchanged), NULL,
	 "list unchanged apps too", NULL},
	OPT_ROW_END,
};

static int diff_cmd(struct cmd_ctx *ctx)
{
	const struct diff_cli *o = ctx->opts;
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct report_opts ro = {0, 0, 0};
	int rc, code;

	so.dry_run = 1;
	so.prune = o->prune;
	so.force_prune = 1; /* a diff shows what would go; sync applies the guard */
	so.ignore_instances = o->ignore_instances;
	so.flags = &ctx->env.flags;
	/* Only these apps, and what they depend on (the plan keeps the order). */
	so.only = ctx->nargs ? (const char *const *)ctx->ids : NULL;
	so.nonly = (size_t)ctx->nargs;
	so.cache_tag = cli_cache_tag();

	/*
	 * The state is read without the lock (the row's CLI_READ_STATE): a dry
	 * run changes nothing of it but the cache, which is replaced by rename,
	 * never edited in place, so a sync writing it at the same time is
	 * harmless (its entries are facts: any version of the file is right).
	 */
	rc = sync_run(ctx->env.source, ctx->env.marathon, NULL, ctx->env.state, &so, &res, &err);
	ro.show_unchanged = o->show_unchanged;
	ro.dry_run = 1;
	code = report_sync_opts("diff", &o->c, res, rc, err, &ro);
	sync_result_free(res);
	pacer_error_free(err);
	return code;
}

const struct cmd_spec cmd_diff_spec =
    CMD_SPEC(struct diff_cli, diff_options,
             "[APP_ID...] --source DIR|URL [--marathon URL[,URL...]] [options]",
             .max_args = CMD_ANY_ARGS, .run = diff_cmd);
