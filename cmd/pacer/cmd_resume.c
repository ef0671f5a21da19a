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

int cmd_resume(int argc, char **argv)
{
	struct resume_cli o = {0};
	char *pos[256], **ids;
	int npos, rc, code;

	rc = opt_parse("resume", "[APP_ID...]", resume_options, &o, argc, argv, pos, 256, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (!(ids = cli_app_ids("resume", pos, npos)))
		return PACER_EXIT_USAGE;
	code = suspension_cmd("resume", &o.c, ids, 0, NULL);
	pacer_strv_free(ids);
	return code;
}
