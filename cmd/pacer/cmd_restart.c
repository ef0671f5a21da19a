/*
 * pacer restart APP: new tasks, same definition (Marathon's restart), and
 * wait until they run healthy.
 */
#include "cmd/pacer/action.h"

static const struct opt_spec restart_options[] = {
	ACTION_CLI_ROWS,
	OPT_ROW_END,
};

int cmd_restart(int argc, char **argv)
{
	struct action_cli a = {0};
	struct action_options o = ACTION_OPTIONS_INIT;
	char *pos[1];
	int npos, rc;

	rc = opt_parse("restart", "APP_ID", restart_options, &a, argc, argv, pos, 1, &npos);
	if (rc || npos != 1)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	o.kind = ACTION_RESTART;
	return action_cmd("restart", pos[0], &a, &o);
}
