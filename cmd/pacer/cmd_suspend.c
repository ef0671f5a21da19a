/*
 * pacer suspend [APP...] [--reason TEXT]: stop pacer from changing apps.
 *
 * Without APP the whole source is suspended. The record (who, when, why)
 * goes to the state directory's suspended.json (reconcile/suspend.h),
 * replaced atomically, so it needs no run lock and works while pacer watch
 * or serve runs: their next sync leaves the app alone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/pacer/cli.h"
#include "reconcile/suspend.h"

struct suspend_cli {
	struct cli_common c;
	const char *reason;
};

static const struct opt_spec suspend_options[] = {
	CLI_STATE_ROWS(struct suspend_cli),
	{"reason", 'r', OPT_STRING, offsetof(struct suspend_cli, reason), "TEXT",
	 "why (shown by status, sync and diff)", NULL},
	OPT_ROW_END,
};

int cmd_suspend(int argc, char **argv)
{
	struct suspend_cli o = {0};
	struct pacer_error *err = NULL;
	struct suspend *sp = NULL;
	struct cli_env env;
	char *pos[256], **ids = NULL;
	int npos, rc, code;

	rc = opt_parse("suspend", "[APP_ID...] [--reason TEXT]", suspend_options, &o, argc, argv,
		       pos, 256, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (!(ids = cli_app_ids("suspend", pos, npos)))
		return PACER_EXIT_USAGE;
	code = cli_env_open(&env, &o.c, CLI_NEED_BACKUPS | CLI_READ_STATE);
	if (code)
		goto done;
	rc = suspend_open(env.state, &sp, &err);
	for (int i = 0; !rc && i < (npos ? npos : 1); i++) {
		rc = suspend_put(sp, npos ? ids[i] : NULL, cli_user(), o.reason, &err);
		if (!rc)
			printf("suspended %s: pacer leaves it as it is until 'pacer resume%s%s'\n",
			       npos ? ids[i] : "the whole source", npos ? " " : "",
			       npos ? ids[i] : "");
	}
	if (rc)
		cli_print_error("suspend", err);
	code = rc ? cli_exit_for(pacer_error_root_code(err)) : PACER_EXIT_OK;
	suspend_free(sp);
	pacer_error_free(err);
	cli_env_release(&env);
done:
	pacer_strv_free(ids);
	return code;
}
