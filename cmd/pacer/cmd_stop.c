/*
 * pacer stop APP: scale to 0 with force (the action panel's "stop"),
 * suspending the app so that the next sync does not start it again.
 */
#include "cmd/pacer/action.h"

/* Scaled to 0: instances stays 0. */
static const struct action_cli stop_defaults = {.kind = ACTION_SCALE};

const struct cmd_spec cmd_stop_spec =
	ACTION_CMD_SPEC("APP_ID", action_options, &stop_defaults, 1, action_prepare_app);
