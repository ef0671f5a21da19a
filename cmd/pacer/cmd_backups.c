/*
 * pacer backups [APP_ID]: list the backups of live definitions, oldest first.
 *
 * Listing takes no lock (the row's CLI_NEED_BACKUPS): backups are written
 * whole and renamed into place, so a sync writing one at the same time
 * shows either the finished file or nothing.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"

struct backups_cli {
	struct cli_common c;
};

static const struct opt_spec backups_options[] = {
	CLI_STATE_ROWS(struct backups_cli),
	CLI_OUTPUT_ROWS(struct backups_cli),
	OPT_ROW_END,
};

static void print_json(const struct pacer_backup_entry *v, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "app", json_object_new_string(v[i].app_id));
		json_object_object_add(e, "time", json_object_new_string(v[i].time));
		json_object_object_add(e, "path", json_object_new_string(v[i].path));
		json_object_array_add(arr, e);
	}
	printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
}

static int backups_cmd(struct cmd_ctx *ctx)
{
	const struct backups_cli *o = ctx->opts;
	/* Handed to the store as typed (it resolves the id itself). */
	const char *app = ctx->nargs ? ctx->args[0] : NULL;
	struct pacer_backup_store *store = ctx->env.backups;
	struct pacer_backup_entry *v = NULL;
	struct pacer_error *err = NULL;
	size_t n = 0;
	int rc, code = PACER_EXIT_OK;

	rc = store->list(store, app, &v, &n, &err);
	if (rc) {
		cli_print_error("backups", err);
		code = cli_exit_for(rc);
	} else if (o->c.output && !strcmp(o->c.output, "json")) {
		print_json(v, n);
	} else if (n == 0) {
		/* stderr: stdout stays empty, so a script's loop over it runs zero times. */
		fprintf(stderr, "no backups%s%s in %s\n", app ? " of " : "", app ? app : "",
			ctx->env.backup_dir);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-40s %-22s %s\n", v[i].app_id, v[i].time, v[i].path);
	}
	pacer_backup_entries_free(v, n);
	pacer_error_free(err);
	return code;
}

const struct cmd_spec cmd_backups_spec =
    CMD_SPEC(struct backups_cli, backups_options, "[APP_ID] [--backup-dir DIR]", .max_args = 1,
             .run = backups_cmd);
