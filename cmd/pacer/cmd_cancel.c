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

int cmd_cancel(int argc, char **argv)
{
	struct action_cli a = {0};
	struct action_options o = ACTION_OPTIONS_INIT;
	char *pos[1];
	int npos, rc;

	rc = opt_parse("cancel", "APP_ID [--force]", cancel_options, &a, argc, argv, pos, 1,
		       &npos);
	if (rc || npos != 1)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	o.kind = ACTION_CANCEL;
	o.force = a.force;
	return action_cmd("cancel", pos[0], &a, &o);
}
