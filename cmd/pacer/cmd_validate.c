/*
 * pacer validate PATH...: offline checks of definition files, as Marathon
 * would make them. Every problem is printed with file:line:col; exit 0 when
 * all files are valid, 1 otherwise. Warnings (fields Marathon would ignore,
 * a directory with no definitions) do not change the exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/fs/source.h"
#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "reconcile/desired.h"

struct validate_cli {
	struct cli_common c;
};

static const struct opt_spec validate_options[] = {
	{"mesos-role", 0, OPT_STRING, offsetof(struct validate_cli, c.mesos_role), "ROLE",
	 "validate for a Marathon started with this --mesos_role", "PACER_MESOS_ROLE"},
	{"enable-features", 0, OPT_STRING, offsetof(struct validate_cli, c.features), "LIST",
	 "validate for a Marathon with these --enable_features", "PACER_ENABLE_FEATURES"},
	{"quiet", 'q', OPT_BOOL, offsetof(struct validate_cli, c.quiet), NULL,
	 "print errors only, no warnings or summary", NULL},
	CLI_LOG_FORMAT_ROW(struct validate_cli),
	OPT_ROW_END,
};

/* Feed one file (not a directory) to the loader. */
static int add_one_file(struct pacer_desired *d, const char *path,
			const struct desired_options *dopts)
{
	FILE *f = fopen(path, "r");
	char *data = NULL;
	size_t len = 0;
	int rc = -1;

	if (!f) {
		fprintf(stderr, "pacer validate: cannot read %s: %m\n", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);

		if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1))) {
			len = fread(data, 1, (size_t)n, f);
			rc = len == (size_t)n ? 0 : -1;
		}
	}
	fclose(f);
	if (!rc)
		rc = desired_add_file(d, path, data, len, dopts);
	else
		fprintf(stderr, "pacer validate: cannot read %s\n", path);
	free(data);
	return rc;
}

struct load_ctx {
	struct pacer_desired *d;
	const struct desired_options *dopts;
	const char *prefix;
};

static int add_from_source(void *ctx, const char *path, const char *data, size_t len,
			   const char *key)
{
	struct load_ctx *lc = ctx;
	char *full = NULL;
	int rc;

	(void)key;
	if (asprintf(&full, "%s/%s", lc->prefix, path) < 0)
		return -1;
	rc = desired_add_file(lc->d, full, data, len, lc->dopts);
	free(full);
	return rc < 0 && rc != PACER_EINVALID ? rc : 0;
}

/* Every definition file below dir; 1 when the directory could not be read. */
static int add_directory(struct pacer_desired *d, const char *dir,
			 const struct desired_options *dopts)
{
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	struct load_ctx lc = {d, dopts, dir};
	size_t napps = d->napps, nerrors = d->nerrors;
	int rc;

	rc = fs_source_new(&src, dir, &err);
	if (!rc)
		rc = src->read(src, add_from_source, &lc, &err);
	if (rc)
		cli_print_error("validate", err);
	/* A directory that asks for nothing is more likely a wrong path. */
	else if (d->napps == napps && d->nerrors == nerrors)
		desired_warn_empty(d, dir);
	pacer_error_free(err);
	pacer_source_free(src);
	return rc != 0;
}

static int validate_prepare(struct cmd_ctx *ctx)
{
	if (ctx->nargs == 0) {
		fprintf(stderr, "pacer validate: name at least one file or directory\n");
		return PACER_EXIT_USAGE;
	}
	return 0;
}

/*
 * Feed every path to the loader; 1 when one of them could not be read. All
 * go into one desired state, so duplicate ids and dependencies across
 * files are found as sync would find them.
 */
static int add_paths(struct pacer_desired *d, char **paths, int n,
		     const struct desired_options *dopts)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		struct stat st;

		if (stat(paths[i], &st)) {
			fprintf(stderr, "pacer validate: %s: %m\n", paths[i]);
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			failed |= add_directory(d, paths[i], dopts);
		} else if (add_one_file(d, paths[i], dopts) < 0) {
			failed = 1;
		}
	}
	return failed;
}

/* Which diagnostics to print: -q leaves the warnings out. */
enum diag_filter {
	DIAGS_ALL,
	DIAGS_ERRORS_ONLY,
};

static void print_diags(const struct pacer_desired *d, enum diag_filter filter)
{
	for (size_t i = 0; i < d->ndiags; i++) {
		char *text;

		if (filter == DIAGS_ERRORS_ONLY && !d->diags[i].is_error)
			continue;
		text = pacer_error_format(d->diags[i].error);
		fprintf(stderr, "%s: %s\n", d->diags[i].is_error ? "error" : "warning",
			text ? text : "?");
		free(text);
	}
}

static int validate_cmd(struct cmd_ctx *ctx)
{
	const struct validate_cli *o = ctx->opts;
	struct desired_options dopts = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = desired_new();
	int failed, code;

	if (!d)
		return PACER_EXIT_FAILED;
	/* The flags of cli_env_open(): the ones given, else DC/OS's (the most permissive). */
	dopts.flags = &ctx->env.flags;
	failed = add_paths(d, ctx->args, ctx->nargs, &dopts);
	desired_finish(d);
	print_diags(d, o->c.quiet ? DIAGS_ERRORS_ONLY : DIAGS_ALL);
	if (!o->c.quiet)
		printf("%zu file(s), %zu app(s): %zu error(s), %zu warning(s)\n", d->nfiles, d->napps,
		       d->nerrors, d->ndiags - d->nerrors);
	code = d->nerrors || failed ? PACER_EXIT_FAILED : PACER_EXIT_OK;
	desired_free(d);
	return code;
}

/* As many paths as arguments: a shell glob may name thousands of files. */
const struct cmd_spec cmd_validate_spec =
    CMD_SPEC(struct validate_cli, validate_options, "PATH... (files or directories)",
             .max_args = CMD_ANY_ARGS, .prepare = validate_prepare, .run = validate_cmd);
