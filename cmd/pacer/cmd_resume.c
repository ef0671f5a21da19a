/*
 * pacer resume [APP...]: hand suspended apps back to git (without APP: the
 * whole source). The next sync applies what git holds for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "reconcile/suspend.h"

struct resume_cli {
	struct cli_common c;
};

static const struct opt_spec resume_options[] = {
	CLI_STATE_ROWS(struct resume_cli),
	OPT_ROW_END,
};

int cmd_resume(int argc, char **argv)
{
	struct resume_cli o = {0};
	struct pacer_error *err = NULL;
	struct suspend *sp = NULL;
	struct cli_env env;
	char *pos[256], **ids = NULL, **left = NULL;
	int npos, rc, code;

	rc = opt_parse("resume", "[APP_ID...]", resume_options, &o, argc, argv, pos, 256, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (!(ids = cli_app_ids("resume", pos, npos)))
		return PACER_EXIT_USAGE;
	code = cli_env_open(&env, &o.c, CLI_NEED_BACKUPS | CLI_READ_STATE);
	if (code)
		goto done;
	rc = suspend_open(env.state, &sp, &err);
	for (int i = 0; !rc && i < (npos ? npos : 1); i++) {
		rc = suspend_drop(sp, npos ? ids[i] : NULL, &err);
		if (!rc)
			printf("resumed %s: the next sync applies git\n",
			       npos ? ids[i] : "the whole source");
	}
	/* Say what stays suspended, so that "resume" never looks like more than it did. */
	if (!rc && (left = suspend_ids(sp)) && left[0]) {
		printf("still suspended:");
		for (size_t i = 0; left[i]; i++)
			printf(" %s", !strcmp(left[i], SUSPEND_ALL) ? "(the whole source)" : left[i]);
		printf("\n");
	}
	if (rc)
		cli_print_error("resume", err);
	code = rc ? cli_exit_for(pacer_error_root_code(err)) : PACER_EXIT_OK;
	pacer_strv_free(left);
	suspend_free(sp);
	pacer_error_free(err);
	cli_env_release(&env);
done:
	pacer_strv_free(ids);
	return code;
}
