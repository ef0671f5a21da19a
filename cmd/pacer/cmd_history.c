/*
 * pacer history [APP] [--limit N]: what earlier runs did (reconcile/history.h),
 * oldest first; with APP, only the runs that did something to it.
 *
 * Read-only: the row asks for the state without its lock (history.json is
 * replaced by rename, so a sync writing it cannot be caught half-way), and
 * no state directory at all is "no runs recorded", not an error.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/history.h"

/* Runs shown without --limit: a screenful. */
#define HISTORY_DEFAULT_LIMIT 20

struct history_cli {
	struct cli_common c;
	int limit;
};

static const struct opt_spec history_options[] = {
	CLI_STATE_ROWS(struct history_cli),
	CLI_OUTPUT_ROWS(struct history_cli),
	{"limit", 'l', OPT_INT, offsetof(struct history_cli, limit), "N",
	 "only the newest N runs (default 20; 0 = all that are kept)", NULL},
	OPT_ROW_END,
};

/* UTC, as every timestamp pacer writes: a log line and a history row compare as they are. */
static void print_time(double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char buf[32] = "?";

	if (gmtime_r(&s, &tm))
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s", buf);
}

static void print_run(struct json_object *run)
{
	struct json_object *apps = jsonutil_get(run, "apps");
	const char *commit = json_object_get_string(jsonutil_get(run, "commit"));
	double start = json_object_get_double(jsonutil_get(run, "start"));
	double end = json_object_get_double(jsonutil_get(run, "end"));

	print_time(start);
	printf("  %-9s %-11s %6.1fs  commit %.12s\n",
	       json_object_get_string(jsonutil_get(run, "trigger")),
	       json_object_get_string(jsonutil_get(run, "result")), end - start,
	       commit ? commit : "-");
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i);
		const char *backup = json_object_get_string(jsonutil_get(a, "backup"));
		const char *error = json_object_get_string(jsonutil_get(a, "error"));

		printf("    %-16s %s%s%s\n", json_object_get_string(jsonutil_get(a, "outcome")),
		       json_object_get_string(jsonutil_get(a, "id")), backup ? "  backup " : "",
		       backup ? backup : "");
		if (error)
			printf("        %s\n", error);
	}
}

static const struct history_cli history_defaults = {.limit = HISTORY_DEFAULT_LIMIT};

static int history_cmd(struct cmd_ctx *ctx)
{
	const struct history_cli *o = ctx->opts;
	const char *app = ctx->nargs ? ctx->ids[0] : NULL;
	struct pacer_error *err = NULL;
	struct json_object *runs = NULL;
	int rc, code = PACER_EXIT_OK;

	rc = history_load(ctx->env.state, app, o->limit, &runs, &err);
	if (rc) {
		cli_print_error("history", err);
		code = cli_exit_for(pacer_error_root_code(err));
	} else if (o->c.output && !strcmp(o->c.output, "json")) {
		printf("%s\n", json_object_to_json_string_ext(runs, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (!json_object_array_length(runs)) {
		printf("no runs recorded%s%s in %s\n", app ? " for " : "", app ? app : "",
		       ctx->env.state_dir);
	} else {
		for (size_t i = 0; i < json_object_array_length(runs); i++)
			print_run(json_object_array_get_idx(runs, i));
	}
	json_object_put(runs);
	pacer_error_free(err);
	return code;
}

const struct cmd_spec cmd_history_spec =
    CMD_SPEC(struct history_cli, history_options, "[APP_ID] [--limit N]",
             .defaults = &history_defaults, .max_args = 1, .run = history_cmd);
