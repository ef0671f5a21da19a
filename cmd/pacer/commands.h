/*
 * commands.h: pacer's command table and what is generated from it.
 *
 * main.c holds the tables: one row per subcommand (name, what it runs, what
 * it needs set up, one-line help), the exit codes and the environment variables read outside the
 * option tables (secrets, switches). `pacer --help`, `pacer completion
 * bash|zsh`, the option reference of pacer(1) and the warning about unknown
 * PACER_* variables are all generated from these rows and from each
 * command's option table (options.h), so none of them can drift from what
 * the parser accepts.
 */
#ifndef PACER_CMD_COMMANDS_H
#define PACER_CMD_COMMANDS_H

#include "cmd/pacer/cli.h"
#include "cmd/pacer/options.h"

/*
 * What main() sets up before a command runs, carried by the command's row
 * (after git.c's RUN_SETUP | NEED_WORK_TREE): the CLI_NEED_* and
 * CLI_READ_STATE / CLI_LOCK_PER_RUN bits of cli.h say what cli_env_open()
 * opens, these say the rest.
 */
enum cmd_flags {
	/* The arguments are app ids: ctx->ids holds them made absolute
	 * ("shop/api" -> "/shop/api"); a bad one is a usage error. */
	CMD_APP_IDS = 1 << 8,
	/* The command has --server: when it is given, nothing is opened here
	 * (ctx->remote) and the command talks to a running pacer serve. */
	CMD_REMOTE = 1 << 9,
	/* No common options at all (completion): no log set-up, no warning
	 * about unknown PACER_* variables, nothing opened. */
	CMD_NO_COMMON = 1 << 10,
};

/*
 * What a command gets from main(): everything is main()'s to free after
 * run returns; the command only borrows.
 */
struct cmd_ctx {
	const char *name;     /* "sync" */
	void *opts;           /* the options struct, parsed */
	struct cli_common *c; /* its common options (the start of opts) */
	char **args;          /* positional arguments (from argv) */
	int nargs;
	char **ids;         /* CMD_APP_IDS: args as absolute ids, NULL-terminated */
	unsigned needs;     /* the row's flags, as prepare left them */
	int remote;         /* CMD_REMOTE and --server given: env is not opened */
	struct cli_env env; /* opened as needs says (all NULL when remote) */
};

/* The CLI_* bits of a row's flags: what cli_env_open() opens. */
#define CMD_OPEN_MASK 0xffu

/* Any number of arguments (validate's paths: a shell glob may name thousands). */
#define CMD_ANY_ARGS (-1)

/*
 * A command as main() runs it, defined in its cmd_<name>.c as
 * cmd_<name>_spec. main() parses argv with the option table into a fresh
 * copy of `defaults` (the options struct, which starts with a struct
 * cli_common), calls prepare, opens what the row's flags ask for and calls
 * run with the ready environment; then releases everything. A command never
 * parses or opens anything itself.
 */
struct cmd_spec {
	const char *usage; /* after "pacer <name> " in --help */
	const struct opt_spec *options;
	size_t size;          /* of the options struct */
	const void *defaults; /* its initial value; NULL: all zero */
	int max_args;         /* positional arguments accepted, or CMD_ANY_ARGS */
	/*
	 * Checks that need only the command line, made before anything is
	 * opened (so a usage error creates nothing): returns 0 to go on or the
	 * exit code. May change the CLI_* bits of ctx->needs (a dry run only
	 * reads the state). NULL: none.
	 */
	int (*prepare)(struct cmd_ctx *ctx);
	/* The command itself; returns the exit code. */
	int (*run)(struct cmd_ctx *ctx);
	/*
	 * Frees what prepare (and run) left in the options struct, once
	 * prepare has run, whatever it returned, and before the environment
	 * is released. NULL: nothing to free.
	 */
	void (*release)(struct cmd_ctx *ctx);
};

/*
 * A command's spec whose options struct is `type_`; the other fields
 * (.defaults, .max_args, .prepare, .run, .release) follow as designated
 * initializers:
 *
 *   const struct cmd_spec cmd_diff_spec = CMD_SPEC(struct diff_cli, diff_options,
 *           "[APP_ID...] --source DIR|URL", .max_args = CMD_ANY_ARGS, .run = diff_cmd);
 */
#define CMD_SPEC(type_, options_, usage_, ...)                                                    \
	{                                                                                          \
		.usage = (usage_), .options = (options_), .size = sizeof(type_), __VA_ARGS__       \
	}

struct pacer_command {
	const char *name;
	/* Run by main() as the spec and the flags say. */
	const struct cmd_spec *spec;
	unsigned flags; /* CLI_NEED_* ... | CMD_*; see cmd_flags */
	const char *help;
};

/* Every subcommand, in the order --help lists them; ended by name NULL. */
extern const struct pacer_command pacer_commands[];

struct pacer_exit_code {
	int code;
	const char *meaning;
};

/* The exit codes, ended by meaning NULL. */
extern const struct pacer_exit_code pacer_exit_codes[];

enum pacer_env_kind {
	PACER_ENV_SETTING,  /* documented setting read outside the option tables */
	PACER_ENV_SECRET,   /* documented secret: VAR, VAR_FILE or the credential */
	PACER_ENV_INTERNAL, /* set by pacer's own tests: known, not documented */
};

struct pacer_env_var {
	const char *name;
	enum pacer_env_kind kind;
	/*
	 * For a secret: the systemd credential that supplies it when neither
	 * VAR nor VAR_FILE is set ($CREDENTIALS_DIRECTORY/<credential>, see
	 * LoadCredential=); NULL when it has none.
	 */
	const char *credential;
	const char *help;
};

/* The variables no option table names; ended by name NULL. */
extern const struct pacer_env_var pacer_env_vars[];

/*
 * Call fn once per command of pacer_commands[] with its name, usage and
 * option table, by running the command in describe mode
 * (opt_set_describer()). Nothing else of the command runs.
 */
void commands_describe(opt_describe_fn fn, void *ctx);

/* The commands main() runs (cmd_<name>.c). */
extern const struct cmd_spec cmd_sync_spec, cmd_diff_spec, cmd_status_spec, cmd_history_spec,
    cmd_suspend_spec, cmd_resume_spec, cmd_restart_spec, cmd_cancel_spec, cmd_scale_spec,
    cmd_stop_spec, cmd_delete_spec, cmd_validate_spec, cmd_backups_spec, cmd_rollback_spec,
    cmd_watch_spec, cmd_serve_spec, cmd_completion_spec;

#endif
