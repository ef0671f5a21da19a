/*
 * pacer scale APP N: run N instances (force), wait until they run healthy.
 * The app is suspended ("scaled to N by <user>") so the next sync does not
 * undo it; `pacer resume APP` hands it back to git.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/pacer/action.h"

/* More instances than this is a typo, not a plan. */
#define SCALE_MAX_INSTANCES 100000

/* The count is checked before the app id, and before anything is opened. */
static int scale_prepare(struct cmd_ctx *ctx)
{
	struct action_cli *a = ctx->opts;
	char *end = NULL;
	long n = ctx->nargs == 2 ? strtol(ctx->args[1], &end, 10) : -1;

	if (ctx->nargs != 2 || !end || *end || n < 0 || n > SCALE_MAX_INSTANCES) {
		fprintf(stderr, "pacer scale: usage: pacer scale APP_ID INSTANCES (0 to %d)\n",
			SCALE_MAX_INSTANCES);
		return PACER_EXIT_USAGE;
	}
	a->instances = (int)n;
	return action_prepare_app(ctx);
}

static const struct action_cli scale_defaults = {.kind = ACTION_SCALE};

const struct cmd_spec cmd_scale_spec =
	ACTION_CMD_SPEC("APP_ID INSTANCES", action_options, &scale_defaults, 2, scale_prepare);
