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

/* Deleting kills tasks: without --yes nothing is opened, not even for --server. */
static int delete_prepare(struct cmd_ctx *ctx)
{
	const struct action_cli *a = ctx->opts;

	if (ctx->nargs == 1 && !a->force) {
		fprintf(stderr, "pacer delete: deleting %s kills its tasks; pass --yes to do it "
				"(a backup is written first)\n",
			ctx->args[0]);
		return PACER_EXIT_USAGE;
	}
	return action_prepare_app(ctx);
}

static const struct action_cli delete_defaults = {.kind = ACTION_DELETE};

const struct cmd_spec cmd_delete_spec =
	ACTION_CMD_SPEC("APP_ID --yes", delete_options, &delete_defaults, 1, delete_prepare);
