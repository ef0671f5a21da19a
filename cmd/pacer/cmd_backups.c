/*
 * pacer backups [APP_ID]: list the backups of live definitions, oldest first.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmd/pacer/cli.h"

struct backups_cli {
	struct cli_common c;
};

static const struct opt_spec backups_options[] = {
	CLI_STATE_ROWS(struct backups_cli),
	CLI_OUTPUT_ROWS(struct backups_cli),
	OPT_ROW_END,
};

int cmd_backups(int argc, char **argv)
{
	struct backups_cli o = {0};
	struct pacer_backup_entry *v = NULL;
	struct pacer_error *err = NULL;
	struct cli_env env;
	char *pos[1];
	size_t n = 0;
	int npos, rc, code;

	rc = opt_parse("backups", "[APP_ID] [--backup-dir DIR]", backups_options, &o, argc, argv,
		       pos, 1, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	code = cli_env_open(&env, &o.c, CLI_NEED_BACKUPS);
	if (code)
		return code;

	rc = env.backups->list(env.backups, npos ? pos[0] : NULL, &v, &n, &err);
	if (rc) {
		cli_print_error("backups", err);
		code = cli_exit_for(rc);
		goto done;
	}
	if (o.c.output && !strcmp(o.c.output, "json")) {
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
	} else if (n == 0) {
		fprintf(stderr, "no backups%s%s in %s\n", npos ? " of " : "", npos ? pos[0] : "",
			env.backup_dir);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-40s %-22s %s\n", v[i].app_id, v[i].time, v[i].path);
	}
done:
	pacer_backup_entries_free(v, n);
	pacer_error_free(err);
	cli_env_release(&env);
	return code;
}
