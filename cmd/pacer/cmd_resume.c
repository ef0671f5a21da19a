/*
 * pacer resume [APP...]: hand suspended apps back to git (without APP: the
 * whole source). The next sync applies what git holds for them.
 */
#include "cmd/pacer/action.h"

struct resume_cli {
	struct cli_common c;
};

static const struct opt_spec resume_options[] = {
	CLI_STATE_ROWS(struct resume_cli),
	CLI_LOG_FORMAT_ROW(struct resume_cli),
	CLI_SERVER_ROWS(struct resume_cli),
	OPT_ROW_END,
};

static int resume_cmd(struct cmd_ctx *ctx)
{
	return suspension_cmd(ctx, SUSPENSION_RESUME, NULL);
}

const struct cmd_spec cmd_resume_spec = CMD_SPEC(struct resume_cli, resume_options, "[APP_ID...]",
                                                 .max_args = CMD_ANY_ARGS, .run = resume_cmd);
