/*
 * completion.h: the bash and zsh completion scripts, the generated
 * sections of pacer(1) (COMMANDS, EXIT STATUS, ENVIRONMENT) and README.md's
 * exit-code table, written from
 * the command table and every command's option table (commands.h:
 * commands_describe()). The rows that parse the options are the only list
 * of them, so a new option completes and is documented without touching
 * this module.
 *
 * What an option's value completes to comes from its placeholder: words in
 * lower case separated by '|' ("text|json") are the choices; a placeholder
 * naming DIR completes directories, FILE or PATH files; anything else (URL,
 * N, SECONDS) offers nothing. A command's positional arguments are read
 * from its usage line the same way.
 */
#ifndef PACER_CMD_COMPLETION_H
#define PACER_CMD_COMPLETION_H

#include <stdio.h>

enum completion_format {
	COMPLETION_BASH, /* complete -F _pacer pacer */
	COMPLETION_ZSH,  /* #compdef pacer; autoloaded from fpath, or sourced */
	COMPLETION_MAN,  /* troff for contrib/man/pacer.1.in's @GENERATED@ */
	/* README.md's exit-code table (markdown), so that --help, pacer(1) and
	 * the README say the same (commands.h: pacer_exit_codes[]). */
	COMPLETION_README,
};

/*
 * Write the script or the troff to out (which is flushed). Runs every
 * command in describe mode: call it before any option parsing of the
 * process. Returns 0, or -1 when writing failed.
 */
int completion_write(FILE *out, enum completion_format format);

#endif
