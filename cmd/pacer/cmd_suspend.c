/*
 * pacer suspend [APP...] [--reason TEXT]: stop pacer from changing apps.
 *
 * Without APP the whole source is suspended. The record (who, when, why)
 * goes to the state directory's suspended.json (reconcile/suspend.h),
 * replaced atomically, so it needs no run lock and works while pacer watch
 * or serve runs: their next sync leaves the app alone.
 */
#include "cmd/pacer/action.h"

struct suspend_cli {
	struct cli_common c;
	const char *reason;
};

static const struct opt_spec suspend_options[] = {
	CLI_STATE_ROWS(struct suspend_cli),
	CLI_LOG_FORMAT_ROW(struct suspend_cli),
	CLI_SERVER_ROWS(struct suspend_cli),
	{"reason", 'r', OPT_STRING, offsetof(struct suspend_cli, reason), "TEXT",
	 "why (shown by status, sync and diff)", NULL},
	OPT_ROW_END,
};

static int suspend_cmd(struct cmd_ctx *ctx)
{
	const struct suspend_cli *o = ctx->opts;

	return suspension_cmd(ctx, SUSPENSION_SUSPEND, o->reason);
}

const struct cmd_spec cmd_suspend_spec =
    CMD_SPEC(struct suspend_cli, suspend_options, "[APP_ID...] [--reason TEXT]",
             .max_args = CMD_ANY_ARGS, .run = suspend_cmd);
