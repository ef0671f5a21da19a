/*
 * options.c: the option parser of every pacer command (options.h).
 *
 * Deliberately small, no getopt_long(): the rows carry the environment
 * variable and the help as well, getopt's global state would not survive
 * the describe mode, and the error messages name the command. Short options
 * are not bundled (-nq): each is a word, as the usage lines show them.
 */
#include "cmd/pacer/options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strtol() with every failure caught: "", "12x", overflow and negatives are errors, not 0. */
static int parse_int(const char *cmd, const char *name, const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX) {
		fprintf(stderr, "pacer %s: --%s expects a whole number >= 0, got '%s'\n", cmd, name,
			s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * Store value into the row's field. origin names the variable a value came
 * from, so that a bad PACER_TIMEOUT=abc is not reported as if typed as a
 * flag. String values are borrowed from argv or environ: both outlive the
 * command.
 */
static int set_value(const char *cmd, const struct opt_spec *o, void *target, const char *value,
		     const char *origin)
{
	char *field = (char *)target + o->offset;

	switch (o->type) {
	case OPT_STRING:
		*(const char **)field = value;
		return 0;
	case OPT_INT:
		if (parse_int(cmd, o->name, value, (int *)field)) {
			if (origin)
				fprintf(stderr, "  (the value came from %s)\n", origin);
			return -1;
		}
		return 0;
	case OPT_BOOL:
		/* From the environment: "1", "true", "yes" mean on. */
		if (value)
			*(int *)field = !strcmp(value, "1") || !strcasecmp(value, "true") ||
					!strcasecmp(value, "yes");
		else
			*(int *)field = 1;
		return 0;
	default:
		return -1;
	}
}

static const struct opt_spec *find_long(const struct opt_spec *specs, const char *name, size_t len)
{
	for (const struct opt_spec *o = specs; o->type != OPT_END; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct opt_spec *find_short(const struct opt_spec *specs, char c)
{
	for (const struct opt_spec *o = specs; o->type != OPT_END; o++)
		if (o->shortname && o->shortname == c)
			return o;
	return NULL;
}

void opt_help(const char *cmd, const char *usage, const struct opt_spec *specs)
{
	printf("usage: pacer %s %s\n\noptions:\n", cmd, usage);
	for (const struct opt_spec *o = specs; o->type != OPT_END; o++) {
		char left[64];

		if (o->shortname)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortname, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		printf("  %-30s %s", left, o->help);
		if (o->env)
			printf(" [env %s]", o->env);
		printf("\n");
	}
	printf("  %-30s %s\n", "-h, --help", "show this help");
}

static opt_describe_fn describer;
static void *describer_ctx;

void opt_set_describer(opt_describe_fn fn, void *ctx)
{
	describer = fn;
	describer_ctx = ctx;
}

int opt_parse(const char *cmd, const char *usage, const struct opt_spec *specs, void *target,
	      int argc, char **argv, char **positional, int max_pos, int *npos)
{
	int i, only_positional = 0;

	*npos = 0;
	if (describer) {
		describer(describer_ctx, cmd, usage, specs);
		return 1;
	}
	/* Environment first, flags after: a flag overwrites what a variable set.
	 * An empty variable counts as unset (VAR= in a unit file). */
	for (const struct opt_spec *o = specs; o->type != OPT_END; o++) {
		const char *v = o->env ? getenv(o->env) : NULL;

		if (v && *v && set_value(cmd, o, target, v, o->env))
			return -1;
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
		const struct opt_spec *o = NULL;

		/* "-" alone is an argument (stdin, by convention), not an option. */
		if (only_positional || a[0] != '-' || !a[1]) {
			if (*npos >= max_pos) {
				fprintf(stderr, "pacer %s: unexpected argument '%s'\n", cmd, a);
				return -1;
			}
			positional[(*npos)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			opt_help(cmd, usage, specs);
			return 1;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

			o = find_long(specs, a + 2, len);
			if (eq)
				value = eq + 1;
		} else if (!a[2]) {
			o = find_short(specs, a[1]);
		}
		if (!o) {
			fprintf(stderr, "pacer %s: unknown option '%s' (see 'pacer %s --help')\n", cmd,
				a, cmd);
			return -1;
		}
		if (o->type == OPT_BOOL) {
			if (value) {
				fprintf(stderr, "pacer %s: --%s takes no value\n", cmd, o->name);
				return -1;
			}
			set_value(cmd, o, target, NULL, NULL);
			continue;
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pacer %s: --%s needs a value (%s)\n", cmd, o->name,
					o->arg ? o->arg : "value");
				return -1;
			}
			value = argv[++i];
		}
		if (set_value(cmd, o, target, value, NULL))
			return -1;
	}
	return 0;
}
