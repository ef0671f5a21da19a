/*
 * action.h (cmd): what the operator commands restart, cancel, scale, stop
 * and delete share: open Marathon and the state directory (its lock taken
 * for the action, so it never runs beside a sync; --wait-lock waits for the
 * sync in progress of a running watch or serve), run reconcile/action.h's
 * action_run(), report it. With --server URL the action is sent to a
 * running pacer serve's API instead (remote.h), same output and exit codes.
 */
#ifndef PACER_CMD_ACTION_H
#define PACER_CMD_ACTION_H

#include "cmd/pacer/cli.h"
#include "reconcile/action.h"

/* The options every action command has: Marathon, state, output, --timeout. */
struct action_cli {
	struct cli_common c;
	int timeout;
	int force; /* cancel: no rollback; delete: --yes */
};

#define ACTION_CLI_ROWS                                                                            \
	CLI_MARATHON_ROWS(struct action_cli), CLI_STATE_ROWS(struct action_cli),                   \
	    CLI_OUTPUT_ROWS(struct action_cli), CLI_SERVER_ROWS(struct action_cli),                \
	    {"timeout", 't', OPT_INT, offsetof(struct action_cli, timeout), "SECONDS",             \
	     "how long to wait for the app to run healthy (default 600)", "PACER_TIMEOUT"}

/*
 * Run action `o` (kind and instances set by the caller) on app `arg` as
 * command `cmd`, with the parsed options `a`. Returns the exit code.
 */
int action_cmd(const char *cmd, const char *arg, const struct action_cli *a,
	       struct action_options *o);

/*
 * suspend and resume: suspend (or, with suspend 0, resume) the apps ids
 * (NULL-terminated; none = the whole source) in the state directory of
 * options c. Prints what it did, and after a resume what stays suspended.
 * Returns the exit code.
 */
int suspension_cmd(const char *cmd, const struct cli_common *c, char **ids, int suspend,
		   const char *reason);

#endif
