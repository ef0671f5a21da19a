/*
 * action.c (cmd): the shared body of the operator commands (action.h).
 *
 * The five action commands differ only in their options table and the
 * action in their defaults, so they share one run: a new action is a row in
 * reconcile/action.h and a cmd_<name>.c of a dozen lines. The same code
 * serves --server, so a remote action prints what a local one prints and
 * exits with the same code.
 */
#include "cmd/pacer/action.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/remote.h"
#include "reconcile/suspend.h"

/* Suspensions through the API answer at once: a minute is plenty. */
#define SUSPENSION_REMOTE_TIMEOUT_S 60

const struct opt_spec action_options[] = {
	ACTION_CLI_ROWS,
	OPT_ROW_END,
};

/*
 * The app is resolved before anything is opened: a typo in the id must not
 * take the lock or reach Marathon, and the message is the same as for the
 * commands whose row says CMD_APP_IDS.
 */
int action_prepare_app(struct cmd_ctx *ctx)
{
	if (ctx->nargs < 1) {
		fprintf(stderr, "pacer %s: name the app, e.g. pacer %s /shop/api\n", ctx->name,
			ctx->name);
		return PACER_EXIT_USAGE;
	}
	ctx->ids = cli_app_ids(ctx->name, ctx->args, 1);
	return ctx->ids ? 0 : PACER_EXIT_USAGE;
}

/* The same action through the API of a running pacer serve. */
static int action_remote(const char *cmd, const char *id, const struct action_cli *a,
			 const struct action_options *o)
{
	struct json_object *body = json_object_new_object();
	int code, timeout = a->timeout > 0 ? a->timeout : ACTION_DEFAULT_TIMEOUT_S;

	json_object_object_add(body, "timeout", json_object_new_int(timeout));
	if (o->kind == ACTION_SCALE)
		json_object_object_add(body, "instances", json_object_new_int(o->instances));
	if (o->kind == ACTION_CANCEL && o->force)
		json_object_object_add(body, "force", json_object_new_boolean(1));
	code = remote_action(cmd, &a->c, id, o->kind == ACTION_DELETE ? NULL : action_name(o->kind),
			     body, timeout);
	json_object_put(body);
	return code;
}

/*
 * What the action did, and the exit code. The backup and the suspension are
 * printed even when the action failed afterwards: they happened, and the
 * operator needs them to undo it.
 */
static int action_report(const char *cmd, const char *id, const struct action_options *o,
			 const struct action_result *res, int rc, const struct pacer_error *err)
{
	if (res->backup_path)
		printf("backup %s\n", res->backup_path);
	if (res->suspended)
		printf("suspended %s so that the next sync does not undo it; 'pacer resume %s' "
		       "hands it back to git\n",
		       id, id);
	if (rc) {
		cli_print_error(cmd, err);
		return cli_exit_for(pacer_error_root_code(err));
	}
	if (res->live_id && strcmp(res->live_id, id))
		printf("%s %s (live as %s): done%s%s\n", action_name(o->kind), id, res->live_id,
		       res->deployment_id ? ", deployment " : "",
		       res->deployment_id ? res->deployment_id : "");
	else
		printf("%s %s: done%s%s\n", action_name(o->kind), id,
		       res->deployment_id ? ", deployment " : "",
		       res->deployment_id ? res->deployment_id : "");
	return PACER_EXIT_OK;
}

int action_cmd(struct cmd_ctx *ctx)
{
	const struct action_cli *a = ctx->opts;
	const char *id = ctx->ids[0];
	struct action_options o = ACTION_OPTIONS_INIT;
	struct action_result res;
	struct pacer_error *err = NULL;
	int rc, code;

	o.kind = a->kind;
	o.instances = a->instances;
	/* delete's --yes shares the field; only a cancel has a forced variant. */
	o.force = a->kind == ACTION_CANCEL && a->force;
	if (ctx->remote)
		return action_remote(ctx->name, id, a, &o);
	o.timeout_s = a->timeout > 0 ? a->timeout : ACTION_DEFAULT_TIMEOUT_S;
	o.by = cli_user();
	o.state = ctx->env.state;
	o.backups = ctx->env.backups;
	o.stop = cli_install_signals();
	rc = action_run(ctx->env.marathon, id, &o, &res, &err);
	code = action_report(ctx->name, id, &o, &res, rc, err);
	action_result_release(&res);
	pacer_error_free(err);
	return code;
}

/* Say what stays suspended, so that "resume" never looks like more than it did. */
static void print_left(struct suspend *sp)
{
	char **left = suspend_ids(sp);

	if (left && left[0]) {
		printf("still suspended:");
		for (size_t i = 0; left[i]; i++)
			printf(" %s", !strcmp(left[i], SUSPEND_ALL) ? "(the whole source)" : left[i]);
		printf("\n");
	}
	pacer_strv_free(left);
}

/* --server: one API call per app (the API names apps; the whole source is local only). */
static int suspension_remote(const struct cmd_ctx *ctx, enum suspension_verb verb,
			     const char *reason)
{
	struct json_object *body = json_object_new_object();
	int code = PACER_EXIT_OK;

	if (!ctx->nargs) {
		fprintf(stderr, "pacer %s: with --server, name the apps\n", ctx->name);
		json_object_put(body);
		return PACER_EXIT_USAGE;
	}
	if (verb == SUSPENSION_SUSPEND && reason)
		json_object_object_add(body, "reason", json_object_new_string(reason));
	for (int i = 0; i < ctx->nargs && !code; i++)
		code = remote_action(ctx->name, ctx->c, ctx->ids[i], ctx->name, body,
				     SUSPENSION_REMOTE_TIMEOUT_S);
	json_object_put(body);
	return code;
}

/* Suspend or resume one app (id NULL: the whole source) and say so. */
static int suspension_one(struct suspend *sp, const char *id, enum suspension_verb verb,
			  const char *reason, struct pacer_error **err)
{
	int rc;

	if (verb == SUSPENSION_RESUME) {
		rc = suspend_drop(sp, id, err);
		if (!rc)
			printf("resumed %s: the next sync applies git\n",
			       id ? id : "the whole source");
		return rc;
	}
	rc = suspend_put(sp, id, cli_user(), reason, err);
	if (!rc)
		printf("suspended %s: pacer leaves it as it is until 'pacer resume%s%s'\n",
		       id ? id : "the whole source", id ? " " : "", id ? id : "");
	return rc;
}

/*
 * Without ids the whole source is (un)suspended: one pass with id NULL. The
 * first failure stops the loop, so the output lists exactly what was done.
 */
int suspension_cmd(struct cmd_ctx *ctx, enum suspension_verb verb, const char *reason)
{
	struct pacer_error *err = NULL;
	struct suspend *sp = NULL;
	int rc, code, n = ctx->nargs;

	if (ctx->remote)
		return suspension_remote(ctx, verb, reason);
	rc = suspend_open(ctx->env.state, &sp, &err);
	for (int i = 0; !rc && i < (n ? n : 1); i++)
		rc = suspension_one(sp, n ? ctx->ids[i] : NULL, verb, reason, &err);
	if (!rc && verb == SUSPENSION_RESUME)
		print_left(sp);
	if (rc)
		cli_print_error(ctx->name, err);
	code = rc ? cli_exit_for(pacer_error_root_code(err)) : PACER_EXIT_OK;
	suspend_free(sp);
	pacer_error_free(err);
	return code;
}
