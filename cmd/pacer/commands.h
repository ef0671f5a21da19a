/*
 * commands.h: pacer's command table and what is generated from it.
 *
 * main.c holds the tables: one row per subcommand (name, function, one-line
 * help), the exit codes and the environment variables read outside the
 * option tables (secrets, switches). `pacer --help`, `pacer completion
 * bash|zsh`, the option reference of pacer(1) and the warning about unknown
 * PACER_* variables are all generated from these rows and from each
 * command's option table (options.h), so none of them can drift from what
 * the parser accepts.
 */
#ifndef PACER_CMD_COMMANDS_H
#define PACER_CMD_COMMANDS_H

#include "cmd/pacer/options.h"

struct pacer_command {
	const char *name;
	int (*fn)(int argc, char **argv);
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

/* pacer completion bash|zsh|man (cmd_completion.c). */
int cmd_completion(int argc, char **argv);

#endif
