/*
 * pacer rollback APP_ID [--to BACKUP_FILE]: re-apply an app's latest (or the
 * named) backup with force, and wait until it runs healthy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/remote.h"
#include "reconcile/model/appid.h"
#include "reconcile/restore.h"
#include "reconcile/suspend.h"

/* The deployment's timeout when --timeout does not say (as sync's). */
#define ROLLBACK_DEFAULT_TIMEOUT_S 600

struct rollback_cli {
	struct cli_common c;
	const char *to;
	int timeout;
};

static const struct opt_spec rollback_options[] = {
	CLI_MARATHON_ROWS(struct rollback_cli),
	CLI_STATE_ROWS(struct rollback_cli),
	CLI_SERVER_ROWS(struct rollback_cli),
	CLI_LOG_FORMAT_ROW(struct rollback_cli),
	{"to", 0, OPT_STRING, offsetof(struct rollback_cli, to), "BACKUP_FILE",
	 "the backup to restore (default: the app's latest)", NULL},
	{"timeout", 't', OPT_INT, offsetof(struct rollback_cli, timeout), "SECONDS",
	 "deployment timeout (default 600)", "PACER_TIMEOUT"},
	{"log-level", 0, OPT_STRING, offsetof(struct rollback_cli, c.log_level), "LEVEL",
	 "error, warn, info or debug", "PACER_LOG_LEVEL"},
	OPT_ROW_END,
};

static int suspend_app(struct cli_env *env, const char *arg, const char *to,
		       struct pacer_error **err)
{
	struct suspend *sp = NULL;
	char *id = appid_resolve("/", arg), why[512];
	int rc;

	if (!id)
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not an app id", arg);
	snprintf(why, sizeof(why), "rolled back to %s", to ? to : "its latest backup");
	rc = suspend_open(env->state, &sp, err);
	if (!rc)
		rc = suspend_put(sp, id, cli_user(), why, err);
	suspend_free(sp);
	free(id);
	return rc;
}

/* --server: POST apps/ID/rollback {"backup": NAME}; the server knows only names, not paths. */
static int rollback_remote(const struct rollback_cli *o, const char *arg)
{
	struct json_object *body = json_object_new_object();
	char *id = appid_resolve("/", arg);
	const char *base = o->to ? strrchr(o->to, '/') : NULL;
	int code;

	if (!id) {
		json_object_put(body);
		fprintf(stderr, "pacer rollback: '%s' is not an app id\n", arg);
		return PACER_EXIT_USAGE;
	}
	if (o->to)
		json_object_object_add(body, "backup", json_object_new_string(base ? base + 1 : o->to));
	json_object_object_add(body, "timeout", json_object_new_int(o->timeout));
	code = remote_action("rollback", &o->c, id, "rollback", body, o->timeout);
	json_object_put(body);
	free(id);
	return code;
}

static int rollback_prepare(struct cmd_ctx *ctx)
{
	if (ctx->nargs != 1) {
		fprintf(stderr, "pacer rollback: name the app to roll back, e.g. pacer rollback "
				"/shop/api\n");
		return PACER_EXIT_USAGE;
	}
	return 0;
}

/* What was restored, and that git no longer drives the app. */
static void print_restored(const char *app, const struct restore_result *res)
{
	printf("%s %s from %s (deployment %s)\n", res->created ? "recreated" : "rolled back", app,
	       res->restored_from, res->deployment_id ? res->deployment_id : "-");
	if (res->backup_path)
		printf("the definition that was live is saved in %s\n", res->backup_path);
	printf("suspended %s: git still holds the newer definition, so sync leaves the app "
	       "alone until 'pacer resume %s'\n",
	       app, app);
}

static int rollback_cmd(struct cmd_ctx *ctx)
{
	const struct rollback_cli *o = ctx->opts;
	const char *app = ctx->args[0];
	struct restore_options ro = RESTORE_OPTIONS_INIT;
	struct restore_result res;
	struct pacer_error *err = NULL;
	int rc, code = PACER_EXIT_OK;

	if (ctx->remote)
		return rollback_remote(o, app);
	ro.backup_path = o->to;
	ro.timeout_s = o->timeout;
	ro.state = ctx->env.state;
	/*
	 * git still holds the newer definition: without a suspension the next
	 * sync (of a running watch or serve too) would undo the rollback. It is
	 * suspended before the request, so that no sync can come in between.
	 */
	rc = suspend_app(&ctx->env, app, o->to, &err);
	if (!rc)
		rc = restore_app(ctx->env.marathon, ctx->env.backups, app, &ro, &res, &err);
	else
		memset(&res, 0, sizeof(res));
	if (rc) {
		cli_print_error("rollback", err);
		code = cli_exit_for(pacer_error_root_code(err));
	} else {
		print_restored(app, &res);
	}
	restore_result_release(&res);
	pacer_error_free(err);
	return code;
}

static const struct rollback_cli rollback_defaults = {.timeout = ROLLBACK_DEFAULT_TIMEOUT_S};

const struct cmd_spec cmd_rollback_spec =
    CMD_SPEC(struct rollback_cli, rollback_options, "APP_ID [--to BACKUP_FILE] [options]",
             .defaults = &rollback_defaults, .max_args = 1, .prepare = rollback_prepare,
             .run = rollback_cmd);
