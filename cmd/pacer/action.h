/*
 * action.h (cmd): what the operator commands restart, cancel, scale, stop
 * and delete share: open Marathon and the state directory (its lock taken
 * for the action, so it never runs beside a sync; --wait-lock waits for the
 * sync in progress of a running watch or serve), run reconcile/action.h's
 * action_run(), report it (main() opens what the rows' flags ask for
 * before the command runs). With --server URL the action is sent to a
 * running pacer serve's API instead (remote.h), same output and exit codes.
 */
#ifndef PACER_CMD_ACTION_H
#define PACER_CMD_ACTION_H

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "reconcile/action.h"

/* How long an action waits for the app to run healthy, unless --timeout says. */
#define ACTION_DEFAULT_TIMEOUT_S 600

/*
 * The options every action command has: Marathon, state, output, --timeout;
 * and which action it is (the command's defaults say).
 */
struct action_cli {
	struct cli_common c;
	enum action_kind kind;
	int timeout;
	int force;     /* cancel: no rollback; delete: --yes */
	int instances; /* scale: the argument, checked by its prepare; stop: 0 */
};

#define ACTION_CLI_ROWS                                                                            \
	CLI_MARATHON_ROWS(struct action_cli), CLI_STATE_ROWS(struct action_cli),                   \
	    CLI_OUTPUT_ROWS(struct action_cli), CLI_SERVER_ROWS(struct action_cli),                \
	    {"timeout", 't', OPT_INT, offsetof(struct action_cli, timeout), "SECONDS",             \
	     "how long to wait for the app to run healthy (default 600)", "PACER_TIMEOUT"}

/* The options of an action with no option of its own (restart, stop, scale). */
extern const struct opt_spec action_options[];

/*
 * The prepare of the action commands (commands.h): the first argument is
 * the app, made absolute into ctx->ids; none, or one that is not an app
 * id, is a usage error. Returns 0 or the exit code.
 */
int action_prepare_app(struct cmd_ctx *ctx);

/*
 * The run of the action commands: the action of the options' kind on the
 * app of action_prepare_app(), with Marathon and the locked state from
 * ctx->env; or through the API of a running pacer serve when ctx->remote.
 * Returns the exit code.
 */
int action_cmd(struct cmd_ctx *ctx);

/* The spec of an action command (commands.h): its options are a struct action_cli. */
#define ACTION_CMD_SPEC(usage_, options_, defaults_, max_args_, prepare_)                          \
	CMD_SPEC(struct action_cli, options_, usage_, .defaults = (defaults_),                     \
	         .max_args = (max_args_), .prepare = (prepare_), .run = action_cmd)

enum suspension_verb {
	SUSPENSION_SUSPEND,
	SUSPENSION_RESUME,
};

/*
 * suspend and resume: suspend (or resume) the apps ctx->ids (none = the
 * whole source) in the state directory of ctx->env, or through the API with
 * --server. Prints what it did, and after a resume what stays suspended.
 * reason: why (suspend only; may be NULL). Returns the exit code.
 */
int suspension_cmd(struct cmd_ctx *ctx, enum suspension_verb verb, const char *reason);

#endif
