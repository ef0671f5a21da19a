/*
 * pacer scale APP N: run N instances (force), wait until they run healthy.
 * The app is suspended ("scaled to N by <user>") so the next sync does not
 * undo it; `pacer resume APP` hands it back to git.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/pacer/action.h"

static const struct opt_spec scale_options[] = {
	ACTION_CLI_ROWS,
	OPT_ROW_END,
};

int cmd_scale(int argc, char **argv)
{
	struct action_cli a = {0};
	struct action_options o = ACTION_OPTIONS_INIT;
	char *pos[2], *end = NULL;
	long n;
	int npos, rc;

	rc = opt_parse("scale", "APP_ID INSTANCES", scale_options, &a, argc, argv, pos, 2, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	n = npos == 2 ? strtol(pos[1], &end, 10) : -1;
	if (npos != 2 || !end || *end || n < 0 || n > 100000) {
		fprintf(stderr, "pacer scale: usage: pacer scale APP_ID INSTANCES (0 to 100000)\n");
		return PACER_EXIT_USAGE;
	}
	o.kind = ACTION_SCALE;
	o.instances = (int)n;
	return action_cmd("scale", pos[0], &a, &o);
}
