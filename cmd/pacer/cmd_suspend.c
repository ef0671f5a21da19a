/*
 * pacer suspend [APP...] [--reason TEXT]: stop pacer from changing apps.
 *
 * Without APP the whole source is suspended. The record (who, when, why)
 * goes to the state directory's suspended.json (reconcile/suspend.h),
 * replaced atomically, so it needs no run lock and works while pacer watch
 * or serve runs: their next sync leaves the app alone.
 */
#include "cmd/pacer/action.h"

struct suspend_cli {
	struct cli_common c;
	const char *reason;
};

static const struct opt_spec suspend_options[] = {
	CLI_STATE_ROWS(struct suspend_cli),
	CLI_LOG_FORMAT_ROW(struct suspend_cli),
	CLI_SERVER_ROWS(struct suspend_cli),
	{"reason", 'r', OPT_STRING, offsetof(struct suspend_cli, reason), "TEXT",
	 "why (shown by status, sync and diff)", NULL},
	OPT_ROW_END,
};

int cmd_suspend(int argc, char **argv)
{
	struct suspend_cli o = {0};
	char *pos[256], **ids;
	int npos, rc, code;

	rc = opt_parse("suspend", "[APP_ID...] [--reason TEXT]", suspend_options, &o, argc, argv,
		       pos, 256, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (!(ids = cli_app_ids("suspend", pos, npos)))
		return PACER_EXIT_USAGE;
	code = suspension_cmd("suspend", &o.c, ids, 1, o.reason);
	pacer_strv_free(ids);
	return code;
}
