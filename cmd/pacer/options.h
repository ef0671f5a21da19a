/*
 * options.h: one option table per command (after libgit2's cli option specs
 * and curl's aliases[]). A row names the long and short flag, its type, the
 * field it sets, its help and the environment variable that supplies its
 * default, so parsing, --help and environment defaults come from one place
 * and cannot drift. Precedence: flag, then environment, then the default
 * already in the struct.
 *
 * Secrets are never options: they come from environment variables, files or
 * systemd credentials (cmd/pacer/env.h).
 */
#ifndef PACER_CMD_OPTIONS_H
#define PACER_CMD_OPTIONS_H

#include <stddef.h>

enum opt_type {
	OPT_STRING, /* const char * (borrowed from argv or environ) */
	OPT_INT,    /* int, decimal, >= 0 */
	OPT_BOOL,   /* int set to 1; no argument */
	OPT_END,
};

struct opt_spec {
	const char *name;  /* long name without "--" */
	char shortname;    /* 0 when none */
	enum opt_type type;
	size_t offset;     /* offsetof the target in the command's options struct */
	const char *arg;   /* argument placeholder for help ("DIR"), NULL for bools */
	const char *help;
	const char *env;   /* environment variable giving the default, or NULL */
};

#define OPT_ROW_END {NULL, 0, OPT_END, 0, NULL, NULL, NULL}

/*
 * Parse argv (argv[0] is the command name) into `target` following `specs`.
 * Non-option arguments are collected into positional[] (at most max_pos;
 * *npos set). Environment defaults are applied first. "--" ends options.
 * Returns 0, 1 when --help was given (help printed to stdout), or -1 on a
 * usage error (message printed to stderr, naming the command).
 */
int opt_parse(const char *cmd, const char *usage, const struct opt_spec *specs, void *target,
	      int argc, char **argv, char **positional, int max_pos, int *npos);

/* Print "usage: ..." and the option table to stdout. */
void opt_help(const char *cmd, const char *usage, const struct opt_spec *specs);

/*
 * Describe instead of parse (after git's --git-completion-helper): while a
 * describer is set, opt_parse() hands its command's name, usage and table
 * to it and returns 1, as after --help, without reading argv or the
 * environment. This is how `pacer completion`, the man page and the
 * unknown-variable warning see every command's table (commands.h:
 * commands_describe()); so a command must call opt_parse() before it does
 * anything else. fn NULL clears it. Single-threaded start-up only.
 */
typedef void (*opt_describe_fn)(void *ctx, const char *cmd, const char *usage,
                                const struct opt_spec *specs);
void opt_set_describer(opt_describe_fn fn, void *ctx);

#endif
