/*
 * pacer completion bash|zsh|man|readme: print a completion script, the
 * generated sections of pacer(1) (the build uses them; completion.h), or
 * README.md's exit-code table.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/completion.h"

static const struct opt_spec completion_options[] = {
    OPT_ROW_END,
};

static int completion_cmd(struct cmd_ctx *ctx)
{
	static const struct {
		const char *name;
		enum completion_format format;
	} formats[] = {{"bash", COMPLETION_BASH},
		       {"zsh", COMPLETION_ZSH},
		       {"man", COMPLETION_MAN},
		       {"readme", COMPLETION_README}};

	for (size_t i = 0; ctx->nargs == 1 && i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(ctx->args[0], formats[i].name))
			continue;
		if (completion_write(stdout, formats[i].format)) {
			fprintf(stderr, "pacer completion: cannot write the script\n");
			return PACER_EXIT_FAILED;
		}
		return PACER_EXIT_OK;
	}
	fprintf(stderr, "pacer completion: name a shell: bash or zsh (e.g. "
	                "'source <(pacer completion bash)')\n");
	return PACER_EXIT_USAGE;
}

const struct cmd_spec cmd_completion_spec = {
	.usage = "bash|zsh|man|readme (man, readme: the generated parts of pacer(1) and "
		 "README.md, for the build)",
	.options = completion_options,
	.max_args = 1,
	.run = completion_cmd,
};
