/*
 * action.c (cmd): the shared body of the operator commands (action.h).
 */
#include "cmd/pacer/action.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/pacer/remote.h"
#include <string.h>

#include "reconcile/model/appid.h"
#include "reconcile/suspend.h"

/* The same action through the API of a running pacer serve. */
static int action_remote(const char *cmd, const char *id, const struct action_cli *a,
			 const struct action_options *o)
{
	struct json_object *body = json_object_new_object();
	int code, timeout = a->timeout > 0 ? a->timeout : 600;

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

int action_cmd(const char *cmd, const char *arg, const struct action_cli *a,
	       struct action_options *o)
{
	struct action_result res;
	struct pacer_error *err = NULL;
	struct cli_env env;
	char *id = appid_resolve("/", arg);
	int rc, code;

	if (!id) {
		fprintf(stderr, "pacer %s: '%s' is not an app id\n", cmd, arg);
		return PACER_EXIT_USAGE;
	}
	if (a->c.server) {
		code = action_remote(cmd, id, a, o);
		free(id);
		return code;
	}
	code = cli_env_open(&env, &a->c, CLI_NEED_MARATHON | CLI_NEED_STATE);
	if (code) {
		free(id);
		return code;
	}
	o->timeout_s = a->timeout > 0 ? a->timeout : 600;
	o->by = cli_user();
	o->state = env.state;
	o->backups = env.backups;
	o->stop = cli_install_signals();
	rc = action_run(env.marathon, id, o, &res, &err);
	if (res.backup_path)
		printf("backup %s\n", res.backup_path);
	if (res.suspended)
		printf("suspended %s so that the next sync does not undo it; 'pacer resume %s' "
		       "hands it back to git\n",
		       id, id);
	if (rc) {
		cli_print_error(cmd, err);
		code = cli_exit_for(pacer_error_root_code(err));
	} else {
		printf("%s %s: done%s%s\n", action_name(o->kind), id,
		       res.deployment_id ? ", deployment " : "",
		       res.deployment_id ? res.deployment_id : "");
		code = PACER_EXIT_OK;
	}
	action_result_release(&res);
	pacer_error_free(err);
	cli_env_release(&env);
	free(id);
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
static int suspension_remote(const char *cmd, const struct cli_common *c, char **ids, int n,
			     int suspend, const char *reason)
{
	struct json_object *body = json_object_new_object();
	int code = PACER_EXIT_OK;

	if (!n) {
		fprintf(stderr, "pacer %s: with --server, name the apps\n", cmd);
		json_object_put(body);
		return PACER_EXIT_USAGE;
	}
	if (suspend && reason)
		json_object_object_add(body, "reason", json_object_new_string(reason));
	for (int i = 0; i < n && !code; i++)
		code = remote_action(cmd, c, ids[i], cmd, body, 60);
	json_object_put(body);
	return code;
}

int suspension_cmd(const char *cmd, const struct cli_common *c, char **ids, int suspend,
		   const char *reason)
{
	struct pacer_error *err = NULL;
	struct suspend *sp = NULL;
	struct cli_env env;
	int rc, code, n = 0;

	while (ids[n])
		n++;
	if (c->server)
		return suspension_remote(cmd, c, ids, n, suspend, reason);
	code = cli_env_open(&env, c, CLI_NEED_BACKUPS | CLI_READ_STATE);
	if (code)
		return code;
	rc = suspend_open(env.state, &sp, &err);
	for (int i = 0; !rc && i < (n ? n : 1); i++) {
		const char *id = n ? ids[i] : NULL;

		rc = suspend ? suspend_put(sp, id, cli_user(), reason, &err)
			     : suspend_drop(sp, id, &err);
		if (rc)
			break;
		if (suspend)
			printf("suspended %s: pacer leaves it as it is until 'pacer resume%s%s'\n",
			       id ? id : "the whole source", id ? " " : "", id ? id : "");
		else
			printf("resumed %s: the next sync applies git\n",
			       id ? id : "the whole source");
	}
	if (!rc && !suspend)
		print_left(sp);
	if (rc)
		cli_print_error(cmd, err);
	code = rc ? cli_exit_for(pacer_error_root_code(err)) : PACER_EXIT_OK;
	suspend_free(sp);
	pacer_error_free(err);
	cli_env_release(&env);
	return code;
}
