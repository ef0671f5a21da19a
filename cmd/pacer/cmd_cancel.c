/*
 * pacer cancel APP [--force]: stop the app's deployment in progress. Without
 * --force Marathon rolls back to the previous definition (waited for);
 * with it the deployment just stops where it is.
 */
#include "cmd/pacer/action.h"

static const struct opt_spec cancel_options[] = {
	ACTION_CLI_ROWS,
	{"force", 'f', OPT_BOOL, offsetof(struct action_cli, force), NULL,
	 "stop the deployment without rolling back", NULL},
	OPT_ROW_END,
};

static const struct action_cli cancel_defaults = {.kind = ACTION_CANCEL};

const struct cmd_spec cmd_cancel_spec =
	ACTION_CMD_SPEC("APP_ID [--force]", cancel_options, &cancel_defaults, 1, action_prepare_app);
