/*
 * pacer delete APP --yes: back the app up, suspend it (so the next sync
 * does not create it again), delete it with force and wait until it is gone.
 */
#include <stdio.h>

#include "cmd/pacer/action.h"

static const struct opt_spec delete_options[] = {
	ACTION_CLI_ROWS,
	{"yes", 'y', OPT_BOOL, offsetof(struct action_cli, force), NULL,
	 "really delete (required)", NULL},
	OPT_ROW_END,
};

int cmd_delete(int argc, char **argv)
{
	struct action_cli a = {0};
	struct action_options o = ACTION_OPTIONS_INIT;
	char *pos[1];
	int npos, rc;

	rc = opt_parse("delete", "APP_ID --yes", delete_options, &a, argc, argv, pos, 1, &npos);
	if (rc || npos != 1)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (!a.force) {
		fprintf(stderr, "pacer delete: deleting %s kills its tasks; pass --yes to do it "
				"(a backup is written first)\n",
			pos[0]);
		return PACER_EXIT_USAGE;
	}
	o.kind = ACTION_DELETE;
	return action_cmd("delete", pos[0], &a, &o);
}
