/*
 * pacer stop APP: scale to 0 with force (the action panel's "stop"),
 * suspending the app so that the next sync does not start it again.
 */
#include "cmd/pacer/action.h"

static const struct opt_spec stop_options[] = {
	ACTION_CLI_ROWS,
	OPT_ROW_END,
};

int cmd_stop(int argc, char **argv)
{
	struct action_cli a = {0};
	struct action_options o = ACTION_OPTIONS_INIT;
	char *pos[1];
	int npos, rc;

	rc = opt_parse("stop", "APP_ID", stop_options, &a, argc, argv, pos, 1, &npos);
	if (rc || npos != 1)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	o.kind = ACTION_SCALE;
	o.instances = 0;
	return action_cmd("stop", pos[0], &a, &o);
}
