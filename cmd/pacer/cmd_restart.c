/*
 * pacer restart APP: new tasks, same definition (Marathon's restart), and
 * wait until they run healthy.
 */
#include "cmd/pacer/action.h"

static const struct action_cli restart_defaults = {.kind = ACTION_RESTART};

const struct cmd_spec cmd_restart_spec =
	ACTION_CMD_SPEC("APP_ID", action_options, &restart_defaults, 1, action_prepare_app);
