/*
 * pacer status [APP...]: every desired, owned, held or suspended app with
 * its state, tasks, version and the commit that last changed it.
 *
 * A status is a dry run that also looks for orphans (a prune plan that is
 * never applied): the same one GET /v2/apps with embeds, the same
 * comparison as sync, no per-app request. States:
 *   synced, out_of_sync, progressing, degraded, suspended, held, missing
 *   (desired, not in Marathon), orphaned (owned, in Marathon, not desired).
 * Exit 0 when every app is synced, 1 otherwise (3, 4, 5, 7 as for sync).
 * With --server URL the rows come from a running pacer serve (remote.h).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/remote.h"
#include "cmd/pacer/report.h"
#include "cmd/pacer/status.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/desired.h"
#include "reconcile/history.h"
#include "reconcile/plan.h"
#include "reconcile/suspend.h"

struct status_cli {
	struct cli_common c;
	int ignore_instances;
};

static const struct opt_spec status_options[] = {
	CLI_SOURCE_ROWS(struct status_cli),
	CLI_MARATHON_ROWS(struct status_cli),
	CLI_STATE_ROWS(struct status_cli),
	CLI_OUTPUT_ROWS(struct status_cli),
	CLI_SERVER_ROWS(struct status_cli),
	{"ignore-instances", 0, OPT_BOOL, offsetof(struct status_cli, ignore_instances), NULL,
	 "compare without instances (an autoscaler owns them)", "PACER_IGNORE_INSTANCES"},
	OPT_ROW_END,
};

/* The state word of one row of a dry run. */
static const char *state_of(const struct sync_app_result *a, struct suspend *sp)
{
	if (suspend_find(sp, a->app_id))
		return "suspended";
	switch (a->outcome) {
	case SYNC_OUT_UNCHANGED:
		return "synced";
	case SYNC_OUT_DEGRADED:
		return "degraded";
	case SYNC_OUT_PROGRESSING:
		return "progressing";
	case SYNC_OUT_HELD:
		return "held";
	default:
		break;
	}
	return a->action == PACER_ACT_CREATE  ? "missing"
	       : a->action == PACER_ACT_PRUNE ? "orphaned"
					      : "out_of_sync";
}

/* Per app, the commit of the last run that created or updated it. */
static const char *changed_at(struct json_object *runs, const char *app_id)
{
	for (size_t i = json_object_array_length(runs); i-- > 0;) {
		struct json_object *run = json_object_array_get_idx(runs, i);
		struct json_object *apps = jsonutil_get(run, "apps");

		for (size_t k = 0; k < json_object_array_length(apps); k++) {
			struct json_object *a = json_object_array_get_idx(apps, k);
			const char *o = json_object_get_string(jsonutil_get(a, "outcome"));

			if (!strcmp(json_object_get_string(jsonutil_get(a, "id")), app_id) && o &&
			    (!strcmp(o, "created") || !strcmp(o, "updated")))
				return json_object_get_string(jsonutil_get(run, "commit"));
		}
	}
	return NULL;
}

/* The app's Docker image: what runs (live) when the plan has it, else desired; or NULL. */
static const char *image_of(const struct sync_result *res, const char *app_id)
{
	for (size_t i = 0; res->plan && i < res->plan->n; i++) {
		const struct pacer_plan_item *it = &res->plan->items[i];
		struct json_object *def = it->live ? it->live : it->body;

		if (!strcmp(it->app_id, app_id) && def)
			return json_object_get_string(jsonutil_get(
			    jsonutil_get(jsonutil_get(def, "container"), "docker"), "image"));
	}
	/* An unchanged app: the plan keeps neither side; the source says the same. */
	if (res->desired) {
		/* Parsed now when it came from the cache (the row is ours to read). */
		struct pacer_desired_app *d =
		    (struct pacer_desired_app *)desired_find(res->desired, app_id);
		struct pacer_error *e = NULL;
		int rc = d ? desired_app_def(d, &e) : -1;

		pacer_error_free(e);
		if (!rc)
			return json_object_get_string(jsonutil_get(
			    jsonutil_get(jsonutil_get(d->def, "container"), "docker"), "image"));
	}
	return NULL;
}

static struct json_object *app_json(const struct sync_app_result *a, const char *state,
				    const char *commit, struct suspend *sp)
{
	struct json_object *o = json_object_new_object(), *t = json_object_new_object();
	struct json_object *rec = suspend_find(sp, a->app_id);
	char *why = a->error ? pacer_error_format(a->error) : NULL;

	json_object_object_add(o, "id", json_object_new_string(a->app_id));
	json_object_object_add(o, "state", json_object_new_string(state));
	if (a->colour[0])
		json_object_object_add(o, "colour", json_object_new_string(a->colour));
	json_object_object_add(o, "reason", why ? json_object_new_string(why) : NULL);
	json_object_object_add(t, "healthy", json_object_new_int64(a->tasks_healthy));
	json_object_object_add(t, "running", json_object_new_int64(a->tasks_running));
	json_object_object_add(t, "instances", json_object_new_int64(a->instances));
	json_object_object_add(o, "tasks", a->instances >= 0 ? t : NULL);
	if (a->instances < 0)
		json_object_put(t);
	json_object_object_add(o, "version", a->version[0] ? json_object_new_string(a->version)
							     : NULL);
	json_object_object_add(o, "commit", commit ? json_object_new_string(commit) : NULL);
	json_object_object_add(o, "suspended", rec ? json_object_get(rec) : NULL);
	free(why);
	return o;
}

static void print_row(struct json_object *o)
{
	struct json_object *t = jsonutil_get(o, "tasks");
	const char *reason = json_object_get_string(jsonutil_get(o, "reason"));
	const char *version = json_object_get_string(jsonutil_get(o, "version"));
	const char *commit = json_object_get_string(jsonutil_get(o, "commit"));
	const char *colour = json_object_get_string(jsonutil_get(o, "colour"));
	const char *id = json_object_get_string(jsonutil_get(o, "id"));
	char tasks[48] = "-", *shown = NULL;

	if (t)
		snprintf(tasks, sizeof(tasks), "%lld/%lld/%lld",
			 (long long)json_object_get_int64(jsonutil_get(t, "healthy")),
			 (long long)json_object_get_int64(jsonutil_get(t, "running")),
			 (long long)json_object_get_int64(jsonutil_get(t, "instances")));
	/* A blue/green app: the pair's id with the colour that runs. */
	if (colour && asprintf(&shown, "%s (%s)", id, colour) >= 0)
		id = shown;
	printf("%-12s %-40s %-10s %-25s %.12s\n", json_object_get_string(jsonutil_get(o, "state")),
	       id, tasks, version ? version : "-", commit ? commit : "-");
	if (reason && strcmp(json_object_get_string(jsonutil_get(o, "state")), "synced"))
		printf("    %s\n", reason);
	free(shown);
}

/* The document of the rows; *bad: how many are not synced. */
static struct json_object *status_doc(const struct sync_result *res, struct suspend *sp,
				      struct json_object *runs, size_t *bad)
{
	struct json_object *doc = json_object_new_object(), *apps = json_object_new_array();

	*bad = 0;
	for (size_t i = 0; i < res->napps; i++) {
		const struct sync_app_result *a = &res->apps[i];
		const char *state = state_of(a, sp);

		*bad += strcmp(state, "synced") != 0;
		struct json_object *row = app_json(a, state, changed_at(runs, a->app_id), sp);
		const char *image = image_of(res, a->app_id);

		json_object_object_add(row, "image", image ? json_object_new_string(image) : NULL);
		json_object_array_add(apps, row);
	}
	json_object_object_add(doc, "commit", res->revision ? json_object_new_string(res->revision)
							    : NULL);
	json_object_object_add(doc, "last_sync",
			       json_object_get(json_object_array_get_idx(
				       runs, json_object_array_length(runs) - 1)));
	json_object_object_add(doc, "apps", apps);
	return doc;
}

int status_collect(struct cli_env *env, const char *const *only, size_t nonly,
		   int ignore_instances, struct json_object **doc, struct sync_result **res,
		   size_t *not_synced, struct pacer_error **err)
{
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct json_object *runs = NULL;
	struct suspend *sp = NULL;
	int rc;

	*doc = NULL;
	*not_synced = 0;
	so.dry_run = 1;
	so.prune = env->state != NULL; /* orphans are what a prune would delete */
	so.force_prune = 1;
	so.ignore_instances = ignore_instances;
	so.flags = &env->flags;
	so.cache_tag = cli_cache_tag();
	so.only = nonly ? only : NULL;
	so.nonly = nonly;
	rc = sync_run(env->source, env->marathon, NULL, env->state, &so, res, err);
	if (!rc && !(rc = suspend_open(env->state, &sp, err)) &&
	    !(rc = history_load(env->state, NULL, 0, &runs, err)))
		*doc = status_doc(*res, sp, runs, not_synced);
	json_object_put(runs);
	suspend_free(sp);
	return rc;
}

/* Print the document of status_collect() (or of GET /api/v1/apps). */
void status_print(const struct cli_common *c, struct json_object *doc)
{
	struct json_object *apps = jsonutil_get(doc, "apps");
	size_t n = json_object_array_length(apps), bad = 0;

	if (c->output && !strcmp(c->output, "json")) {
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	printf("%-12s %-40s %-10s %-25s %s\n", "STATE", "APP", "TASKS h/r/n", "VERSION", "COMMIT");
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(apps, i);

		bad += strcmp(json_object_get_string(jsonutil_get(row, "state")), "synced") != 0;
		print_row(row);
	}
	printf("%zu app%s, %zu not synced\n", n, n == 1 ? "" : "s", bad);
}

static int status_cmd(struct cmd_ctx *ctx)
{
	const struct status_cli *o = ctx->opts;
	const char *const *ids = (const char *const *)ctx->ids;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct json_object *doc = NULL;
	size_t bad = 0;
	int rc, code;

	if (ctx->remote)
		return remote_status(&o->c, ids, (size_t)ctx->nargs);
	rc = status_collect(&ctx->env, ids, (size_t)ctx->nargs, o->ignore_instances, &doc, &res,
			    &bad, &err);
	if (rc) {
		code = report_sync_opts("status", &o->c, res, rc, err, NULL);
	} else {
		status_print(&o->c, doc);
		code = bad ? PACER_EXIT_FAILED : PACER_EXIT_OK;
	}
	json_object_put(doc);
	sync_result_free(res);
	pacer_error_free(err);
	return code;
}

const struct cmd_spec cmd_status_spec =
    CMD_SPEC(struct status_cli, status_options, "[APP_ID...] --source DIR|URL [--marathon URL]",
             .max_args = CMD_ANY_ARGS, .run = status_cmd);
